"""Support vector machine that scales to millions of rows: an RBF kernel approximated with
Nystroem features, then a linear SVM; scored with its decision function."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.kernel_approximation import Nystroem
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from .base import Cells, Method, cap_rows


class SVM(Method):
    name = "svm"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.model: Pipeline | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = cap_rows(rows, self.settings.get("max_train_rows"), seed)
        self.model = make_pipeline(
            StandardScaler(),
            Nystroem(kernel="rbf", gamma=self.settings.get("gamma"),
                     n_components=int(self.settings.get("n_components", 300)), random_state=seed),
            LinearSVC(C=float(self.settings.get("C", 1.0)), class_weight="balanced",
                      dual=False, random_state=seed),
        ).fit(cells.log_magnitudes(rows), cells.labels[rows])

    def score(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        return self.model.decision_function(cells.log_magnitudes(rows))
