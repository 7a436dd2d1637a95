"""Column names of the feature table, shared by the stage that writes it and those that read it."""

from __future__ import annotations

import pyarrow as pa

from .stress import COMPONENTS

ID_COLUMNS = ("slip_model", "event", "sequence", "paper_role")
COMPONENT_COLUMNS = tuple(f"stress_{c}" for c in COMPONENTS)
METRIC_COLUMNS = ("max_shear", "von_mises", "sum_abs")
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
