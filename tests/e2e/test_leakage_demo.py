"""Leakage on demo data: the evaluation engine sees it when it is there and not when it is not.

Two small demo datasets (60 slip models) are generated. Without a leakage field and with
leaky partitions by earthquake (whose slip models share labels and never straddle), the
fitted methods score the same under leaky and grouped partitions. With a strong field
shared by whole sequences and leaky partitions by slip model, the matched test of
leakage.py finds the random forest's gain from the test set's neighbours, and none for an
untrained metric.
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
from aftershock_replication.leakage import measure_leakage
from aftershock_replication.leakage_summary import summarise
from aftershock_replication.methods import STRESS_METRICS
from aftershock_replication.methods.logistic import LogisticSettings
from aftershock_replication.methods.params import LeakageParams
from aftershock_replication.methods.random_forest import RandomForestSettings
from aftershock_replication.params import ComputeParams, DemoParams, SplitParams
from aftershock_replication.splits import make_splits, slip_model_table

pytestmark = pytest.mark.e2e
SEEDS = 5
STRONG_LEAK_SEEDS = 8
# two-sided 95 % quantile of Student's t with SEEDS - 1 df: the bound of a mean over seeds
T95 = float(stats.t.ppf(0.975, SEEDS - 1))
FOREST = RandomForestSettings(n_estimators=30, max_train_rows=None)
CAPPED_FOREST = RandomForestSettings(n_estimators=30, max_train_rows=20_000)
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
    table = seed_tables(per_method, alpha=0.05, margin=0.02)["tables"]["leakage_term"]
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


def test_matched_test_finds_a_strong_planted_leak(tmp_path: Path) -> None:
    """Leaky partitions by slip model put the test slip models' siblings (same earthquake,
    same labels) and sequence neighbours in training: a strong leak. On the same test cells
    the capped forest gains when they are in (size control) rather than purged, by more
    than chance allows, relative to the unexposed test earthquakes of the same split (the
    tested contrast); an untrained metric gains exactly 0.
    (Comparing different partitions, as the difference in differences does, mixes in test-
    set composition; the matched design removes it.)"""
    raw = tmp_path / "raw"
    generate_demo(DemoParams(seed=2018, size="small", leakage=6.0, sequence_share=1.0,
                             positive_rate=0.02), raw)
    build_features(open_layout(raw), tmp_path / "features.parquet", 1e-3)
    frame = pd.read_parquet(tmp_path / "features.parquet")
    # the contrast is tested over splits with the Nadeau-Bengio correction, so a strong leak
    # and more splits than the other test's (its power at 5 splits and leakage 3 was ~50 %)
    splits = make_splits(slip_model_table(frame), SplitParams(
        seeds=STRONG_LEAK_SEEDS, test_size=0.2, leaky_by="slip_model", grouped_by="sequence",
        cluster_km=50.0, cluster_days=365.0))
    cells = load_cells(tmp_path / "features.parquet")
    settings = LeakageParams(methods=("random_forest",), control_draws=2)
    effects = {}
    for method, forest in (("random_forest", CAPPED_FOREST), ("von_mises", None)):
        stored = evaluate_method(method, forest, cells, splits, PARALLEL, None).test_scores
        partitions = measure_leakage(method, forest, cells, splits, stored, settings,
                                     PARALLEL)
        effects[method] = summarise({method: {"partitions": partitions}}, 0.05, 0.02)[
            "methods"][method]["contrast"]
    forest = effects["random_forest"]
    assert forest["partitions"] >= 5 and forest["estimate"] > 0.02, forest
    assert forest["p_value"] < 0.05 and forest["ci"][0] > 0, forest
    assert effects["von_mises"]["estimate"] == 0.0  # nothing fitted: no leak to carry
