"""The original study's CSV reader, for the reader-speed comparison of the scale benchmark.

DeVries et al.'s ``modelfunctions.read_file_to_dict`` (Python 2) reads each slip model's
CSV row by row with ``csv.DictReader`` into a dict of lists of strings; its callers then
convert the columns they use with ``np.double``. This module does the same (in Python 3)
over a layout's listed CSVs, so its CPU time is the baseline the features stage is
compared with. Run: ``python -m aftershock_replication.benchmarks.original_reader ROOT``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from ..data.layout import (
    COULOMB_COLUMNS,
    LABEL_COLUMN,
    MAX_SHEAR_COLUMN,
    ROLES,
    STRESS_COLUMNS,
    VON_MISES_COLUMN,
    open_layout,
)

USED_COLUMNS = (*STRESS_COLUMNS, LABEL_COLUMN, *COULOMB_COLUMNS, MAX_SHEAR_COLUMN,
                VON_MISES_COLUMN)


def read_file_to_dict(file_name: Path) -> dict[str, list[str]]:
    """``modelfunctions.read_file_to_dict`` of the original code: column -> list of strings."""
    data: dict[str, list[str]] = {}
    with open(file_name, newline="") as handle:
        for row in csv.DictReader(handle):
            for column, value in row.items():
                data.setdefault(column, []).append(value)
    return data


def read_layout(root: Path) -> int:
    """Read every listed CSV the original way and convert the used columns; returns rows."""
    layout = open_layout(root)
    rows = 0
    for role in ROLES:
        for name in layout.names[role]:
            data = read_file_to_dict(layout.csv_path(name))
            columns = {column: np.double(data[column]) for column in USED_COLUMNS
                       if column in data}
            rows += len(columns[LABEL_COLUMN])
    return rows


if __name__ == "__main__":
    print(f"{read_layout(Path(sys.argv[1])):,} rows read")
