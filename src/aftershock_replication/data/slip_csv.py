"""Read one slip model's CSV of the original layout (``layout.py``), checked.

The one reader of a slip-model CSV: the features stage builds its table with it, and the
download of the published data (``published.py``) checks each downloaded CSV with it, so a
file accepted at acquire parses as the features stage will read it. It reads only the
columns the analysis needs, with explicit dtypes, and refuses a value that is not a finite
number within float32's range, naming the file, column and row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from .layout import (
    COORDINATE_COLUMNS,
    COULOMB_COLUMNS,
    LABEL_COLUMN,
    MAX_SHEAR_COLUMN,
    STRESS_COLUMNS,
    VON_MISES_COLUMN,
)

CSV_BLOCK_BYTES = 1 << 24  # most slip-model CSVs parse as one block: columns without copies
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the table's numbers are float32


def _header(path: Path, where: Path) -> list[str]:
    """Column names from a CSV's first line (cheap: reads one line), as the reader uses them:
    without a UTF-8 byte-order mark, quotes or the spaces around a name (all unambiguous).
    Errors name ``where``."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            first = handle.readline()
    except OSError as error:
        raise InputError(f"{where}: cannot read ({error})") from error
    if not first.strip():
        raise InputError(f"{where}: empty file (expected a header line and one row per grid cell)")
    return [name.strip() for name in next(csv.reader([first], skipinitialspace=True))]


def _reject_duplicates(path: Path, header: list[str], wanted: list[str]) -> None:
    """A column the analysis reads must appear once: which copy is meant is ambiguous."""
    for name in wanted:
        positions = [str(i + 1) for i, column in enumerate(header) if column == name]
        if len(positions) > 1:
            raise InputError(
                f"{path}: column '{name}' appears {len(positions)} times in the header "
                f"(columns {', '.join(positions)}); which one holds the data is ambiguous"
            )


def first_outside(values: np.ndarray, low: float, high: float) -> int | None:
    """Index of the first value that is NaN or outside [low, high]; None if there is none.

    The common case costs two reductions (NaN propagates through min and max, so it fails
    the comparison); the mask is built only to locate a bad value.
    """
    if values.size == 0 or (low <= values.min() and values.max() <= high):
        return None
    return int(np.argmin((values >= low) & (values <= high)))


def in_words(value: float) -> str:
    """A rejected value in words: NaN, inf, -inf, or the number (noting when float32 overflows)."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) > FLOAT32_MAX:
        return f"{value:g}, too large for float32 (largest {FLOAT32_MAX:.4g})"
    return f"{value:g}"


def _check_values(path: Path, name: str, values: np.ndarray, count: bool = False) -> None:
    """Reject NaN, inf and values too large for float32, and for a ``count`` negative or
    fractional values, naming the file, column and row (``data row`` counts rows after the
    header; ``line`` is in the file)."""
    row = first_outside(values, 0.0 if count else -FLOAT32_MAX, FLOAT32_MAX)
    if row is None and count and (fractional := np.flatnonzero(values % 1.0)).size:
        row = int(fractional[0])
    if row is not None:
        expected = "a whole count >= 0" if count else "a finite number that fits float32"
        raise InputError(
            f"{path}: column '{name}' holds {in_words(float(values[row]))} in data row "
            f"{row + 1} (line {row + 2}); expected {expected}"
        )


def read_slip_model_csv(
    path: Path, shown: Path | None = None,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The needed columns of one slip model's CSV as float64 arrays, and which optional ones exist.

    Every value read must be a finite number within float32's range (the table's type) and
    the aftershock counts must be whole and not negative. Raises InputError naming the file
    (``shown``, the user's file behind a data/raw link, when given), column and row for a
    value that breaks this, an empty cell, a value that is not a number, a missing required
    or duplicated column, or a file without rows.
    """
    where = shown or path
    header = _header(path, where)
    required = [*STRESS_COLUMNS, LABEL_COLUMN]
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"{where}: missing required column(s) {', '.join(missing)} "
            f"(expected the original's {', '.join(required)})"
        )
    optional = [
        name for name in (*COORDINATE_COLUMNS, *COULOMB_COLUMNS, MAX_SHEAR_COLUMN,
                          VON_MISES_COLUMN)
        if name in header
    ]
    wanted = required + optional
    _reject_duplicates(where, header, wanted)
    try:
        table = pacsv.read_csv(
            path,
            # one thread per file: files are read two at a time (``read_in_order``), which
            # costs less CPU than splitting each file's blocks over threads; the header's
            # names as cleaned above, so the check and the reader agree
            read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES,
                                           column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types=dict.fromkeys(wanted, pa.float64()),
                # only an empty cell is missing: 'NaN' stays NaN, reported as such
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise InputError(f"{where}: {_explain_arrow_error(str(error), header)}") from error
    if table.num_rows == 0:
        raise InputError(f"{where}: no rows (expected one row per grid cell)")
    return {name: column_values(where, table, name) for name in wanted}, optional


def column_values(where: Path, table: pa.Table, name: str) -> np.ndarray:
    """One numeric column of a slip model's table as an array, checked: no empty value, and
    values the features stage accepts (``_check_values``); errors name ``where`` and the
    data row."""
    column = table.column(name)
    if column.null_count:
        import pyarrow.compute as pc  # only on this error path: a slow import

        row = int(pc.index(pc.is_null(column), True).as_py())
        raise InputError(f"{where}: column '{name}' has an empty value in data row "
                         f"{row + 1} (line {row + 2}); expected a number")
    values = column.to_numpy()
    _check_values(where, name, values, count=name == LABEL_COLUMN)
    return values


def _explain_arrow_error(message: str, header: list[str]) -> str:
    """Turn pyarrow's 'In CSV column #3: ...' (a position in the file) into the column's name."""
    if "CSV column #" in message:
        try:
            position = int(message.split("CSV column #", 1)[1].split(":", 1)[0])
            return f"column '{header[position]}' is not numeric ({message.strip()})"
        except (ValueError, IndexError):
            pass
    return f"cannot be read as numeric CSV: {message.strip()}"
