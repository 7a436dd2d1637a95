"""What the leakage stage fits per partition, decided before any fit: the test set's
neighbours (all, later), the exposed test earthquakes, the exact size-control draws, and
whether every arm has enough cells of each class (the arms: ``leakage``'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cells import Cells
from .evaluate import partition_seed
from .groups import grouped_level
from .names import event_of

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

