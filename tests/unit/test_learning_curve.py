"""Learning curves: shares common to every seed, a fixed training length along the
network's curve, and a share-1 point that is the main evaluation's fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aftershock_replication.auc import auc_sample, pooled_auc
from aftershock_replication.compute import SERIAL
from aftershock_replication.evaluate import evaluate_method
from aftershock_replication.learning_curve import curve_shares, curve_summary, learning_curve
from aftershock_replication.methods.params import LearningCurveParams
from helpers import FAST, synthetic_cells

CURVE = LearningCurveParams(methods=("neural_network", "random_forest"), points=3,
                            min_share=0.1, steps_per_epoch=None)


def grouped_partitions(names: list[str]) -> dict[str, list[str]]:
    """Two grouped partitions of the synthetic cells' six slip models (three events)."""
    return {"0": [n for n in names if n[:12].endswith("01")],
            "1": [n for n in names if n[:12].endswith("03")]}


@pytest.mark.parametrize("method", ["neural_network", "random_forest"])
def test_curve_shares_are_common_and_the_full_share_is_the_main_fit(method: str) -> None:
    cells = synthetic_cells(n=8000)
    settings = FAST[method]
    if method == "random_forest":  # a capped method: share 1 is its drawn maximum
        settings = replace(settings, max_train_rows=2000)
    grouped = grouped_partitions(list(cells.slip_model.names))
    table = learning_curve(method, settings, cells, grouped, CURVE, SERIAL)
    shares = curve_shares(CURVE.min_share, CURVE.points)
    for _, part in table.groupby("seed"):
        assert sorted(part["train_share"]) == shares  # one value per seed at every share
        assert part["train_rows"].is_monotonic_increasing
    main = evaluate_method(method, settings, cells, {"schemes": {"grouped": grouped}}, SERIAL,
                           None).partitions["grouped"]
    full = table[table["train_share"] == 1.0].set_index("seed")
    for partition, metrics in main.items():
        assert full.loc[int(partition), "train_rows"] == metrics["train_rows_used"]
        assert full.loc[int(partition), "test_auc"] == pytest.approx(metrics["pooled"])


def test_the_network_trains_as_long_at_every_share() -> None:
    """Steps per epoch are those of the full training rows at every share: a smaller subset
    is not also trained for less (the original recipe would scale them with the positives)."""
    cells = synthetic_cells(n=8000)
    grouped = grouped_partitions(list(cells.slip_model.names))
    table = learning_curve("neural_network", FAST["neural_network"], cells, grouped, CURVE,
                           SERIAL)
    for _, part in table.groupby("seed"):
        assert part["steps_per_epoch"].nunique() == 1
        full_positives = int(part.loc[part["train_share"] == 1.0, "train_positives"].iloc[0])
        assert part["steps_per_epoch"].iloc[0] == \
            FAST["neural_network"].original_steps(full_positives)
    assert table["still_improving"].notna().all()  # the network has a validation history
    fixed = replace(CURVE, steps_per_epoch=8)  # the critique's budget, set by hand
    assert (learning_curve("neural_network", FAST["neural_network"], cells, grouped, fixed,
                           SERIAL)["steps_per_epoch"] == 8).all()
    summary = curve_summary("neural_network", table, True)
    assert summary["training_length"].startswith("fixed along the curve")
    assert summary["full_point_still_improving"]["of"] == 2


def test_a_negative_sample_scores_every_point_of_a_seed_on_the_same_cells() -> None:
    """With ``test_auc_negatives`` each point's AUC uses every positive test cell and the
    seed's one draw of that many negatives: at share 1 it is the main fit's AUC on exactly
    those cells."""
    cells = synthetic_cells(n=8000)
    grouped = grouped_partitions(list(cells.slip_model.names))
    negatives = 400
    sampled = replace(CURVE, test_auc_negatives=negatives)
    table = learning_curve("logistic", FAST["logistic"], cells, grouped, sampled, SERIAL)
    main = evaluate_method("logistic", FAST["logistic"], cells,
                           {"schemes": {"grouped": grouped}}, SERIAL, None)
    for partition, test_models in grouped.items():
        rows = cells.slip_model.rows(test_models)
        part = table[table["seed"] == int(partition)]
        assert (part["test_auc_cells"] == int(cells.labels[rows].sum()) + negatives).all()
        sample = auc_sample(cells.labels, rows, negatives, int(partition))
        scores = main.test_scores[f"grouped/{partition}"][np.searchsorted(rows, sample)]
        full = part.loc[part["train_share"] == 1.0, "test_auc"].iloc[0]
        assert full == pytest.approx(pooled_auc(cells.labels[sample], scores), abs=1e-12)
    assert "at most 400 negative" in curve_summary("logistic", table, False, 0.1,
                                                   negatives)["test_auc_cells"]
