"""Fit one method on the training side of every partition and score both sides.

For each scheme (paper, leaky, grouped) and partition (the paper's, or a seed), a fresh
method is fitted on the training slip models' cells only, then scored on the test cells
(pooled AUC, mean per-slip-model AUC, event-weighted AUC) and on training cells (pooled
AUC, so a test > train anomaly is visible). Partitions are independent tasks
(``compute.run_tasks``). Every statistic is computed from the float32 test scores that are
stored, so a recomputation from ``results/scores`` agrees to the last digit.

The training-cell AUC of 4.7 million cells would cost more than the fit for the slow
methods; it uses every positive training cell and a seeded sample of
``evaluate.train_auc_negatives`` negative ones (recorded per partition), which keeps it
within 0.001 of the all-cells value (see the scale benchmark).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import (
    atomic_files,
    json_text,
    read_json,
    read_splits,
    sha256_of,
    write_json_files,
)
from .auc import auc_sample, per_group_auc, pooled_auc, roc_points
from .cells import Cells, load_cells
from .compute import run_tasks
from .errors import InputError
from .methods import Settings, create, spec
from .methods.params import configured_methods, method_settings
from .params import ComputeParams, EvaluateParams
from .progress import format_seconds, timed
from .stage_io import Input, Output

# partitions whose ROC curves are kept for the plots: the paper's and one grouped split
ROC_PARTITIONS = (("paper", "paper"), ("grouped", "0"))


def score_key(scheme: str, partition: str) -> str:
    """Name of a partition's test-score array in the scores file."""
    return f"{scheme}/{partition}"


def partition_seed(partition: str) -> int:
    """The seed of a partition: its number, 0 for the paper's split."""
    return 0 if partition == "paper" else int(partition)


@dataclass
class PartitionResult:
    """One partition's evaluation: its metrics, stored test scores and per-model AUCs."""

    scheme: str
    partition: str
    metrics: dict[str, Any]
    test_scores: np.ndarray  # float32, test rows in table order
    per_slip_model: pd.DataFrame
    roc: pd.DataFrame | None


def evaluate_partition(
    method_name: str, settings: Settings | None, cells: Cells, scheme: str, partition: str,
    test_models: list[str], train_auc_negatives: int | None,
) -> PartitionResult:
    """Fit on the training side of one partition; score its test and training cells."""
    start = time.perf_counter()
    seed = partition_seed(partition)
    test = cells.slip_model.rows(test_models)
    train = cells.slip_model.rows(test_models, include=False)
    method = create(method_name, settings)
    method.fit(cells, train, seed)
    # float32 first: the stored scores are the ones every statistic is computed from
    test_scores = method.score(cells, test).astype(np.float32)
    train_rows = auc_sample(cells.labels, train, train_auc_negatives, seed)
    train_scores = method.score(cells, train_rows).astype(np.float32)
    keep = np.isfinite(test_scores)  # methods may leave rows unscored (NaN)
    labels, scores = cells.labels[test][keep], test_scores[keep]
    model_codes_kept, event_codes_kept = (cells.slip_model.codes[test][keep],
                                          cells.event.codes[test][keep])
    by_model = per_group_auc(labels, scores, model_codes_kept, cells.slip_model.names)
    by_event = per_group_auc(labels, scores, event_codes_kept, cells.event.names)
    train_keep = np.isfinite(train_scores)
    description = method.describe()
    metrics = {
        "pooled": pooled_auc(labels, scores),
        "per_slip_model_mean": by_model.mean,
        "event_weighted": by_event.mean,
        "train_pooled": pooled_auc(cells.labels[train_rows][train_keep],
                                   train_scores[train_keep]),
        "train_auc_rows": int(train_keep.sum()),
        "test_rows": len(test),
        "train_rows": len(train),
        "train_rows_used": len(train) if method.train_rows_used is None
        else method.train_rows_used,
        "unscored_test_rows": int((~keep).sum()),
        "one_class_test_slip_models": by_model.skipped,
        "one_class_test_events": by_event.skipped,
        "fitted": spec(method_name).fitted,
        "uses_test_labels": spec(method_name).uses_test_labels,
        **({"model": description} if description else {}),
    }
    roc = (roc_points(labels, scores).assign(method=method_name, split=f"{scheme} {partition}")
           if (scheme, partition) in ROC_PARTITIONS else None)
    # a row per scored test slip model (auc empty where its cells hold one class), carrying
    # its earthquake's AUC over the earthquake's pooled test cells: the per-earthquake AUC
    # that event_weighted averages, defined also where each slip model alone is one-class
    model_codes, first_row, rows_per_model = np.unique(model_codes_kept, return_index=True,
                                                       return_counts=True)
    names = pd.Index(cells.slip_model.names[model_codes].astype(str), name="group")
    table = by_model.table.reindex(names)
    table["rows"] = rows_per_model
    table["positives"] = np.bincount(model_codes_kept, weights=labels,
                                     minlength=len(cells.slip_model))[model_codes].astype(int)
    table = table.reset_index().rename(columns={"group": "slip_model"})
    table["event"] = cells.event.names[event_codes_kept[first_row]].astype(str)
    table["event_auc"] = table["event"].map(by_event.table["auc"])
    metrics_seconds = round(time.perf_counter() - start, 1)
    return PartitionResult(scheme, partition, {**metrics, "seconds": metrics_seconds},
                           test_scores, table.assign(scheme=scheme, partition=partition), roc)


