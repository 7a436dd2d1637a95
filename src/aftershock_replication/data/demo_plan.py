"""The demo's plan: the structure, names and geometry of every slip model (sequences,
earthquakes, authors' variants, slip) and the paper-like split, drawn from the seed
without computing a stress."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..params import DemoParams
from .demo_geometry import CELL_M, DEPTHS_M, Rupture, cells_2d

# 2 x 3 patches (12 triangles): a third of the dislocation cost of 3 x 6, so the full-size
# demo (6.1 million cells) is made in minutes; the slip still varies along strike and dip
PATCHES_DOWN_DIP, PATCHES_ALONG_STRIKE = 2, 3
# Region-year sequence sizes (slip models per sequence) in the original analysis: 199 slip
# models in 105 sequences (from the published split, ../shared/samples/paper_split_names.csv).
ORIGINAL_SEQUENCE_SIZES = {1: 60, 2: 24, 3: 8, 4: 5, 5: 5, 6: 1, 7: 1, 9: 1}
TEST_SHARE = 0.3  # the paper's split: 57 of 199 slip models in the test set


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


def count_cells(plan: DemoPlan) -> int:
    """Total number of grid cells the plan will write (for size checks without stresses)."""
    return sum(
        len(cells_2d(model.rupture, plan.scale.buffer_m)) * DEPTHS_M.size
        for _, _, model in plan.slip_models()
    )
