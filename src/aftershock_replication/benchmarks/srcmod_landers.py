"""The SRCMOD rebuild on the shipped-with-the-tests Landers model: time per slip model, the
grid's size, and a picture of its maximum shear stress change at 7.5 km depth.

    python -m aftershock_replication.benchmarks.srcmod_landers \
        --fsp ../shared/samples/s1992LANDER01COHE.fsp --out benchmarks/results/srcmod-landers

The catalogue is generated (``synthetic_catalogue``): no ISC bulletin is reachable here.
Its events are synthetic, so only the timing and the grid are results; the counts are not.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
from matplotlib.figure import Figure

from ..atomic import atomic_file, json_text, write_json
from ..data.catalogue import MAGNITUDE_TYPES
from ..data.compare import compare_layouts, write_compare_report
from ..data.fsp import read_fsp
from ..data.layout import CSV_DIR, CSV_SUFFIX, DEMO_MARKER
from ..data.origin_times import SHIPPED_TIMES, read_mainshock_times
from ..data.rebuild import CATALOGUE_FILE, rebuild_layout
from ..progress import setup_logging
from .dataset import PUBLISHED_CELLS

log = logging.getLogger(__name__)


def synthetic_catalogue(fsp: Path, events: int, seed: int,
                        origin: pd.Timestamp | None = None) -> pd.DataFrame:
    """A made-up catalogue around a slip model: most events within ~30 km of its subfaults
    at 0-20 km depth in the year after its origin time, the rest spread wider, earlier or
    later, or of a magnitude type the original did not accept (so every filter acts)."""
    model = read_fsp(fsp)
    if origin is None:
        origin = read_mainshock_times(SHIPPED_TIMES)[model.name]
    rng = np.random.default_rng(seed)
    latitude = np.concatenate([s.latitude.ravel() for s in model.segments])
    longitude = np.concatenate([s.longitude.ravel() for s in model.segments])
    near = rng.integers(0, latitude.size, events)
    spread = np.where(rng.random(events) < 0.8, 0.25, 1.5)  # degrees
    days = np.where(rng.random(events) < 0.9, rng.exponential(40.0, events),
                    rng.uniform(-200.0, 700.0, events))
    accepted = sorted(MAGNITUDE_TYPES)
    types = np.where(rng.random(events) < 0.95, rng.choice(accepted, events), "Md")
    return pd.DataFrame({
        "time": [(origin + pd.Timedelta(days=float(d))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                 for d in days],
        "latitude": np.round(latitude[near] + rng.normal(0.0, 1.0, events) * spread, 4),
        "longitude": np.round(longitude[near] + rng.normal(0.0, 1.0, events) * spread, 4),
        "depth": np.round(rng.uniform(0.0, 20.0, events), 2),
        "magnitude": np.round(2.0 + rng.exponential(0.5, events), 1),
        "magnitude_type": types,
    })


def write_synthetic_folder(fsp_files: list[Path], folder: Path, events: int,
                           seed: int, times: pd.Series | None = None) -> Path:
    """A folder as ``data.source: srcmod`` reads it, with a made-up catalogue of ``events``
    per slip model (``synthetic_catalogue``) and a ``DEMO_DATA.json`` marking the layout
    rebuilt from it as synthetic. ``times``: origin times by name (default: the shipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for number, fsp in enumerate(fsp_files):
        shutil.copy2(fsp, folder / fsp.name)
        origin = None if times is None else times[read_fsp(fsp).name]
        parts.append(synthetic_catalogue(fsp, events, seed=seed + number, origin=origin))
    pd.concat(parts).to_csv(folder / CATALOGUE_FILE, index=False)
    (folder / DEMO_MARKER).write_text(json_text({
        "source": "srcmod", "note": "real slip models, a SYNTHETIC catalogue (made-up "
        "aftershocks): counts and labels are not data", "catalogue_seed": seed,
        "events_per_slip_model": events}))
    return folder


def perturbed_copy(layout: Path, copy: Path, seed: int) -> dict[str, object]:
    """A copy of a rebuilt layout with known changes, for the comparison to find: 1 kPa added
    to ``stresses_full_xx`` in ten cells, one count raised by one, one cell removed."""
    shutil.copytree(layout, copy)
    csv = next((copy / CSV_DIR).glob(f"*{CSV_SUFFIX}"))
    table = pd.read_csv(csv)
    rng = np.random.default_rng(seed)
    cells = rng.choice(len(table), 12, replace=False)
    table.loc[cells[:10], "stresses_full_xx"] += 1000.0
    table.loc[cells[10], "aftershocksyn"] += 1
    removed = table.loc[cells[11], "grid_id"]
    table.drop(index=cells[11]).to_csv(csv, index=False)
    return {"file": csv.name, "stresses_full_xx_plus_1000_pa": table.loc[cells[:10],
            "grid_id"].tolist(), "aftershocksyn_plus_1": table.loc[cells[10], "grid_id"],
            "removed": removed}


def max_shear_picture(csv: Path, depth_m: float, path: Path) -> None:
    """Map of log10 maximum shear stress change (Pa) at one depth of a rebuilt grid."""
    table = pacsv.read_csv(csv).to_pandas()
    layer = table[np.isclose(table["z"], -depth_m)]
    fig = Figure(figsize=(6, 6))
    ax = fig.add_subplot()
    shown = ax.scatter((layer["x"] - layer["x"].mean()) / 1e3,
                       (layer["y"] - layer["y"].mean()) / 1e3, s=9, marker="s",
                       c=np.log10(layer["stresses_full_max_shear"].clip(lower=1.0)),
                       cmap="viridis")
    fig.colorbar(shown, ax=ax, label="log10 maximum shear stress change (Pa)")
    ax.set(xlabel="easting from the grid's centre (km)",
           ylabel="northing from the grid's centre (km)", aspect="equal",
           title=f"{csv.name}: maximum shear at {depth_m / 1e3:g} km depth")
    with atomic_file(path) as temporary:
        fig.savefig(temporary, format="png", dpi=120, bbox_inches="tight")


def main() -> None:
    """Rebuild the Landers model with a synthetic catalogue, time it, draw its max shear."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsp", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup_logging()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_synthetic_folder([args.fsp], Path(scratch) / "srcmod", args.events,
                                        seed=1)
        seconds = []
        for repeat in range(args.repeats):
            out = Path(scratch) / f"layout{repeat}"
            began = time.perf_counter()
            summary = rebuild_layout(folder, out)
            seconds.append(time.perf_counter() - began)
        model = summary["slip_models"][0]
        first, last = Path(scratch) / "layout0", out
        if args.repeats > 1:  # a rebuild against another rebuild: must be identical
            write_compare_report(compare_layouts(last, first, progress=False),
                                 args.out / "compare-self.json")
        changes = perturbed_copy(first, Path(scratch) / "perturbed", seed=2)
        report = compare_layouts(last, Path(scratch) / "perturbed", progress=False)
        report["planted_changes"] = changes
        write_compare_report(report, args.out / "compare-perturbed.json")
        csv = out / CSV_DIR / f"{model['slip_model']}{CSV_SUFFIX}"
        max_shear_picture(csv, 7500.0, args.out / "max_shear_7.5km.png")
        table = pacsv.read_csv(csv).to_pandas()
    result = {
        "slip_model": model["slip_model"], "subfaults": model["subfaults"],
        "segments": model["segments"], "squares_per_layer": model["squares"],
        "layers": model["layers"], "cells": model["cells"],
        "layer_depths_km": sorted({round(-z / 1e3, 3) for z in table["z"]}),
        "region_km": model["region_km"], "mean_plane_degrees": model["mean_plane_degrees"],
        "seconds_per_model": {"runs": [round(s, 3) for s in seconds],
                              "median": round(float(np.median(seconds)), 3),
                              "inside_the_model_task": model["seconds"]},
        # the 199 published models' cells at Landers' cost per cell (its 204 subfaults;
        # models with more subfaults cost proportionally more)
        "extrapolated_hours_for_the_published_cells": round(
            PUBLISHED_CELLS / model["cells"] * float(np.median(seconds)) / 3600.0, 2),
        "catalogue": {"events": args.events, "synthetic": True,
                      "removed": model["catalogue_removed"],
                      "binned": model["events_binned"]},
    }
    write_json(args.out / "landers.json", result)
    log.info("Landers: %d cells, %.2f s per rebuild (median of %d)", model["cells"],
             result["seconds_per_model"]["median"], args.repeats)


if __name__ == "__main__":
    main()
