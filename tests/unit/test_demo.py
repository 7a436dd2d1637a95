"""The demo generator: structure faithful to the original, deterministic, resumable."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor

from aftershock_replication.data import demo, demo_labels, demo_plan
from aftershock_replication.data.demo_geometry import cell_keys, cells_2d, cells_3d
from aftershock_replication.data.dislocation import stress_change
from aftershock_replication.data.layout import CSV_DIR, DEMO_MARKER, open_layout
from aftershock_replication.names import event_of, sequence_of
from aftershock_replication.params import DemoParams
from aftershock_replication.stress import max_shear, sum_abs, von_mises
from helpers import SHARED_SAMPLES, TINY_DEMO

NAME = re.compile(r"^(19[6-9]\d|20[01]\d)[A-Zx]{6}\d{2}[A-Zx]{4}$")
FULL = DemoParams(seed=2018, size="full", leakage=1.0, sequence_share=0.8, positive_rate=0.02)


def _frames(root: Path) -> dict[str, pd.DataFrame]:
    layout = open_layout(root)
    return {name: pd.read_csv(layout.csv_path(name)) for name in layout.role_of}


def test_names_split_and_shared_labels(tiny_demo: Path) -> None:
    layout = open_layout(tiny_demo)
    roles = layout.role_of
    assert all(NAME.match(name) for name in roles), sorted(roles)
    # the paper's way: random by earthquake, so no earthquake straddles the split
    sides = {}
    for name, role in roles.items():
        assert sides.setdefault(event_of(name), role) == role
    frames = _frames(tiny_demo)
    events = Counter(event_of(name) for name in frames)
    shared = [event for event, count in events.items() if count > 1]
    assert shared, "the tiny demo should have an earthquake with several slip models"
    for event in shared:
        first, second = [frames[n] for n in sorted(frames) if event_of(n) == event][:2]
        merged = first.merge(second, on=["x", "y", "z"], suffixes=("_a", "_b"))
        assert len(merged) > 0.8 * min(len(first), len(second))  # nearly identical grids
        np.testing.assert_array_equal(merged.aftershocksyn_a, merged.aftershocksyn_b)
        # ...but different slip models: the stresses differ a little
        assert not np.allclose(merged.stresses_full_xx_a, merged.stresses_full_xx_b)
        log_shear = np.log10(merged[["stresses_full_max_shear_a", "stresses_full_max_shear_b"]])
        assert np.corrcoef(log_shear.T)[0, 1] > 0.8


def test_grid_depths_columns_and_derived_metrics(tiny_demo: Path) -> None:
    frame = next(iter(_frames(tiny_demo).values()))
    assert sorted(set(-frame.z / 1000)) == pytest.approx(np.arange(2.5, 50, 5))
    assert {"grid_id", "stresses_full_i1", "stresses_full_cfs_4", "von_mises"} <= set(frame)
    xs = np.unique(frame.x)
    assert np.allclose(np.diff(xs) % 5000, 0)  # 5 km lattice
    assert (frame.stresses_full_max_shear >= 0).all()
    # von Mises lies between sqrt(3) and 2 times the maximum shear for any tensor
    ratio = frame.von_mises / frame.stresses_full_max_shear
    assert ratio.between(np.sqrt(3) - 1e-6, 2 + 1e-6).all()
    assert frame.aftershocksyn.dtype.kind == "i" and frame.aftershocksyn.min() == 0


def test_interrupted_generation_resumes_to_identical_bytes(
    tiny_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "raw"
    original = demo.slip_model_table
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(demo, "slip_model_table", failing)
    with pytest.raises(KeyboardInterrupt):
        demo.generate_demo(TINY_DEMO, out)
    assert not out.exists()  # nothing half-written under the final path
    partial = tmp_path / ".raw.partial" / "AllCSV"
    assert len(list(partial.glob("*_grid.csv"))) == 2
    assert not list(partial.glob(".*tmp-*"))
    monkeypatch.setattr(demo, "slip_model_table", original)
    demo.generate_demo(TINY_DEMO, out)
    fresh = sorted(p.relative_to(tiny_demo) for p in tiny_demo.rglob("*") if p.is_file())
    resumed = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert fresh == resumed
    for relative in fresh:  # same params -> the same bytes, interrupted or not
        assert (tiny_demo / relative).read_bytes() == (out / relative).read_bytes(), relative
    assert not (tmp_path / ".raw.partial").exists()


def test_full_size_matches_the_original_scale() -> None:
    plan = demo_plan.plan_demo(FULL)
    models = [m for _, e, m in plan.slip_models() if e.positive_rate > 0]
    assert len(models) == 199
    sizes = Counter(Counter(sequence_of(m.name) for m in models).values())
    assert dict(sizes) == demo_plan.ORIGINAL_SEQUENCE_SIZES
    assert 120 <= len({event_of(m.name) for m in models}) <= 150  # original: 135
    cells = demo_plan.count_cells(plan)
    assert 5.8e6 < cells < 6.5e6, cells  # original: 6.12 million
    test_models = sum(len(e.slip_models) for s in plan.sequences for e in s.events
                      if e.event_id in plan.test_events)
    assert abs(test_models / len(plan.slip_models()) - 0.3) < 0.02
    straddling = [s for s in plan.sequences
                  if len({e.event_id in plan.test_events for e in s.events}) == 2]
    assert straddling, "some sequences should straddle the paper-like split, as in the original"


@pytest.mark.skipif(not (SHARED_SAMPLES / "paper_split_names.csv").is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_group_sizes_are_those_of_the_published_split() -> None:
    with (SHARED_SAMPLES / "paper_split_names.csv").open() as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    published = Counter(Counter(sequence_of(n) for n in names).values())
    assert dict(published) == demo_plan.ORIGINAL_SEQUENCE_SIZES


def test_nearby_events_have_overlapping_aftershock_cells() -> None:
    plan = demo_plan.plan_demo(DemoParams(seed=2, size=6, leakage=1.0, sequence_share=0.8,
                                          positive_rate=0.03))
    sequence = next(s for s in plan.sequences if len(s.events) > 1)
    first, second = (demo_labels.event_labels(plan, sequence, event, 123).counts
                     for event in sequence.events[:2])
    assert first and second
    assert set(first) & set(second)


def test_leakage_zero_removes_the_shared_signal() -> None:
    """With demo.leakage 0 the labels do not depend on the sequence's response at all."""
    params = DemoParams(seed=2, size=6, leakage=0.0, sequence_share=0.8, positive_rate=0.03)
    plan = demo_plan.plan_demo(params)
    sequence = plan.sequences[0]
    event = sequence.events[0]
    assert demo_labels.event_labels(plan, sequence, event, 1).counts == demo_labels.event_labels(
        plan, sequence, event, 2).counts
    leaky = demo_plan.plan_demo(DemoParams(**{**params.__dict__, "leakage": 2.0}))
    sequence, event = leaky.sequences[0], leaky.sequences[0].events[0]
    assert demo_labels.event_labels(leaky, sequence, event, 1).counts != demo_labels.event_labels(
        leaky, sequence, event, 2).counts


