"""Logistic regression on the network's 12 inputs, standardised on the training rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import FITTED_METHOD, Settings, setting
from .base import SklearnMethod

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class LogisticSettings(Settings):
    C: float = setting("positive", 1.0)
    max_train_rows: int | None = setting("cap", None)


class Logistic(SklearnMethod):
    """Logistic regression on the network's 12 inputs, standardised on the training rows."""

    name = "logistic"
    role = FITTED_METHOD
    order = 70
    settings_class = LogisticSettings
    settings: LogisticSettings
    inputs = "network_inputs"
    scorer = "decision_function"

    def estimator(self, seed: int) -> Pipeline:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # the lbfgs solver is deterministic: no seed to pass
        return make_pipeline(StandardScaler(),
                             LogisticRegression(C=self.settings.C, max_iter=1000))
