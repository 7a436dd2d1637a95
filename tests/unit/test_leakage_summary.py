"""Combining the matched leakage effects: over partitions (corrected t), Holm over methods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import t as student_t
from scipy.stats import ttest_1samp
from statsmodels.stats.multitest import multipletests

from aftershock_replication.auc import pooled_auc
from aftershock_replication.benchmarks import calibration
from aftershock_replication.benchmarks.calibration import (
    calibrate,
    histogram_auc,
    register_candidate_scale,
    score_histogram,
    summarise_strength,
)
from aftershock_replication.data import demo
from aftershock_replication.data.demo import count_cells, plan_demo
from aftershock_replication.errors import InputError
from aftershock_replication.leakage_summary import (
    exposed_group_effects,
    leakage_summary_stage,
    summarise,
)
from aftershock_replication.params import DemoParams

# five exposed test earthquakes in five sequences, each off the partition's effect by its own
# fixed amount (mean 0)
EXPOSED = {"2000AAAAxx01": 0.01, "2001BBBBxx01": -0.01, "2002CCCCxx02": 0.005,
           "2003DDDDxx01": -0.005, "2004EEEExx01": 0.0}


def record(effect: float | None, measured: bool = True) -> dict[str, Any]:
    """One partition's leakage record as the leakage stage writes it (what summarise reads)."""
    if not measured:
        return {"measured": False, "reason": "no test earthquake has a neighbour in training"}
    subsets = {"all": effect, "exposed": None if effect is None else 2 * effect,
               "unexposed": 0.0}
    per_event = {event: None if effect is None else 2 * effect + offset
                 for event, offset in EXPOSED.items()}
    return {"measured": True, "train_cells": 8000, "test_cells": 2000,
            "exposed_events": sorted(EXPOSED), "effect": {**subsets, "per_event": per_event},
            "effect_ci": {k: {"ci": [-0.1, 0.1], "earthquakes": 25} for k in subsets},
            "as_split_minus_purged": subsets}


def method_result(effects: list[float | None], paper: float = 0.02) -> dict[str, Any]:
    leaky = {str(i): record(e) for i, e in enumerate(effects)}
    leaky[str(len(effects))] = record(None, measured=False)
    return {"method": "m", "grouped_by": "sequence",
            "partitions": {"paper": {"paper": record(paper)}, "leaky": leaky}}


def by_hand(effects: list[float]) -> tuple[float, float]:
    """Nadeau-Bengio: mean and two-sided p with the n_test/n_train = 0.25 correction."""
    d = np.asarray(effects)
    se = np.sqrt((1 / d.size + 0.25) * d.var(ddof=1))
    return float(d.mean()), float(2 * student_t.sf(abs(d.mean() / se), d.size - 1))


def test_combined_effects_over_splits_and_over_sequences_with_holm_on_the_tested() -> None:
    rng = np.random.default_rng(3)
    effects = {"random_forest": list(0.05 + rng.normal(0, 0.01, 10)),
               "logistic": list(rng.normal(0, 0.01, 10)),
               "neural_network": list(0.01 + rng.normal(0, 0.01, 10))}
    summary = summarise({m: method_result(e) for m, e in effects.items()}, 0.05, 0.02)
    assert summary["primary"] == "exposed"  # only exposed test earthquakes can leak
    assert summary["primary_test"] == "by_group"
    p_values = []
    for method, values in effects.items():
        combined = summary["methods"][method]["combined"]
        mean, p = by_hand([2 * v for v in values])  # the records' exposed effects
        assert combined["exposed"]["estimate"] == pytest.approx(mean)
        assert combined["exposed"]["p_value"] == pytest.approx(p)
        assert (combined["exposed"]["partitions"], combined["exposed"]["not_measured"]) == (10, 1)
        assert combined["exposed"]["unit"] == "repeated split (seed)"
        # every subset is combined on its own values
        assert combined["all"]["estimate"] == pytest.approx(mean / 2)
        assert summary["methods"][method]["paper"]["all"]["estimate"] == 0.02
        assert summary["methods"][method]["paper"]["all"]["few_clusters"] is False
        # the tested combination: each earthquake over the splits, one value per sequence
        by_group = summary["methods"][method]["by_group"]
        groups = [mean + offset for offset in EXPOSED.values()]
        expected = ttest_1samp(groups, 0.0)
        assert by_group["estimate"] == pytest.approx(mean)
        assert by_group["p_value"] == pytest.approx(expected.pvalue)
        assert (by_group["groups"], by_group["df"], by_group["partitions"]) == (5, 4, 10)
        p_values.append(expected.pvalue)
    expected_holm = multipletests(p_values, method="holm")[1]
    got = [summary["methods"][m]["by_group"]["p_holm"] for m in effects]
    assert got == pytest.approx(list(expected_holm))
    assert summary["methods"]["random_forest"]["by_group"]["verdict"] == "higher"