def test_without_leakage_the_sequence_share_changes_no_label(tmp_path: Path) -> None:
    """At demo.leakage 0 the share of the (absent) component is irrelevant: every file the
    generator writes (slip-model CSVs with their labels, events, split lists) is the same
    byte for byte, except the record of the parameters themselves, so the null datasets of
    the operating characteristics hold for every sequence_share."""
    written = {}
    for share in (0.8, 1.0):
        params = DemoParams(seed=2, size=6, leakage=0.0, sequence_share=share,
                            positive_rate=0.03)
        out = tmp_path / str(share)
        demo.generate_demo(params, out)
        written[share] = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*"))
                          if p.is_file() and p.name != DEMO_MARKER}
    assert sum(1 for p in written[0.8] if p.parts[0] == CSV_DIR) > 5
    assert written[0.8] == written[1.0]


def test_a_sequence_response_is_learnable_from_its_other_earthquake_only() -> None:
    """The leak reaches the models through their inputs: fitted on one earthquake's stress
    magnitudes, a model predicts its sequence's response on another earthquake of the
    sequence, and not another sequence's response."""
    plan = demo_plan.plan_demo(DemoParams(seed=2, size=20, leakage=1.0, sequence_share=0.8,
                                          positive_rate=0.03))
    own_fit, foreign_fit = [], []
    for number, sequence in enumerate([s for s in plan.sequences if len(s.events) > 1][:3]):
        tensors = []
        for event in sequence.events[:2]:
            _, centres = cells_3d(cells_2d(event.reference, plan.scale.buffer_m))
            tensors.append(stress_change(centres, event.reference.patches(np.ones((1, 1)))))
        own = [demo_labels.sequence_response(np.random.default_rng(5 + number), t) for t in tensors]
        foreign = demo_labels.sequence_response(np.random.default_rng(50 + number), tensors[1])
        seen = [np.log10(np.abs(t) + 1e3) for t in tensors]  # what the models see
        model = RandomForestRegressor(50, min_samples_leaf=5, random_state=0).fit(seen[0],
                                                                                  own[0])
        predicted = model.predict(seen[1])
        own_fit.append(np.corrcoef(predicted, own[1])[0, 1])
        foreign_fit.append(abs(np.corrcoef(predicted, foreign)[0, 1]))
        # a function of the magnitudes only: the sign of a component changes nothing
        assert np.allclose(demo_labels.sequence_response(np.random.default_rng(5 + number),
                                                         -tensors[1]), own[1])
    assert len(own_fit) == 3  # three sequences with two earthquakes or more
    # the own sequence's response is predicted better every time; a foreign one can still
    # correlate (every magnitude decays with distance, so two smooth functions of them may
    # share that trend), but not on average
    assert min(np.subtract(own_fit, foreign_fit)) > 0.15, (own_fit, foreign_fit)
    assert np.mean(own_fit) > 0.6 and np.median(foreign_fit) < 0.3, (own_fit, foreign_fit)


