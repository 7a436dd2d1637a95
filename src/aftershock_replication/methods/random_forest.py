"""Random forest on the network's inputs: 100 trees with scikit-learn's defaults (the critique)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import FITTED_METHOD, Settings, setting
from .base import SklearnMethod

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier


@dataclass(frozen=True)
class RandomForestSettings(Settings):
    n_estimators: int = setting("count", 100)
    min_samples_leaf: int = setting("count", 1)
    max_train_rows: int | None = setting("cap", 20_000)


class RandomForest(SklearnMethod):
    name = "random_forest"
    role = FITTED_METHOD
    order = 80
    settings_class = RandomForestSettings
    settings: RandomForestSettings
    inputs = "network_inputs"
    scorer = "predict_proba"

    def estimator(self, seed: int) -> RandomForestClassifier:
        from sklearn.ensemble import RandomForestClassifier

        # one thread: partitions run in parallel instead (see compute.py); the trees are the
        # same for any number of threads
        return RandomForestClassifier(n_estimators=self.settings.n_estimators,
                                      min_samples_leaf=self.settings.min_samples_leaf,
                                      n_jobs=1, random_state=seed)
