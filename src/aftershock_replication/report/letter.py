"""Render the matters-arising letter: metrics files -> figures + HTML (Jinja2) -> PDF.

Every number printed comes from the metrics, plots and results files; the template holds
prose and layout only, and every finding it states is chosen from the statistics (see
``build_context``). The only literal numbers are the published values of the paper and of
its critics (``PUBLISHED``), which the letter quotes as theirs, with attribution.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_file
from ..errors import InputError
from . import figures as fig
from . import formatting as fmt
from .provenance import Provenance, collect

log = logging.getLogger(__name__)

DEMO_MARK = "synthetic demonstration data — not the published dataset"
SCHEMES = ("paper", "leaky", "grouped")
FOCUS = "neural_network"
DEFAULT_ALPHA = 0.05
DEFAULT_PLATEAU_TOLERANCE = 0.01
DEFAULT_CURVE_METHODS = ("neural_network", "random_forest", "logistic")

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
}

METHOD_ORDER = ("coulomb", "coulomb_test_selected", "max_shear", "von_mises", "sum_abs",
                "one_neuron", "logistic", "random_forest", "svm", "gam", "neural_network")
METHOD_LABELS = {
    "coulomb": "Coulomb stress change",
    "coulomb_test_selected": "Coulomb, sign picked on test labels†",
    "max_shear": "Maximum shear stress",
    "von_mises": "von Mises criterion",
    "sum_abs": "Sum of |σᵢⱼ|",
    "one_neuron": "One neuron (logistic, 1 scalar)",
    "logistic": "Logistic regression",
    "random_forest": "Random forest",
    "svm": "Support vector machine",
    "gam": "Generalised additive model",
    "neural_network": "Neural network",
}
# The same names inside running text.
PROSE_LABELS = {
    "coulomb": "the Coulomb stress change",
    "coulomb_test_selected": "the Coulomb stress change with its sign picked on the test labels",
    "max_shear": "the maximum shear stress",
    "von_mises": "the von Mises criterion",
    "sum_abs": "the sum of |σᵢⱼ|",
    "one_neuron": "the one-neuron model",
    "logistic": "logistic regression",
    "random_forest": "the random forest",
    "svm": "the support vector machine",
    "gam": "the generalised additive model",
    "neural_network": "the neural network",
}
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


# ----------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """Everything the letter reads, with the files it came from (for the checksums)."""

    features: dict[str, Any]
    auc: dict[str, Any]
    audit: dict[str, Any]
    stats: dict[str, Any]
    curves: dict[str, pd.DataFrame]
    curve_summaries: dict[str, dict[str, Any]]
    roc: dict[str, pd.DataFrame]
    per_slip_model: dict[str, pd.DataFrame]
    roles: pd.DataFrame
    roles_complete: bool
    methods: list[str]
    files: list[tuple[str, Path]] = field(default_factory=list)


def _shown(path: Path, root: Path) -> str:
    """A path as printed: relative to the parent of its input directory (``metrics/auc.json``)."""
    try:
        return f"{root.name}/{path.relative_to(root).as_posix()}"
    except ValueError:
        return path.name


def _need(path: Path, producer: str) -> Path:
    if not path.is_file():
        raise InputError(f"{path}: missing; it is written by {producer} (run `dvc repro` or "
                         f"that stage first)")
    return path


def _read_json(path: Path, producer: str) -> dict[str, Any]:
    _need(path, producer)
    try:
        loaded = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error}); rerun {producer}") from error
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return loaded


def _read_csv(path: Path, producer: str, columns: Iterable[str]) -> pd.DataFrame:
    _need(path, producer)
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV ({error}); rerun {producer}") from error
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; rerun {producer}")
    return table


def dig(mapping: Any, keys: Iterable[str], source: str) -> Any:
    """``mapping[k1][k2]...`` with an InputError naming the file and the missing key path."""
    node, walked = mapping, []
    for key in keys:
        walked.append(str(key))
        if not isinstance(node, dict) or key not in node:
            raise InputError(f"{source}: missing key {'.'.join(walked)}; the file does not "
                             "match the metrics schema (rerun the stage that writes it)")
        node = node[key]
    return node


def order_methods(names: Iterable[str]) -> list[str]:
    names = set(names)
    known = [m for m in METHOD_ORDER if m in names]
    return known + sorted(names - set(known))


def label(method: str) -> str:
    return METHOD_LABELS.get(method, method.replace("_", " "))


def prose(method: str) -> str:
    return PROSE_LABELS.get(method, method.replace("_", " "))


def load_inputs(
    metrics_dir: Path, plots_dir: Path, results_dir: Path, splits_path: Path | None = None,
    curve_methods: Iterable[str] | None = None,
) -> Inputs:
    """Read and check every input; a missing or malformed file is an InputError naming it."""
    metrics_dir, plots_dir, results_dir = Path(metrics_dir), Path(plots_dir), Path(results_dir)
    files: list[tuple[str, Path]] = []

    def note(path: Path, root: Path) -> Path:
        files.append((_shown(path, root), path))
        return path

    features = _read_json(note(metrics_dir / "features.json", metrics_dir), "the features stage")
    auc = _read_json(note(metrics_dir / "auc.json", metrics_dir), "the aggregate stage")
    audit = _read_json(note(metrics_dir / "leakage_audit.json", metrics_dir), "the split stage")
    stats = _read_json(note(metrics_dir / "stats.json", metrics_dir), "the stats stage")
    for key in ("demo", "rows", "slip_models", "by_paper_role"):
        dig(features, [key], str(metrics_dir / "features.json"))
    for scheme in SCHEMES:
        dig(auc, [scheme], str(metrics_dir / "auc.json"))
    dig(audit, ["paper", "paper"], str(metrics_dir / "leakage_audit.json"))
    stats_name = str(metrics_dir / "stats.json")
    for keys in (["seed_summary"], ["reference_metric", "most_common"],
                 ["tables", "vs_best_stress_metric", "rows"],
                 ["tables", "leaky_minus_grouped", "rows"], ["tables", "leakage_term", "rows"],
                 ["decomposition"], ["paper_split", "bootstrap"], ["paper_split", "delong"],
                 ["permutation"]):
        dig(stats, keys, stats_name)
    methods = order_methods(auc["paper"])

    curves, summaries = {}, {}
    for method in curve_methods or DEFAULT_CURVE_METHODS:
        producer = f"the learning_curve stage of '{method}'"
        summaries[method] = _read_json(
            note(metrics_dir / "learning_curve" / f"{method}.json", metrics_dir), producer)
        curves[method] = _read_csv(
            note(plots_dir / "learning_curve" / f"{method}.csv", plots_dir), producer,
            ("seed", "train_rows", "test_auc"))
    roc, per_slip_model = {}, {}
    for method in methods:
        producer = f"the evaluate stage of '{method}'"
        roc[method] = _read_csv(note(plots_dir / "roc" / f"{method}.csv", plots_dir), producer,
                                ("fpr", "tpr", "split"))
        per_slip_model[method] = _read_csv(
            note(results_dir / "per_slip_model" / f"{method}.csv", results_dir), producer,
            ("slip_model", "auc", "scheme", "partition"))
    if splits_path is not None:
        splits_path = Path(splits_path)
        splits = _read_json(splits_path, "the split stage")
        files.append((_shown(splits_path, splits_path.parent), splits_path))
        roles, complete = roles_from_splits(splits, str(splits_path))
    else:
        roles, complete = roles_from_results(per_slip_model, audit, features)
    return Inputs(features, auc, audit, stats, curves, summaries, roc, per_slip_model, roles,
                  complete, methods, files)


def _roles_table(test: set[str], every: set[str]) -> pd.DataFrame:
    names = sorted(every)
    return pd.DataFrame({
        "slip_model": names,
        "event": [n[:12] for n in names],
        "sequence": [n[:10] for n in names],
        "role": ["test" if n in test else "train" for n in names],
    })


def roles_from_splits(splits: dict[str, Any], source: str) -> tuple[pd.DataFrame, bool]:
    """Paper-split side of every analysed slip model, from data/splits.json."""
    test = set(dig(splits, ["schemes", "paper", "paper"], source))
    every = set(dig(splits, ["spatiotemporal", "groups"], source)) | test
    return _roles_table(test, every), True


def roles_from_results(
    per_slip_model: dict[str, pd.DataFrame], audit: dict[str, Any], features: dict[str, Any],
) -> tuple[pd.DataFrame, bool]:
    """Best effort without the splits file: every slip model named in any input.

    Training slip models never drawn into any test set are not named anywhere else, so the
    result may be incomplete; the second value says whether it matches features.json.
    """
    test: set[str] = set()
    every: set[str] = set()
    for table in per_slip_model.values():
        every.update(table["slip_model"].astype(str))
        test.update(table.loc[table["scheme"] == "paper", "slip_model"].astype(str))
    for groups in audit.get("paper", {}).get("paper", {}).values():
        for group in groups:
            test.update(group.get("test_slip_models", []))
            every.update(group.get("train_slip_models", []))
    every |= test
    roles = _roles_table(test, every)
    expected = features.get("by_paper_role", {})
    complete = all(
        int((roles["role"] == side).sum()) == int(expected.get(side, {}).get("slip_models", -1))
        for side in ("train", "test"))
    return roles, complete


# ----------------------------------------------------------------------------- findings


def verdict(row: dict[str, Any], alpha: float) -> str:
    """'higher', 'lower' (significant after Holm, by the sign of the estimate), 'ns' or
    'untested' (no adjusted p-value)."""
    p_holm, estimate = row.get("p_holm"), row.get("estimate")
    if p_holm is None or estimate is None or not math.isfinite(float(p_holm)):
        return "untested"
    if float(p_holm) < alpha:
        return "higher" if float(estimate) > 0 else "lower"
    return "ns"


def format_row(row: dict[str, Any], alpha: float) -> dict[str, Any]:
    method = str(row.get("method"))
    return {
        "method": method,
        "label": label(method),
        "prose": prose(method),
        "comparison": str(row.get("comparison", "")),
        "estimate": fmt.diff(row.get("estimate")),
        "ci": fmt.interval(row.get("ci")),
        "statistic": fmt.statistic(row.get("statistic")),
        "df": fmt.dof(row.get("df")),
        "p": fmt.p_cell(row.get("p_value")),
        "p_holm": fmt.p_cell(row.get("p_holm")),
        "p_holm_text": fmt.p_value(row.get("p_holm")),
        "verdict": verdict(row, alpha),
        "raw_estimate": row.get("estimate"),
    }


def significance_table(table: dict[str, Any], alpha: float, source: str) -> dict[str, Any]:
    rows = dig(table, ["rows"], source)
    ordered = sorted(rows, key=lambda r: (METHOD_ORDER.index(r["method"])
                                          if r.get("method") in METHOD_ORDER else 99,
                                          str(r.get("method"))))
    formatted = [format_row(r, alpha) for r in ordered]
    by_verdict: dict[str, list[str]] = {"higher": [], "lower": [], "ns": [], "untested": []}
    for row in formatted:
        by_verdict[row["verdict"]].append(row["method"])
    units = sorted({str(r.get("unit")) for r in rows if r.get("unit")})
    tests = sorted({str(r.get("test")) for r in rows if r.get("test")})
    return {
        "family": str(table.get("family", "")),
        "scheme": table.get("scheme"),
        "rows": formatted,
        "by_method": {r["method"]: r for r in formatted},
        "higher": by_verdict["higher"],
        "lower": by_verdict["lower"],
        "ns": by_verdict["ns"],
        "untested": by_verdict["untested"],
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


def audit_findings(inputs: Inputs) -> dict[str, Any]:
    paper = inputs.audit["paper"]["paper"]
    sequences = []
    for group in sorted(paper.get("sequence", []), key=lambda g: g["group"]):
        sequences.append({
            "group": group["group"],
            "train": ", ".join(group.get("train_slip_models", [])),
            "test": ", ".join(group.get("test_slip_models", [])),
            "share": fmt.percent(group.get("test_row_share")),
        })
    share = sum(float(g.get("test_row_share") or 0.0) for g in paper.get("sequence", []))
    events = sorted(g["group"] for g in paper.get("event", []))
    spatiotemporal = sorted(g["group"] for g in paper.get("spatiotemporal", []))

    def mean_count(scheme: str, level: str) -> str | None:
        partitions = inputs.audit.get(scheme, {})
        counts = [len(levels.get(level, [])) for levels in partitions.values()]
        if not counts:
            return None
        return "none" if not any(counts) else fmt.fixed(sum(counts) / len(counts), 1)

    return {
        "events": events,
        "events_text": fmt.join_words(events),
        "sequences": sequences,
        "sequence_names": fmt.join_words([s["group"] for s in sequences]),
        "sequence_share": fmt.percent(share),
        "spatiotemporal": len(spatiotemporal),
        "leaky_sequences": mean_count("leaky", "sequence"),
        "grouped_sequences": mean_count("grouped", "sequence"),
        "grouped_spatiotemporal": mean_count("grouped", "spatiotemporal"),
    }


def reference_findings(inputs: Inputs) -> dict[str, Any]:
    reference = inputs.stats["reference_metric"]
    most_common = str(reference["most_common"])
    counts: Counter[str] = Counter()
    for partitions in (reference.get("by_partition") or {}).values():
        counts.update(str(m) for m in partitions.values())
    paper_choice = (reference.get("by_partition") or {}).get("paper", {}).get("paper")
    return {
        "method": most_common,
        "label": label(most_common),
        "prose": prose(most_common),
        "rule": str(reference.get("rule", "")),
        "partitions": sum(counts.values()),
        "chosen": counts.get(most_common, 0),
        "others": fmt.join_words([f"{prose(m)} in {n}" for m, n in sorted(counts.items())
                                  if m != most_common]),
        "paper": prose(paper_choice) if paper_choice else None,
    }


def decomposition_findings(inputs: Inputs, alpha: float) -> dict[str, Any]:
    decomposition = inputs.stats["decomposition"]
    leak = significance_table(inputs.stats["tables"]["leakage_term"], alpha, "metrics/stats.json")
    fitted = {m for m in inputs.methods if inputs.auc["paper"][m].get("fitted")}
    rows = []
    # untrained metrics cannot leak: the decomposition is about the fitted methods
    for method in order_methods(m for m in decomposition if m in fitted or m not in METHOD_ORDER):
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
            "share": fmt.percent(share, 0) if share is not None else None,
            "drops": total is not None and total > 0,
            "composition_drops": composition is not None and composition > 0,
            "raw_total": total,
        })
    focus = next((r for r in rows if r["method"] == FOCUS), rows[0] if rows else None)
    return {"rows": rows, "focus": focus, "table": leak,
            "leaking": [prose(m) for m in leak["higher"]],
            "negative": [prose(m) for m in leak["lower"]]}


def curve_findings(inputs: Inputs, tolerance: float, reference: dict[str, Any]) -> list[dict]:
    """Per method: AUC at the smallest size, at all rows, and where the plateau starts
    (smallest size within ``tolerance`` of that seed's best AUC), per seed."""
    found = []
    for method, table in inputs.curves.items():
        table = table.dropna(subset=["test_auc"])
        if table.empty:
            continue
        smallest = int(table["train_rows"].min())
        at_smallest = table.loc[table["train_rows"] == smallest, "test_auc"].mean()
        plateaus, shares, full, full_rows = [], [], [], []
        for _, part in table.groupby("seed", sort=True):
            part = part.sort_values("train_rows")
            best = part["test_auc"].max()
            reached = part.loc[part["test_auc"] >= best - tolerance, "train_rows"].min()
            largest = part["train_rows"].max()
            plateaus.append(int(reached))
            shares.append(reached / largest)
            full.append(float(part.loc[part["train_rows"] == largest, "test_auc"].iloc[0]))
            full_rows.append(int(largest))
        found.append({
            "method": method,
            "label": label(method),
            "prose": prose(method),
            "smallest_rows": fmt.integer(smallest),
            "at_smallest": fmt.auc(at_smallest),
            "at_full": fmt.auc(sum(full) / len(full)),
            "full_rows": _range(full_rows, fmt.integer),
            "plateau_rows": _range(plateaus, fmt.integer),
            "plateau_share": _range(shares, lambda s: fmt.percent(s)),
            "max_share": max(shares),
            "seeds": len(plateaus),
            "beats_reference": (reference["grouped_mean"] is not None
                                and sum(full) / len(full) > reference["grouped_mean"]),
        })
    return found


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
    if versus:
        low, high = versus.get("ci") or (None, None)
        found["versus"] = {
            "estimate": fmt.diff(versus.get("estimate")),
            "ci": fmt.interval(versus.get("ci")),
            "reference": prose(str(versus.get("reference", reference["method"]))),
            "excludes_zero": low is not None and high is not None and (low > 0 or high < 0),
            "positive": low is not None and low > 0,
        }
    return found


def permutation_findings(inputs: Inputs) -> dict[str, Any]:
    perm = inputs.stats["permutation"]
    significant, total = perm.get("significant_at_0.05"), perm.get("slip_models")
    return {
        "method": prose(str(perm.get("method", FOCUS))),
        "permutations": fmt.integer(perm.get("permutations")),
        "significant": fmt.integer(significant),
        "total": fmt.integer(total),
        "all": significant is not None and significant == total,
    }


def demo_description(features: dict[str, Any]) -> dict[str, Any] | None:
    demo = features.get("demo")
    if not demo:
        return None
    leakage = demo.get("leakage")
    return {
        "seed": fmt.number(demo.get("seed")),
        "size": fmt.number(demo.get("size")),
        "leakage": fmt.number(leakage),
        "sequence_share": fmt.number(demo.get("sequence_share")),
        "positive_rate": fmt.number(demo.get("positive_rate")),
        "slip_models": fmt.integer(demo.get("slip_models")),
        "earthquakes": fmt.integer(demo.get("earthquakes")),
        "sequences": fmt.integer(demo.get("sequences")),
        "cells": fmt.integer(demo.get("cells")),
        "no_leakage": leakage is not None and float(leakage) == 0.0,
    }


def data_findings(features: dict[str, Any]) -> dict[str, Any]:
    roles = features["by_paper_role"]
    return {
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


def signatures(params: dict[str, Any], date_text: str) -> dict[str, Any]:
    letter = params.get("letter") if isinstance(params.get("letter"), dict) else {}
    authors = []
    for author in letter.get("authors") or []:
        if isinstance(author, dict) and author.get("name"):
            authors.append({"name": str(author["name"]),
                            "affiliation": str(author.get("affiliation") or "")})
        elif isinstance(author, str):
            authors.append({"name": author, "affiliation": ""})
    return {
        "authors": authors or [{"name": "The authors", "affiliation": ""}],
        "placeholder": not authors,
        "date": str(letter["date"]) if letter.get("date") else date_text,
    }


def alpha_of(params: dict[str, Any]) -> float:
    for name in ("letter", "stats"):
        section = params.get(name)
        if isinstance(section, dict) and section.get("alpha") is not None:
            return float(section["alpha"])
    return DEFAULT_ALPHA


def build_context(
    inputs: Inputs, params: dict[str, Any], figures: dict[str, dict[str, Any]],
    provenance: Provenance,
) -> dict[str, Any]:
    """All the template needs: formatted numbers and the decisions the wording follows."""
    alpha = alpha_of(params)
    letter = params.get("letter") if isinstance(params.get("letter"), dict) else {}
    tolerance = float(letter.get("plateau_tolerance", DEFAULT_PLATEAU_TOLERANCE))
    points = scheme_points(inputs)
    reference = reference_findings(inputs)
    grouped_reference = points["grouped"].get(reference["method"])
    reference["grouped_mean"] = grouped_reference["mean"] if grouped_reference else None
    reference["grouped_auc"] = fmt.auc(reference["grouped_mean"])
    paper_reference = points["paper"].get(reference["method"])
    reference["paper_auc"] = fmt.auc(paper_reference["mean"] if paper_reference else None)
    baseline = significance_table(inputs.stats["tables"]["vs_best_stress_metric"], alpha,
                                  "metrics/stats.json")
    fitted = {m for m in inputs.methods if inputs.auc["paper"][m].get("fitted")}
    for verdict_name in ("higher", "lower", "ns"):
        baseline[f"fitted_{verdict_name}"] = [prose(m) for m in baseline[verdict_name]
                                              if m in fitted]
    drop = significance_table(inputs.stats["tables"]["leaky_minus_grouped"], alpha,
                              "metrics/stats.json")
    drop["untrained_higher"] = [prose(m) for m in drop["higher"] if m not in fitted]
    for verdict_name in ("higher", "lower", "ns"):
        drop[verdict_name] = [prose(m) for m in drop[verdict_name]]
    curves = curve_findings(inputs, tolerance, reference)
    signed = signatures(params, fmt.long_date(provenance.run_date))
    seeds = max((len(p["per_seed"]) for p in points["grouped"].values()), default=0)
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
        "tolerance": fmt.fixed(tolerance, 3),
        "seeds": seeds,
        "schemes": SCHEME_LABELS,
        "data": data_findings(inputs.features),
        "claim": claim_findings(inputs),
        "audit": audit_findings(inputs),
        "auc_rows": auc_table(inputs, points),
        "variant_rows": variants_table(inputs),
        "has_test_selected": "coulomb_test_selected" in inputs.methods,
        "reference": reference,
        "drop": drop,
        "decomposition": decomposition_findings(inputs, alpha),
        "curves": curves,
        "curves_small": bool(curves) and all(c["max_share"] <= 0.1 for c in curves),
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


# ----------------------------------------------------------------------------- rendering


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _bounds(interval: Any) -> tuple[float, float] | None:
    if interval is None or len(interval) != 2 or not all(_finite(v) for v in interval):
        return None
    return float(interval[0]), float(interval[1])


def make_figures(inputs: Inputs, figures_dir: Path) -> dict[str, dict[str, Any]]:
    """Write every figure into ``figures_dir``; name -> {file, width_in}."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    labels = {m: label(m) for m in inputs.methods}
    fitted = {m: bool(inputs.auc["paper"][m].get("fitted")) for m in inputs.methods}
    styles = fig.method_styles(inputs.methods, fitted)
    points = scheme_points(inputs)
    written: dict[str, dict[str, Any]] = {}

    def done(name: str, width: float) -> None:
        # Embedded as a data URI: WeasyPrint names image objects by a hash of their URL, so
        # a file URL would make the PDF bytes depend on where the figures were written.
        data = base64.b64encode((figures_dir / f"{name}.png").read_bytes()).decode("ascii")
        written[name] = {"file": f"{name}.png", "src": f"data:image/png;base64,{data}",
                         "width_in": f"{width:.2f}"}

    name = "fig1_paper_split_groups"
    done(name, fig.paper_split_groups(inputs.roles, figures_dir / f"{name}.png"))
    name = "fig2_train_vs_test"
    paper = inputs.auc["paper"]
    done(name, fig.train_vs_test(
        {m: paper[m]["train_pooled"]["mean"] for m in inputs.methods
         if paper[m].get("train_pooled", {}).get("mean") is not None},
        {m: paper[m]["pooled"]["mean"] for m in inputs.methods},
        inputs.methods, labels, figures_dir / f"{name}.png"))
    name = "fig3_auc_by_scheme"
    scheme_data = {
        scheme: {m: fig.SchemePoint(tuple(v for v in p["per_seed"] if _finite(v)),
                                    float(p["mean"]), _bounds(p["ci"]))
                 for m, p in by_method.items() if _finite(p["mean"])}
        for scheme, by_method in points.items()}
    done(name, fig.auc_by_scheme(scheme_data, inputs.methods, SCHEME_LEGEND, labels,
                                 figures_dir / f"{name}.png"))
    name = "fig4_roc"
    panels = [("paper paper", "paper's split"), ("grouped 0", "one grouped split (seed 0)")]
    done(name, fig.roc_curves(inputs.roc, panels, labels, styles, figures_dir / f"{name}.png"))
    name = "fig5_per_earthquake_auc"
    done(name, fig.per_event_auc(inputs.per_slip_model, inputs.methods, labels,
                                 figures_dir / f"{name}.png"))
    reference = str(inputs.stats["reference_metric"]["most_common"])
    ref_point = points["grouped"].get(reference)
    name = "fig6_learning_curves"
    if inputs.curves and ref_point is not None and _finite(ref_point["mean"]):
        done(name, fig.learning_curves(
            inputs.curves, labels, styles,
            (label(reference), float(ref_point["mean"]), _bounds(ref_point["ci"])),
            figures_dir / f"{name}.png"))
    return written


def upfirst(text: str) -> str:
    """Capitalise the first letter only ("the neural network" -> "The neural network")."""
    return text[:1].upper() + text[1:]


def render_html(context: dict[str, Any], template_dir: Path) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # no trim_blocks: the newline after a block tag is the space between two sentences
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["upfirst"] = upfirst
    try:
        template = environment.get_template("letter.html.j2")
    except jinja2.TemplateNotFound as error:
        raise InputError(f"{Path(template_dir) / 'letter.html.j2'}: template not found") from error
    return template.render(**context)


def write_pdf(html: str, out_pdf: Path, base_dir: Path) -> int:
    """HTML -> PDF at ``out_pdf`` (atomically); returns the number of pages."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=f"{Path(base_dir).resolve().as_uri()}/")
    rendered = document.render()
    with atomic_file(out_pdf) as temporary:
        rendered.write_pdf(temporary)
    return len(rendered.pages)


def render_letter(
    *, metrics_dir: Path, plots_dir: Path, results_dir: Path, params: dict[str, Any],
    out_pdf: Path, figures_dir: Path, template_dir: Path, commands: list[str],
    splits_path: Path | None = None, html_out: Path | None = None,
) -> dict[str, Any]:
    """Render the letter PDF (and its figures) from the metrics, plots and results files.

    ``splits_path`` (optional, data/splits.json) names every slip model of the paper's split
    for the group diagram; without it the diagram shows the slip models named in the other
    inputs. ``html_out`` optionally keeps the HTML. Returns pages, figures and seconds.
    """
    start = time.perf_counter()
    curve_section = params.get("learning_curve") if isinstance(
        params.get("learning_curve"), dict) else {}
    inputs = load_inputs(Path(metrics_dir), Path(plots_dir), Path(results_dir), splits_path,
                         curve_section.get("methods"))
    provenance = collect(inputs=inputs.files, params=params, features=inputs.features,
                         commands=commands)
    figures = make_figures(inputs, Path(figures_dir))
    context = build_context(inputs, params, figures, provenance)
    html = render_html(context, Path(template_dir))
    if html_out is not None:
        with atomic_file(html_out) as temporary:
            temporary.write_text(html)
    pages = write_pdf(html, Path(out_pdf), Path(figures_dir))
    seconds = time.perf_counter() - start
    log.info("letter: %d pages, %d figures -> %s (%.1f s)", pages, len(figures), out_pdf,
             seconds)
    return {"pdf": str(out_pdf), "pages": pages,
            "figures": sorted(str(Path(figures_dir) / f["file"]) for f in figures.values()),
            "seconds": round(seconds, 2), "demo": context["demo"] is not None}