def test_the_transferable_component_is_one_function_no_stress_metric_holds() -> None:
    """The transferable component is a fixed function of the tensor (the same for every
    earthquake; blind to the signs of the components), nearly uncorrelated with the
    untrained metrics (on average over the demo's earthquakes), and a model fitted on
    other sequences' cells predicts it on a held-out sequence."""
    plan = demo_plan.plan_demo(DemoParams(seed=2, size=20, leakage=0.0, sequence_share=1.0,
                                          positive_rate=0.03, transferable=1.0))
    seen, signal, correlations = [], [], []
    for sequence in plan.sequences[:8]:
        event = sequence.events[0]
        _, centres = cells_3d(cells_2d(event.reference, plan.scale.buffer_m))
        tensors = stress_change(centres, event.reference.patches(np.ones((1, 1))))
        values = demo_labels.transferable_signal(tensors)
        assert np.array_equal(values, demo_labels.transferable_signal(-tensors))
        for metric in (max_shear, von_mises, sum_abs):
            correlations.append(np.corrcoef(values, np.log10(metric(tensors) + 1e3))[0, 1])
        seen.append(np.log10(np.abs(tensors) + 1e3))
        signal.append(values)
    assert abs(np.mean(correlations)) < 0.15, correlations
    model = RandomForestRegressor(50, min_samples_leaf=5, random_state=0).fit(
        np.concatenate(seen[:-1]), np.concatenate(signal[:-1]))
    assert np.corrcoef(model.predict(seen[-1]), signal[-1])[0, 1] > 0.8


def test_the_truth_records_what_was_planted(tmp_path: Path) -> None:
    """DEMO_DATA.json says what the generator planted: no transferable gain at strength 0,
    a positive one above; no sequence gain without leakage, a positive one with it."""
    truths = {}
    for transferable, leakage in ((0.0, 0.0), (2.0, 0.0), (0.0, 4.0)):
        params = DemoParams(seed=2, size=12, leakage=leakage, sequence_share=1.0,
                            positive_rate=0.03, transferable=transferable)
        out = tmp_path / f"{transferable}-{leakage}"
        summary = demo.generate_demo(params, out)
        assert json.loads((out / DEMO_MARKER).read_text())["truth"] == summary["truth"]
        assert not (out / demo.TRUTH_DIR).exists()
        truths[(transferable, leakage)] = summary["truth"]
    null = truths[(0.0, 0.0)]
    assert null["transferable_gain"] == 0.0 and null["sequence_gain"] == 0.0
    assert 0.5 < null["stress_auc"] <= null["oracle_auc"] < 1.0
    assert truths[(2.0, 0.0)]["transferable_gain"] > 0.02
    assert truths[(2.0, 0.0)]["sequence_gain"] == 0.0
    assert truths[(0.0, 4.0)]["sequence_gain"] > 0.02
    assert truths[(0.0, 4.0)]["transferable_gain"] == 0.0


def test_cell_keys_are_unique() -> None:
    rng = np.random.default_rng(0)
    index = np.c_[rng.integers(-(1 << 20), 1 << 20, (20000, 2)), rng.integers(0, 10, 20000)]
    index = np.unique(index, axis=0)
    assert len(np.unique(cell_keys(index))) == len(index)


def test_the_demo_epicentres_keep_the_frames_distances_within_one_percent() -> None:
    """Spatio-temporal clusters measure great-circle km between the demo's epicentres, so
    its map to degrees must keep the distances of its frame: pairs up to 500 km apart
    anywhere in a frame wider than the one the generator draws origins from (eastings
    200-800 km, northings 500-8500 km, plus the ruptures' extent) stay within 1 %."""
    from aftershock_replication.events import great_circle_km

    rng = np.random.default_rng(5)
    easting = rng.uniform(0, 1_000_000, 400)
    northing = rng.uniform(0, 9_000_000, 400)
    # a partner 20-500 km away in a random direction
    distance, angle = rng.uniform(20_000, 500_000, 400), rng.uniform(0, 2 * np.pi, 400)
    latitude, longitude = demo.frame_to_degrees(
        np.r_[easting, easting + distance * np.cos(angle)],
        np.r_[northing, northing + distance * np.sin(angle)])
    on_sphere = np.diag(great_circle_km(latitude, longitude)[:400, 400:])
    assert np.abs(on_sphere / (distance / 1000.0) - 1.0).max() < 0.01
