"""Leakage measured on the same test cells: purged training and a size control.

For the paper's split and every leaky partition the test slip models stay fixed and the
method is fitted three ways, all scored on the same test cells (STATISTICS.md, "Matched
test sets"):

- ``as_split``: every training slip model (the evaluation stage's fit, whose stored test
  scores are reused: same data, same seed, same scores);
- ``purged``: without the *neighbours*, the training slip models that share a group
  (``split.grouped_by``: physical sequence, region-year sequence or spatio-temporal
  cluster) with a test slip model, as in purged / blocked cross-validation (Roberts et
  al. 2017; López de Prado 2018);
- ``size_control``: without a random set of non-neighbour training slip models holding
  about as many cells as the neighbours (``leakage.control_draws`` draws, averaged), so
  that losing data is told apart from losing neighbours.

Leakage effect = AUC(size_control) - AUC(purged): same test cells, about the same amount
of training data, neighbours in or out. The test cells scored are every positive one and at
most ``leakage.test_auc_negatives`` negative ones (one seeded draw per partition, the same
for every arm; ``auc.auc_sample``), which keeps the arms paired while 44 refits of the
random forest on the published data do not each score 1.4 million cells. Test earthquakes
whose group has training slip models are *exposed*; only they can be helped by neighbours,
so the unexposed ones are a built-in control. Uncertainty: a paired cluster bootstrap over
test earthquakes (one resample for both arms) per partition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import read_json, write_json
from .auc import auc_sample, per_group_auc, pooled_auc
from .cells import Cells, load_cells
from .compute import run_tasks
from .data.layout import event_of, sequence_of
from .errors import InputError
from .evaluate import partition_seed, score_key
from .methods import Settings, create, spec
from .params import ComputeParams, LeakageParams, method_settings
from .progress import timed
from .stats import cluster_bootstrap

log = logging.getLogger(__name__)

SCHEMES_MEASURED = ("paper", "leaky")  # where neighbours of the test set can be in training
CONTROL_TOLERANCE = 0.1  # a size control holds the neighbours' cells within +-10 % if it can
MIN_EARTHQUAKES = 2  # a bootstrap interval over test earthquakes needs at least two
MIN_CLASS_CELLS = 2  # cells of each class an arm's training set needs (the network: 2)


def neighbours(train: list[str], test: list[str], group_of: dict[str, str]) -> list[str]:
    """Training slip models sharing a group with any test slip model (sorted)."""
    test_groups = {group_of[name] for name in test}
    return sorted(name for name in train if group_of[name] in test_groups)


def exposed_events(
    train: list[str], test: list[str], group_of: dict[str, str], event_of: dict[str, str],
) -> list[str]:
    """Test earthquakes whose group has training slip models (sorted)."""
    train_groups = {group_of[name] for name in train}
    return sorted({event_of[name] for name in test if group_of[name] in train_groups})


def size_control(
    candidates: list[str], rows: dict[str, int], target: int, rng: np.random.Generator,
) -> list[str]:
    """A random set of ``candidates`` (non-neighbour training slip models) holding about
    ``target`` cells: slip models are taken in random order, each only if it keeps the
    total within ``target * (1 + CONTROL_TOLERANCE)``, until the total reaches ``target``.
    When every candidate holds at most ``2 * CONTROL_TOLERANCE * target`` cells and there
    are enough of them, the total ends within ``CONTROL_TOLERANCE`` of ``target``; with
    fewer candidate cells, as many as fit are taken (the achieved share is reported)."""
    chosen, total = [], 0
    for index in rng.permutation(len(candidates)):
        name = candidates[index]
        if total >= target:
            break
        if total + rows[name] <= target * (1 + CONTROL_TOLERANCE):
            chosen.append(name)
            total += rows[name]
    return sorted(chosen)


@dataclass(frozen=True)
class Plan:
    """What one partition's leakage measurement fits: the training slip models of each
    arm (``size_control`` has one list per draw)."""

    scheme: str
    partition: str
    test: list[str]
    neighbours: list[str]
    exposed_events: list[str]
    purged: list[str]
    controls: list[list[str]]
    control_cells: list[int]
    neighbour_cells: int


@dataclass(frozen=True)
class SlipModels:
    """What the plans need of every slip model: its cells, earthquake and group."""

    rows: dict[str, int]
    positives: dict[str, int]
    event_of: dict[str, str]
    group_of: dict[str, str]  # at the grouped scheme's level (physical, sequence, ...)


def slip_models(cells: Cells, splits: dict[str, Any]) -> SlipModels:
    """Cells per slip model from ``cells``; groups at the level the grouped partitions
    were drawn by (``splits['units']['grouped']``), as the split stage defined them."""
    names = [str(name) for name in cells.slip_model.names]
    counts = np.bincount(cells.slip_model.codes, minlength=len(names))
    positives = np.bincount(cells.slip_model.codes, weights=cells.labels, minlength=len(names))
    level = splits["units"]["grouped"]
    if level == "sequence":
        group_of = {name: sequence_of(name) for name in names}
    elif level in ("spatiotemporal", "physical"):
        groups = (splits.get(level) or {}).get("groups") or {}
        missing = [name for name in names if name not in groups]
        if missing:
            raise InputError(f"splits: no {level} group for {missing[:3]}; rerun the "
                             "split stage")
        group_of = {name: str(groups[name]) for name in names}
    else:
        raise InputError(f"splits: grouped partitions by {level!r}; the leakage experiment "
                         "needs physical, sequence or spatiotemporal groups")
    return SlipModels(rows={n: int(c) for n, c in zip(names, counts, strict=True)},
                      positives={n: int(c) for n, c in zip(names, positives, strict=True)},
                      event_of={name: event_of(name) for name in names}, group_of=group_of)


def plan_partition(
    scheme: str, partition: str, test: list[str], models: SlipModels, draws: int,
) -> Plan:
    """The arms of one partition."""
    rows, group_of = models.rows, models.group_of
    train = sorted(set(rows) - set(test))
    near = neighbours(train, test, group_of)
    near_set = set(near)
    near_cells = sum(rows[name] for name in near)
    others = [name for name in train if name not in near_set]
    rng = np.random.default_rng([partition_seed(partition), 7919])
    controls = [size_control(others, rows, near_cells, rng) for _ in range(draws)] if near else []
    return Plan(
        scheme=scheme, partition=partition, test=list(test), neighbours=near,
        exposed_events=exposed_events(train, test, group_of, models.event_of),
        purged=others,
        controls=[[name for name in train if name not in set(removed)] for removed in controls],
        control_cells=[sum(rows[name] for name in removed) for removed in controls],
        neighbour_cells=near_cells,
    )


def too_few_cells(plan: Plan, models: SlipModels) -> str | None:
    """Why an arm of ``plan`` cannot be fitted (too few cells of a class), or None."""
    for arm, train in (("purged", plan.purged),
                       *(("size_control", c) for c in plan.controls)):
        positives = sum(models.positives[name] for name in train)
        negatives = sum(models.rows[name] for name in train) - positives
        if min(positives, negatives) < MIN_CLASS_CELLS:
            return (f"the {arm} training set holds {positives} positive and {negatives} "
                    f"negative cells; a fit needs at least {MIN_CLASS_CELLS} of each")
    return None


def fit_and_score(
    method_name: str, settings: Settings | None, cells: Cells, train: list[str],
    test_rows: np.ndarray, seed: int,
) -> np.ndarray:
    """Fit on the cells of ``train`` slip models; float32 scores of ``test_rows``."""
    method = create(method_name, settings)
    method.fit(cells, cells.slip_model.rows(train), seed)
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
    return {
        "all": pooled_auc(labels, scores),
        "exposed": pooled_auc(labels[exposed], scores[exposed])
        if exposed.any() and labels[exposed].any() and not labels[exposed].all() else None,
        "unexposed": pooled_auc(labels[~exposed], scores[~exposed])
        if (~exposed).any() and labels[~exposed].any() and not labels[~exposed].all() else None,
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
    controls: list[np.ndarray], replicates: int, seed: int, level: float,
) -> dict[str, Any]:
    """AUCs of the three arms on the same test cells (``rows``, which the score arrays
    follow), the effects, and their paired cluster-bootstrap intervals over test
    earthquakes."""
    labels = cells.labels[rows]
    events = cells.event.codes[rows]
    exposed_codes = [i for i, name in enumerate(cells.event.names)
                     if name in set(plan.exposed_events)]
    exposed = np.isin(events, exposed_codes)
    finite = [np.isfinite(a) for a in (as_split, purged, *controls)]
    scored, unscored = np.all(finite, axis=0), ~np.any(finite, axis=0)
    if not (scored | unscored).all():
        raise InputError(f"{plan.scheme}/{plan.partition}: {int((~scored & ~unscored).sum())} "
                         "test cells scored by some arms only; the arms must score the same "
                         "cells")
    # cells no arm scores (e.g. slip models a method leaves out) drop from every arm alike
    labels, events, exposed = labels[scored], events[scored], exposed[scored]
    as_split, purged = as_split[scored], purged[scored]
    controls = [c[scored] for c in controls]
    names = cells.event.names
    aucs = {"as_split": arm_aucs(labels, as_split, events, names, exposed),
            "purged": arm_aucs(labels, purged, events, names, exposed),
            "size_control": average_aucs([arm_aucs(labels, c, events, names, exposed)
                                          for c in controls])}
    effect = difference(aucs["size_control"], aucs["purged"])
    event_labels = names[events]
    intervals = {}
    for subset, mask in (("all", np.ones_like(exposed)), ("exposed", exposed),
                         ("unexposed", ~exposed)):
        if effect[subset] is None:
            intervals[subset] = None
            continue
        earthquakes = len(np.unique(events[mask]))
        if earthquakes < MIN_EARTHQUAKES:  # resampling one earthquake gives no interval
            intervals[subset] = {"ci": None, "earthquakes": earthquakes,
                                 "note": f"fewer than {MIN_EARTHQUAKES} test earthquakes"}
            continue
        boot = cluster_bootstrap(labels[mask], np.stack(controls)[:, mask], event_labels[mask],
                                 scores_b=purged[mask], replicates=replicates, seed=seed,
                                 level=level)
        intervals[subset] = {"ci": boot["ci"], "se": boot["se"], "earthquakes": boot["groups"],
                             "unit": "test earthquake (paired cluster bootstrap)"}
    return {
        "scored_test_cells": int(scored.sum()),
        "unscored_test_cells": int(unscored.sum()),
        "aucs": aucs,
        "effect": effect,  # size_control - purged
        "effect_ci": intervals,
        "as_split_minus_purged": difference(aucs["as_split"], aucs["purged"]),
    }


def partition_record(plan: Plan, models: SlipModels) -> dict[str, Any]:
    """What a partition's arms held (the audit trail of the measurement)."""
    shares = [c / plan.neighbour_cells for c in plan.control_cells] if plan.neighbour_cells else []
    test_cells = sum(models.rows[name] for name in plan.test)
    return {
        "test_slip_models": len(plan.test),
        "test_cells": test_cells,
        "train_cells": sum(models.rows.values()) - test_cells,
        "neighbours": plan.neighbours,
        "neighbour_cells": plan.neighbour_cells,
        "exposed_events": plan.exposed_events,
        # the group each exposed earthquake is tested in (leakage_summary's unit)
        "exposed_event_groups": {
            event: next(models.group_of[name] for name in plan.test
                        if models.event_of[name] == event)
            for event in plan.exposed_events},
        "control_cells": plan.control_cells,
        "control_share_of_neighbour_cells": [round(s, 4) for s in shares],
    }


