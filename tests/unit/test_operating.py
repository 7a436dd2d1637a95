"""The operating-characteristics benchmark's bookkeeping: outcomes at the two levels that
bound the pipeline's Holm-adjusted verdict, Clopper-Pearson intervals, the shipped family
sizes, and the rule that sets the demo's strengths from the planted truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from aftershock_replication.benchmarks.operating import (
    SHIPPED_FAMILY,
    outcome_of,
    summarise_setting,
)
from aftershock_replication.benchmarks.truths import strength_for
from aftershock_replication.comparisons import seed_tables
from aftershock_replication.methods import STRESS_METRICS
from helpers import ROOT


def test_the_shipped_families_are_the_pipelines() -> None:
    """The Holm families the bounds use have the pipeline's sizes: the competitors vs the
    best metric, every tested method's drop, the leakage stage's methods."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert SHIPPED_FAMILY["matched"] == len(params["leakage"]["methods"])
    per_method = {m: {s: {p: {"pooled": 0.7, "train_pooled": 0.6, "train_rows": 10,
                              "test_rows": 2}
                          for p in (["paper"] if s == "paper" else ["0", "1", "2"])}
                      for s in ("paper", "leaky", "grouped")}
                  for m in params["untrained"] + list(params["methods"])}
    tables = seed_tables(per_method, 0.05, 0.02)["tables"]
    assert SHIPPED_FAMILY["vs_best"] == len(tables["vs_best_stress_metric"]["rows"])
    assert SHIPPED_FAMILY["drop"] == len(tables["leaky_minus_grouped"]["rows"])


def test_an_outcome_is_counted_raw_and_at_the_bonferroni_bound() -> None:
    """p = 0.02 is significant alone but not after multiplying by a family of 3; an
    equivalence p of 0.03 likewise."""
    higher = {"estimate": 0.03, "p_value": 0.02, "p_equivalence": 0.9}
    assert outcome_of(higher, "raw", 3, 0.05) == "higher"
    assert outcome_of(higher, "bonferroni", 3, 0.05) == "undecided"
    equivalent = {"estimate": 0.001, "p_value": 0.8, "p_equivalence": 0.03}
    assert outcome_of(equivalent, "raw", 3, 0.05) == "equivalent"
    assert outcome_of(equivalent, "bonferroni", 3, 0.05) == "undecided"
    assert outcome_of({"estimate": None, "p_value": None}, "raw", 3, 0.05) == "untested"


def outcome(estimate: float, p_value: float, p_equivalence: float, seed: int
            ) -> dict[str, Any]:
    test = {"estimate": estimate, "ci": [estimate - 0.01, estimate + 0.01], "se": 0.005,
            "df": 9, "p_value": p_value, "p_equivalence": p_equivalence}
    return {"seed": seed, "transferable": 0.0, "leakage": 0.0,
            "truth": {"transferable_gain": 0.0, "sequence_gain": 0.0, "oracle_auc": 0.9},
            "tests": {"logistic": {"vs_best": test}}, "fit_failures": {"logistic": 0}}


def test_a_setting_reports_each_outcome_with_its_interval() -> None:
    outcomes = [outcome(0.03, 0.001, 0.9, 0)] + [outcome(0.0, 0.7, 0.01, s) for s in range(1, 20)]
    row = next(r for r in summarise_setting(outcomes, 0.05, 0.02)
               if (r["method"], r["verdict"]) == ("logistic", "vs_best"))
    assert row["datasets"] == 20 and row["family"] == SHIPPED_FAMILY["vs_best"]
    raw = row["raw"]
    assert raw["higher"]["count"] == 1 and raw["equivalent"]["count"] == 19
    low, high = proportion_confint(1, 20, alpha=0.05, method="beta")
    assert raw["higher"]["ci"] == pytest.approx([low, high])
    # at the Bonferroni bound (x5) the equivalence p-values of 0.05 no longer pass
    assert row["bonferroni"]["equivalent"]["count"] == 0
    assert row["bonferroni"]["higher"]["count"] == 1
    assert row["estimate"]["mean"] == pytest.approx(0.03 / 20)
    assert row["planted"]["transferable_gain"]["mean"] == 0.0
    assert not [r for r in summarise_setting(outcomes, 0.05, 0.02) if r["method"] in STRESS_METRICS]


def test_the_strength_for_a_target_gain_interpolates_on_log_scales() -> None:
    """Gains growing as the square of the strength: the solution is exact."""
    gains = {0.25: 0.1 * 0.25 ** 2, 0.5: 0.1 * 0.5 ** 2, 1.0: 0.1}
    assert strength_for(gains, 0.02) == pytest.approx((0.02 / 0.1) ** 0.5)
    assert strength_for(gains, 0.5) is None  # beyond the grid: not extrapolated


def test_the_matched_tests_are_recomputed_from_the_stored_arms() -> None:
    """The contrast (tested) and the t over groups (retired) come from each dataset's
    stored per-earthquake AUCs, so every dataset is scored by the current code."""
    from aftershock_replication.benchmarks.operating import matched_tests

    exposed, unexposed = ["2000AAAAxx01", "2001BBBBxx01"], ["2002CCCCxx01"]
    arms = {}
    for split, gain in enumerate((0.011, 0.009, 0.010, 0.012)):
        purged = {e: 0.7 for e in exposed + unexposed}
        control = {e: 0.7 + (gain if e in exposed else 0.0) + 0.02 * split
                   for e in exposed + unexposed}  # a shift every earthquake shares
        arms[str(split)] = {"exposed": exposed, "train_cells": 8000, "test_cells": 2000,
                            "aucs": {"purged": purged, "size_control": control,
                                     "as_split": control}}
    found = matched_tests(arms, 0.05, 0.02)
    assert found["matched"]["estimate"] == pytest.approx(0.0105)
    assert found["matched"]["p_value"] < 0.05
    assert found["matched_by_group"]["estimate"] == pytest.approx(0.0105 + 0.03)
    assert 0 <= found["matched"]["p_equivalence"] <= 1


def test_the_coverage_simulation_joins_the_table_the_supplement_quotes(tmp_path: Path) -> None:
    """``--combine`` keeps a cluster-coverage result whole beside the verdict rows; the
    report states its range of coverages and cluster counts."""
    from aftershock_replication.benchmarks.operating import combine
    from aftershock_replication.report.formatting import EN_DASH as EN
    from aftershock_replication.report.operating import coverage_findings

    coverage = {"command": "python -m ...cluster_coverage", "datasets": 2000,
                "unit": "simulated dataset", "target": 0.95, "shapes": {},
                "rows": [{"clusters": 3, "shape": "normal", "bootstrap": {"coverage": 0.689}},
                         {"clusters": 30, "shape": "normal",
                          "bootstrap": {"coverage": 0.912}}]}
    source = tmp_path / "cluster-interval-coverage.json"
    source.write_text(json.dumps(coverage))
    table = combine([source], tmp_path / "out.json")
    assert table["rows"] == [] and table["cluster_coverage"]["rows"] == coverage["rows"]
    assert coverage_findings(table["cluster_coverage"]) == {
        "bootstrap": f"68.9%{EN}91.2%", "clusters": f"3{EN}30", "datasets": "2,000",
        "floor": "93%", "needed": "more than 30"}  # no count simulated reaches the floor
    assert coverage_findings(None) is None
