"""The grids rebuilt from the primary sources: SRCMOD slip models and an earthquake
catalogue, into the original layout (``data.source: srcmod``, ``replicate rebuild``).

One slip model follows Process-Srcmod-Files (``ProcessSrcmodFile.py``) step by step: read
the ``.fsp`` file (``fsp``); build its subfaults in the epicentre's UTM zone
(``srcmod_faults``, ``projection``); the region and its cells (``grid``); the stress change
at the cells' centres (``dislocation``: each rectangle as two triangular dislocations,
where the original called Okada's DC3D); Coulomb on the mean plane; the catalogue's events
from the mainshock's time + 1 s to 365 days later (``catalogue``) binned into the cells.

The layout's file lists: slip models listed in ``Training_FileNames.h5`` /
``Testing_FileNames.h5`` of the SRCMOD folder (the published lists, if you put them there)
keep their side; any other goes by ``paper_like_side``. A model whose cells are all one
class is written but listed on neither side, as in the published data. A folder holding a
``DEMO_DATA.json`` (a made-up catalogue, ``benchmarks/srcmod_landers.py``) makes a layout
marked synthetic in the same way, so every output made from it says so.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..atomic import atomic_file, json_text, read_json, sha256_of
from ..compute import run_tasks
from ..errors import InputError
from ..params import ComputeParams
from ..progress import format_seconds, timed
from .catalogue import Catalogue, read_catalogue, select_aftershocks
from .dislocation import stress_change
from .fsp import read_fsp, read_fsp_header
from .grid import BUFFER_M, CELL_M, bin_events, build_grid, study_region
from .grid_table import grid_table
from .layout import (
    CSV_DIR,
    CSV_SUFFIX,
    DEMO_MARKER,
    EVENTS_CSV,
    FILE_LIST_DATASETS,
    FILE_LIST_NAMES,
    ROLES,
    find_file_list,
    read_demo_marker,
    read_file_list,
    slip_model_name,
    write_file_list,
)
from .origin_times import SHIPPED_TIMES, read_mainshock_times
from .partial import finish_partial, open_partial
from .projection import projector
from .srcmod_faults import build_fault, dislocations, mean_orientation

log = logging.getLogger(__name__)

REBUILD_VERSION = 1  # bump when a change alters the rebuilt files (invalidates partial runs)
REBUILD_MARKER = "REBUILD.json"
CATALOGUE_FILE = "catalogue.csv"  # in the SRCMOD folder (data.path) for data.source: srcmod
TIMES_FILE = "MainShockTimes.csv"  # optional there; else the shipped one
CAPTURE_DAYS = 365
DATE_TOLERANCE = pd.Timedelta(hours=36)  # the original's check of the .fsp date
# the paper's split: 57 of its 199 slip models in the test set
PAPER_TEST_SHARE = 57 / 199


def fsp_slip_model_name(path: Path) -> str:
    """The slip model's name as the original took it, from the file name: 's1992LANDER01COHE
    .fsp' -> '1992LANDER01COHE' (``fileName[1:-4]``); the CSV, the origin-time look-up and
    the by-name exceptions all use it, whatever the header's EventTAG says."""
    stem = Path(path).stem
    return stem[1:] if stem[:1] == "s" else stem


