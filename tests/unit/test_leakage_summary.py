"""Combining the matched leakage effects: over partitions (corrected t), Holm over methods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import t as student_t
from statsmodels.stats.multitest import multipletests

from aftershock_replication.benchmarks.calibration import summarise_strength
from aftershock_replication.errors import InputError
from aftershock_replication.leakage_summary import leakage_summary_stage, summarise


def record(effect: float | None, measured: bool = True) -> dict[str, Any]:
    """One partition's leakage record as the leakage stage writes it (what summarise reads)."""
    if not measured:
        return {"measured": False, "reason": "no test earthquake has a neighbour in training"}
    subsets = {"all": effect, "exposed": None if effect is None else 2 * effect,
               "unexposed": 0.0}
    return {"measured": True, "train_cells": 8000, "test_cells": 2000,
            "exposed_events": ["2000AAAAxx01"], "effect": subsets,
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


def test_combined_effect_is_the_corrected_t_over_measured_partitions() -> None:
    rng = np.random.default_rng(3)
    effects = {"random_forest": list(0.05 + rng.normal(0, 0.01, 10)),
               "logistic": list(rng.normal(0, 0.01, 10)),
               "neural_network": list(0.01 + rng.normal(0, 0.01, 10))}
    summary = summarise({m: method_result(e) for m, e in effects.items()}, 0.05)
    assert summary["primary"] == "exposed"  # only exposed test earthquakes can leak
    p_values = []
    for method, values in effects.items():
        combined = summary["methods"][method]["combined"]
        mean, p = by_hand([2 * v for v in values])  # the records' exposed effects
        assert combined["exposed"]["estimate"] == pytest.approx(mean)
        assert combined["exposed"]["p_value"] == pytest.approx(p)
        assert (combined["exposed"]["partitions"], combined["exposed"]["not_measured"]) == (10, 1)
        assert combined["exposed"]["unit"] == "repeated split (seed)"
        p_values.append(p)
        # every subset is combined on its own values
        assert combined["all"]["estimate"] == pytest.approx(mean / 2)
        assert summary["methods"][method]["paper"]["all"]["estimate"] == 0.02
        assert summary["methods"][method]["paper"]["all"]["few_clusters"] is False
    expected = multipletests(p_values, method="holm")[1]
    got = [summary["methods"][m]["combined"]["exposed"]["p_holm"] for m in effects]
    assert got == pytest.approx(list(expected))
    assert summary["methods"]["random_forest"]["combined"]["exposed"]["verdict"] == "higher"


def test_few_partitions_are_underpowered_not_absent() -> None:
    summary = summarise({"logistic": method_result([0.001, -0.002, 0.0015])}, 0.05)
    combined = summary["methods"]["logistic"]["combined"]["exposed"]
    assert combined["verdict"] == "underpowered"
    assert combined["detectable_effect_80"] > combined["ci"][1] - combined["estimate"]


def test_nothing_measured_is_untested() -> None:
    summary = summarise({"logistic": method_result([])}, 0.05)
    combined = summary["methods"]["logistic"]["combined"]["exposed"]
    assert combined["estimate"] is None and combined["verdict"] == "untested"


def test_stage_names_a_missing_method_file(tmp_path: Path) -> None:
    params = {"leakage": {"methods": ["logistic", "random_forest"], "control_draws": 1,
                          "bootstrap_replicates": 100, "seed": 0},
              "stats": {"bootstrap_replicates": 100, "permutations": 100,
                        "permutation_method": "logistic", "seed": 0, "alpha": 0.05}}
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
                 "paper_ci": [0.0, 1.0], "labels": rng.random(50) < 0.3,
                 "von_mises": rng.random(50)}
                for p, ci in ((0.01, [0.002, 0.02]), (0.2, [-0.01, 0.03]), (0.6, [-0.02, 0.01]),
                              (None, [None, None]))]
    row = summarise_strength(0.0, outcomes)
    assert row["tested"] == 3  # the untested dataset is not counted as a non-rejection
    assert row["matched_rejection_at_0.05"] == pytest.approx(1 / 3)
    assert row["matched_ci_covers_0"] == pytest.approx(2 / 3)
    assert row["paper_bootstrap_covers_population"] == 1.0
    assert summarise_strength(1.0, outcomes)["matched_ci_covers_0"] is None  # true effect unknown
