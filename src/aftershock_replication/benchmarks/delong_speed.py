"""Wall-time benchmark of the statistics at the paper's scale (synthetic data, no files).

Run: ``python -m aftershock_replication.benchmarks.delong_speed [--cells 1400000 --groups 30]``.
Scores are rounded so ties occur, group names are strings, and the two models share most of
their signal, as two forecasts of the same aftershocks would.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from aftershock_replication.stats.bootstrap import cluster_bootstrap, pair_matrix
from aftershock_replication.stats.delong import delong_paired
from aftershock_replication.stats.permutation import permutation_pvalue


def synthetic(
    cells: int, groups: int, positive_rate: float, seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, two correlated score vectors and string group names, cells stored by group."""
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(cells, rng.dirichlet(np.full(groups, 2.0)))
    names = np.repeat(np.array([f"event_{g:02d}" for g in range(groups)]), sizes)
    effect = np.repeat(rng.normal(0.0, 0.7, groups), sizes)  # group-level random intercept
    gain = np.repeat(rng.normal(0.6, 0.4, groups), sizes)  # model b's edge varies by event
    latent = effect + rng.normal(size=cells)
    observed = latent + rng.normal(size=cells)
    labels = observed > np.quantile(observed, 1.0 - positive_rate)
    score_a = np.round(latent + rng.normal(0.0, 1.0, cells), 2)
    score_b = np.round(0.8 * score_a + gain * latent + rng.normal(0.0, 1.0, cells), 2)
    return labels, score_a, score_b, names


def timed(label: str, func: Callable[[], Any]) -> Any:
    """Run ``func`` once, print its wall time, return its result."""
    start = time.perf_counter()
    result = func()
    print(f"{label:<58s} {time.perf_counter() - start:8.3f} s")
    return result


def _show(result: Any) -> str:
    if isinstance(result, tuple):  # pair_matrix: show the totals only
        pairs, positives, negatives, names = result
        return json.dumps({"groups": len(names), "positives": int(positives.sum()),
                           "negatives": int(negatives.sum()),
                           "pooled_auc": float(pairs.sum() / (positives.sum() * negatives.sum()))})
    return json.dumps(result, default=float)


def main(argv: list[str] | None = None) -> None:
    """Time DeLong, the cluster bootstrap (including building C) and the permutation test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_400_000)
    parser.add_argument("--groups", type=int, default=30)
    parser.add_argument("--positive-rate", type=float, default=0.02)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--permutation-cells", type=int, default=20_000)
    parser.add_argument("--permutations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    labels, score_a, score_b, names = synthetic(args.cells, args.groups, args.positive_rate,
                                                args.seed)
    print(f"synthetic: {labels.size:,} cells, {args.groups} groups, "
          f"{int(labels.sum()):,} positives ({labels.mean():.2%})")
    runs: list[tuple[str, Callable[[], Any]]] = [
        ("delong_paired", lambda: delong_paired(labels, score_a, score_b)),
        ("pair_matrix (one score vector)", lambda: pair_matrix(labels, score_a, names)),
        (f"cluster_bootstrap AUC(a), {args.replicates} replicates",
         lambda: cluster_bootstrap(labels, score_a, names, replicates=args.replicates,
                                   seed=args.seed)),
        (f"cluster_bootstrap AUC(a)-AUC(b), {args.replicates} replicates",
         lambda: cluster_bootstrap(labels, score_a, names, scores_b=score_b,
                                   replicates=args.replicates, seed=args.seed)),
    ]
    small = slice(0, args.permutation_cells)
    runs.append((f"permutation_pvalue, {args.permutation_cells:,} cells, "
                 f"{args.permutations} perms",
                 lambda: permutation_pvalue(labels[small], score_a[small],
                                            permutations=args.permutations, seed=args.seed)))
    results = [(label, timed(label, func)) for label, func in runs]
    print()
    for label, result in results:
        print(f"{label}:\n  {_show(result)}")


if __name__ == "__main__":
    main()
