"""What was run on what, in words: the data (and, for the demo, its generator settings,
planted truth and the mark every document carries), how the partitions were drawn and
each fitted method's settings."""

from __future__ import annotations

from typing import Any

from . import formatting as fmt
from .inputs import label

DEMO_MARK = "synthetic demonstration data — not the published dataset"


def demo_description(features: dict[str, Any]) -> dict[str, Any] | None:
    """The demo's generator settings and its planted truth, for the box on every document
    (None for real data)."""
    demo = features.get("demo")
    if not demo:
        return None
    leakage, transferable = demo.get("leakage"), demo.get("transferable", 0.0)
    truth = demo.get("truth") or {}
    return {
        "seed": fmt.number(demo.get("seed")),
        "size": fmt.number(demo.get("size")),
        "leakage": fmt.number(leakage),
        "transferable": fmt.number(transferable),
        "sequence_share": fmt.number(demo.get("sequence_share")),
        "positive_rate": fmt.number(demo.get("positive_rate")),
        "slip_models": fmt.integer(demo.get("slip_models")),
        "earthquakes": fmt.integer(demo.get("earthquakes")),
        "sequences": fmt.integer(demo.get("sequences")),
        "multi_earthquake_sequences": fmt.integer(demo.get("multi_earthquake_sequences")),
        "cells": fmt.integer(demo.get("cells")),
        "buffer_km": fmt.number(demo.get("buffer_km")),
        "no_leakage": leakage is not None and float(leakage) == 0.0,
        "no_transferable": transferable is not None and float(transferable) == 0.0,
        "has_truth": bool(truth),
        "oracle_auc": fmt.auc(truth.get("oracle_auc")),
        "transferable_gain": fmt.fixed(truth.get("transferable_gain")),
        "sequence_gain": fmt.fixed(truth.get("sequence_gain")),
    }


def data_findings(features: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What the data are, from their own record: the source as configured (``data.source``,
    so that Methods never call a local copy or generated data "the published" grids) and
    the features stage's counts."""
    roles = features["by_paper_role"]
    return {
        "source": str((params.get("data") or {}).get("source", "unknown")),
        "slip_models": fmt.integer(features.get("slip_models")),
        "events": fmt.integer(features.get("events")),
        "sequences": fmt.integer(features.get("sequences")),
        "rows": fmt.integer(features.get("rows")),
        "positive_share": fmt.percent(features.get("positive_share")),
        "train_models": fmt.integer(roles.get("train", {}).get("slip_models")),
        "test_models": fmt.integer(roles.get("test", {}).get("slip_models")),
        "train_rows": fmt.integer(roles.get("train", {}).get("rows")),
        "test_rows": fmt.integer(roles.get("test", {}).get("rows")),
        "skipped": len(features.get("skipped_slip_models") or []),
    }


def split_settings(params: dict[str, Any]) -> dict[str, Any]:
    """How the random partitions were drawn, in words."""
    split = params.get("split") if isinstance(params.get("split"), dict) else {}
    grouped = str(split.get("grouped_by", "sequence"))
    return {
        "test_share": fmt.percent(float(split.get("test_size", 0.2))),
        "grouped_unit": (
            "region-year sequences (the first 10 characters)" if grouped == "sequence" else
            "physical sequences (name prefixes joined by shared origin times, a reviewed "
            "link table of published earthquakes whose aftershock zones overlap within "
            f"{split.get('cluster_days')} days and, where epicentres are known, "
            "spatio-temporal clusters)" if grouped == "physical" else
            f"spatio-temporal clusters (earthquakes whose epicentres lie within "
            f"{split.get('cluster_km')} km and origin times within "
            f"{split.get('cluster_days')} days, transitively)"),
    }


def method_settings(params: dict[str, Any], methods: list[str]) -> list[dict[str, str]]:
    """Each fitted method's settings from params.yaml, as run (Supplementary Table 9)."""
    configured = params.get("methods") if isinstance(params.get("methods"), dict) else {}
    rows = []
    for method in methods:
        settings = configured.get(method)
        if isinstance(settings, dict):
            text = "; ".join(f"{key} = {value}" for key, value in settings.items())
            rows.append({"label": label(method), "settings": text or "defaults"})
    return rows
