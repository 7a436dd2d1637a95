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

The geometry is in ``demo_geometry``, the plan in ``demo_plan``, the labels and truth in
``demo_labels``; this module writes the layout.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..atomic import atomic_file, json_text
from ..params import DemoParams
from ..progress import progress, timed
from .demo_geometry import cell_keys, cells_2d, cells_3d
from .demo_labels import TRUTH_PARTS, demo_truth, event_labels, sequence_seed_of
from .demo_plan import DemoPlan, SequencePlan, SlipModelPlan, count_cells, plan_demo
from .dislocation import stress_change
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
# events.csv: the demo's frame (easting, northing in metres, false easting 500 km) laid along
# the equator of a sphere of this radius (frame_to_degrees); later earthquakes of a sequence
# follow the previous one after an exponential wait of this mean
EARTH_RADIUS_M = 6_371_008.8
FALSE_EASTING_M = 500_000.0
FOLLOW_ON_MEAN_DAYS = 30.0


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
    keys = cell_keys(index)
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
