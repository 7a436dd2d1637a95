"""Random forest on the network's inputs: 100 trees with scikit-learn's defaults (the critique)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from ..cells import Cells
from . import RandomForestSettings
from .base import Method


class RandomForest(Method):
    settings: RandomForestSettings

    def __init__(self, settings: RandomForestSettings) -> None:
        super().__init__(settings)
        self.model: RandomForestClassifier | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        # one thread: partitions run in parallel instead (see compute.py); the trees are the
        # same for any number of threads
        self.model = RandomForestClassifier(
            n_estimators=self.settings.n_estimators,
            min_samples_leaf=self.settings.min_samples_leaf,
            n_jobs=1, random_state=seed,
        ).fit(cells.network_inputs(rows), cells.labels[rows])

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.predict_proba(cells.network_inputs(rows))[:, 1]
