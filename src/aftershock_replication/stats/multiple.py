"""Holm's step-down correction over one table's family of comparisons, with simultaneous
intervals compatible with its directional claims."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import t as student_t
from statsmodels.stats.multitest import multipletests


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels ``multipletests(method="holm")``), same shape.

    NaN entries (tests that could not be run) stay NaN and do not count toward the family
    size, so an undefined test neither inflates nor hides the others' correction.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    present = ~np.isnan(p)
    if np.any((p[present] < 0) | (p[present] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    if present.any():
        adjusted[present] = multipletests(p[present], method="holm")[1]
    return adjusted


def directional_holm(p_values: ArrayLike, estimates: ArrayLike) -> np.ndarray:
    """Holm-adjusted p-value of each comparison's claimed direction (the estimate's sign).

    Each two-sided comparison i is split into its two one-sided hypotheses, "difference <= 0"
    (one-sided p = p_i / 2 when the estimate is positive) and "difference >= 0" (1 - p_i / 2),
    and Holm's procedure runs over all 2m of them. Rejecting the one in the estimate's
    direction is the claim "higher" or "lower"; the family-wise error rate of those
    directional claims is then controlled by construction, and the procedure has the
    compatible simultaneous intervals of ``holm_compatible_intervals``. Its first step equals
    the two-sided Holm's (2m x p / 2 = m x p); later steps are stricter: step k multiplies a
    two-sided p by (2m - k + 1) / 2 instead of m - k + 1, at the last step by (m + 1) / 2
    instead of 1. NaN p-values or estimates stay NaN and do not count toward the family.
    """
    p = np.asarray(p_values, dtype=np.float64)
    estimate = np.asarray(estimates, dtype=np.float64)
    if p.shape != estimate.shape or p.ndim != 1:
        raise ValueError(f"p_values and estimates must be 1-D of one shape, got {p.shape} "
                         f"and {estimate.shape}")
    present = ~np.isnan(p) & ~np.isnan(estimate)
    adjusted = np.full(p.shape, np.nan)
    if present.any():
        toward = p[present] / 2.0
        adjusted_all = holm(np.concatenate([toward, 1.0 - toward]))
        adjusted[present] = adjusted_all[: toward.size]
    return adjusted


def holm_compatible_intervals(estimates: ArrayLike, standard_errors: ArrayLike,
                              dofs: ArrayLike, p_values: ArrayLike,
                              alpha: float) -> list[tuple[float, float] | None]:
    """Simultaneous (1 - alpha) intervals compatible with ``directional_holm`` for t-tests
    (estimate / se on df degrees of freedom): an interval excludes 0 exactly when the
    procedure claims a direction.

    Written here because no Python library has them: the one-sided construction of
    Strassburger & Bretz (2008, Stat. Med. 27, 4914) applied to the 2m one-sided hypotheses.
    With ``a`` the number of one-sided hypotheses not rejected (never 0: a direction and its
    opposite cannot both be rejected), a comparison not rejected gets estimate +- t(1 - alpha
    / a, df) se; one rejected as higher gets [0, estimate + t(1 - alpha / a, df) se] (lower:
    the mirror image): the procedure shows its sign, not a size beyond it. With nothing
    rejected (a = 2m) these are the Bonferroni intervals at alpha / m. None where the
    estimate, se, df or p-value is missing.
    """
    estimate = np.asarray(estimates, dtype=np.float64)
    se = np.asarray(standard_errors, dtype=np.float64)
    df = np.asarray(dofs, dtype=np.float64)
    adjusted = directional_holm(p_values, estimate)
    present = ~np.isnan(adjusted)
    rejected = present & (adjusted < alpha)
    not_rejected = max(2 * int(present.sum()) - int(rejected.sum()), 1)
    usable = present & np.isfinite(se) & (se > 0) & np.isfinite(df) & (df >= 1)
    half = np.full(estimate.shape, np.nan)
    half[usable] = student_t.ppf(1.0 - alpha / not_rejected, df[usable]) * se[usable]
    intervals: list[tuple[float, float] | None] = []
    for index in range(estimate.size):
        if not usable[index]:
            intervals.append(None)
            continue
        low = float(estimate[index] - half[index])
        high = float(estimate[index] + half[index])
        if rejected[index]:
            low, high = (0.0, high) if estimate[index] > 0 else (low, 0.0)
        intervals.append((low, high))
    return intervals
