"""Column names of the feature table, shared by the stage that writes it and those that read it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .names import STRESS_SCALARS
from .stress import COMPONENTS

ID_COLUMNS = ("slip_model", "event", "sequence", "paper_role")
COMPONENT_COLUMNS = tuple(f"stress_{c}" for c in COMPONENTS)
METRIC_COLUMNS = STRESS_SCALARS
CFS_COLUMNS = tuple(f"cfs_{i}" for i in range(1, 5))
LABEL = "label"
COORDINATE_FEATURES = ("x", "y")

# Every column non-nullable (the features stage rejects empty values): Parquet then writes
# no definition levels, a third less CPU than nullable columns.
FEATURE_SCHEMA = pa.schema(
    [pa.field(name, pa.dictionary(pa.int32(), pa.string()), nullable=False)
     for name in ID_COLUMNS]
    + [pa.field(name, pa.float32(), nullable=False)
       for name in (*COORDINATE_FEATURES, *COMPONENT_COLUMNS)]
    + [pa.field(LABEL, pa.bool_(), nullable=False)]
    + [pa.field(name, pa.float32(), nullable=False) for name in (*METRIC_COLUMNS, *CFS_COLUMNS)]
)


def _fits(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``actual`` reads as the feature table's ``expected`` type
    (names as plain or dictionary strings, numbers as any float, the label as bool)."""
    if pa.types.is_dictionary(expected):
        value = actual.value_type if pa.types.is_dictionary(actual) else actual
        return pa.types.is_string(value) or pa.types.is_large_string(value)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual)
    return actual == expected


def check_feature_table(path: str | Path, columns: Iterable[str]) -> None:
    """Refuse, before reading any row, a feature table that is missing, not Parquet, or
    lacks one of ``columns`` with its type: each names the file and says to rerun the
    features stage (the reader would fail with a traceback half way)."""
    rerun = "rerun the features stage"
    if Path(path).is_dir():
        raise InputError(f"{path}: is a directory, not the feature table; {rerun}")
    if not Path(path).is_file():
        raise InputError(f"{path}: missing; it is written by the features stage (run "
                         "`dvc repro` or that stage first)")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"{path}: cannot read the feature table ({error}); {rerun}") from error
    for name in columns:
        if name not in schema.names:
            raise InputError(f"{path}: the feature table has no column '{name}'; {rerun}")
        actual, expected = schema.field(name).type, FEATURE_SCHEMA.field(name).type
        if not _fits(actual, expected):
            raise InputError(f"{path}: column '{name}' of the feature table is {actual}, "
                             f"expected {expected}; {rerun}")
