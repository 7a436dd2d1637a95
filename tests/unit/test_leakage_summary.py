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

from aftershock_replication.errors import InputError
from aftershock_replication.leakage_summary import (
    combine_by_group,
    contrast_over_splits,
    exposed_group_effects,
    leakage_summary_stage,
    summarise,
)

# five exposed test earthquakes in five sequences, each off the partition's effect by its own
# fixed amount (mean 0)
EXPOSED = {"2000AAAAxx01": 0.01, "2001BBBBxx01": -0.01, "2002CCCCxx02": 0.005,
           "2003DDDDxx01": -0.005, "2004EEEExx01": 0.0}
# and two unexposed ones, scored by the same fits, off by their own amounts (mean 0)
UNEXPOSED = {"2005FFFFxx01": 0.004, "2006GGGGxx01": -0.004}


def record(effect: float | None, measured: bool = True) -> dict[str, Any]:
    """One partition's leakage record as the leakage stage writes it (what summarise reads)."""
    if not measured:
        return {"measured": False, "reason": "no test earthquake has a neighbour in training"}
    subsets = {"all": effect, "exposed": None if effect is None else 2 * effect,
               "unexposed": 0.0}
    per_event = {event: None if effect is None else 2 * effect + offset
                 for event, offset in EXPOSED.items()}
    per_event |= {event: None if effect is None else offset
                  for event, offset in UNEXPOSED.items()}
    # the future-only arm: the first three exposed earthquakes had later neighbours, which
    # carry the whole effect; the other two had earlier ones only, which carry none
    later = sorted(EXPOSED)[:3]
    later_effect = {event: None if effect is None else (
        (2 * effect if event in later else 0.0) + EXPOSED.get(event, UNEXPOSED.get(event)))
        for event in per_event}
    earlier_effect = {event: None if effect is None else 0.0 for event in per_event}
    return {"measured": True, "train_cells": 8000, "test_cells": 2000,
            "exposed_events": sorted(EXPOSED), "effect": {**subsets, "per_event": per_event},
            "as_split_minus_purged": {**subsets, "per_event": per_event},
            "later_exposed_events": later, "earlier_exposed_events": sorted(EXPOSED)[3:],
            "later_effect": {**subsets, "per_event": later_effect},
            "earlier_effect": {**subsets, "per_event": earlier_effect}}


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
    assert summary["primary_test"] == "contrast"
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
        paper = summary["methods"][method]["paper"]
        # one split: estimates and the within-split contrast, no interval
        assert paper["interval"] is None and "cluster bootstrap" in paper["why_no_interval"]
        exposed_mean = np.mean([2 * 0.02 + o for o in EXPOSED.values()])
        assert paper["contrast"] == pytest.approx(exposed_mean - np.mean(
            list(UNEXPOSED.values())))
        assert paper["earthquakes"] == {"all": 7, "exposed": 5, "unexposed": 2,
                                        "later_exposed": 3}
        # the future-only arm: later neighbours' contrast over the splits, on the three
        # earthquakes that had them, against the unexposed ones
        later = summary["methods"][method]["later"]
        later_offsets = np.mean([EXPOSED[e] for e in sorted(EXPOSED)[:3]])
        assert later["estimate"] == pytest.approx(mean + later_offsets)
        assert (later["partitions"], later["earthquakes"]) == (10, 3)
        assert summary["methods"][method]["earlier"]["estimate"] == pytest.approx(0.0)
        # the tested combination: per split, exposed minus unexposed (2 v - 0), corrected t
        contrast = summary["methods"][method]["contrast"]
        assert contrast["estimate"] == pytest.approx(mean)
        assert contrast["p_value"] == pytest.approx(p)
        assert (contrast["partitions"], contrast["not_measured"], contrast["earthquakes"]) \
            == (10, 1, 5)
        p_values.append(p)
        # reported beside it: each earthquake over the splits, one value per sequence
        by_group = summary["methods"][method]["by_group"]
        groups = [mean + offset for offset in EXPOSED.values()]
        expected = ttest_1samp(groups, 0.0)
        assert by_group["estimate"] == pytest.approx(mean)
        assert by_group["p_value"] == pytest.approx(expected.pvalue)
        assert (by_group["groups"], by_group["df"], by_group["partitions"]) == (5, 4, 10)
    # Holm over both directions of the three contrasts (all estimates positive here)
    toward = [p / 2 for p in p_values]
    expected_holm = multipletests(toward + [1 - p for p in toward], method="holm")[1][:3]
    got = [summary["methods"][m]["contrast"]["p_holm"] for m in effects]
    assert got == pytest.approx(list(expected_holm))
    assert summary["methods"]["random_forest"]["contrast"]["verdict"] == "higher"


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


