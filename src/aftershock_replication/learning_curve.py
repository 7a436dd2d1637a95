"""Learning curves: grouped-test AUC against the number of training rows, over the seeds.

For each grouped partition the training rows are put in one seeded random order and the
method is fitted on growing prefixes (nested subsets), log-spaced from ``min_rows`` up to
all training rows, ``learning_curve.max_rows`` or the method's own ``max_train_rows``,
whichever is smallest: the curve's last point is the training size of the main evaluation,
so a curve that is flat well before it shows the cap costs nothing. Every (seed, size)
point is an independent task (``compute.run_tasks``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_file, read_json, write_json
from .auc import pooled_auc
from .cells import Cells, load_cells
from .compute import run_tasks
from .errors import InputError
from .methods import Settings, create
from .params import ComputeParams, LearningCurveParams, method_settings
from .progress import timed

log = logging.getLogger(__name__)


def curve_sizes(available: int, min_rows: int, max_rows: int | None, points: int) -> list[int]:
    """Log-spaced training sizes from ``min_rows`` to all available rows (or ``max_rows``)."""
    top = available if max_rows is None else min(available, max_rows)
    low = min(min_rows, top)
    return sorted({round(v) for v in np.geomspace(low, top, points)})


def curve_point(
    method_name: str, settings: Settings, cells: Cells, test_models: list[str],
    seed: int, size: int,
) -> dict[str, Any] | None:
    """Fit on the first ``size`` rows of the seed's training order; the grouped-test AUC
    (None when that subset holds one class only)."""
    test = cells.slip_model.rows(test_models)
    train = cells.slip_model.rows(test_models, include=False)
    order = np.random.default_rng(np.random.SeedSequence([seed, 13])).permutation(train)
    subset = np.sort(order[:size])
    positives = int(cells.labels[subset].sum())
    if positives in (0, size):
        return None
    method = create(method_name, replace(settings, max_train_rows=None))
    method.fit(cells, subset, seed)
    scores = method.score(cells, test).astype(np.float32)
    keep = np.isfinite(scores)
    return {"method": method_name, "seed": seed, "train_rows": size,
            "train_positives": positives,
            "test_auc": pooled_auc(cells.labels[test][keep], scores[keep])}


def learning_curve(
    method_name: str, settings: Settings, cells: Cells, grouped: dict[str, list[str]],
    min_rows: int, max_rows: int | None, points: int, compute: ComputeParams,
) -> pd.DataFrame:
    """Rows of (seed, train_rows, test_auc, train_positives) for every grouped partition."""
    cap = settings.max_train_rows
    top = cap if max_rows is None else max_rows if cap is None else min(cap, max_rows)
    tasks = []
    for partition, test_models in sorted(grouped.items(), key=lambda kv: int(kv[0])):
        available = len(cells.labels) - len(cells.slip_model.rows(test_models))
        for size in curve_sizes(available, min_rows, top, points):
            tasks.append((method_name, settings, cells, test_models, int(partition), size))

    def describe(number: int, point: dict[str, Any] | None) -> str:
        _, _, _, _, seed, size = tasks[number]
        outcome = "one class only, skipped" if point is None else \
            f"grouped test AUC {point['test_auc']:.3f}"
        return f"{method_name} seed {seed}, {size:,} training rows: {outcome}"

    with timed(f"learning curve of {method_name}: {len(tasks)} points over "
               f"{len(grouped)} grouped partitions"):
        records = run_tasks(curve_point, tasks, compute, shared=[cells], describe=describe)
    return pd.DataFrame.from_records([r for r in records if r is not None])


def learning_curve_stage(
    params: dict[str, Any], method: str, features: Path, splits: Path, out: Path, plot: Path,
) -> None:
    """Grouped-test AUC against the number of training rows, for one method.

    inputs:  features, splits (the grouped partitions); method, one of learning_curve.methods.
    outputs: out (JSON): mean, sd and seeds per training size; plot (CSV): every point.
    params:  learning_curve.*, methods.<method>; compute.* (not a DVC param)
    """
    curve = LearningCurveParams.from_params(params)
    if method not in curve.methods:
        raise InputError(f"params: '{method}' is not in learning_curve.methods "
                         f"{list(curve.methods)}")
    settings = method_settings(params, method)
    grouped = read_json(splits, "the split stage")["schemes"]["grouped"]
    table = learning_curve(method, settings, load_cells(features), grouped, curve.min_rows,
                           curve.max_rows, curve.points, ComputeParams.from_params(params))
    with atomic_file(plot) as temporary:
        table.to_csv(temporary, index=False, float_format="%.6f")
    summary = table.groupby("train_rows")["test_auc"].agg(["mean", "std", "count"])
    write_json(out, {
        "method": method,
        "by_train_rows": {str(rows): {"mean": float(r["mean"]),
                                      "sd": float(r["std"]) if r["count"] > 1 else 0.0,
                                      "seeds": int(r["count"])}
                          for rows, r in summary.iterrows()},
    })
