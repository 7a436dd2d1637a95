"""A referee's check of a rebuilt layout: compare its slip-model grids with the published ones.

Both sides are directories of ``<name>_grid.csv`` files (``layout.py``). For every slip model
present on both sides the two CSVs are read, one slip model at a time (a published CSV is up
to ~100 MB and there are 199), their cells matched by ``grid_id`` and each column both files
hold compared over the matched cells: the largest absolute difference, and the largest
relative difference scaled by the published column's largest magnitude (a pointwise
``|a - b| / |b|`` blows up where a stress change is near zero, which most cells far from the
fault are). Aftershock counts are compared as counts and as the study's binary label.

The CSVs are read by ``compare_reader``, which reuses the features stage's checks.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..atomic import finite_or_none, write_json
from ..errors import InputError
from ..progress import progress_bar, timed
from .compare_reader import (
    EXAMPLES,
    GRID_ID_COLUMN,
    Grid,
    csv_directory,
    read_grid,
    slip_model_files,
)
from .layout import (
    COULOMB_COLUMNS,
    LABEL_COLUMN,
    MAX_SHEAR_COLUMN,
    STRESS_COLUMNS,
    VON_MISES_COLUMN,
)
from .slip_csv import _header

log = logging.getLogger(__name__)

LOCATION_COLUMNS = ("x", "y", "z")  # UTM metres; z negative downwards
VALUE_COLUMNS = (*LOCATION_COLUMNS, *STRESS_COLUMNS, *COULOMB_COLUMNS, MAX_SHEAR_COLUMN,
                 VON_MISES_COLUMN)
COMPARED_COLUMNS = (*VALUE_COLUMNS, LABEL_COLUMN)
COUNT_UNIT = "aftershocks (count)"
UNITS = {
    **dict.fromkeys(LOCATION_COLUMNS, "m"),
    **dict.fromkeys((*STRESS_COLUMNS, *COULOMB_COLUMNS, MAX_SHEAR_COLUMN, VON_MISES_COLUMN),
                    "Pa"),
    LABEL_COLUMN: COUNT_UNIT,
}
DEFINITIONS = {
    "matched": f"cells whose {GRID_ID_COLUMN} (as text, surrounding spaces removed) is in "
               "both files",
    "matched_share_of_published": "matched cells / cells of the published file",
    "matched_share_of_rebuilt": "matched cells / cells of the rebuilt file",
    "only_in_published, only_in_rebuilt": "cells of one file whose grid_id the other lacks; "
                                          f"examples_*: up to {EXAMPLES} of their grid_ids",
    "max_abs_difference": "largest |rebuilt - published| over the matched cells, in the "
                          "column's unit",
    "published_max_abs": "largest |value| of the column over all cells of the published "
                         "file, in the column's unit: the scale of the relative difference",
    "max_relative_difference": "max_abs_difference / published_max_abs (dimensionless); "
                               "not the pointwise |a - b| / |b|, which blows up where a "
                               "value is near zero; null when the published column is all "
                               "zero and the files differ",
    "at_grid_id, rebuilt_value, published_value": "the matched cell of the largest absolute "
                                                  "difference and its two values",
    "counts_differ": f"matched cells whose {LABEL_COLUMN} counts differ",
    "max_count_difference": f"largest |rebuilt - published| {LABEL_COLUMN} count",
    "labels_differ": "matched cells whose binary label (count > 0, the study's target) "
                     "differs",
    "positives_rebuilt, positives_published": "matched cells with count > 0 on each side",
    "columns_only_in_published, columns_only_in_rebuilt": "compared columns that one file "
                                                          "lacks: not compared",
    "worst": "the slip model and column of the largest max_relative_difference (the label "
             "excluded)",
}



# --------------------------------------------------------------------------------------------
# Comparing


def compare_grids(rebuilt: Grid, published: Grid, columns: list[str]) -> dict[str, Any]:
    """Cells matched by grid_id and, per column of ``columns``, the differences over them
    (the keys are explained in ``DEFINITIONS``)."""
    index = pc.index_in(rebuilt.ids, value_set=published.ids)
    found = index.is_valid()
    at_rebuilt = np.flatnonzero(found.to_numpy(zero_copy_only=False))
    at_published = index.filter(found).to_numpy()
    matched = len(at_rebuilt)
    only_rebuilt = np.ones(rebuilt.cells, dtype=bool)
    only_rebuilt[at_rebuilt] = False
    only_published = np.ones(published.cells, dtype=bool)
    only_published[at_published] = False
    cells = {
        "rebuilt": rebuilt.cells,
        "published": published.cells,
        "matched": matched,
        "matched_share_of_published": matched / published.cells,
        "matched_share_of_rebuilt": matched / rebuilt.cells,
        "only_in_rebuilt": rebuilt.cells - matched,
        "only_in_published": published.cells - matched,
        "examples_only_in_rebuilt": _examples(rebuilt.ids, only_rebuilt),
        "examples_only_in_published": _examples(published.ids, only_published),
    }
    differences = {
        name: _column_difference(rebuilt.values[name][at_rebuilt],
                                 published.values[name][at_published],
                                 published.values[name], published.ids.take(at_published),
                                 UNITS[name])
        for name in columns if name != LABEL_COLUMN
    }
    counts = None
    if LABEL_COLUMN in columns:
        counts = _count_difference(rebuilt.values[LABEL_COLUMN][at_rebuilt],
                                   published.values[LABEL_COLUMN][at_published])
    return {"cells": cells, "columns": differences, LABEL_COLUMN: counts}


def _examples(ids: pa.Array, mask: np.ndarray) -> list[str]:
    """The first few grid_ids where ``mask`` holds, in file order."""
    return ids.take(np.flatnonzero(mask)[:EXAMPLES]).to_pylist()


def _column_difference(
    rebuilt: np.ndarray, published: np.ndarray, whole: np.ndarray, ids: pa.Array, unit: str,
) -> dict[str, Any]:
    """Largest absolute and scaled relative difference of one column over matched cells
    (``whole``: the published file's column, whose largest magnitude is the scale)."""
    scale = float(np.max(np.abs(whole)))
    entry: dict[str, Any] = {
        "unit": unit, "published_max_abs": scale, "max_abs_difference": None,
        "max_relative_difference": None, "at_grid_id": None, "rebuilt_value": None,
        "published_value": None,
    }
    if not len(rebuilt):
        return entry
    difference = np.abs(rebuilt - published)
    worst = int(np.argmax(difference))
    largest = float(difference[worst])
    entry.update(
        max_abs_difference=largest,
        max_relative_difference=largest / scale if scale > 0 else
        (0.0 if largest == 0 else None),
        at_grid_id=ids[worst].as_py(),
        rebuilt_value=float(rebuilt[worst]),
        published_value=float(published[worst]),
    )
    return entry


def _count_difference(rebuilt: np.ndarray, published: np.ndarray) -> dict[str, Any]:
    """Aftershock counts over matched cells: how many differ, by how much at most, and how
    many differ in the binary label (count > 0) the study forecasts."""
    return {
        "unit": COUNT_UNIT,
        "counts_differ": int(np.count_nonzero(rebuilt != published)),
        "max_count_difference": int(np.max(np.abs(rebuilt - published)))
        if len(rebuilt) else None,
        "labels_differ": int(np.count_nonzero((rebuilt > 0) != (published > 0))),
        "positives_rebuilt": int(np.count_nonzero(rebuilt > 0)),
        "positives_published": int(np.count_nonzero(published > 0)),
    }


def compare_slip_model(rebuilt_csv: Path, published_csv: Path) -> dict[str, Any]:
    """One slip model's comparison: the compared columns both files hold, read and matched."""
    headers = {"rebuilt": _header(rebuilt_csv, rebuilt_csv),
               "published": _header(published_csv, published_csv)}
    present = {side: [name for name in COMPARED_COLUMNS if name in header]
               for side, header in headers.items()}
    columns = [name for name in present["published"] if name in present["rebuilt"]]
    rebuilt = read_grid(rebuilt_csv, headers["rebuilt"], columns)
    published = read_grid(published_csv, headers["published"], columns)
    result = compare_grids(rebuilt, published, columns)
    result["columns_only_in_rebuilt"] = [n for n in present["rebuilt"] if n not in columns]
    result["columns_only_in_published"] = [n for n in present["published"] if n not in columns]
    return result


def compare_layouts(
    rebuilt_dir: Path, published_dir: Path, *, progress: bool = True,
) -> dict[str, Any]:
    """Compare every slip model the two layouts share (each a layout root or its AllCSV
    directory), one at a time, and list those only one holds; see ``DEFINITIONS`` for the
    numbers and ``UNITS`` for their units. ``progress`` reports each slip model read."""
    directories = {"rebuilt": csv_directory(rebuilt_dir),
                   "published": csv_directory(published_dir)}
    files = {side: slip_model_files(directory) for side, directory in directories.items()}
    shared = sorted(set(files["rebuilt"]) & set(files["published"]))
    models: dict[str, Any] = {}
    bar = (progress_bar(len(shared), "slip models compared", unit="model") if progress
           else nullcontext(None))
    with timed(f"comparing {len(shared)} slip models of {directories['rebuilt']} with "
               f"{directories['published']}", log), bar as reporter:
        for name in shared:
            models[name] = compare_slip_model(files["rebuilt"][name], files["published"][name])
            if reporter is not None:
                reporter.update(1)
    return {
        "rebuilt": str(directories["rebuilt"]),
        "published": str(directories["published"]),
        "slip_models": models,
        "slip_models_only_in_rebuilt": sorted(set(files["rebuilt"]) - set(shared)),
        "slip_models_only_in_published": sorted(set(files["published"]) - set(shared)),
        "summary": summarise(models),
        "units": UNITS,
        "definitions": DEFINITIONS,
    }


def summarise(models: dict[str, Any]) -> dict[str, Any]:
    """Totals over the compared slip models: cells matched, the largest relative difference
    per column and overall (``worst``), and the aftershock counts that differ."""
    totals = {side: sum(model["cells"][side] for model in models.values())
              for side in ("rebuilt", "published", "matched")}
    by_column: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        for column, entry in model["columns"].items():
            best = by_column.get(column)
            if _relative_key(entry) > (_relative_key(best) if best else -1.0):
                by_column[column] = {"slip_model": name, **{
                    key: entry[key] for key in ("unit", "max_relative_difference",
                                                "max_abs_difference", "at_grid_id")}}
    worst = max(by_column.items(), key=lambda item: _relative_key(item[1]), default=None)
    if worst and worst[1]["max_abs_difference"] is None:  # no cell matched anywhere
        worst = None
    counts = [model[LABEL_COLUMN] for model in models.values() if model[LABEL_COLUMN]]
    return {
        "slip_models_compared": len(models),
        "cells_rebuilt": totals["rebuilt"],
        "cells_published": totals["published"],
        "cells_matched": totals["matched"],
        "matched_share_of_published": totals["matched"] / totals["published"]
        if totals["published"] else None,
        "matched_share_of_rebuilt": totals["matched"] / totals["rebuilt"]
        if totals["rebuilt"] else None,
        "by_column": by_column,
        "worst": {"column": worst[0], **worst[1]} if worst else None,
        LABEL_COLUMN: {
            "counts_differ": sum(entry["counts_differ"] for entry in counts),
            "labels_differ": sum(entry["labels_differ"] for entry in counts),
            "max_count_difference": max((entry["max_count_difference"] for entry in counts
                                         if entry["max_count_difference"] is not None),
                                        default=None),
        },
    }


def _relative_key(entry: dict[str, Any]) -> float:
    """A column entry's relative difference for ranking: undefined (published all zero, the
    files differing) ranks above any number, no matched cell below any."""
    if entry["max_abs_difference"] is None:
        return -0.5
    relative = entry["max_relative_difference"]
    return float("inf") if relative is None else relative


# --------------------------------------------------------------------------------------------
# Verdict and output


def check_tolerance(report: dict[str, Any], rtol: float) -> list[str]:
    """Every difference of a ``compare_layouts`` report beyond ``rtol``, one line each,
    naming slip model, column and value; empty when the layouts agree.

    Listed: slip models on one side only; cells unmatched on either side; compared columns
    one file lacks; a column whose ``max_relative_difference`` exceeds ``rtol`` (or is
    undefined: the published column is all zero and the files differ); any aftershock
    count that differs (counts are whole numbers: ``rtol`` does not apply to them).
    """
    if not rtol >= 0 or rtol == float("inf"):
        raise InputError(f"relative tolerance {rtol!r}: expected a finite number >= 0")
    found = [f"{name}: slip model only in the rebuilt layout"
             for name in report["slip_models_only_in_rebuilt"]]
    found += [f"{name}: slip model only in the published layout"
              for name in report["slip_models_only_in_published"]]
    for name, model in report["slip_models"].items():
        cells = model["cells"]
        for side, other in (("published", "rebuilt"), ("rebuilt", "published")):
            if cells[f"only_in_{side}"]:
                examples = ", ".join(cells[f"examples_only_in_{side}"])
                found.append(
                    f"{name}: {GRID_ID_COLUMN}: {cells[f'only_in_{side}']} of "
                    f"{cells[side]} {side} cells not in the {other} grid (matched share of "
                    f"{side} {cells[f'matched_share_of_{side}']:.6g}; e.g. {examples})")
        for side in ("rebuilt", "published"):
            found += [f"{name}: {column}: only in the {side} file, not compared"
                      for column in model[f"columns_only_in_{side}"]]
        for column, entry in model["columns"].items():
            relative, largest = entry["max_relative_difference"], entry["max_abs_difference"]
            if largest is None or (relative is not None and relative <= rtol):
                continue
            where = (f"(largest absolute difference {largest:.6g} {entry['unit']} at grid_id "
                     f"{entry['at_grid_id']}: rebuilt {entry['rebuilt_value']:.6g}, published "
                     f"{entry['published_value']:.6g})")
            found.append(
                f"{name}: {column}: relative difference undefined, the published column is "
                f"all zero {where}" if relative is None else
                f"{name}: {column}: relative difference {relative:.6g} > {rtol:g} {where}")
        counts = model[LABEL_COLUMN]
        if counts and counts["counts_differ"]:
            found.append(
                f"{name}: {LABEL_COLUMN}: {counts['counts_differ']} matched cells with "
                f"different counts (largest difference {counts['max_count_difference']:g}), "
                f"{counts['labels_differ']} with a different label (count > 0)")
    return found


def write_compare_report(report: dict[str, Any], out: Path) -> None:
    """Write a ``compare_layouts`` report as JSON, atomically, with the units and the
    definitions of its numbers (an undefined number is null)."""
    write_json(out, finite_or_none({**report, "units": UNITS, "definitions": DEFINITIONS}))
