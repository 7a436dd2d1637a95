"""Reading the grids the layout comparison compares (``compare``): the directory of
slip-model CSVs on each side, and per CSV its cells' grid_ids and numeric columns, checked.

The CSVs are read here, not with ``slip_csv.read_slip_model_csv``: that reader serves the
features stage, reads a fixed set of columns (requiring the stresses and the label, never
``grid_id`` or ``z``) and changing it would mark the pipeline's stages stale. This module
reuses its header, duplicate-column, value and error-message checks, so a value the
features stage would refuse is refused here with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import InputError
from .layout import CSV_DIR, CSV_SUFFIX, file_problem, slip_model_name
from .slip_csv import CSV_BLOCK_BYTES, _explain_arrow_error, _reject_duplicates, column_values

GRID_ID_COLUMN = "grid_id"  # '<depth of the cell centre in m>_<index in its depth layer>'
EXAMPLES = 5  # unmatched grid_ids shown per side and slip model


def csv_directory(path: Path) -> Path:
    """The directory of ``*_grid.csv`` files: ``path/AllCSV`` for a layout root, else
    ``path`` itself when it holds such files (an ``AllCSV`` directory given directly)."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: directory not found")
    inner = path / CSV_DIR
    if inner.is_dir():
        if not any(inner.glob(f"*{CSV_SUFFIX}")):
            raise InputError(f"{inner}: no slip-model CSV files (*{CSV_SUFFIX})")
        return inner
    if not any(path.glob(f"*{CSV_SUFFIX}")):
        raise InputError(f"{path}: neither a layout (no '{CSV_DIR}' directory) nor a "
                         f"directory of slip-model CSV files (*{CSV_SUFFIX})")
    return path


def slip_model_files(directory: Path) -> dict[str, Path]:
    """Slip-model name -> its CSV, for every ``*_grid.csv`` in ``directory``; an entry that
    is not a readable file (a directory, a dangling link) is an InputError naming it."""
    files = {}
    for path in sorted(directory.glob(f"*{CSV_SUFFIX}")):
        problem = file_problem(path)
        if problem:
            raise InputError(f"{path}: {problem}; expected a slip-model CSV file")
        files[slip_model_name(path.name)] = path
    return files


@dataclass(frozen=True)
class Grid:
    """One slip model's cells as read: grid_ids (in file order) and the compared columns."""

    path: Path
    ids: pa.Array
    values: dict[str, np.ndarray]

    @property
    def cells(self) -> int:
        return len(self.ids)


def read_grid(path: Path, header: list[str], columns: list[str]) -> Grid:
    """The grid_ids and the given numeric ``columns`` of one CSV (``header`` from
    ``slip_csv._header``), checked: grid_id present, non-empty and unique, every value a
    finite number (counts whole and >= 0). Errors name the file, column and row."""
    if GRID_ID_COLUMN not in header:
        raise InputError(f"{path}: missing column '{GRID_ID_COLUMN}', needed to match the "
                         "cells of the two grids")
    wanted = [GRID_ID_COLUMN, *columns]
    _reject_duplicates(path, header, wanted)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=header,
                                           skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={GRID_ID_COLUMN: pa.string(),
                              **dict.fromkeys(columns, pa.float64())},
                null_values=[""],  # an empty number is missing; an empty grid_id stays ''
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InputError(f"{path}: {_explain_arrow_error(str(error), header)}") from error
    if table.num_rows == 0:
        raise InputError(f"{path}: no rows (expected one row per grid cell)")
    ids = pc.utf8_trim_whitespace(table.column(GRID_ID_COLUMN).combine_chunks())
    _check_ids(path, ids)
    values = {name: column_values(path, table, name) for name in columns}
    return Grid(path=path, ids=ids, values=values)


def _check_ids(path: Path, ids: pa.Array) -> None:
    """Refuse an empty or repeated grid_id: a cell must be matched to at most one other."""
    empty = pc.index(ids, "").as_py()
    if empty >= 0:
        raise InputError(f"{path}: column '{GRID_ID_COLUMN}' is empty in data row {empty + 1} "
                         f"(line {empty + 2}); every cell needs its id")
    if pc.count_distinct(ids).as_py() == len(ids):
        return
    counts = pc.value_counts(ids)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))[0]
    value = repeated["values"].as_py()
    rows = np.flatnonzero(pc.equal(ids, value).to_numpy(zero_copy_only=False))
    shown = ", ".join(str(row + 1) for row in rows[:EXAMPLES])
    raise InputError(f"{path}: column '{GRID_ID_COLUMN}' repeats '{value}' "
                     f"{repeated['counts'].as_py()} times (data rows {shown}); which cell "
                     "it names is ambiguous")
