"""Learning curves: grouped-test AUC against the share of the training rows, over the seeds.

The x-axis is a share of the rows the method trains on in the main evaluation (every
training cell, or its ``max_train_rows`` case-control draw), log-spaced from
``learning_curve.min_share`` to 1, the same shares for every grouped partition, so each
point has one value per seed. For each partition those rows are put in one seeded random
order and the method is fitted on growing prefixes (nested subsets); the share-1 point is
the main evaluation's fit itself.

Training length is held fixed along a curve: a method trained by gradient steps (the
network) takes at every share the steps per epoch of its full training rows
(``learning_curve.steps_per_epoch`` overrides), so a smaller subset is not also trained for
less. Each point records whether the validation loss was still falling at the last epoch
(the fit had not converged). Every (seed, share) point is an independent task
(``compute.run_tasks``).

Each point's test AUC is computed on every positive test cell and at most
``learning_curve.test_auc_negatives`` negative ones, the same seeded draw at every share of
a seed (``auc.auc_sample``): on the published data scoring 1.4 million test cells 70 times
would dominate the stage. The share-1 point is the main evaluation's fit, so the scale
benchmark measures the approximation against that fit's all-cells AUC.
"""

from __future__ import annotations

import logging
import math
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_files, json_text, read_splits
from .auc import auc_sample, pooled_auc
from .cells import Cells, load_cells
from .compute import run_tasks
from .errors import InputError
from .methods import Settings, create
from .methods.params import LearningCurveParams, method_settings
from .params import ComputeParams
from .progress import timed
from .stage_io import Input, Output

log = logging.getLogger(__name__)

MIN_CLASS_ROWS = 2  # rows of each class a subset must hold for a fit
# aftershock rows the smallest share must hold on average in the partition with the fewest:
# with ~2 % positives a share of a few hundred rows may hold none, and a point skipped in
# some seeds only would average different seeds at one share
MIN_EXPECTED_POSITIVES = 10


def curve_shares(min_share: float, points: int) -> list[float]:
    """Log-spaced shares from ``min_share`` to 1 (rounded to 4 significant digits, so that
    every seed's points carry the same values)."""
    return sorted({float(f"{v:.4g}") for v in np.geomspace(min_share, 1.0, points)})


