"""The letter's statistics, assembled from the evaluation outputs (metrics/stats.json).

Conclusions rest on tests whose unit is the repeated split (Nadeau-Bengio corrected t over
seeds) or the earthquake (cluster bootstrap over events); DeLong's cell-level variance is
reported beside them as the naive figure. Each table is one Holm family. The tests on the
paper's own split are in ``paper_split_stats``.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import finite_or_none, read_json, write_json
from .cells import load_cells
from .errors import InputError
from .evaluate import input_digests, method_partitions
from .groups import GROUP_KINDS, grouped_level
from .methods import (
    ALL_METHODS,
    COMPETITORS,
    CONTROLS,
    FITTED,
    STRESS_METRICS,
    spec,
)
from .methods.params import StatsParams, configured_methods
from .paper_split_stats import paper_scores, paper_split_tests, permutation_tests
from .stage_io import Input, Output
from .stats import (
    SPLIT_UNIT,
    T_TEST,
    corrected_ttest,
    family_verdicts,
    seed_summary,
)

COULOMB = "coulomb"  # the stress metric the original paper compared its network with

log = logging.getLogger(__name__)

# Untrained metrics eligible as the reference; coulomb_test_selected peeks at test labels.
REFERENCE_CANDIDATES = STRESS_METRICS


def _partitions(per_method: dict[str, Any], scheme: str) -> list[str]:
    keys = next(iter(per_method.values()))[scheme].keys()
    return sorted(keys, key=lambda k: (int(k), "") if k.isdigit() else (-1, k))


def _pooled(per_method: dict[str, Any], method: str, scheme: str, partition: str) -> float:
    return float(per_method[method][scheme][partition]["pooled"])


def reference_by_seed(per_method: dict[str, Any]) -> dict[str, str]:
    """The untrained metric with the best pooled AUC on training cells, chosen once per seed
    (mean over the seed's leaky and grouped partitions) and once for the paper's split, so
    that both sides of a difference in differences use the same reference."""
    any_method = next(iter(per_method.values()))
    candidates = [m for m in REFERENCE_CANDIDATES if m in per_method]
    seeds = sorted({p for scheme, parts in any_method.items() if scheme != "paper"
                    for p in parts}, key=int)

    def best(partitions: list[tuple[str, str]]) -> str:
        return max(candidates, key=lambda m: float(np.mean(
            [per_method[m][scheme][p]["train_pooled"] for scheme, p in partitions])))

    chosen = {"paper": best([("paper", "paper")])} if "paper" in any_method else {}
    for seed in seeds:
        chosen[seed] = best([(scheme, seed) for scheme in ("leaky", "grouped")
                             if seed in any_method.get(scheme, {})])
    return chosen


def _row_ratio(per_method: dict[str, Any], schemes: tuple[str, ...]) -> tuple[float, float]:
    """Mean training and test rows over the partitions of ``schemes`` (for the correction)."""
    any_method = next(iter(per_method.values()))
    parts = [any_method[s][p] for s in schemes for p in _partitions(per_method, s)]
    return (float(np.mean([p["train_rows"] for p in parts])),
            float(np.mean([p["test_rows"] for p in parts])))


def _table(family: str, rows: list[dict[str, Any]], alpha: float, margin: float,
           **extra: Any) -> dict[str, Any]:
    """Attach each row's Holm-adjusted p-values (difference and equivalence within
    ``margin``), its verdict at ``alpha`` and what its test could detect."""
    family_verdicts(rows, alpha, margin)
    return {"family": family, "alpha": alpha, "smallest_effect": margin,
            "detectable_at": f"80 % power at alpha / {len(rows)} (Bonferroni bound on Holm)",
            **extra, "rows": rows}


def _test_row(method: str, comparison: str, differences: list[float], n_train: float,
              n_test: float) -> dict[str, Any]:
    result = corrected_ttest(np.asarray(differences), n_train, n_test)

    def clean(value: Any) -> Any:
        return None if value is None or not np.isfinite(value) else float(value)

    return {
        "method": method, "comparison": comparison, "estimate": clean(result["mean"]),
        "ci": [clean(v) for v in result["ci"]], "se": clean(result["se"]),
        "statistic": clean(result["t"]),
        "df": int(result["df"]), "p_value": clean(result["p_value"]),
        "per_seed": [float(d) for d in differences], "unit": SPLIT_UNIT, "test": T_TEST,
    }


HEALTH_RULE = ("a fit failed when its pooled AUC on the training cells falls short of that of "
               "the best untrained stress metric on the same cells by more than the smallest "
               "effect of interest (every method is scored on one seeded sample of each "
               "partition's training cells), or, for a method that records a validation loss "
               "(the network), when its best validation loss is not below the loss before "
               "training")


def fit_health(per_method: dict[str, Any], margin: float) -> dict[str, Any]:
    """Which fits failed: per fitted method, scheme and partition, the reasons
    (``HEALTH_RULE``, with ``margin`` the smallest effect of interest; each reason a record
    of its kind and numbers). A fitted model that ranks its own training cells clearly worse
    than a formula with no parameters has not learnt from them, and its test AUC says
    nothing about what the method can do. Within the margin it is a model that cannot
    represent the formula exactly (a linear model of the |sigma_ij| against their log-sum,
    say), not a failed fit."""
    stress = [m for m in STRESS_METRICS if m in per_method]
    methods: dict[str, Any] = {}
    for method in (m for m in FITTED if m in per_method):
        failed: dict[str, dict[str, list[dict[str, Any]]]] = {}
        total = 0
        for scheme, partitions in per_method[method].items():
            for partition, record in partitions.items():
                total += 1
                reasons = []
                best = max(stress, key=lambda m: per_method[m][scheme][partition]["train_pooled"])
                best_auc = per_method[best][scheme][partition]["train_pooled"]
                if record["train_pooled"] < best_auc - margin:
                    reasons.append({"kind": "training_auc", "auc": record["train_pooled"],
                                    "reference": best, "reference_auc": best_auc})
                model = record.get("model") or {}
                losses = [h["val_loss"] for h in model.get("history") or []]
                initial = model.get("initial_val_loss")
                if initial is not None and losses and not min(losses) < initial:
                    reasons.append({"kind": "validation_loss", "initial": initial,
                                    "best": min(losses)})
                if reasons:
                    failed.setdefault(scheme, {})[partition] = reasons
        steps = [record["model"]["steps_per_epoch"] for parts in per_method[method].values()
                 for record in parts.values()
                 if (record.get("model") or {}).get("steps_per_epoch") is not None]
        methods[method] = {"failed": failed, "partitions": total,
                           "failures": sum(len(parts) for parts in failed.values()),
                           # the gradient steps per epoch the fits took (methods that say)
                           "steps_per_epoch": [min(steps), max(steps)] if steps else None}
    return {"rule": HEALTH_RULE, "smallest_effect": margin, "methods": methods}


def seed_tables(per_method: dict[str, Any], alpha: float, margin: float) -> dict[str, Any]:
    """Seed summaries, the reference metric, the test tables (vs the best stress metric,
    leaky - grouped, leakage term, negative control, untrained metrics vs Coulomb) and the
    decomposition;
    verdicts at ``alpha`` with ``margin`` the smallest effect of interest (AUC). Each row of
    the three tables also carries the same test without the seeds where the method's fit
    failed (``without_failed_fits``, Holm over the family again; ``fit_health``)."""
    references = reference_by_seed(per_method)
    health = fit_health(per_method, margin)

    def failed_seeds(method: str, schemes: tuple[str, ...]) -> set[str]:
        failed = health["methods"].get(method, {}).get("failed", {})
        return {seed for scheme in schemes for seed in failed.get(scheme, {})}
    grouped = _partitions(per_method, "grouped")
    leaky = _partitions(per_method, "leaky")
    paired = [seed for seed in grouped if seed in leaky]

    def versus_reference(method: str, scheme: str, seed: str) -> float:
        reference = references[seed]
        return (_pooled(per_method, method, scheme, seed)
                - _pooled(per_method, reference, scheme, seed))

    n_train_g, n_test_g = _row_ratio(per_method, ("grouped",))
    n_train_b, n_test_b = _row_ratio(per_method, ("leaky", "grouped"))
    # Holm families hold the competitors only: the negative control (a monotone transform
    # of a stress metric) is tested in a family of its own, and the Coulomb variant that
    # picks its sign on the test labels is shown, never tested
    fitted = [m for m in COMPETITORS if m in per_method]
    controls = [m for m in CONTROLS if m in per_method]
    compared = [m for m in per_method if m not in CONTROLS and not spec(m).uses_test_labels]

    def vs_best_row(m: str, skip: set[str] = frozenset()) -> dict[str, Any]:
        return _test_row(m, f"{m} minus the best untrained stress metric (grouped)",
                         [versus_reference(m, "grouped", s) for s in grouped if s not in skip],
                         n_train_g, n_test_g)

    def leak_row(m: str, skip: set[str] = frozenset()) -> dict[str, Any]:
        return _test_row(
            m, f"leak({m}) = [{m} - reference] leaky - [{m} - reference] grouped",
            [versus_reference(m, "leaky", s) - versus_reference(m, "grouped", s)
             for s in paired if s not in skip], n_train_b, n_test_b)

    def drop_row(m: str, skip: set[str] = frozenset()) -> dict[str, Any]:
        return _test_row(m, f"{m}: leaky minus grouped AUC",
                         [_pooled(per_method, m, "leaky", s) - _pooled(per_method, m, "grouped", s)
                          for s in paired if s not in skip], n_train_b, n_test_b)

    def with_healthy(rows: list[dict[str, Any]], make: Any, schemes: tuple[str, ...],
                     ) -> list[dict[str, Any]]:
        """Attach to each row the same test without the seeds whose fit failed (a family of
        its own for Holm: the same methods, fewer seeds where fits failed)."""
        healthy = []
        for row in rows:
            skip = failed_seeds(row["method"], schemes)
            healthy.append({**make(row["method"], skip), "excluded_seeds": sorted(skip, key=int)})
        family_verdicts(healthy, alpha, margin)
        for row, without in zip(rows, healthy, strict=True):
            row["without_failed_fits"] = without
        return rows

    vs_best = with_healthy([vs_best_row(m) for m in fitted], vs_best_row, ("grouped",))
    drops = with_healthy([drop_row(m) for m in compared], drop_row, ("leaky", "grouped"))
    leaks = with_healthy([leak_row(m) for m in fitted], leak_row, ("leaky", "grouped"))
    control_rows = [row for m in controls for row in (vs_best_row(m), leak_row(m))]
    # the original paper's physical point: untrained metrics other than Coulomb stress
    # forecast better than it (ref. Meade et al. 2017); tested on grouped splits, where no
    # fitted method is involved, so it holds or fails without any network
    vs_coulomb = [_test_row(m, f"{m} minus Coulomb stress (grouped)",
                            [_pooled(per_method, m, "grouped", s)
                             - _pooled(per_method, COULOMB, "grouped", s) for s in grouped],
                            n_train_g, n_test_g)
                  for m in STRESS_METRICS if m in per_method and m != COULOMB
                  ] if COULOMB in per_method else []
    reference_paper = references["paper"]
    decomposition = {}
    for method in per_method:
        grouped_mean = np.mean([_pooled(per_method, method, "grouped", s) for s in grouped])
        reference_grouped = np.mean([_pooled(per_method, references[s], "grouped", s)
                                     for s in grouped])
        term = next((r for r in leaks if r["method"] == method), None)
        decomposition[method] = {
            "paper_minus_grouped": float(_pooled(per_method, method, "paper", "paper")
                                         - grouped_mean),
            "reference_paper_minus_grouped": float(
                _pooled(per_method, reference_paper, "paper", "paper") - reference_grouped),
            "leakage_term": None if term is None else term["estimate"],
        }
    counts = Counter(sorted(references.values()))  # ties: alphabetical, not hash order
    # the seed summaries' intervals carry the same correction as the tests beside them
    ratios = {"paper": 0.0}
    for scheme in ("leaky", "grouped"):
        n_train, n_test = _row_ratio(per_method, (scheme,))
        ratios[scheme] = n_test / n_train
    return {
        "seed_summary": {
            scheme: {m: seed_summary([_pooled(per_method, m, scheme, p)
                                      for p in _partitions(per_method, scheme)],
                                     ratios[scheme])
                     for m in per_method}
            for scheme in ("paper", "leaky", "grouped")
        },
        "reference_metric": {
            "rule": ("untrained stress metric with the highest pooled AUC on the training "
                     "cells, chosen once per seed (mean over its leaky and grouped partitions) "
                     "and once for the paper's split"),
            "by_seed": references,
            "most_common": counts.most_common(1)[0][0],
        },
        "tables": {
            "vs_best_stress_metric": _table(
                "each fitted method vs the best untrained stress metric, grouped partitions",
                vs_best, alpha, margin, scheme="grouped"),
            "leaky_minus_grouped": _table(
                "every method but the negative control and the test-label Coulomb: leaky "
                "minus grouped pooled AUC, paired by seed", drops, alpha, margin),
            "leakage_term": _table(
                "fitted methods: leakage term (difference in differences vs the reference)",
                leaks, alpha, margin),
            "negative_control": _table(
                "negative control (a monotone transform of a stress metric): vs the best "
                "untrained stress metric, grouped partitions, and leakage term",
                control_rows, alpha, margin, scheme="grouped"),
            "untrained_vs_coulomb": _table(
                "each other untrained stress metric vs Coulomb stress (its sign convention "
                "chosen on training cells), grouped partitions", vs_coulomb, alpha, margin,
                scheme="grouped"),
        },
        "decomposition": decomposition,
        "fit_health": health,
    }


def stats_stage(
    params: dict[str, Any], methods_dir: Input, scores_dir: Input, features: Input,
    splits: Input, out: Output,
) -> None:
    """Uncertainty with the earthquake or the repeated split as unit, the tests, verdicts.

    inputs:  methods_dir (per-method metrics), scores_dir (test scores), features, splits.
    outputs: out (JSON): seed summaries; the reference stress metric; Holm-corrected tables
             (vs the best stress metric, leaky - grouped, leakage term, negative control,
             untrained metrics vs Coulomb) with each row's
             verdict at stats.alpha; the decomposition; cluster bootstrap and naive DeLong
             on the paper split; per-slip-model permutation tests.
    params:  stats.*, untrained, methods (every registered method must be listed)
    """
    settings = StatsParams.from_params(params)
    left_out = [m for m in ALL_METHODS if m not in configured_methods(params)]
    if left_out:
        raise InputError(f"params: the statistics compare every registered method, but "
                         f"'untrained' and 'methods' leave out {', '.join(left_out)} (files "
                         f"of an earlier run are not used); list them again")
    per_method = method_partitions(Path(methods_dir), ALL_METHODS,
                                   input_digests(Path(features), Path(splits)))
    scores = {}
    for method in ALL_METHODS:
        path = Path(scores_dir) / f"{method}.npz"
        if not path.is_file():
            raise InputError(f"{path}: missing; run the stage {spec(method).stage} first")
        scores[method] = np.load(path)
    partitions = read_json(splits, "the split stage")
    paper_test = partitions["schemes"]["paper"]["paper"]
    tables = seed_tables(per_method, settings.alpha, settings.smallest_effect)
    cells = load_cells(features)
    level, group_of = grouped_level(partitions,
                                    [str(name) for name in cells.slip_model.names])
    by_method = paper_scores(scores)
    reference = tables["reference_metric"]["by_seed"]["paper"]
    write_json(out, finite_or_none({
        "alpha": settings.alpha,
        "smallest_effect": settings.smallest_effect,
        **tables,
        "paper_split": paper_split_tests(cells, paper_test, by_method, reference, settings,
                                         group_of, GROUP_KINDS[level]),
        "permutation": permutation_tests(cells, paper_test, by_method[settings.permutation_method],
                                         settings.permutation_method, settings.permutations,
                                         settings.seed, settings.alpha),
    }))
