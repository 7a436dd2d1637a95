"""Shared fixtures: tiny original-layout directories and a tiny generated demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aftershock_replication.data.demo import generate_demo
from aftershock_replication.data.layout import (
    CSV_DIR,
    FILE_LIST_DATASETS,
    STRESS_COLUMNS,
    write_file_list,
)
from aftershock_replication.params import DemoParams
from aftershock_replication.stress import max_shear, von_mises

SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
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


@pytest.fixture
def original_layout(tmp_path: Path) -> Path:
    """A tiny original-layout directory: 6 slip models, one of them without aftershocks."""
    return make_layout(tmp_path / "original", FIXTURE_TRAIN, FIXTURE_TEST)


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo layout with 6 analysed slip models (+ the all-negative one)."""
    out = tmp_path_factory.mktemp("demo") / "raw"
    generate_demo(TINY_DEMO, out)
    return out
