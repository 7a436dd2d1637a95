"""Verdicts from a smallest effect of interest: the equivalence test against statsmodels,
and the four outcomes decided by the tests, never by the degrees of freedom."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import t as student_t
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

from aftershock_replication.stats import (
    cluster_mean_ttest,
    decide,
    directional_holm,
    equivalence_bound,
    equivalence_pvalue,
    family_verdicts,
    holm_compatible_intervals,
)

MARGIN = 0.02


@pytest.mark.parametrize("seed", range(5))
def test_equivalence_pvalue_is_statsmodels_tost(seed: int) -> None:
    """Two one-sided t-tests of a sample's mean (se = sd / sqrt(n), df = n - 1) give the
    p-value of statsmodels' ``ttost_mean``."""
    rng = np.random.default_rng(seed)
    values = rng.normal(rng.uniform(-0.03, 0.03), rng.uniform(0.005, 0.03), size=8 + seed)
    tested = cluster_mean_ttest(values)
    expected = DescrStatsW(values).ttost_mean(-MARGIN, MARGIN)[0]
    found = equivalence_pvalue(tested["mean"], tested["se"], tested["df"], MARGIN)
    assert found == pytest.approx(expected, rel=1e-10)


def test_equivalence_bound_is_the_largest_end_of_the_one_sided_interval() -> None:
    values = np.array([0.010, 0.004, -0.002, 0.007, 0.012, 0.001])
    tested = cluster_mean_ttest(values)
    low, high = DescrStatsW(values).tconfint_mean(alpha=0.10)  # (1 - 2 alpha), alpha 0.05
    bound = equivalence_bound(tested["mean"], tested["se"], tested["df"], 0.05)
    assert bound == pytest.approx(max(abs(low), abs(high)), rel=1e-10)
    # exactly at the bound, the equivalence test sits on the level
    assert equivalence_pvalue(tested["mean"], tested["se"], tested["df"], bound) == \
        pytest.approx(0.05, rel=1e-8)


def test_decide_follows_the_adjusted_tests() -> None:
    assert decide(0.03, 0.01, 0.9, 0.05) == "higher"
    assert decide(-0.03, 0.01, 0.9, 0.05) == "lower"
    assert decide(0.001, 0.6, 0.01, 0.05) == "equivalent"
    assert decide(0.001, 0.6, 0.2, 0.05) == "undecided"
    assert decide(0.001, None, 0.01, 0.05) == "untested"
    assert decide(None, 0.01, 0.01, 0.05) == "untested"


def row(values: list[float]) -> dict[str, Any]:
    tested = cluster_mean_ttest(np.asarray(values))
    return {"estimate": tested["mean"], "se": tested["se"], "df": tested["df"],
            "p_value": tested["p_value"], "ci": tested["ci"]}


def test_family_verdicts_cover_the_four_outcomes_whatever_the_df() -> None:
    rng = np.random.default_rng(3)
    rows = [
        row(list(0.05 + rng.normal(0, 0.01, 20))),  # clearly higher
        row(list(0.0005 + rng.normal(0, 0.002, 5))),  # 4 df, tight around 0: equivalent
        row(list(rng.normal(0, 0.08, 20))),  # 19 df, wide: undecided, not absent
        row(list(0.004 + rng.normal(0, 0.0005, 30))),  # significant but negligible
    ]
    family_verdicts(rows, 0.05, MARGIN)
    assert [r["verdict"] for r in rows] == ["higher", "equivalent", "undecided", "higher"]
    assert not rows[0]["within_smallest_effect"] and rows[3]["within_smallest_effect"]
    # both kinds of p-value are Holm-adjusted over the family (the difference over its 2m
    # one-sided directions)
    toward = [r["p_value"] / 2 for r in rows]
    _, holm_p, _, _ = multipletests(toward + [1 - p for p in toward], method="holm")
    assert [r["p_holm"] for r in rows] == pytest.approx(list(holm_p[:len(rows)]))
    # the interval beside each excludes zero exactly when a direction is claimed
    for found in rows:
        low, high = found["ci_simultaneous"]
        assert (low >= 0 or high <= 0) == (found["verdict"] in ("higher", "lower"))
    _, holm_eq, _, _ = multipletests([r["p_equivalence"] for r in rows], method="holm")
    assert [r["p_equivalence_holm"] for r in rows] == pytest.approx(list(holm_eq))
    # the undecided row says what it could detect and what the data rule out
    undecided = rows[2]
    assert undecided["detectable_effect_80"] > MARGIN
    assert undecided["equivalence_bound"] > MARGIN
    assert all(r["smallest_effect"] == MARGIN for r in rows)


