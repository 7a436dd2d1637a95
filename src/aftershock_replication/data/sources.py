"""The four data sources, each ending in the original layout under one directory (data/raw).

* ``demo``: the synthetic generator writes the layout there directly;
* ``local``: an existing directory in the layout (``data.path``) is validated and linked;
* ``devries2018``: the published folder is downloaded into ``data.path``, then linked;
* ``srcmod``: the grids are rebuilt from SRCMOD ``.fsp`` files and a catalogue in
  ``data.path`` (``rebuild.py``) and written there directly.

Linking (symlinks to the listed CSV files, copies of the small HDF5 lists) keeps one code
path for the reader without copying gigabytes, and lets DVC see when the source changes.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import atomic_directory, write_json
from ..errors import InputError
from ..params import ComputeParams, DataParams, DemoParams
from ..pipeline import check_outside_outputs, stage_outputs
from ..stage_io import OutputDir, Pipeline
from .demo import generate_demo
from .layout import (
    CSV_DIR,
    DEMO_MARKER,
    DEMO_PRODUCER,
    EVENTS_CSV,
    FILE_LIST_DATASETS,
    FSP_DIR,
    ROLES,
    SOURCE_MARKER,
    file_problem,
    find_file_list,
    open_layout,
    read_demo_marker,
)

log = logging.getLogger(__name__)


def check_files(paths: Iterable[Path], expected: str) -> None:
    """Refuse a path that is there but cannot be read as a file (a directory, a link to
    nothing), naming it: later stages would read it only through a link in data/raw."""
    for path in paths:
        problem = file_problem(path)
        if problem is not None:
            raise InputError(f"{path}: {problem}; expected {expected} (fix or remove it)")


def link_layout(source_root: Path, out_dir: Path) -> dict[str, Any]:
    """Validate ``source_root`` and mirror it into ``out_dir``: links to the listed CSVs and
    the .fsp files, copies of the small files. A CSV is linked under the name its file list
    gives, whatever the file it leads to is called, so two listed names may share one file.
    Everything is checked before ``out_dir`` is touched, naming the user's file."""
    layout = open_layout(source_root)
    root = layout.root.resolve()
    fsp_files = sorted((root / FSP_DIR).glob("*.fsp")) if (root / FSP_DIR).is_dir() else []
    check_files(fsp_files, "an SRCMOD .fsp file")
    check_files([root / EVENTS_CSV], "a CSV of epicentres and times")
    check_files([root / DEMO_MARKER], f"the JSON summary of {DEMO_PRODUCER}")
    read_demo_marker(root)  # a corrupt one is refused here, not by the features stage
    with atomic_directory(out_dir) as temporary:
        (temporary / CSV_DIR).mkdir()
        for role in ROLES:
            file_list = find_file_list(root, role)
            shutil.copy2(file_list, temporary / file_list.name)
            for name in layout.names[role]:
                listed = layout.csv_path(name)
                (temporary / CSV_DIR / listed.name).symlink_to(listed.resolve())
        if (root / DEMO_MARKER).is_file():  # synthetic data stays marked as such downstream
            shutil.copy2(root / DEMO_MARKER, temporary / DEMO_MARKER)
        if (root / EVENTS_CSV).is_file():  # epicentres and times the user supplied
            shutil.copy2(root / EVENTS_CSV, temporary / EVENTS_CSV)
        if (root / FSP_DIR).is_dir():
            (temporary / FSP_DIR).mkdir()
            for fsp in fsp_files:
                (temporary / FSP_DIR / fsp.name).symlink_to(fsp.resolve())
        summary = {
            "source_root": str(root),
            "slip_models": {role: len(layout.names[role]) for role in ROLES},
            "file_list_datasets": FILE_LIST_DATASETS,
        }
        write_json(temporary / SOURCE_MARKER, summary)
    log.info("linked %d slip models from %s into %s",
             sum(len(v) for v in layout.names.values()), root, out_dir)
    return summary


def acquire(data: DataParams, demo: DemoParams, out_dir: Path,
            compute: ComputeParams | None = None) -> dict[str, Any]:
    """Bring the configured data source into ``out_dir`` in the original layout."""
    if data.source == "srcmod":
        from .rebuild import rebuild_layout

        return rebuild_layout(data.path, out_dir, data.projection, compute)
    if data.source == "demo":
        summary = generate_demo(demo, out_dir)
        log.warning(
            "data.source=demo: SYNTHETIC demonstration data (seed %s, leakage %s), "
            "not the published dataset", demo.seed, demo.leakage,
        )
        return summary
    if data.source == "devries2018":
        from .published import fetch_devries2018

        fetch_devries2018(data, data.path)
    return {"source": data.source, **link_layout(data.path, out_dir)}


def acquire_stage(params: dict[str, Any], dvc_yaml: Pipeline, out: OutputDir) -> None:
    """Bring the data source chosen by data.source into the original layout at ``out``.

    inputs:  data.source=demo: nothing (generated from demo.*); data.source=local: the
             directory data.path; data.source=devries2018: downloads the published folder
             into data.path (or from data.mirror), resumable and verified; dvc_yaml, whose
             declared outputs data.path must stay out of (DVC deletes them on a rerun).
    outputs: the layout (AllCSV/<name>_grid.csv, Training_FileNames.h5,
             Testing_FileNames.h5; links into data.path for local/devries2018; rebuilt
             from data.path's *.fsp and catalogue.csv for srcmod, data/rebuild.py), the
             optional events.csv and fsp/*.fsp (epicentres), and DEMO_DATA.json and the
             demo's own events.csv when the data is synthetic.
    params:  data.*, demo.*
    """
    data, demo = DataParams.from_params(params), DemoParams.from_params(params)
    # compute.* says where the srcmod rebuild runs, never what it writes: not a DVC param
    if data.source != "demo":  # the user's own copy: never where DVC deletes outputs
        check_outside_outputs(data.path, "data.path",
                              {Path(out): "acquire", **stage_outputs(dvc_yaml)})
    compute = ComputeParams.from_params(params) if data.source == "srcmod" else None
    acquire(data, demo, Path(out), compute)
