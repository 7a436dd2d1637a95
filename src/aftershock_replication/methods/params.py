"""The sections of ``params.yaml`` that name methods, read against the method registry.

``methods.<name>`` (each fitted method's settings), ``learning_curve``, ``leakage`` and
``stats`` name methods, so they are read here rather than in the core ``params`` module,
which knows no method: adding or changing a method leaves the data stages (acquire,
features, events, split) up to date. Every reader here first refuses an unknown method
under ``methods`` (``check_method_names``), so a typo such as ``methods.randomforest``
stops every stage that reads method settings instead of silently changing nothing.

A stage that runs one method loads that method's module only (see ``methods/__init__.py``):
names of fitted methods are checked against the modules' names (``fitted_names``), and
``method_settings`` imports the one module whose settings it reads. What needs every method
(``configured_methods``, the ``leakage`` and ``stats`` sections, which may name untrained
methods too) reads the whole registry.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .. import methods as registry
from ..errors import InputError
from ..names import STRESS_SCALARS
from ..params import (
    as_choice,
    as_float,
    as_int,
    as_str,
    negatives_cap,
    reject_unknown,
    require,
    section,
)
from . import Settings, fitted_names
from . import spec as method_spec

MAX_COUNT = 1_000_000  # trees, components, splines, iterations, batch size, epochs


def check_method_names(params: dict[str, Any]) -> None:
    """Reject unknown methods under ``methods``: no stage reads them, so a typo
    (``methods.randomforest``) would silently change nothing."""
    methods = params.get("methods")
    if isinstance(methods, dict):
        reject_unknown(methods, fitted_names(), "methods")


def configured_methods(params: dict[str, Any]) -> list[str]:
    """The methods the params run, in the registry's order: the ``untrained`` stage list and
    the ``methods`` section."""
    check_method_names(params)
    named = set(params.get("untrained") or []) | set(params.get("methods") or {})
    return [method for method in registry.ALL_METHODS if method in named]


def _setting(kind: str, value: Any, dotted: str) -> Any:
    """One ``methods.<name>.<key>`` value validated by its kind (see ``methods.setting``)."""
    if kind == "count":
        return as_int(value, dotted, minimum=1, maximum=MAX_COUNT)
    if kind == "cap":
        return None if value is None else as_int(value, dotted, minimum=1)
    if kind == "positive":
        return as_float(value, dotted, low=0.0, low_open=True)
    if kind == "positive_or_null":
        return None if value is None else as_float(value, dotted, 0.0, low_open=True)
    if kind == "unit_open":
        return as_float(value, dotted, 0.0, 1.0, low_open=True, high_open=True)
    if kind == "stress_scalar":
        return as_choice(value, dotted, STRESS_SCALARS)
    raise ValueError(f"{dotted}: unknown kind of setting {kind!r}")


def method_settings(params: dict[str, Any], name: str) -> Settings | None:
    """The validated ``methods.<name>`` settings (None for the untrained stress metrics)."""
    check_method_names(params)
    entry = method_spec(name)
    if entry.settings is None:
        return None
    methods = params.get("methods")
    if not isinstance(methods, dict):
        raise InputError("params: section 'methods' is missing or is not a mapping")
    keys = fields(entry.settings)
    raw = section(methods, name, {key.name for key in keys}, f"methods.{name}")
    return entry.settings(**{
        key.name: _setting(key.metadata["kind"], require(raw, f"methods.{name}", key.name),
                           f"methods.{name}.{key.name}")
        for key in keys
    })


@dataclass(frozen=True)
class LearningCurveParams:
    """``learning_curve.*``: which methods, how many shares, from how small a share, and
    the network's fixed training length along a curve."""

    methods: tuple[str, ...]
    points: int
    min_share: float
    steps_per_epoch: int | None
    test_auc_negatives: int | None = None  # None: every test cell

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LearningCurveParams:
        check_method_names(params)
        raw = section(params, "learning_curve",
                      {"methods", "points", "min_share", "steps_per_epoch",
                       "test_auc_negatives"})
        methods = require(raw, "learning_curve", "methods")
        if not isinstance(methods, list) or not methods:
            raise InputError("params: 'learning_curve.methods' must be a non-empty list")
        unknown = [m for m in methods if m not in fitted_names()]
        if unknown:
            raise InputError(f"params: 'learning_curve.methods' has unknown or untrained "
                             f"method(s) {unknown}; expected some of "
                             f"{', '.join(registry.FITTED)}")
        steps = raw.get("steps_per_epoch")
        return cls(
            methods=tuple(methods),
            points=as_int(require(raw, "learning_curve", "points"), "learning_curve.points", 2),
            min_share=as_float(require(raw, "learning_curve", "min_share"),
                               "learning_curve.min_share", 0.0, 1.0, low_open=True,
                               high_open=True),
            steps_per_epoch=None if steps is None else as_int(
                steps, "learning_curve.steps_per_epoch", 1),
            test_auc_negatives=negatives_cap(raw, "learning_curve", "test_auc_negatives"),
        )


@dataclass(frozen=True)
class LeakageParams:
    """``leakage.*``: which methods the matched-test-set experiment fits, how many size
    controls it averages, and how many negative test cells it scores."""

    methods: tuple[str, ...]
    control_draws: int
    test_auc_negatives: int | None = None  # None: every test cell

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LeakageParams:
        check_method_names(params)
        raw = section(params, "leakage", {"methods", "control_draws", "test_auc_negatives"})
        methods = require(raw, "leakage", "methods")
        if not isinstance(methods, list) or not methods:
            raise InputError(f"params: 'leakage.methods' must be a non-empty list of methods, "
                             f"got {methods!r}")
        unknown = [m for m in methods if m not in registry.ALL_METHODS]
        if unknown:
            raise InputError(f"params: 'leakage.methods' has unknown method(s) {unknown}; "
                             f"expected some of {', '.join(registry.ALL_METHODS)}")
        return cls(
            methods=tuple(methods),
            control_draws=as_int(require(raw, "leakage", "control_draws"),
                                 "leakage.control_draws", minimum=1),
            test_auc_negatives=negatives_cap(raw, "leakage", "test_auc_negatives"),
        )


@dataclass(frozen=True)
class StatsParams:
    """``stats.*``: bootstrap size, permutations, whose per-slip-model test to repeat, seed,
    the significance level of the verdicts and the smallest effect of interest (AUC)."""

    bootstrap_replicates: int
    permutations: int
    permutation_method: str
    seed: int
    alpha: float
    smallest_effect: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StatsParams:
        check_method_names(params)
        raw = section(params, "stats", {"bootstrap_replicates", "permutations",
                                        "permutation_method", "seed", "alpha",
                                        "smallest_effect"})
        method = as_str(require(raw, "stats", "permutation_method"), "stats.permutation_method")
        if method not in registry.ALL_METHODS:
            raise InputError(f"params: 'stats.permutation_method' must name a method, "
                             f"got {method!r}")
        return cls(
            bootstrap_replicates=as_int(require(raw, "stats", "bootstrap_replicates"),
                                        "stats.bootstrap_replicates", minimum=100),
            permutations=as_int(require(raw, "stats", "permutations"), "stats.permutations",
                                minimum=100),
            permutation_method=method,
            seed=as_int(require(raw, "stats", "seed"), "stats.seed", minimum=0),
            alpha=as_float(require(raw, "stats", "alpha"), "stats.alpha", 0.0, 0.5,
                           low_open=True),
            smallest_effect=as_float(require(raw, "stats", "smallest_effect"),
                                     "stats.smallest_effect", 0.0, 0.5, low_open=True),
        )