def aftershock_window(origin: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end), both excluded: origin + 1 s to start + 365 days - 1 s (the original's)."""
    start = origin + pd.Timedelta(seconds=1)
    return start, start + pd.Timedelta(days=CAPTURE_DAYS) - pd.Timedelta(seconds=1)


def paper_like_side(name: str) -> str:
    """'test' for a share ``PAPER_TEST_SHARE`` of earthquakes (first 12 characters of the
    name), by a hash of the earthquake, so all slip models of one earthquake share a side
    and the side of one never depends on which others are present."""
    digest = hashlib.sha256(name[:12].encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < PAPER_TEST_SHARE else "train"


@dataclass(frozen=True)
class SlipModelJob:
    """What one slip model's rebuild needs: its file, origin time and the catalogue's
    events of its window (selected once in the parent, so a task ships a small table)."""

    path: Path
    name: str
    origin: pd.Timestamp
    epicentre: tuple[float, float]  # latitude, longitude (degrees), from the header
    events: pd.DataFrame
    removed: dict[str, int]


def rebuild_slip_model(job: SlipModelJob, projection: str) -> tuple[pa.Table, dict[str, Any]]:
    """One slip model's CSV table and a summary of how it was made (module docstring)."""
    began = time.perf_counter()
    model = replace(read_fsp(job.path), name=job.name)
    start, _ = aftershock_window(job.origin)
    named = pd.Timestamp(model.date, tz="UTC")
    if not start - DATE_TOLERANCE < named < start + DATE_TOLERANCE:
        raise InputError(f"{job.path}: the header's date {model.date} is more than 36 h "
                         f"from the mainshock time {job.origin} of {job.name}; expected the "
                         "same earthquake")
    project = projector(model.epicentre_latitude, model.epicentre_longitude, projection)
    fault = build_fault(model, project)
    try:
        region = study_region(fault.corners)
    except ValueError as error:
        raise InputError(f"{job.path}: {error}") from None
    grid = build_grid(region)
    if grid.row.size == 0:
        raise InputError(f"{job.path}: no {CELL_M / 1e3:g} km cell lies whole inside the "
                         "region; expected subfault corners in metres of one UTM zone")
    x, y, z = grid.centres()
    origin = np.array([x.mean(), y.mean()])  # a local origin keeps the arithmetic exact
    points = np.stack([x - origin[0], y - origin[1], z], axis=1)
    tensors = sum(stress_change(points, patches) for patches in dislocations(fault, origin))
    singular = ~np.isfinite(tensors).all(axis=1)
    if singular.any():  # a centre on a subfault's edge: DC3D returned zeros there
        log.warning("%s: the stress change is singular at %d cell centre(s) on a subfault's "
                    "edge; written as 0, as the original's DC3D returned", job.path,
                    int(singular.sum()))
        tensors[singular] = 0.0
    plane = mean_orientation(fault, model)
    east, north = project(job.events["longitude"].to_numpy(), job.events["latitude"].to_numpy())
    counts = bin_events(grid, east, north, job.events["depth"].to_numpy())
    table = grid_table(grid.grid_ids(), x, y, z, tensors, plane, counts)
    bounds = region.bounds
    summary = {
        "slip_model": job.name, "file": job.path.name, "segments": len(model.segments),
        "subfaults": int(fault.slip.size), "squares": int(grid.row.size),
        "layers": grid.layers, "cells": grid.cells,
        "region_km": {"east": round((bounds[2] - bounds[0]) / 1e3, 3),
                      "north": round((bounds[3] - bounds[1]) / 1e3, 3)},
        "mean_plane_degrees": dict(zip(("strike", "dip", "rake"),
                                       (round(v, 6) for v in plane), strict=True)),
        "catalogue_removed": job.removed, "events_in_window": len(job.events),
        "events_binned": int(counts.sum()), "positive_cells": int((counts > 0).sum()),
        "singular_cells_set_to_zero": int(singular.sum()),
        "seconds": round(time.perf_counter() - began, 3),
    }
    return table, summary


SUMMARIES = ".summaries"  # per-model summaries inside the partial folder, for resuming
STAMP = "rebuild-fingerprint"


def _rebuild_into(job: SlipModelJob, projection: str, folder: Path) -> dict[str, Any]:
    """Task: write one model's CSV and its summary into the partial folder, atomically."""
    table, summary = rebuild_slip_model(job, projection)
    with atomic_file(folder / CSV_DIR / f"{job.name}{CSV_SUFFIX}") as temporary:
        pacsv.write_csv(table, temporary)
    with atomic_file(folder / SUMMARIES / f"{job.name}.json") as temporary:
        temporary.write_text(json_text(summary))
    return summary


def _fingerprint(files: list[Path], projection: str) -> str:
    """Of every input's bytes and the settings: a partial rebuild is resumed only when
    nothing it was made from has changed."""
    digest = hashlib.sha256(f"{REBUILD_VERSION} {projection}".encode())
    for path in files:
        digest.update(f"{path.name} {sha256_of(path)}".encode())
    return digest.hexdigest()[:16]


def _published_sides(folder: Path) -> dict[str, str]:
    """Sides of the slip models the folder's own file lists name (none if it has none)."""
    sides = {}
    for role in ROLES:
        if any((folder / name).is_file() for name in FILE_LIST_NAMES[role]):
            for entry in read_file_list(find_file_list(folder, role), FILE_LIST_DATASETS[role]):
                sides[slip_model_name(entry)] = role
    return sides


def plan_jobs(fsp_files: list[Path], catalogue: Catalogue,
              times: pd.Series, times_path: Path) -> list[SlipModelJob]:
    """One job per ``.fsp`` file; refuses two files of one slip model and a model without
    an origin time."""
    jobs, seen = [], {}
    for path in fsp_files:
        name = fsp_slip_model_name(path)
        header = read_fsp_header(path)
        tag = header.name
        if tag != name:
            log.warning("%s: the EventTAG says %s; the slip model is named %s after its file, "
                        "as the original named it", path, tag, name)
        if name in seen:
            raise InputError(f"{path}: slip model {name} is also in {seen[name]}; expected one "
                             ".fsp file per slip model")
        seen[name] = path
        if name not in times.index or pd.isna(times[name]):
            raise InputError(f"{times_path}: no origin time for slip model {name} ({path}); "
                             f"add a row '{name}_grid.csv',<UTC time> to {TIMES_FILE} in the "
                             "SRCMOD folder")
        events, removed = select_aftershocks(catalogue, *aftershock_window(times[name]))
        jobs.append(SlipModelJob(path=path, name=name, origin=times[name],
                                 epicentre=header.epicentre(), events=events,
                                 removed=removed))
    return jobs


def rebuild_layout(folder: Path, out_dir: Path, projection: str = "original",
                   compute: ComputeParams | None = None) -> dict[str, Any]:
    """Rebuild every ``*.fsp`` of ``folder`` with its ``catalogue.csv`` (and its
    ``MainShockTimes.csv``, else the shipped one) into the original layout at ``out_dir``.

    Work goes to ``.<out_dir>.partial`` one finished CSV at a time; an interrupted run with
    the same inputs resumes there, and ``out_dir`` appears only when all is written.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    fsp_files = sorted(folder.glob("*.fsp"))
    if not fsp_files:
        raise InputError(f"{folder}: no SRCMOD .fsp file; expected the slip models (*.fsp), "
                         f"a {CATALOGUE_FILE} and optionally {TIMES_FILE}")
    times_path = folder / TIMES_FILE if (folder / TIMES_FILE).is_file() else SHIPPED_TIMES
    catalogue_path = folder / CATALOGUE_FILE
    synthetic = read_demo_marker(folder)
    with timed(f"reading the catalogue {catalogue_path}"):
        catalogue = read_catalogue(catalogue_path)
    jobs = plan_jobs(fsp_files, catalogue, read_mainshock_times(times_path), times_path)
    marker = [folder / DEMO_MARKER] if synthetic is not None else []
    fingerprint = _fingerprint([*fsp_files, catalogue_path, times_path, *marker], projection)
    partial = open_partial(out_dir, STAMP, fingerprint, "inputs")
    (partial / CSV_DIR).mkdir(exist_ok=True)
    (partial / SUMMARIES).mkdir(exist_ok=True)
    todo = [job for job in jobs if not (partial / SUMMARIES / f"{job.name}.json").is_file()]
    if len(todo) < len(jobs):
        log.info("resuming an interrupted rebuild: %d of %d slip models already written",
                 len(jobs) - len(todo), len(jobs))
    with timed(f"rebuilding {len(todo)} slip model(s) from {folder}"):
        run_tasks(_rebuild_into, [(job, projection, partial) for job in todo],
                  compute or ComputeParams(backend="loky", n_jobs=1, scheduler=None),
                  describe=lambda _, s: (f"{s['slip_model']}: {s['cells']:,} cells, "
                                         f"{s['events_binned']} events binned in "
                                         f"{format_seconds(s['seconds'])}"))
    summaries = [read_json(partial / SUMMARIES / f"{job.name}.json", "the rebuild")
                 for job in jobs]
    lists, one_class = _write_lists(folder, partial, summaries)
    _write_events(partial, jobs)
    if not any(s["events_binned"] for s in summaries):
        log.warning("%s: not one event of the catalogue fell in a cell of any slip model; "
                    "check its times, places and depths (no model can be listed)",
                    catalogue_path)
    summary = {
        "source": "srcmod", "rebuild_version": REBUILD_VERSION, "projection": projection,
        "buffer_km": BUFFER_M / 1e3, "cell_km": CELL_M / 1e3, "capture_days": CAPTURE_DAYS,
        "inputs": {path.name: sha256_of(path)
                   for path in [*fsp_files, catalogue_path, times_path]},
        "synthetic": synthetic is not None,
        "times_file": str(times_path), "catalogue_events": len(catalogue),
        # the layout holds no timings, so the same inputs give the same bytes (and DVC hash)
        "slip_models": [{key: value for key, value in model.items() if key != "seconds"}
                        for model in summaries],
        "listed": {role: len(lists[role]) for role in ROLES},
        "sides_from_published_lists": sorted(n for n in _published_sides(folder)
                                             if n in {job.name for job in jobs}),
        "one_class_not_listed": one_class,
    }
    (partial / REBUILD_MARKER).write_text(json_text(summary))
    if synthetic is not None:
        (partial / DEMO_MARKER).write_text(json_text({
            **synthetic, "source": "srcmod", "slip_models": len(jobs),
            "cells": sum(s["cells"] for s in summaries)}))
        log.warning("%s: SYNTHETIC inputs (%s); the layout is marked as demo data", folder,
                    synthetic.get("note", DEMO_MARKER))
    finish_partial(partial, out_dir, (SUMMARIES, STAMP))
    log.info("rebuilt %d slip model(s) into %s: %d listed for training, %d for testing, "
             "%d of one class only (not listed)", len(jobs), out_dir, len(lists["train"]),
             len(lists["test"]), len(one_class))
    return {**summary, "slip_models": summaries}


def _write_lists(folder: Path, partial: Path,
                 summaries: list[dict[str, Any]]) -> tuple[dict[str, list[str]], list[str]]:
    """The train/test file lists (module docstring); a one-class model goes on neither."""
    published = _published_sides(folder)
    lists: dict[str, list[str]] = {role: [] for role in ROLES}
    one_class = []
    for summary in summaries:
        name = summary["slip_model"]
        if summary["positive_cells"] in (0, summary["cells"]):
            one_class.append(name)
            continue
        lists[published.get(name) or paper_like_side(name)].append(f"{name}{CSV_SUFFIX}")
    for role in ROLES:
        write_file_list(partial / FILE_LIST_NAMES[role][0], FILE_LIST_DATASETS[role],
                        lists[role])
    return lists, one_class


def _write_events(partial: Path, jobs: list[SlipModelJob]) -> None:
    """events.csv: each slip model's epicentre (its header) and origin time, which the
    events stage reads for the split's clusters."""
    pd.DataFrame({
        "slip_model": [job.name for job in jobs],
        "latitude": [job.epicentre[0] for job in jobs],
        "longitude": [job.epicentre[1] for job in jobs],
        "time": [job.origin.strftime("%Y-%m-%dT%H:%M:%SZ") for job in jobs],
    }).to_csv(partial / EVENTS_CSV, index=False)
