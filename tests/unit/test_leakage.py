"""The matched-test-set leakage experiment: what each arm trains on, and its arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftershock_replication.auc import auc_sample, pooled_auc
from aftershock_replication.benchmarks.dataset import paper_split_names
from aftershock_replication.cells import Cells, Groups
from aftershock_replication.compute import SERIAL
from aftershock_replication.data.layout import event_of, sequence_of
from aftershock_replication.evaluate import evaluate_method, partition_seed
from aftershock_replication.leakage import (
    CONTROL_TOLERANCE,
    SlipModels,
    measure_leakage,
    neighbours,
    plan_partition,
    size_control,
)
from aftershock_replication.params import LeakageParams
from aftershock_replication.splits import audit, random_partition, with_levels
from helpers import FAST, synthetic_cells

NAMES = [name for name, _ in paper_split_names()]
PAPER_TEST = sorted(name for name, role in paper_split_names() if role == "test")


def real_slip_models(level: str, seed: int) -> SlipModels:
    """The 199 published names, random cells per slip model, groups by sequence or by a
    random clustering of earthquakes (standing in for spatio-temporal clusters)."""
    rng = np.random.default_rng(seed)
    rows = {name: int(rng.integers(2_000, 60_000)) for name in NAMES}
    if level == "sequence":
        group_of = {name: sequence_of(name) for name in NAMES}
    else:
        events = sorted({event_of(name) for name in NAMES})
        cluster = dict(zip(events, rng.integers(0, 40, len(events)), strict=True))
        group_of = {name: f"cluster{cluster[event_of(name)]}" for name in NAMES}
    positives = {name: count // 50 for name, count in rows.items()}
    return SlipModels(rows=rows, positives=positives, event_of={n: event_of(n) for n in NAMES},
                      group_of=group_of)


@pytest.mark.parametrize("level", ["sequence", "spatiotemporal"])
@pytest.mark.parametrize("seed", range(6))
def test_purged_and_control_sets_never_hold_a_neighbour(level: str, seed: int) -> None:
    models = real_slip_models(level, seed)
    units = pd.Series({name: event_of(name) for name in NAMES})  # a leaky partition
    test = random_partition(units, 0.2, seed)
    plan = plan_partition("leaky", str(seed), test, models, draws=3)
    test_groups = {models.group_of[name] for name in test}
    assert plan.neighbours, "a leaky partition by event leaves sequence neighbours in training"
    # purged: no training slip model shares a group with the test set, nothing else is lost
    assert not {models.group_of[name] for name in plan.purged} & test_groups
    assert set(plan.purged) | set(plan.neighbours) | set(test) == set(NAMES)
    pool = [models.rows[name] for name in plan.purged]
    # every candidate fits in the tolerance band and there are enough: a match is certain
    match_possible = (max(pool) <= 2 * CONTROL_TOLERANCE * plan.neighbour_cells
                      and sum(pool) >= plan.neighbour_cells)
    for train, removed_cells in zip(plan.controls, plan.control_cells, strict=True):
        removed = set(NAMES) - set(test) - set(train)
        # a size control removes only non-neighbours: every neighbour stays in training
        assert set(plan.neighbours) <= set(train) and not removed & set(plan.neighbours)
        assert removed_cells == sum(models.rows[name] for name in removed)
        if match_possible:
            assert abs(removed_cells / plan.neighbour_cells - 1) <= CONTROL_TOLERANCE
    if match_possible:
        assert len({tuple(c) for c in plan.controls}) > 1  # the draws differ


def test_size_control_takes_what_fits_when_the_pool_is_small() -> None:
    rows = {"a": 10, "b": 10}
    chosen = size_control(["a", "b"], rows, target=100, rng=np.random.default_rng(0))
    assert chosen == ["a", "b"]  # all it can; the achieved share (0.2) is reported
    assert size_control(["a"], {"a": 500}, target=100, rng=np.random.default_rng(0)) == []


def test_paper_split_exposed_earthquakes_are_those_of_straddling_sequences() -> None:
    models = real_slip_models("sequence", 0)
    plan = plan_partition("paper", "paper", PAPER_TEST, models, draws=1)
    table = pd.DataFrame({"rows": pd.Series(models.rows), "event": pd.Series(models.event_of),
                          "sequence": pd.Series(models.group_of)})
    straddling = audit(with_levels(table, pd.Series(models.group_of)), PAPER_TEST)["sequence"]
    expected = sorted({event_of(name) for group in straddling
                       for name in group["test_slip_models"]})
    assert expected and plan.exposed_events == expected
    assert plan.neighbours == sorted(name for group in straddling
                                     for name in group["train_slip_models"])


def test_neighbours_follow_the_group_not_the_name() -> None:
    group_of = {"A1": "g", "A2": "g", "B1": "h", "C1": "g"}
    assert neighbours(["A2", "B1", "C1"], ["A1"], group_of) == ["A2", "C1"]


def two_sequence_cells(seed: int = 0) -> Cells:
    """Synthetic cells of eight slip models: four sequences of two one-model events."""
    base = synthetic_cells(n=8000, models=8, seed=seed)
    # name = sequence (10 characters) + event number (2) + author (4)
    names = np.array([f"200{k // 2}SEQ{k // 2}xx0{k % 2 + 1}AU{k}x" for k in range(8)])
    rows = np.arange(len(base)) % 8
    slip_model = names[rows]
    return Cells(components=base.components, max_shear=base.max_shear,
                 von_mises=base.von_mises, sum_abs=base.sum_abs, cfs=base.cfs,
                 labels=base.labels, slip_model=Groups.of(slip_model),
                 event=Groups.of([event_of(m) for m in slip_model]))


def splits_for(cells: Cells, test: list[str]) -> dict:
    return {"units": {"grouped": "sequence", "leaky": "event"},
            "schemes": {"paper": {"paper": test}, "leaky": {"0": test}}}


def test_untrained_metric_has_exactly_zero_effect_and_logistic_runs() -> None:
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    test = [names[0], names[4]]  # one event of two different sequences
    splits = splits_for(cells, test)
    params = LeakageParams(methods=("logistic",), control_draws=2, bootstrap_replicates=200,
                           seed=0)
    for method, settings in (("max_shear", None), ("logistic", FAST["logistic"])):
        stored = evaluate_method(method, settings, cells, splits, SERIAL, None).test_scores
        result = measure_leakage(method, settings, cells, splits, stored, params, SERIAL)
        paper = result["paper"]["paper"]
        assert paper["measured"] and paper["exposed_events"] == sorted(
            {event_of(name) for name in test})
        if method == "max_shear":  # nothing fitted: every arm scores alike
            assert paper["effect"]["all"] == 0.0
            assert paper["as_split_minus_purged"]["all"] == 0.0
            assert paper["effect_ci"]["all"]["ci"] == [0.0, 0.0]
        else:
            assert -1.0 < paper["effect"]["all"] < 1.0
            assert paper["effect_ci"]["all"]["unit"].startswith("test earthquake")
        assert result["leaky"]["0"]["aucs"]["as_split"]["all"] == pytest.approx(
            evaluate_method(method, settings, cells, splits, SERIAL, None)
            .partitions["leaky"]["0"]["pooled"], abs=0)


def test_cells_a_method_leaves_unscored_drop_from_every_arm() -> None:
    """Coulomb leaves 2010DARFIE01ATZO out (as the original): its test cells drop from all
    three arms alike, are counted, and the untrained effect stays exactly 0."""
    from dataclasses import replace

    cells = two_sequence_cells()
    names = np.array(sorted(str(n) for n in cells.slip_model.names))
    renamed = np.where(names == names[4], "2010DARFIE01ATZO", names)
    cells = replace(cells, slip_model=Groups.of(renamed[cells.slip_model.codes]))
    cells = replace(cells, event=Groups.of([event_of(str(m)) for m in
                                            cells.slip_model.names[cells.slip_model.codes]]))
    test = [str(names[0]), "2010DARFIE01ATZO"]
    splits = splits_for(cells, test)
    params = LeakageParams(methods=("coulomb",), control_draws=2, bootstrap_replicates=200,
                           seed=0)
    stored = evaluate_method("coulomb", None, cells, splits, SERIAL, None).test_scores
    paper = measure_leakage("coulomb", None, cells, splits, stored, params, SERIAL)["paper"][
        "paper"]
    assert paper["measured"] and paper["effect"]["all"] == 0.0
    assert paper["unscored_test_cells"] == len(cells.slip_model.rows(["2010DARFIE01ATZO"]))


def test_a_partition_without_exposed_earthquakes_says_so() -> None:
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    test = names[:2]  # a whole sequence: no neighbour left in training
    splits = splits_for(cells, test)
    params = LeakageParams(methods=("max_shear",), control_draws=1, bootstrap_replicates=200,
                           seed=0)
    stored = evaluate_method("max_shear", None, cells, splits, SERIAL, None).test_scores
    paper = measure_leakage("max_shear", None, cells, splits, stored, params, SERIAL)[
        "paper"]["paper"]
    assert paper["measured"] is False and "no test earthquake" in paper["reason"]
    assert "effect" not in paper  # no zero reported for what was not measured


def test_an_arm_too_small_to_fit_is_not_measured() -> None:
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    test = [names[0], names[2], names[4]]  # purging leaves sequence 3: names[6], names[7]
    splits = splits_for(cells, test)
    purged_left = np.isin(cells.slip_model.names[cells.slip_model.codes], names[6:8])
    cells.labels[purged_left] = False  # ... and it holds no positive cell
    params = LeakageParams(methods=("logistic",), control_draws=1, bootstrap_replicates=200,
                           seed=0)
    stored = evaluate_method("logistic", FAST["logistic"], cells, splits, SERIAL,
                             None).test_scores
    paper = measure_leakage("logistic", FAST["logistic"], cells, splits, stored, params,
                            SERIAL)["paper"]["paper"]
    assert paper["measured"] is False
    assert "purged training set holds 0 positive" in paper["reason"]


def test_arms_scored_on_a_negative_sample_stay_paired_on_the_same_cells() -> None:
    """With ``test_auc_negatives`` every arm scores every positive test cell and the same
    seeded draw of that many negatives: the as-split AUC is the stored scores' AUC on those
    cells, and an untrained metric's effect is still exactly 0."""
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    test = [names[0], names[4]]
    splits = splits_for(cells, test)
    rows = cells.slip_model.rows(test)
    negatives = 300
    params = LeakageParams(methods=("logistic",), control_draws=2, bootstrap_replicates=200,
                           seed=0, test_auc_negatives=negatives)
    for method, settings in (("max_shear", None), ("logistic", FAST["logistic"])):
        stored = evaluate_method(method, settings, cells, splits, SERIAL, None).test_scores
        paper = measure_leakage(method, settings, cells, splits, stored, params, SERIAL)[
            "paper"]["paper"]
        assert paper["scored_test_cells"] == int(cells.labels[rows].sum()) + negatives
        sample = auc_sample(cells.labels, rows, negatives, partition_seed("paper"))
        kept = stored["paper/paper"][np.searchsorted(rows, sample)]
        assert paper["aucs"]["as_split"]["all"] == pooled_auc(cells.labels[sample], kept)
        if method == "max_shear":
            assert paper["effect"]["all"] == 0.0
