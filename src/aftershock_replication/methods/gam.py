"""Generalised additive model (pyGAM): logistic, one penalised spline per stress component
(of log10 |sigma_ij|)."""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np
from pygam import LogisticGAM, s

from ..cells import Cells
from . import GAMSettings
from .base import Method


class GAM(Method):
    settings: GAMSettings

    def __init__(self, settings: GAMSettings) -> None:
        super().__init__(settings)
        self.model: LogisticGAM | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        n_splines = self.settings.n_splines
        terms = reduce(add, [s(i, n_splines=n_splines) for i in range(6)])
        self.model = LogisticGAM(terms, lam=self.settings.lam, max_iter=self.settings.max_iter)
        self.model.fit(cells.log_magnitudes(rows), cells.labels[rows].astype(float))

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return np.asarray(self.model.predict_mu(cells.log_magnitudes(rows)), dtype=np.float64)
