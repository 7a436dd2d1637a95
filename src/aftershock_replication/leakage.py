"""Leakage measured on the same test cells: purged training and an exact size control.

For the paper's split and every leaky partition the test slip models stay fixed and the
method is fitted four ways, all scored on the same test cells (STATISTICS.md, "Matched
test sets"):

- ``as_split``: every training slip model (the evaluation stage's fit, whose stored test
  scores are reused: same data, same seed, same scores);
- ``purged``: without the *neighbours*, the training slip models that share a group
  (``split.grouped_by``: physical sequence, region-year sequence or spatio-temporal
  cluster) with a test slip model, as in purged / blocked cross-validation (Roberts et
  al. 2017; López de Prado 2018);
- ``size_control``: without a random set of non-neighbour training cells holding exactly
  as many cells *and* as many positive cells as the neighbours (whole slip models drawn in
  random order, then cells of further slip models where whole ones overshoot;
  ``leakage.control_draws`` draws, averaged), so that losing data is told apart from
  losing neighbours;
- ``future_purged``: without only the *later* neighbours, those whose origin time is at or
  after that of a test earthquake of their group (when the splits carry origin times).
  A forecast made after a main shock may use the earlier earthquakes of its sequence; the
  later ones, and their aftershocks, are what a random split leaks.

Leakage effect = AUC(size_control) - AUC(purged): same test cells, the same amount of
training data and positives, neighbours in or out. Later-neighbour effect = AUC(as_split)
- AUC(future_purged); earlier-neighbour effect = AUC(future_purged) - AUC(purged). The test
cells scored are every positive one and at most ``leakage.test_auc_negatives`` negative ones
(one seeded draw per partition, the same for every arm; ``auc.auc_sample``), which keeps
the arms paired while the refits on the published data do not each score 1.4 million
cells. Test earthquakes whose group has training slip models are *exposed*; only they can
be helped by neighbours, so the unexposed ones are a built-in control (the contrast of
``leakage_summary``). No interval is computed per partition: over the few test earthquakes
of one partition a cluster bootstrap covers far less than its nominal 95 %
(``benchmarks.cluster_coverage``); inference is over the repeated partitions.

Who the neighbours are and what each arm holds is planned in ``leakage_plan``; this module
fits and scores the arms and writes the stage's output.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import read_json, write_json
from .auc import auc_sample, per_group_auc, pooled_auc
from .cells import Cells, load_cells
from .compute import run_tasks
from .errors import InputError
from .evaluate import partition_seed, score_key
from .leakage_plan import Plan, SlipModels, plan_partition, slip_models, too_few_cells
from .methods import Settings, create, spec
from .methods.params import LeakageParams, method_settings
from .params import ComputeParams
from .progress import timed
from .stage_io import Input, Output

log = logging.getLogger(__name__)

SCHEMES_MEASURED = ("paper", "leaky")  # where neighbours of the test set can be in training


def training_rows(cells: Cells, train: list[str], trimmed: dict[str, tuple[int, int]],
                  seed: int) -> np.ndarray:
    """Rows of the ``train`` slip models without the cells a size control trims: of each
    slip model in ``trimmed``, that many of its positive and negative cells drawn with
    ``seed`` (so every fit of one draw removes the same cells)."""
    rows = cells.slip_model.rows(train)
    if not trimmed:
        return rows
    rng = np.random.default_rng(seed)
    dropped = []
    for name, (positive, negative) in sorted(trimmed.items()):
        own = cells.slip_model.rows([name])
        is_positive = cells.labels[own].astype(bool)
        dropped.append(rng.choice(own[is_positive], positive, replace=False))
        dropped.append(rng.choice(own[~is_positive], negative, replace=False))
    return np.setdiff1d(rows, np.concatenate(dropped), assume_unique=True)


def fit_and_score(
    method_name: str, settings: Settings | None, cells: Cells, train: list[str],
    test_rows: np.ndarray, seed: int, trimmed: dict[str, tuple[int, int]] | None = None,
    trim_seed: int = 0,
) -> np.ndarray:
    """Fit on the cells of ``train`` slip models (less the ``trimmed`` cells of a size
    control); float32 scores of ``test_rows``."""
    method = create(method_name, settings)
    method.fit(cells, training_rows(cells, train, trimmed or {}, trim_seed), seed)
    return method.score(cells, test_rows).astype(np.float32)


def scored_rows(cells: Cells, plan: Plan, negatives: int | None) -> np.ndarray:
    """The test cells every arm of ``plan`` is scored on: all positive ones and at most
    ``negatives`` negative ones (seeded by the partition; all when None)."""
    return auc_sample(cells.labels, cells.slip_model.rows(plan.test), negatives,
                      partition_seed(plan.partition))


def arm_aucs(
    labels: np.ndarray, scores: np.ndarray, events: np.ndarray, event_names: np.ndarray,
    exposed: np.ndarray,
) -> dict[str, Any]:
    """Pooled test AUC over all, exposed and unexposed test cells, and per test earthquake."""
    by_event = per_group_auc(labels, scores, events, event_names)

    def pooled(mask: np.ndarray) -> float | None:
        both = mask.any() and labels[mask].any() and not labels[mask].all()
        return pooled_auc(labels[mask], scores[mask]) if both else None

    return {
        "all": pooled_auc(labels, scores),
        "exposed": pooled(exposed),
        "unexposed": pooled(~exposed),
        "per_event": {str(k): float(v) for k, v in by_event.table["auc"].items()},
    }


def difference(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """a - b for every AUC of ``arm_aucs`` (None where either is undefined)."""
    def minus(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else float(x - y)

    return {
        "all": minus(a["all"], b["all"]),
        "exposed": minus(a["exposed"], b["exposed"]),
        "unexposed": minus(a["unexposed"], b["unexposed"]),
        "per_event": {event: minus(a["per_event"].get(event), value)
                      for event, value in b["per_event"].items()},
    }


def average_aucs(arms: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean over size-control draws of each AUC of ``arm_aucs``."""
    def mean(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else float(np.mean(values))

    return {
        "all": mean([a["all"] for a in arms]),
        "exposed": mean([a["exposed"] for a in arms]),
        "unexposed": mean([a["unexposed"] for a in arms]),
        "per_event": {event: mean([a["per_event"].get(event) for a in arms])
                      for event in arms[0]["per_event"]},
    }


def measure_partition(
    plan: Plan, cells: Cells, rows: np.ndarray, as_split: np.ndarray, purged: np.ndarray,
    controls: list[np.ndarray], future: np.ndarray | None = None,
) -> dict[str, Any]:
    """AUCs of the arms on the same test cells (``rows``, which the score arrays follow)
    and the effects: size control - purged (the matched leakage effect), as split - purged
    and, with a future-only arm, as split - future_purged (later neighbours) and
    future_purged - purged (earlier neighbours)."""
    labels = cells.labels[rows]
    events = cells.event.codes[rows]
    exposed_codes = [i for i, name in enumerate(cells.event.names)
                     if name in set(plan.exposed_events)]
    exposed = np.isin(events, exposed_codes)
    arrays = [as_split, purged, *controls, *([] if future is None else [future])]
    finite = [np.isfinite(a) for a in arrays]
    scored, unscored = np.all(finite, axis=0), ~np.any(finite, axis=0)
    if not (scored | unscored).all():
        raise InputError(f"{plan.scheme}/{plan.partition}: {int((~scored & ~unscored).sum())} "
                         "test cells scored by some arms only; the arms must score the same "
                         "cells")
    # cells no arm scores (e.g. slip models a method leaves out) drop from every arm alike
    labels, events, exposed = labels[scored], events[scored], exposed[scored]
    names = cells.event.names

    def aucs_of(scores: np.ndarray) -> dict[str, Any]:
        return arm_aucs(labels, scores[scored], events, names, exposed)

    aucs = {"as_split": aucs_of(as_split), "purged": aucs_of(purged),
            "size_control": average_aucs([aucs_of(c) for c in controls])}
    record: dict[str, Any] = {
        "scored_test_cells": int(scored.sum()),
        "unscored_test_cells": int(unscored.sum()),
        "aucs": aucs,
        "effect": difference(aucs["size_control"], aucs["purged"]),
        "as_split_minus_purged": difference(aucs["as_split"], aucs["purged"]),
    }
    if future is not None:
        aucs["future_purged"] = aucs_of(future)
        record["later_effect"] = difference(aucs["as_split"], aucs["future_purged"])
        record["earlier_effect"] = difference(aucs["future_purged"], aucs["purged"])
    return record


def partition_record(plan: Plan, models: SlipModels) -> dict[str, Any]:
    """What a partition's arms held (the audit trail of the measurement)."""
    test_cells = sum(models.rows[name] for name in plan.test)
    controls = [control.record() for control in plan.controls]
    return {
        "test_slip_models": len(plan.test),
        "test_cells": test_cells,
        "train_cells": sum(models.rows.values()) - test_cells,
        "neighbours": plan.neighbours,
        "neighbour_cells": plan.neighbour_cells,
        "neighbour_positives": plan.neighbour_positives,
        "exposed_events": plan.exposed_events,
        # the group each exposed earthquake is tested in (leakage_summary's unit)
        "exposed_event_groups": {
            event: next(models.group_of[name] for name in plan.test
                        if models.event_of[name] == event)
            for event in plan.exposed_events},
        # every draw of the size control: what it removed; exact when both counts match
        "size_controls": controls,
        "size_controls_exact": sum(
            1 for c in controls if c["cells"] == plan.neighbour_cells
            and c["positives"] == plan.neighbour_positives),
        "future_arm": plan.future_purged is not None,
        "later_neighbours": plan.later,
        "later_neighbours_without_time": plan.later_untimed,
        "later_exposed_events": plan.later_exposed_events,
        "earlier_exposed_events": plan.earlier_exposed_events,
    }


def future_source(plan: Plan) -> str | None:
    """Where the future-only arm's scores come from: None without the arm; 'as_split' when
    no neighbour is later (the same training set), 'purged' when all are; else 'fit'."""
    if plan.future_purged is None:
        return None
    if not plan.later:
        return "as_split"
    return "purged" if len(plan.later) == len(plan.neighbours) else "fit"


def measure_leakage(
    method_name: str, settings: Settings | None, cells: Cells, splits: dict[str, Any],
    stored_scores: Any, leakage: LeakageParams, compute: ComputeParams,
) -> dict[str, Any]:
    """Every measured partition: its arms and effects, or why nothing was measured.
    ``stored_scores`` are the evaluation stage's test scores (the as_split arm)."""
    models = slip_models(cells, splits)
    plans = [plan_partition(scheme, partition, test, models, leakage.control_draws)
             for scheme in SCHEMES_MEASURED
             for partition, test in splits["schemes"].get(scheme, {}).items()]
    fitted = spec(method_name).fitted
    unfit = {id(plan): too_few_cells(plan, models) if fitted else None for plan in plans}
    measured = [plan for plan in plans if plan.exposed_events and unfit[id(plan)] is None]
    rows = {id(plan): scored_rows(cells, plan, leakage.test_auc_negatives) for plan in measured}
    tasks = []
    for plan in measured:
        seed = partition_seed(plan.partition)
        tasks.append((method_name, settings, cells, plan.purged, rows[id(plan)], seed))
        tasks += [(method_name, settings, cells, plan.control_train(control),
                   rows[id(plan)], seed, control.trimmed, control.seed)
                  for control in plan.controls]
        if future_source(plan) == "fit":
            tasks.append((method_name, settings, cells, plan.future_purged, rows[id(plan)],
                          seed))
    with timed(f"leakage of {method_name}: {len(tasks)} fits on {len(measured)} partitions"):
        scores = iter(run_tasks(fit_and_score, tasks, compute, shared=[cells],
                                describe=lambda i, _: f"{method_name} leakage fit {i + 1}"))
    result: dict[str, Any] = {}
    for plan in plans:
        record = partition_record(plan, models)
        if not plan.exposed_events:
            record["measured"] = False
            record["reason"] = ("no test earthquake has a neighbour in training (its group "
                                "has no training slip models): nothing leakage could act on")
        elif unfit[id(plan)] is not None:
            record["measured"] = False
            record["reason"] = unfit[id(plan)]
        else:
            purged = next(scores)
            controls = [next(scores) for _ in plan.controls]
            stored = np.asarray(stored_scores[score_key(plan.scheme, plan.partition)])
            test_rows = cells.slip_model.rows(plan.test)
            if len(stored) != len(test_rows):
                raise InputError(f"stored test scores of {plan.scheme}/{plan.partition} hold "
                                 f"{len(stored):,} cells, the partition {len(test_rows):,}; "
                                 "rerun the evaluation stage")
            sampled = rows[id(plan)]  # a sorted subset of the sorted test rows
            as_split = stored[np.searchsorted(test_rows, sampled)]
            source = future_source(plan)
            future = {None: None, "as_split": as_split, "purged": purged}.get(source)
            if source == "fit":
                future = next(scores)
            record["measured"] = True
            record["future_arm_scores"] = source
            record.update(measure_partition(plan, cells, sampled, as_split, purged,
                                            controls, future))
        result.setdefault(plan.scheme, {})[plan.partition] = record
    return result


def leakage_stage(
    params: dict[str, Any], method: str, features: Input, splits: Input, scores: Input,
    out: Output,
) -> None:
    """Leakage on matched test sets: fit without the test set's neighbours, without only
    its later neighbours and without as many other cells; score the same test cells.

    inputs:  features, splits; scores (npz): the evaluation stage's test scores of
             ``method`` (the as-split arm); method: one of the registry's methods.
    outputs: out (JSON): scheme (paper, leaky) -> partition -> neighbours, exposed test
             earthquakes, what every size-control draw removed, AUCs of each arm (all,
             exposed, unexposed, per earthquake), the effect size_control - purged,
             as_split - purged and, with origin times, the later- and earlier-neighbour
             effects; or why the partition was not measured.
    params:  leakage.*, methods.<method> (fitted methods); the grouping level is the one
             the grouped partitions of splits were drawn by; compute.* (not a DVC param:
             results do not depend on it)
    """
    settings = method_settings(params, method)
    leakage = LeakageParams.from_params(params)
    partitions = read_json(splits, "the split stage")
    if not Path(scores).is_file():
        raise InputError(f"{scores}: missing; run the stage {spec(method).stage} first")
    with np.load(scores) as stored:
        result = measure_leakage(method, settings, load_cells(features), partitions, stored,
                                 leakage, ComputeParams.from_params(params))
    write_json(out, {"method": method, "grouped_by": partitions["units"]["grouped"],
                     "control_draws": leakage.control_draws,
                     "size_control": "exactly as many cells and positive cells as the "
                                     "neighbours, drawn from the other training slip models",
                     "future_arm": any(record.get("future_arm") for scheme in result.values()
                                       for record in scheme.values()),
                     "test_cells_scored": "every test cell"
                     if leakage.test_auc_negatives is None else
                     f"every positive test cell and at most {leakage.test_auc_negatives} "
                     "negative ones per partition, the same for every arm (seeded)",
                     "partitions": result})
    log.info("leakage of %s written to %s", method, out)

