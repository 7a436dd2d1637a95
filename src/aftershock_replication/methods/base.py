"""The common interface of every method.

A method is fitted on training rows only (``fit``) and then scores any rows (``score``);
untrained stress metrics have nothing to fit. Scores are higher where aftershocks are
more likely; only their order matters (AUC). Scoring goes in bounded chunks of rows, so no
method ever expands millions of cells into its feature space at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from ..cells import Cells

if TYPE_CHECKING:
    from . import Settings

SCORE_CHUNK_ROWS = 65_536  # rows scored at a time: bounds e.g. SVM's (rows x components) block


class Method(ABC):
    """One way of scoring cells; what it is and how it is shown is in the registry
    (``methods.REGISTRY``). Fitted methods learn from training rows only."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.train_rows_used: int | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:  # noqa: B027
        """Learn from the training ``rows`` (nothing to learn by default)."""

    def score(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` (float64), higher = aftershock more likely, chunk by chunk."""
        out = np.empty(len(rows))
        for start in range(0, len(rows), SCORE_CHUNK_ROWS):
            chunk = rows[start:start + SCORE_CHUNK_ROWS]
            out[start:start + len(chunk)] = self.score_chunk(cells, chunk)
        return out

    @abstractmethod
    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """Scores of a bounded number of ``rows``."""

    def describe(self) -> dict[str, Any]:
        """What was fitted or chosen, for the metrics file."""
        return {}

    def training_rows(self, rows: np.ndarray, seed: int) -> np.ndarray:
        """The training rows this method fits on: all of them, or at most its
        ``max_train_rows`` (a maximum, not a requirement); records how many were used."""
        used = cap_rows(rows, getattr(self.settings, "max_train_rows", None), seed)
        self.train_rows_used = len(used)
        return used


def cap_rows(rows: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """At most ``max_rows`` of the training rows, drawn uniformly without replacement
    (seeded, sorted), for methods too slow to fit on millions of rows; all rows if None."""
    if max_rows is None or len(rows) <= max_rows:
        return rows
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    return np.sort(rng.choice(rows, size=max_rows, replace=False))
