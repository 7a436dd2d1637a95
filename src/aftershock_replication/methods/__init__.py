"""Every method behind one interface (``base.Method``), by the name used in the metrics."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import InputError
from .base import Method

# name -> (module, class); modules are imported on demand (Keras, pyGAM are slow to load)
_CLASSES = {
    "coulomb": ("untrained", "Coulomb"),
    "coulomb_test_selected": ("untrained", "CoulombTestSelected"),
    "max_shear": ("untrained", "MaxShear"),
    "von_mises": ("untrained", "VonMises"),
    "sum_abs": ("untrained", "SumAbs"),
    "one_neuron": ("linear", "OneNeuron"),
    "logistic": ("linear", "Logistic"),
    "random_forest": ("forest", "RandomForest"),
    "svm": ("svm", "SVM"),
    "gam": ("gam", "GAM"),
    "neural_network": ("network", "NeuralNetwork"),
}
ALL_METHODS = tuple(_CLASSES)
UNTRAINED = ALL_METHODS[:5]
FITTED = ALL_METHODS[5:]


def create(name: str, settings: dict[str, Any] | None = None) -> Method:
    """A fresh, unfitted method by name."""
    if name not in _CLASSES:
        raise InputError(f"unknown method {name!r}; expected one of {', '.join(ALL_METHODS)}")
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(f".{module}", __package__), cls)(settings)