def test_few_splits_decide_absence_only_by_equivalence() -> None:
    """Three splits (df 2): tight contrasts near 0 are equivalent within a wide margin and
    undecided within a narrow one; neither is decided by the degrees of freedom."""
    result = {"logistic": method_result([0.001, -0.002, 0.0015])}
    wide = summarise(result, 0.05, 0.05)["methods"]["logistic"]["contrast"]
    narrow = summarise(result, 0.05, 0.005)["methods"]["logistic"]["contrast"]
    assert wide["df"] == narrow["df"] == 2
    assert wide["verdict"] == "equivalent" and wide["p_equivalence_holm"] < 0.05
    assert narrow["verdict"] == "undecided" and narrow["equivalence_bound"] > 0.005
    assert narrow["detectable_effect_80"] > narrow["ci"][1] - narrow["estimate"]


def test_nothing_measured_is_untested() -> None:
    summary = summarise({"logistic": method_result([])}, 0.05, 0.02)
    tested = summary["methods"]["logistic"]["contrast"]
    assert tested["estimate"] is None and tested["verdict"] == "untested"


def test_stage_names_a_missing_method_file(tmp_path: Path) -> None:
    params = {"leakage": {"methods": ["logistic", "random_forest"], "control_draws": 1,
                          "test_auc_negatives": None},
              "stats": {"bootstrap_replicates": 100, "permutations": 100,
                        "permutation_method": "logistic", "seed": 0, "alpha": 0.05,
                        "smallest_effect": 0.02}}
    (tmp_path / "logistic.json").write_text(json.dumps({**method_result([0.01, 0.02]),
                                                        "method": "logistic"}))
    with pytest.raises(InputError, match=r"random_forest\.json: missing; run the stage "
                                         r"leakage@random_forest"):
        leakage_summary_stage(params, tmp_path, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


def test_the_contrast_cancels_what_a_partitions_fits_share() -> None:
    """A shift common to every test earthquake of a partition (an unlucky control draw, the
    purge's smaller training set) moves the exposed-only estimate but not the contrast;
    a partition without unexposed test earthquakes is undefined, not a zero."""
    def partition(shift: float, exposed_gain: float, unexposed: bool = True) -> dict[str, Any]:
        per_event = {e: shift + exposed_gain + o for e, o in EXPOSED.items()}
        if unexposed:
            per_event |= {e: shift + o for e, o in UNEXPOSED.items()}
        return {"measured": True, "train_cells": 8000, "test_cells": 2000,
                "exposed_events": sorted(EXPOSED), "effect": {"per_event": per_event}}

    shifts = [0.03, -0.04, 0.05, -0.02, 0.01]
    gains = [0.011, 0.009, 0.010, 0.012, 0.008]
    records = {str(i): partition(s, g) for i, (s, g) in enumerate(zip(shifts, gains,
                                                                      strict=True))}
    records["5"] = partition(0.2, 0.01, unexposed=False)
    contrast = contrast_over_splits(records, "effect", 0.05)
    assert contrast["per_partition"] == pytest.approx({str(i): g for i, g in enumerate(gains)})
    assert (contrast["partitions"], contrast["undefined"]) == (5, 1)
    assert contrast["estimate"] == pytest.approx(0.01)
    assert contrast["p_value"] < 0.01  # the shifts, ten times the gain, are gone
    exposed_only = combine_by_group(records, 0.05)
    assert exposed_only["estimate"] != pytest.approx(0.01, abs=0.005)
