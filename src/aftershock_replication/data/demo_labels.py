"""The demo's labels and planted truth: per earthquake, aftershock cells drawn once from a
logistic model of a common stress function, a transferable component and a shared
(leakable) one; the truth the verdicts are scored against (the model: ``demo``)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from .. import stress as stress_metrics
from ..params import DemoParams
from .demo_geometry import cell_keys, cells_2d, cells_3d
from .demo_plan import DemoPlan, EventPlan, SequencePlan, plan_demo
from .dislocation import stress_change

FIELD_FEATURES = 64  # random Fourier features of the smooth spatial field
FIELD_SCALE_M = (20_000.0, 20_000.0, 10_000.0)
# the sequence's response to stress varies over about this many decades of each |sigma_ij|
RESPONSE_SCALE_LOG10 = 1.5
# the transferable component: log10 of (|sigma_xz| + |sigma_yz|) / |sigma_xy| in units of
# this many decades, its spread over the small demo's cells (sd 0.39 decades; correlation
# with log10 maximum shear 0.01 on average over earthquakes), so strength 1 is about one
# logit unit per standard deviation
TRANSFER_SCALE_LOG10 = 0.4
MAGNITUDE_FLOOR_PA = 1e3  # below ~1 kPa a stress change is noise: magnitudes floored there


def _smooth_field(rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """A smooth Gaussian random field (random Fourier features), standardised on ``centres``."""
    frequencies = rng.normal(size=(FIELD_FEATURES, 3)) / np.array(FIELD_SCALE_M)
    phases = rng.uniform(0, 2 * np.pi, FIELD_FEATURES)
    values = np.cos(centres @ frequencies.T + phases).sum(axis=1)
    return (values - values.mean()) / (values.std() + 1e-12)


def sequence_response(rng: np.random.Generator, tensors: np.ndarray) -> np.ndarray:
    """The region's own response to stress: a smooth random function, drawn once per
    sequence (``rng``), of the six stress-change magnitudes the models see
    (log10 |sigma_ij|), standardised over the given cells.

    It is the same function for every earthquake of the sequence and unrelated between
    sequences, so a model learns it only from the sequence's other earthquakes: the leak.
    """
    magnitudes = np.log10(np.abs(tensors) + MAGNITUDE_FLOOR_PA)
    frequencies = rng.normal(size=(FIELD_FEATURES, tensors.shape[1])) / RESPONSE_SCALE_LOG10
    phases = rng.uniform(0, 2 * np.pi, FIELD_FEATURES)
    return _standardise(np.cos(magnitudes @ frequencies.T + phases).sum(axis=1))


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-12)


def _intercept_for_rate(linear: np.ndarray, rate: float) -> float:
    """Intercept a with mean(sigmoid(a + linear)) == rate (bisection; monotone in a)."""
    low, high = -40.0, 40.0
    for _ in range(80):
        middle = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(middle + linear)))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def transferable_signal(tensors: np.ndarray) -> np.ndarray:
    """The transferable component: one fixed function of the stress-change tensor for every
    earthquake, log10 (|sigma_xz| + |sigma_yz|) - log10 |sigma_xy| (floored at
    ``MAGNITUDE_FLOOR_PA``) in units of ``TRANSFER_SCALE_LOG10``. A ratio, so nearly
    independent of the change's size, which is all that maximum shear, von Mises and the
    summed magnitudes measure; a model of the components learns it from any earthquake."""
    xy, xz, yz = (np.abs(tensors[:, stress_metrics.COMPONENTS.index(name)])
                  for name in ("xy", "xz", "yz"))
    return (np.log10(xz + yz + MAGNITUDE_FLOOR_PA) - np.log10(xy + MAGNITUDE_FLOOR_PA)) \
        / TRANSFER_SCALE_LOG10


@dataclass
class EventLabels:
    """One earthquake's aftershock counts per positive lattice cell, and on all its cells
    the parts of the linear predictor the labels were drawn from (the truth)."""

    counts: dict[int, int]
    truth: dict[str, np.ndarray]  # TRUTH_PARTS, float32, one value per cell of the earthquake


# parts of an earthquake's linear predictor, saved per cell to score verdicts against:
# the label, the generating probability, the common stress part (slope x maximum shear),
# the transferable part and the shared (leakable) part
TRUTH_PARTS = ("label", "probability", "stress", "transferable", "shared")


def event_labels(
    plan: DemoPlan, sequence: SequencePlan, event: EventPlan, sequence_seed: int,
) -> EventLabels:
    """Aftershock counts per lattice cell of one earthquake, drawn once for all its slip
    models (``counts``: {cell key: count} for positive cells only), and the truth."""
    index_2d = np.unique(
        np.concatenate([cells_2d(m.rupture, plan.scale.buffer_m) for m in event.slip_models]),
        axis=0,
    )
    index, centres = cells_3d(index_2d)
    if event.positive_rate == 0.0:
        return EventLabels({}, {})
    uniform = np.ones((1, 1))  # uniform slip: one rectangle is the same field as several
    reference = stress_change(centres, event.reference.patches(uniform))
    # one function of the stress tensor for every earthquake (maximum shear does not depend
    # on the frame or the fault's orientation): without the shared component below, no
    # earthquake tells a model more about another's labels than any other earthquake does
    driver = _standardise(np.log10(stress_metrics.max_shear(reference) + MAGNITUDE_FLOOR_PA))
    share = plan.params.sequence_share
    response = sequence_response(np.random.default_rng(sequence_seed), reference)
    event_rng = np.random.default_rng(
        np.random.SeedSequence([plan.params.seed, 2, *event.event_id.encode()])
    )
    own_field = _smooth_field(event_rng, centres)
    shared = math.sqrt(share) * response + math.sqrt(1.0 - share) * own_field
    parts = {"stress": event.stress_slope * driver,
             "transferable": plan.params.transferable * transferable_signal(reference),
             "shared": plan.params.leakage * shared}
    linear = parts["stress"] + parts["transferable"] + parts["shared"]
    intercept = _intercept_for_rate(linear, event.positive_rate)
    probability = 1.0 / (1.0 + np.exp(-(intercept + linear)))
    positive = event_rng.random(len(probability)) < probability
    counts = 1 + event_rng.poisson(0.8, size=int(positive.sum()))
    truth = {"label": positive, "probability": probability, **parts}
    return EventLabels(dict(zip(cell_keys(index[positive]).tolist(), counts.tolist(), strict=True)),
                       {name: np.asarray(truth[name], dtype=np.float32) for name in TRUTH_PARTS})


def demo_truth(per_event: dict[str, dict[str, np.ndarray]],
               multi_event: set[str]) -> dict[str, float | int | None]:
    """What the generator planted, measured on the earthquakes' cells (``per_event``: the
    ``EventLabels.truth`` of each earthquake; ``multi_event``: the earthquakes of sequences
    with more than one). Pooled AUCs (scikit-learn): of the generating probability; the
    gain from the transferable part (stress + transferable against stress alone); and, on
    the multi-earthquake sequences' cells, the gain from the shared part (all three
    against stress + transferable), the most that training with neighbours could add."""
    def pooled(names: list[str]) -> dict[str, np.ndarray]:
        return {part: np.concatenate([per_event[n][part] for n in names]) for part in TRUTH_PARTS}

    def auc(cells: dict[str, np.ndarray], *parts: str) -> float:
        return float(roc_auc_score(cells["label"] > 0, sum(cells[p].astype(np.float64)
                                                           for p in parts)))

    everything = pooled(sorted(per_event))
    truth: dict[str, float | int | None] = {
        "oracle_auc": auc(everything, "probability"),
        "stress_auc": auc(everything, "stress"),
        "transferable_gain": auc(everything, "stress", "transferable")
        - auc(everything, "stress"),
        "sequence_gain": None, "multi_event_earthquakes": len(multi_event & set(per_event)),
    }
    if truth["multi_event_earthquakes"]:
        related = pooled(sorted(multi_event & set(per_event)))
        truth["sequence_gain"] = (auc(related, "stress", "transferable", "shared")
                                  - auc(related, "stress", "transferable"))
    return truth


def sequence_seed_of(params: DemoParams, sequence: SequencePlan) -> int:
    """The seed of a sequence's own response to stress."""
    return int.from_bytes(
        hashlib.sha256(f"{params.seed}/{sequence.sequence_id}".encode()).digest()[:8], "little")


def planted_truth(params: DemoParams) -> dict[str, float | int | None]:
    """The truth ``generate_demo`` records, computed without writing the layout (for
    choosing the demo's strengths by a rule on the truth alone; README, "Calibration")."""
    plan = plan_demo(params)
    per_event = {}
    for sequence in plan.sequences:
        for event in sequence.events:
            labels = event_labels(plan, sequence, event, sequence_seed_of(params, sequence))
            if labels.truth:
                per_event[event.event_id] = labels.truth
    multi_event = {e.event_id for s in plan.sequences if len(s.events) > 1 for e in s.events}
    return demo_truth(per_event, multi_event)