@dataclass
class MethodEvaluation:
    """Everything one method's evaluation stage writes."""

    method: str
    partitions: dict[str, dict[str, dict[str, Any]]]
    test_scores: dict[str, np.ndarray]
    per_slip_model: list[pd.DataFrame]
    roc: list[pd.DataFrame]


def evaluate_method(
    method_name: str, settings: Settings | None, cells: Cells, splits: dict[str, Any],
    compute: ComputeParams, train_auc_negatives: int | None,
) -> MethodEvaluation:
    """Evaluate one method on every partition of ``splits`` (see ``splits.make_splits``)."""
    tasks = [(method_name, settings, cells, scheme, partition, test_models, train_auc_negatives)
             for scheme, by_id in splits["schemes"].items()
             for partition, test_models in by_id.items()]

    def describe(_: int, result: PartitionResult) -> str:
        m = result.metrics
        return (f"{method_name} {result.scheme}/{result.partition}: test AUC {m['pooled']:.3f} "
                f"(train {m['train_pooled']:.3f}) on {m['test_rows']:,} test cells, fitted on "
                f"{m['train_rows_used']:,} rows in {format_seconds(m['seconds'])}")

    with timed(f"evaluating {method_name} on {len(tasks)} partitions"):
        results = run_tasks(evaluate_partition, tasks, compute, shared=[cells],
                            describe=describe)
    evaluation = MethodEvaluation(method_name, {}, {}, [], [])
    for result in results:
        metrics = {k: v for k, v in result.metrics.items() if k != "seconds"}
        evaluation.partitions.setdefault(result.scheme, {})[result.partition] = metrics
        evaluation.test_scores[score_key(result.scheme, result.partition)] = result.test_scores
        evaluation.per_slip_model.append(result.per_slip_model)
        if result.roc is not None:
            evaluation.roc.append(result.roc)
    return evaluation


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


