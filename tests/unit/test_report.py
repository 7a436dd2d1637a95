"""The letter: numbers in the PDF match the metrics, demo mark, reproducible bytes, wording.

Fixtures are tiny metrics/plots/results trees built from the metrics schemas in tmp_path.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import pytest
import yaml
from pypdf import PdfReader
from scipy.stats import t as student_t

from aftershock_replication.atomic import finite_or_none, json_text
from aftershock_replication.errors import InputError
from aftershock_replication.leakage_summary import summarise
from aftershock_replication.learning_curve import curve_summary
from aftershock_replication.methods import ALL_METHODS, COMPETITORS, CONTROLS, FITTED
from aftershock_replication.names import SCHEMES, VERDICTS
from aftershock_replication.params import ComputeParams
from aftershock_replication.report import DEMO_MARK, render_documents
from aftershock_replication.report import formatting as fmt
from aftershock_replication.report.context import build_context
from aftershock_replication.report.inputs import load_inputs
from aftershock_replication.report.limits import count_letter
from aftershock_replication.report.metrics_schema import CLAIM_NEEDS, Auc
from aftershock_replication.report.provenance import collect, git_state, source_digest
from aftershock_replication.report.render import page_problems, render_html, render_pdf
from aftershock_replication.report.sampled_cells import scored_cells
from aftershock_replication.stats import decide, equivalence_bound, equivalence_pvalue
from helpers import ROOT

REPO = ROOT
TEMPLATES = REPO / "paper"
EPOCH = "1700000000"
Q = "\u2019"  # the letter's apostrophe

METHODS = ALL_METHODS
ALPHA = 0.05
MARGIN = 0.02  # stats.smallest_effect
# the fixture's pooled AUCs by method name; a method not named here (a new one) starts at
# 0.79, so adding a method to the registry needs no edit of this file
NAMED_AUC = {"coulomb": 0.61, "coulomb_test_selected": 0.66, "max_shear": 0.79,
             "von_mises": 0.81, "sum_abs": 0.80, "one_neuron": 0.80, "logistic": 0.79,
             "random_forest": 0.78, "svm": 0.79, "gam": 0.80, "neural_network": 0.82}
BASE_AUC = {method: NAMED_AUC.get(method, 0.79) for method in METHODS}
SEEDS = ("0", "1", "2")
CURVES = ("neural_network", "random_forest", "logistic")
# sequences -> events -> authors; 1985NAHANx and 1999CHICHx straddle the paper's split
SLIP_MODELS = {
    "1985NAHANx": {"01": ["AAAA", "BBBB"], "02": ["CCCC"]},
    "1992LANDER": {"01": ["COHE", "WALD", "HERN"]},
    "1995KOBEJA": {"01": ["YOSH", "WALD"]},
    "1999CHICHx": {"01": ["MAxx", "JIxx"], "02": ["WUxx"]},
    "2004PARKFI": {"01": ["CUST"]},
    "2010DARFIE": {"01": ["ATZO", "HOLD"]},
}
PAPER_TEST = {"1985NAHANx02CCCC", "1995KOBEJA01YOSH", "1995KOBEJA01WALD",
              "1999CHICHx02WUxx"}


def _names() -> list[str]:
    return [f"{seq}{event}{author}" for seq, events in SLIP_MODELS.items()
            for event, authors in events.items() for author in authors]


def _summary(values: list[float]) -> dict[str, Any]:
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()), "sd": float(array.std(ddof=1)) if len(array) > 1
            else 0.0, "per_seed": [float(v) for v in array]}


def build_auc(rng: np.random.Generator) -> dict[str, Any]:
    shift = {"paper": 0.04, "leaky": 0.015, "grouped": 0.0}
    auc: dict[str, Any] = {}
    for scheme, lift in shift.items():
        seeds = ["paper"] if scheme == "paper" else list(SEEDS)
        auc[scheme] = {}
        for method in METHODS:
            pooled = [BASE_AUC[method] + lift + rng.normal(0, 0.01) for _ in seeds]
            auc[scheme][method] = {
                "pooled": _summary(pooled),
                "per_slip_model_mean": _summary([v + 0.02 for v in pooled]),
                "event_weighted": _summary([v + 0.015 for v in pooled]),
                "train_pooled": _summary([v - 0.06 for v in pooled]),
                "fitted": method in FITTED,
                "uses_test_labels": method == "coulomb_test_selected",
            }
    return auc


def _row(method: str, comparison: str, estimate: float, p: float | None,
         p_holm: float | None) -> dict[str, Any]:
    return {"method": method, "comparison": comparison, "estimate": estimate,
            "ci": [estimate - 0.021, estimate + 0.019],
            "statistic": None if p is None else estimate / 0.004, "df": 9,
            "p_value": p, "p_holm": p_holm, "unit": "repeated split (seed)",
            "test": "Nadeau-Bengio corrected resampled t-test", "se": 0.004,
            "detectable_effect_80": 0.0123, "smallest_effect": MARGIN} | _verdict(
                estimate, p_holm, 0.004, 9)


def _verdict(estimate: float, p_holm: float | None, se: float, df: int) -> dict[str, Any]:
    """A row's verdict as the statistics stage decides it (the equivalence p-value of a
    one-row family: Holm leaves it unchanged)."""
    p_equivalence = equivalence_pvalue(estimate, se, df, MARGIN)
    found = decide(estimate, p_holm, p_equivalence, ALPHA)
    # a family of one (two one-sided hypotheses): the 95 % interval, or, with a claim, zero on
    # the claimed side and the other bound at alpha (one hypothesis left unrejected)
    claimed = found in ("higher", "lower")
    half = float(student_t.ppf(1 - (ALPHA if claimed else ALPHA / 2), df)) * se
    low = 0.0 if found == "higher" else estimate - half
    high = 0.0 if found == "lower" else estimate + half
    return {"p_equivalence": p_equivalence, "p_equivalence_holm": p_equivalence,
            "ci_simultaneous": [low, high],
            "verdict": found, "equivalence_bound": equivalence_bound(estimate, se, df, ALPHA),
            "within_smallest_effect": found in ("higher", "lower") and p_equivalence < ALPHA}


def update_row(row: dict[str, Any], **changes: Any) -> None:
    """Change a row as the statistics stage would have written it (verdict included)."""
    row.update(changes)
    row.update(_verdict(row["estimate"], row["p_holm"], row["se"], row["df"]))


# each exposed test earthquake's own deviation from the partition's effect (mean 0): the
# t-test over its four sequences has this spread to work with
EXPOSED_OFFSETS = (0.012, -0.012, 0.006, -0.006)


def leakage_record(effect: float, events: list[str], exposed: list[str]) -> dict[str, Any]:
    """One partition of a leakage stage's output: the effect on every subset and per test
    earthquake (exposed earthquakes carry twice the effect, each with its own fixed offset,
    which average out; unexposed ones none)."""
    offsets = dict(zip(exposed, EXPOSED_OFFSETS, strict=True))
    per_event = {e: (2 * effect + offsets[e] if e in exposed else 0.0) for e in events}
    subsets = {"all": effect, "exposed": 2 * effect, "unexposed": 0.0}
    # the future-only arm: the first two exposed earthquakes had later neighbours, which
    # carry the whole effect; the earlier neighbours of the other two add their offsets
    later = exposed[:2]
    later_effect = {e: (2 * effect + offsets[e] if e in later else 0.0) for e in events}
    earlier_effect = {e: (offsets[e] if e in exposed[2:] else 0.0) for e in events}
    return {"measured": True, "train_cells": 20000, "test_cells": 6000,
            "exposed_events": exposed, "neighbours": [], "neighbour_cells": 10,
            "neighbour_positives": 2,
            "effect": {**subsets, "per_event": per_event},
            "as_split_minus_purged": {**subsets, "per_event": per_event},
            "size_controls": [{"cells": 10, "positives": 2, "trimmed_slip_models": 1,
                               "trimmed_cells": 3}],
            "size_controls_exact": 1, "later_exposed_events": later,
            "earlier_exposed_events": exposed[2:],
            "later_effect": {**subsets, "per_event": later_effect},
            "earlier_effect": {**subsets, "per_event": earlier_effect}}


def build_leakage(effects: dict[str, list[float]]) -> dict[str, Any]:
    """metrics/leakage.json as the leakage_summary stage writes it, from per-partition
    effects per method (the first is the paper's split, the others leaky seeds)."""
    events = ["1985NAHANx02", "1999CHICHx02", "1995KOBEJA01", "2004PARKFI01",
              "1992LANDER01", "2011TOHOKU01"]
    exposed = events[:4]  # four sequences: the tested unit
    by_method = {
        method: {"method": method, "grouped_by": "sequence", "partitions": {
            "paper": {"paper": leakage_record(values[0], events, exposed)},
            "leaky": {str(i): leakage_record(v, events, exposed)
                      for i, v in enumerate(values[1:])}}}
        for method, values in effects.items()}
    return {**summarise(by_method, ALPHA, MARGIN), "grouped_by": "sequence"}


def build_stats(auc: dict[str, Any]) -> dict[str, Any]:
    seed_summary: dict[str, Any] = {}
    for scheme, methods in auc.items():
        seed_summary[scheme] = {}
        for method, entry in methods.items():
            pooled = entry["pooled"]
            if scheme == "paper":  # one partition: no spread (the stats stage writes null)
                seed_summary[scheme][method] = {"mean": pooled["mean"], "sd": None,
                                                "ci95": [None, None], "n_seeds": 1,
                                                "per_seed": pooled["per_seed"]}
                continue
            half = 2.0 * pooled["sd"]
            seed_summary[scheme][method] = {
                "mean": pooled["mean"], "sd": pooled["sd"],
                "ci95": [pooled["mean"] - half, pooled["mean"] + half], "n_seeds": 3,
                "per_seed": pooled["per_seed"]}
    reference = "von_mises"
    grouped = auc["grouped"]
    vs_best = [_row(m, f"{m} minus the best untrained stress metric (grouped)",
                    grouped[m]["pooled"]["mean"] - grouped[reference]["pooled"]["mean"],
                    0.3, 0.9)
               for m in COMPETITORS]
    update_row(vs_best[0], statistic=None, p_value=None, p_holm=None)  # not computable
    drop = [_row(m, f"{m}: leaky minus grouped", 0.015, 0.02, 0.2) for m in METHODS
            if m not in CONTROLS and m != "coulomb_test_selected"]
    leak = [_row(m, f"{m}: leakage term", 0.004, 0.4, 1.0) for m in COMPETITORS]
    # the network's fit failed on grouped seed 1: its rows carry the test without that seed
    for rows in (vs_best, drop):
        for row in rows:
            without = {**row, "excluded_seeds": [], "per_seed": [0.0, 0.0, 0.0]}
            if row["method"] == "neural_network":
                without = {**_row("neural_network", row["comparison"], 0.006, 0.5, 0.9),
                           "excluded_seeds": ["1"], "per_seed": [0.004, 0.008]}
            row["without_failed_fits"] = without
    control = [_row(m, f"{m} minus the best untrained stress metric (grouped)", -0.002, 0.5,
                    1.0) for m in CONTROLS] + [
        _row(m, f"leak({m}) = [{m} - reference] leaky - [{m} - reference] grouped", 0.001,
             0.7, 1.0) for m in CONTROLS]
    decomposition = {m: {"paper_minus_grouped": 0.040, "reference_paper_minus_grouped": 0.030,
                         "leakage_term": 0.004 if m in COMPETITORS else None}
                     for m in METHODS}
    paper = auc["paper"]
    return {
        "alpha": ALPHA,
        "smallest_effect": MARGIN,
        "seed_summary": seed_summary,
        "reference_metric": {
            "rule": "untrained stress metric with the highest pooled AUC on the training cells",
            "by_seed": {"paper": reference, "0": reference, "1": "max_shear", "2": reference},
            "most_common": reference},
        "tables": {
            "vs_best_stress_metric": {"family": "11 methods vs the reference, grouped splits",
                                      "scheme": "grouped", "rows": vs_best, "alpha": ALPHA},
            "leaky_minus_grouped": {"family": "11 methods, leaky minus grouped", "rows": drop,
                                    "alpha": ALPHA},
            "leakage_term": {"family": "5 fitted methods, leakage term", "rows": leak,
                             "alpha": ALPHA},
            "negative_control": {"family": "negative control, own family", "rows": control,
                                 "alpha": ALPHA},
        },
        "decomposition": decomposition,
        "fit_health": {
            "rule": "a fit is healthy when its training AUC is at least the best metric's",
            "methods": {m: {"failed": {"grouped": {"1": [{
                                "kind": "training_auc", "auc": 0.503, "reference": "von_mises",
                                "reference_auc": 0.650}]}}
                            if m == "neural_network" else {},
                            "partitions": 7, "failures": int(m == "neural_network"),
                            "steps_per_epoch": [1, 2] if m == "neural_network" else None}
                        for m in FITTED}},
        "paper_split": {
            "bootstrap": {m: {"estimate": paper[m]["pooled"]["mean"],
                              "ci": [paper[m]["pooled"]["mean"] - 0.043,
                                     paper[m]["pooled"]["mean"] + 0.037],
                              "se": 0.021, "unit": "event (cluster bootstrap)",
                              "replicates": 1000, "clusters": 4} for m in METHODS},
            "bootstrap_vs_reference": {m: {"estimate": 0.011, "ci": [-0.013, 0.034],
                                           "se": 0.012, "unit": "event (cluster bootstrap)",
                                           "replicates": 1000, "reference": reference,
                                           "clusters": 4}
                                       for m in FITTED},
            "bootstrap_by_sequence": {m: {"estimate": paper[m]["pooled"]["mean"],
                                          "ci": [paper[m]["pooled"]["mean"] - 0.061,
                                                 paper[m]["pooled"]["mean"] + 0.052],
                                          "se": 0.029, "replicates": 1000, "clusters": 3,
                                          "unit": "region-year sequence (cluster bootstrap)"}
                             for m in METHODS},
            "delong": {m: {"auc": paper[m]["pooled"]["mean"], "se": 0.0031,
                           "unit": "cell (naive: cells assumed independent)"} for m in METHODS},
        },
        "permutation": {"method": "neural_network", "permutations": 5000, "slip_models": 4,
                        "alpha": 0.05, "significant": 4,
                        "per_slip_model": {n: {"auc": 0.8, "p_value": 0.0002}
                                           for n in sorted(PAPER_TEST)}},
    }


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as the stages do: an undefined number (NaN) as null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_text(finite_or_none(payload)))


