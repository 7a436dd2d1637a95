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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import read_json, write_json
from .auc import auc_sample, per_group_auc, pooled_auc
from .cells import Cells, load_cells
from .compute import run_tasks
from .errors import InputError
from .evaluate import partition_seed, score_key
from .groups import grouped_level
from .methods import Settings, create, spec
from .methods.params import LeakageParams, method_settings
from .names import event_of
from .params import ComputeParams
from .progress import timed
from .stage_io import Input, Output

log = logging.getLogger(__name__)

SCHEMES_MEASURED = ("paper", "leaky")  # where neighbours of the test set can be in training
MIN_CLASS_CELLS = 2  # cells of each class an arm's training set needs (the network: 2)
CONTROL_SEED = 7919  # mixed with the partition's seed: the size controls' own stream


def neighbours(train: list[str], test: list[str], group_of: dict[str, str]) -> list[str]:
    """Training slip models sharing a group with any test slip model (sorted)."""
    test_groups = {group_of[name] for name in test}
    return sorted(name for name in train if group_of[name] in test_groups)


def later_neighbours(
    near: list[str], test: list[str], group_of: dict[str, str],
    time_of: dict[str, float | None],
) -> list[str]:
    """The neighbours whose origin time is at or after that of the earliest test slip model
    of their group (sorted; the same earthquake under another name counts as later). A
    neighbour or test slip model without a known time counts as later: removing more
    neighbours cannot leak. With two test earthquakes in a group, the later one loses the
    neighbours between them too, which can only enlarge the later-neighbour effect."""
    earliest: dict[str, float] = {}
    for name in test:
        time = time_of.get(name)
        stamp = -np.inf if time is None else time
        earliest[group_of[name]] = min(earliest.get(group_of[name], np.inf), stamp)
    return sorted(name for name in near
                  if time_of.get(name) is None or time_of[name] >= earliest[group_of[name]])


def events_with_neighbours(
    kept: list[str], test: list[str], group_of: dict[str, str], event_of: dict[str, str],
) -> list[str]:
    """Test earthquakes whose group has a slip model in ``kept`` (sorted)."""
    groups = {group_of[name] for name in kept}
    return sorted({event_of[name] for name in test if group_of[name] in groups})


@dataclass(frozen=True)
class Control:
    """One size-control draw: the training cells it removes, whole slip models and, to
    match exactly, some positive and negative cells of further ones (chosen by ``seed``)."""

    removed: list[str]
    trimmed: dict[str, tuple[int, int]]  # slip model -> (positive, negative) cells removed
    cells: int
    positives: int
    seed: int

    def record(self) -> dict[str, int]:
        """What the draw removed (the audit trail)."""
        return {"cells": self.cells, "positives": self.positives,
                "whole_slip_models": len(self.removed),
                "trimmed_slip_models": len(self.trimmed),
                "trimmed_cells": sum(p + n for p, n in self.trimmed.values())}


def exact_size_control(
    candidates: list[str], rows: dict[str, int], positives: dict[str, int],
    target_cells: int, target_positives: int, rng: np.random.Generator,
) -> Control:
    """A random set of ``candidates``' cells (non-neighbour training slip models) holding
    exactly ``target_cells`` cells of which ``target_positives`` are positive: slip models
    are taken whole in random order while both counts stay within their targets; the rest
    is made up with cells of the slip models passed over, in the same order. Where the
    candidates hold too few cells of a class, as many as exist are taken (the achieved
    counts are recorded)."""
    want_positive, want_negative = target_positives, target_cells - target_positives
    removed: list[str] = []
    passed_over: list[str] = []
    got_positive = got_negative = 0
    for index in rng.permutation(len(candidates)):
        if got_positive == want_positive and got_negative == want_negative:
            break
        name = candidates[index]
        positive, negative = positives[name], rows[name] - positives[name]
        if got_positive + positive <= want_positive and got_negative + negative <= want_negative:
            removed.append(name)
            got_positive += positive
            got_negative += negative
        else:
            passed_over.append(name)
    trimmed: dict[str, tuple[int, int]] = {}
    for name in passed_over:
        positive = min(positives[name], want_positive - got_positive)
        negative = min(rows[name] - positives[name], want_negative - got_negative)
        if positive or negative:
            trimmed[name] = (positive, negative)
            got_positive += positive
            got_negative += negative
    return Control(removed=sorted(removed), trimmed=dict(sorted(trimmed.items())),
                   cells=got_positive + got_negative, positives=got_positive,
                   seed=int(rng.integers(2**31)))


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


@dataclass(frozen=True)
class Plan:
    """What one partition's leakage measurement fits: the training slip models of each
    arm (``controls``: one draw each; ``future_purged`` None without origin times)."""

    scheme: str
    partition: str
    test: list[str]
    neighbours: list[str]
    exposed_events: list[str]
    purged: list[str]
    controls: list[Control]
    neighbour_cells: int
    neighbour_positives: int
    later: list[str] = field(default_factory=list)
    future_purged: list[str] | None = None
    later_exposed_events: list[str] = field(default_factory=list)
    earlier_exposed_events: list[str] = field(default_factory=list)
    later_untimed: int = 0  # later only because a time is unknown (removed to be safe)

    def control_train(self, control: Control) -> list[str]:
        """The training slip models a size-control draw keeps (some of them trimmed)."""
        removed = set(control.removed)
        return [name for name in (*self.purged, *self.neighbours) if name not in removed]


