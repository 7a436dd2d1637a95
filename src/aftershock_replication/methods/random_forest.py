"""Random forest on the network's inputs: 100 trees with scikit-learn's defaults (the critique)."""

from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier

from . import RandomForestSettings
from .base import SklearnMethod


class RandomForest(SklearnMethod):
    settings: RandomForestSettings
    inputs = "network_inputs"
    scorer = "predict_proba"

    def estimator(self, seed: int) -> RandomForestClassifier:
        # one thread: partitions run in parallel instead (see compute.py); the trees are the
        # same for any number of threads
        return RandomForestClassifier(n_estimators=self.settings.n_estimators,
                                      min_samples_leaf=self.settings.min_samples_leaf,
                                      n_jobs=1, random_state=seed)
