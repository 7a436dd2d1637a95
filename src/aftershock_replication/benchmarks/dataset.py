"""A full-scale dataset in the original layout, made in seconds, for the scale benchmark.

It is not physical: its only job is to have the published data's shape, so that every stage
meets the volume it will meet on the real data. The 199 real slip-model names and their
side in the paper's split (``paper_split_names.csv``, as published with the critique) give
the earthquake and sequence structure; rows are spread over the slip models with a
lognormal spread and sum to the published training (4,743,090) and test (1,378,120) cells
at the default size. Each CSV has the columns the analysis reads plus the coordinates and a
grid id, with values rounded to six significant digits (about 120 bytes per row, as the
published 739 MB for 6.12 M cells). Stresses decay away from a random fault trace and the
labels follow a logistic model of the stress plus a smooth spatial field, so the methods
have signal to find. A ``DEMO_DATA.json`` marker makes every output say it is synthetic.
"""

from __future__ import annotations

import csv
import logging
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .. import stress
from ..atomic import atomic_directory, atomic_file, json_text
from ..data.layout import (
    CSV_DIR,
    CSV_SUFFIX,
    DEMO_MARKER,
    FILE_LIST_DATASETS,
    FILE_LIST_NAMES,
    write_file_list,
)
from ..progress import progress, timed

log = logging.getLogger(__name__)

PUBLISHED_ROWS = {"train": 4_743_090, "test": 1_378_120}  # STUDY.md
PUBLISHED_CELLS = sum(PUBLISHED_ROWS.values())
LAYERS = 10  # depth layers of 5 km, centred at 2.5 ... 47.5 km
CELL_M = 5_000.0
POSITIVE_SHARE = 0.026
SIGNIFICANT_DIGITS = 6


def paper_split_names() -> list[tuple[str, str]]:
    """The 199 slip-model names of the original analysis and their side ('train'/'test')."""
    text = resources.files(__package__).joinpath("paper_split_names.csv").read_text()
    return [(row["name"], row["role"]) for row in csv.DictReader(text.splitlines())]