def measure_leakage(
    method_name: str, settings: Settings | None, cells: Cells, splits: dict[str, Any],
    stored_scores: Any, leakage: LeakageParams, compute: ComputeParams, level: float = 0.95,
) -> dict[str, Any]:
    """Every measured partition: its arms, effects with intervals, or why nothing was
    measured. ``stored_scores`` are the evaluation stage's test scores (the as_split arm)."""
    models = slip_models(cells, splits)
    plans = [plan_partition(scheme, partition, test, models, leakage.control_draws)
             for scheme in SCHEMES_MEASURED
             for partition, test in splits["schemes"].get(scheme, {}).items()]
    fitted = spec(method_name).fitted
    unfit = {id(plan): too_few_cells(plan, models) if fitted else None for plan in plans}
    measured = [plan for plan in plans if plan.exposed_events and unfit[id(plan)] is None]
    rows = {id(plan): scored_rows(cells, plan, leakage.test_auc_negatives) for plan in measured}
    tasks = [(method_name, settings, cells, train, rows[id(plan)],
              partition_seed(plan.partition))
             for plan in measured for train in (plan.purged, *plan.controls)]
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
            record["measured"] = True
            record.update(measure_partition(plan, cells, sampled,
                                            stored[np.searchsorted(test_rows, sampled)],
                                            purged, controls,
                                            leakage.bootstrap_replicates,
                                            leakage.seed + partition_seed(plan.partition),
                                            level))
        result.setdefault(plan.scheme, {})[plan.partition] = record
    return result


def leakage_stage(
    params: dict[str, Any], method: str, features: Path, splits: Path, scores: Path,
    out: Path,
) -> None:
    """Leakage on matched test sets: fit without the test set's neighbours and without as
    many other cells, score the same test cells.

    inputs:  features, splits; scores (npz): the evaluation stage's test scores of
             ``method`` (the as-split arm); method: one of the registry's methods.
    outputs: out (JSON): scheme (paper, leaky) -> partition -> neighbours, exposed test
             earthquakes, AUCs of each arm (all, exposed, unexposed, per earthquake), the
             effect size_control - purged with paired cluster-bootstrap intervals over test
             earthquakes, and as_split - purged; or why the partition was not measured.
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
                     "test_cells_scored": "every test cell"
                     if leakage.test_auc_negatives is None else
                     f"every positive test cell and at most {leakage.test_auc_negatives} "
                     "negative ones per partition, the same for every arm (seeded)",
                     "partitions": result})
    log.info("leakage of %s written to %s", method, out)
