"""Synthetic demonstration data in the original layout, generated deterministically from a seed.

The generator mimics the structure that matters for the critique, not the geophysics in
detail:

* names ``YYYYNAMEnnAUTH``; region-year sequences whose sizes follow the original's
  group-size distribution; several slip models (authors) per earthquake that differ a little
  in geometry and slip but share the earthquake's one label set; some sequences with two or
  more nearby earthquakes (``01``, ``02``...) whose labelled cells overlap;
* 5 km cells within a buffer around each rupture, in depth layers centred at 2.5 ... 47.5 km,
  on a lattice shared by the region so that cells of related slip models coincide;
* the six stress-change components from the slip model's rectangular patches in an elastic
  half-space (``dislocation.py``); the derived columns of the original (maximum shear, von
  Mises, Coulomb stress on the mainshock plane under four sign conventions);
* labels drawn once per earthquake from a logistic model: an earthquake-specific intercept
  (setting its share of positive cells) and slope on the maximum shear stress change of
  the earthquake's reference rupture (one function of the stress for every earthquake),
  plus ``demo.transferable`` times a *transferable* component, plus ``demo.leakage`` times
  a shared component. The transferable component is one fixed function of the stress
  tensor for every earthquake that no untrained scalar metric represents: how much of the
  stress change shears horizontal planes (|sigma_xz| + |sigma_yz|) against vertical ones
  (|sigma_xy|), a ratio independent of the change's size. A model fitted on other
  sequences can learn it and then beat the stress metrics on held-out sequences; with
  ``demo.transferable: 0`` the untrained metrics are the best forecasts a model of the
  stress can make. A share ``demo.sequence_share`` of the shared component is
  the *sequence's response to stress*: a smooth random function of the six stress-change
  magnitudes the models see, one per region-year sequence. The rest is a smooth spatial
  field of the earthquake alone (shared by its slip models). A model can learn a
  sequence's response only from that sequence's other earthquakes, so training with them
  raises its score on the sequence's test earthquakes: leakage through the inputs. With
  ``demo.leakage: 0`` no label depends on anything but the common stress function, and no
  earthquake tells a model more about another than any other earthquake does;
* a paper-like split, random by earthquake (~70/30 by slip models), in the HDF5 file lists;
* one extra earthquake with no aftershock cells, which the feature stage must skip;
* ``events.csv``: each slip model's epicentre (its rupture's reference point, mapped from
  the demo's one frame to latitude and longitude) and its earthquake's origin time (a
  sequence's earthquakes follow its first within weeks, inside the year of their names);
* the truth, in ``DEMO_DATA.json`` (and so in ``metrics/features.json``): on the cells of
  all earthquakes, the AUC of the generating probability, the AUC a forecast gains from
  the transferable component (``transferable_gain``: stress and transferable parts of the
  linear predictor against the stress part alone), and on the cells of the earthquakes of
  multi-earthquake sequences the AUC it gains from knowing each sequence's own response
  (``sequence_gain``, the most a leak could give). A verdict can be scored right or wrong
  against them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sklearn.metrics import roc_auc_score

from .. import stress as stress_metrics
from ..atomic import atomic_file, json_text
from ..params import DemoParams
from ..progress import progress, timed
from .dislocation import Patches, rectangular_fault, stress_change
from .grid_table import grid_table
from .layout import (
    CSV_DIR,
    CSV_SUFFIX,
    DEMO_MARKER,
    EVENTS_CSV,
    FILE_LIST_DATASETS,
    FILE_LIST_NAMES,
    write_file_list,
)
from .partial import finish_partial, open_partial

log = logging.getLogger(__name__)

GENERATOR_VERSION = "6"
CELL_M = 5_000.0
DEPTHS_M = np.arange(2_500.0, 50_000.0, 5_000.0)  # layer centroids 2.5 ... 47.5 km
# 2 x 3 patches (12 triangles): a third of the dislocation cost of 3 x 6, so the full-size
# demo (6.1 million cells) is made in minutes; the slip still varies along strike and dip
PATCHES_DOWN_DIP, PATCHES_ALONG_STRIKE = 2, 3
# Region-year sequence sizes (slip models per sequence) in the original analysis: 199 slip
# models in 105 sequences (from the published split, ../shared/samples/paper_split_names.csv).
ORIGINAL_SEQUENCE_SIZES = {1: 60, 2: 24, 3: 8, 4: 5, 5: 5, 6: 1, 7: 1, 9: 1}
TEST_SHARE = 0.3  # the paper's split: 57 of 199 slip models in the test set
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
# events.csv: the demo's frame (easting, northing in metres, false easting 500 km) laid along
# the equator of a sphere of this radius (frame_to_degrees); later earthquakes of a sequence
# follow the previous one after an exponential wait of this mean
EARTH_RADIUS_M = 6_371_008.8
FALSE_EASTING_M = 500_000.0
FOLLOW_ON_MEAN_DAYS = 30.0


@dataclass(frozen=True)
class DemoScale:
    """Size preset: number of analysed slip models and the rupture/buffer dimensions."""

    slip_models: int
    buffer_m: float
    length_median_m: float
    length_sigma: float
    length_max_m: float
    # chance that a further slip model of a sequence is a new earthquake: 0.3 gives the
    # published proportion (135 earthquakes of 199 slip models in 105 sequences, 20 of them
    # with several earthquakes); the small demo (and a number of slip models, which keeps
    # its geometry) raises it to 0.7, so that its ~60 slip models
    # hold about ten multi-earthquake sequences (instead of ~five), enough exposed test
    # earthquakes for the leakage experiment to measure (README, "Calibration and power")
    extra_event_probability: float


SCALES = {
    # whole pipeline within a few minutes on 2 cores (~0.2 million cells)
    "small": DemoScale(60, 40_000.0, 40_000.0, 0.5, 150_000.0, 0.7),
    # the original's scale: 199 slip models, 100 km buffer, ~6.1 million cells (5.7-6.6 M
    # over generator seeds; 6.12 M for seed 2018)
    "full": DemoScale(199, 100_000.0, 145_000.0, 0.55, 1_200_000.0, 0.3),
}


def scale_for(size: str | int) -> DemoScale:
    """The preset for ``demo.size``; an integer keeps the small geometry with that many models."""
    if isinstance(size, str):
        return SCALES[size]
    small = SCALES["small"]
    return DemoScale(size, small.buffer_m, small.length_median_m, small.length_sigma,
                     small.length_max_m, small.extra_event_probability)


@dataclass(frozen=True)
class Rupture:
    """A planar rupture in region-local metres (x east, y north, z up)."""

    x: float
    y: float
    top_depth: float
    strike: float
    dip: float
    rake: float
    length: float
    width: float

    def patches(self, slip: np.ndarray) -> Patches:
        return rectangular_fault(
            (self.x, self.y, -self.top_depth), self.strike, self.dip, self.rake,
            self.length, self.width, slip,
        )


@dataclass
class SlipModelPlan:
    name: str
    rupture: Rupture
    slip: np.ndarray  # (PATCHES_DOWN_DIP, PATCHES_ALONG_STRIKE) metres


@dataclass
class EventPlan:
    event_id: str
    reference: Rupture
    positive_rate: float
    stress_slope: float
    slip_models: list[SlipModelPlan] = field(default_factory=list)


@dataclass
class SequencePlan:
    sequence_id: str
    origin: tuple[float, float]  # UTM-like easting/northing of the region's lattice origin
    events: list[EventPlan] = field(default_factory=list)


@dataclass
class DemoPlan:
    params: DemoParams
    scale: DemoScale
    sequences: list[SequencePlan]
    test_events: set[str]

    def slip_models(self) -> list[tuple[SequencePlan, EventPlan, SlipModelPlan]]:
        return [(s, e, m) for s in self.sequences for e in s.events for m in e.slip_models]


# ----------------------------------------------------------------------------- planning


def _sequence_sizes(rng: np.random.Generator, total: int, exact: bool) -> list[int]:
    """Slip models per sequence: the original multiset at full size, else drawn from it."""
    if exact:
        sizes = [size for size, count in ORIGINAL_SEQUENCE_SIZES.items() for _ in range(count)]
        rng.shuffle(sizes)
        return sizes
    values = np.array(list(ORIGINAL_SEQUENCE_SIZES))
    weights = np.array(list(ORIGINAL_SEQUENCE_SIZES.values()), dtype=float)
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(int(min(rng.choice(values, p=weights / weights.sum()), total - sum(sizes))))
    return sizes


def _code(rng: np.random.Generator, letters: int, pad_to: int) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPRSTUVWYZ"))
    core = "".join(rng.choice(alphabet, size=letters))
    return core + "x" * (pad_to - letters)


def _mechanism(rng: np.random.Generator) -> tuple[float, float]:
    """Dip and rake of a strike-slip, thrust or normal earthquake."""
    kind = rng.choice(3, p=[0.4, 0.45, 0.15])
    if kind == 0:
        return float(rng.uniform(70, 90)), float(rng.choice([0.0, 180.0]) + rng.normal(0, 15))
    if kind == 1:
        return float(rng.uniform(12, 40)), float(90 + rng.normal(0, 15))
    return float(rng.uniform(40, 65)), float(-90 + rng.normal(0, 15))


def _width(rng: np.random.Generator, length: float, dip: float) -> float:
    seismogenic_depth = 22_000.0 if dip > 45 else 45_000.0
    down_dip_limit = seismogenic_depth / math.sin(math.radians(dip))
    return float(min(length * rng.uniform(0.3, 0.6), down_dip_limit))


def _first_rupture(rng: np.random.Generator, scale: DemoScale) -> Rupture:
    length = float(
        np.clip(scale.length_median_m * rng.lognormal(0.0, scale.length_sigma), 10_000.0,
                scale.length_max_m)
    )
    dip, rake = _mechanism(rng)
    return Rupture(
        x=float(rng.uniform(-CELL_M, CELL_M)), y=float(rng.uniform(-CELL_M, CELL_M)),
        top_depth=float(rng.uniform(500.0, 5_000.0)), strike=float(rng.uniform(0, 360)),
        dip=dip, rake=rake, length=length, width=_width(rng, length, dip),
    )


def _nearby_rupture(rng: np.random.Generator, parent: Rupture) -> Rupture:
    """Another earthquake of the same sequence, close to the first and of similar mechanism.

    Half are re-ruptures of nearly the same fault patch (as SRCMOD's ``02``/``03`` models of
    one region-year often are), half neighbouring events along strike, often smaller.
    """
    if rng.random() < 0.5:
        shift, length_factor = rng.normal(0.0, 0.1) * parent.length, rng.uniform(0.8, 1.05)
    else:
        shift, length_factor = rng.uniform(-0.6, 0.6) * parent.length, rng.uniform(0.4, 1.0)
    across = rng.normal(0.0, 2_000.0)
    phi = math.radians(parent.strike)
    length = parent.length * float(length_factor)
    dip = float(np.clip(parent.dip + rng.normal(0, 4), 10, 90))
    return Rupture(
        x=parent.x + shift * math.sin(phi) + across * math.cos(phi),
        y=parent.y + shift * math.cos(phi) - across * math.sin(phi),
        top_depth=float(np.clip(parent.top_depth + rng.normal(0, 1_000), 300.0, 8_000.0)),
        strike=parent.strike + float(rng.normal(0, 6)), dip=dip,
        rake=parent.rake + float(rng.normal(0, 8)), length=length,
        width=_width(rng, length, dip),
    )


def _author_variant(rng: np.random.Generator, reference: Rupture) -> Rupture:
    """Another author's inversion of the same earthquake: a little different geometry."""
    return Rupture(
        x=reference.x + float(rng.normal(0, 1_000)), y=reference.y + float(rng.normal(0, 1_000)),
        top_depth=float(np.clip(reference.top_depth + rng.normal(0, 500), 200.0, 9_000.0)),
        strike=reference.strike + float(rng.normal(0, 2)),
        dip=float(np.clip(reference.dip + rng.normal(0, 3), 10, 90)),
        rake=reference.rake + float(rng.normal(0, 5)),
        length=reference.length * float(rng.uniform(0.93, 1.07)),
        width=reference.width * float(rng.uniform(0.93, 1.07)),
    )