def build_tree(root: Path, *, demo: bool = True) -> dict[str, Path]:
    """A complete, tiny input tree under ``root``; returns the render_documents directories."""
    rng = np.random.default_rng(7)
    metrics, plots, results = root / "metrics", root / "plots", root / "results"
    names = _names()
    demo_block = ({"seed": 2018, "size": "small", "leakage": 1.0, "sequence_share": 0.8,
                   "transferable": 0.0, "positive_rate": 0.02, "slip_models": len(names),
                   "earthquakes": 8, "sequences": 6, "multi_earthquake_sequences": 2,
                   "cells": 52000, "source": "demo",
                   "truth": {"oracle_auc": 0.904, "stress_auc": 0.85, "transferable_gain": 0.0,
                             "sequence_gain": 0.0412, "multi_event_earthquakes": 4}}
                  if demo else None)
    test_rows = 4 * 2000
    write_json(metrics / "features.json", {
        "demo": demo_block, "rows": 26000, "positive_share": 0.0213,
        "slip_models": len(names), "events": 8, "sequences": 6,
        "by_paper_role": {"train": {"rows": 26000 - test_rows, "positives": 400,
                                    "slip_models": len(names) - len(PAPER_TEST)},
                          "test": {"rows": test_rows, "positives": 150,
                                   "slip_models": len(PAPER_TEST)}},
        "skipped_slip_models": [{"slip_model": "2003INAVWx01JHAZ", "paper_role": "train",
                                 "rows": 3040, "reason": "no aftershock cells"}],
        "source_root": "data/raw",
    })
    auc = build_auc(rng)
    write_json(metrics / "auc.json", auc)
    straddle = [
        {"group": "1985NAHANx", "train_slip_models": ["1985NAHANx01AAAA", "1985NAHANx01BBBB"],
         "test_slip_models": ["1985NAHANx02CCCC"], "test_row_share": 0.25},
        {"group": "1999CHICHx", "train_slip_models": ["1999CHICHx01JIxx", "1999CHICHx01MAxx"],
         "test_slip_models": ["1999CHICHx02WUxx"], "test_row_share": 0.125},
    ]
    empty = {"slip_model": [], "event": [], "sequence": [], "spatiotemporal": []}
    write_json(metrics / "leakage_audit.json", {
        "paper": {"paper": {**empty, "sequence": straddle, "spatiotemporal": straddle}},
        "leaky": {s: {**empty, "sequence": straddle[:1]} for s in SEEDS},
        "grouped": {s: dict(empty) for s in SEEDS},
    })
    write_json(metrics / "stats.json", build_stats(auc))
    write_json(metrics / "leakage.json", build_leakage(
        {m: [0.01, 0.004, -0.002, 0.003] for m in ("neural_network", "random_forest")}))
    for method in CURVES:
        records = []
        for seed in range(3):
            top = 100000 + 1000 * seed
            for share in (0.01, 0.03, 0.09, 1.0):
                rows = round(share * top)
                records.append({"method": method, "seed": seed, "train_share": share,
                                "train_rows": rows, "train_positives": rows // 50,
                                "partition_train_rows": top, "test_cells": 20000,
                                "test_auc": BASE_AUC[method] - 0.03 * 1000 / rows
                                + 0.002 * seed,
                                "still_improving": (seed == 0 and share == 1.0)
                                if method == "neural_network" else None})
        table = pd.DataFrame.from_records(records)
        (plots / "learning_curve").mkdir(parents=True, exist_ok=True)
        table.to_csv(plots / "learning_curve" / f"{method}.csv", index=False)
        write_json(metrics / "learning_curve" / f"{method}.json",
                   curve_summary(method, table, method == "neural_network"))
    fpr = np.linspace(0, 1, 41)
    grouped_test = {"0": ["1985NAHANx01AAAA", "1985NAHANx01BBBB", "1985NAHANx02CCCC",
                          "2004PARKFI01CUST"],
                    "1": ["1992LANDER01COHE", "1992LANDER01WALD", "1992LANDER01HERN"],
                    "2": ["2010DARFIE01ATZO", "2010DARFIE01HOLD", "1995KOBEJA01YOSH",
                          "1995KOBEJA01WALD"]}
    for method in METHODS:
        power = 1 + 4 * (BASE_AUC[method] - 0.5)
        roc = pd.concat([pd.DataFrame({"fpr": fpr, "tpr": fpr ** (1 / (power + lift)),
                                       "method": method, "split": split})
                         for split, lift in (("paper paper", 0.3), ("grouped 0", 0.0))])
        (plots / "roc").mkdir(parents=True, exist_ok=True)
        roc.to_csv(plots / "roc" / f"{method}.csv", index=False)
        rows = [{"slip_model": n, "auc": BASE_AUC[method] + rng.normal(0, 0.04), "rows": 2000,
                 "positives": 40, "scheme": "paper", "partition": "paper"}
                for n in sorted(PAPER_TEST)]
        rows += [{"slip_model": n, "auc": BASE_AUC[method] + rng.normal(0, 0.05),
                  "rows": 2000, "positives": 40, "scheme": "grouped", "partition": seed}
                 for seed, models in grouped_test.items() for n in models]
        table = pd.DataFrame(rows).assign(event=lambda t: t["slip_model"].str.slice(0, 12))
        table["event_auc"] = table.groupby(["partition", "event"])["auc"].transform("mean")
        (results / "per_slip_model").mkdir(parents=True, exist_ok=True)
        table.to_csv(results / "per_slip_model" / f"{method}.csv", index=False)
    splits = root / "data" / "splits.json"
    write_json(splits, {"schemes": {"paper": {"paper": sorted(PAPER_TEST)}},
                        "slip_models": sorted(names),
                        "spatiotemporal": {"groups": {n: n[:12] for n in names}}})
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS, sort_keys=False))
    write_json(root / "operating.json", build_operating())
    return {"metrics_dir": metrics, "plots_dir": plots, "results_dir": results,
            "splits": splits, "params": root / "params.yaml",
            "operating": root / "operating.json"}


