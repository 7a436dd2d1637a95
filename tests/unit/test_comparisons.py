"""The statistics stage's choices: the reference metric, verdicts and detectable effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from aftershock_replication.comparisons import reference_by_seed, seed_tables
from aftershock_replication.methods import COMPETITORS, CONTROLS, FITTED, STRESS_METRICS


def partitions(seeds: int, train_auc: dict[str, dict[str, float]], seed: int = 0,
               ) -> dict[str, Any]:
    """Per-method partition metrics: pooled test AUC with noise; training AUC as given per
    scheme (default 0.6)."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for method in (*STRESS_METRICS, *FITTED):
        out[method] = {}
        for scheme in ("paper", "leaky", "grouped"):
            keys = ["paper"] if scheme == "paper" else [str(s) for s in range(seeds)]
            out[method][scheme] = {
                key: {"pooled": 0.7 + rng.normal(0, 0.01),
                      "train_pooled": train_auc.get(method, {}).get(scheme, 0.6),
                      "train_rows": 8000, "test_rows": 2000}
                for key in keys}
    return out


def test_reference_is_chosen_once_per_seed_from_training_cells() -> None:
    # von Mises is best on the leaky training cells, max shear on the grouped ones, and
    # max shear is better on average: one choice for both schemes of every seed
    per_method = partitions(3, {"von_mises": {"leaky": 0.70, "grouped": 0.62, "paper": 0.9},
                                "max_shear": {"leaky": 0.68, "grouped": 0.66}})
    chosen = reference_by_seed(per_method)
    assert chosen == {"paper": "von_mises", "0": "max_shear", "1": "max_shear",
                      "2": "max_shear"}
    tables = seed_tables(per_method, 0.05, 0.02)
    assert tables["reference_metric"]["by_seed"] == chosen
    # the difference in differences uses that one reference on both sides
    method = COMPETITORS[0]
    row = next(r for r in tables["tables"]["leakage_term"]["rows"] if r["method"] == method)
    expected = [
        (per_method[method]["leaky"][s]["pooled"] - per_method["max_shear"]["leaky"][s]["pooled"])
        - (per_method[method]["grouped"][s]["pooled"]
           - per_method["max_shear"]["grouped"][s]["pooled"])
        for s in ("0", "1", "2")]
    assert row["per_seed"] == pytest.approx(expected)


def test_holm_families_hold_the_competitors_and_the_control_has_its_own() -> None:
    tables = seed_tables(partitions(10, {}), 0.05, 0.02)["tables"]
    for name in ("vs_best_stress_metric", "leakage_term"):
        assert [r["method"] for r in tables[name]["rows"]] == list(COMPETITORS)
    tested = {r["method"] for r in tables["leaky_minus_grouped"]["rows"]}
    assert "coulomb_test_selected" not in tested and not tested & set(CONTROLS)
    assert tested >= set(COMPETITORS) | set(STRESS_METRICS) - {"coulomb_test_selected"}
    control = tables["negative_control"]["rows"]
    assert [r["method"] for r in control] == [m for m in CONTROLS for _ in range(2)]
    # its own family: Holm over its two rows only, whatever the competitors' p-values
    ps = sorted(r["p_value"] for r in control)
    assert sorted(r["p_holm"] for r in control) == pytest.approx(
        [min(1.0, 2 * ps[0]), min(1.0, max(2 * ps[0], ps[1]))])


@pytest.mark.parametrize("seeds", [3, 10])
def test_every_tested_row_states_its_verdict_and_what_it_could_detect(seeds: int) -> None:
    """The verdict follows the Holm-adjusted tests, never the number of seeds: absence is
    claimed only where the equivalence test rejects, whatever the degrees of freedom."""
    tables = seed_tables(partitions(seeds, {}), 0.05, 0.02)["tables"]
    for table in tables.values():
        assert table["smallest_effect"] == 0.02
        for row in table["rows"]:
            # detected with 80 % power: beyond the half-width of the 95 % interval
            assert row["detectable_effect_80"] > (row["ci"][1] - row["ci"][0]) / 2
            if row["p_holm"] < 0.05:
                assert row["verdict"] == ("higher" if row["estimate"] > 0 else "lower")
            elif row["p_equivalence_holm"] < 0.05:
                assert row["verdict"] == "equivalent"
            else:
                assert row["verdict"] == "undecided"