def _slip_distribution(rng: np.random.Generator, rupture: Rupture) -> np.ndarray:
    """A smooth slip distribution of 1-3 asperities; mean slip scales with rupture length."""
    u = (np.arange(PATCHES_ALONG_STRIKE) + 0.5) / PATCHES_ALONG_STRIKE
    v = (np.arange(PATCHES_DOWN_DIP) + 0.5) / PATCHES_DOWN_DIP
    uu, vv = np.meshgrid(u, v)
    slip = np.full(uu.shape, 0.05)
    for _ in range(int(rng.integers(1, 4))):
        cu, cv = rng.uniform(0.15, 0.85), rng.uniform(0.2, 0.8)
        su, sv = rng.uniform(0.15, 0.4), rng.uniform(0.2, 0.5)
        slip += rng.uniform(0.5, 1.0) * np.exp(-((uu - cu) / su) ** 2 - ((vv - cv) / sv) ** 2)
    mean_slip = 2.0e-5 * rupture.length * float(rng.uniform(0.7, 1.3))
    return slip * mean_slip / slip.mean()


def _author_slip(rng: np.random.Generator, event_slip: np.ndarray, scale: float) -> np.ndarray:
    """One author's slip distribution: the earthquake's, perturbed patch by patch (~20 %)."""
    return event_slip * scale * rng.lognormal(0.0, 0.2, size=event_slip.shape)


