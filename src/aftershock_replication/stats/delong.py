"""Fast DeLong AUC (co)variance (Sun & Xu 2014, IEEE SPL 21:1389), exact with tied scores.

DeLong et al. (1988) estimate the covariance of correlated AUCs from placement values:
V10[i] is the share of negatives scored below positive i and V01[j] the share of positives
scored above negative j (ties count one half). Sun & Xu obtain both from midranks, so the cost
is one sort per score vector, O(n log n), instead of the O(m n) pair table.

The estimate treats every cell as an independent sample. Grid cells of one earthquake are
strongly correlated, so it is reported only as the naive figure.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

NAIVE_UNIT = "cell (naive: cells assumed independent)"


def as_labels(labels: ArrayLike) -> np.ndarray:
    """Labels as a 1-D boolean array; accepts bool or numeric 0/1 (anything else is an error).

    Strict on purpose: aftershock counts (0, 1, 2, ...) must be binarised by the caller.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {lab.shape}")
    if lab.dtype == bool:
        return lab
    if not np.all((lab == 0) | (lab == 1)):
        raise ValueError("labels must be boolean or 0/1")
    return lab.astype(bool)


def as_scores(scores: ArrayLike, size: int) -> np.ndarray:
    """Scores as a finite float64 array of shape (k, size); a 1-D input becomes k = 1."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != size:
        raise ValueError(f"scores must have shape ({size},) or (k, {size}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    return arr


def _midrank_sorted(xs: np.ndarray) -> np.ndarray:
    """Midranks (1-based; a tied run shares the mean of its ranks) of an already sorted array."""
    n = xs.size
    if n == 0:
        return np.empty(0)
    new_value = np.empty(n, dtype=bool)
    new_value[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new_value[1:])
    starts = np.flatnonzero(new_value)
    ends = np.append(starts[1:], n)
    # a run covering sorted positions start..end-1 holds ranks start+1..end; their mean:
    return np.repeat((starts + ends + 1) / 2.0, ends - starts)


def midrank(x: ArrayLike) -> np.ndarray:
    """Midranks of a 1-D array (ties get the mean of the ranks they span), O(n log n)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"midrank needs a 1-D array, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError("midrank of NaN is undefined")
    order = np.argsort(arr, kind="stable")
    ranks = np.empty(arr.size)
    ranks[order] = _midrank_sorted(arr[order])
    return ranks


def placements(
    labels: ArrayLike, scores: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs (k,), positive placements V10 (k, m) and negative placements V01 (k, n).

    Columns of V10 / V01 follow the order of the positive / negative cells in ``labels`` so
    rows of different score vectors stay paired cell by cell. Needs both classes.
    """
    lab = as_labels(labels)
    s = as_scores(scores, lab.size)
    m = int(lab.sum())
    n = lab.size - m
    if m == 0 or n == 0:
        raise ValueError("AUC needs at least one positive and one negative cell")
    pos_slot = np.cumsum(lab) - 1  # position of each positive cell among the positives
    neg_slot = np.cumsum(~lab) - 1
    k = s.shape[0]
    aucs = np.empty(k)
    v10 = np.empty((k, m))
    v01 = np.empty((k, n))
    for row in range(k):
        order = np.argsort(s[row], kind="stable")
        ordered = s[row, order]
        is_pos = lab[order]
        rank_all = _midrank_sorted(ordered)
        rank_pos = _midrank_sorted(ordered[is_pos])
        rank_neg = _midrank_sorted(ordered[~is_pos])
        below_pos = rank_all[is_pos] - rank_pos  # negatives below each positive (ties 1/2)
        below_neg = rank_all[~is_pos] - rank_neg  # positives below each negative (ties 1/2)
        v10[row, pos_slot[order[is_pos]]] = below_pos / n
        v01[row, neg_slot[order[~is_pos]]] = 1.0 - below_neg / m
        # half-integer sums are exact in float64, so this AUC is the exactly rounded ratio
        aucs[row] = below_pos.sum() / (m * n)
    return aucs, v10, v01


def _covariance(v: np.ndarray) -> np.ndarray:
    """Sample covariance (ddof 1) between the rows of v; NaN with fewer than two columns."""
    k, count = v.shape
    if count < 2:
        return np.full((k, k), np.nan)
    centred = v - v.mean(axis=1, keepdims=True)
    return centred @ centred.T / (count - 1)


def delong(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k,) of k score vectors on the same cells and their DeLong covariance (k, k).

    ``scores`` is (n,) or (k, n). Covariance = S10 / m + S01 / n with S10, S01 the sample
    covariances of the placement values; NaN when a class has a single cell.
    """
    aucs, v10, v01 = placements(labels, scores)
    return aucs, _covariance(v10) / v10.shape[1] + _covariance(v01) / v01.shape[1]


def delong_variance(labels: ArrayLike, scores: ArrayLike) -> tuple[float, float]:
    """AUC of one score vector and its DeLong variance (naive: cells independent)."""
    if np.ndim(scores) != 1:
        raise ValueError("delong_variance takes one 1-D score vector")
    aucs, cov = delong(labels, scores)
    return float(aucs[0]), float(cov[0, 0])


def delong_paired(
    labels: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, level: float = 0.95,
) -> dict:
    """DeLong test of AUC(a) - AUC(b) for two scorings of the same cells (naive unit: cell).

    The variance of the difference comes from the differences of the placement values, which
    equals [1, -1] S [1, -1]^T and is exactly 0 for identical scores. With zero variance, z and
    p_value are NaN and the interval collapses to the difference; with a one-cell class the
    variance is undefined and variance, z, p_value and ci are NaN.
    """
    if np.ndim(scores_a) != 1 or np.ndim(scores_b) != 1:
        raise ValueError("delong_paired takes two 1-D score vectors")
    aucs, v10, v01 = placements(labels, np.vstack([scores_a, scores_b]))
    d10 = v10[0] - v10[1]
    d01 = v01[0] - v01[1]
    variance = float(_covariance(d10[None])[0, 0] / d10.size
                     + _covariance(d01[None])[0, 0] / d01.size)
    difference = float(aucs[0] - aucs[1])
    # rounding can leave a tiny negative variance; NaN (a one-cell class) stays NaN
    se = float(np.sqrt(max(variance, 0.0))) if np.isfinite(variance) else float("nan")
    z = difference / se if se > 0 else float("nan")
    p_value = float(2.0 * norm.sf(abs(z)))  # NaN in, NaN out
    half = float(norm.ppf(0.5 + level / 2.0)) * se
    return {
        "auc_a": float(aucs[0]),
        "auc_b": float(aucs[1]),
        "difference": difference,
        "variance": variance,
        "z": float(z),
        "p_value": p_value,
        "ci": [difference - half, difference + half],
        "unit": NAIVE_UNIT,
    }
