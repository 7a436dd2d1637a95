"""The common interface of every method and the cell arrays they read.

A method is fitted on training rows only (``fit``) and then scores any rows (``score``);
untrained stress metrics have nothing to fit. Scores are higher where aftershocks are
more likely; only their order matters (AUC).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow.parquet as pq

from ..features import CFS_COLUMNS, COMPONENT_COLUMNS

PASCAL_PER_MPA = 1e6


@dataclass(frozen=True)
class Cells:
    """Columns of the feature table as arrays, in table order."""

    components: np.ndarray  # (n, 6) float32, Pa
    max_shear: np.ndarray
    von_mises: np.ndarray
    sum_abs: np.ndarray
    cfs: np.ndarray  # (n, 4) float32, Pa, NaN where the data has no Coulomb columns
    labels: np.ndarray  # bool
    slip_model: np.ndarray  # str per row
    event: np.ndarray

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


def load_cells(path: str | Path) -> Cells:
    """Read the columns the methods need from the feature table."""
    table = pq.read_table(path, columns=[
        *COMPONENT_COLUMNS, "max_shear", "von_mises", "sum_abs", *CFS_COLUMNS, "label",
        "slip_model", "event",
    ])

    def column(name: str) -> np.ndarray:
        return table.column(name).to_numpy()

    return Cells(
        components=np.column_stack([column(c) for c in COMPONENT_COLUMNS]).astype(np.float32),
        max_shear=column("max_shear"), von_mises=column("von_mises"), sum_abs=column("sum_abs"),
        cfs=np.column_stack([column(c) for c in CFS_COLUMNS]).astype(np.float32),
        labels=column("label").astype(bool),
        slip_model=table.column("slip_model").cast("string").to_numpy(zero_copy_only=False),
        event=table.column("event").cast("string").to_numpy(zero_copy_only=False),
    )


class Method(ABC):
    """One way of scoring cells. ``fitted`` methods learn from training rows only."""

    name: ClassVar[str]
    fitted: ClassVar[bool] = True
    # True only for the original's Coulomb procedure, which chooses with the labels it scores
    uses_scored_labels: ClassVar[bool] = False

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = settings or {}

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:  # noqa: B027
        """Learn from the training ``rows`` (nothing to learn by default)."""

    @abstractmethod
    def score(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` (float), higher = aftershock more likely."""

    def describe(self) -> dict[str, Any]:
        """What was fitted or chosen, for the metrics file."""
        return {}


def cap_rows(rows: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """At most ``max_rows`` of the training rows, drawn uniformly without replacement
    (seeded, sorted), for methods too slow to fit on millions of rows; all rows if None."""
    if max_rows is None or len(rows) <= max_rows:
        return rows
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    return np.sort(rng.choice(rows, size=max_rows, replace=False))
