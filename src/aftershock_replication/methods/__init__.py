"""The method registry: every method declared once, with its settings.

Each entry names the module holding the method's class (imported on demand: Keras and
pyGAM are slow to load), whether it is fitted and its role in the comparisons. Fitted
methods have a typed settings dataclass whose defaults are the package's defaults
(``params.yaml`` ships the same values, and a test keeps them equal); ``methods.params``
reads and validates them. How a method is shown (label, name in running text, colour) is
the report's, in ``report/method_table.py``. To add a method: write its module (one class
derived from ``base.Method``, named as in ``cls``), add its entry and settings here, its
section to ``params.yaml`` (``methods.<name>``, or its name in ``untrained`` for an
untrained one) and its row to ``report/method_table.py``; ``dvc.yaml`` takes its stage
lists from ``params.yaml``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import InputError

# Roles in the comparisons.
STRESS_METRIC = "stress metric"  # untrained; eligible as the reference of the comparisons
PEEKS_AT_TEST_LABELS = "the original's procedure, which chooses with the test labels"
NEGATIVE_CONTROL = "negative control"  # fitted, but a monotone transform of a stress metric
FITTED_METHOD = "fitted method"


def setting(kind: str, default: Any) -> Any:
    """A settings field: ``kind`` says how ``methods.params`` validates it (count, cap,
    positive, positive_or_null, unit_open, stress_scalar)."""
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class Settings:
    """Hyperparameters of a method (none for the untrained stress metrics)."""

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class OneNeuronSettings(Settings):
    scalar: str = setting("stress_scalar", "sum_abs")
    C: float = setting("positive", 1e6)
    max_train_rows: int | None = setting("cap", None)


@dataclass(frozen=True)
class LogisticSettings(Settings):
    C: float = setting("positive", 1.0)
    max_train_rows: int | None = setting("cap", None)


@dataclass(frozen=True)
class RandomForestSettings(Settings):
    n_estimators: int = setting("count", 100)
    min_samples_leaf: int = setting("count", 1)
    max_train_rows: int | None = setting("cap", 20_000)


@dataclass(frozen=True)
class SVMSettings(Settings):
    C: float = setting("positive", 1.0)
    gamma: float | None = setting("positive_or_null", None)
    n_components: int = setting("count", 300)
    max_train_rows: int | None = setting("cap", 20_000)


@dataclass(frozen=True)
class GAMSettings(Settings):
    n_splines: int = setting("count", 10)
    lam: float = setting("positive", 0.6)
    max_iter: int = setting("count", 100)
    max_train_rows: int | None = setting("cap", 50_000)


@dataclass(frozen=True)
class NeuralNetworkSettings(Settings):
    batch_size: int = setting("count", 3500)
    epochs: int = setting("count", 5)
    learning_rate: float = setting("positive", 1.0)
    rho: float = setting("unit_open", 0.95)
    validation_share: float = setting("unit_open", 0.1)
    max_train_rows: int | None = setting("cap", None)
    # fits from this many seeded initialisations, keeping the best validation loss (1 = the
    # original's single fit)
    restarts: int = setting("count", 1)
    # gradient steps per epoch; None = the original's round(positive training cells / batch)
    steps_per_epoch: int | None = setting("cap", None)

    def original_steps(self, positives: int) -> int:
        """Steps per epoch of the original recipe for ``positives`` positive training rows:
        round(those left after validation / batch size), at least one (validation holds out
        ``validation_share`` of them, at least one)."""
        held_out = max(1, round(self.validation_share * positives))
        return max(1, round((positives - held_out) / self.batch_size))


@dataclass(frozen=True)
class MethodSpec:
    """One method: where its class lives and how it takes part."""

    name: str
    module: str  # module under methods/ holding ``cls``
    cls: str
    role: str
    settings: type[Settings] | None = None  # None: untrained, nothing to set

    @property
    def fitted(self) -> bool:
        return self.settings is not None

    @property
    def stage(self) -> str:
        """The DVC stage that evaluates this method (``fit@<name>`` or ``score@<name>``)."""
        return f"{'fit' if self.fitted else 'score'}@{self.name}"

    @property
    def uses_test_labels(self) -> bool:
        return self.role == PEEKS_AT_TEST_LABELS


REGISTRY = (
    MethodSpec("coulomb", "untrained", "Coulomb", STRESS_METRIC),
    MethodSpec("coulomb_test_selected", "untrained", "CoulombTestSelected", PEEKS_AT_TEST_LABELS),
    MethodSpec("max_shear", "untrained", "MaxShear", STRESS_METRIC),
    MethodSpec("von_mises", "untrained", "VonMises", STRESS_METRIC),
    MethodSpec("sum_abs", "untrained", "SumAbs", STRESS_METRIC),
    MethodSpec("one_neuron", "one_neuron", "OneNeuron", NEGATIVE_CONTROL, OneNeuronSettings),
    MethodSpec("logistic", "logistic", "Logistic", FITTED_METHOD, LogisticSettings),
    MethodSpec("random_forest", "random_forest", "RandomForest", FITTED_METHOD,
               RandomForestSettings),
    MethodSpec("svm", "svm", "SVM", FITTED_METHOD, SVMSettings),
    MethodSpec("gam", "gam", "GAM", FITTED_METHOD, GAMSettings),
    MethodSpec("neural_network", "neural_network", "NeuralNetwork", FITTED_METHOD,
               NeuralNetworkSettings),
)
METHODS = {spec.name: spec for spec in REGISTRY}
ALL_METHODS = tuple(METHODS)
UNTRAINED = tuple(spec.name for spec in REGISTRY if not spec.fitted)
FITTED = tuple(spec.name for spec in REGISTRY if spec.fitted)
STRESS_METRICS = tuple(spec.name for spec in REGISTRY if spec.role == STRESS_METRIC)
# the fitted methods compared with each other and the stress metrics (Holm families); the
# negative control is tested in a family of its own
COMPETITORS = tuple(spec.name for spec in REGISTRY if spec.role == FITTED_METHOD)
CONTROLS = tuple(spec.name for spec in REGISTRY if spec.role == NEGATIVE_CONTROL)


def spec(name: str) -> MethodSpec:
    """The registry entry of a method; an unknown name is an InputError listing the known."""
    if name not in METHODS:
        raise InputError(f"unknown method {name!r}; expected one of {', '.join(ALL_METHODS)}")
    return METHODS[name]


def create(name: str, settings: Settings | None = None) -> Any:
    """A fresh, unfitted method by name (with the registry's default settings if None)."""
    entry = spec(name)
    cls = getattr(importlib.import_module(f".{entry.module}", __package__), entry.cls)
    if entry.settings is not None and settings is None:
        settings = entry.settings()
    return cls(settings)
