"""Logistic regression on the network's 12 inputs, standardised on the training rows."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from . import LogisticSettings
from .base import SklearnMethod


class Logistic(SklearnMethod):
    """Logistic regression on the network's 12 inputs, standardised on the training rows."""

    settings: LogisticSettings
    inputs = "network_inputs"
    scorer = "decision_function"

    def estimator(self, seed: int) -> Pipeline:
        # the lbfgs solver is deterministic: no seed to pass
        return make_pipeline(StandardScaler(),
                             LogisticRegression(C=self.settings.C, max_iter=1000))
