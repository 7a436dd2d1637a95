"""What the letter says about leakage: the audit of what straddles the paper's split, the
leakage term of the leaky-minus-grouped decomposition, and the matched-test-set experiment
(its effect per method, the paper's split beside it, the size controls and future arm)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..groups import GROUP_KINDS
from ..methods import CONTROLS
from . import formatting as fmt
from .inputs import Inputs, dig, label, order_methods, prose
from .method_table import FOCUS
from .operating import bootstrap_coverage
from .sampled_cells import matched_cells
from .tables import format_row, significance_table


def audit_findings(inputs: Inputs) -> dict[str, Any]:
    """What straddles the paper's split: earthquakes, and sequences at the level the grouped
    partitions use (physical sequences where the split stage formed them, else name
    prefixes), with the name-prefix audit beside it as a sensitivity analysis."""
    paper = inputs.audit["paper"]["paper"]
    level = inputs.grouped_by if inputs.grouped_by in paper else "sequence"

    def straddling(at: str) -> list[dict[str, Any]]:
        return [{"group": group["group"],
                 "train": ", ".join(group.get("train_slip_models", [])),
                 "test": ", ".join(group.get("test_slip_models", [])),
                 "share": fmt.percent(group.get("test_row_share"))}
                for group in sorted(paper.get(at, []), key=lambda g: g["group"])]
    sequences = straddling(level)
    by_prefix = straddling("sequence")
    share = sum(float(g.get("test_row_share") or 0.0) for g in paper.get(level, []))
    events = sorted(g["group"] for g in paper.get("event", []))
    spatiotemporal = sorted(g["group"] for g in paper.get("spatiotemporal", []))

    def mean_count(scheme: str, level: str) -> str | None:
        partitions = inputs.audit.get(scheme, {})
        counts = [len(levels.get(level, [])) for levels in partitions.values()]
        if not counts:
            return None
        return "none" if not any(counts) else fmt.fixed(sum(counts) / len(counts), 1)

    return {
        "level": level,
        "kind": GROUP_KINDS[level],
        "by_prefix": by_prefix,
        "by_prefix_names": fmt.join_words([s["group"] for s in by_prefix]),
        "events": events,
        "events_text": fmt.join_words(events),
        "sequences": sequences,
        "sequence_names": fmt.join_words([s["group"] for s in sequences]),
        "sequence_share": fmt.percent(share),
        "spatiotemporal": len(spatiotemporal),
        "spatiotemporal_known": "spatiotemporal" in paper,
        "spatiotemporal_missing": inputs.clusters_missing_because,
        "leaky_sequences": mean_count("leaky", level),
        "grouped_sequences": mean_count("grouped", level),
        "grouped_spatiotemporal": mean_count("grouped", "spatiotemporal"),
    }


def decomposition_findings(inputs: Inputs) -> dict[str, Any]:
    decomposition = inputs.stats["decomposition"]
    leak = significance_table(inputs.stats["tables"]["leakage_term"], "metrics/stats.json")
    fitted = {m for m in inputs.methods if inputs.auc["paper"][m].get("fitted")}
    rows = []
    # untrained metrics cannot leak: the decomposition is about the fitted competitors (the
    # negative control is reported with its own tests, ``control_findings``)
    for method in order_methods(m for m in decomposition if m in fitted and m not in CONTROLS):
        entry = decomposition[method]
        total = entry.get("paper_minus_grouped")
        composition = entry.get("reference_paper_minus_grouped")
        term = leak["by_method"].get(method)
        share = None
        if total is not None and composition is not None and total > 0 and composition > 0:
            share = min(composition / total, 1.0)
        rows.append({
            "method": method,
            "label": label(method),
            "prose": prose(method),
            "total": fmt.diff(total),
            "composition": fmt.diff(composition),
            "leakage": fmt.diff(entry.get("leakage_term")),
            "ci": term["ci"] if term else fmt.MISSING,
            "p_holm": term["p_holm"] if term else fmt.MISSING,
            "p_holm_text": term["p_holm_text"] if term else fmt.p_value(None),
            "verdict": term["verdict"] if term else "untested",
            "detectable": term["detectable"] if term else fmt.MISSING,
            "p_equivalence_text": term["p_equivalence_text"] if term else fmt.p_value(None),
            "bound": term["bound"] if term else fmt.MISSING,
            "negligible": bool(term and term["negligible"]),
            "share": fmt.percent(share, 0) if share is not None else None,
            "drops": total is not None and total > 0,
            "composition_drops": composition is not None and composition > 0,
            "raw_total": total,
        })
    focus = next((r for r in rows if r["method"] == FOCUS), rows[0] if rows else None)
    return {"rows": rows, "focus": focus, "table": leak,
            "leaking": [prose(m) for m in leak["higher"]],
            "negative": [prose(m) for m in leak["lower"]]}


def _paper_arm(paper: dict[str, Any] | None, inputs: Inputs) -> dict[str, Any] | None:
    """The paper's split in the matched experiment, one split and so without intervals:
    the effect on all, exposed and unexposed test cells, the exposed-minus-unexposed
    contrasts (all neighbours; later neighbours) and the earthquakes they rest on; or why
    it was not measured."""
    if paper is None:
        return None
    if not paper.get("measured"):
        return {"measured": False, "reason": str(paper.get("reason") or "")}
    counts = paper.get("earthquakes") or {}
    return {"measured": True, "exposed_events": len(paper.get("exposed_events") or []),
            **{subset: {"estimate": fmt.diff(paper[subset].get("estimate")),
                        "earthquakes": fmt.integer(counts.get(subset))}
               for subset in ("all", "exposed", "unexposed")},
            "contrast": fmt.diff(paper.get("contrast")),
            "later_contrast": fmt.diff(paper.get("later_contrast")),
            "later_exposed": int(counts.get("later_exposed") or 0),
            # what an interval over its exposed earthquakes would cover (why none is shown)
            "coverage": bootstrap_coverage(inputs, counts.get("exposed"))["coverage"]}


def future_arm(entry: dict[str, Any] | None) -> dict[str, Any]:
    """A contrast of the future-only arm over the splits: estimate, corrected 95 % CI,
    splits and earthquakes (dashes and zeros without the arm)."""
    entry = entry or {}
    return {"estimate": fmt.diff(entry.get("estimate")), "ci": fmt.interval(entry.get("ci")),
            "partitions": int(entry.get("partitions") or 0),
            "earthquakes": int(entry.get("earthquakes") or 0)}


def size_control_draws(summary: dict[str, Any]) -> dict[str, Any]:
    """The size-control draws of the measured partitions (each drawn once per partition,
    whatever the method): how many, how many removed exactly the neighbours' cells and
    positive cells, how many trimmed cells of a slip model, and the trimmed share of the
    cells removed."""
    draws: dict[tuple[str, str, int], tuple[dict[str, Any], bool]] = {}
    for entry in summary["methods"].values():
        for scheme_name, scheme in (entry.get("partitions") or {}).items():
            for partition, record in scheme.items():
                if not record.get("measured"):
                    continue
                for index, draw in enumerate(record.get("size_controls") or []):
                    exact = (draw.get("cells") == record.get("neighbour_cells")
                             and draw.get("positives") == record.get("neighbour_positives"))
                    draws.setdefault((scheme_name, partition, index), (draw, exact))
    removed = sum(int(draw.get("cells") or 0) for draw, _ in draws.values())
    trimmed = sum(int(draw.get("trimmed_cells") or 0) for draw, _ in draws.values())
    return {"draws": len(draws), "exact": sum(exact for _, exact in draws.values()),
            "trimmed": sum(1 for draw, _ in draws.values() if draw.get("trimmed_slip_models")),
            "trimmed_share": fmt.percent(trimmed / removed if removed else None)}


def matched_leakage_findings(inputs: Inputs) -> dict[str, Any]:
    """The matched-test-set leakage effect per method (size control minus purged, same test
    cells), combined over the leaky partitions, with the paper's split beside it."""
    source = "metrics/leakage.json"
    summary = inputs.leakage
    tested = str(dig(summary, ["primary"], source))
    grouped_by = str(summary.get("grouped_by") or inputs.grouped_by)
    if grouped_by != inputs.grouped_by:
        raise InputError(f"{source}: the leakage experiment purged by {grouped_by!r} groups "
                         f"but the splits are grouped by {inputs.grouped_by!r}; rerun the "
                         "leakage stages and leakage_summary")
    primary_test = summary.get("primary_test")
    by_group = primary_test == "by_group"
    rows = []
    for method in order_methods(summary["methods"]):
        entry = summary["methods"][method]
        combined = entry["combined"]
        primary = entry[primary_test] if primary_test in ("contrast", "by_group") \
            else combined[tested]
        over_splits = combined[tested]
        exposed_only = entry.get("by_group") or {}
        rows.append({
            **format_row({**primary, "method": method}, source),
            "partitions": int(primary.get("partitions") or 0),
            "not_measured": int(primary.get("not_measured") or 0),
            "groups": int(exposed_only.get("groups") or 0),
            "earthquakes": int(primary.get("earthquakes") or 0),
            # the exposed earthquakes alone, per group (reported, not tested)
            "exposed_only": fmt.diff(exposed_only.get("estimate")),
            "exposed_only_ci": fmt.interval(exposed_only.get("ci")),
            "over_splits": fmt.diff(over_splits.get("estimate")),
            "over_splits_ci": fmt.interval(over_splits.get("ci")),
            "over_splits_p": fmt.p_value(over_splits.get("p_value")),
            **{f"{subset}_{key}": value for subset in ("all", "exposed", "unexposed")
               for key, value in (("estimate", fmt.diff(combined[subset].get("estimate"))),
                                  ("ci", fmt.interval(combined[subset].get("ci"))))},
            "as_split": fmt.diff(entry["as_split_minus_purged"].get("estimate")),
            "as_split_ci": fmt.interval(entry["as_split_minus_purged"].get("ci")),
            # the future-only arm over the splits (reported, not tested)
            **{f"{arm}_{key}": value for arm in ("later", "earlier")
               for key, value in future_arm(entry.get(arm)).items()},
            "paper": _paper_arm(entry.get("paper"), inputs),
        })
    focus = next((r for r in rows if r["method"] == FOCUS), rows[0] if rows else None)
    return {
        "rows": rows, "focus": focus, "family": str(summary.get("family", "")),
        "tested": tested, "by_group": by_group, "contrast": primary_test == "contrast",
        "grouped_by": grouped_by,
        "group_word": "cluster" if grouped_by == "spatiotemporal" else "sequence",
        "group_kind": GROUP_KINDS.get(grouped_by, "sequence"),
        "cells": matched_cells(summary),
        "controls": size_control_draws(summary),
        "future_arm": any(r["later_partitions"] for r in rows),
        "leaking": [r["prose"] for r in rows if r["verdict"] == "higher"],
        # the same methods' rows, with the numbers each claim rests on (``listed_claims``)
        "leaking_rows": [r for r in rows if r["verdict"] == "higher"],
        "negative": [r["prose"] for r in rows if r["verdict"] == "lower"],
        "equivalent": [r["prose"] for r in rows if r["verdict"] == "equivalent"],
        "undecided": [r["prose"] for r in rows if r["verdict"] == "undecided"],
    }
