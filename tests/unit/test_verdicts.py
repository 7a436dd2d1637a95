"""Verdicts from a smallest effect of interest: the equivalence test against statsmodels,
and the four outcomes decided by the tests, never by the degrees of freedom."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

from aftershock_replication.stats import (
    cluster_mean_ttest,
    decide,
    equivalence_bound,
    equivalence_pvalue,
    family_verdicts,
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
    # both kinds of p-value are Holm-adjusted over the family
    _, holm_p, _, _ = multipletests([r["p_value"] for r in rows], method="holm")
    assert [r["p_holm"] for r in rows] == pytest.approx(list(holm_p))
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
