"""Shared test helpers: tiny original-layout directories, fast method settings, synthetic
cells, the README's commands and a subprocess runner (test modules import only this)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aftershock_replication.cells import Cells, Groups
from aftershock_replication.data.layout import (
    CSV_DIR,
    FILE_LIST_DATASETS,
    STRESS_COLUMNS,
    write_file_list,
)
from aftershock_replication.methods import METHODS, REGISTRY
from aftershock_replication.params import DemoParams
from aftershock_replication.stress import max_shear, sum_abs, von_mises

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
TINY_DEMO = DemoParams(seed=2, size=6, leakage=1.0, sequence_share=0.8, positive_rate=0.03)


def fixture_csv(path: Path, rows: int, seed: int, positives: int | None = None) -> pd.DataFrame:
    """A small slip-model CSV in the original's style: extra columns, shuffled column order."""
    rng = np.random.default_rng(seed)
    tensors = rng.normal(0.0, 1e5, size=(rows, 6))
    labels = np.zeros(rows, dtype=int)
    count = max(1, rows // 10) if positives is None else positives
    labels[rng.choice(rows, size=count, replace=False)] = rng.integers(1, 4, size=count)
    frame = pd.DataFrame(tensors, columns=list(STRESS_COLUMNS))
    frame["aftershocksyn"] = labels
    frame["x"] = rng.uniform(3e5, 4e5, rows)
    frame["y"] = rng.uniform(4e6, 4.1e6, rows)
    frame["z"] = -rng.choice(np.arange(2500.0, 50000.0, 5000.0), rows)
    frame["grid_id"] = [f"cell_{i}" for i in range(rows)]
    frame["stresses_full_i1"] = tensors[:, 0] + tensors[:, 1] + tensors[:, 5]
    for i in range(1, 5):
        frame[f"stresses_full_cfs_{i}"] = rng.normal(0.0, 1e5, rows)
    frame["stresses_full_max_shear"] = max_shear(tensors)
    frame["von_mises"] = von_mises(tensors)
    columns = list(frame.columns)
    rng.shuffle(columns)
    frame = frame[columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def make_layout(
    root: Path, train: dict[str, int], test: dict[str, int], spelling: str = "FileNames",
) -> Path:
    """An original-layout directory; values are row counts (0 positives for negative names)."""
    for seed, (name, rows) in enumerate({**train, **test}.items()):
        fixture_csv(root / CSV_DIR / f"{name}_grid.csv", rows, seed,
                    positives=0 if name.endswith("NONE") else None)
    for role, names in (("train", train), ("test", test)):
        prefix = "Training" if role == "train" else "Testing"
        write_file_list(root / f"{prefix}_{spelling}.h5", FILE_LIST_DATASETS[role],
                        [f"{name}_grid.csv" for name in names])
    return root


FIXTURE_TRAIN = {"1995KOBEJA01YOSH": 40, "1995KOBEJA01WALD": 40, "1999CHICHI01MAxx": 30,
                 "2004PARKFI01NONE": 20}
FIXTURE_TEST = {"1995KOBEJA02HORI": 35, "2010DARFIE01ATZO": 25}


# fast settings of every fitted method, for tests on small synthetic cells
def fast_settings(speed: dict[str, Any], row_cap: int | None = None
                  ) -> dict[str, dict[str, Any]]:
    """Every fitted method's settings: the registry's defaults, with each setting named in
    ``speed`` replaced wherever a method has it, and ``row_cap`` for the methods whose
    defaults cap their training rows. Keyed by setting, not by method, so a new method needs
    no entry here."""
    settings = {}
    for entry in REGISTRY:
        if entry.fitted:
            defaults = {item.name: item.default for item in fields(entry.settings)}
            values = {**defaults, **{key: value for key, value in speed.items()
                                     if key in defaults}}
            if row_cap is not None and defaults.get("max_train_rows") is not None:
                values["max_train_rows"] = row_cap
            settings[entry.name] = values
    return settings


# unit tests: small fits on every row
FAST_PARAMS = fast_settings({"n_estimators": 20, "n_components": 50, "n_splines": 6,
                             "max_iter": 50, "batch_size": 200, "epochs": 3,
                             "max_train_rows": None})
FAST = {name: METHODS[name].settings(**values) for name, values in FAST_PARAMS.items()}


def synthetic_cells(n: int = 6000, models: int = 6, seed: int = 0) -> Cells:
    """Cells whose labels rise with stress magnitude; six slip models of three events."""
    rng = np.random.default_rng(seed)
    components = rng.normal(0, 1, (n, 6)) * 10 ** rng.uniform(3, 6, (n, 1))
    magnitude = np.log10(sum_abs(components))
    probability = 1 / (1 + np.exp(-(3 * (magnitude - magnitude.mean()) - 3)))
    labels = rng.random(n) < probability
    slip_model = np.array([f"2000ABCDEF0{k // 2 + 1}AU{k}x" for k in range(models)])[
        np.arange(n) % models]
    cfs = np.column_stack([components[:, 2], -components[:, 2], components[:, 0],
                           -components[:, 0]])
    return Cells(
        components=components.astype(np.float32),
        max_shear=max_shear(components).astype(np.float32),
        von_mises=von_mises(components).astype(np.float32),
        sum_abs=sum_abs(components).astype(np.float32), cfs=cfs.astype(np.float32),
        labels=labels, slip_model=Groups.of(slip_model),
        event=Groups.of([m[:12] for m in slip_model]),
    )


# small models and three seeds so the whole pipeline runs in minutes on tiny data
# (params.yaml values)
# the pipeline tests: the shipped settings, smaller where that is safe for a tiny demo
FAST_PIPELINE = {
    "seeds": 3,
    "methods": fast_settings({"n_estimators": 10, "n_components": 50, "n_splines": 6,
                              "max_iter": 30}, row_cap=10000),
    "learning_curve": {"methods": ["neural_network", "random_forest", "logistic"], "points": 3,
                       "min_share": 0.01, "steps_per_epoch": None, "test_auc_negatives": None},
}


def run_environment() -> dict[str, str]:
    """The test interpreter's environment: its scripts first on PATH, a git identity."""
    return {**os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.org",
            "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.org"}


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with the test interpreter's environment; fail with its output."""
    result = subprocess.run(command, cwd=cwd, env=run_environment(), capture_output=True,
                            text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result


def readme_commands() -> list[str]:
    """The indented shell commands of the README's quick start."""
    text = (ROOT / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in quick_start.splitlines() if line.startswith("    ")]


KM_PER_DEGREE = 111.195  # on a sphere of the mean Earth radius


def write_fsp(path: Path, name: str, *, latitude: float = 34.2, longitude: float = -116.43,
              date: str = "06/28/1992", strike: float = 330.0, dip: float = 60.0,
              rake: float | None = 90.0, slip: np.ndarray | None = None,
              dx_km: float = 5.0, dz_km: float = 5.0, top_km: float = 1.0,
              rake_column: bool = True) -> Path:
    """A small single-segment SRCMOD .fsp file (the format of ../shared/samples): one row of
    subfaults per ``slip`` row down dip, top-centres from the epicentre on a sphere."""
    slip = np.array([[1.0, 2.0, 1.0], [0.5, 1.5, 0.0]]) if slip is None else slip
    rows, columns = slip.shape
    phi, delta = np.radians(strike), np.radians(dip)
    along = np.array([np.sin(phi), np.cos(phi)])
    down = np.array([np.cos(phi), -np.sin(phi)]) * np.cos(delta)
    lines = [
        "% ----------------------  FINITE-SOURCE RUPTURE MODEL  ----------------------",
        f"% Event : Test earthquake \t\t{date} \t\t[Nobody (2026)]",
        f"% EventTAG: s{name}",
        f"% Loc  : LAT  = {latitude} \t\tLON = {longitude}\t\tDEP = 5.0",
        f"% Size : LEN  = {columns * dx_km} km \tWID = {rows * dz_km} km\t\tMw = 6.5",
        f"% Mech : STRK = {strike}\t\tDIP = {dip}\t\tRAKE = "
        f"{rake if rake is not None else 'nan'}\tHtop = {top_km} km",
        f"% Invs :  Nx  =  {columns} \tNz  = {rows}",
        f"% Invs :  Dx  =  {dx_km} km \tDz  = {dz_km} km",
        "% Invs :  Ntw =  1\tNsg =  1",
        "% SOURCE MODEL PARAMETERS",
        "%    LAT     LON     X==EW     Y==NS     Z     SLIP" + ("    RAKE" if rake_column
                                                              else ""),
        "% -------------------------------------------------------------------------",
    ]
    for row in range(rows):
        for column in range(columns):
            offset = along * dx_km * (column - (columns - 1) / 2.0) + down * dz_km * row
            depth = top_km + dz_km * np.sin(delta) * row
            lat = latitude + offset[1] / KM_PER_DEGREE
            lon = longitude + offset[0] / (KM_PER_DEGREE * np.cos(np.radians(latitude)))
            values = [lat, lon, offset[0], offset[1], depth, slip[row, column]]
            if rake_column:
                values.append(rake if rake is not None else 0.0)
            lines.append("   " + "  ".join(f"{value:.4f}" for value in values))
    path.write_text("\n".join(lines) + "\n")
    return path