def test_an_untestable_row_is_untested_and_leaves_the_others_alone() -> None:
    rows = [{"estimate": None, "se": None, "df": 0, "p_value": None},
            row([0.03, 0.04, 0.05, 0.035, 0.045])]
    family_verdicts(rows, 0.05, MARGIN)
    assert rows[0]["verdict"] == "untested" and rows[0]["p_equivalence_holm"] is None
    assert rows[1]["verdict"] == "higher"
    assert rows[1]["p_holm"] == pytest.approx(rows[1]["p_value"])  # a family of one test


def test_directional_holm_by_hand() -> None:
    """Two-sided p 0.004, 0.03, 0.6: one-sided 0.002, 0.015, 0.3 (and 0.998, 0.985, 0.7)
    in a family of six; Holm multiplies the sorted ones by 6, 5, 4: 0.012, 0.075, 1."""
    found = directional_holm([0.004, 0.03, 0.6], [0.05, -0.03, 0.01])
    np.testing.assert_allclose(found, [0.012, 0.075, 1.0])
    assert np.isnan(directional_holm([0.01, np.nan], [np.nan, 0.1])).all()


def test_compatible_intervals_invert_each_one_sided_test_at_the_open_level() -> None:
    """Each bound is where the one-sided t-test of a shifted hypothesis reaches alpha / a
    (found here by root-finding, not by the quantile formula); a rejected comparison's bound
    on its claimed side is 0."""
    estimate = np.array([0.05, -0.03, 0.01])
    se, df = np.array([0.01, 0.012, 0.02]), np.array([9.0, 9.0, 14.0])
    p = 2 * student_t.sf(np.abs(estimate / se), df)
    found = holm_compatible_intervals(estimate, se, df, p, 0.05)
    assert directional_holm(p, estimate)[0] < 0.05 <= directional_holm(p, estimate)[1]
    level = 0.05 / 5  # one of the six one-sided hypotheses is rejected

    def bound(index: int, side: int) -> float:
        def excess(delta: float) -> float:  # one-sided p of "difference beyond delta"
            return student_t.sf(side * (estimate[index] - delta) / se[index], df[index]) - level
        return brentq(excess, -1.0, 1.0, xtol=1e-14)

    assert found[0] == pytest.approx((0.0, bound(0, -1)), abs=1e-10)
    for index in (1, 2):
        assert found[index] == pytest.approx((bound(index, 1), bound(index, -1)), abs=1e-10)
    # nothing rejected: the Bonferroni intervals at alpha / m
    wide = holm_compatible_intervals([0.0, 0.001], [0.01, 0.01], [9, 9], [1.0, 0.92], 0.05)
    half = student_t.ppf(1 - 0.05 / 4, 9) * 0.01
    assert wide[0] == pytest.approx((-half, half))
    assert holm_compatible_intervals([0.1], [np.nan], [9], [0.01], 0.05) == [None]


@pytest.mark.parametrize("truth", [(0.0,) * 6, (0.0, 0.0, 0.5, 1.0, 2.0, -1.0),
                                   (1.2,) * 6])
def test_compatible_intervals_cover_every_truth_and_claim_jointly(
        truth: tuple[float, ...]) -> None:
    """On t-tests of 10 normal draws per comparison, the six intervals hold the truth, and
    every claimed direction is right, in at least 95 % of families (Monte Carlo, 1500
    families: allowed down to 0.935, three standard errors)."""
    rng = np.random.default_rng(11)
    theta = np.array(truth)
    draws = rng.normal(theta[None, :, None], 1.0, size=(1500, theta.size, 10))
    means = draws.mean(axis=2)
    se = draws.std(axis=2, ddof=1) / np.sqrt(10)
    df = np.full(theta.size, 9.0)
    p = 2 * student_t.sf(np.abs(means / se), df)
    gc.freeze()  # statsmodels' multipletests runs gc.collect on every call
    try:
        covered = 0
        for family in range(means.shape[0]):
            intervals = holm_compatible_intervals(means[family], se[family], df, p[family],
                                                  0.05)
            claims = directional_holm(p[family], means[family]) < 0.05
            ok = True
            for index, (low, high) in enumerate(intervals):
                value = theta[index]
                if claims[index]:  # a claimed direction must be true: open at zero
                    ok &= (0 < value <= high) if means[family, index] > 0 else \
                        (low <= value < 0)
                else:
                    ok &= low <= value <= high
            covered += ok
    finally:
        gc.unfreeze()
    assert covered / means.shape[0] >= 0.935