def test_failed_fits_are_found_and_the_tests_repeated_without_them() -> None:
    """A fit whose training AUC is more than the smallest effect below the best untrained
    metric's on the same cells, or whose validation loss never fell, failed (within the
    margin it did not); the tables repeat each test without the seeds where the method's
    fit failed (on either scheme for leaky minus grouped)."""
    method = COMPETITORS[0]
    per_method = partitions(6, {"von_mises": {"grouped": 0.65, "leaky": 0.65}})
    per_method[method]["grouped"]["1"]["train_pooled"] = 0.60  # 0.05 below von Mises' 0.65
    per_method[method]["grouped"]["2"]["train_pooled"] = 0.64  # 0.01 below: within 0.02
    for scheme in ("grouped", "leaky"):
        for record in per_method[method][scheme].values():
            record.setdefault("train_pooled", 0.7)
        for other in FITTED:
            for key, record in per_method[other][scheme].items():
                if (other, scheme, key) not in ((method, "grouped", "1"),
                                                (method, "grouped", "2")):
                    record["train_pooled"] = 0.7
    network = "neural_network"
    per_method[network]["leaky"]["3"]["model"] = {
        "initial_val_loss": 0.6931, "history": [{"epoch": 1, "val_loss": 0.6935}]}
    tables = seed_tables(per_method, 0.05, 0.02)
    health = tables["fit_health"]["methods"]
    assert health[method]["failed"] == {"grouped": {"1": [
        {"kind": "training_auc", "auc": 0.60, "reference": "von_mises",
         "reference_auc": 0.65}]}}
    assert health[network]["failed"] == {"leaky": {"3": [
        {"kind": "validation_loss", "initial": 0.6931, "best": 0.6935}]}}
    assert all(health[m]["failures"] == 0 for m in FITTED if m not in (method, network))
    assert health[method]["partitions"] == 1 + 6 + 6
    rows = {r["method"]: r for r in tables["tables"]["vs_best_stress_metric"]["rows"]}
    without = rows[method]["without_failed_fits"]
    assert without["excluded_seeds"] == ["1"] and len(without["per_seed"]) == 5
    assert without["per_seed"] == [v for k, v in enumerate(rows[method]["per_seed"]) if k != 1]
    assert rows[network]["without_failed_fits"]["excluded_seeds"] == []  # grouped fits fine
    drops = {r["method"]: r for r in tables["tables"]["leaky_minus_grouped"]["rows"]}
    assert drops[network]["without_failed_fits"]["excluded_seeds"] == ["3"]
    assert drops[method]["without_failed_fits"]["excluded_seeds"] == ["1"]
    assert without["verdict"] in ("higher", "lower", "equivalent", "undecided")


def test_untrained_metrics_are_tested_against_coulomb_on_grouped_splits() -> None:
    """The original paper's physical point needs no fitted model: each other untrained
    metric minus Coulomb stress per grouped seed, Nadeau-Bengio corrected, Holm over them."""
    per_method = partitions(10, {})
    for seed, record in per_method["von_mises"]["grouped"].items():
        record["pooled"] = per_method["coulomb"]["grouped"][seed]["pooled"] + 0.15
    table = seed_tables(per_method, 0.05, 0.02)["tables"]["untrained_vs_coulomb"]
    rows = {r["method"]: r for r in table["rows"]}
    assert set(rows) == set(STRESS_METRICS) - {"coulomb"}
    assert rows["von_mises"]["per_seed"] == pytest.approx([0.15] * 10)
    assert rows["von_mises"]["verdict"] == "higher"
    expected = [per_method["max_shear"]["grouped"][str(s)]["pooled"]
                - per_method["coulomb"]["grouped"][str(s)]["pooled"] for s in range(10)]
    assert rows["max_shear"]["per_seed"] == pytest.approx(expected)
    ps = sorted(r["p_value"] for r in table["rows"])
    assert min(r["p_holm"] for r in table["rows"]) == pytest.approx(
        min(1.0, len(ps) * ps[0]))