def evaluate_stage(
    params: dict[str, Any], method: str, features: Input, splits: Input, metrics: Output,
    scores: Output, per_slip_model: Output, roc: Output,
) -> None:
    """Fit one method on each partition's training cells and score test and train cells.

    inputs:  features, splits; method: one of the registry's methods.
    outputs: metrics (JSON): AUC variants per partition; scores (npz): float32 test scores
             per partition; per_slip_model (CSV: per scored test slip model, its AUC, empty
             when its cells hold one class, and its earthquake's pooled AUC); roc (CSV,
             the plotted partitions).
    params:  evaluate.*, methods.<method> (fitted methods only); compute.* (where the
             partitions run; not a DVC param: results do not depend on it)
    """
    settings = method_settings(params, method)  # an unknown method stops here
    compute = ComputeParams.from_params(params)
    train_auc_negatives = EvaluateParams.from_params(params).train_auc_negatives
    cells = load_cells(features)
    partitions = read_splits(splits, cells.slip_model.names)
    result = evaluate_method(method, settings, cells, partitions, compute, train_auc_negatives)
    # the four outputs are one result: they replace the old ones together or not at all
    with atomic_files(metrics, scores, per_slip_model, roc) as temporaries:
        metrics_file, scores_file, per_slip_model_file, roc_file = temporaries
        metrics_file.write_text(json_text({
            "method": method, "settings": {} if settings is None else settings.as_dict(),
            "inputs": input_digests(features, splits),
            "partitions": result.partitions}))
        with scores_file.open("wb") as handle:
            np.savez(handle, **result.test_scores)  # float32 barely compresses: 4 s for 10 %
        pd.concat(result.per_slip_model).to_csv(per_slip_model_file, index=False,
                                                float_format="%.6f")
        pd.concat(result.roc).to_csv(roc_file, index=False, float_format="%.5f")


def input_digests(features: Path, splits: Path) -> dict[str, str]:
    """What a method's results were computed from: the SHA-256 of the feature table and of
    the splits file (so results of an earlier run are never mixed into a new one)."""
    return {"features_sha256": sha256_of(features), "splits_sha256": sha256_of(splits)}


def method_partitions(
    methods_dir: Path, methods: Sequence[str],
    inputs: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The per-partition metrics of ``methods`` from ``methods_dir`` (one JSON per method),
    all computed from the same inputs: ``inputs`` (``input_digests`` of the current feature
    table and splits) when given, else each other's."""
    per_method, seen = {}, None
    for method in methods:
        stage = f"the stage {spec(method).stage}"
        path = Path(methods_dir) / f"{method}.json"
        loaded = read_json(path, stage)
        if not isinstance(loaded, dict) or "partitions" not in loaded:
            raise InputError(f"{path}: no 'partitions'; rerun {stage}")
        made_from = loaded.get("inputs")
        expected = inputs or seen
        if not isinstance(made_from, dict) or (expected is not None and made_from != expected):
            what = "the current feature table and splits" if inputs else \
                f"the other methods' ({', '.join(per_method)})"
            raise InputError(f"{path}: computed from other inputs than {what} (an earlier "
                             f"run's result); rerun {stage}")
        seen = made_from
        per_method[method] = loaded["partitions"]
    return per_method


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The numbers compared across experiments, named short so ``dvc exp show`` stays as
    narrow as DVC allows: scheme -> method -> mean pooled test AUC (the event-weighted AUC
    and everything else is in ``auc.json``)."""
    return {scheme: {method: round(values["pooled"]["mean"], 4)
                     for method, values in methods.items()}
            for scheme, methods in summary.items()}


def aggregate_stage(
    params: dict[str, Any], methods_dir: Input, out: Output, summary: Output,
) -> None:
    """Collect every method's metrics into one file (the metrics contract) and a headline.

    inputs:  methods_dir, one JSON per method.
    outputs: out (JSON): scheme -> method -> pooled (mean, sd, per_seed),
             per_slip_model_mean, event_weighted, train_pooled;
             summary (JSON, the DVC metric): scheme -> method -> mean pooled test AUC
             (4 decimals).
    params:  untrained, methods (which methods' files to read: an earlier run's file of a
             method no longer listed is left out)
    """
    aucs = auc_summary(method_partitions(Path(methods_dir), configured_methods(params)))
    write_json_files({out: aucs, summary: headline(aucs)})
