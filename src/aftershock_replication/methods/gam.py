"""Generalised additive model (pyGAM): logistic, one penalised spline per stress component
(of log10 |sigma_ij|)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import TYPE_CHECKING

import numpy as np

from ..cells import Cells
from . import FITTED_METHOD, Settings, setting
from .base import Method

if TYPE_CHECKING:
    from pygam import LogisticGAM


@dataclass(frozen=True)
class GAMSettings(Settings):
    n_splines: int = setting("count", 10)
    lam: float = setting("positive", 0.6)
    max_iter: int = setting("count", 100)
    max_train_rows: int | None = setting("cap", 50_000)


class GAM(Method):
    name = "gam"
    role = FITTED_METHOD
    order = 100
    settings_class = GAMSettings
    settings: GAMSettings

    def __init__(self, settings: GAMSettings) -> None:
        super().__init__(settings)
        self.model: LogisticGAM | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        from pygam import LogisticGAM, s

        rows = self.training_rows(cells, rows, seed)
        n_splines = self.settings.n_splines
        terms = reduce(add, [s(i, n_splines=n_splines) for i in range(6)])
        self.model = LogisticGAM(terms, lam=self.settings.lam, max_iter=self.settings.max_iter)
        self.model.fit(cells.log_magnitudes(rows), cells.labels[rows].astype(float))

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return np.asarray(self.model.predict_mu(cells.log_magnitudes(rows)), dtype=np.float64)
