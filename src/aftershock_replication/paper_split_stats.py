"""Tests on the paper's own split for the statistics stage: cluster-bootstrap intervals by
earthquake and by group, DeLong's naive cell-level figures beside them, and the original's
per-slip-model label-permutation tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from .cells import Cells
from .evaluate import score_key
from .groups import GROUP_KINDS
from .methods.params import StatsParams
from .names import sequence_of
from .progress import timed
from .stats import cluster_bootstrap, delong_paired, delong_variance, permutation_pvalue

EVENT_UNIT = "event (cluster bootstrap)"


def paper_split_tests(
    cells: Cells, paper_test: list[str], scores: dict[str, np.ndarray], reference: str,
    settings: StatsParams, group_of: dict[str, str] | None = None,
    group_kind: str = GROUP_KINDS["sequence"],
) -> dict[str, Any]:
    """Cluster bootstrap by earthquake and by group (``group_of``: slip model -> group at
    the grouped partitions' level, named ``group_kind``; name prefixes when None) and
    naive DeLong on the paper's test cells."""
    rows = cells.slip_model.rows(paper_test)
    labels, events = cells.labels[rows], cells.event.codes[rows]
    models = [str(name) for name in cells.slip_model.names]
    group_of = group_of or {name: sequence_of(name) for name in models}
    sequences = np.array([group_of[name] for name in models])[cells.slip_model.codes[rows]]
    sequence_unit = f"{group_kind} (cluster bootstrap)"
    out: dict[str, Any] = {"bootstrap": {}, "bootstrap_vs_reference": {},
                           "bootstrap_by_sequence": {}, "delong": {}, "delong_vs_reference": {}}

    def boot(values: np.ndarray, keep: np.ndarray, clusters: np.ndarray, unit: str,
             versus: np.ndarray | None = None) -> dict[str, Any]:
        result = cluster_bootstrap(labels[keep], values[keep], clusters[keep],
                                   scores_b=None if versus is None else versus[keep],
                                   replicates=settings.bootstrap_replicates, seed=settings.seed)
        return _bootstrap_entry(result, unit)

    with timed(f"cluster bootstraps ({settings.bootstrap_replicates} replicates) and DeLong "
               f"on {len(rows):,} paper-split test cells"):
        for method, values in scores.items():
            keep = np.isfinite(values) & np.isfinite(scores[reference])
            out["bootstrap"][method] = boot(values, keep, events, EVENT_UNIT)
            auc, variance = delong_variance(labels[keep], values[keep])
            out["delong"][method] = {"auc": float(auc), "se": float(np.sqrt(variance)),
                                     "unit": "cell (naive: cells assumed independent)"}
            # whether so few clusters support an interval is the report's call, from the
            # coverage simulation (report.operating.coverage_at), not a rule fixed here
            out["bootstrap_by_sequence"][method] = {
                **boot(values, keep, sequences, sequence_unit),
                "clusters": len(np.unique(sequences[keep]))}
            if method == reference:
                continue
            out["bootstrap_vs_reference"][method] = {
                **boot(values, keep, events, EVENT_UNIT, scores[reference]),
                "reference": reference}
            naive = delong_paired(labels[keep], values[keep], scores[reference][keep])
            out["delong_vs_reference"][method] = {
                "difference": float(naive["difference"]), "ci": [float(v) for v in naive["ci"]],
                "p_value": float(naive["p_value"]), "unit": naive["unit"], "reference": reference,
            }
    return out


def _bootstrap_entry(result: dict[str, Any], unit: str) -> dict[str, Any]:
    return {"estimate": float(result["estimate"]), "ci": [float(v) for v in result["ci"]],
            "se": float(result["se"]), "unit": unit, "replicates": int(result["replicates"]),
            "clusters": int(result["groups"])}


def permutation_tests(
    cells: Cells, paper_test: list[str], scores: np.ndarray, method: str, permutations: int,
    seed: int, alpha: float,
) -> dict[str, Any]:
    """The original's per-slip-model label-permutation test on the paper's test set."""
    rows = cells.slip_model.rows(paper_test)
    labels, models = cells.labels[rows], cells.slip_model.codes[rows]
    per_model = {}
    with timed(f"label-permutation tests ({permutations} permutations) per test slip model"):
        for code in np.unique(models):
            name = str(cells.slip_model.names[code])
            mask = (models == code) & np.isfinite(scores)
            if labels[mask].all() or not labels[mask].any():
                continue
            result = permutation_pvalue(labels[mask], scores[mask], permutations, seed)
            per_model[name] = {"auc": float(result["auc"]), "p_value": float(result["p_value"])}
    return {
        "method": method, "permutations": permutations, "slip_models": len(per_model),
        "alpha": alpha,  # unadjusted, per slip model, as the original reported it
        "significant": sum(v["p_value"] < alpha for v in per_model.values()),
        "per_slip_model": per_model,
    }


def paper_scores(scores_files: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each method's test scores on the paper split, as float64."""
    return {m: np.asarray(f[score_key("paper", "paper")], dtype=np.float64)
            for m, f in scores_files.items()}

