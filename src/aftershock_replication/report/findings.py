"""What the letter says: formatted numbers and the findings its wording follows.

Verdicts (significantly higher or lower, equivalent within the smallest effect of interest,
undecided) are decided by the statistics stage
(``metrics/stats.json``); here they are only looked up and put into words. The only literal
numbers are the published values of the paper and of its critics (``PUBLISHED``), quoted
as theirs, with attribution.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from ..errors import InputError
from ..groups import GROUP_KINDS
from ..methods import CONTROLS
from ..names import VERDICTS
from . import formatting as fmt
from .citations import REFERENCES, Citations
from .curves import curve_tests
from .inputs import Inputs, dig, label, order_methods, prose
from .letter_params import LetterParams
from .operating import COVERAGE_FLOOR, coverage_at, operating_findings
from .provenance import Provenance
from .tables import (
    SCHEME_LABELS,
    auc_table,
    format_row,
    scheme_points,
    significance_table,
    variants_table,
)

log = logging.getLogger(__name__)

DEMO_MARK = "synthetic demonstration data — not the published dataset"
FOCUS = "neural_network"

# Published values quoted as the authors' claims (STUDY.md); never results of this package.
PUBLISHED = {
    "paper": "DeVries, Viégas, Wattenberg & Meade (2018), Nature 560, 632\u2013634",
    "paper_short": "DeVries et al. (2018)",
    "network_auc": 0.849,
    "coulomb_auc": 0.583,
    "critique": "Shah & Innig (2019)",
    "critique_network_train_auc": 0.759,
    "critique_samples": 16000,
    "critique_grouped_auc": 0.77,
    # Mignan & Broccardo (2019): logistic regression with two parameters, paper's split
    "one_neuron_auc": 0.85,
    "critique_url": "https://github.com/rajshah4/aftershocks_issues",
}





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


def reference_findings(inputs: Inputs) -> dict[str, Any]:
    reference = inputs.stats["reference_metric"]
    most_common = str(reference["most_common"])
    by_seed = {str(k): str(v) for k, v in (reference.get("by_seed") or {}).items()}
    paper_choice = by_seed.pop("paper", None)
    counts = Counter(by_seed.values())
    return {
        "method": most_common,
        "label": label(most_common),
        "prose": prose(most_common),
        "rule": str(reference.get("rule", "")),
        "seeds": sum(counts.values()),
        "chosen": counts.get(most_common, 0),
        "others": fmt.join_words([f"{prose(m)} in {n}" for m, n in sorted(counts.items())
                                  if m != most_common]),
        "paper": prose(paper_choice) if paper_choice else None,
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


def control_findings(inputs: Inputs) -> list[dict[str, Any]]:
    """The negative control's tests (vs the best stress metric; leakage term), in a Holm
    family of their own; empty when the statistics hold no such table."""
    table = inputs.stats["tables"].get("negative_control")
    if not table:
        return []
    source = "metrics/stats.json"
    return [{**format_row(row, source), "family": str(table.get("family", "")),
             "kind": "leakage term" if str(row.get("comparison", "")).startswith("leak(")
             else "difference from the best untrained stress metric"}
            for row in dig(table, ["rows"], source)]


def untrained_vs_coulomb(inputs: Inputs) -> dict[str, Any] | None:
    """Each other untrained stress metric against Coulomb stress on grouped splits (the
    original paper's physical point, which needs no network); None when not computed."""
    table = inputs.stats["tables"].get("untrained_vs_coulomb")
    if not table or not table.get("rows"):
        return None
    found = significance_table(table, "metrics/stats.json")
    # the rows each claim rests on, for the macro ``listed_claims``
    found["higher_rows"] = [r for r in found["rows"] if r["verdict"] == "higher"]
    for verdict_name in VERDICTS:
        found[verdict_name] = [prose(m) for m in found[verdict_name]]
    return found


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


def curve_findings(inputs: Inputs, tolerance: float, reference: dict[str, Any]) -> list[dict]:
    """Per method: AUC at the smallest share, at all rows, what the full data add to the
    smallest share (tested, ``curves.curve_tests``) and from which share the AUC is
    equivalent to the full fit's; where each split's curve comes within ``tolerance`` of
    its best (descriptive); whether the full-data fits were still improving."""
    margin = float(dig(inputs.stats, ["smallest_effect"], "metrics/stats.json"))
    alpha = float(dig(inputs.stats, ["alpha"], "metrics/stats.json"))
    found = []
    for method, table in inputs.curves.items():
        table = table.dropna(subset=["test_auc"])
        if table.empty:
            continue
        tested = curve_tests(table, margin, alpha)
        # the smallest share the tests could use (at least two splits), so that its AUC and
        # the gain printed beside it describe one share
        smallest = (tested["smallest_share"] if tested["smallest_share"] is not None
                    else float(table["train_share"].min()))
        first = table[table["train_share"] == smallest]
        plateaus, full, full_rows = [], [], []
        for _, part in table.groupby("seed", sort=True):
            part = part.sort_values("train_share")
            best = part["test_auc"].max()
            plateaus.append(float(part.loc[part["test_auc"] >= best - tolerance,
                                           "train_share"].min()))
            last = part.iloc[-1]
            full.append(float(last["test_auc"]))
            full_rows.append(int(last["train_rows"]))
        summary = inputs.curve_summaries.get(method, {})
        improving = summary.get("full_point_still_improving")
        shortfall = tested["smallest"] or {}
        from_share = tested["equivalent_from"]
        found.append({
            # the full data's gain over the smallest share, corrected 95 % CI (unit: split)
            "shortfall": fmt.diff(shortfall.get("estimate")),
            "shortfall_ci": fmt.interval(shortfall.get("ci")),
            "shortfall_splits": shortfall.get("splits"),
            "equivalent_from": None if from_share is None else fmt.percent(from_share),
            "equivalent_from_rows": None if from_share is None else _range(
                [int(r) for r in table.loc[table["train_share"] == from_share, "train_rows"]],
                fmt.integer),
            "equivalent_from_p": fmt.p_value(tested["equivalent_from_p"]),
            "equivalent_from_value": from_share,
            "method": method,
            "label": label(method),
            "prose": prose(method),
            "smallest_share": fmt.percent(smallest),
            "smallest_rows": _range([int(r) for r in first["train_rows"]], fmt.integer),
            "at_smallest": fmt.auc(first["test_auc"].mean()),
            "at_full": fmt.auc(sum(full) / len(full)),
            "full_rows": _range(full_rows, fmt.integer),
            "plateau_share": _range(plateaus, lambda v: fmt.percent(v)),
            "max_share": max(plateaus),
            "seeds": len(plateaus),
            "steps_fixed": str(summary.get("training_length", "")).startswith("fixed"),
            # the main evaluation draws at most max_train_rows of the partition's rows
            "capped": "partition_train_rows" in table
            and bool((table["train_share"].eq(1.0)
                      & (table["train_rows"] < table["partition_train_rows"])).any()),
            "still_improving": None if not improving else
            {"seeds": int(improving["seeds"]), "of": int(improving["of"])},
            "beats_reference": (reference["grouped_mean"] is not None
                                and sum(full) / len(full) > reference["grouped_mean"]),
        })
    return found


def scored_cells(splits: dict[str, tuple[int, int]]) -> dict[str, Any] | None:
    """Which splits' AUCs were computed on a sample of their test cells, from the cells
    drawn and the test cells per split, and the share drawn on those (a range; a sample
    never shows as 100%); None without counts."""
    counts = {key: (int(drawn), int(total)) for key, (drawn, total) in splits.items() if total}
    if not counts:
        return None
    sampled = [drawn / total for drawn, total in counts.values() if drawn < total]
    return {"sampled": bool(sampled), "sampled_splits": len(sampled), "splits": len(counts),
            "share": _range(sampled, lambda v: fmt.percent(min(v, 0.99), 0))
            if sampled else None}


def curve_cells(inputs: Inputs) -> dict[str, Any] | None:
    """The learning curves' test cells: per grouped split (the draw is the same at every
    share and for every method), the cells drawn and the split's test cells."""
    return scored_cells({
        str(seed): (drawn, total)
        for table in inputs.curves.values()
        if {"test_cells_drawn", "test_cells"} <= set(table.columns)
        for seed, drawn, total in zip(table["seed"], table["test_cells_drawn"],
                                      table["test_cells"], strict=True)})


def matched_cells(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The matched experiment's test cells: per partition (one draw for every arm and
    method), the cells drawn (scored or not) and the partition's test cells."""
    return scored_cells({
        f"{scheme_name}/{partition}": (
            record["scored_test_cells"] + record.get("unscored_test_cells", 0),
            record["test_cells"])
        for entry in summary["methods"].values()
        for scheme_name, scheme in (entry.get("partitions") or {}).items()
        for partition, record in scheme.items()
        if record.get("measured") and "scored_test_cells" in record})


def _range(values: list[float], show: Any) -> str:
    low, high = min(values), max(values)
    return show(low) if show(low) == show(high) else f"{show(low)}{fmt.EN_DASH}{show(high)}"


def claim_findings(inputs: Inputs) -> dict[str, Any]:
    paper = inputs.auc["paper"]
    focus = paper.get(FOCUS) or paper[next(m for m in inputs.methods if paper[m].get("fitted"))]
    test, train = focus["pooled"]["mean"], focus["train_pooled"]["mean"]
    selected = paper.get("coulomb_test_selected", {}).get("pooled", {}).get("mean")
    coulomb = paper.get("coulomb", {}).get("pooled", {}).get("mean")
    return {
        "network_test": fmt.auc(test),
        "network_train": fmt.auc(train),
        "test_above_train": test > train,
        "gap": fmt.diff(test - train),
        "coulomb_selected": fmt.auc(selected),
        "coulomb": fmt.auc(coulomb),
        "has_selected": selected is not None,
        "has_coulomb": coulomb is not None,
    }


def bootstrap_coverage(inputs: Inputs, clusters: int | None) -> dict[str, Any]:
    """Whether a cluster-bootstrap interval over ``clusters`` earthquakes may be read as
    inference: only where the coverage simulation shows it covering at least
    ``COVERAGE_FLOOR`` (and never without the simulation)."""
    rate = coverage_at(inputs.operating, clusters)
    return {"clusters": clusters, "coverage": fmt.percent(rate),
            "inference": rate is not None and rate >= COVERAGE_FLOOR}


def paper_split_findings(inputs: Inputs, reference: dict[str, Any]) -> dict[str, Any]:
    split = inputs.stats["paper_split"]
    boot = split["bootstrap"].get(FOCUS)
    naive = split["delong"].get(FOCUS)
    versus = (split.get("bootstrap_vs_reference") or {}).get(FOCUS)
    found: dict[str, Any] = {"available": boot is not None and naive is not None}
    if boot and naive:
        inflation = (boot["se"] / naive["se"]) if naive.get("se") and boot.get("se") else None
        found |= {
            "auc": fmt.auc(boot.get("estimate")),
            "boot_ci": fmt.interval(boot.get("ci")),
            "boot_se": fmt.fixed(boot.get("se"), 4),
            "replicates": fmt.integer(boot.get("replicates")),
            "naive_se": fmt.fixed(naive.get("se"), 4),
            "inflation": fmt.ratio(inflation),
            "wider": inflation is not None and inflation > 1,
        }
    by_sequence = (split.get("bootstrap_by_sequence") or {}).get(FOCUS)
    if by_sequence:
        unit = str(by_sequence.get("unit") or GROUP_KINDS["sequence"])
        coverage = bootstrap_coverage(inputs, by_sequence.get("clusters"))
        found["by_sequence"] = {**coverage,
                                "ci": fmt.interval(by_sequence.get("ci")),
                                "kind": unit.removesuffix(" (cluster bootstrap)"),
                                "se": fmt.fixed(by_sequence.get("se"), 4),
                                "few": not coverage["inference"],
                                "same": bool(boot) and by_sequence.get("ci") == boot.get("ci")}
    if boot:
        found |= bootstrap_coverage(inputs, boot.get("clusters"))
    if versus:
        low, high = versus.get("ci") or (None, None)
        found["versus"] = {
            **bootstrap_coverage(inputs, versus.get("clusters")),
            "estimate": fmt.diff(versus.get("estimate")),
            "ci": fmt.interval(versus.get("ci")),
            "reference": prose(str(versus.get("reference", reference["method"]))),
            "excludes_zero": low is not None and high is not None and (low > 0 or high < 0),
            "positive": low is not None and low > 0,
        }
    return found


def permutation_findings(inputs: Inputs) -> dict[str, Any]:
    perm = inputs.stats["permutation"]
    significant, total = perm.get("significant"), perm.get("slip_models")
    return {
        "alpha": fmt.fixed(perm.get("alpha"), 2),
        "method": prose(str(perm.get("method", FOCUS))),
        "permutations": fmt.integer(perm.get("permutations")),
        "significant": fmt.integer(significant),
        "total": fmt.integer(total),
        "all": significant is not None and significant == total,
    }


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


def signatures(letter: LetterParams, date_text: str) -> dict[str, Any]:
    """The letter's signatures and date (the render date unless ``letter.date`` is set)."""
    authors = [{"name": a.name, "affiliation": a.affiliation} for a in letter.authors]
    return {
        "authors": authors or [{"name": "The authors", "affiliation": ""}],
        "placeholder": not authors,
        "date": letter.date or date_text,
    }



def health_findings(inputs: Inputs) -> dict[str, Any]:
    """Which fits failed (the statistics stage's ``fit_health``): per fitted method, how many
    of its partitions and which, with one reason as an example."""
    health = dig(inputs.stats, ["fit_health"], "metrics/stats.json")
    rows = []
    for method in order_methods(dig(health, ["methods"], "metrics/stats.json")):
        entry = health["methods"][method]
        failed = entry.get("failed") or {}
        where = [f"{SCHEME_LABELS.get(scheme, scheme)} {', '.join(sorted(parts, key=_order))}"
                 for scheme, parts in failed.items() if parts]
        example = next((_reason(reasons[0]) for parts in failed.values()
                        for reasons in parts.values() if reasons), None)
        rows.append({"method": method, "label": label(method), "prose": prose(method),
                     "failures": int(entry.get("failures") or 0),
                     "partitions": int(entry.get("partitions") or 0),
                     "grouped": len(failed.get("grouped") or {}),
                     "where": "; ".join(where), "example": example,
                     "steps": _steps_text(entry.get("steps_per_epoch"))})
    return {"rule": str(health.get("rule", "")), "rows": rows,
            "failing": [r for r in rows if r["failures"]],
            "focus": next((r for r in rows if r["method"] == FOCUS), None)}


def _steps_text(steps: list[int] | None) -> str | None:
    """"1 gradient step" or "1-3 gradient steps" (None when the method does not say)."""
    if not steps:
        return None
    return f"{_range(steps, fmt.integer)} gradient step{'' if max(steps) == 1 else 's'}"


def _reason(reason: dict[str, Any]) -> str:
    """Why a fit failed, in words."""
    if reason.get("kind") == "training_auc":
        return (f"training-cell AUC {fmt.auc(reason.get('auc'))} against "
                f"{fmt.auc(reason.get('reference_auc'))} for {prose(str(reason.get('reference')))}")
    if reason.get("kind") == "validation_loss":
        return (f"validation loss never below its initial {fmt.fixed(reason.get('initial'), 4)}")
    raise InputError(f"metrics/stats.json: unknown kind of failed fit {reason.get('kind')!r}; "
                     "rerun the stats stage")


def _order(partition: str) -> tuple[int, str]:
    return (int(partition), "") if partition.isdigit() else (-1, partition)


def network_findings(baseline: dict[str, Any], matched: dict[str, Any],
                     curves: list[dict[str, Any]]) -> dict[str, Any]:
    """The network's own rows (None where it was not evaluated): the letter leads with it
    and never lets another method's result speak for it."""
    return {"baseline": baseline["by_method"].get(FOCUS),
            "leakage": next((r for r in matched["rows"] if r["method"] == FOCUS), None),
            "curve": next((c for c in curves if c["method"] == FOCUS), None)}


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


def composition_findings(inputs: Inputs, reference: dict[str, Any]) -> dict[str, Any] | None:
    """The reference metric's AUC on the paper's test and training cells: an untrained
    metric cannot overfit, so test above train there is the test set's composition."""
    entry = inputs.auc["paper"].get(reference["method"]) or {}
    test = (entry.get("pooled") or {}).get("mean")
    train = (entry.get("train_pooled") or {}).get("mean")
    if test is None or train is None:
        return None
    return {"prose": prose(reference["method"]), "test": fmt.auc(test), "train": fmt.auc(train),
            "test_above_train": test > train}


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


def build_context(
    inputs: Inputs, params: dict[str, Any], figures: dict[str, dict[str, Any]],
    provenance: Provenance, letter: LetterParams | None = None,
) -> dict[str, Any]:
    """All the template needs: formatted numbers and the decisions the wording follows
    (``letter``: the parsed letter section, parsed here when not given)."""
    alpha = dig(inputs.stats, ["alpha"], "metrics/stats.json")
    letter = letter or LetterParams.from_params(params)
    tolerance = letter.plateau_tolerance
    points = scheme_points(inputs)
    reference = reference_findings(inputs)
    grouped_reference = points["grouped"].get(reference["method"])
    reference["grouped_mean"] = grouped_reference["mean"] if grouped_reference else None
    reference["grouped_auc"] = fmt.auc(reference["grouped_mean"])
    paper_reference = points["paper"].get(reference["method"])
    reference["paper_auc"] = fmt.auc(paper_reference["mean"] if paper_reference else None)
    baseline = significance_table(inputs.stats["tables"]["vs_best_stress_metric"],
                                  "metrics/stats.json")
    fitted = {m for m in inputs.methods if inputs.auc["paper"][m].get("fitted")}
    for verdict_name in VERDICTS:
        baseline[f"fitted_{verdict_name}"] = [prose(m) for m in baseline[verdict_name]
                                              if m in fitted]
    drop = significance_table(inputs.stats["tables"]["leaky_minus_grouped"],
                              "metrics/stats.json")
    vs_coulomb = untrained_vs_coulomb(inputs)
    drop_rows = {"by_method": dict(drop["by_method"])}
    drop["untrained_higher"] = [prose(m) for m in drop["higher"] if m not in fitted]
    for verdict_name in VERDICTS:
        drop[verdict_name] = [prose(m) for m in drop[verdict_name]]
    curves = curve_findings(inputs, tolerance, reference)
    signed = signatures(letter, fmt.long_date(provenance.run_date))
    seeds = max((len(p["per_seed"]) for p in points["grouped"].values()), default=0)
    auc_rows = auc_table(inputs, points)
    matched = matched_leakage_findings(inputs)
    return {
        "title": "Deep learning of aftershock patterns: leakage, learning curves and baselines",
        "mark": DEMO_MARK,
        "demo": demo_description(inputs.features),
        "data_source": str((params.get("data") or {}).get("source", "unknown")),
        "published": {**PUBLISHED,
                      "network_auc": fmt.auc(PUBLISHED["network_auc"]),
                      "coulomb_auc": fmt.auc(PUBLISHED["coulomb_auc"]),
                      "critique_network_train_auc": fmt.auc(
                          PUBLISHED["critique_network_train_auc"]),
                      "critique_samples": fmt.integer(PUBLISHED["critique_samples"]),
                      "critique_grouped_auc": fmt.fixed(PUBLISHED["critique_grouped_auc"], 2)},
        "alpha": fmt.fixed(alpha, 2),
        "margin": fmt.fixed(dig(inputs.stats, ["smallest_effect"], "metrics/stats.json")),
        "tolerance": fmt.fixed(tolerance, 3),
        "seeds": seeds,
        "schemes": SCHEME_LABELS,
        "data": data_findings(inputs.features, params),
        "claim": claim_findings(inputs),
        "audit": audit_findings(inputs),
        "auc_rows": auc_rows,
        "main_rows": main_table(inputs, auc_rows, baseline, matched, reference),
        "composition": composition_findings(inputs, reference),
        "split": split_settings(params),
        "method_settings": method_settings(params, inputs.methods),
        # the cover letter's journal and the paragraph on contact with the original authors
        "cover": {"journal": letter.journal, "author_contact": letter.author_contact},
        "data_source_note": (
            "the numbers of this letter come from synthetic demonstration data instead"
            if inputs.features.get("demo") else
            f"folder {(params.get('data') or {}).get('drive_folder', 'unknown')}"),
        "cite": Citations(REFERENCES),
        "controls": control_findings(inputs),
        "network": network_findings(baseline, matched, curves),
        "health": health_findings(inputs),
        "operating": operating_findings(inputs),
        "drop_rows": drop_rows,
        "variant_rows": variants_table(inputs),
        "has_test_selected": "coulomb_test_selected" in inputs.methods,
        "reference": reference,
        "drop": drop,
        "vs_coulomb": vs_coulomb,
        "decomposition": decomposition_findings(inputs),
        "matched": matched,
        "curves": curves,
        "curve_cells": curve_cells(inputs),
        # tested: every curve is equivalent to its full fit from a tenth of the rows or less
        "curves_small": bool(curves) and all(
            c["equivalent_from_value"] is not None and c["equivalent_from_value"] <= 0.1
            for c in curves),
        "capped_curves": [c["prose"] for c in curves if c["capped"]],
        "curves_any_beats_reference": any(c["beats_reference"] for c in curves),
        "baseline": baseline,
        "paper_split": paper_split_findings(inputs, reference),
        "permutation": permutation_findings(inputs),
        "figures": figures,
        "roles_complete": inputs.roles_complete,
        "signatures": signed,
        "provenance": provenance,
        "iso_date": provenance.iso_date,
    }
