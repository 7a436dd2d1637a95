"""AUC variants of STATISTICS.md: pooled over cells, mean over slip models, equal weight per event.

Groups (slip models, events) whose test cells hold a single class have no AUC: they are
skipped and counted, never scored as 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve


def pooled_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC over all cells together (the paper's 'merged' AUC)."""
    return float(roc_auc_score(labels, scores))


@dataclass(frozen=True)
class GroupAUC:
    """Per-group AUCs and the groups skipped for holding one class."""

    table: pd.DataFrame  # index: group; columns auc, rows, positives
    skipped: list[str]

    @property
    def mean(self) -> float:
        return float(self.table["auc"].mean()) if len(self.table) else float("nan")


def per_group_auc(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> GroupAUC:
    """AUC within each group of cells; one-class groups are skipped and listed."""
    frame = pd.DataFrame({"label": labels, "score": scores, "group": groups})
    rows, skipped = [], []
    for group, cells in frame.groupby("group", sort=True, observed=True):
        positives = int(cells["label"].sum())
        if positives in (0, len(cells)):
            skipped.append(str(group))
            continue
        rows.append({"group": str(group), "auc": pooled_auc(cells["label"], cells["score"]),
                     "rows": len(cells), "positives": positives})
    table = pd.DataFrame(rows, columns=["group", "auc", "rows", "positives"]).set_index("group")
    return GroupAUC(table=table, skipped=skipped)


def roc_points(labels: np.ndarray, scores: np.ndarray, points: int = 201) -> pd.DataFrame:
    """The ROC curve sampled at ``points`` false-positive rates evenly spaced in [0, 1].

    At each rate it takes the best true-positive rate reached at or below it (the ROC step
    function), so the thinned curve never rises above the real one.
    """
    fpr, tpr, _ = roc_curve(labels, scores)
    grid = np.linspace(0.0, 1.0, points)
    step = np.searchsorted(fpr, grid, side="right") - 1
    return pd.DataFrame({"fpr": grid, "tpr": tpr[step]})
