"""The statistics stage's tables as the documents print them: each row's numbers
formatted, its verdict looked up (never decided here), the AUC points per scheme, and the
letter's Table 1 built from them."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import InputError
from ..methods import CONTROLS
from ..names import SCHEMES, VERDICTS
from . import formatting as fmt
from .inputs import Inputs, dig, label, order_methods, prose
from .method_table import FOCUS

log = logging.getLogger(__name__)

SCHEME_LEGEND = {
    "paper": "paper\u2019s split",
    "leaky": "leaky: random by earthquake",
    "grouped": "grouped: random by sequence",
}
SCHEME_LABELS = {
    "paper": "paper's split",
    "leaky": "random splits by earthquake (leaky)",
    "grouped": "random splits by sequence (grouped)",
}


def verdict(row: dict[str, Any], source: str) -> str:
    """The statistics stage's verdict on one comparison: 'higher' or 'lower' (significant
    after Holm), 'equivalent' (within the smallest effect of interest), 'undecided'
    (neither) or 'untested'."""
    found = dig(row, ["verdict"], source)
    if found not in VERDICTS:
        raise InputError(f"{source}: unknown verdict {found!r}; expected one of "
                         f"{', '.join(VERDICTS)} (rerun the stage that writes it)")
    return str(found)


def format_row(row: dict[str, Any], source: str) -> dict[str, Any]:
    method = str(row.get("method"))
    without = row.get("without_failed_fits")
    found = verdict(row, source)
    return {
        # the same test without the splits whose fit failed (None: the stats hold none)
        "without": None if not without else {
            **format_row({**without, "method": method}, source),
            "excluded": len(without.get("excluded_seeds") or []),
            "splits": len(without.get("per_seed") or [])},
        "method": method,
        "label": label(method),
        "prose": prose(method),
        "comparison": str(row.get("comparison", "")),
        "estimate": fmt.diff(row.get("estimate")),
        # beside a Holm-adjusted p: the simultaneous interval compatible with it
        "ci": fmt.simultaneous_interval(row.get("ci_simultaneous"),
                                        found in ("higher", "lower")),
        "statistic": fmt.statistic(row.get("statistic")),
        "df": fmt.dof(row.get("df")),
        "p": fmt.p_cell(row.get("p_value")),
        "p_holm": fmt.p_cell(row.get("p_holm")),
        "p_holm_text": fmt.p_value(row.get("p_holm")),
        "verdict": found,
        "detectable": fmt.fixed(row.get("detectable_effect_80")),
        "p_equivalence": fmt.p_cell(row.get("p_equivalence_holm")),
        "p_equivalence_text": fmt.p_value(row.get("p_equivalence_holm")),
        "bound": fmt.fixed(row.get("equivalence_bound")),
        "negligible": bool(row.get("within_smallest_effect")),
        "raw_estimate": row.get("estimate"),
    }


def significance_table(table: dict[str, Any], source: str) -> dict[str, Any]:
    rows = dig(table, ["rows"], source)
    order = order_methods(str(r.get("method")) for r in rows)
    ordered = sorted(rows, key=lambda r: order.index(str(r.get("method"))))
    formatted = [format_row(r, source) for r in ordered]
    by_verdict: dict[str, list[str]] = {name: [] for name in VERDICTS}
    for row in formatted:
        by_verdict[row["verdict"]].append(row["method"])
    units = sorted({str(r.get("unit")) for r in rows if r.get("unit")})
    tests = sorted({str(r.get("test")) for r in rows if r.get("test")})
    return {
        "family": str(table.get("family", "")),
        "scheme": table.get("scheme"),
        "rows": formatted,
        "by_method": {r["method"]: r for r in formatted},
        **by_verdict,
        "units": fmt.join_words(units),
        "tests": fmt.join_words(tests),
    }


def _seed_point(summary: dict[str, Any], auc_entry: dict[str, Any] | None) -> dict[str, Any]:
    per_seed = summary.get("per_seed")
    if per_seed is None and auc_entry is not None:
        per_seed = auc_entry["pooled"].get("per_seed", [])
    return {"mean": summary.get("mean"), "sd": summary.get("sd"), "ci": summary.get("ci95"),
            "per_seed": [float(v) for v in per_seed or []]}


def scheme_points(inputs: Inputs) -> dict[str, dict[str, dict[str, Any]]]:
    """scheme -> method -> {mean, sd, ci, per_seed}; the paper column takes the event
    cluster bootstrap interval (one split: no spread over seeds)."""
    stats, source = inputs.stats, "metrics/stats.json"
    summary = stats["seed_summary"]
    bootstrap = stats["paper_split"]["bootstrap"]
    points: dict[str, dict[str, dict[str, Any]]] = {}
    for scheme in SCHEMES:
        points[scheme] = {}
        for method in inputs.methods:
            entry = inputs.auc[scheme].get(method)
            if scheme == "paper":
                mean = (summary.get("paper", {}).get(method, {}).get("mean")
                        if isinstance(summary.get("paper"), dict) else None)
                if mean is None:
                    mean = dig(inputs.auc, ["paper", method, "pooled", "mean"], "metrics/auc.json")
                boot = bootstrap.get(method)
                points[scheme][method] = {"mean": mean, "sd": None,
                                          "ci": boot.get("ci") if boot else None,
                                          "per_seed": [float(mean)]}
            else:
                point = _seed_point(dig(summary, [scheme, method], source), entry)
                points[scheme][method] = point
            reported = entry["pooled"]["mean"] if entry else None
            shown = points[scheme][method]["mean"]
            if reported is not None and shown is not None and abs(reported - shown) > 5e-7:
                log.warning("stats.json %s/%s mean AUC %.6f differs from auc.json %.6f: is "
                            "stats.json stale?", scheme, method, shown, reported)
    return points


def auc_table(inputs: Inputs, points: dict[str, dict[str, dict[str, Any]]]) -> list[dict]:
    rows = []
    for method in inputs.methods:
        entry = inputs.auc["paper"][method]
        row = {"method": method, "label": label(method), "fitted": bool(entry.get("fitted")),
               "uses_test_labels": bool(entry.get("uses_test_labels"))}
        for scheme in SCHEMES:
            point = points[scheme][method]
            row[scheme] = {
                "value": (fmt.auc(point["mean"]) if scheme == "paper"
                          else fmt.mean_sd(point["mean"], point["sd"])),
                "ci": fmt.interval(point["ci"]),
            }
        rows.append(row)
    return rows


def variants_table(inputs: Inputs) -> list[dict[str, Any]]:
    rows = []
    for method in inputs.methods:
        cells = []
        for scheme in SCHEMES:
            entry = inputs.auc[scheme].get(method, {})
            for variant in ("pooled", "per_slip_model_mean", "event_weighted"):
                cells.append(fmt.auc(entry.get(variant, {}).get("mean")))
        rows.append({"label": label(method), "cells": cells})
    return rows


def main_table(
    inputs: Inputs, auc_rows: list[dict[str, Any]], baseline: dict[str, Any],
    matched: dict[str, Any], reference: dict[str, Any],
) -> list[dict[str, Any]]:
    """The letter's Table 1: per fitted method (network first) and the reference metric,
    the AUC on the paper's split and over grouped splits, the difference from the best
    untrained stress metric and the matched leakage effect."""
    by_method = {row["method"]: row for row in auc_rows}
    leakage = {row["method"]: row for row in matched["rows"]}
    fitted = [m for m in inputs.methods if by_method[m]["fitted"] and m not in CONTROLS]
    order = ([FOCUS] if FOCUS in fitted else []) + [m for m in fitted if m != FOCUS]
    rows = []
    for method in [reference["method"], *order]:
        if method not in by_method:
            continue
        rows.append({
            "method": method, "label": by_method[method]["label"],
            "fitted": by_method[method]["fitted"],
            "paper": by_method[method]["paper"]["value"],
            "grouped": by_method[method]["grouped"]["value"],
            "versus": baseline["by_method"].get(method),
            "leakage": leakage.get(method),
        })
    return rows
