"""Holm's step-down correction over one table's family of comparisons."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
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
