"""End to end from the primary sources: `dvc repro` with data.source: srcmod on the real
Landers slip model (../shared/samples) and small hand-made ones, with a made-up catalogue."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from aftershock_replication.benchmarks.pipeline import copy_project
from aftershock_replication.benchmarks.srcmod_landers import write_synthetic_folder
from aftershock_replication.data.layout import open_layout
from aftershock_replication.data.origin_times import read_mainshock_times
from aftershock_replication.data.rebuild import paper_like_side
from aftershock_replication.report.run_description import DEMO_MARK
from helpers import FAST_PIPELINE, ROOT, SHARED_SAMPLES, run, run_environment, write_fsp

pytestmark = pytest.mark.e2e
LANDERS = SHARED_SAMPLES / "s1992LANDER01COHE.fsp"
# hand-made slip models of four other earthquakes: name -> (latitude, origin time)
OTHERS = {"1994TESTAA01NOBO": (35.0, "1994-03-01 10:00:00"),
          "1996TESTBB01NOBO": (33.5, "1996-05-02 11:00:00"),
          "1998TESTCC01NOBO": (34.6, "1998-07-03 12:00:00"),
          "2000TESTDD01NOBO": (33.9, "2000-09-04 13:00:00")}


def srcmod_project(root: Path, folder: Path) -> Path:
    """A fresh git + DVC copy of the project reading ``folder`` with data.source: srcmod."""
    copy = copy_project(ROOT, root / "project")
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["data"].update(source="srcmod", path=str(folder))
    params.update(FAST_PIPELINE)
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "commit", "-qm", "fresh clone"]):
        run(command, copy)
    return copy


def other_models(folder: Path) -> list[Path]:
    """The four hand-made .fsp files, in a folder of their own."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_fsp(folder / f"s{name}.fsp", name, latitude=latitude,
                      date=pd.Timestamp(time).strftime("%m/%d/%Y"), dx_km=3.0, dz_km=3.0,
                      slip=np.array([[1.0, 2.0, 1.0], [0.5, 1.5, 0.5]]))
            for name, (latitude, time) in OTHERS.items()]


def times_file(folder: Path) -> pd.Series:
    """MainShockTimes.csv of the folder: Landers' shipped time and the others' own."""
    folder.mkdir(parents=True, exist_ok=True)
    times = read_mainshock_times()[["1992LANDER01COHE"]]
    for name, (_, time) in OTHERS.items():
        times[name] = pd.Timestamp(time, tz="UTC")
    (folder / "MainShockTimes.csv").write_text("earthquake,time\n" + "".join(
        f" '{name}_grid.csv',{time:%Y-%m-%d %H:%M:%S} UTC\n" for name, time in times.items()))
    return times


def test_one_slip_model_is_too_few_and_the_error_says_how_many(tmp_path: Path) -> None:
    folder = tmp_path / "srcmod"
    fsp = other_models(tmp_path / "fsp")[:1]
    times = times_file(folder)
    write_synthetic_folder(fsp, folder, events=300, seed=4, times=times)
    project = srcmod_project(tmp_path, folder)
    result = subprocess.run(["dvc", "repro"], cwd=project, env=run_environment(),
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert open_layout(project / "data/raw").names["test"] + \
        open_layout(project / "data/raw").names["train"] == ["1994TESTAA01NOBO"]
    output = result.stdout + result.stderr
    assert ("split.test_size=0.2 of 1 event groups leaves no group for training in the leaky "
            "scheme; at least 2 event groups are needed") in output


def test_landers_and_four_more_rebuild_and_run_end_to_end(tmp_path: Path) -> None:
    if not LANDERS.is_file():
        pytest.skip(f"the shared Landers sample is absent ({LANDERS})")
    folder = tmp_path / "srcmod"
    times = times_file(folder)
    write_synthetic_folder([LANDERS, *other_models(tmp_path / "fsp")], folder, events=1500,
                           seed=7, times=times)
    # the paper's side for Landers and two more; the rest go by the documented rule
    for file, dataset, names in (
            ("Training_FileNames.h5", "file_names_training",
             ["1992LANDER01COHE", "1994TESTAA01NOBO"]),
            ("Testing_FileNames.h5", "file_names_testing", ["1996TESTBB01NOBO"])):
        with h5py.File(folder / file, "w") as handle:
            handle.create_dataset(dataset, data=np.array([f"{n}_grid.csv".encode()
                                                          for n in names], dtype="S"))
    project = srcmod_project(tmp_path, folder)
    run(["dvc", "repro"], project)
    rebuilt = json.loads((project / "data/raw/REBUILD.json").read_text())
    landers = next(m for m in rebuilt["slip_models"] if m["slip_model"] == "1992LANDER01COHE")
    assert (landers["subfaults"], landers["squares"], landers["layers"], landers["cells"]) == \
        (204, 1837, 10, 18370)
    by_rule = [paper_like_side(name) for name in ("1998TESTCC01NOBO", "2000TESTDD01NOBO")]
    assert rebuilt["synthetic"]
    assert rebuilt["listed"] == {"train": 2 + by_rule.count("train"),
                                 "test": 1 + by_rule.count("test")}
    layout = open_layout(project / "data/raw")
    assert layout.role_of["1992LANDER01COHE"] == "train"
    assert layout.role_of["1996TESTBB01NOBO"] == "test"
    features = json.loads((project / "metrics/features.json").read_text())
    assert features["slip_models"] == 5
    assert features["demo"]["source"] == "srcmod"  # the made-up catalogue marks the data
    for document in ("paper/letter.pdf", "paper/supplementary.pdf"):
        pages = [page.extract_text() for page in PdfReader(project / document).pages]
        assert all(" ".join(DEMO_MARK.split()) in " ".join(page.split()) for page in pages), \
            document
