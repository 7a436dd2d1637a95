"""Calibration and power of the leakage tests (a benchmark, not part of the pipeline or the
unit tests).

Over many demo generator seeds per leakage strength, the pipeline's own code is run on a
fresh demo dataset: features, partitions, the random forest on every partition, the matched
leakage experiment (``leakage.py``) and its combination over partitions
(``leakage_summary.py``). Reported per strength:

- the matched test's rejection rate at alpha: with ``demo.leakage = 0`` the false-alarm
  rate (target <= 10 %), otherwise its power;
- with ``demo.leakage = 0``, how often the 95 % interval of the combined effect covers the
  true effect, 0 (target >= 90 %);
- the mean combined effect (exposed test earthquakes, the tested quantity; all test cells)
  and the mean effect the test detects with 80 % power;
- the rejection rate of the difference-in-differences leakage term (the secondary test);
- how often the paper split's cluster-bootstrap interval of the von Mises AUC covers the
  population value (every cell of every generator seed of that strength pooled).

    python -m aftershock_replication.benchmarks.calibration --generator-seeds 20 \\
        --leakage 0 0.5 1 2 3 --out benchmarks/results/calibration.json
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
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
from ..leakage import measure_leakage
from ..leakage_summary import summarise
from ..methods import STRESS_METRICS, RandomForestSettings
from ..params import ComputeParams, DemoParams, LeakageParams, SplitParams
from ..progress import format_seconds, setup_logging
from ..splits import make_splits, slip_model_table
from ..stats import cluster_bootstrap

log = logging.getLogger(__name__)

ALPHA = 0.05  # level of the tests whose rejection rates are measured
METHOD = "random_forest"


def one_dataset(
    seed: int, leakage: float, size: str | int, split_seeds: int, forest: RandomForestSettings,
    control_draws: int, replicates: int, work: Path,
) -> dict[str, Any]:
    """Generate one demo dataset and run both leakage tests and the paper-split bootstrap."""
    demo = DemoParams(seed=seed, size=size, leakage=leakage, sequence_share=0.8,
                      positive_rate=0.02)
    raw = work / f"raw-{seed}-{leakage}"
    generate_demo(demo, raw)
    features = work / f"features-{seed}-{leakage}.parquet"
    build_features(open_layout(raw), features, 1e-3)
    frame = pd.read_parquet(features, columns=["slip_model", "event", "sequence", "paper_role",
                                               "x", "y", "label"])
    split_params = SplitParams(seeds=split_seeds, test_size=0.2, leaky_by="event",
                               grouped_by="sequence", cluster_km=50.0, cluster_days=365.0)
    splits = make_splits(slip_model_table(frame), split_params)
    cells = load_cells(features)
    compute = ComputeParams(backend="loky", n_jobs=-1, scheduler=None)
    per_method = {m: evaluate_method(m, None, cells, splits, compute, None).partitions
                  for m in STRESS_METRICS}
    forest_run = evaluate_method(METHOD, forest, cells, splits, compute, None)
    per_method[METHOD] = forest_run.partitions
    difference_in_differences = next(
        r for r in seed_tables(per_method, ALPHA)["tables"]["leakage_term"]["rows"]
        if r["method"] == METHOD)
    settings = LeakageParams(methods=(METHOD,), control_draws=control_draws,
                             bootstrap_replicates=replicates, seed=0)
    partitions = measure_leakage(METHOD, forest, cells, splits, forest_run.test_scores,
                                 settings, compute)
    summary = summarise({METHOD: {"partitions": partitions}}, ALPHA)
    matched = summary["methods"][METHOD]
    paper = cells.slip_model.rows(splits["schemes"]["paper"]["paper"])
    boot = cluster_bootstrap(cells.labels[paper], cells.von_mises[paper].astype(float),
                             cells.event.codes[paper], replicates=replicates, seed=seed)
    combined = matched["combined"]
    tested = combined[summary["primary"]]  # the exposed test earthquakes
    return {
        "seed": seed, "leakage": leakage,
        "matched_estimate": tested["estimate"], "matched_ci": tested["ci"],
        "matched_p": tested["p_value"], "matched_partitions": tested["partitions"],
        "matched_detectable": tested["detectable_effect_80"],
        "matched_all": combined["all"]["estimate"],
        "did_estimate": difference_in_differences["estimate"],
        "did_p": difference_in_differences["p_value"],
        "paper_ci": boot["ci"], "labels": cells.labels, "von_mises": cells.von_mises,
    }


def rate(flags: list[bool]) -> float:
    """Share of True among ``flags`` (NaN when empty)."""
    return float(np.mean(flags)) if flags else float("nan")


def summarise_strength(leakage: float, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """One row of the calibration table: rejection rates, coverage and mean effects."""
    tested = [o for o in outcomes
              if o["matched_p"] is not None and np.isfinite(o["matched_p"])]
    population = pooled_auc(np.concatenate([o["labels"] for o in outcomes]),
                            np.concatenate([o["von_mises"] for o in outcomes]))
    row = {
        "leakage": leakage, "generator_seeds": len(outcomes), "tested": len(tested),
        f"matched_rejection_at_{ALPHA}": rate([o["matched_p"] < ALPHA for o in tested]),
        "matched_ci_covers_0": rate([o["matched_ci"][0] <= 0 <= o["matched_ci"][1]
                                     for o in tested]) if leakage == 0 else None,
        "mean_matched_effect": float(np.mean([o["matched_estimate"] for o in tested]))
        if tested else None,
        "mean_matched_all_cells_effect": float(np.nanmean(
            [np.nan if o["matched_all"] is None else o["matched_all"] for o in tested]))
        if tested else None,
        "mean_detectable_effect_80": float(np.nanmean(
            [np.nan if o["matched_detectable"] is None else o["matched_detectable"]
             for o in tested])) if tested else None,
        f"did_rejection_at_{ALPHA}": rate([o["did_p"] < ALPHA for o in outcomes
                                           if o["did_p"] is not None
                                           and np.isfinite(o["did_p"])]),
        "paper_bootstrap_covers_population": rate(
            [o["paper_ci"][0] <= population <= o["paper_ci"][1] for o in outcomes]),
    }
    return row


def calibrate(generator_seeds: int, leakages: list[float], size: str | int, split_seeds: int,
              forest: RandomForestSettings, control_draws: int, replicates: int,
              ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The calibration table and every dataset's outcome (without the cell arrays)."""
    rows, kept = [], []
    with tempfile.TemporaryDirectory() as directory:
        for leakage in leakages:
            outcomes = []
            for seed in range(generator_seeds):
                start = time.perf_counter()
                outcome = one_dataset(seed, leakage, size, split_seeds, forest, control_draws,
                                      replicates, Path(directory))
                outcomes.append(outcome)
                for path in Path(directory).iterdir():  # one dataset on disk at a time
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                log.info("leakage %g, generator seed %d/%d: matched effect %s (p %s), %s",
                         leakage, seed + 1, generator_seeds, outcome["matched_estimate"],
                         outcome["matched_p"], format_seconds(time.perf_counter() - start))
            rows.append(summarise_strength(leakage, outcomes))
            kept += [{k: v for k, v in o.items() if k not in ("labels", "von_mises")}
                     for o in outcomes]
            log.info("leakage %g: %s", leakage, rows[-1])
    return pd.DataFrame(rows), kept