def plan_demo(params: DemoParams) -> DemoPlan:
    """Draw the structure, names and geometry of every slip model (cheap: no stresses)."""
    scale = scale_for(params.size)
    rng = np.random.default_rng(np.random.SeedSequence([params.seed, 1]))
    sizes = _sequence_sizes(rng, scale.slip_models, exact=params.size == "full")
    sizes.append(1)  # the extra earthquake without aftershocks (skipped by the features stage)
    authors = sorted({_code(rng, int(rng.integers(2, 5)), 4) for _ in range(60)})
    used_sequences: set[str] = set()
    sequences: list[SequencePlan] = []
    for index, size in enumerate(sizes):
        while True:
            sequence_id = f"{int(rng.integers(1968, 2013))}{_code(rng, int(rng.integers(4, 7)), 6)}"
            if sequence_id not in used_sequences:
                used_sequences.add(sequence_id)
                break
        origin = (
            float(np.round(rng.uniform(200_000, 800_000) / CELL_M) * CELL_M),
            float(np.round(rng.uniform(500_000, 8_500_000) / CELL_M) * CELL_M),
        )
        n_events = 1 + int(rng.binomial(size - 1, scale.extra_event_probability)) if size > 1 else 1
        per_event = np.ones(n_events, dtype=int)
        weights = np.r_[2.0, np.ones(n_events - 1)]
        for extra in rng.choice(n_events, size=size - n_events, p=weights / weights.sum()):
            per_event[extra] += 1
        sequence = SequencePlan(sequence_id=sequence_id, origin=origin)
        no_aftershocks = index == len(sizes) - 1
        first = _first_rupture(rng, scale)
        for number, count in enumerate(per_event, start=1):
            reference = first if number == 1 else _nearby_rupture(rng, first)
            rate = 0.0 if no_aftershocks else float(
                np.clip(params.positive_rate * rng.lognormal(-0.125, 0.5), 0.002, 0.15)
            )
            event = EventPlan(
                event_id=f"{sequence_id}{number:02d}", reference=reference, positive_rate=rate,
                stress_slope=float(rng.lognormal(math.log(1.3), 0.35)),
            )
            event_slip = _slip_distribution(rng, reference)
            for author in rng.choice(authors, size=count, replace=False):
                rupture = _author_variant(rng, reference)
                event.slip_models.append(SlipModelPlan(
                    name=f"{event.event_id}{author}", rupture=rupture,
                    slip=_author_slip(rng, event_slip, rupture.length / reference.length),
                ))
            sequence.events.append(event)
        sequences.append(sequence)
    return DemoPlan(params, scale, sequences, _paper_like_split(rng, sequences))


