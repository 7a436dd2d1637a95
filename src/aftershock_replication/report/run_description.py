"""What was run on what, in words: the data (and, for the demo, its generator settings,
planted truth and the mark every document carries), how the partitions were drawn and
each fitted method's settings."""

from __future__ import annotations

from typing import Any

from ..methods.params import method_settings
from ..params import SplitParams
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


def data_findings(features: dict[str, Any], source: str) -> dict[str, Any]:
    """What the data are, from their own record: the source as configured (``data.source``,
    so that Methods never call a local copy or generated data "the published" grids) and
    the features stage's counts."""
    roles = features["by_paper_role"]
    return {
        "source": source,
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


def split_settings(split: SplitParams) -> dict[str, Any]:
    """How the random partitions were drawn (the templates' ``grouped_unit`` macro puts the
    grouped unit into words)."""
    return {"test_share": fmt.percent(split.test_size), "grouped_by": split.grouped_by,
            "cluster_km": fmt.number(split.cluster_km),
            "cluster_days": fmt.number(split.cluster_days)}


def method_settings_rows(params: dict[str, Any], methods: list[str]) -> list[dict[str, str]]:
    """Each fitted method's validated settings, as run (Supplementary Table 9)."""
    rows = []
    for method in methods:
        settings = method_settings(params, method)
        if settings is not None:
            text = "; ".join(f"{key} = {value}" for key, value in settings.as_dict().items())
            rows.append({"label": label(method), "settings": text or "defaults"})
    return rows