def main(argv: list[str] | None = None) -> None:
    """Command line of the calibration benchmark; prints the table, optionally saves it."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator-seeds", type=int, default=20)
    parser.add_argument("--leakage", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0, 3.0])
    parser.add_argument("--size", default="small",
                        help="demo.size: small (the default demo) or a number of slip models")
    parser.add_argument("--split-seeds", type=int, default=10, help="seeds (10, the default)")
    parser.add_argument("--trees", type=int, default=RandomForestSettings().n_estimators)
    parser.add_argument("--control-draws", type=int, default=3)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None, help="write the table and outcomes")
    args = parser.parse_args(argv)
    setup_logging()
    size = int(args.size) if str(args.size).isdigit() else args.size
    forest = RandomForestSettings(n_estimators=args.trees)
    start = time.perf_counter()
    table, outcomes = calibrate(args.generator_seeds, args.leakage, size, args.split_seeds,
                                forest, args.control_draws, args.replicates)
    elapsed = time.perf_counter() - start
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wall time {format_seconds(elapsed)}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "command": "python -m aftershock_replication.benchmarks.calibration "
                       + " ".join(argv if argv is not None else sys.argv[1:]),
            "settings": {"size": size, "split_seeds": args.split_seeds, "trees": args.trees,
                         "max_train_rows": forest.max_train_rows,
                         "control_draws": args.control_draws, "replicates": args.replicates,
                         "alpha": ALPHA},
            "wall_seconds": round(elapsed, 1),
            "table": json.loads(table.to_json(orient="records")),
            "outcomes": outcomes,
        }, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