@dataclass(frozen=True)
class SlipModels:
    """What the plans need of every slip model: its cells, earthquake, group and origin
    time (seconds since 1970; None where unknown)."""

    rows: dict[str, int]
    positives: dict[str, int]
    event_of: dict[str, str]
    group_of: dict[str, str]  # at the grouped scheme's level (physical, sequence, ...)
    time_of: dict[str, float | None] = field(default_factory=dict)


def origin_seconds(times: dict[str, str | None] | None, names: list[str]
                   ) -> dict[str, float | None]:
    """Origin time per slip model in seconds since 1970 from the splits' ISO texts; empty
    when none is known."""
    if not times or all(times.get(name) is None for name in names):
        return {}  # no time known: no future-only arm (every neighbour would count as later)
    stamps = {}
    for name in names:
        text = times.get(name)
        stamps[name] = None if text is None else float(
            np.datetime64(str(text).rstrip("Z"), "s").astype(np.int64))
    return stamps


def slip_models(cells: Cells, splits: dict[str, Any]) -> SlipModels:
    """Cells per slip model from ``cells``; groups at the level the grouped partitions
    were drawn by (``splits['units']['grouped']``) and origin times, as the split stage
    defined them."""
    names = [str(name) for name in cells.slip_model.names]
    counts = np.bincount(cells.slip_model.codes, minlength=len(names))
    positives = np.bincount(cells.slip_model.codes, weights=cells.labels, minlength=len(names))
    _, group_of = grouped_level(splits, names)
    return SlipModels(rows={n: int(c) for n, c in zip(names, counts, strict=True)},
                      positives={n: int(c) for n, c in zip(names, positives, strict=True)},
                      event_of={name: event_of(name) for name in names}, group_of=group_of,
                      time_of=origin_seconds(splits.get("origin_times"), names))


def plan_partition(
    scheme: str, partition: str, test: list[str], models: SlipModels, draws: int,
) -> Plan:
    """The arms of one partition."""
    rows, positives, group_of = models.rows, models.positives, models.group_of
    train = sorted(set(rows) - set(test))
    near = neighbours(train, test, group_of)
    near_set = set(near)
    others = [name for name in train if name not in near_set]
    near_cells = sum(rows[name] for name in near)
    near_positives = sum(positives[name] for name in near)
    rng = np.random.default_rng([partition_seed(partition), CONTROL_SEED])
    controls = [exact_size_control(others, rows, positives, near_cells, near_positives, rng)
                for _ in range(draws)] if near else []
    timed_arm: dict[str, Any] = {}
    if models.time_of:
        later = later_neighbours(near, test, group_of, models.time_of)
        earlier = [name for name in near if name not in set(later)]
        untimed_groups = {group_of[name] for name in test if models.time_of.get(name) is None}
        untimed = sum(1 for name in later if models.time_of.get(name) is None
                      or group_of[name] in untimed_groups)
        timed_arm = {
            "later": later,
            "future_purged": [name for name in train if name not in set(later)],
            "later_untimed": untimed,
            # by the arm's own (group) rule: the test earthquakes whose group lost neighbours
            "later_exposed_events": events_with_neighbours(later, test, group_of,
                                                           models.event_of),
            "earlier_exposed_events": events_with_neighbours(earlier, test, group_of,
                                                             models.event_of)}
    return Plan(
        scheme=scheme, partition=partition, test=list(test), neighbours=near,
        exposed_events=events_with_neighbours(train, test, group_of, models.event_of),
        purged=others, controls=controls, neighbour_cells=near_cells,
        neighbour_positives=near_positives, **timed_arm,
    )


def too_few_cells(plan: Plan, models: SlipModels) -> str | None:
    """Why an arm of ``plan`` cannot be fitted (too few cells of a class), or None."""
    def counts(train: list[str]) -> tuple[int, int]:
        positive = sum(models.positives[name] for name in train)
        return positive, sum(models.rows[name] for name in train) - positive

    arms = [("purged", *counts(plan.purged))]
    if plan.future_purged is not None:
        arms.append(("future_purged", *counts(plan.future_purged)))
    for control in plan.controls:
        positive, negative = counts(plan.control_train(control))
        trimmed_positive = sum(p for p, _ in control.trimmed.values())
        trimmed_negative = sum(n for _, n in control.trimmed.values())
        arms.append(("size_control", positive - trimmed_positive,
                     negative - trimmed_negative))
    for arm, positive, negative in arms:
        if min(positive, negative) < MIN_CLASS_CELLS:
            return (f"the {arm} training set holds {positive} positive and {negative} "
                    f"negative cells; a fit needs at least {MIN_CLASS_CELLS} of each")
    return None


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
