"""Logistic regression on the network's 12 inputs, standardised on the training rows."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..cells import Cells
from . import LogisticSettings
from .base import Method


class Logistic(Method):
    """Logistic regression on the network's 12 inputs, standardised on the training rows."""

    settings: LogisticSettings

    def __init__(self, settings: LogisticSettings) -> None:
        super().__init__(settings)
        self.model = make_pipeline(StandardScaler(),
                                   LogisticRegression(C=self.settings.C, max_iter=1000))

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        self.model.fit(cells.network_inputs(rows), cells.labels[rows])

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(cells.network_inputs(rows))
