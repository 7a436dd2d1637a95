"""AUC variants of STATISTICS.md: pooled over cells, mean over slip models, equal weight per event.

All come from one rank computation (Mann-Whitney: the AUC is the share of positive-negative
pairs ordered correctly, ties counting one half), done for every group at once after one
sort, so the per-slip-model and per-event AUCs of 1.4 million test cells cost about what one
pooled AUC does. scikit-learn's ``roc_auc_score`` gives the same values one group at a time;
the tests hold the two to 1e-12. Groups whose cells hold a single class have no AUC: they
are skipped and counted, never scored as 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve


def group_aucs(
    labels: np.ndarray, scores: np.ndarray, codes: np.ndarray | None = None, count: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUC, positives and cells of each group 0..count-1 (``codes`` per cell; None = one group).

    AUC is NaN for a group without positives or without negatives.
    """
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores)
    if codes is None:
        codes = np.zeros(len(labels), dtype=np.int16)
    # small integer codes sort stably in linear time (radix sort)
    codes = np.asarray(codes).astype(np.int16 if count < 2**15 else np.int32, copy=False)
    order = np.argsort(scores)  # ties are handled as runs below, so any order of them will do
    if count > 1:
        order = order[np.argsort(codes[order], kind="stable")]
    ordered_scores, ordered_codes = scores[order], codes[order]
    size = len(order)
    starts_run = np.empty(size, dtype=bool)
    if size:
        starts_run[0] = True
        np.not_equal(ordered_scores[1:], ordered_scores[:-1], out=starts_run[1:])
        if count > 1:
            starts_run[1:] |= ordered_codes[1:] != ordered_codes[:-1]
    run_start = np.flatnonzero(starts_run)
    run_length = np.diff(np.append(run_start, size))
    run_group = ordered_codes[run_start]
    cells = np.bincount(codes, minlength=count)
    first = np.concatenate([[0], np.cumsum(cells)[:-1]])
    # midrank (1-based) of each run of tied scores within its group
    midrank = run_start - first[run_group] + (run_length + 1) / 2.0
    run_positives = (np.add.reduceat(labels[order], run_start, dtype=np.int64)
                     if size else np.zeros(0, dtype=np.int64))
    positives = np.bincount(run_group, weights=run_positives, minlength=count)
    rank_sum = np.bincount(run_group, weights=midrank * run_positives, minlength=count)
    negatives = cells - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
    auc[(positives == 0) | (negatives == 0)] = np.nan
    return auc, positives.astype(np.int64), cells.astype(np.int64)


def auc_sample(
    labels: np.ndarray, rows: np.ndarray, negatives: int | None, seed: int,
) -> np.ndarray:
    """Rows to estimate an AUC over millions of ``rows`` on: every positive and at most
    ``negatives`` negatives drawn without replacement (seeded, sorted); all rows if None.

    Keeping every positive leaves only the negatives' sampling error, about
    sqrt(0.04 / negatives) of AUC: 0.0005 for 200,000 negatives.
    """
    positive = rows[labels[rows]]
    negative = rows[~labels[rows]]
    if negatives is not None and len(negative) > negatives:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))
        negative = rng.choice(negative, size=negatives, replace=False)
    return np.sort(np.concatenate([positive, negative]))


def pooled_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC over all cells together (the paper's 'merged' AUC)."""
    auc, positives, cells = group_aucs(labels, scores)
    if positives[0] in (0, cells[0]):
        raise ValueError("AUC needs at least one positive and one negative cell")
    return float(auc[0])


@dataclass(frozen=True)
class GroupAUC:
    """Per-group AUCs and the groups skipped for holding one class."""

    table: pd.DataFrame  # index: group; columns auc, rows, positives
    skipped: list[str]

    @property
    def mean(self) -> float:
        return float(self.table["auc"].mean()) if len(self.table) else float("nan")


def per_group_auc(
    labels: np.ndarray, scores: np.ndarray, codes: np.ndarray, names: np.ndarray,
) -> GroupAUC:
    """AUC within each group present in ``codes`` (indices into ``names``); one-class groups
    are skipped and listed."""
    auc, positives, cells = group_aucs(labels, scores, codes, len(names))
    present = cells > 0
    scored = present & np.isfinite(auc)
    table = pd.DataFrame({"auc": auc[scored], "rows": cells[scored],
                          "positives": positives[scored]},
                         index=pd.Index(np.asarray(names)[scored].astype(str), name="group"))
    skipped = [str(name) for name in np.asarray(names)[present & ~np.isfinite(auc)]]
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
