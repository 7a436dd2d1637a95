"""The method registry: it finds the methods in this package's modules, each declared once,
on its own class.

A method is a class derived from ``base.Method`` that declares, as class attributes, what
the registry reads: ``name``, ``role`` in the comparisons (below), ``order`` (its place in
every list of methods; ``_every_method`` says why it is declared) and, for a fitted
method, ``settings_class``: a typed settings dataclass (``Settings`` with ``setting``
fields, next to the class) whose defaults are the package's (``params.yaml`` ships the
same values, and a test keeps them equal; ``methods.params`` reads and validates them). A
fitted method has a module of its own named after it, ``methods/<name>.py`` (its DVC
stages depend on that file); the untrained stress metrics live together in
``untrained.py``; ``base.py`` and ``params.py`` hold no method. How a method is shown
(label, name in running text, colour) is the report's, in ``report/method_table.py``. To
add a method: write its module, add its section to ``params.yaml`` (``methods.<name>``, or
its name in ``untrained``) and its row to ``report/method_table.py``; ``dvc.yaml`` takes
its stage lists from ``params.yaml``.

Loading is lazy, so that a stage imports (and its DVC stage depends on) only the method
modules it uses. ``spec`` and ``create`` import the module of the method asked for and no
other, and the names of the fitted methods are their modules' (a directory listing, no
import: ``fitted_names``), so a stage that runs one method loads one method module. What
needs every method (``REGISTRY``, ``METHODS``, ``ALL_METHODS`` and the lists by role)
imports every method module on first use: the stages that compare methods depend on the
whole directory. Method modules therefore import scikit-learn, pyGAM and Keras inside the
functions that use them, not at their top (a test holds the registry free of them).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, fields
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import InputError

# Roles in the comparisons.
STRESS_METRIC = "stress metric"  # untrained; eligible as the reference of the comparisons
PEEKS_AT_TEST_LABELS = "the original's procedure, which chooses with the test labels"
NEGATIVE_CONTROL = "negative control"  # fitted, but a monotone transform of a stress metric
FITTED_METHOD = "fitted method"

NOT_METHODS = ("base", "params")  # the modules of this package that hold no method
UNTRAINED_MODULE = "untrained"  # the untrained stress metrics, several to the module

# What needs every method's declaration, computed by importing every method module on first
# use (the module's ``__getattr__``).
EVERY_METHOD = ("REGISTRY", "METHODS", "ALL_METHODS", "UNTRAINED", "FITTED", "STRESS_METRICS",
                "COMPETITORS", "CONTROLS")
if TYPE_CHECKING:
    REGISTRY: tuple[MethodSpec, ...]
    METHODS: dict[str, MethodSpec]
    ALL_METHODS: tuple[str, ...]
    UNTRAINED: tuple[str, ...]
    FITTED: tuple[str, ...]
    STRESS_METRICS: tuple[str, ...]
    COMPETITORS: tuple[str, ...]
    CONTROLS: tuple[str, ...]


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
class MethodSpec:
    """One method, as its class declares it: where the class lives and how it takes part."""

    name: str
    module: str  # module under methods/ holding ``cls``
    cls: str
    role: str
    order: int  # its place in the registry's order
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


@cache
def fitted_names() -> frozenset[str]:
    """The names of the fitted methods: those of their modules (a directory listing;
    nothing is imported), for checking a name without loading every method."""
    return frozenset(module.name for module in pkgutil.iter_modules(__path__)
                     if module.name not in (*NOT_METHODS, UNTRAINED_MODULE))


@cache
def declared(module: str) -> dict[str, MethodSpec]:
    """The methods that ``methods/<module>.py`` declares (imports that module only): its
    classes derived from ``base.Method`` that set a ``name`` of their own."""
    from .base import Method

    loaded = importlib.import_module(f".{module}", __package__)
    found = {cls.name: MethodSpec(cls.name, module, cls.__name__, cls.role, cls.order,
                                  cls.settings_class)
             for cls in vars(loaded).values()
             if isinstance(cls, type) and issubclass(cls, Method)
             and cls.__module__ == loaded.__name__ and "name" in vars(cls)}
    if module == UNTRAINED_MODULE:
        as_expected = not any(entry.fitted for entry in found.values())
    else:
        as_expected = list(found) == [module] and found[module].fitted
    if not as_expected:  # a mistake in the package, not in the input
        raise TypeError(f"methods/{module}.py declares {sorted(found)}: a fitted method has a "
                        f"module of its own, named after it, whose class sets name = "
                        f"{module!r} and a settings_class; the untrained ones are in "
                        f"{UNTRAINED_MODULE}.py")
    return found


def _module_of(name: str) -> str:
    return name if name in fitted_names() else UNTRAINED_MODULE


@cache
def _every_method() -> dict[str, Any]:
    """``EVERY_METHOD`` by name: every method module imported, the methods in their
    declared ``order``. The order is declared, not taken from file names or from the
    params a run is given, so that a user's params.yaml listing methods in another order
    (or leaving some out) does not reorder tables, figures and comparisons; params.yaml
    and the report's table list the methods in this order (tests check)."""
    specs = [entry for module in (UNTRAINED_MODULE, *sorted(fitted_names()))
             for entry in declared(module).values()]
    registry = tuple(sorted(specs, key=lambda entry: entry.order))
    orders = {entry.name: entry.order for entry in registry}
    if len(set(orders.values())) < len(orders):
        raise TypeError(f"two methods declare the same order: {orders}")
    return {
        "REGISTRY": registry,
        "METHODS": {entry.name: entry for entry in registry},
        "ALL_METHODS": tuple(entry.name for entry in registry),
        "UNTRAINED": tuple(entry.name for entry in registry if not entry.fitted),
        "FITTED": tuple(entry.name for entry in registry if entry.fitted),
        "STRESS_METRICS": tuple(entry.name for entry in registry
                                if entry.role == STRESS_METRIC),
        # the fitted methods compared with each other and the stress metrics (Holm families);
        # the negative control is tested in a family of its own
        "COMPETITORS": tuple(entry.name for entry in registry if entry.role == FITTED_METHOD),
        "CONTROLS": tuple(entry.name for entry in registry if entry.role == NEGATIVE_CONTROL),
    }


def __getattr__(name: str) -> Any:
    """``REGISTRY``, ``ALL_METHODS`` and the other lists of ``EVERY_METHOD``, on first use."""
    if name not in EVERY_METHOD:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _every_method()[name]


def spec(name: str) -> MethodSpec:
    """The registry entry of a method (imports its module only); an unknown name is an
    InputError listing the known."""
    entry = declared(_module_of(name)).get(name)
    if entry is None:
        raise InputError(f"unknown method {name!r}; expected one of "
                         f"{', '.join(_every_method()['ALL_METHODS'])}")
    return entry


def create(name: str, settings: Settings | None = None) -> Any:
    """A fresh, unfitted method by name (with its declared default settings if None)."""
    entry = spec(name)
    cls = getattr(importlib.import_module(f".{entry.module}", __package__), entry.cls)
    if entry.settings is not None and settings is None:
        settings = entry.settings()
    return cls(settings)
