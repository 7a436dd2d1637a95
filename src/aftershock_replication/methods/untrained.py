"""Untrained stress metrics: scores straight from the stress-change tensor, nothing fitted.

Coulomb stress needs a sign convention (four are stored). ``coulomb`` chooses it on the
training cells (leakage-safe); ``coulomb_test_selected`` reproduces the original code,
which chose, per test slip model, the convention with the best AUC on that model's own
test labels, i.e. with the labels being predicted. It is kept to compare with the
paper's 0.583 and labelled as peeking at test labels wherever it is reported. Both leave
out the slip models the original excluded from its Coulomb assessment
(``COULOMB_EXCLUDED``): they neither choose a convention nor are scored (NaN, dropped by
the evaluation and by the paired comparisons).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..auc import auc_sample, group_aucs, pooled_auc
from ..cells import Cells
from ..errors import InputError
from . import PEEKS_AT_TEST_LABELS, STRESS_METRIC
from .base import Method

# The original excluded this slip model from the Coulomb assessment only (STUDY.md).
COULOMB_EXCLUDED = ("2010DARFIE01ATZO",)
CONVENTION_NEGATIVES = 200_000  # negative training cells the convention is chosen on


class StressMetric(Method):
    """A stress scalar used as the score, as the paper did for max shear and von Mises."""

    role = STRESS_METRIC
    column: ClassVar[str]

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return getattr(cells, self.column)[rows].astype(np.float64)


class MaxShear(StressMetric):
    name = "max_shear"
    order = 30
    column = "max_shear"


class VonMises(StressMetric):
    name = "von_mises"
    order = 40
    column = "von_mises"


class SumAbs(StressMetric):
    name = "sum_abs"
    order = 50
    column = "sum_abs"


def _coulomb_columns(cells: Cells, rows: np.ndarray) -> np.ndarray:
    values = cells.cfs[rows].astype(np.float64)
    if np.isnan(values).all():
        raise InputError("the feature table has no Coulomb columns (stresses_full_cfs_1..4)")
    return values


def coulomb_excluded(cells: Cells, rows: np.ndarray) -> np.ndarray:
    """Which ``rows`` belong to a slip model left out of the Coulomb assessment."""
    return np.isin(cells.slip_model.names, COULOMB_EXCLUDED)[cells.slip_model.codes[rows]]


class Coulomb(Method):
    """Coulomb stress change with the sign convention of best pooled AUC on training cells
    (every positive one and ``CONVENTION_NEGATIVES`` negative ones: the four AUCs differ by
    far more than that sample's error of ~0.0005, at a tenth of the cost on 4.7 M cells)."""

    name = "coulomb"
    role = STRESS_METRIC
    order = 10

    def __init__(self, settings: None = None) -> None:
        super().__init__(settings)
        self.convention: int | None = None
        self.train_aucs: list[float] = []

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = rows[~coulomb_excluded(cells, rows)]
        sample = auc_sample(cells.labels, rows, CONVENTION_NEGATIVES, seed)
        values = _coulomb_columns(cells, sample)
        labels = cells.labels[sample]
        self.train_aucs = [pooled_auc(labels, values[:, k]) for k in range(4)]
        self.convention = int(np.argmax(self.train_aucs))

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        if self.convention is None:
            raise RuntimeError("Coulomb: fit on training rows first")
        scores = _coulomb_columns(cells, rows)[:, self.convention]
        scores[coulomb_excluded(cells, rows)] = np.nan
        return scores

    def describe(self) -> dict[str, Any]:
        return {"convention": f"cfs_{self.convention + 1}", "train_aucs": self.train_aucs}


class CoulombTestSelected(Method):
    """The original's Coulomb AUC: per slip model, the convention best on its own labels.

    PEEKS AT THE LABELS IT SCORES. Slip models in ``COULOMB_EXCLUDED`` are left out as in
    the original (their rows score NaN and are dropped by the evaluation).
    """

    name = "coulomb_test_selected"
    role = PEEKS_AT_TEST_LABELS
    order = 20

    def score(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """All ``rows`` at once (not chunked): each slip model's choice needs all its rows."""
        values = _coulomb_columns(cells, rows)
        labels = cells.labels[rows]
        codes = cells.slip_model.codes[rows]
        count = len(cells.slip_model)
        # AUC of each convention within each slip model, all slip models in one pass each
        aucs = np.column_stack([group_aucs(labels, values[:, k], codes, count)[0]
                                for k in range(4)])
        one_class = np.isnan(aucs).all(axis=1)
        best = np.where(one_class, 0, np.argmax(np.nan_to_num(aucs, nan=-1.0), axis=1))
        out = values[np.arange(len(rows)), best[codes]]
        out[coulomb_excluded(cells, rows)] = np.nan
        return out

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        return self.score(cells, rows)