def _outcomes(total: int, **counts: int) -> dict[str, Any]:
    return {name: {"count": counts.get(name, 0), "rate": counts.get(name, 0) / total,
                   "ci": [0.0, 1.0]} for name in VERDICTS}


def build_operating() -> dict[str, Any]:
    """paper/operating_characteristics.json as ``benchmarks.operating --combine`` writes it:
    a null setting (logistic regression, an untrained metric) and a planted leak (forest)."""
    def row(method: str, verdict: str, transferable: float, leakage: float, total: int,
            raw: dict[str, int], bound: dict[str, int], mean: float) -> dict[str, Any]:
        planted = transferable if verdict == "vs_best" else leakage
        return {"source": "operating-test.json", "transferable": transferable,
                "leakage": leakage, "truth": "null" if planted == 0 else "planted",
                "method": method, "verdict": verdict, "datasets": total, "family": 3,
                "estimate": {"mean": mean, "ci": [mean - 0.002, mean + 0.002],
                             "datasets": total},
                "raw": _outcomes(total, **raw), "bonferroni": _outcomes(total, **bound),
                "planted": {}}

    return {"sources": [{"file": "operating-test.json", "command": "python -m ...",
                         "record": {}, "wall_seconds": 1}],
            "rows": [
                row("logistic", "vs_best", 0.0, 0.0, 100, {"higher": 2, "lower": 60,
                    "equivalent": 10, "undecided": 28}, {"lower": 40, "undecided": 60},
                    -0.02),
                row("logistic", "matched", 0.0, 0.0, 100, {"higher": 4, "lower": 3,
                    "equivalent": 70, "undecided": 23}, {"equivalent": 50, "undecided": 50},
                    0.0),
                row("von_mises", "drop", 0.0, 0.0, 100, {"undecided": 100},
                    {"undecided": 100}, -0.003),
                row("random_forest", "matched", 0.0, 2.0, 30, {"higher": 25,
                    "undecided": 5}, {"higher": 21, "undecided": 9}, 0.025)],
            # the few-cluster coverage simulation: two shapes, 3 and 100 clusters
            "cluster_coverage": {"file": "cluster-interval-coverage.json", "datasets": 2000,
                                 "rows": [{"shape": shape, "clusters": clusters,
                                           "bootstrap": {"coverage": rate}}
                                          for shape, clusters, rate in (
                                              ("lognormal", 3, 0.689), ("normal", 3, 0.756),
                                              ("lognormal", 100, 0.931),
                                              ("normal", 100, 0.95))]}}


# the shipped params with the test tree's seeds, curves and signatures
PARAMS = {
    **yaml.safe_load((ROOT / "params.yaml").read_text()),
    "seeds": 3,
    "learning_curve": {"methods": list(CURVES), "points": 4, "min_share": 0.01,
                       "test_auc_negatives": None,
                       "steps_per_epoch": None},
    "letter": {"authors": [{"name": "A. Author", "affiliation": "Somewhere University"},
                           {"name": "B. Author", "affiliation": "Elsewhere Institute"}],
               "date": "1 April 2025", "plateau_tolerance": 0.01,
               "limits": {"words": 1200, "display_items": 2, "references": 15}},
}


DOCUMENTS = {"out": "letter.pdf", "supplement": "supplementary.pdf",
             "cover": "cover_letter.pdf", "report": "letter.json"}


def render(tree: dict[str, Path], out: Path, params: dict[str, Any] | None = None,
           use_splits: bool = True) -> dict[str, Any]:
    """Render the three documents into ``out.parent`` (``out`` names the letter)."""
    return render_documents(
        metrics_dir=tree["metrics_dir"], plots_dir=tree["plots_dir"],
        results_dir=tree["results_dir"], params=params or PARAMS,
        outputs={option: out.parent / name for option, name in DOCUMENTS.items()},
        figures_dir=out.parent / "figures", template_dir=TEMPLATES,
        commands=["dvc repro letter", "replicate letter --out paper/letter.pdf"],
        splits_path=tree["splits"] if use_splits else None,
        operating_path=tree.get("operating"))


def simultaneous(row: dict[str, Any]) -> str:
    """A test row's simultaneous interval as the documents print it."""
    return fmt.simultaneous_interval(row["ci_simultaneous"], row["verdict"] in ("higher", "lower"))


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def assert_in_order(text: str, start: str, expected: list[str]) -> None:
    """Every expected string occurs in ``text`` after ``start``, in the given order."""
    position = text.index(start)
    for item in expected:
        found = text.find(flat(item), position)
        assert found >= 0, f"{item!r} not found after position {position} ({start!r})"
        position = found + len(flat(item))


@pytest.fixture(scope="module")
def demo_render(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("demo")
    tree = build_tree(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        patch.chdir(root)  # no git checkout here: provenance must tolerate it
        summary = render(tree, root / "paper" / "letter.pdf")
    paper = root / "paper"
    return {"root": root, "tree": tree, "summary": summary, "letter": paper / "letter.pdf",
            "pdf": paper / "supplementary.pdf", "cover": paper / "cover_letter.pdf",
            "report": paper / "letter.json"}


def test_render_writes_pdf_and_figures(demo_render: dict[str, Any]) -> None:
    summary = demo_render["summary"]
    for key, name in (("letter", "letter.pdf"), ("pdf", "supplementary.pdf"),
                      ("cover", "cover_letter.pdf")):
        assert demo_render[key].read_bytes().startswith(b"%PDF")
        assert summary["pages"][name] == len(PdfReader(demo_render[key]).pages)
    assert summary["pages"]["cover_letter.pdf"] == 1
    assert json.loads(demo_render["report"].read_text()) == summary
    figures = sorted((demo_render["pdf"].parent / "figures").glob("*.png"))
    assert len(figures) == 7  # the supplement's seven, one of them the letter's Fig. 1
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in figures)
    assert not list(demo_render["pdf"].parent.glob(".*tmp-*"))


def test_auc_table_numbers_match_metrics(demo_render: dict[str, Any]) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    metrics = demo_render["tree"]["metrics_dir"]
    stats = json.loads((metrics / "stats.json").read_text())
    expected = []
    for method in METHODS:
        boot = stats["paper_split"]["bootstrap"][method]
        expected += [fmt.auc(stats["seed_summary"]["paper"][method]["mean"]),
                     fmt.interval(boot["ci"])]
        for scheme in ("leaky", "grouped"):
            entry = stats["seed_summary"][scheme][method]
            expected += [fmt.mean_sd(entry["mean"], entry["sd"]), fmt.interval(entry["ci95"])]
    assert_in_order(text, "Supplementary Table 3 |", expected)


@pytest.mark.parametrize(("table", "caption"), [
    ("leaky_minus_grouped", "Supplementary Table 4 |"),
    ("vs_best_stress_metric", "Supplementary Table 6 |"),
])
def test_significance_table_numbers_match_stats(
    demo_render: dict[str, Any], table: str, caption: str,
) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    stats = json.loads((demo_render["tree"]["metrics_dir"] / "stats.json").read_text())
    rows = sorted(stats["tables"][table]["rows"], key=lambda r: METHODS.index(r["method"]))
    expected = []
    for row in rows:
        expected += [fmt.diff(row["estimate"]), simultaneous(row),
                     fmt.statistic(row["statistic"]), fmt.dof(row["df"]),
                     fmt.p_cell(row["p_value"]), fmt.p_cell(row["p_holm"])]
    assert_in_order(text, caption, expected)
    assert flat(stats["tables"][table]["family"]) in text


def test_decomposition_table_numbers_match_stats(demo_render: dict[str, Any]) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    stats = json.loads((demo_render["tree"]["metrics_dir"] / "stats.json").read_text())
    leak = {r["method"]: r for r in stats["tables"]["leakage_term"]["rows"]}
    expected = []
    for method in COMPETITORS:  # the negative control has its own tests
        entry = stats["decomposition"][method]
        expected += [fmt.diff(entry["paper_minus_grouped"]),
                     fmt.diff(entry["reference_paper_minus_grouped"]),
                     fmt.diff(entry["leakage_term"]),
                     simultaneous(leak[method]),
                     fmt.p_cell(leak[method]["p_holm"])]
    assert_in_order(text, "Supplementary Table 5 |", expected)


def test_the_negative_control_is_reported_with_its_own_family(
    demo_render: dict[str, Any],
) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    stats = json.loads((demo_render["tree"]["metrics_dir"] / "stats.json").read_text())
    control = stats["tables"]["negative_control"]
    expected = [flat(control["family"])]
    for row in control["rows"]:
        expected += [fmt.diff(row["estimate"]), simultaneous(row)]
    assert_in_order(text, "negative control, tested in a family of its own", expected)


def test_audit_names_straddling_sequences(demo_render: dict[str, Any]) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    assert_in_order(text, "Supplementary Table 1 |", ["1985NAHANx", "1985NAHANx02CCCC", "25.0%",
                                        "1999CHICHx", "1999CHICHx02WUxx", "12.5%"])
    assert "no earthquake straddles" in text


def test_the_supplement_says_why_no_spatiotemporal_clusters_were_formed(
    tree: dict[str, Path],
) -> None:
    audit = json.loads((tree["metrics_dir"] / "leakage_audit.json").read_text())
    for by_partition in audit.values():
        for levels in by_partition.values():
            levels.pop("spatiotemporal", None)
    write_json(tree["metrics_dir"] / "leakage_audit.json", audit)
    reason = "199 of the 199 slip models, in 148 of the 148 earthquakes, lack an epicentre"
    splits = json.loads(tree["splits"].read_text())
    splits["spatiotemporal"] = {"groups": None, "not_computed_because": reason}
    write_json(tree["splits"], splits)
    inputs = load_inputs(tree["metrics_dir"], tree["plots_dir"], tree["results_dir"],
                         tree["splits"], CURVES, tree.get("operating"))
    provenance = collect(inputs=inputs.files, params=PARAMS, features=inputs.features,
                         commands=[])
    html = render_html(build_context(inputs, PARAMS, {}, provenance), TEMPLATES,
                       "supplementary.html.j2")
    text = flat(re.sub(r"<[^>]+>", " ", html))
    assert f"Spatio-temporal clusters were not formed: {reason}" in text


@pytest.mark.parametrize("document", ["letter", "pdf", "cover"])
def test_demo_mark_on_every_page_and_generation_on_first(
    demo_render: dict[str, Any], document: str
) -> None:
    pages = [flat(t) for t in page_texts(demo_render[document])]
    assert all(DEMO_MARK in page for page in pages)
    first = pages[0]
    assert "seed 2018" in first and "leakage strength 1" in first
    assert "sequence share 0.8" in first and "“small”" in first
    # the planted truth: what a verdict should find
    assert "6 region-year sequences, 2 of them with more than one earthquake" in first
    assert "transferable strength 0" in first and "No transferable signal was planted" in first
    assert ("the transferable signal adds 0.000 to the AUC of the best forecast of the stress, "
            f"and knowing each sequence{Q}s own response adds 0.041") in first


def test_provenance_and_signatures(demo_render: dict[str, Any]) -> None:
    text = flat(" ".join(page_texts(demo_render["pdf"])))
    assert "A. Author" in text and "Elsewhere Institute" in text and "1 April 2025" in text
    assert "2023-11-14T22:13:20Z" in text  # SOURCE_DATE_EPOCH
    assert "not a git checkout" in text
    assert "replicate letter --out paper/letter.pdf" in text
    import hashlib
    digest = hashlib.sha256((demo_render["tree"]["metrics_dir"] / "stats.json")
                            .read_bytes()).hexdigest()
    assert digest in text.replace(" ", "")
    reader = PdfReader(demo_render["pdf"])
    assert reader.metadata.get("/CreationDate", "").startswith("D:20231114221320")
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/DescendantFonts" in font:  # Type0 (CID) font: the descriptor is below
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.add(str(font["/BaseFont"]))
    assert all("DejaVu" in name for name in fonts)


def test_two_renders_identical_bytes(demo_render: dict[str, Any], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(demo_render["root"])
    # same inputs, another output directory: the bytes must not depend on paths either
    render(demo_render["tree"], tmp_path / "again" / "letter.pdf")
    for name in ("letter.pdf", "supplementary.pdf", "cover_letter.pdf", "letter.json"):
        assert ((tmp_path / "again" / name).read_bytes()
                == (demo_render["pdf"].parent / name).read_bytes()), name
    first = sorted(p.name for p in (demo_render["pdf"].parent / "figures").glob("*.png"))
    assert first
    for name in first:
        assert ((tmp_path / "again" / "figures" / name).read_bytes()
                == (demo_render["pdf"].parent / "figures" / name).read_bytes())


def test_no_demo_mark_without_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = build_tree(tmp_path, demo=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    params = {**PARAMS, "data": {**PARAMS["data"], "source": "local"}}
    # no authors: a placeholder signature
    params["letter"] = {"plateau_tolerance": 0.01, "limits": PARAMS["letter"]["limits"]}
    out = tmp_path / "paper" / "letter.pdf"
    render(tree, out, params, use_splits=False)
    pages = [flat(t) for name in ("letter.pdf", "supplementary.pdf", "cover_letter.pdf")
             for t in page_texts(out.parent / name)]
    assert not any(DEMO_MARK in page or "synthetic" in page.lower() for page in pages)
    assert "The authors" in " ".join(pages)
    # a local copy is described as one, with its counts; only a download is "published"
    letter = " ".join(flat(t) for t in page_texts(out))
    assert "The data are 14 slip models (26,000 cells, 2.1% with aftershocks)" in letter
    assert "read from a local copy" in letter and "The data are the published" not in letter
    params["data"] = {**PARAMS["data"], "source": "devries2018"}
    render(tree, out, params, use_splits=False)
    letter = " ".join(flat(t) for t in page_texts(out))
    assert "The data are the published slip models" in letter
    assert f"downloaded from the authors{Q} folder (14 slip models, 26,000 cells" in letter
    # the data availability statement names the folder (the demo's says it was not used)
    assert f"Google Drive folder (folder {PARAMS['data']['drive_folder'][:8]}" in letter


@pytest.mark.parametrize(("grouped_by", "unit"), [
    ("sequence", "region-year sequences (the first 10 characters)"),
    ("physical", "physical sequences (name prefixes joined by shared origin times, a reviewed "
                 "link table of published earthquakes whose aftershock zones overlap within "
                 "365 days and, where epicentres are known, spatio-temporal clusters)"),
    ("spatiotemporal", "spatio-temporal clusters (earthquakes whose epicentres lie within "
                       "100 km and origin times within 365 days, transitively)"),
])
def test_the_grouped_unit_is_worded_from_the_split_settings(grouped_by: str, unit: str) -> None:
    from aftershock_replication.params import SplitParams
    from aftershock_replication.report.run_description import split_settings

    split = SplitParams.from_params({**PARAMS, "split": {**PARAMS["split"],
                                                         "grouped_by": grouped_by}})
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES))) \
        .from_string('{% from "macros.html.j2" import grouped_unit %}{{ grouped_unit(split) }}')
    assert template.render(split=split_settings(split)) == unit


