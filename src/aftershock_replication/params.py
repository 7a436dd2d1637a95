"""Typed, validated view of ``params.yaml``: each stage reads only the sections it declares.

Every problem is reported as an :class:`InputError` naming the dotted parameter
(``demo.size``, ``data.source``...) and what was expected, before any work starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

DATA_SOURCES = ("demo", "devries2018", "local")
DEMO_SIZES = ("small", "full")


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read the params file as a mapping; a missing or malformed file is an InputError."""
    params_path = Path(path)
    if not params_path.is_file():
        raise InputError(f"{params_path}: params file not found (run from the project root)")
    try:
        loaded = yaml.safe_load(params_path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{params_path}: not valid YAML: {error}") from error
    if not isinstance(loaded, dict):
        raise InputError(f"{params_path}: expected a mapping of sections at the top level")
    return loaded


def section(params: dict[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    """Return the mapping ``params[name]``, rejecting unknown keys by their dotted name."""
    value = params.get(name)
    if not isinstance(value, dict):
        raise InputError(f"params: section '{name}' is missing or is not a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InputError(
            f"params: unknown key(s) {', '.join(f'{name}.{key}' for key in unknown)}; "
            f"expected some of {', '.join(f'{name}.{key}' for key in sorted(allowed))}"
        )
    return value


def require(mapping: dict[str, Any], section_name: str, key: str) -> Any:
    """Fetch a required key, naming it when absent."""
    if key not in mapping:
        raise InputError(f"params: '{section_name}.{key}' is missing")
    return mapping[key]


def as_int(value: Any, name: str, minimum: int | None = None) -> int:
    """Validate an integer parameter (booleans are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"params: '{name}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InputError(f"params: '{name}' must be >= {minimum}, got {value}")
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


@dataclass(frozen=True)
class DataParams:
    """``data.*``: where the original layout comes from."""

    source: str
    path: Path
    mirror: str
    drive_folder: str

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DataParams:
        raw = section(params, "data", {"source", "path", "mirror", "drive_folder"})
        source = as_str(require(raw, "data", "source"), "data.source")
        if source not in DATA_SOURCES:
            raise InputError(
                f"params: 'data.source' must be one of {', '.join(DATA_SOURCES)}, got {source!r}"
            )
        mirror = as_str(raw.get("mirror") or "", "data.mirror")
        if mirror and not mirror.startswith(("https://", "http://")):
            raise InputError(f"params: 'data.mirror' must be an http(s) URL, got {mirror!r}")
        return cls(
            source=source,
            path=Path(as_str(require(raw, "data", "path"), "data.path")),
            mirror=mirror.rstrip("/"),
            drive_folder=as_str(require(raw, "data", "drive_folder"), "data.drive_folder"),
        )


@dataclass(frozen=True)
class DemoParams:
    """``demo.*``: the synthetic data generator's settings."""

    seed: int
    size: str | int
    leakage: float
    sequence_share: float
    positive_rate: float

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DemoParams:
        raw = section(
            params, "demo", {"seed", "size", "leakage", "sequence_share", "positive_rate"}
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
        return cls(
            seed=as_int(require(raw, "demo", "seed"), "demo.seed", minimum=0),
            size=size,
            leakage=as_float(require(raw, "demo", "leakage"), "demo.leakage", low=0.0),
            sequence_share=as_float(
                require(raw, "demo", "sequence_share"), "demo.sequence_share", 0.0, 1.0
            ),
            positive_rate=as_float(
                require(raw, "demo", "positive_rate"), "demo.positive_rate", 0.0, 0.5,
                low_open=True, high_open=True,
            ),
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