def rows_per_slip_model(
    roles: list[str], cells: int, rng: np.random.Generator,
) -> np.ndarray:
    """Cells per slip model: lognormal weights, multiples of ``LAYERS``, summing per side to
    the published rows scaled to ``cells``."""
    roles_array = np.asarray(roles)
    rows = np.zeros(len(roles), dtype=np.int64)
    for role, published in PUBLISHED_ROWS.items():
        members = np.flatnonzero(roles_array == role)
        columns = round(published * cells / PUBLISHED_CELLS / LAYERS)  # map-view cells
        weights = rng.lognormal(0.0, 0.5, members.size)
        share = np.floor(weights / weights.sum() * columns).astype(np.int64)
        share = np.maximum(share, 4)
        share[np.argmax(share)] += columns - share.sum()  # exact total
        rows[members] = share * LAYERS
    return rows


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (so the CSV holds short numbers)."""
    magnitude = np.floor(np.log10(np.maximum(np.abs(values), 1e-30)))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(values * scale) / scale


def slip_model_table(rows: int, rng: np.random.Generator) -> pa.Table:
    """One slip model's CSV columns: grid id, x, y, z, stresses, Coulomb, metrics, label."""
    columns_2d = rows // LAYERS
    width = int(np.ceil(np.sqrt(columns_2d)))
    flat = np.arange(columns_2d)
    ix = np.tile(flat % width, LAYERS)
    iy = np.tile(flat // width, LAYERS)
    layer = np.repeat(np.arange(LAYERS), columns_2d)
    x = (ix + 0.5) * CELL_M
    y = (iy + 0.5) * CELL_M
    z = -(layer + 0.5) * CELL_M
    # distance to a vertical fault of random strike through the grid centre, 0-15 km deep
    centre = width * CELL_M / 2.0
    strike = rng.uniform(0.0, np.pi)
    half_length = rng.uniform(0.15, 0.4) * width * CELL_M
    along = (x - centre) * np.sin(strike) + (y - centre) * np.cos(strike)
    across = (x - centre) * np.cos(strike) - (y - centre) * np.sin(strike)
    beyond = np.maximum(np.abs(along) - half_length, 0.0)
    below = np.maximum(-z - 15_000.0, 0.0)
    distance_km = np.sqrt(beyond**2 + across**2 + below**2) / 1000.0
    amplitude = 3e6 * (5.0 / (distance_km + 5.0)) ** 3
    # smooth spatial patterns mixing the six components, random per slip model
    phases = rng.uniform(0, 2 * np.pi, (6, 3))
    wavelengths = rng.uniform(20_000.0, 80_000.0, (6, 3))
    pattern = np.stack([
        np.cos(x / wavelengths[k, 0] + phases[k, 0]) + np.cos(y / wavelengths[k, 1] + phases[k, 1])
        + 0.5 * np.cos(z / wavelengths[k, 2] + phases[k, 2]) + rng.normal(0, 0.3, x.size)
        for k in range(6)
    ], axis=1)
    tensors = round_significant(amplitude[:, None] * pattern / 2.5)
    shear = stress.max_shear(tensors)
    field = np.cos(x / 30_000.0 + phases[0, 2]) * np.cos(y / 45_000.0 + phases[1, 2])
    driver = np.log10(shear + 1e3)
    logit = 0.8 * (driver - driver.mean()) / (driver.std() + 1e-12) + 1.0 * field
    threshold = np.quantile(logit + rng.logistic(size=logit.size), 1.0 - POSITIVE_SHARE)
    positive = logit + rng.logistic(size=logit.size) > threshold
    counts = np.where(positive, 1 + rng.poisson(0.8, x.size), 0)
    coulomb = stress.coulomb(tensors, np.degrees(strike), 90.0, 0.0)
    table = {
        "grid_id": pa.array(np.arange(rows).astype(str)),
        "x": x + 300_000.0, "y": y + 4_000_000.0, "z": z,
        **{name: tensors[:, k] for k, name in enumerate(
            ("stresses_full_xx", "stresses_full_yy", "stresses_full_xy", "stresses_full_xz",
             "stresses_full_yz", "stresses_full_zz"))},
        **{f"stresses_full_cfs_{k + 1}": round_significant(coulomb[:, k]) for k in range(4)},
        "stresses_full_max_shear": round_significant(shear),
        "von_mises": round_significant(stress.von_mises(tensors)),
        "aftershocksyn": counts,
    }
    return pa.table(table)


def write_scale_dataset(root: Path, cells: int = PUBLISHED_CELLS, seed: int = 0) -> dict:
    """Write the original layout with the 199 real names and ``cells`` rows under ``root``."""
    names_roles = paper_split_names()
    rng = np.random.default_rng(seed)
    rows = rows_per_slip_model([role for _, role in names_roles], cells, rng)
    with atomic_directory(root) as temporary, \
            timed(f"writing a {int(rows.sum()):,}-cell synthetic dataset in the original layout"):
        (temporary / CSV_DIR).mkdir()
        for index, ((name, _), count) in progress(
                enumerate(zip(names_roles, rows, strict=True)), total=len(rows),
                desc="slip-model CSV files", unit="file"):
            table = slip_model_table(int(count), np.random.default_rng([seed, index]))
            with atomic_file(temporary / CSV_DIR / f"{name}{CSV_SUFFIX}") as target:
                pacsv.write_csv(table, target,
                                # unquoted, as Python's csv.writer wrote the originals
                                write_options=pacsv.WriteOptions(quoting_style="none"))
        for role in ("train", "test"):
            listed = [f"{name}{CSV_SUFFIX}" for name, side in names_roles if side == role]
            write_file_list(temporary / FILE_LIST_NAMES[role][0], FILE_LIST_DATASETS[role],
                            listed)
        summary = {
            "source": "benchmark",
            "note": "synthetic scale-test data: real slip-model names, non-physical values",
            "seed": seed, "cells": int(rows.sum()), "slip_models": len(rows),
            "rows_by_role": {role: int(rows[[r == role for _, r in names_roles]].sum())
                             for role in PUBLISHED_ROWS},
            "csv_bytes": sum(p.stat().st_size for p in (temporary / CSV_DIR).iterdir()),
        }
        (temporary / DEMO_MARKER).write_text(json_text(summary))
    return summary
