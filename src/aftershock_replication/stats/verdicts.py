"""Verdicts from a smallest effect of interest: higher, lower, equivalent or undecided.

A comparison is *higher* or *lower* when the one-sided test in its estimate's direction
rejects a zero difference after Holm's procedure over the family's 2m directions,
*equivalent* when two one-sided tests (TOST; Schuirmann 1987, Lakens 2017) reject both
"the difference is at least +margin" and "at most -margin", and *undecided* when neither
holds; then the data can neither show a difference nor rule out one of the size that
matters, and the report says what the test could have detected. Both kinds of p-value
are Holm-adjusted over the comparison's family (the difference over its 2m one-sided
directions, ``directional_holm``), so every claim a table makes, of a difference or of its
absence, keeps the family-wise error rate at ``alpha``; the interval printed beside a
difference is the simultaneous one compatible with that procedure, which excludes zero
exactly when it claims a direction. Degrees of freedom alone never decide a verdict.

The tests are Student-t tests of an estimate with standard error ``se`` and ``df``
degrees of freedom: the corrected resampled t over splits and the t over clusters both
fit that form, so one function serves every table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import t as student_t

from aftershock_replication.names import VERDICTS
from aftershock_replication.stats.multiple import (
    directional_holm,
    holm,
    holm_compatible_intervals,
)
from aftershock_replication.stats.resampled import detectable_effect

__all__ = ["VERDICTS", "decide", "equivalence_bound", "equivalence_pvalue", "family_verdicts"]


def _finite(value: Any) -> bool:
    return value is not None and bool(np.isfinite(value))


def equivalence_pvalue(estimate: float | None, se: float | None, df: int | None,
                       margin: float) -> float:
    """TOST p-value of |true difference| < ``margin``: the larger of the one-sided
    p-values against "difference <= -margin" and "difference >= +margin" (Student t with
    ``df`` degrees of freedom). NaN without a finite estimate, a positive se or df >= 1."""
    if not (_finite(estimate) and _finite(se) and se > 0 and df is not None and df >= 1):
        return float("nan")
    below = float(student_t.sf((estimate + margin) / se, df))  # rejects difference <= -margin
    above = float(student_t.cdf((estimate - margin) / se, df))  # rejects difference >= margin
    return max(below, above)


def equivalence_bound(estimate: float | None, se: float | None, df: int | None,
                      alpha: float) -> float:
    """The smallest margin the data would call equivalent at level ``alpha`` (one-sided
    tests): the largest absolute end of the (1 - 2 alpha) interval. NaN when untestable."""
    if not (_finite(estimate) and _finite(se) and se > 0 and df is not None and df >= 1):
        return float("nan")
    half = float(student_t.ppf(1.0 - alpha, df)) * se
    return abs(estimate) + half


def decide(estimate: float | None, p_holm: float | None, p_equivalence_holm: float | None,
           alpha: float) -> str:
    """The verdict from Holm-adjusted p-values of the difference and of equivalence."""
    if not (_finite(estimate) and _finite(p_holm)):
        return "untested"
    if p_holm < alpha:
        return "higher" if estimate > 0 else "lower"
    if _finite(p_equivalence_holm) and p_equivalence_holm < alpha:
        return "equivalent"
    return "undecided"


def family_verdicts(rows: list[dict[str, Any]], alpha: float, margin: float) -> None:
    """Give each row of one family (keys ``estimate``, ``se``, ``df``, ``p_value``) its
    Holm-adjusted p-values, verdict, simultaneous interval and what its test could detect,
    in place.

    The detectable effect (80 % power) and the equivalence bound are at alpha / m, the
    Bonferroni level, a conservative bound for Holm; a test over df + 1 independent units
    (splits or clusters). Added keys: ``p_holm`` (of the estimate's direction),
    ``ci_simultaneous`` (``holm_compatible_intervals``),
    ``p_equivalence``, ``p_equivalence_holm``, ``verdict``, ``smallest_effect``,
    ``within_smallest_effect`` (a significant difference smaller than the margin: the
    equivalence test rejects too), ``detectable_effect_80``, ``equivalence_bound`` (the
    smallest margin the data could call equivalent, at the Bonferroni level)."""
    count = max(len(rows), 1)
    p_values = [r["p_value"] if _finite(r.get("p_value")) else np.nan for r in rows]
    estimates = [r["estimate"] if _finite(r.get("estimate")) else np.nan for r in rows]
    adjusted = directional_holm(p_values, estimates)
    simultaneous = holm_compatible_intervals(
        estimates, [r["se"] if _finite(r.get("se")) else np.nan for r in rows],
        [r["df"] if r.get("df") is not None else np.nan for r in rows], p_values, alpha)
    equivalence = [equivalence_pvalue(r.get("estimate"), r.get("se"), r.get("df"), margin)
                   for r in rows]
    adjusted_equivalence = holm(equivalence)
    for index, row in enumerate(rows):
        p_holm, p_equivalence = adjusted[index], adjusted_equivalence[index]
        row["p_holm"] = None if np.isnan(p_holm) else float(p_holm)
        interval = simultaneous[index]
        row["ci_simultaneous"] = None if interval is None else [interval[0], interval[1]]
        row["p_equivalence"] = None if np.isnan(equivalence[index]) else equivalence[index]
        row["p_equivalence_holm"] = None if np.isnan(p_equivalence) else float(p_equivalence)
        row["verdict"] = decide(row.get("estimate"), row["p_holm"], row["p_equivalence_holm"],
                                alpha)
        row["smallest_effect"] = margin
        row["within_smallest_effect"] = (row["verdict"] in ("higher", "lower")
                                         and row["p_equivalence_holm"] is not None
                                         and row["p_equivalence_holm"] < alpha)
        se, df = row.get("se"), row.get("df")
        n_units = df + 1 if df is not None else 0
        detectable = detectable_effect(se, n_units, alpha / count) if _finite(se) else np.nan
        bound = equivalence_bound(row.get("estimate"), se, df, alpha / count)
        row["detectable_effect_80"] = None if np.isnan(detectable) else float(detectable)
        row["equivalence_bound"] = None if np.isnan(bound) else float(bound)