def _paper_like_split(rng: np.random.Generator, sequences: list[SequencePlan]) -> set[str]:
    """Random by earthquake, as the paper did: whole earthquakes to test until ~30 % of models."""
    events = [event for sequence in sequences for event in sequence.events]
    total = sum(len(event.slip_models) for event in events)
    target = round(TEST_SHARE * total)
    test: set[str] = set()
    count = 0
    for position in rng.permutation(len(events)):
        event = events[position]
        if count + len(event.slip_models) <= target:
            test.add(event.event_id)
            count += len(event.slip_models)
    return test


# ----------------------------------------------------------------------------- cells


def cells_2d(rupture: Rupture, buffer_m: float) -> np.ndarray:
    """Lattice indices (n, 2) of the 5 km cells within ``buffer_m`` of the rupture's map view."""
    phi, delta = math.radians(rupture.strike), math.radians(rupture.dip)
    along = np.array([math.sin(phi), math.cos(phi)])
    across = np.array([math.cos(phi), -math.sin(phi)])  # horizontal down-dip direction
    half = rupture.length / 2.0
    projected_width = rupture.width * math.cos(delta)
    corners = np.array([[rupture.x, rupture.y]]) + np.array(
        [a * along + b * across for a in (-half, half) for b in (0.0, projected_width)]
    )
    low = np.floor((corners.min(0) - buffer_m) / CELL_M).astype(int)
    high = np.ceil((corners.max(0) + buffer_m) / CELL_M).astype(int)
    ii, jj = np.meshgrid(np.arange(low[0], high[0]), np.arange(low[1], high[1]), indexing="ij")
    index = np.stack([ii.ravel(), jj.ravel()], axis=1)
    centres = (index + 0.5) * CELL_M - np.array([rupture.x, rupture.y])
    u, v = centres @ along, centres @ across
    du = np.maximum(np.abs(u) - half, 0.0)
    dv = np.maximum(np.maximum(-v, v - projected_width), 0.0)
    return index[np.hypot(du, dv) <= buffer_m]


