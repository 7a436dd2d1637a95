"""Typed, validated view of ``params.yaml``: each stage reads only the sections it declares.

Every problem is reported as an :class:`InputError` naming the dotted parameter
(``demo.size``, ``data.source``...) and what was expected, before any work starts.

This module knows no method: the sections that name methods (``methods.<name>``,
``learning_curve``, ``leakage``, ``stats``) are read by ``methods.params``, next to the
registry, so that adding a method or changing one leaves the data stages (acquire,
features, events, split) up to date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .errors import InputError

DATA_SOURCES = ("demo", "devries2018", "local", "srcmod")
PROJECTIONS = ("original", "corrected")  # data.projection, for srcmod (data/projection.py)
DEMO_SIZES = ("small", "full")
LEAKY_UNITS = ("event", "slip_model")
GROUPED_UNITS = ("physical", "sequence", "spatiotemporal")
COMPUTE_BACKENDS = ("loky", "dask")
# the top-level keys of params.yaml: ``seeds``, the ``untrained`` stage list, and the sections
# sanity bounds on values that cannot be meant (the published data: 199 slip models; the
# study's experiments: 10 splits)
MAX_SEEDS = 1_000
MAX_DEMO_SLIP_MODELS = 10_000
TOP_LEVEL_KEYS = ("seeds", "untrained", "data", "demo", "features", "split", "compute",
                  "evaluate", "methods", "learning_curve", "leakage", "stats", "letter")
# sections that say where and how fast the work runs, never what it computes: no stage lists
# them as DVC params, and the letter's provenance (printed params, attached params.yaml,
# sources digest) leaves them out, so changing one reruns nothing
SPEED_ONLY_SECTIONS = ("compute",)


def valid_url(text: str) -> bool:
    """An http(s) URL with a host name and no whitespace (urllib accepts 'http://exa mple')."""
    parts = urlsplit(text)
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and not any(c.isspace() for c in text))


class DuplicateKeyError(yaml.YAMLError):
    """A mapping key given twice (``UniqueKeyLoader``)."""

    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"the key {key!r} appears twice (again on line {line})")


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the
    last silently; DVC refuses the file, so a stage run directly must too)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read the params file as a mapping; a missing or malformed file is an InputError."""
    params_path = Path(path)
    if not params_path.is_file():
        raise InputError(f"{params_path}: params file not found (run from the project root)")
    try:
        text = params_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{params_path}: not UTF-8 text (byte {error.start} is "
                         f"0x{error.object[error.start]:02x}); save it as UTF-8") from error
    try:
        loaded = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no object tags
    except DuplicateKeyError as error:
        raise InputError(f"{params_path}: {error}; give each key once") from error
    except yaml.YAMLError as error:
        raise InputError(f"{params_path}: not valid YAML: {error}") from error
    if not isinstance(loaded, dict):
        raise InputError(f"{params_path}: expected a mapping of sections at the top level")
    check_known_keys(loaded)
    return loaded


def reject_unknown(keys: Iterable[Any], allowed: Iterable[str], dotted: str = "") -> None:
    """Raise naming every key not in ``allowed``, with the valid ones (``dotted`` is the
    enclosing section, e.g. 'methods.svm'; empty at the top level)."""
    prefix = f"{dotted}." if dotted else ""
    unknown = sorted(set(keys) - set(allowed), key=str)
    if unknown:
        raise InputError(
            f"params: unknown key(s) {', '.join(f'{prefix}{key}' for key in unknown)}; "
            f"expected some of {', '.join(f'{prefix}{key}' for key in sorted(allowed))}"
        )


def check_known_keys(params: dict[str, Any]) -> None:
    """Reject unknown top-level keys, which no stage reads, so a typo (``seed: 10``) would
    silently change nothing. Each section's own keys are checked by the stage that reads it
    (``section``); unknown methods under ``methods`` (``methods.randomforest``) by every
    stage that reads method settings (``methods.params.check_method_names``)."""
    reject_unknown(params, TOP_LEVEL_KEYS)


