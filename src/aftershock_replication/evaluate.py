"""Fit one method on the training side of every partition and score both sides.

For each scheme (paper, leaky, grouped) and partition (the paper's, or a seed), a fresh
method is fitted on the training slip models' cells only, then scored on the test cells
(pooled AUC, mean per-slip-model AUC, event-weighted AUC) and on its own training cells
(pooled AUC, so a test > train anomaly is visible).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .auc import per_group_auc, pooled_auc, roc_points
from .methods import create
from .methods.base import Cells
from .progress import format_seconds, timed

log = logging.getLogger(__name__)

# partitions whose ROC curves are kept for the plots: the paper's and one grouped split
ROC_PARTITIONS = (("paper", "paper"), ("grouped", "0"))


def score_key(scheme: str, partition: str) -> str:
    """Name of a partition's test-score array in the scores file."""
    return f"{scheme}/{partition}"


@dataclass
class SideIndex:
    """Row positions of each slip model, to turn lists of slip models into row indices."""

    codes: np.ndarray
    names: np.ndarray

    @classmethod
    def of(cls, cells: Cells) -> SideIndex:
        names, codes = np.unique(cells.slip_model, return_inverse=True)
        return cls(codes=codes, names=names)

    def rows(self, slip_models: list[str], include: bool = True) -> np.ndarray:
        """Rows (table order) of the given slip models, or of all the others."""
        chosen = np.isin(self.names, slip_models)
        return np.flatnonzero(chosen[self.codes] == include)


@dataclass
class MethodEvaluation:
    """Everything one method's evaluation stage writes."""

    method: str
    partitions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    test_scores: dict[str, np.ndarray] = field(default_factory=dict)
    per_slip_model: list[pd.DataFrame] = field(default_factory=list)
    roc: list[pd.DataFrame] = field(default_factory=list)


def _scored(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop rows a method leaves unscored (NaN), returning how many were dropped."""
    keep = np.isfinite(scores)
    return labels[keep], scores[keep], int((~keep).sum())


def evaluate_partition(
    method_name: str, settings: dict[str, Any], cells: Cells, train: np.ndarray,
    test: np.ndarray, seed: int,
) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """Fit on ``train`` rows; score ``test`` and ``train`` rows -> metrics, scores, per model."""
    method = create(method_name, settings)
    start = time.perf_counter()
    method.fit(cells, train, seed)
    fit_seconds = time.perf_counter() - start
    test_scores = method.score(cells, test)
    train_scores = method.score(cells, train)
    keep = np.isfinite(test_scores)  # methods may leave rows unscored (NaN)
    labels, scores, unscored = cells.labels[test][keep], test_scores[keep], int((~keep).sum())
    by_model = per_group_auc(labels, scores, cells.slip_model[test][keep])
    by_event = per_group_auc(labels, scores, cells.event[test][keep])
    train_labels, train_kept, _ = _scored(cells.labels[train], train_scores)
    description = method.describe()
    metrics = {
        "pooled": pooled_auc(labels, scores),
        "per_slip_model_mean": by_model.mean,
        "event_weighted": by_event.mean,
        "train_pooled": pooled_auc(train_labels, train_kept),
        "test_rows": len(test),
        "train_rows": len(train),
        "unscored_test_rows": unscored,
        "one_class_test_slip_models": by_model.skipped,
        "one_class_test_events": by_event.skipped,
        "fit_seconds": round(fit_seconds, 3),
        "fitted": method.fitted,
        "uses_test_labels": method.uses_scored_labels,
        **({"model": description} if description else {}),
    }
    table = by_model.table.reset_index().rename(columns={"group": "slip_model"})
    return metrics, test_scores.astype(np.float32), table


def evaluate_method(
    method_name: str, settings: dict[str, Any], cells: Cells, splits: dict[str, Any],
) -> MethodEvaluation:
    """Evaluate one method on every partition of ``splits`` (see ``splits.make_splits``)."""
    index = SideIndex.of(cells)
    result = MethodEvaluation(method=method_name)
    jobs = [(scheme, partition, test_models)
            for scheme, by_id in splits["schemes"].items()
            for partition, test_models in by_id.items()]
    with timed(f"evaluating {method_name} on {len(jobs)} partitions"):
        for number, (scheme, partition, test_models) in enumerate(jobs, start=1):
            test = index.rows(test_models)
            train = index.rows(test_models, include=False)
            seed = 0 if partition == "paper" else int(partition)
            start = time.perf_counter()
            metrics, scores, table = evaluate_partition(
                method_name, settings, cells, train, test, seed)
            log.info(
                "[%d/%d] %s %s/%s: test AUC %.3f (train %.3f) on %s test cells, %s",
                number, len(jobs), method_name, scheme, partition, metrics["pooled"],
                metrics["train_pooled"], f"{len(test):,}",
                format_seconds(time.perf_counter() - start),
            )
            result.partitions.setdefault(scheme, {})[partition] = metrics
            result.test_scores[score_key(scheme, partition)] = scores
            result.per_slip_model.append(table.assign(scheme=scheme, partition=partition))
            if (scheme, partition) in ROC_PARTITIONS:
                labels, kept, _ = _scored(cells.labels[test], scores)
                result.roc.append(roc_points(labels, kept).assign(
                    method=method_name, split=f"{scheme} {partition}"))
    return result


def summarise(values: list[float]) -> dict[str, Any]:
    """Mean, standard deviation (ddof 1; 0 for one value) and the values per seed."""
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()),
            "sd": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
            "per_seed": [float(v) for v in array]}


def auc_summary(per_method: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The metrics contract: scheme -> method -> AUC variants over partitions."""
    summary: dict[str, Any] = {}
    for method, schemes in per_method.items():
        for scheme, partitions in schemes.items():
            ordered = [partitions[key] for key in sorted(partitions, key=_partition_order)]
            summary.setdefault(scheme, {})[method] = {
                variant: summarise([p[variant] for p in ordered])
                for variant in ("pooled", "per_slip_model_mean", "event_weighted",
                                "train_pooled")
            } | {"uses_test_labels": ordered[0]["uses_test_labels"],
                 "fitted": ordered[0]["fitted"]}
    return summary


def _partition_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (-1, key)
