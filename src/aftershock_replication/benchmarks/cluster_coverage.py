"""Coverage of 95 % intervals over few clusters (a benchmark, run once): how often the
percentile cluster bootstrap and the Student-t interval over clusters cover the true mean
when an effect is averaged over G = 3 ... 100 clusters (earthquakes or sequences).

The leakage experiment's per-partition intervals and the paper split's bootstrap rest on a
handful of test earthquakes; a 95 % interval over so few clusters covers less than 95 %.
Each simulated dataset draws G cluster effects from a skewed distribution (a centred
log-normal, sigma 0.75, as per-earthquake AUC effects are: a few large ones) or a normal
one, and each interval is checked against the true mean 0. Unit: simulated dataset;
coverage with its Clopper-Pearson 95 % interval.

    python -m aftershock_replication.benchmarks.cluster_coverage \\
        --out benchmarks/results/cluster-interval-coverage.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t as student_t
from statsmodels.stats.proportion import proportion_confint

from ..atomic import write_json

CLUSTERS = (3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 60, 100)
CHUNK = 200  # datasets resampled at once (memory: CHUNK x replicates x clusters)
SIGMA = 0.75


def cluster_effects(rng: np.random.Generator, datasets: int, clusters: int, shape: str
                    ) -> np.ndarray:
    """(datasets, clusters) effects with mean 0: centred log-normal or standard normal."""
    if shape == "normal":
        return rng.standard_normal((datasets, clusters))
    return rng.lognormal(0.0, SIGMA, (datasets, clusters)) - np.exp(SIGMA ** 2 / 2)


def coverage(effects: np.ndarray, replicates: int, rng: np.random.Generator
             ) -> dict[str, float]:
    """Share of datasets whose percentile-bootstrap and t intervals cover 0."""
    datasets, clusters = effects.shape
    low, high = np.empty(datasets), np.empty(datasets)
    for start in range(0, datasets, CHUNK):
        part = effects[start:start + CHUNK]
        draws = rng.integers(0, clusters, (len(part), replicates, clusters))
        means = np.take_along_axis(part[:, None, :], draws, axis=2).mean(axis=2)
        low[start:start + CHUNK], high[start:start + CHUNK] = np.percentile(
            means, [2.5, 97.5], axis=1)
    centre = effects.mean(axis=1)
    half = student_t.ppf(0.975, clusters - 1) * effects.std(axis=1, ddof=1) / np.sqrt(clusters)
    return {"bootstrap": float(np.mean((low <= 0) & (high >= 0))),
            "t": float(np.mean(np.abs(centre) <= half))}


def simulate(datasets: int, replicates: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    rows = []
    for shape in ("lognormal", "normal"):
        for clusters in CLUSTERS:
            found = coverage(cluster_effects(rng, datasets, clusters, shape), replicates, rng)
            row: dict[str, Any] = {"shape": shape, "clusters": clusters}
            for method, rate in found.items():
                count = round(rate * datasets)
                low, high = proportion_confint(count, datasets, alpha=0.05, method="beta")
                row[method] = {"coverage": rate, "ci": [float(low), float(high)]}
            rows.append(row)
    return {"datasets": datasets, "bootstrap_replicates": replicates, "seed": seed,
            "unit": "simulated dataset", "target": 0.95,
            "shapes": {"lognormal": f"centred log-normal, sigma {SIGMA}",
                       "normal": "standard normal"},
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = simulate(args.datasets, args.replicates, args.seed)
    write_json(args.out, {"command": "python -m aftershock_replication.benchmarks."
                          "cluster_coverage " + " ".join(argv or sys.argv[1:]), **result})
    for row in result["rows"]:
        print(f"{row['shape']:9s} G={row['clusters']:2d}  bootstrap "
              f"{row['bootstrap']['coverage']:.3f}  t {row['t']['coverage']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
