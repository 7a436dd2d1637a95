"""The feature table in memory: float32 columns and integer group codes, in table order.

At the published scale (6.1 million cells) the table must be loaded once per stage, cheaply
and compactly: numbers stay float32, and the slip model and event of each row are integer
codes into sorted name arrays (not millions of Python strings), so turning a list of slip
models into row indices, or grouping rows, is integer work.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .schema import (
    CFS_COLUMNS,
    COMPONENT_COLUMNS,
    LABEL,
    METRIC_COLUMNS,
    check_feature_table,
)

PASCAL_PER_MPA = 1e6


@dataclass(frozen=True)
class Groups:
    """A grouping of the rows: ``codes[i]`` is row i's index into the sorted ``names``."""

    codes: np.ndarray  # int32, one per row
    names: np.ndarray  # str, sorted and unique

    @classmethod
    def of(cls, labels: Iterable[str] | np.ndarray) -> Groups:
        """Codes for an array of group names, one per row (sorted names, as np.unique)."""
        names, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
        return cls(codes=codes.astype(np.int32), names=names)

    def __len__(self) -> int:
        return len(self.names)

    def rows(self, members: Iterable[str], include: bool = True) -> np.ndarray:
        """Rows (table order) of the named groups, or of all the other groups."""
        chosen = np.isin(self.names, list(members))
        return np.flatnonzero(chosen[self.codes] == include)

    def of_rows(self, rows: np.ndarray) -> np.ndarray:
        """Group name of each of ``rows``."""
        return self.names[self.codes[rows]]


@dataclass(frozen=True)
class Cells:
    """Columns of the feature table as arrays, in table order."""

    components: np.ndarray  # (n, 6) float32, Pa
    max_shear: np.ndarray  # float32
    von_mises: np.ndarray
    sum_abs: np.ndarray
    cfs: np.ndarray  # (n, 4) float32, Pa, NaN where the data has no Coulomb columns
    labels: np.ndarray  # bool
    slip_model: Groups
    event: Groups

    def __len__(self) -> int:
        return len(self.labels)

    def network_inputs(self, rows: np.ndarray) -> np.ndarray:
        """The original network's 12 inputs: |sigma_ij| then -|sigma_ij|, in MPa (float32)."""
        magnitude = np.abs(self.components[rows]) / np.float32(PASCAL_PER_MPA)
        return np.concatenate([magnitude, -magnitude], axis=1)

    def log_magnitudes(self, rows: np.ndarray) -> np.ndarray:
        """log10 of |sigma_ij| in Pa (floored at 1 Pa): the six components on the scale
        where stress changes vary, for methods that are not scale-free (GAM, SVM)."""
        return np.log10(np.maximum(np.abs(self.components[rows]).astype(np.float64), 1.0))


def keep_freed_arrow_memory() -> None:
    """Let Arrow's allocator keep freed pages for reuse instead of returning them at once:
    reading row group after row group then costs a third of the system time (page faults)."""
    with suppress(NotImplementedError):  # pyarrow built without jemalloc: nothing to tune
        pa.jemalloc_set_decay_ms(-1)


class _GroupCoder:
    """Collects group names chunk by chunk (each Parquet row group has its own dictionary)
    into provisional codes, then re-codes them against the sorted names."""

    def __init__(self, rows: int) -> None:
        self.codes = np.empty(rows, dtype=np.int32)
        self.index: dict[str, int] = {}

    def add(self, chunk: pa.Array, start: int) -> None:
        if not pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_encode()
        local = np.array([self.index.setdefault(name, len(self.index))
                          for name in chunk.dictionary.to_pylist()], dtype=np.int32)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        self.codes[start:start + len(chunk)] = local[indices]

    def groups(self) -> Groups:
        provisional = np.array(list(self.index), dtype=str)
        order = np.argsort(provisional)
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return Groups(codes=rank[self.codes], names=provisional[order])


def load_cells(path: str | Path) -> Cells:
    """Read the columns the methods need from the feature table (Parquet), row group by row
    group into preallocated arrays, so memory holds the arrays and one row group only."""
    keep_freed_arrow_memory()
    check_feature_table(path, [*COMPONENT_COLUMNS, *METRIC_COLUMNS, *CFS_COLUMNS, LABEL,
                               "slip_model", "event"])
    try:
        table_file = pq.ParquetFile(path)
        rows = table_file.metadata.num_rows
        components = np.empty((rows, len(COMPONENT_COLUMNS)), dtype=np.float32)
        cfs = np.empty((rows, len(CFS_COLUMNS)), dtype=np.float32)
        metrics = {name: np.empty(rows, dtype=np.float32) for name in METRIC_COLUMNS}
        labels = np.empty(rows, dtype=bool)
        coders = {name: _GroupCoder(rows) for name in ("slip_model", "event")}
        start = 0
        for group in range(table_file.num_row_groups):
            part = table_file.read_row_group(group, columns=[
                *COMPONENT_COLUMNS, *METRIC_COLUMNS, *CFS_COLUMNS, LABEL, *coders])
            stop = start + part.num_rows
            for k, name in enumerate(COMPONENT_COLUMNS):
                components[start:stop, k] = part.column(name).to_numpy()
            for k, name in enumerate(CFS_COLUMNS):
                cfs[start:stop, k] = part.column(name).to_numpy()
            for name, values in metrics.items():
                values[start:stop] = part.column(name).to_numpy()
            labels[start:stop] = part.column(LABEL).to_numpy()
            for name, coder in coders.items():
                offset = start
                for chunk in part.column(name).chunks:
                    coder.add(chunk, offset)
                    offset += len(chunk)
            start = stop
    except (OSError, KeyError, pa.ArrowException) as error:
        raise InputError(f"{path}: cannot read the feature table ({error}); "
                         "rerun the features stage") from error
    return Cells(
        components=components, cfs=cfs, labels=labels, **metrics,
        slip_model=coders["slip_model"].groups(), event=coders["event"].groups(),
    )
