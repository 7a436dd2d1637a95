"""The 'one neuron' of Mignan & Broccardo (2019): logistic regression with two parameters on
log10 of one stress scalar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cells import Cells
from . import NEGATIVE_CONTROL, Settings, setting
from .base import Method


@dataclass(frozen=True)
class OneNeuronSettings(Settings):
    scalar: str = setting("stress_scalar", "sum_abs")
    C: float = setting("positive", 1e6)
    max_train_rows: int | None = setting("cap", None)


class OneNeuron(Method):
    """Mignan & Broccardo (2019): logistic regression with two parameters on log10 of one
    stress scalar (``methods.one_neuron.scalar``, by default the sum of |sigma_ij|)."""

    name = "one_neuron"
    role = NEGATIVE_CONTROL
    order = 60
    settings_class = OneNeuronSettings
    settings: OneNeuronSettings

    def __init__(self, settings: OneNeuronSettings) -> None:
        from sklearn.linear_model import LogisticRegression

        super().__init__(settings)
        self.model = LogisticRegression(C=self.settings.C)

    def _inputs(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        scalar = getattr(cells, self.settings.scalar)[rows]
        return np.log10(np.maximum(scalar.astype(np.float64), 1.0))[:, None]

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        self.model.fit(self._inputs(cells, rows), cells.labels[rows])

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(self._inputs(cells, rows))

    def describe(self) -> dict[str, Any]:
        return {"intercept": float(self.model.intercept_[0]),
                "slope": float(self.model.coef_[0, 0]), "parameters": 2}
