"""Logistic regressions: the 'one neuron' on one stress scalar and one on the network's inputs."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..cells import Cells
from .base import Method


class OneNeuron(Method):
    """Mignan & Broccardo (2019): logistic regression with two parameters on log10 of one
    stress scalar (``methods.one_neuron.scalar``, by default the sum of |sigma_ij|)."""

    name = "one_neuron"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.model = LogisticRegression(C=float(self.settings.get("C", 1e6)))

    def _inputs(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        scalar = getattr(cells, self.settings.get("scalar", "sum_abs"))[rows]
        return np.log10(np.maximum(scalar.astype(np.float64), 1.0))[:, None]

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(rows, seed)
        self.model.fit(self._inputs(cells, rows), cells.labels[rows])

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(self._inputs(cells, rows))

    def describe(self) -> dict[str, Any]:
        return {"intercept": float(self.model.intercept_[0]),
                "slope": float(self.model.coef_[0, 0]), "parameters": 2}


class Logistic(Method):
    """Logistic regression on the network's 12 inputs, standardised on the training rows."""

    name = "logistic"
    fitted: ClassVar[bool] = True

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=float(self.settings.get("C", 1.0)), max_iter=1000),
        )

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(rows, seed)
        self.model.fit(cells.network_inputs(rows), cells.labels[rows])

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(cells.network_inputs(rows))
