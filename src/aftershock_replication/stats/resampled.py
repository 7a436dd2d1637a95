"""Tests over repeated train/test splits (seeds): Nadeau & Bengio (2003) corrected t-test.

Splits drawn from one data set overlap, so per-split differences are positively correlated and
the plain paired t-test over seeds is far too liberal. Nadeau & Bengio inflate the variance of
the mean from var/J to (1/J + n_test/n_train) var, with J - 1 degrees of freedom.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import t as student_t
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import DescrStatsW

SPLIT_UNIT = "repeated split (seed)"
T_TEST = "Nadeau-Bengio corrected resampled t-test"  # the name tables give the test
DETECTION_POWER = 0.8  # power at which the smallest detectable effect is quoted


def _finite_vector(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; drop failed splits explicitly")
    return arr


def corrected_ttest(
    differences: ArrayLike, n_train: float, n_test: float, level: float = 0.95,
) -> dict:
    """Corrected resampled t-test of mean(d) = 0 for per-split differences d_1..d_J.

    t = mean / sqrt((1/J + n_test/n_train) var(d, ddof=1)), df = J - 1, two-sided Student-t
    p-value; ci = mean -/+ t_{df} sqrt((1/J + n_test/n_train) var). With J < 2 (no variance
    estimate) sd, t, p_value and ci are NaN; with zero variance t and p_value are NaN and the
    interval collapses to the mean. No exception is raised for either case.
    """
    d = _finite_vector(differences, "differences")
    if not (n_train > 0 and n_test > 0):
        raise ValueError("n_train and n_test must be positive")
    splits = d.size
    mean = float(d.mean()) if splits else float("nan")
    nan = float("nan")
    result = {"mean": mean, "sd": nan, "se": nan, "t": nan, "df": max(splits - 1, 0),
              "p_value": nan, "ci": [nan, nan], "n_splits": splits, "unit": SPLIT_UNIT}
    if splits < 2:
        return result
    variance = float(d.var(ddof=1))
    se = float(np.sqrt((1.0 / splits + n_test / n_train) * variance))
    half = float(student_t.ppf(0.5 + level / 2.0, splits - 1)) * se
    result.update(sd=float(np.sqrt(variance)), se=se, ci=[mean - half, mean + half])
    if se > 0:
        statistic = mean / se
        result.update(t=statistic, p_value=float(2.0 * student_t.sf(abs(statistic), splits - 1)))
    return result


def cluster_mean_ttest(values: ArrayLike, level: float = 0.95) -> dict:
    """One-sample t-test of mean = 0 over independent clusters (one value each), with its
    Student-t interval (statsmodels ``DescrStatsW``); df = clusters - 1. With fewer than
    two clusters, or no spread, se, p_value and ci are NaN."""
    v = _finite_vector(values, "values")
    nan = float("nan")
    result = {"mean": float(v.mean()) if v.size else nan, "sd": nan, "se": nan,
              "t": nan, "df": max(v.size - 1, 0), "p_value": nan, "ci": [nan, nan],
              "n_clusters": int(v.size)}
    if v.size < 2 or float(v.std()) == 0.0:
        return result
    described = DescrStatsW(v)
    statistic, p_value, _ = described.ttest_mean(0.0)
    low, high = described.tconfint_mean(alpha=1.0 - level)
    return {**result, "sd": float(described.std * np.sqrt(v.size / (v.size - 1))),
            "se": float(described.std_mean), "t": float(statistic),
            "p_value": float(p_value), "ci": [float(low), float(high)]}


def detectable_effect(
    se: float, splits: int, alpha: float, power: float = DETECTION_POWER,
) -> float:
    """Smallest true mean difference a two-sided corrected t-test over ``splits`` splits
    with standard error ``se`` detects with probability ``power`` at level ``alpha``.

    statsmodels' one-sample t-test power solves for the standardised effect d with
    noncentrality d * sqrt(n) and n - 1 df; the effect on the AUC scale is that
    noncentrality times the test's standard error (``se`` already holds the correction).
    NaN when there are fewer than two splits or ``se`` is not a positive number.
    """
    if splits < 2 or not np.isfinite(se) or se <= 0:
        return float("nan")
    standardised = TTestPower().solve_power(effect_size=None, nobs=splits, alpha=alpha,
                                            power=power, alternative="two-sided")
    return float(np.asarray(standardised).item() * np.sqrt(splits) * se)


def seed_summary(values: ArrayLike, test_over_train: float = 0.0) -> dict:
    """Mean, sd (ddof 1) and 95 % Student-t interval of the mean of one quantity over seeds.

    ``test_over_train`` (n_test / n_train of the splits) widens the interval as the
    Nadeau-Bengio correction does, sd sqrt(1/J + n_test/n_train): random splits share
    training and test data, so the naive sd / sqrt(J) is too narrow; 0 gives the naive
    interval. With a single seed sd and ci95 are NaN.
    """
    v = _finite_vector(values, "values")
    if not test_over_train >= 0:
        raise ValueError("test_over_train must be non-negative")
    count = v.size
    nan = float("nan")
    mean = float(v.mean()) if count else nan
    sd = float(v.std(ddof=1)) if count > 1 else nan
    half = (float(student_t.ppf(0.975, count - 1)) * sd
            * np.sqrt(1.0 / count + test_over_train) if count > 1 else nan)
    return {"mean": mean, "sd": sd, "ci95": [mean - half, mean + half], "n_seeds": count,
            "per_seed": v.tolist(),
            "interval": "naive Student-t over seeds" if test_over_train == 0 else
            "Nadeau-Bengio corrected Student-t over seeds (unit: split)"}