def results_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without the speed-only sections: the settings the results depend on."""
    return {key: value for key, value in params.items() if key not in SPEED_ONLY_SECTIONS}


def section(
    params: dict[str, Any], name: str, allowed: set[str], dotted: str | None = None,
) -> dict[str, Any]:
    """Return the mapping ``params[name]``, rejecting unknown keys by their dotted name
    (``dotted`` is the section's full name when it is nested, e.g. 'methods.svm')."""
    dotted = dotted or name
    value = params.get(name)
    if not isinstance(value, dict):
        raise InputError(f"params: section '{dotted}' is missing or is not a mapping")
    reject_unknown(value, allowed, dotted)
    return value


def require(mapping: dict[str, Any], section_name: str, key: str) -> Any:
    """Fetch a required key, naming it when absent."""
    if key not in mapping:
        raise InputError(f"params: '{section_name}.{key}' is missing")
    return mapping[key]


def as_int(value: Any, name: str, minimum: int | None = None,
           maximum: int | None = None) -> int:
    """Validate an integer parameter (booleans are not integers here); ``maximum`` is a
    sanity bound on values that cannot be meant (the message says so)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"params: '{name}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InputError(f"params: '{name}' must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"params: '{name}' must be <= {maximum:,} (a sanity bound: {value:,} "
                         f"would run for days or exhaust memory), got {value}")
    return value


def as_float(
    value: Any, name: str, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False,
) -> float:
    """Validate a finite real parameter within an optional interval."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"params: '{name}' must be a finite number, got {value!r}")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lower = "-inf" if low is None else low
        upper = "inf" if high is None else high
        interval = f"{left}{lower}, {upper}{right}"
        raise InputError(f"params: '{name}' must lie in {interval}, got {value!r}")
    return number


def as_str(value: Any, name: str) -> str:
    """Validate a string parameter."""
    if not isinstance(value, str):
        raise InputError(f"params: '{name}' must be a string, got {value!r}")
    return value


def as_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Validate a string parameter that must be one of ``choices``."""
    text = as_str(value, name)
    if text not in choices:
        raise InputError(f"params: '{name}' must be one of {', '.join(choices)}, got {text!r}")
    return text


@dataclass(frozen=True)
class DataParams:
    """``data.*``: where the original layout comes from."""

    source: str
    path: Path
    mirror: str
    drive_folder: str
    projection: str = "original"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DataParams:
        raw = section(params, "data", {"source", "path", "mirror", "drive_folder",
                                       "projection"})
        source = as_choice(require(raw, "data", "source"), "data.source", DATA_SOURCES)
        mirror = as_str(raw.get("mirror") or "", "data.mirror")
        if mirror and not valid_url(mirror):
            raise InputError(f"params: 'data.mirror' must be an http(s) URL with a host and "
                             f"no spaces, e.g. https://example.org/devries2018, got {mirror!r}")
        return cls(
            source=source,
            path=Path(as_str(require(raw, "data", "path"), "data.path")),
            mirror=mirror.rstrip("/"),
            drive_folder=as_str(require(raw, "data", "drive_folder"), "data.drive_folder"),
            projection=as_choice(raw.get("projection", "original"), "data.projection",
                                 PROJECTIONS),
        )


MAX_STRENGTH = 50.0  # the demo's label components, in logit units


@dataclass(frozen=True)
class DemoParams:
    """``demo.*``: the synthetic data generator's settings."""

    seed: int
    size: str | int
    leakage: float
    sequence_share: float
    positive_rate: float
    transferable: float = 0.0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DemoParams:
        raw = section(
            params, "demo",
            {"seed", "size", "leakage", "sequence_share", "positive_rate", "transferable"},
        )
        size = require(raw, "demo", "size")
        if isinstance(size, str):
            if size not in DEMO_SIZES:
                raise InputError(
                    f"params: 'demo.size' must be 'small', 'full' or a positive number of slip "
                    f"models, got {size!r}"
                )
        elif isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise InputError(
                f"params: 'demo.size' must be 'small', 'full' or a positive number of slip "
                f"models, got {size!r}"
            )
        else:
            as_int(size, "demo.size", minimum=1, maximum=MAX_DEMO_SLIP_MODELS)
        return cls(
            seed=as_int(require(raw, "demo", "seed"), "demo.seed", minimum=0),
            size=size,
            # strengths on the logit scale: beyond ~50 the labels are deterministic
            leakage=as_float(require(raw, "demo", "leakage"), "demo.leakage", 0.0,
                             MAX_STRENGTH),
            sequence_share=as_float(
                require(raw, "demo", "sequence_share"), "demo.sequence_share", 0.0, 1.0
            ),
            positive_rate=as_float(
                require(raw, "demo", "positive_rate"), "demo.positive_rate", 0.0, 0.5,
                low_open=True, high_open=True,
            ),
            transferable=as_float(require(raw, "demo", "transferable"), "demo.transferable",
                                  0.0, MAX_STRENGTH),
        )


@dataclass(frozen=True)
class FeatureParams:
    """``features.*``: how the feature table cross-checks given stress metrics."""

    crosscheck_rtol: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FeatureParams:
        raw = section(params, "features", {"crosscheck_rtol"})
        return cls(
            crosscheck_rtol=as_float(
                require(raw, "features", "crosscheck_rtol"), "features.crosscheck_rtol",
                low=0.0, low_open=True,
            )
        )


@dataclass(frozen=True)
class SplitParams:
    """``split.*`` and the top-level ``seeds``."""

    seeds: int
    test_size: float
    leaky_by: str
    grouped_by: str
    cluster_km: float
    cluster_days: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SplitParams:
        raw = section(params, "split",
                      {"test_size", "leaky_by", "grouped_by", "cluster_km", "cluster_days"})
        leaky_by = as_choice(require(raw, "split", "leaky_by"), "split.leaky_by", LEAKY_UNITS)
        grouped_by = as_choice(require(raw, "split", "grouped_by"), "split.grouped_by",
                               GROUPED_UNITS)
        return cls(
            seeds=as_int(params.get("seeds"), "seeds", minimum=1, maximum=MAX_SEEDS),
            test_size=as_float(require(raw, "split", "test_size"), "split.test_size", 0.0, 1.0,
                               low_open=True, high_open=True),
            leaky_by=leaky_by,
            grouped_by=grouped_by,
            cluster_km=as_float(require(raw, "split", "cluster_km"), "split.cluster_km", low=0.0),
            cluster_days=as_float(require(raw, "split", "cluster_days"), "split.cluster_days",
                                  low=0.0),
        )


@dataclass(frozen=True)
class ComputeParams:
    """``compute.*``: where independent tasks (partitions, curve points) run. It changes
    where the work runs, never the results, so no stage lists it as a DVC param. Without
    the section, every core of this machine (the params.yaml a letter attaches has none)."""

    backend: str
    n_jobs: int
    scheduler: str | None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ComputeParams:
        if "compute" not in params:
            return cls(backend="loky", n_jobs=-1, scheduler=None)
        raw = section(params, "compute", {"backend", "n_jobs", "scheduler"})
        backend = as_choice(require(raw, "compute", "backend"), "compute.backend",
                            COMPUTE_BACKENDS)
        n_jobs = require(raw, "compute", "n_jobs")
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 \
                or n_jobs < -1:
            raise InputError(f"params: 'compute.n_jobs' must be a positive number of "
                             f"workers or -1 (all cores), got {n_jobs!r}")
        scheduler = raw.get("scheduler")
        if scheduler is not None:
            scheduler = as_str(scheduler, "compute.scheduler")
        if backend == "dask" and not scheduler:
            raise InputError("params: compute.backend=dask needs 'compute.scheduler', the "
                             "address of a running Dask scheduler (e.g. tcp://host:8786)")
        return cls(backend=backend, n_jobs=n_jobs, scheduler=scheduler)


def negatives_cap(raw: dict[str, Any], section_name: str, key: str) -> int | None:
    """A cap on the negative cells an AUC is estimated on (``auc.auc_sample``); None = all."""
    value = require(raw, section_name, key)
    return None if value is None else as_int(value, f"{section_name}.{key}", minimum=1)


@dataclass(frozen=True)
class EvaluateParams:
    """``evaluate.*``: how the training-cell AUC is computed."""

    train_auc_negatives: int | None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EvaluateParams:
        raw = section(params, "evaluate", {"train_auc_negatives"})
        return cls(train_auc_negatives=negatives_cap(raw, "evaluate", "train_auc_negatives"))

