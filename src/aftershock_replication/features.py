"""Original layout -> one columnar feature table (one row per grid cell of an analysed slip model).

Every data source (demo, local, downloaded) goes through this one reader. It reads only the
columns the analysis needs, with explicit dtypes, file by file (never row by row), and checks
them (``data/slip_csv.py``, shared with the download's check), recomputes the stress metrics
from the tensor to cross-check the given ones, and skips slip models whose cells are all one
class (as the original analysis did).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import stress
from .atomic import atomic_file, atomic_files, json_text
from .data.layout import (
    COORDINATE_COLUMNS,
    COULOMB_COLUMNS,
    LABEL_COLUMN,
    MAX_SHEAR_COLUMN,
    ROLES,
    STRESS_COLUMNS,
    VON_MISES_COLUMN,
    Layout,
    open_layout,
    read_demo_marker,
    source_of,
)
from .data.slip_csv import FLOAT32_MAX, first_outside, in_words, read_slip_model_csv
from .errors import InputError
from .names import event_of, sequence_of
from .params import FeatureParams
from .progress import progress, timed
from .schema import CFS_COLUMNS, COMPONENT_COLUMNS, FEATURE_SCHEMA, ID_COLUMNS, METRIC_COLUMNS
from .stage_io import Input, Output

log = logging.getLogger(__name__)

ROW_GROUP_ROWS = 1_000_000  # rows buffered per Parquet row group while writing
T = TypeVar("T")
# Share of a slip model's cells allowed to disagree with a recomputed metric before warning.
CROSSCHECK_TOLERATED_SHARE = 0.01
CROSSCHECK_CELLS = 4096  # cells of each slip model at least on which given metrics are checked


@dataclass
class CrossCheck:
    """Agreement of a given stress-metric column with its value recomputed from the tensor."""

    compared_rows: int = 0
    disagreeing_rows: int = 0
    slip_models_disagreeing: dict[str, float] = field(default_factory=dict)  # -> median ratio

    def summary(self) -> dict[str, Any]:
        ratios = list(self.slip_models_disagreeing.values())
        return {
            "compared_rows": self.compared_rows,
            "disagreeing_rows": self.disagreeing_rows,
            "slip_models_disagreeing": sorted(self.slip_models_disagreeing),
            # median over the disagreeing slip models of their median given/recomputed ratio
            "median_ratio_given_to_recomputed": float(np.median(ratios)) if ratios else None,
        }



def _check_derived(path: Path, table: pa.Table) -> None:
    """The stress metrics computed from the tensor must fit float32 too (after the cast)."""
    for name in METRIC_COLUMNS:
        values = table.column(name).to_numpy()
        row = first_outside(values, -FLOAT32_MAX, FLOAT32_MAX)
        if row is not None:
            raise InputError(
                f"{path}: the {name} of data row {row + 1} (line {row + 2}), computed from "
                f"its stress components, is {in_words(float(values[row]))} as float32; the "
                "components are too large"
            )


def _compare(
    check: CrossCheck, name: str, given: np.ndarray, recomputed: np.ndarray, rtol: float
) -> None:
    """Record how well a given metric column matches its recomputation, for one slip model."""
    scale = max(float(np.median(np.abs(recomputed))), 1e-9)
    disagree = np.abs(given - recomputed) > rtol * np.maximum(np.abs(recomputed), scale)
    check.compared_rows += given.size
    check.disagreeing_rows += int(disagree.sum())
    if disagree.mean() > CROSSCHECK_TOLERATED_SHARE:
        usable = np.abs(recomputed) > 0
        ratio = float(np.median(given[usable] / recomputed[usable])) if usable.any() else np.nan
        check.slip_models_disagreeing[name] = ratio


def slip_model_features(
    name: str, role: str, columns: dict[str, np.ndarray], checks: dict[str, CrossCheck],
    rtol: float,
) -> pa.Table:
    """Feature rows of one slip model: ids, tensor (float32), label, metrics, Coulomb columns."""
    # (n, 6) in Fortran order: each component contiguous, as the stress functions read them
    tensors = np.stack([columns[c] for c in STRESS_COLUMNS]).T
    n = tensors.shape[0]
    functions = {"max_shear": stress.max_shear, "von_mises": stress.von_mises}
    # a given metric is cross-checked on every k-th cell (>= CROSSCHECK_CELLS of each slip
    # model): a convention or unit difference shows on any such sample, at a fraction of
    # the cost of recomputing all 6 million cells; a missing one is recomputed everywhere
    sample = slice(None, None, max(1, n // CROSSCHECK_CELLS))
    metrics: dict[str, np.ndarray] = {"sum_abs": stress.sum_abs(tensors)}
    for metric, column in (("max_shear", MAX_SHEAR_COLUMN), ("von_mises", VON_MISES_COLUMN)):
        if column in columns:
            recomputed = functions[metric](tensors[sample])
            _compare(checks[metric], name, columns[column][sample], recomputed, rtol)
            metrics[metric] = columns[column]
        else:
            metrics[metric] = functions[metric](tensors)
    nan = np.full(n, np.nan)
    # the inputs fit float32 (read_slip_model_csv); a metric computed from them that does
    # not becomes inf here, which _check_derived reports with its file and row
    with np.errstate(over="ignore"):
        metrics32 = {m: metrics[m].astype(np.float32) for m in METRIC_COLUMNS}

    def ids(value: str) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), [value])

    return pa.table({
        "slip_model": ids(name),
        "event": ids(event_of(name)),
        "sequence": ids(sequence_of(name)),
        "paper_role": ids(role),
        # float32: metre resolution at UTM northings, enough for 5 km cells
        **{c: columns.get(c, nan).astype(np.float32) for c in COORDINATE_COLUMNS},
        **{
            feature: tensors[:, i].astype(np.float32)
            for i, feature in enumerate(COMPONENT_COLUMNS)
        },
        "label": columns[LABEL_COLUMN] > 0,
        **metrics32,
        **{
            feature: columns.get(given, nan).astype(np.float32)
            for feature, given in zip(CFS_COLUMNS, COULOMB_COLUMNS, strict=True)
        },
    }, schema=FEATURE_SCHEMA)


def read_in_order(
    paths: list[Path], reader: Callable[[Path], T], ahead: int = 2,
) -> Iterator[T]:
    """``reader(path)`` for each path, in order, with up to ``ahead`` files read at once in
    threads (pyarrow's parser releases the GIL), so at most ``ahead`` results wait in memory."""
    with ThreadPoolExecutor(max_workers=ahead) as pool:
        pending: deque[Future[T]] = deque()
        for path in paths:
            pending.append(pool.submit(reader, path))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class RowGroupWriter:
    """Stream slip-model tables into one Parquet file, a row group per ~``ROW_GROUP_ROWS``
    rows, so the whole table is never held (nor copied) in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.writer: pq.ParquetWriter | None = None

    def __enter__(self) -> RowGroupWriter:
        return self

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)  # zero-copy: chunks are written as they are
        if self.writer is None:
            # lz4, dictionaries for the id columns only, no page statistics (nothing filters
            # on them): a quarter of zstd's CPU time
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="lz4",
                                           use_dictionary=list(ID_COLUMNS),
                                           write_statistics=False)
        self.writer.write_table(table, row_group_size=table.num_rows)
        self.buffer, self.buffered = [], 0

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self.flush()
        if self.writer is not None:
            self.writer.close()


def build_features(layout: Layout, out_path: Path, rtol: float) -> dict[str, Any]:
    """Write the feature table of every analysable slip model to ``out_path`` (Parquet),
    atomically; return its report (``write_features``)."""
    with atomic_file(out_path) as temporary:
        return write_features(layout, temporary, rtol)


def write_features(layout: Layout, out_path: Path, rtol: float) -> dict[str, Any]:
    """Write the feature table of every analysable slip model to ``out_path`` (Parquet) as it
    is read (not atomically: the caller writes to a temporary).

    Returns the report: rows and positives per paper role, skipped one-class slip models,
    where each stress metric came from, cross-check results, and whether the data is a demo.
    """
    checks = {"max_shear": CrossCheck(), "von_mises": CrossCheck()}
    skipped: list[dict[str, Any]] = []
    missing_optional: dict[str, list[str]] = {}
    given_metric_files = {"max_shear": 0, "von_mises": 0}
    kept: list[dict[str, Any]] = []  # name, role, rows, positives of each analysed slip model
    entries = [(name, role) for role in ROLES for name in layout.names[role]]
    paths = [layout.csv_path(name) for name, _ in entries]
    source = source_of(layout.root)

    def shown(path: Path) -> Path:  # errors name the user's file, not data/raw's link to it
        return source / path.relative_to(layout.root)

    with timed(f"reading {len(entries)} slip-model CSV files from {layout.root}"), \
            RowGroupWriter(out_path) as writer:
        read = read_in_order(paths, lambda path: read_slip_model_csv(path, shown(path)))
        for (name, role), (columns, optional) in progress(
                zip(entries, read, strict=True), total=len(entries), desc="slip models",
                unit="file"):
            for column in (*COORDINATE_COLUMNS, *COULOMB_COLUMNS, MAX_SHEAR_COLUMN,
                           VON_MISES_COLUMN):
                if column not in optional:
                    missing_optional.setdefault(column, []).append(name)
            given_metric_files["max_shear"] += MAX_SHEAR_COLUMN in optional
            given_metric_files["von_mises"] += VON_MISES_COLUMN in optional
            rows = int(columns[LABEL_COLUMN].size)
            positives = int((columns[LABEL_COLUMN] > 0).sum())
            if positives in (0, rows):
                skipped.append({
                    "slip_model": name, "paper_role": role, "rows": rows,
                    "reason": "no aftershock cells" if positives == 0 else "all cells positive",
                })
                continue
            table = slip_model_features(name, role, columns, checks, rtol)
            _check_derived(shown(layout.csv_path(name)), table)
            writer.write(table)
            kept.append({"name": name, "role": role, "rows": rows, "positives": positives})
        if not kept:
            raise InputError(
                f"{layout.root}: every slip model is all one class; nothing to analyse"
            )

    for metric, check in checks.items():
        if check.slip_models_disagreeing:
            log.warning(
                "given '%s' disagrees with the value recomputed from the tensor (rtol %g) in "
                "%d slip model(s), e.g. %s; median ratio given/recomputed %.4g. The given "
                "column is used, as in the original analysis.",
                metric, rtol, len(check.slip_models_disagreeing),
                ", ".join(sorted(check.slip_models_disagreeing)[:3]),
                check.summary()["median_ratio_given_to_recomputed"],
            )
    for column, names in missing_optional.items():
        log.info("column '%s' absent from %d slip model file(s)", column, len(names))
    for entry in skipped:
        log.info("skipped %s (%s): %s", entry["slip_model"], entry["paper_role"], entry["reason"])

    rows = sum(model["rows"] for model in kept)
    return {
        "source_root": str(layout.root),
        "demo": read_demo_marker(layout.root),
        "rows": rows,
        "positive_share": sum(model["positives"] for model in kept) / rows,
        "slip_models": len(kept),
        "events": len({event_of(model["name"]) for model in kept}),
        "sequences": len({sequence_of(model["name"]) for model in kept}),
        "by_paper_role": {
            role: {
                "rows": sum(model["rows"] for model in kept if model["role"] == role),
                "positives": sum(model["positives"] for model in kept if model["role"] == role),
                "slip_models": sum(model["role"] == role for model in kept),
            }
            for role in ROLES
        },
        "skipped_slip_models": skipped,
        "metric_source": {
            metric: (
                "given" if count == len(entries)
                else "recomputed" if count == 0
                else f"given in {count} of {len(entries)} files, recomputed in the rest"
            )
            for metric, count in given_metric_files.items()
        } | {"sum_abs": "recomputed"},
        "crosscheck_rtol": rtol,
        "crosscheck": {metric: check.summary() for metric, check in checks.items()},
        "missing_optional_columns": {k: sorted(v) for k, v in missing_optional.items()},
    }


def features_stage(params: dict[str, Any], raw: Input, out: Output, report: Output) -> None:
    """Read the original layout into one feature table, one row per grid cell.

    inputs:  raw, the original layout.
    outputs: out: the feature table (Parquet): slip_model, event, sequence, paper_role, x,
             y, stress_xx..stress_zz, label, max_shear, von_mises, sum_abs, cfs_1..cfs_4;
             report (JSON): rows and positives per paper role, skipped one-class slip
             models, metric sources, cross-check results, demo flag.
    params:  features.crosscheck_rtol
    """
    settings = FeatureParams.from_params(params)
    layout = open_layout(raw)
    # the table and its report are a pair: both are written to temporaries and replace the
    # old pair only when both are complete (a failure leaves the old pair as it was)
    with atomic_files(out, report) as (table_temporary, report_temporary):
        summary = write_features(layout, table_temporary, settings.crosscheck_rtol)
        report_temporary.write_text(json_text(summary))
    log.info("%s rows from %d slip models (%.2f%% positive cells); %d slip model(s) skipped",
             f"{summary['rows']:,}", summary["slip_models"], 100 * summary["positive_share"],
             len(summary["skipped_slip_models"]))
