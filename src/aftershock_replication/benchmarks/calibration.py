"""Null calibration of the tests (a benchmark, not part of the pipeline or the unit tests).

Over many demo generator seeds: with ``demo.leakage = 0`` the leakage test (corrected t on
the difference in differences) should reject at about its nominal rate, and the cluster
bootstrap CI of the paper-split pooled AUC should cover the population value at about its
nominal rate; with leakage on, the rejection rate is the test's power.

    python -m aftershock_replication.benchmarks.calibration --generator-seeds 12 --leakage 0 3

The population AUC is approximated by pooling every cell of every generator seed used.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..auc import pooled_auc
from ..cells import load_cells
from ..comparisons import seed_tables
from ..data.demo import generate_demo
from ..data.layout import open_layout
from ..evaluate import evaluate_method
from ..features import build_features
from ..methods import STRESS_METRICS, RandomForestSettings
from ..params import ComputeParams, DemoParams, SplitParams
from ..progress import format_seconds, setup_logging
from ..splits import make_splits, slip_model_table
from ..stats import cluster_bootstrap

log = logging.getLogger(__name__)

FOREST = RandomForestSettings(n_estimators=30, max_train_rows=None)
ALPHA = 0.05  # level of the leakage test whose rejection rate is measured


def one_generator_seed(
    seed: int, leakage: float, size: int, split_seeds: int, leaky_by: str, replicates: int,
    work: Path,
) -> dict[str, Any]:
    """Generate, evaluate and test one demo dataset; return the test outcome and the CI."""
    demo = DemoParams(seed=seed, size=size, leakage=leakage, sequence_share=0.8,
                      positive_rate=0.02)
    raw = work / f"raw-{seed}-{leakage}"
    generate_demo(demo, raw)
    features = work / f"features-{seed}-{leakage}.parquet"
    build_features(open_layout(raw), features, 1e-3)
    frame = pd.read_parquet(features, columns=["slip_model", "event", "sequence", "paper_role",
                                               "x", "y", "label"])
    split_params = SplitParams(seeds=split_seeds, test_size=0.2, leaky_by=leaky_by,
                               grouped_by="sequence", cluster_km=50.0, cluster_days=365.0)
    splits = make_splits(slip_model_table(frame), split_params)
    cells = load_cells(features)
    compute = ComputeParams(backend="loky", n_jobs=-1, scheduler=None)
    per_method = {m: evaluate_method(m, None, cells, splits, compute, None).partitions
                  for m in STRESS_METRICS}
    per_method["random_forest"] = evaluate_method("random_forest", FOREST, cells, splits,
                                                  compute, None).partitions
    leak = next(r for r in seed_tables(per_method, ALPHA)["tables"]["leakage_term"]["rows"]
                if r["method"] == "random_forest")
    paper = cells.slip_model.rows(splits["schemes"]["paper"]["paper"])
    boot = cluster_bootstrap(cells.labels[paper], cells.von_mises[paper].astype(float),
                             cells.event.codes[paper], replicates=replicates, seed=seed)
    return {"seed": seed, "leakage": leakage, "leak_estimate": leak["estimate"],
            "leak_p": leak["p_value"], "ci": boot["ci"],
            "labels": cells.labels, "von_mises": cells.von_mises}


def calibrate(generator_seeds: int, leakages: list[float], size: int, split_seeds: int,
              leaky_by: str, replicates: int) -> pd.DataFrame:
    """Rejection rate of the leakage test and CI coverage per leakage setting."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for leakage in leakages:
            outcomes = []
            for seed in range(generator_seeds):
                start = time.perf_counter()
                outcomes.append(one_generator_seed(seed, leakage, size, split_seeds, leaky_by,
                                                   replicates, Path(directory)))
                log.info("leakage %g, generator seed %d: leak %.4f (p %.3f), %s", leakage, seed,
                         outcomes[-1]["leak_estimate"], outcomes[-1]["leak_p"],
                         format_seconds(time.perf_counter() - start))
            population = pooled_auc(np.concatenate([o["labels"] for o in outcomes]),
                                    np.concatenate([o["von_mises"] for o in outcomes]))
            p_values = np.array([o["leak_p"] for o in outcomes], dtype=float)
            covered = [o["ci"][0] <= population <= o["ci"][1] for o in outcomes]
            rows.append({
                "leakage": leakage, "generator_seeds": generator_seeds,
                "split_seeds": split_seeds, "leaky_by": leaky_by,
                f"rejection_rate_at_{ALPHA}": float(np.mean(p_values < ALPHA)),
                "mean_leak_estimate": float(np.mean([o["leak_estimate"] for o in outcomes])),
                "bootstrap_ci_coverage": float(np.mean(covered)),
                "population_von_mises_auc": population,
            })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    """Command line of the calibration benchmark; prints the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator-seeds", type=int, default=12)
    parser.add_argument("--leakage", type=float, nargs="+", default=[0.0, 3.0])
    parser.add_argument("--size", type=int, default=40, help="slip models per demo dataset")
    parser.add_argument("--split-seeds", type=int, default=5)
    # by event: an earthquake's slip models (which share labels) never straddle, so with
    # leakage 0 there is nothing to leak and the test must hold its level
    parser.add_argument("--leaky-by", default="event", choices=("event", "slip_model"))
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args(argv)
    setup_logging()
    start = time.perf_counter()
    table = calibrate(args.generator_seeds, args.leakage, args.size, args.split_seeds,
                      args.leaky_by, args.replicates)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wall time {format_seconds(time.perf_counter() - start)}")


if __name__ == "__main__":
    main()
