"""What makes the published scale fit: chunked scoring, parallel and Dask paths, the AUC
from one sort, compact cells, the cap as a maximum, the sampled training AUC, the
benchmark's dataset."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from aftershock_replication.auc import auc_sample, group_aucs, pooled_auc
from aftershock_replication.benchmarks.dataset import (
    PUBLISHED_ROWS,
    paper_split_names,
    rows_per_slip_model,
    write_scale_dataset,
)
from aftershock_replication.cells import load_cells
from aftershock_replication.compute import SERIAL
from aftershock_replication.data.layout import open_layout
from aftershock_replication.evaluate import evaluate_method
from aftershock_replication.features import build_features
from aftershock_replication.methods import ALL_METHODS, base, create
from aftershock_replication.params import ComputeParams
from aftershock_replication.pipeline import stage_names
from helpers import FAST, ROOT, synthetic_cells


@pytest.mark.parametrize("name", ALL_METHODS)
def test_chunked_scoring_gives_the_unchunked_scores(
    name: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cells = synthetic_cells()
    train = cells.slip_model.rows(cells.slip_model.names[:4])
    rows = np.arange(len(cells))
    method = create(name, FAST.get(name))
    method.fit(cells, train, seed=1)
    whole = method.score(cells, rows)
    monkeypatch.setattr(base, "SCORE_CHUNK_ROWS", 97)  # 62 chunks, the last one short
    chunked = method.score(cells, rows)
    # BLAS may round a float32 product differently at another block size: same to 1e-6
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-9)
    if name != "coulomb_test_selected":  # it leaves Darfield unscored (NaN)
        assert pooled_auc(cells.labels, chunked) == pytest.approx(
            pooled_auc(cells.labels, whole), abs=1e-6)


def test_group_aucs_equal_scikit_learn_group_by_group() -> None:
    rng = np.random.default_rng(3)
    for _ in range(25):
        n = int(rng.integers(2, 2000))
        labels = rng.random(n) < rng.uniform(0.02, 0.6)
        scores = np.round(rng.normal(labels * 0.6, 1.0, n), int(rng.integers(0, 3)))
        scores = scores.astype(rng.choice([np.float32, np.float64]))  # ties in both
        codes = rng.integers(0, 6, n)
        auc, positives, cells = group_aucs(labels, scores, codes, 8)
        for group in range(8):
            mask = codes == group
            assert cells[group] == mask.sum() and positives[group] == labels[mask].sum()
            if 0 < labels[mask].sum() < mask.sum():
                assert auc[group] == pytest.approx(roc_auc_score(labels[mask], scores[mask]),
                                                   abs=1e-12)
            else:
                assert np.isnan(auc[group])  # one class: no AUC, never 0.5
        if 0 < labels.sum() < n:
            assert pooled_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores),
                                                               abs=1e-12)


def test_cells_load_compactly_and_match_the_table(tiny_demo: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from aftershock_replication import features

    monkeypatch.setattr(features, "ROW_GROUP_ROWS", 5_000)  # several row groups
    out = tmp_path / "features.parquet"
    build_features(open_layout(tiny_demo), out, rtol=1e-3)
    assert pq.ParquetFile(out).metadata.num_row_groups > 2
    cells = load_cells(out)
    frame = pd.read_parquet(out)
    assert cells.slip_model.codes.dtype == np.int32
    assert list(cells.slip_model.names) == sorted(frame.slip_model.astype(str).unique())
    np.testing.assert_array_equal(cells.slip_model.of_rows(np.arange(len(cells))),
                                  frame.slip_model.astype(str).to_numpy())
    np.testing.assert_array_equal(cells.event.of_rows(np.arange(len(cells))),
                                  frame.event.astype(str).to_numpy())
    np.testing.assert_array_equal(cells.components[:, 2], frame.stress_xy.to_numpy())
    np.testing.assert_array_equal(cells.labels, frame.label.to_numpy())
    some = list(cells.slip_model.names[:2])
    np.testing.assert_array_equal(cells.slip_model.rows(some),
                                  np.flatnonzero(frame.slip_model.astype(str).isin(some)))


def test_the_training_cap_is_a_maximum_and_the_rows_used_are_recorded() -> None:
    cells = synthetic_cells()
    models = list(cells.slip_model.names)
    splits = {"schemes": {"paper": {"paper": models[4:]}}}
    available = len(cells) - len(cells.slip_model.rows(models[4:]))
    for cap, used in ((available * 10, available), (1000, 1000)):
        settings = replace(FAST["logistic"], max_train_rows=cap)
        metrics = evaluate_method("logistic", settings, cells, splits, SERIAL,
                                  None).partitions["paper"]["paper"]
        assert metrics["train_rows"] == available and metrics["train_rows_used"] == used


def test_training_auc_rows_keep_every_positive_and_sample_negatives() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(50_000) < 0.03
    train = np.sort(rng.choice(50_000, 40_000, replace=False))
    rows = auc_sample(labels, train, negatives=5_000, seed=4)
    assert np.isin(rows, train).all() and (np.diff(rows) > 0).all()
    assert labels[rows].sum() == labels[train].sum()  # all positives
    assert (~labels[rows]).sum() == 5_000
    np.testing.assert_array_equal(rows, auc_sample(labels, train, 5_000, seed=4))
    np.testing.assert_array_equal(auc_sample(labels, train, None, seed=4), train)


def _evaluate_all(compute: ComputeParams) -> dict[str, object]:
    cells = synthetic_cells()
    models = list(cells.slip_model.names)
    splits = {"schemes": {"paper": {"paper": models[4:]},
                          "grouped": {"0": models[:2], "1": models[2:4]}}}
    out = {}
    for name in ("coulomb", "random_forest", "neural_network"):
        result = evaluate_method(name, FAST.get(name), cells, splits, compute, 300)
        out[name] = (result.partitions, {k: v.tobytes() for k, v in result.test_scores.items()})
    return out


def test_parallel_and_dask_paths_give_the_serial_metrics() -> None:
    from distributed import LocalCluster

    serial = _evaluate_all(SERIAL)
    assert _evaluate_all(ComputeParams(backend="loky", n_jobs=2, scheduler=None)) == serial
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, processes=True) as cluster:
        dask = ComputeParams(backend="dask", n_jobs=-1, scheduler=cluster.scheduler_address)
        assert _evaluate_all(dask) == serial


def test_benchmark_dataset_has_the_published_shape(tmp_path: Path) -> None:
    names = paper_split_names()
    assert len(names) == 199 and sum(role == "test" for _, role in names) == 57
    rows = rows_per_slip_model([role for _, role in names], sum(PUBLISHED_ROWS.values()),
                               np.random.default_rng(0))
    roles = np.array([role for _, role in names])
    assert rows[roles == "train"].sum() == PUBLISHED_ROWS["train"]
    assert rows[roles == "test"].sum() == PUBLISHED_ROWS["test"]
    summary = write_scale_dataset(tmp_path / "original", cells=20_000)
    layout = open_layout(tmp_path / "original")
    assert sum(len(v) for v in layout.names.values()) == 199
    report = build_features(layout, tmp_path / "features.parquet", rtol=1e-3)
    skipped = sum(entry["rows"] for entry in report["skipped_slip_models"])  # tiny: one class
    assert report["rows"] + skipped == summary["cells"]
    assert report["demo"]["source"] == "benchmark"  # synthetic: marked as such downstream
    assert report["crosscheck"]["max_shear"]["disagreeing_rows"] == 0
    assert 0.01 < report["positive_share"] < 0.05


def test_benchmark_runs_every_stage_of_the_pipeline() -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["learning_curve"]["methods"] = ["svm"]  # the stages follow params
    names = stage_names(ROOT / "dvc.yaml", params)
    assert names[:4] == ["acquire", "features", "events", "split"] and names[-1] == "letter"
    assert {f"score@{m}" for m in ("coulomb", "max_shear")} <= set(names)
    assert "fit@neural_network" in names and "learning_curve@svm" in names
    assert "learning_curve@random_forest" not in names


def test_the_benchmark_compares_sampled_test_aucs_with_the_same_fits_on_all_cells(
    tmp_path: Path,
) -> None:
    """The share-1 curve point and the as-split leakage arm are the evaluation stage's fits:
    the benchmark reports their sampled AUC minus that fit's all-cells AUC."""
    import json

    from aftershock_replication.benchmarks.pipeline import sampled_test_auc_check

    (tmp_path / "metrics/methods").mkdir(parents=True)
    (tmp_path / "metrics/leakage").mkdir(parents=True)
    (tmp_path / "plots/learning_curve").mkdir(parents=True)
    (tmp_path / "metrics/methods/random_forest.json").write_text(json.dumps({"partitions": {
        "grouped": {"0": {"pooled": 0.700}, "1": {"pooled": 0.650}},
        "paper": {"paper": {"pooled": 0.600}}, "leaky": {"0": {"pooled": 0.800}}}}))
    pd.DataFrame({"seed": [0, 0, 1, 1], "train_share": [0.1, 1.0, 0.1, 1.0],
                  "test_auc": [0.6, 0.7005, 0.55, 0.6490]}).to_csv(
        tmp_path / "plots/learning_curve/random_forest.csv", index=False)
    (tmp_path / "metrics/leakage/random_forest.json").write_text(json.dumps({"partitions": {
        "paper": {"paper": {"measured": True, "aucs": {"as_split": {"all": 0.6015}}}},
        "leaky": {"0": {"measured": False}}}}))
    result = sampled_test_auc_check(tmp_path)
    curve = result["learning_curve"]["random_forest"]
    assert [row["difference"] for row in curve] == pytest.approx([0.0005, -0.0010])
    assert [row["partition"] for row in result["leakage"]["random_forest"]] == ["paper/paper"]
    assert result["max_abs_difference"] == pytest.approx(0.0015)
