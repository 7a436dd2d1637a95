"""The matched-test-set leakage experiment: what each arm trains on, and its arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftershock_replication.auc import auc_sample, pooled_auc
from aftershock_replication.benchmarks.dataset import paper_split_names
from aftershock_replication.cells import Cells, Groups
from aftershock_replication.compute import SERIAL
from aftershock_replication.evaluate import evaluate_method, partition_seed
from aftershock_replication.leakage import (
    fit_and_score,
    measure_leakage,
    scored_rows,
    training_rows,
)
from aftershock_replication.leakage_plan import (
    SlipModels,
    exact_size_control,
    later_neighbours,
    neighbours,
    origin_seconds,
    plan_partition,
    slip_models,
)
from aftershock_replication.methods.params import LeakageParams
from aftershock_replication.names import event_of, sequence_of
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
    pool_positive = sum(models.positives[name] for name in plan.purged)
    pool_negative = sum(models.rows[name] for name in plan.purged) - pool_positive
    want_negative = plan.neighbour_cells - plan.neighbour_positives
    assert len(plan.controls) == 3
    for control in plan.controls:
        train = plan.control_train(control)
        removed = set(NAMES) - set(test) - set(train)
        # a size control removes only non-neighbours: every neighbour stays in training
        assert set(plan.neighbours) <= set(train) and not removed & set(plan.neighbours)
        assert not set(control.trimmed) & (removed | set(plan.neighbours))
        # ... and exactly as many cells and positive cells as the neighbours hold, or as
        # many of each class as the other training slip models hold
        assert control.positives == min(plan.neighbour_positives, pool_positive)
        assert control.cells - control.positives == min(want_negative, pool_negative)
        whole = sum(models.rows[name] for name in removed)
        whole_positive = sum(models.positives[name] for name in removed)
        assert whole + sum(p + n for p, n in control.trimmed.values()) == control.cells
        assert whole_positive + sum(p for p, _ in control.trimmed.values()) == \
            control.positives
        for name, (positive, negative) in control.trimmed.items():
            assert positive <= models.positives[name]
            assert negative <= models.rows[name] - models.positives[name]
    if pool_positive > plan.neighbour_positives and pool_negative > want_negative:
        assert len({tuple(c.removed) for c in plan.controls}) > 1  # the draws differ


def test_exact_size_control_matches_both_counts_by_trimming() -> None:
    rows = {"a": 100, "b": 100, "c": 100}
    positives = {"a": 10, "b": 0, "c": 50}
    # 150 cells of which 30 positive: no set of whole slip models has both counts
    control = exact_size_control(["a", "b", "c"], rows, positives, 150, 30,
                                 np.random.default_rng(0))
    assert (control.cells, control.positives) == (150, 30)
    assert control.trimmed, "whole slip models cannot match, so cells are trimmed"
    removed = sum(rows[n] for n in control.removed) + sum(
        p + n for p, n in control.trimmed.values())
    assert removed == 150


def test_exact_size_control_takes_what_exists_when_the_pool_is_small() -> None:
    rows, positives = {"a": 10, "b": 10}, {"a": 1, "b": 2}
    control = exact_size_control(["a", "b"], rows, positives, 100, 10,
                                 np.random.default_rng(0))
    assert (control.cells, control.positives) == (20, 3)  # all it can; recorded as such
    assert control.removed == ["a", "b"] and not control.trimmed


def test_training_rows_drop_the_trimmed_cells_of_each_class() -> None:
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    own = cells.slip_model.rows([names[3]])
    positive = int(cells.labels[own].sum())
    trimmed = {names[3]: (positive // 2, 40)}
    kept = training_rows(cells, names[2:5], trimmed, seed=5)
    full = cells.slip_model.rows(names[2:5])
    dropped = np.setdiff1d(full, kept)
    assert len(dropped) == positive // 2 + 40 and np.isin(dropped, own).all()
    assert int(cells.labels[dropped].sum()) == positive // 2
    # the same draw removes the same cells for every fit
    assert np.array_equal(kept, training_rows(cells, names[2:5], trimmed, seed=5))


def test_later_neighbours_are_those_at_or_after_a_test_earthquake_of_their_group() -> None:
    group_of = {"T1": "g", "T2": "g", "A": "g", "B": "g", "C": "g", "X": "h", "Y": "h"}
    time_of = {"T1": 10.0, "T2": 30.0, "A": 5.0, "B": 20.0, "C": 30.0, "X": 1.0,
               "Y": None}
    # B is after T1 (but before T2); C shares T2's origin time; A precedes both
    assert later_neighbours(["A", "B", "C"], ["T1", "T2"], group_of, time_of) == ["B", "C"]
    # a neighbour without a time counts as later; so does every one of a test model
    # without a time
    assert later_neighbours(["Y"], ["X"], group_of, time_of) == ["Y"]
    assert later_neighbours(["X"], ["Y"], group_of, time_of) == ["X"]


def test_the_future_only_arm_purges_later_neighbours_and_keeps_earlier_ones() -> None:
    names = ["2000AAAAAA01XXXX", "2000AAAAAA02XXXX", "2000AAAAAA03XXXX", "2001BBBBBB01XXXX",
             "2001BBBBBB02XXXX"]
    times = {names[0]: 0.0, names[1]: 10.0, names[2]: 20.0, names[3]: 0.0, names[4]: 5.0}
    models = SlipModels(rows=dict.fromkeys(names, 100), positives=dict.fromkeys(names, 5),
                        event_of={n: event_of(n) for n in names},
                        group_of={n: sequence_of(n) for n in names}, time_of=times)
    plan = plan_partition("leaky", "0", [names[1], names[4]], models, draws=1)
    assert plan.neighbours == [names[0], names[2], names[3]]
    assert plan.later == [names[2]]  # the only neighbour after its test earthquake
    assert plan.future_purged == [names[0], names[3]]
    assert plan.later_exposed_events == [event_of(names[1])]
    assert plan.earlier_exposed_events == sorted(event_of(n) for n in (names[1], names[4]))
    # two test earthquakes in one sequence: a neighbour between them is later than the
    # first, so the arm removes it, and both count as exposed to later neighbours (the
    # second also loses a neighbour before it: the arm's one rule, which can only enlarge
    # the later-neighbour effect)
    plan = plan_partition("leaky", "1", [names[0], names[2]], models, draws=1)
    assert plan.later == [names[1]] and plan.future_purged == [names[3], names[4]]
    assert plan.later_exposed_events == sorted(event_of(n) for n in (names[0], names[2]))
    assert plan.earlier_exposed_events == []
    # without any origin time there is no future-only arm, rather than one that calls
    # every neighbour later
    untimed = SlipModels(rows=models.rows, positives=models.positives,
                         event_of=models.event_of, group_of=models.group_of,
                         time_of=origin_seconds(dict.fromkeys(names), names))
    assert plan_partition("leaky", "0", [names[1]], untimed, draws=1).future_purged is None


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
    params = LeakageParams(methods=("logistic",), control_draws=2)
    for method, settings in (("max_shear", None), ("logistic", FAST["logistic"])):
        stored = evaluate_method(method, settings, cells, splits, SERIAL, None).test_scores
        result = measure_leakage(method, settings, cells, splits, stored, params, SERIAL)
        paper = result["paper"]["paper"]
        assert paper["measured"] and paper["exposed_events"] == sorted(
            {event_of(name) for name in test})
        if method == "max_shear":  # nothing fitted: every arm scores alike
            assert paper["effect"]["all"] == 0.0
            assert paper["as_split_minus_purged"]["all"] == 0.0
        else:
            assert -1.0 < paper["effect"]["all"] < 1.0
        assert result["leaky"]["0"]["aucs"]["as_split"]["all"] == pytest.approx(
            evaluate_method(method, settings, cells, splits, SERIAL, None)
            .partitions["leaky"]["0"]["pooled"], abs=0)


def test_the_future_only_arm_splits_the_purge_into_later_and_earlier_neighbours() -> None:
    """Each sequence holds an earlier (01) and a later (02) earthquake. Testing the later
    ones leaves only earlier neighbours in training: the future-only arm is the as-split
    fit, so the later-neighbour effect is exactly 0 and the earlier one is the whole
    purge. Testing the earlier ones leaves only later neighbours: the arm is the purge."""
    cells = two_sequence_cells()
    names = sorted(str(n) for n in cells.slip_model.names)
    times = {name: f"200{name[3]}-01-0{1 if name[10:12] == '01' else 2}T00:00:00Z"
             for name in names}
    params = LeakageParams(methods=("logistic",), control_draws=1)
    for test, source in (([names[1], names[5]], "as_split"), ([names[0], names[4]], "purged"),
                         ([names[1], names[4]], "fit")):
        splits = {**splits_for(cells, test), "origin_times": times}
        stored = evaluate_method("logistic", FAST["logistic"], cells, splits, SERIAL,
                                 None).test_scores
        paper = measure_leakage("logistic", FAST["logistic"], cells, splits, stored, params,
                                SERIAL)["paper"]["paper"]
        assert paper["future_arm_scores"] == source
        later, earlier = paper["later_effect"]["all"], paper["earlier_effect"]["all"]
        assert later + earlier == pytest.approx(paper["as_split_minus_purged"]["all"],
                                                abs=1e-12)
        if source == "as_split":
            assert later == 0.0 and paper["later_exposed_events"] == []
        elif source == "purged":
            assert earlier == 0.0 and paper["earlier_exposed_events"] == []
        else:  # sequence 0's test earthquake has an earlier neighbour, sequence 2's a later
            assert paper["later_exposed_events"] == [event_of(names[4])]
            assert paper["earlier_exposed_events"] == [event_of(names[1])]
            # the arm is a fit on exactly its training set: all but the later neighbour
            plan = plan_partition("paper", "paper", test, slip_models(cells, splits), 1)
            assert plan.future_purged == sorted(set(names) - set(test) - {names[5]})
            rows = scored_rows(cells, plan, None)
            direct = fit_and_score("logistic", FAST["logistic"], cells, plan.future_purged,
                                   rows, partition_seed("paper"))
            assert paper["aucs"]["future_purged"]["all"] == pooled_auc(cells.labels[rows],
                                                                       direct)
    without_times = measure_leakage("max_shear", None, cells, splits_for(cells, test),
                                    evaluate_method("max_shear", None, cells,
                                                    splits_for(cells, test), SERIAL,
                                                    None).test_scores, params, SERIAL)
    assert "later_effect" not in without_times["paper"]["paper"]


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
    params = LeakageParams(methods=("coulomb",), control_draws=2)
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
    params = LeakageParams(methods=("max_shear",), control_draws=1)
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
    params = LeakageParams(methods=("logistic",), control_draws=1)
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
    params = LeakageParams(methods=("logistic",), control_draws=2,
                           test_auc_negatives=negatives)
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
