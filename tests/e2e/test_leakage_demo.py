"""Leakage on demo data: the evaluation engine sees it when it is there and not when it is not.

Two small demo datasets (60 slip models) are generated. Without a leakage field and with
leaky partitions by earthquake (whose slip models share labels and never straddle), the
fitted methods score the same under leaky and grouped partitions. With a strong field
shared by whole sequences and leaky partitions by slip model, a memorising method (an
uncapped random forest) gains under leaky partitions what the untrained metrics do not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aftershock_replication.cells import load_cells
from aftershock_replication.comparisons import seed_tables
from aftershock_replication.data.demo import generate_demo
from aftershock_replication.data.layout import open_layout
from aftershock_replication.evaluate import evaluate_method
from aftershock_replication.features import build_features
from aftershock_replication.methods import STRESS_METRICS, LogisticSettings, RandomForestSettings
from aftershock_replication.params import ComputeParams, DemoParams, SplitParams
from aftershock_replication.splits import make_splits, slip_model_table

pytestmark = pytest.mark.e2e
SEEDS = 5
# two-sided 95 % quantile of Student's t with SEEDS - 1 df: the bound of a mean over seeds
T95 = float(stats.t.ppf(0.975, SEEDS - 1))
FOREST = RandomForestSettings(n_estimators=30, max_train_rows=None)
PARALLEL = ComputeParams(backend="loky", n_jobs=-1, scheduler=None)


def evaluate_demo(tmp: Path, leakage: float, share: float, leaky_by: str) -> dict:
    """Per-method, per-partition metrics on a freshly generated small demo."""
    raw = tmp / "raw"
    generate_demo(DemoParams(seed=2018, size="small", leakage=leakage, sequence_share=share,
                             positive_rate=0.02), raw)
    build_features(open_layout(raw), tmp / "features.parquet", 1e-3)
    frame = pd.read_parquet(tmp / "features.parquet")
    splits = make_splits(slip_model_table(frame), SplitParams(
        seeds=SEEDS, test_size=0.2, leaky_by=leaky_by, grouped_by="sequence", cluster_km=50.0,
        cluster_days=365.0))
    cells = load_cells(tmp / "features.parquet")
    per_method = {m: evaluate_method(m, None, cells, splits, PARALLEL, None).partitions
                  for m in STRESS_METRICS}
    per_method["random_forest"] = evaluate_method("random_forest", FOREST, cells, splits,
                                                  PARALLEL, None).partitions
    per_method["logistic"] = evaluate_method(
        "logistic", LogisticSettings(), cells, splits, PARALLEL, None).partitions
    return per_method


def drops(per_method: dict, method: str) -> np.ndarray:
    return np.array([per_method[method]["leaky"][str(s)]["pooled"]
                     - per_method[method]["grouped"][str(s)]["pooled"] for s in range(SEEDS)])


def test_no_leakage_field_no_difference(tmp_path: Path) -> None:
    """Raw leaky-minus-grouped drops are not compared with zero: the two schemes' test sets
    differ in composition, which moves every method alike (untrained metrics included; on
    this dataset all drop by about -0.03). What leakage would add is the difference between
    a fitted method's drop and the untrained reference's drop."""
    per_method = evaluate_demo(tmp_path, leakage=0.0, share=0.8, leaky_by="event")
    table = seed_tables(per_method, alpha=0.05)["tables"]["leakage_term"]
    leaks = {r["method"]: r for r in table["rows"]}
    reference = drops(per_method, "von_mises")
    for method in ("random_forest", "logistic"):
        fitted = drops(per_method, method)
        # the fitted method drops like the untrained metric, within the seed spread ...
        spread = np.hypot(fitted.std(ddof=1), reference.std(ddof=1))
        assert abs(fitted.mean() - reference.mean()) <= spread, (method, fitted, reference)
        # ... and its leakage term (vs the reference chosen on training cells) is null
        leak = np.array(leaks[method]["per_seed"])
        assert abs(leak.mean()) <= T95 * leak.std(ddof=1) / np.sqrt(SEEDS), (method, leak)


def test_strong_leakage_lifts_fitted_methods_only_under_leaky_partitions(tmp_path: Path) -> None:
    per_method = evaluate_demo(tmp_path, leakage=3.0, share=1.0, leaky_by="slip_model")
    forest, reference = drops(per_method, "random_forest"), drops(per_method, "von_mises")
    # the untrained metric does not drop systematically from leaky to grouped ...
    assert reference.mean() <= T95 * reference.std(ddof=1) / np.sqrt(SEEDS), reference
    # ... while the memorising forest gains under leaky partitions relative to it, in most
    # seeds: comparing different partitions mixes in their composition, so five seeds do not
    # always make the mean significant (the matched test of leakage.py removes that noise)
    leak = forest - reference
    assert leak.mean() > 0.02 and (leak > 0).sum() >= SEEDS - 1, leak
    assert forest.mean() > reference.mean()