def test_an_earthquake_is_averaged_over_its_splits_before_its_sequence() -> None:
    """Earthquake 01 of a sequence is tested in two splits, 02 in one: the sequence's value
    is the mean of the two earthquakes' means, not of the three measurements."""
    def partition(per_event: dict[str, float]) -> dict[str, Any]:
        return {"measured": True, "exposed_events": sorted(per_event),
                "exposed_event_groups": {e: "S" if e.startswith("2000") else "T"
                                         for e in per_event},
                "effect": {"per_event": per_event}}

    records = {"0": partition({"2000AAAAxx01": 0.1, "2000AAAAxx02": 0.4, "2009ZZZZxx01": 0.0}),
               "1": partition({"2000AAAAxx01": 0.3}),
               "2": {"measured": False}}
    assert exposed_group_effects(records) == pytest.approx({"S": (0.2 + 0.4) / 2, "T": 0.0})


def test_few_groups_decide_absence_only_by_equivalence() -> None:
    """Five sequences (df 4): tight effects near 0 are equivalent within a wide margin and
    undecided within a narrow one; neither is decided by the degrees of freedom."""
    result = {"logistic": method_result([0.001, -0.002, 0.0015])}
    wide = summarise(result, 0.05, 0.05)["methods"]["logistic"]["by_group"]
    narrow = summarise(result, 0.05, 0.005)["methods"]["logistic"]["by_group"]
    assert wide["df"] == narrow["df"] == 4
    assert wide["verdict"] == "equivalent" and wide["p_equivalence_holm"] < 0.05
    assert narrow["verdict"] == "undecided" and narrow["equivalence_bound"] > 0.005
    assert narrow["detectable_effect_80"] > narrow["ci"][1] - narrow["estimate"]


def test_nothing_measured_is_untested() -> None:
    summary = summarise({"logistic": method_result([])}, 0.05, 0.02)
    tested = summary["methods"]["logistic"]["by_group"]
    assert tested["estimate"] is None and tested["verdict"] == "untested"