# ---------------------------------------------------------------- wording follows statistics


def context_text(tree: dict[str, Path], stats: dict[str, Any], tmp_path: Path,
                 template: str = "supplementary.html.j2") -> str:
    """A document's HTML text (by default the supplement's) for modified statistics (no
    PDF: the wording is in the HTML)."""
    write_json(tree["metrics_dir"] / "stats.json", stats)
    inputs = load_inputs(tree["metrics_dir"], tree["plots_dir"], tree["results_dir"],
                         tree["splits"], CURVES, tree.get("operating"))
    provenance = collect(inputs=inputs.files, params=PARAMS, features=inputs.features,
                         commands=[])
    context = build_context(inputs, PARAMS, {}, provenance)
    html = render_html(context, TEMPLATES, template)
    return flat(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    return build_tree(tmp_path)


def _stats(tree: dict[str, Path]) -> dict[str, Any]:
    return json.loads((tree["metrics_dir"] / "stats.json").read_text())


def test_baseline_wording_flips_with_holm_p(tree: dict[str, Path], tmp_path: Path) -> None:
    stats = _stats(tree)
    text = context_text(tree, stats, tmp_path)
    assert "No fitted method, the network included, scores significantly higher" in text
    assert "No trained model, the deep network included, significantly beats" in text
    flipped = copy.deepcopy(stats)
    for row in flipped["tables"]["vs_best_stress_metric"]["rows"]:
        if row["method"] == "neural_network":
            update_row(row, estimate=0.03, p_value=0.0001, p_holm=0.001)
    text = context_text(tree, flipped, tmp_path)
    assert "The neural network scores significantly higher than the reference metric" in text
    assert "No fitted method, the network included" not in text
    assert "The neural network beats the best untrained stress metric significantly" in text
    worse = copy.deepcopy(stats)
    for row in worse["tables"]["vs_best_stress_metric"]["rows"]:
        if row["method"] in ("svm", "gam"):
            update_row(row, estimate=-0.05, p_value=0.0001, p_holm=0.0004)
    text = context_text(tree, worse, tmp_path)
    assert ("the support vector machine and the generalised additive model score "
            "significantly lower") in text


def test_drop_and_leakage_wording_flip(tree: dict[str, Path], tmp_path: Path) -> None:
    stats = _stats(tree)
    text = context_text(tree, stats, tmp_path)
    assert f"lowers no method{Q}s AUC significantly" in text
    # the leakage term's tight interval around +0.004 lies within the smallest effect
    assert ("(p = 1.000, Holm-adjusted): equivalent, within ±0.020, the smallest effect of "
            "interest (two one-sided tests, p = 0.002, Holm-adjusted)") in text
    assert "No fitted method has a significant leakage term" in text
    assert (f"a metric that cannot leak drops by about 75% of the neural network{Q}s drop, "
            "which points to the composition of the paper") in text
    assert "(a description of one split; the test is the leakage term)" in text
    flipped = copy.deepcopy(stats)
    for row in flipped["tables"]["leaky_minus_grouped"]["rows"]:
        if row["method"] in ("neural_network", "von_mises"):
            update_row(row, p_holm=0.01)
    for row in flipped["tables"]["leakage_term"]["rows"]:
        if row["method"] == "neural_network":
            update_row(row, estimate=0.03, p_holm=0.004)
    flipped["decomposition"]["neural_network"]["reference_paper_minus_grouped"] = -0.01
    text = context_text(tree, flipped, tmp_path)
    assert (f"lowers the AUC significantly, after Holm{Q}s correction, for the von Mises criterion "
            "and the neural network") in text
    assert "The drop is significant also for untrained metrics (the von Mises criterion)" in text
    assert "significant — part of its advantage" in text
    assert "the leakage term is significant for the neural network" in text
    assert f"composition does not explain the neural network{Q}s drop" in text


def test_matched_leakage_leads_and_never_claims_absence_from_few_splits(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    stats = _stats(tree)
    text = context_text(tree, stats, tmp_path)
    # the fixture: three splits, small effects whose interval reaches beyond the smallest
    # effect of interest: undecided, never absent
    assert "Leakage is measured best on identical test cells" in text
    assert text.index("identical test cells") < text.index("A second, secondary estimate")
    # the simultaneous interval over the family's three methods (wider than the marginal)
    assert (f"the neural network{Q}s AUC on the exposed test earthquakes changed by +0.003 "
            f"[{fmt.MINUS}0.028, 0.035] relative to the unexposed ones") in text
    assert (f"mean over 3 splits, simultaneous 95% CI with the split as unit, "
            f"Nadeau{fmt.EN_DASH}Bengio corrected") in text
    # the exposed earthquakes alone are reported, not tested
    assert ("Reported but not tested: on the exposed earthquakes alone, each averaged over the "
            "splits that tested it exposed and then over its sequence, the effect is "
            f"+0.003 [{fmt.MINUS}0.014, 0.021] (4 sequences)") in text
    assert ("undecided, neither a difference nor equivalence within ±0.020 is shown (the test "
            "would detect 0.040 with 80% power; the data rule out only differences beyond "
            "±0.025)") in text
    assert "the matched test is undecided with 3 splits" in text
    assert "rules out only changes beyond ±0.025" in text
    assert "equivalent" not in text.split("Supplementary Table 2 |")[0].split(
        "Leakage is measured best")[1]
    # ten splits with a consistent positive effect: significant, the conclusion says so
    leak = build_leakage({"neural_network": [0.03] + [0.02 + 0.002 * (i % 3) for i in range(10)],
                          "random_forest": [0.0] + [0.001 * (-1) ** i for i in range(10)]})
    write_json(tree["metrics_dir"] / "leakage.json", leak)
    text = context_text(tree, stats, tmp_path)
    # claimed: the simultaneous interval ends at zero on the claimed side
    assert (f"the neural network{Q}s AUC on the exposed test earthquakes rose by +0.044 "
            "(0, 0.049] relative to the unexposed ones") in text
    assert "the effect is significantly positive for the neural network;" in text
    # the letter's claim carries its number, interval and Holm-adjusted p
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert "The rise is significant for the neural network (+0.044 (0, 0.049], p " in letter
    # the forest's contrasts (+-0.002 around 0) lie within the smallest effect
    assert (", Holm-adjusted); for the random forest the change is equivalent to zero within "
            "±0.020 (Supplementary Table 2)") in letter
    # several leaking methods are listed "A, B and C", in the letter and the supplement
    rising = [0.03] + [0.02 + 0.002 * (i % 3) for i in range(10)]
    write_json(tree["metrics_dir"] / "leakage.json", build_leakage(
        {m: rising for m in ("neural_network", "random_forest", "logistic")}))
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    listed = re.findall(r"The rise is significant for (.*?) \(Supplementary", letter)[0]
    assert re.fullmatch(r"[a-z ]+ \([^)]+\), [a-z ]+ \([^)]+\) and [a-z ]+ \([^)]+\)",
                        listed), listed
    assert all(name in listed for name in ("neural network", "random forest", "logistic")), listed
    supplement = context_text(tree, stats, tmp_path)
    found = re.search(r"on the exposed earthquakes, relative to the unexposed ones of the "
                      r"same split, significantly for ([a-z ]+ \(\S+ \(0, [^]]+\], [^)]+\), "
                      r"[a-z ]+ \([^)]+\) and [a-z ]+ \([^)]+\))\.", supplement)
    assert found and all(name in found[1] for name in ("neural network", "random forest",
                                                        "logistic")), supplement
    assert "On all test cells the effect is +0.022 [0.019, 0.024]" in text
    # the paper's split is one split: estimates and its within-split contrast, no interval
    assert ("so its estimates carry no interval and decide nothing. On it the effect is "
            "+0.060 on its 4 exposed test earthquakes, 0.000 on its 2 unexposed ones, the "
            "control (per-earthquake means differ by +0.060), and +0.030 on all 6") in text
    # every size-control draw is counted once (the same draw serves every method): exact
    # in both cells and aftershock cells, and how much of what it removed was trimmed
    assert ("11 of 11 draws matched both counts exactly; 11 of them trimmed cells, 30.0% of "
            "all the cells they removed") in text
    # the future-only arm: the later neighbours carry the leak, reported with its interval
    assert (f"the later neighbours changed the neural network{Q}s AUC on the 2 test "
            "earthquakes that had them by +0.044 [0.039, 0.049]") in text
    assert (f"On the paper{Q}s split 2 test earthquakes had later neighbours in training; the "
            "later-neighbour contrast there is +0.060 (one split, no interval)") in text
    assert ("Leakage is not rare in effect: on identical test cells, training with the test "
            f"earthquakes{Q} sequence neighbours raises the AUC on the exposed earthquakes, "
            "relative to the unexposed ones of the same split, significantly for the neural "
            "network (+0.044 (0, 0.0") in text
    assert "for the random forest it is equivalent to zero within ±0.020" in text


def test_failed_fits_are_named_with_the_comparison_without_them(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    stats = _stats(tree)
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert ("Its fit failed on 1 of the 3 grouped splits, ranking its own training cells "
            "more than 0.020 below the best untrained metric; without that split the "
            "difference is "
            "+0.006") in letter
    supplement = context_text(tree, stats, tmp_path)
    assert ("The neural network failed on 1 of 7 partitions (random splits by sequence "
            "(grouped) 1; e.g. training-cell AUC 0.503 against 0.650 for the von Mises "
            f"criterion); its training took 1{fmt.EN_DASH}2 gradient steps per "
            "epoch.") in supplement
    assert "Supplementary Table 8 | The tests of Supplementary Tables 6" in supplement
    healthy = copy.deepcopy(stats)
    for entry in healthy["fit_health"]["methods"].values():
        entry.update(failed={}, failures=0)
    assert "No fit failed." in context_text(tree, healthy, tmp_path)
    assert "Its fit failed" not in context_text(tree, healthy, tmp_path, "letter.html.j2")


# the network's baseline row (estimate, raw p, Holm p) and its matched leakage per split
NO_LEAK = [0.0] + [0.001 * (-1) ** i for i in range(10)]
SCENARIOS = {
    "nothing planted": ((-0.004, 0.6, 0.9), NO_LEAK),
    "a transferable signal, no leak": ((0.05, 0.0001, 0.0005), NO_LEAK),
    "a leak, no transferable signal": ((-0.05, 0.0002, 0.001),
                                       [0.03] + [0.02 + 0.002 * (i % 3) for i in range(10)]),
}
HEADLINES = {
    "nothing planted": (
        "the network scores within 0.020 of the best stress metric that needs no training",
        f"training with a test earthquake{Q}s sequence neighbours changes the network{Q}s "
        "score on the same test cells by less than 0.020",
        "Deep learning brings no advantage of 0.020 in AUC or more for this task."),
    "a transferable signal, no leak": (
        "the network scores significantly higher than the best stress metric that needs no "
        "training (difference +0.050)",
        f"training with a test earthquake{Q}s sequence neighbours changes the network{Q}s "
        "score on the same test cells by less than 0.020",
        "Against the stress metrics the original paper itself pointed to, the network keeps a "
        "significant advantage.",
        "The network beats the best untrained stress metric under grouped splits"),
    "a leak, no transferable signal": (
        "the network scores significantly lower than the best stress metric that needs no "
        f"training (difference {fmt.MINUS}0.050)",
        f"training with a test earthquake{Q}s sequence neighbours raises the network{Q}s score "
        "on the same test cells (by +0.044)",
        "Deep learning brings no advantage of 0.020 in AUC or more for this task."),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_headline_sentences_follow_the_verdicts_of_each_scenario(
    tree: dict[str, Path], tmp_path: Path, scenario: str,
) -> None:
    """The letter's headline findings say what the tests found, in each of three truths:
    nothing planted, a transferable signal only, a leak only (no sentence holds only for the
    default demo)."""
    (estimate, p_value, p_holm), network_leak = SCENARIOS[scenario]
    stats = _stats(tree)
    for row in stats["tables"]["vs_best_stress_metric"]["rows"]:
        if row["method"] == "neural_network":
            update_row(row, estimate=estimate, p_value=p_value, p_holm=p_holm,
                       ci=[estimate - 0.009, estimate + 0.009])
    write_json(tree["metrics_dir"] / "leakage.json", build_leakage(
        {"neural_network": network_leak, "random_forest": NO_LEAK}))
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    for sentence in HEADLINES[scenario]:
        assert sentence in letter, (scenario, sentence)
    others = {s for name, sentences in HEADLINES.items() if name != scenario
              for s in sentences} - set(HEADLINES[scenario])
    assert not [s for s in others if s in letter], scenario


def test_the_supplement_quotes_the_operating_characteristics(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    """Supplementary Table 10: false claims where nothing was planted (raw p), correct
    claims where a leak was (Bonferroni bound), each with its interval; untrained metrics
    summed in the text."""
    text = context_text(tree, _stats(tree), tmp_path)
    assert "Supplementary Table 10 | Verdicts on generated data of known truth" in text
    table = text.split("Supplementary Table 10 |")[1]
    # logistic regression's baseline at the null: only "higher" is a false claim (2 of 100)
    minus, dash = fmt.MINUS, fmt.EN_DASH
    assert (f"Logistic regression {minus} best metric "
            f"0 : 0 null {minus}0.020 [{minus}0.022, {minus}0.018] 2/100 (2.0%; 95% CI "
            f"0.24%{dash}7.0%) {dash} 10/100") in table
    # its matched leakage at the null: both signs are false claims (4 + 3)
    assert (f"null 0.000 [{minus}0.002, 0.002] 7/100 (7.0%; 95% CI 2.9%{dash}13.9%)") in table
    assert (f"Random forest matched leakage 0 : 2 planted +0.025 "
            f"[0.023, 0.027] {dash} 21/30 (70.0%; 95% CI 50.6%{dash}85.3%) 0/30") in table
    assert ("(for the verdicts this letter prints, the largest upper end of their intervals "
            "is 13.9%)") in text
    assert ("the leaky-minus-grouped test made 0 false claims in 100 tests where no leak "
            "was planted") in text
    # what the tests can detect: the planted row's power, flagged below 80 %
    assert (f"What the tests can detect: the random forest{Q}s matched leakage at 0 : 2 (mean "
            f"estimate +0.025 [0.023, 0.027]) reached the correct claim in 21/30 (70.0%; 95% CI "
            f"50.6%{dash}85.3%) of the datasets, below 80%: at effects of this size an "
            "undecided verdict is expected and says nothing about absence.") in text


def test_an_interval_over_too_few_earthquakes_is_never_read_as_inference(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    """The paper's split has few test earthquakes: the letter gives the network's
    difference from the reference without a verdict, with the simulated coverage; with
    enough earthquakes (100 simulated at 93 %) the interval is read as before."""
    stats = _stats(tree)
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert (f"network{Q}s difference from the von Mises criterion is +0.011; one split with "
            "4 test earthquakes decides nothing (a 95% cluster-bootstrap interval 13 over so "
            "few covers only 68.9% in simulation") in letter
    assert "no significant difference" not in letter
    for entry in stats["paper_split"]["bootstrap_vs_reference"].values():
        entry["clusters"] = 120
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert (f"von Mises criterion is +0.011 [{fmt.MINUS}0.013, 0.034] (95% CI, cluster "
            "bootstrap over 120 earthquakes") in letter
    assert "no significant difference" in letter


def test_paper_split_interval_by_sequence_carries_its_caveat(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    text = context_text(tree, _stats(tree), tmp_path)
    assert "Resampling whole region-year sequences instead gives 0.0290" in text
    # the simulation's coverage at that many clusters (the skewed shape, the worse one)
    assert ("3 test sequences, over which such an interval covers only 68.9% in simulation"
            in text)
    assert "and every shape reached 93% only with 100 clusters." in text


def test_train_test_and_curve_wording_flip(tree: dict[str, Path], tmp_path: Path) -> None:
    stats = _stats(tree)
    text = context_text(tree, stats, tmp_path)
    assert "scores higher on the test cells" in text  # fixture: train AUC below test AUC
    assert "the test AUC does not exceed the training AUC" not in text
    auc = json.loads((tree["metrics_dir"] / "auc.json").read_text())
    nn = auc["paper"]["neural_network"]
    nn["train_pooled"]["mean"] = nn["pooled"]["mean"] + 0.05
    write_json(tree["metrics_dir"] / "auc.json", auc)
    text = context_text(tree, stats, tmp_path)
    assert "scores higher on the test cells" not in text
    assert "the test AUC does not exceed the training AUC" in text
    # the fixture's curves: all rows add 0.03 to 1% of them, under 0.01 from 3% on
    assert "Every method is equivalent to its full fit with a tenth of its rows or less" in text
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert ("From 3.0% of the rows on, its AUC is equivalent to that with all of them within "
            "±0.020") in letter
    curve = tree["plots_dir"] / "learning_curve" / "neural_network.csv"
    table = pd.read_csv(curve)
    table.loc[table["train_rows"] == table.groupby("seed")["train_rows"].transform("max"),
              "test_auc"] += 0.2
    table.to_csv(curve, index=False)
    text = context_text(tree, stats, tmp_path)
    assert "Every method is equivalent to its full fit" not in text
    assert "At least one method is not shown equivalent to its full fit" in text
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert "No smaller share is shown equivalent to all rows within ±0.020" in letter
    # the network's curve: fixed training length, and its unconverged full-data fit is named
    assert "trained for the same number of steps at every share" in text
    assert "still falling at the last epoch of the full-data fit in 1 of 3 seeds" in text


# ---------------------------------------------------------------- errors and formatting


@pytest.mark.parametrize("missing", ["metrics/stats.json", "metrics/auc.json",
                                     "metrics/leakage.json",
                                     "plots/roc/svm.csv", "results/per_slip_model/gam.csv",
                                     "metrics/learning_curve/logistic.json"])
def test_missing_input_names_the_file(tmp_path: Path, missing: str) -> None:
    tree = build_tree(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(InputError, match=re.escape(str(tmp_path / missing))):
        render(tree, tmp_path / "paper" / "letter.pdf")
    assert not (tmp_path / "paper" / "letter.pdf").exists()


def _claimed(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first row, turned into a claim ("higher") as the statistics stage writes one."""
    update_row(rows[0], p_holm=0.001)
    assert rows[0]["verdict"] == "higher"
    return rows[0]


def leak_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    return stats["tables"]["leakage_term"]["rows"]


# (file, edit of its payload, the message): each is a file a user could have edited by hand
# or an older version left; none may render as a dash or as a claim without its number
BAD_METRICS = {
    "nan": ("stats.json", lambda d: leak_rows(d)[0].update(estimate=float("nan")),
            r"tables\.leakage_term\.rows\.0\.estimate is NaN, which no stage writes"),
    "missing_key": ("stats.json", lambda d: leak_rows(d)[0].pop("p_value"),
                    r"tables\.leakage_term\.rows\.0\.p_value: Field required"),
    "missing_table": ("stats.json", lambda d: d["tables"].pop("leakage_term"),
                      r"tables\.leakage_term: Field required"),
    "string_for_number": ("stats.json", lambda d: leak_rows(d)[0].update(p_holm="0.01"),
                          r"rows\.0\.p_holm: Input should be a valid number \(found '0\.01'\)"),
    "claim_without_estimate": (
        "stats.json", lambda d: _claimed(leak_rows(d)).update(estimate=None),
        r"rows\.0: Value error, the verdict 'higher' is printed with its estimate, which is "
        "missing or null"),
    "claim_without_interval": (
        "stats.json", lambda d: _claimed(leak_rows(d)).update(ci_simultaneous=[0.0, None]),
        r"the verdict 'higher' is printed with its ci_simultaneous"),
    "claim_above_alpha": (
        "stats.json", lambda d: _claimed(leak_rows(d)).update(p_holm=0.2),
        r"tables\.leakage_term: Value error, row 0 \(logistic\): the verdict 'higher' "
        r"needs an adjusted p below alpha 0\.05, got 0\.2"),
    "claim_without_failed_fits_above_alpha": (
        "stats.json",
        lambda d: d["tables"]["leaky_minus_grouped"]["rows"][0]["without_failed_fits"].update(
            verdict="higher", p_holm=0.9),
        r"row 0 \(coulomb\) without_failed_fits: the verdict 'higher' needs an adjusted p "
        r"below alpha 0\.05, got 0\.9"),
    "table_at_another_level": (
        "stats.json", lambda d: d["tables"]["leakage_term"].update(alpha=0.5),
        r"tables\.leakage_term\.alpha 0\.5 differs from alpha 0\.05"),
    "claim_against_sign": (
        "stats.json", lambda d: _claimed(leak_rows(d)).update(verdict="lower"),
        r"the verdict 'lower' contradicts the estimate 0\.004"),
    "unknown_verdict": ("stats.json", lambda d: leak_rows(d)[0].update(verdict="better"),
                        r"rows\.0\.verdict: Input should be 'higher', 'lower'"),
    "leakage_without_verdict": (
        "leakage.json", lambda d: d["methods"]["random_forest"]["contrast"].pop("verdict"),
        r"methods\.random_forest: the tested entry \(contrast\) has no verdict"),
    "audit_share_as_text": (
        "leakage_audit.json",
        lambda d: d["paper"]["paper"]["sequence"][0].update(test_row_share="25%"),
        r"paper\.paper\.sequence\.0\.test_row_share: Input should be a valid number"),
    "bool_as_text": ("auc.json", lambda d: d["paper"]["svm"].update(fitted="yes"),
                     r"paper\.svm\.fitted: Input should be a valid boolean \(found 'yes'\)"),
}


@pytest.mark.parametrize("case", BAD_METRICS)
def test_a_value_the_letter_prints_is_checked_against_the_schema(
        case: str, tmp_path: Path) -> None:
    """A metrics file that does not match the schema (a NaN, a missing key, a string for a
    number, a verdict without the numbers it is printed with or at odds with them) stops the
    letter with a message naming the file, the key and the stage that rebuilds it."""
    name, edit, message = BAD_METRICS[case]
    tree = build_tree(tmp_path)
    path = tree["metrics_dir"] / name
    payload = json.loads(path.read_text())
    edit(payload)
    path.write_text(json.dumps(payload))  # as edited: NaN too
    producer = {"stats.json": "stats", "leakage.json": "leakage_summary",
                "auc.json": "aggregate", "leakage_audit.json": "split"}[name]
    with pytest.raises(InputError) as raised:
        render(tree, tmp_path / "paper" / "letter.pdf")
    assert re.search(message, str(raised.value)), str(raised.value)
    assert str(raised.value).startswith(str(path))
    assert re.search(rf"[Rr]erun the {producer} stage", str(raised.value))
    assert not (tmp_path / "paper" / "letter.pdf").exists()


def test_formatting() -> None:
    assert fmt.auc(0.84949) == "0.849"
    assert fmt.p_value(0.0004) == "p < 0.001"
    assert fmt.p_value(0.01249) == "p = 0.012"
    assert fmt.p_cell(None) == fmt.MISSING
    assert fmt.interval([0.7123, 0.8009]) == "[0.712, 0.801]"
    assert fmt.diff(-0.0123) == f"{fmt.MINUS}0.012"
    assert fmt.diff(0.0123) == "+0.012"
    assert fmt.diff(-0.0001) == "0.000"
    assert fmt.mean_sd(0.77, 0.0123) == "0.770 ± 0.012"
    assert fmt.percent(0.25) == "25.0%"
    assert fmt.integer(1378120) == "1,378,120"
    assert fmt.dof(2.0) == "2"


# ------------------------------------------------------- limits, attachments, provenance


def test_count_letter_counts_only_what_the_journal_counts() -> None:
    html = """<html><head><title>Three title words</title></head><body>
    <h1>Not counted</h1>
    <section class="counted"><p>One two <b>three</b> four<sup>1,2</sup>.</p>
      <figure class="display-item"><figcaption>caption words not counted</figcaption></figure>
      <p>five six&nbsp;seven</p></section>
    <div class="display-item"><table><tr><td>cell</td></tr></table></div>
    <section class="methods"><p>methods words are not counted</p></section>
    <section class="references"><ol><li>A.</li><li>B.</li><li>C.</li></ol></section>
    <ol><li>not a reference</li></ol></body></html>"""
    counts = count_letter(html)
    # the superscript citation is not counted, nor the full stop left after it
    assert counts.as_dict() == {"words": 7, "display_items": 2, "references": 3}


def test_the_letter_keeps_the_journal_limits(demo_render: dict[str, Any]) -> None:
    report = json.loads(demo_render["report"].read_text())
    letter, limits = report["letter"], report["letter"]["limits"]
    assert 300 < letter["words"] <= limits["words"] == 1200
    assert letter["display_items"] == limits["display_items"] == 2
    assert 5 <= letter["references"] <= limits["references"] == 15
    text = flat(" ".join(page_texts(demo_render["letter"])))
    assert "Table 1 |" in text and "Fig. 1 |" in text and "Table 2 |" not in text
    assert "References" in text and "Nadeau, C. & Bengio, Y." in text


@pytest.mark.parametrize(("key", "limit"), [("words", 100), ("display_items", 1),
                                             ("references", 3)])
def test_a_lowered_limit_stops_the_stage_and_writes_nothing(
    demo_render: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    key: str, limit: int,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    params = copy.deepcopy(PARAMS)
    params["letter"]["limits"][key] = limit
    counted = json.loads(demo_render["report"].read_text())["letter"][key]
    with pytest.raises(InputError) as raised:
        render(demo_render["tree"], tmp_path / "paper" / "letter.pdf", params)
    message = str(raised.value)
    assert f"letter.limits.{key}" in message and f"{counted} " in message
    assert f"limit {limit}" in message and "letter.html.j2" in message
    written = list((tmp_path / "paper").glob("*")) if (tmp_path / "paper").exists() else []
    assert not [path for path in written if path.suffix in (".pdf", ".json")]


def test_letter_table_numbers_match_stats(demo_render: dict[str, Any]) -> None:
    text = flat(" ".join(page_texts(demo_render["letter"])))
    stats = json.loads((demo_render["tree"]["metrics_dir"] / "stats.json").read_text())
    leakage = json.loads((demo_render["tree"]["metrics_dir"] / "leakage.json").read_text())
    rows = {r["method"]: r for r in stats["tables"]["vs_best_stress_metric"]["rows"]}
    expected = []
    for method in ["neural_network"] + [m for m in COMPETITORS if m != "neural_network"]:
        row = rows[method]
        expected += [fmt.diff(row["estimate"]), simultaneous(row),
                     fmt.p_cell(row["p_holm"])]
        if method in leakage["methods"]:
            leak = leakage["methods"][method][leakage["primary_test"]]
            expected += [fmt.diff(leak["estimate"]),
                         simultaneous(leak)]
    assert_in_order(text, "Table 1 |", expected)


@pytest.mark.parametrize("document", ["letter", "pdf", "cover"])
def test_each_pdf_carries_its_sources_as_pdfa_attachments(
    demo_render: dict[str, Any], document: str
) -> None:
    reader = PdfReader(demo_render[document])
    attached = {name: contents[0] for name, contents in reader.attachments.items()}
    # every input read is attached, byte for byte: metrics, curves, ROC and per-slip-model
    # tables, the splits and the operating characteristics
    tree = demo_render["tree"]
    for key in ("metrics_dir", "plots_dir", "results_dir"):
        root = tree[key]
        for path in root.rglob("*"):
            if path.suffix in (".json", ".csv"):
                name = f"{root.name}/{path.relative_to(root).as_posix()}"
                assert attached.get(name) == path.read_bytes(), name
    assert attached[f"{tree['splits'].parent.name}/{tree['splits'].name}"] == \
        tree["splits"].read_bytes()
    # ... and each once: PDF/A-3's /AF array lists every embedded file a single time
    relationships = [entry.get_object()["/F"] for entry in reader.trailer["/Root"]["/AF"]]
    assert len(relationships) == len(set(relationships)) == len(attached)
    # the params the results depend on, as a file the pipeline runs from: every section of
    # the params file but compute (where the work ran), whose defaults then apply
    params = yaml.safe_load(demo_render["tree"]["params"].read_text())
    rerun = yaml.safe_load(attached["params.yaml"])
    assert rerun == {key: value for key, value in params.items() if key != "compute"}
    assert ComputeParams.from_params(rerun).n_jobs == -1
    provenance = json.loads(attached["provenance.json"])
    assert provenance["rendered"] == "2023-11-14T22:13:20Z"
    assert provenance["inputs_sha256"]["metrics/stats.json"] == hashlib.sha256(
        (tree["metrics_dir"] / "stats.json").read_bytes()).hexdigest()
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert 'pdfaid:part="3"' in raw and 'pdfaid:conformance="B"' in raw
    assert reader.metadata["/Title"] and reader.metadata["/Author"]
    assert "aftershocks" in reader.metadata["/Keywords"]
    # a demo rendering says so in its metadata too, not only on its pages
    assert "synthetic demonstration data" in reader.metadata["/Subject"]
    assert "synthetic demonstration data" in reader.metadata["/Keywords"]


def fonts_of(resources: Any) -> list[Any]:
    """Every font dictionary reachable from a page's resources (through form XObjects)."""
    found, resources = [], resources.get_object() if resources is not None else {}
    for font in (resources.get("/Font") or {}).values():
        found.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            found += fonts_of(xobject.get("/Resources"))
    return found


def test_no_page_but_the_last_is_under_half_full(demo_render: dict[str, Any]) -> None:
    """The letter's counts record every page left under half full by a forced break or a
    figure that did not fit; the demo rendering has none."""
    report = json.loads((demo_render["letter"].parent / "letter.json").read_text())
    assert set(report["pages_under_half_full"]) == {"letter.pdf", "supplementary.pdf",
                                                    "cover_letter.pdf"}
    assert report["pages_under_half_full"] == {name: [] for name in report["pages"]}


def test_page_fill_measures_where_the_content_ends() -> None:
    import weasyprint

    from aftershock_replication.report.render import page_fill, pages_under

    short = weasyprint.HTML(string="<p>one line</p>").render()
    assert page_fill(short.pages[0]._page_box) < 0.1
    tall = weasyprint.HTML(string="<div style='height: 80vh'></div><p>end</p>"
                                  "<p style='break-before: page'>next</p>").render()
    assert page_fill(tall.pages[0]._page_box) > 0.75
    # the last page may be short; an earlier one under the share is listed
    assert pages_under(tall, 0.5) == []
    forced = weasyprint.HTML(string="<p>a</p><p style='break-before: page'>b</p>").render()
    assert pages_under(forced, 0.5) == [1]


@pytest.mark.parametrize("document", ["letter", "pdf", "cover"])
def test_pdfa_3b_structure_holds(demo_render: dict[str, Any], document: str) -> None:
    """No PDF/A validator installs from the registries (veraPDF is a Java application on
    neither PyPI, npm nor Debian), so the parts of PDF/A-3b a renderer can get wrong are
    checked directly: an output intent with its ICC profile, the XMP identification, every
    font embedded, and every attachment's relationship declared once in /AF."""
    reader = PdfReader(demo_render[document])
    root = reader.trailer["/Root"]
    intents = [intent.get_object() for intent in root["/OutputIntents"]]
    assert any(i["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents)
    raw = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in raw and 'pdfaid:conformance="B"' in raw
    fonts = [font for page in reader.pages for font in fonts_of(page.get("/Resources"))]
    assert fonts
    for font in fonts:
        descendants = [d.get_object() for d in font.get("/DescendantFonts") or []]
        for described in [font, *descendants]:
            descriptor = described.get("/FontDescriptor")
            if descriptor is not None:
                descriptor = descriptor.get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), \
                    f"{document}: font {described.get('/BaseFont')} not embedded"
    listed = [entry.get_object() for entry in root["/AF"]]
    assert len({id(entry) for entry in listed}) == len(listed)
    assert all(entry["/AFRelationship"] == "/Source" for entry in listed)
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert sorted(str(name) for name in names[0::2]) == sorted(str(e["/F"]) for e in listed)


def git_in(root: Path, *args: str) -> None:
    """Run git in ``root`` (a scratch repository of a provenance test)."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def commit_all(root: Path) -> None:
    git_in(root, "add", "-A")
    git_in(root, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x")


def test_provenance_follows_the_sources_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    git_in(tmp_path, "init", "-q")
    # the stages' dependencies are the sources; code no stage reads is not
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {
        "fit": {"foreach": ["a"], "do": {"cmd": "x", "deps": ["src/${item}.py"]}},
        "letter": {"cmd": "y", "deps": ["paper/letter.html.j2", "metrics/auc.json"]}}}))
    for name in ("src/code.py", "metrics/auc.json", "dvc.lock", "paper/letter.pdf",
                 "paper/letter.html.j2", "README.md", "src/benchmarks.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1\n")
    commit_all(tmp_path)
    for name in ("metrics/auc.json", "dvc.lock", "paper/letter.pdf", "plots/new.csv",
                 "README.md", "tests/new_test.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("2\n")
    monkeypatch.delenv("SOURCE_COMMIT", raising=False)
    commit, dirty = git_state(tmp_path)
    assert len(commit) == 40 and dirty.startswith("no")
    # in a container the snapshot commit stands for the source commit recorded at build
    monkeypatch.setenv("SOURCE_COMMIT", "ab" * 20)
    assert git_state(tmp_path)[0] == (f"{'ab' * 20} (source, recorded at image build; "
                                      f"snapshot commit {commit})")
    monkeypatch.delenv("SOURCE_COMMIT")
    digest = source_digest(tmp_path)
    assert len(digest) == 64
    (tmp_path / "paper/letter.html.j2").write_text("2\n")
    assert git_state(tmp_path)[1].startswith("yes (1 ")
    (tmp_path / "src/code.py").write_text("2\n")
    assert git_state(tmp_path)[1].startswith("yes (2 ")
    commit_all(tmp_path)
    assert source_digest(tmp_path) != digest and git_state(tmp_path)[1].startswith("no")


def test_params_count_by_the_settings_the_results_depend_on(tmp_path: Path) -> None:
    """A comment or compute.* (where the work runs) in params.yaml changes neither the
    sources digest nor the dirty state, so the letter need not be rendered again; any other
    setting changes both."""
    params = tmp_path / "params.yaml"
    git_in(tmp_path, "init", "-q")
    params.write_text("seeds: 10\ncompute:\n  n_jobs: -1\n")
    commit_all(tmp_path)
    digest = source_digest(tmp_path)
    params.write_text("# where the work runs\nseeds: 10\ncompute:\n  n_jobs: 2\n")
    assert git_state(tmp_path)[1].startswith("no")
    commit_all(tmp_path)
    assert source_digest(tmp_path) == digest
    params.write_text("seeds: 20\ncompute:\n  n_jobs: 2\n")
    assert git_state(tmp_path)[1].startswith("yes (1 ")
    commit_all(tmp_path)
    assert source_digest(tmp_path) != digest
    # a file that is no settings mapping counts by its text (here keys JSON cannot sort)
    params.write_text("1: a\nb: 2\n")
    assert git_state(tmp_path)[1].startswith("yes (1 ")
    commit_all(tmp_path)
    assert git_state(tmp_path)[1].startswith("no")


def test_a_page_holding_only_a_heading_or_signature_is_refused() -> None:
    def pages(body: str) -> list[str]:
        html = f"<html><body>{body}</body></html>"
        return page_problems(render_pdf(html, Path(".")), "x.pdf")

    text = "<p>" + "word " * 400 + "</p>"
    alone = '<div class="signatures"><p>Yours sincerely,</p><p>A. Author</p></div>'
    assert pages(text + text) == []
    assert pages(text + '<h2 style="break-before: page">Heading</h2>') == [
        "x.pdf page 2 holds only a heading or signature"]
    assert pages(text + f'<div style="break-before: page">{alone}</div>') == [
        "x.pdf page 2 holds only a heading or signature"]
    assert pages(text + '<p style="break-before: page">a short last page</p>') == []


def test_scored_cells_says_which_splits_were_sampled() -> None:
    found = scored_cells({"0": (2000, 8000), "1": (3000, 8000), "2": (8000, 8000)})
    assert found == {"sampled": True, "sampled_splits": 2, "splits": 3,
                     "share": f"25%{fmt.EN_DASH}38%"}
    # a sample of 99.8 % of the cells is still a sample: never shown as 100 %
    assert scored_cells({"0": (7990, 8000)})["share"] == "99%"
    assert scored_cells({"0": (8000, 8000)}) == {"sampled": False, "sampled_splits": 0,
                                                 "splits": 1, "share": None}
    assert scored_cells({}) is None


@pytest.mark.parametrize("sampled", [True, False])
def test_the_supplement_says_when_aucs_use_a_sample_of_the_test_cells(
    tree: dict[str, Path], sampled: bool,
) -> None:
    """Cells a method leaves unscored (NaN) are not a sample: only cells never drawn are."""
    plots, metrics = tree["plots_dir"], tree["metrics_dir"]
    for method in CURVES:
        path = plots / "learning_curve" / f"{method}.csv"
        table = pd.read_csv(path).assign(test_cells=8000, test_auc_cells=1900)
        table.assign(test_cells_drawn=2000 if sampled else 8000).to_csv(path, index=False)
    leakage = json.loads((metrics / "leakage.json").read_text())
    for entry in leakage["methods"].values():
        for scheme in entry["partitions"].values():
            for record in scheme.values():
                record.update(scored_test_cells=1400 if sampled else 5900,
                              unscored_test_cells=100)
    write_json(metrics / "leakage.json", leakage)
    inputs = load_inputs(metrics, plots, tree["results_dir"], tree["splits"], CURVES)
    provenance = collect(inputs=inputs.files, params=PARAMS, features=inputs.features,
                         commands=[])
    html = render_html(build_context(inputs, PARAMS, {}, provenance), TEMPLATES,
                       "supplementary.html.j2")
    text = flat(re.sub(r"<[^>]+>", " ", html))
    splits = leakage["methods"]["random_forest"]["partitions"]
    partitions = sum(len(scheme) for scheme in splits.values())
    curve = (f"On 3 of the 3 splits each point{Q}s AUC is computed on every positive test "
             "cell and a seeded sample of the negative ones, drawn once per split and the "
             f"same at every share (25% of the split{Q}s test cells)")
    matched = (f"On {partitions} of the {partitions} splits all arms are scored on the same "
               "cells: every positive test cell and one seeded sample of the negative ones "
               f"(25% of the split{Q}s test cells).")
    assert (curve in text) is sampled and (matched in text) is sampled
    assert ("seeded sample" in text) is sampled


@pytest.mark.parametrize("authors", ["Jane Doe", ["Jane Doe"], [{"affiliation": "X"}],
                                     {"name": "Jane Doe"}])
def test_authors_must_be_a_list_of_names_and_affiliations(authors: Any) -> None:
    """A string (signed letter by letter before), a bare name or an entry without a name is
    refused with the expected shape, naming the parameter."""
    from aftershock_replication.report.context import signatures
    from aftershock_replication.report.letter_params import LetterParams

    letter = {**PARAMS["letter"], "authors": authors}
    with pytest.raises(InputError, match=r"letter\.authors.*\{name, affiliation\}"):
        LetterParams.from_params({"letter": letter})
    parsed = LetterParams.from_params({"letter": {**letter, "authors": [{"name": "Jane Doe"}]}})
    found = signatures(parsed, "1 April 2025")
    assert found["authors"] == [{"name": "Jane Doe", "affiliation": ""}]
    assert found["date"] == PARAMS["letter"]["date"]  # the param, not the render date


def test_the_2019_review_is_answered_by_the_verdicts(tree: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Each objection of the 2019 review gets the answer its test gives: the physical point
    (untrained metrics beat Coulomb stress) is granted only when that test says so."""
    stats = _stats(tree)
    text = context_text(tree, stats, tmp_path)
    assert "The untrained metrics were not compared with Coulomb stress" in text
    # the fixture's matched test of the network is undecided
    assert f"the referee{Q}s claim is neither confirmed nor refuted" in text
    rows = [_row(m, f"{m} minus Coulomb stress (grouped)", 0.15 if m == "von_mises" else 0.01,
                 0.0001 if m == "von_mises" else 0.4, 0.0003 if m == "von_mises" else 0.8)
            for m in ("max_shear", "von_mises", "sum_abs")]
    stats["tables"]["untrained_vs_coulomb"] = {
        "family": "untrained metrics vs Coulomb", "scheme": "grouped", "rows": rows,
        "alpha": ALPHA}
    text = context_text(tree, stats, tmp_path)
    assert ("The numbers support the physical point, and show that it needs no network: with "
            "no training at all, the von Mises criterion (+0.150 (0, 0.157], "
            "p &lt; 0.001, Holm-adjusted) scores significantly higher than Coulomb stress") in text
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert "the physical point of ref. 1 holds, and needs no network" in letter
    for row in rows:
        update_row(row, p_holm=0.5)
    text = context_text(tree, stats, tmp_path)
    assert "no untrained metric scores significantly higher than Coulomb stress" in text
    letter = context_text(tree, stats, tmp_path, "letter.html.j2")
    assert "needs no network" not in letter


def test_the_paper_splits_exposed_effect_is_printed_beside_its_control(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    """An effect on the exposed test earthquakes means leakage only against the unexposed
    ones of the same split, so the supplement never prints the one without the other, nor
    an interval over one split's few earthquakes."""
    text = context_text(tree, _stats(tree), tmp_path)
    assert ("On it the effect is +0.020 on its 4 exposed test earthquakes, 0.000 on its 2 "
            "unexposed ones, the control (per-earthquake means differ by +0.020), and +0.010 "
            "on all 6") in text
    # one split: no interval, and why, with the simulated coverage at its 4 earthquakes
    assert ("covers the truth far less often than 95% of the time (68.9% over 4 clusters in "
            "simulation; Supplementary Methods), so its estimates carry no interval") in text


def test_physical_sequences_are_named_and_the_name_prefixes_kept_as_sensitivity(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    """Grouped by physical sequence, the audit, the leakage wording and the methods say
    physical sequences, and the supplement gives the name-prefix audit beside them."""
    splits = json.loads(tree["splits"].read_text())
    splits["units"] = {"grouped": "physical"}
    write_json(tree["splits"], splits)
    audit = json.loads((tree["metrics_dir"] / "leakage_audit.json").read_text())
    paper = audit["paper"]["paper"]
    paper["physical"] = [*paper["sequence"], {
        "group": "1985MICHOA", "train_slip_models": ["1985ZIHUAT01MEND"],
        "test_slip_models": ["1985MICHOA01MEND"], "test_row_share": 0.05}]
    write_json(tree["metrics_dir"] / "leakage_audit.json", audit)
    leakage = json.loads((tree["metrics_dir"] / "leakage.json").read_text())
    leakage["grouped_by"] = "physical"
    write_json(tree["metrics_dir"] / "leakage.json", leakage)
    text = context_text(tree, _stats(tree), tmp_path)
    assert "It does not keep physical sequences together: 3 sequences have" in text
    assert "Under name prefixes alone 2 sequences straddle the split (1985NAHANx and " \
           "1999CHICHx)" in text
    assert "Supplementary Table 1 | Physical sequences with slip models" in text
    letter = context_text(tree, _stats(tree), tmp_path, "letter.html.j2")
    assert "3 physical sequences have earthquakes on both sides" in letter
    assert "region-year sequences have earthquakes on both sides" not in letter


def test_figure_text_is_plain_even_on_a_log_axis(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """Math text is off in the figures (names are data, "$x$" must print as typed), so no
    text may rely on it: the learning curves' log axis once printed "$\\mathdefault{10^{-2}}$"
    under every panel."""
    from matplotlib.text import Text

    from aftershock_replication.report import figures as fig

    drawn = []
    monkeypatch.setattr(fig, "save", lambda figure, path: drawn.append(figure) or 1.0)
    shares = [0.003, 0.01, 0.05, 0.2, 1.0]
    curves = {m: pd.DataFrame({"seed": np.repeat([0, 1], len(shares)),
                               "train_share": shares * 2,
                               "test_auc": np.linspace(0.6, 0.8, 2 * len(shares))})
              for m in ("neural_network", "random_forest")}
    styles = fig.method_styles(list(curves), {m: True for m in curves})
    fig.learning_curves(curves, {m: m for m in curves}, styles,
                        ("reference metric", 0.78, (0.75, 0.81)), tmp_path / "curves.png")
    figure = drawn[0]
    figure.canvas.draw()
    labels = [label for ax in figure.axes
              for label in (*ax.get_xticklabels(), *ax.get_yticklabels())]
    texts = [t.get_text() for t in (*labels, *figure.findobj(Text)) if t.get_text()]
    assert "1%" in texts and "100%" in texts
    assert not [t for t in texts if "$" in t or "\\" in t], texts
    assert fig.share_label(0.001) == "0.1%"


@pytest.mark.parametrize(("cell", "shown"), [("high", "'high'"), ("inf", "'inf'")])
def test_a_csv_value_the_letter_plots_must_be_a_number(cell: str, shown: str,
                                                      tmp_path: Path) -> None:
    """Text or an infinity in a per-slip-model AUC column is refused naming the file, the
    column, the row and the stage that rebuilds it (an empty cell stays allowed)."""
    tree = build_tree(tmp_path)
    path = tree["results_dir"] / "per_slip_model" / "random_forest.csv"
    table = pd.read_csv(path)
    table["auc"] = table["auc"].astype(object)
    table.loc[1, "auc"] = cell
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=re.escape(
            f"{path}: column 'auc' holds {shown} in data row 2; expected a finite number. "
            "Rerun the evaluate stage of 'random_forest'")):
        render(tree, tmp_path / "paper" / "letter.pdf")


def test_the_schema_knows_every_scheme_and_verdict() -> None:
    """The metrics schema checks auc.json's schemes and the verdicts of the shared
    vocabulary, so that a new scheme or verdict cannot go unchecked."""
    assert set(Auc.model_fields) == set(SCHEMES)
    assert set(CLAIM_NEEDS) == set(VERDICTS)