def starting_share(min_share: float, positives: int, where: str) -> float:
    """The curve's first share: ``min_share``, raised (with a warning; the summary records
    both) where it would hold fewer than ``MIN_EXPECTED_POSITIVES`` of the ``positives``
    (aftershock rows) of the partition with the fewest (``where``), or half of them in a
    tiny data set. A partition with too few positives for two points is refused."""
    if positives < 2 * MIN_CLASS_ROWS:
        raise InputError(
            f"learning curve: {where} trains on {positives} aftershock rows; a curve needs "
            f"at least {2 * MIN_CLASS_ROWS} (learning_curve.min_share={min_share:g})")
    needed = min(MIN_EXPECTED_POSITIVES, max(MIN_CLASS_ROWS, positives // 2))
    floor = needed / positives
    if min_share >= floor:
        return min_share
    step = 10.0 ** (math.floor(math.log10(floor)) - 1)  # two significant digits, rounded up
    used = float(f"{math.ceil(floor / step) * step:.2g}")
    log.warning("learning_curve.min_share=%g would hold %.1f of the %d aftershock rows of "
                "%s; the curve starts at %g instead", min_share, min_share * positives,
                positives, where, used)
    return used


def trains_by_steps(settings: Settings) -> bool:
    """Whether the method's training length is a number of gradient steps (the network)."""
    return "steps_per_epoch" in {item.name for item in fields(settings)}


def still_improving(history: list[dict[str, float]]) -> bool | None:
    """Whether the validation loss fell at the last epoch to below every earlier one
    (None without a training history, or with one epoch)."""
    if len(history) < 2:
        return None
    losses = [epoch["val_loss"] for epoch in history]
    return bool(losses[-1] < min(losses[:-1]))


def curve_point(
    method_name: str, settings: Settings, cells: Cells, test_models: list[str],
    seed: int, share: float, steps: int | None, test_auc_negatives: int | None = None,
) -> dict[str, Any] | None:
    """Fit on the first ``share`` of the seed's order of the main evaluation's training rows;
    the grouped-test AUC on every positive test cell and at most ``test_auc_negatives``
    negative ones (None when that subset holds one class only). Records the cells scored,
    the cells drawn and the split's test cells, so reports can say whether it sampled."""
    all_test = cells.slip_model.rows(test_models)
    test = auc_sample(cells.labels, all_test, test_auc_negatives, seed)
    train = cells.slip_model.rows(test_models, include=False)
    full = create(method_name, settings).training_rows(cells, train, seed)  # the main fit's
    order = np.random.default_rng(np.random.SeedSequence([seed, 13])).permutation(full)
    subset = np.sort(order[:round(share * len(full))])
    positives = int(cells.labels[subset].sum())
    if min(positives, len(subset) - positives) < MIN_CLASS_ROWS:
        return None
    fixed = replace(settings, max_train_rows=None)
    if steps is not None:
        fixed = replace(fixed, steps_per_epoch=steps)
    method = create(method_name, fixed)
    method.fit(cells, subset, seed)
    scores = method.score(cells, test).astype(np.float32)
    keep = np.isfinite(scores)
    return {"method": method_name, "seed": seed, "train_share": share,
            "train_rows": len(subset), "train_positives": positives,
            "partition_train_rows": len(train),
            "test_auc": pooled_auc(cells.labels[test][keep], scores[keep]),
            "test_auc_cells": int(keep.sum()),
            "test_cells_drawn": len(test),
            "test_cells": len(all_test),
            "steps_per_epoch": steps,
            "still_improving": still_improving(method.describe().get("history", []))}


def full_steps(
    method_name: str, settings: Settings, cells: Cells, train: np.ndarray, seed: int,
) -> int:
    """A step-trained method's steps per epoch on the main evaluation's training rows."""
    fixed = getattr(settings, "steps_per_epoch", None)
    if fixed:  # the main evaluation's own fixed length
        return int(fixed)
    full = create(method_name, settings).training_rows(cells, train, seed)
    return settings.original_steps(int(cells.labels[full].sum()))  # type: ignore[attr-defined]


def learning_curve(
    method_name: str, settings: Settings, cells: Cells, grouped: dict[str, list[str]],
    curve: LearningCurveParams, compute: ComputeParams,
) -> pd.DataFrame:
    """Rows of (seed, train_share, train_rows, test_auc, ...) for every grouped partition."""
    ordered = sorted(grouped.items(), key=lambda kv: int(kv[0]))
    positives = {}
    for partition, test_models in ordered:
        train = cells.slip_model.rows(test_models, include=False)
        rows = create(method_name, settings).training_rows(cells, train, int(partition))
        positives[partition] = int(cells.labels[rows].sum())
    fewest = min(positives, key=positives.__getitem__)
    first = starting_share(curve.min_share, positives[fewest], f"grouped partition {fewest}")
    tasks = []
    for partition, test_models in ordered:
        steps = None
        if trains_by_steps(settings):
            steps = curve.steps_per_epoch or full_steps(
                method_name, settings, cells, cells.slip_model.rows(test_models, include=False),
                int(partition))
        for share in curve_shares(first, curve.points):
            tasks.append((method_name, settings, cells, test_models, int(partition), share,
                          steps, curve.test_auc_negatives))

    def describe(number: int, point: dict[str, Any] | None) -> str:
        seed, share = tasks[number][4], tasks[number][5]
        outcome = "one class only, skipped" if point is None else \
            f"{point['train_rows']:,} rows, grouped test AUC {point['test_auc']:.3f}"
        return f"{method_name} seed {seed}, share {share:g}: {outcome}"

    with timed(f"learning curve of {method_name}: {len(tasks)} points over "
               f"{len(grouped)} grouped partitions"):
        records = run_tasks(curve_point, tasks, compute, shared=[cells], describe=describe)
    skipped = [(t[4], t[5]) for t, r in zip(tasks, records, strict=True) if r is None]
    for seed, share in skipped:
        log.warning("%s seed %d, share %g: the subset holds fewer than %d rows of a class; "
                    "point skipped", method_name, seed, share, MIN_CLASS_ROWS)
    return pd.DataFrame.from_records([r for r in records if r is not None])


def curve_summary(method: str, table: pd.DataFrame, steps_fixed: bool,
                  min_share: float | None = None,
                  test_auc_negatives: int | None = None) -> dict[str, Any]:
    """Per share: mean, sd and seeds of the grouped-test AUC and the rows it was fitted on;
    how many seeds' full-data fit was still improving at its last epoch."""
    if table.empty:
        raise InputError(f"learning curve of {method}: every point held one class only; "
                         "raise learning_curve.min_share")
    by_share = {}
    for share, part in table.groupby("train_share"):
        aucs = part["test_auc"]
        by_share[f"{share:g}"] = {"mean": float(aucs.mean()),
                                  "sd": float(aucs.std()) if len(aucs) > 1 else 0.0,
                                  "seeds": len(aucs),
                                  "train_rows": [int(part["train_rows"].min()),
                                                 int(part["train_rows"].max())]}
    full = table[table["train_share"] == table["train_share"].max()]
    flags = full["still_improving"].dropna() if "still_improving" in full else pd.Series([])
    return {
        "method": method,
        "x": "share of the main evaluation's training rows",
        "min_share": {"requested": min_share, "used": float(table["train_share"].min())},
        "test_auc_cells": "every test cell" if test_auc_negatives is None else
        f"every positive test cell and at most {test_auc_negatives} negative ones, drawn "
        "once per seed (an approximation of the all-cells AUC; see the scale benchmark)",
        "by_train_share": by_share,
        "training_length": "fixed along the curve: the steps per epoch of the full training "
                           "rows" if steps_fixed else "the method's own fit",
        "full_point_still_improving": None if flags.empty else
        {"seeds": int(flags.astype(bool).sum()), "of": len(flags)},
    }


def learning_curve_stage(
    params: dict[str, Any], method: str, features: Input, splits: Input, out: Output,
    plot: Output,
) -> None:
    """Grouped-test AUC against the share of the training rows, for one method.

    inputs:  features, splits (the grouped partitions); method, one of learning_curve.methods.
    outputs: out (JSON): mean, sd and seeds per share, and whether the full-data fits were
             still improving; plot (CSV): every point.
    params:  learning_curve.*, methods.<method>; compute.* (not a DVC param)
    """
    curve = LearningCurveParams.from_params(params)
    if method not in curve.methods:
        raise InputError(f"params: '{method}' is not in learning_curve.methods "
                         f"{list(curve.methods)}")
    settings = method_settings(params, method)
    cells = load_cells(features)
    grouped = read_splits(splits, cells.slip_model.names)["schemes"]["grouped"]
    table = learning_curve(method, settings, cells, grouped, curve,
                           ComputeParams.from_params(params))
    summary = curve_summary(method, table, trains_by_steps(settings), curve.min_share,
                            curve.test_auc_negatives)
    with atomic_files(out, plot) as (out_file, plot_file):  # replaced together
        out_file.write_text(json_text(summary))
        table.to_csv(plot_file, index=False, float_format="%.6f")