def cells_3d(index_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell lattice indices (n, 3) over all depth layers and their centres (n, 3), metres."""
    layers = np.arange(DEPTHS_M.size)
    index = np.concatenate(
        [np.c_[index_2d, np.full(len(index_2d), k)] for k in layers], axis=0
    )
    centres = np.c_[(index[:, :2] + 0.5) * CELL_M, -DEPTHS_M[index[:, 2]]]
    return index, centres


def _keys(index: np.ndarray) -> np.ndarray:
    """Pack lattice indices (each within +-2**20; depth layer < 16) into unique int64 keys."""
    shifted = index.astype(np.int64) + np.array([1 << 20, 1 << 20, 0])
    return (shifted[:, 0] << 26) | (shifted[:, 1] << 4) | shifted[:, 2]


def count_cells(plan: DemoPlan) -> int:
    """Total number of grid cells the plan will write (for size checks without stresses)."""
    return sum(
        len(cells_2d(model.rupture, plan.scale.buffer_m)) * DEPTHS_M.size
        for _, _, model in plan.slip_models()
    )


# ----------------------------------------------------------------------------- labels


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
    return EventLabels(dict(zip(_keys(index[positive]).tolist(), counts.tolist(), strict=True)),
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


# ----------------------------------------------------------------------------- writing


def frame_to_degrees(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of points of the demo's frame, laid along the equator: the
    northing runs east along it and the easting north of it, as arc lengths (an
    equirectangular map). The east-west scale is the cosine of the latitude; the demo's
    eastings lie within ~400 km of the false easting (3.6 deg), so distances are kept to
    within 1 - cos(3.6 deg) = 0.2 %."""
    latitude = (easting - FALSE_EASTING_M) / EARTH_RADIUS_M
    longitude = northing / EARTH_RADIUS_M
    return np.degrees(latitude), np.degrees(longitude)


def demo_events(plan: DemoPlan) -> pa.Table:
    """``events.csv`` of the demo: epicentre per slip model and origin time per earthquake.

    Times come from their own random stream, so adding them changed no CSV of the demo."""
    rng = np.random.default_rng(np.random.SeedSequence([plan.params.seed, 4]))
    names, eastings, northings, times = [], [], [], []
    for sequence in plan.sequences:
        year = int(sequence.sequence_id[:4])
        start = np.datetime64(f"{year}-01-01T00:00:00", "s")
        end = np.datetime64(f"{year + 1}-01-01T00:00:00", "s") - np.timedelta64(1, "s")
        when = start + np.timedelta64(int(rng.uniform(0, 0.6) * 365 * 86_400), "s")
        for number, event in enumerate(sequence.events):
            if number:
                wait = np.timedelta64(int(rng.exponential(FOLLOW_ON_MEAN_DAYS) * 86_400), "s")
                when = min(when + wait, end)
            for model in event.slip_models:
                names.append(model.name)
                eastings.append(model.rupture.x + sequence.origin[0])
                northings.append(model.rupture.y + sequence.origin[1])
                times.append(f"{when}Z")
    latitude, longitude = frame_to_degrees(np.array(eastings), np.array(northings))
    return pa.table({"slip_model": names, "latitude": np.round(latitude, 5),
                     "longitude": np.round(longitude, 5), "time": times})


def slip_model_table(
    plan: DemoPlan, sequence: SequencePlan, model: SlipModelPlan, labels: dict[int, int]
) -> pa.Table:
    """All columns of one slip model's CSV, in the original's (non-analysis) column order."""
    index, centres = cells_3d(cells_2d(model.rupture, plan.scale.buffer_m))
    tensors = stress_change(centres, model.rupture.patches(model.slip))
    keys = _keys(index)
    counts = np.fromiter((labels.get(key, 0) for key in keys.tolist()), dtype=np.int64,
                         count=len(keys))
    return grid_table(
        [f"{-z:.1f}_{i}" for i, z in enumerate(centres[:, 2])],
        centres[:, 0] + sequence.origin[0], centres[:, 1] + sequence.origin[1], centres[:, 2],
        tensors, (model.rupture.strike, model.rupture.dip, model.rupture.rake), counts)


def _fingerprint(params: DemoParams) -> str:
    payload = json.dumps({"generator": GENERATOR_VERSION, **asdict(params)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


TRUTH_DIR = ".truth"  # per-earthquake truth arrays inside the partial directory
STAMP = "demo-fingerprint"  # the params' fingerprint inside the partial directory


def generate_demo(params: DemoParams, out_dir: Path) -> dict[str, object]:
    """Write the demo layout to ``out_dir`` and return a summary of what was generated.

    Work goes to ``<out_dir>.partial`` one complete CSV at a time (each earthquake's truth
    arrays first, in ``.truth/``); an interrupted run with the same params resumes there,
    and ``out_dir`` appears only when everything is written.
    """
    out_dir = Path(out_dir)
    partial = open_partial(out_dir, STAMP, _fingerprint(params), "params")
    (partial / CSV_DIR).mkdir(exist_ok=True)
    (partial / TRUTH_DIR).mkdir(exist_ok=True)

    with timed("planning the demo slip models"):
        plan = plan_demo(params)
    models = plan.slip_models()
    done = sum(1 for _, _, m in models if (partial / CSV_DIR / f"{m.name}{CSV_SUFFIX}").is_file())
    if done:
        log.info("resuming an interrupted generation: %d of %d CSV files already written",
                 done, len(models))
    with timed(f"generating {len(models)} synthetic slip models (seed {params.seed})"):
        work = [(s, e) for s in plan.sequences for e in s.events]
        for sequence, event in progress(work, total=len(work), desc="demo earthquakes"):
            targets = [partial / CSV_DIR / f"{m.name}{CSV_SUFFIX}" for m in event.slip_models]
            truth_file = partial / TRUTH_DIR / f"{event.event_id}.npz"
            if truth_file.is_file() and all(path.is_file() for path in targets):
                continue
            labels = event_labels(plan, sequence, event, sequence_seed_of(params, sequence))
            with atomic_file(truth_file) as temporary, temporary.open("wb") as handle:
                np.savez(handle, **labels.truth)
            for model, target in zip(event.slip_models, targets, strict=True):
                if target.is_file():
                    continue
                table = slip_model_table(plan, sequence, model, labels.counts)
                with atomic_file(target) as temporary:
                    pacsv.write_csv(
                        table, temporary,
                        write_options=pacsv.WriteOptions(quoting_style="needed"),
                    )
    file_names = {"train": [], "test": []}
    for _, event, model in models:
        role = "test" if event.event_id in plan.test_events else "train"
        file_names[role].append(f"{model.name}{CSV_SUFFIX}")
    order = np.random.default_rng(np.random.SeedSequence([params.seed, 3]))
    for role in ("train", "test"):
        names = file_names[role]
        shuffled = [names[i] for i in order.permutation(len(names))]
        write_file_list(partial / FILE_LIST_NAMES[role][0], FILE_LIST_DATASETS[role], shuffled)
    per_event = {}
    for event_file in sorted((partial / TRUTH_DIR).glob("*.npz")):
        with np.load(event_file) as arrays:
            if arrays.files:  # the earthquake without aftershocks has no truth
                per_event[event_file.stem] = {part: arrays[part] for part in TRUTH_PARTS}
    multi_event = {e.event_id for s in plan.sequences if len(s.events) > 1 for e in s.events}
    summary: dict[str, object] = {
        "source": "demo",
        "seed": params.seed,
        "size": params.size,
        "leakage": params.leakage,
        "sequence_share": params.sequence_share,
        "transferable": params.transferable,
        "positive_rate": params.positive_rate,
        "generator_version": GENERATOR_VERSION,
        "buffer_km": plan.scale.buffer_m / 1e3,
        "multi_earthquake_sequences": sum(1 for s in plan.sequences if len(s.events) > 1),
        "truth": demo_truth(per_event, multi_event),
        "slip_models": len(models),
        "earthquakes": sum(len(s.events) for s in plan.sequences),
        "sequences": len(plan.sequences),
        "cells": count_cells(plan),
        "train_slip_models": len(file_names["train"]),
        "test_slip_models": len(file_names["test"]),
    }
    pacsv.write_csv(demo_events(plan), partial / EVENTS_CSV)
    (partial / DEMO_MARKER).write_text(json_text(summary))
    finish_partial(partial, out_dir, (TRUTH_DIR, STAMP))
    return summary