def test_stage_names_a_missing_method_file(tmp_path: Path) -> None:
    params = {"leakage": {"methods": ["logistic", "random_forest"], "control_draws": 1,
                          "bootstrap_replicates": 100, "seed": 0, "test_auc_negatives": None},
              "stats": {"bootstrap_replicates": 100, "permutations": 100,
                        "permutation_method": "logistic", "seed": 0, "alpha": 0.05,
                        "smallest_effect": 0.02}}
    (tmp_path / "logistic.json").write_text(json.dumps({**method_result([0.01, 0.02]),
                                                        "method": "logistic"}))
    with pytest.raises(InputError, match=r"random_forest\.json: missing; run the stage "
                                         r"leakage@random_forest"):
        leakage_summary_stage(params, tmp_path, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_calibration_rows_count_rejections_and_coverage() -> None:
    rng = np.random.default_rng(0)
    outcomes = [{"matched_p": p, "matched_ci": ci, "matched_estimate": 0.01,
                 "matched_all": 0.005, "matched_detectable": 0.02, "did_p": 0.5,
                 "paper_ci": [0.0, 1.0],
                 "von_mises_histogram": score_histogram(rng.random(50) < 0.3,
                                                        rng.random(50))}
                for p, ci in ((0.01, [0.002, 0.02]), (0.2, [-0.01, 0.03]), (0.6, [-0.02, 0.01]),
                              (None, [None, None]))]
    row = summarise_strength(0.0, outcomes)
    assert row["tested"] == 3  # the untested dataset is not counted as a non-rejection
    assert row["matched_rejection_at_0.05"] == pytest.approx(1 / 3)
    assert row["matched_ci_covers_0"] == pytest.approx(2 / 3)
    assert row["paper_bootstrap_covers_population"] == 1.0
    assert summarise_strength(1.0, outcomes)["matched_ci_covers_0"] is None  # true effect unknown


def test_histogram_auc_matches_the_pooled_auc_of_the_cells() -> None:
    rng = np.random.default_rng(1)
    labels = rng.random(20_000) < 0.1
    scores = 10 ** (rng.normal(3, 1.5, labels.size) + labels)  # Pa, over many decades
    counts = score_histogram(labels, scores)
    assert histogram_auc(np.array(counts["positive"]), np.array(counts["negative"])) \
        == pytest.approx(pooled_auc(labels, scores), abs=1e-4)


def test_calibration_resumes_from_its_file_and_refuses_other_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped grid picks up where it stopped; a file of other settings is not mixed in."""
    from aftershock_replication.methods import RandomForestSettings

    made = []

    def fake_dataset(seed: int, leakage: float, *_: object) -> dict[str, object]:
        made.append((leakage, seed))
        labels = np.arange(10) < 3
        return {"seed": seed, "leakage": leakage, "matched_estimate": 0.01,
                "matched_ci": [-0.01, 0.03], "matched_p": 0.5, "matched_partitions": 9,
                "matched_detectable": 0.02, "matched_all": 0.0, "did_estimate": 0.0,
                "did_p": 0.5, "paper_ci": [0.0, 1.0],
                "von_mises_histogram": score_histogram(labels, np.arange(1.0, 11.0)),
                "partitions": {}}

    monkeypatch.setattr(calibration, "one_dataset", fake_dataset)
    settings = {"size": "small", "split_seeds": 10, "trees": 5, "max_train_rows": 20000,
                "control_draws": 3, "replicates": 10, "alpha": 0.05,
                "sequence_share": 0.8}
    out = tmp_path / "calibration.json"
    calibrate(2, [0.0], settings, RandomForestSettings(), out)
    assert made == [(0.0, 0), (0.0, 1)]
    table, outcomes = calibrate(3, [0.0, 3.0], settings, RandomForestSettings(), out)
    assert made[2:] == [(0.0, 2), (3.0, 0), (3.0, 1), (3.0, 2)]  # nothing measured twice
    assert len(outcomes) == 6 and list(table["generator_seeds"]) == [3, 3]
    with pytest.raises(InputError, match=r"calibration\.json: made with the settings"):
        calibrate(3, [0.0], {**settings, "trees": 100}, RandomForestSettings(), out)


def test_a_candidate_geometry_has_smaller_slip_models_and_more_sequences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calibration, "SCALES", dict(calibration.SCALES))  # left as it was
    small = calibration.SCALES["small"]
    name = register_candidate_scale(100, 30.0, 30.0)
    candidate = calibration.SCALES[name]
    assert (candidate.slip_models, candidate.buffer_m, candidate.length_median_m) == (
        100, 30_000.0, 30_000.0)
    assert candidate.length_max_m == small.length_max_m * 30 / 40
    params = {"seed": 0, "leakage": 3.0, "sequence_share": 0.8, "positive_rate": 0.02}
    monkeypatch.setattr(demo, "SCALES", calibration.SCALES)
    small_plan = plan_demo(DemoParams(size="small", **params))
    candidate_plan = plan_demo(DemoParams(size=name, **params))
    per_model = [count_cells(plan) / len(plan.slip_models())
                 for plan in (small_plan, candidate_plan)]
    assert per_model[1] < 0.7 * per_model[0]  # fewer cells per slip model
    assert 0.8 < count_cells(candidate_plan) / count_cells(small_plan) < 1.2  # as many cells
    assert len(candidate_plan.sequences) > len(small_plan.sequences)
