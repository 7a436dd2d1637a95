"""The earthquakes' origin times and epicentres, from which the split's spatio-temporal
clusters are made.

The original layout holds neither: its x, y are UTM metres in each event's own zone
(Process-Srcmod-Files, ``Readsrcmod.py``), so distances between events in different zones
(Izmit and Duzce 1999) mean nothing, and a slip model's name gives only the year. So:

* origin times: ``MainShockTimes.csv`` of Process-Srcmod-Files (DeVries & Meade 2018, MIT
  licence; shipped in ``data/``, one UTC time per slip model of the published data);
* epicentres, from the data folder when a user supplies them: SRCMOD ``.fsp`` files in
  ``fsp/`` (header lines ``EventTAG: s<name>`` and ``Loc : LAT = .. LON = ..``), or a CSV
  ``events.csv`` with columns ``slip_model`` (or ``event``), ``latitude``, ``longitude``
  and optionally ``time`` (ISO 8601; UTC unless an offset is given), which wins over both;
* the demo generator writes its own ``events.csv`` (its one coordinate frame, mapped to
  latitude and longitude).

Distances are great-circle distances between epicentres; times are exact differences.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import haversine_distances

from .atomic import atomic_file
from .data.fsp import LATITUDES, LONGITUDES, read_fsp_header
from .data.layout import (
    EVENTS_CSV,
    FSP_DIR,
    Layout,
    open_layout,
    source_of,
)
from .data.origin_times import SHIPPED_TIMES, TIME_DTYPE, parse_times, read_mainshock_times
from .errors import InputError
from .names import event_of
from .stage_io import Input, Output

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), for great-circle distances
SECONDS_PER_DAY = 86_400.0
COLUMNS = ("slip_model", "event", "latitude", "longitude", "time", "location_from",
           "time_from")
SUPPLY_EPICENTRES = (
    "put the SRCMOD .fsp files of the slip models (header lines 'EventTAG' and 'Loc : LAT "
    "= .. LON = ..') in fsp/ of the data folder (data.path), or a CSV events.csv there with "
    "columns slip_model (or event), latitude, longitude and optionally time (ISO 8601, UTC); "
    "then rerun acquire with `dvc repro -f acquire` (DVC does not watch data.path, so a file "
    "added there later is not seen otherwise)")


def read_fsp_epicentre(path: Path, shown: Path | None = None) -> tuple[str, float, float]:
    """(slip-model name, latitude, longitude in [-180, 180)) from an SRCMOD ``.fsp`` header
    (``EventTAG: s1992LANDER01COHE``, ``Loc : LAT = 34.2 LON = -116.43``), read as the
    slip-model reader ``data/fsp.py`` reads it, without the slip model; errors name
    ``shown`` (the user's file behind a data/raw link) when given, else ``path``."""
    header = read_fsp_header(path, shown)
    return header.name, *header.epicentre()


def check_coordinates(latitude: pd.Series, longitude: pd.Series, where: str) -> pd.Series:
    """Latitudes in [-90, 90] and longitudes in [-180, 360] (returned in [-180, 180)); NaN
    passes (not given)."""
    for column, values, (low, high) in (("latitude", latitude, LATITUDES),
                                        ("longitude", longitude, LONGITUDES)):
        bad = values.notna() & ~values.between(low, high)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{where}: data row {row + 1} has {column} "
                             f"{float(values.iloc[row]):g}; expected a number of degrees in "
                             f"[{low:g}, {high:g}]")
    return (longitude + 180.0) % 360.0 - 180.0


def read_events_csv(path: Path, names: list[str], shown: Path | None = None) -> pd.DataFrame:
    """A user's ``events.csv``, per slip model of ``names``: latitude, longitude, time (NaN
    or NaT where not given). Rows keyed by ``event`` apply to all of that event's slip
    models; with both key columns (as in the events stage's own output) ``slip_model`` is
    used. A row may leave latitude and longitude both empty and give only a time. Errors
    name ``shown`` (the user's file, of which ``path`` is the data/raw copy) when given."""
    where = shown or path
    try:
        # only an empty cell is missing: 'NA' or 'null' is a value (and an error where wrong)
        table = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise InputError(f"{where}: cannot read the events table ({error})") from error
    table.columns = [str(column).strip().lstrip("\ufeff") for column in table.columns]
    keys = [key for key in ("slip_model", "event") if key in table.columns]
    missing = {"latitude", "longitude"} - set(table.columns)
    if not keys or missing:
        raise InputError(f"{where}: expected columns slip_model (or event), latitude, longitude "
                         f"and optionally time; found {', '.join(table.columns)}")
    key = keys[0]
    table[key] = table[key].fillna("").str.strip()
    for problem, rows in (("an empty", table[key] == ""),
                          ("a repeated", table[key].duplicated())):
        if rows.any():
            row = int(np.flatnonzero(rows.to_numpy())[0])
            raise InputError(f"{where}: data row {row + 1} has {problem} {key} "
                             f"{table[key].iloc[row]!r}; expected one row per {key}")
    coordinates = {}
    for column in ("latitude", "longitude"):
        text = table[column].fillna("").str.strip()
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        if (bad := values.isna() & (text != "")).any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{where}: data row {row + 1} has {column} "
                             f"{table[column].iloc[row]!r}; expected a number of degrees")
        coordinates[column] = values
    if (half := coordinates["latitude"].isna() != coordinates["longitude"].isna()).any():
        row = int(np.flatnonzero(half.to_numpy())[0])
        raise InputError(f"{where}: data row {row + 1} gives only one of latitude and "
                         "longitude; expected both, or neither when the row gives only a time")
    table["latitude"] = coordinates["latitude"]
    table["longitude"] = check_coordinates(coordinates["latitude"], coordinates["longitude"],
                                           str(where))
    table["time"] = (parse_times(table["time"], f"{where}, column 'time'")
                     if "time" in table.columns
                     else pd.Series(pd.NaT, index=table.index, dtype=TIME_DTYPE))
    by_key = table.set_index(key)[["latitude", "longitude", "time"]]
    lookup = [name if key == "slip_model" else event_of(name) for name in names]
    unknown = sorted(set(by_key.index) - set(lookup))
    if unknown:
        log.warning("%s: %d %s(s) not in the data are ignored, e.g. %s", where, len(unknown),
                    key, unknown[0])
    return by_key.reindex(lookup).set_axis(pd.Index(names, name="slip_model"))


def read_fsp_directory(directory: Path, names: list[str], shown: Path | None = None,
                       ) -> pd.DataFrame:
    """Epicentres per slip model of ``names`` from the ``.fsp`` files in ``directory``; errors
    name the files under ``shown`` (the user's folder behind data/raw's links) when given."""
    where = shown or directory
    found: dict[str, tuple[float, float, str]] = {}  # name -> latitude, longitude, file
    for path in sorted(directory.glob("*.fsp")):
        name, latitude, longitude = read_fsp_epicentre(path, where / path.name)
        if name in found and found[name][:2] != (latitude, longitude):
            raise InputError(f"{where}: two .fsp files for {name} give different "
                             f"epicentres ({found[name][2]} and {path.name})")
        found[name] = (latitude, longitude, path.name)
    table = pd.DataFrame.from_dict(found, orient="index",
                                   columns=["latitude", "longitude", "file"]).astype(
        {"latitude": float, "longitude": float, "file": str})
    unknown = sorted(set(table.index) - set(names))
    if unknown:
        log.warning("%s: %d .fsp file(s) of slip models not in the data are ignored, e.g. %s",
                    where, len(unknown), unknown[0])
    return table.reindex(pd.Index(names, name="slip_model"))


def _overlay(table: pd.DataFrame, values: pd.DataFrame, columns: list[str],
             from_column: str, source: str | pd.Series) -> None:
    """Lay ``values[columns]`` over ``table`` (same index) where the first of them is given,
    and record ``source`` (one name, or one per row) in ``from_column`` there."""
    given = values[columns[0]].notna()
    if not given.any():  # nothing to lay (an empty frame would not keep the dtypes)
        return
    table.loc[given, columns] = values.loc[given, columns]
    table.loc[given, from_column] = source if isinstance(source, str) else source[given]


def events_table(layout: Layout, times_path: Path = SHIPPED_TIMES) -> pd.DataFrame:
    """One row per slip model of the layout (``COLUMNS``): epicentre and origin time, and
    where each came from ('' where nothing supplies it). Later sources win: the shipped
    times, then ``fsp/*.fsp``, then ``events.csv``. Errors name the user's files, not
    their links or copies in data/raw (``source_of``)."""
    names = sorted(layout.role_of)
    table = pd.DataFrame(index=pd.Index(names, name="slip_model"))
    table["event"] = [event_of(name) for name in names]
    table["latitude"] = table["longitude"] = np.nan
    table["time"] = pd.Series(pd.NaT, index=table.index, dtype=TIME_DTYPE)
    table["location_from"] = table["time_from"] = ""
    place = ["latitude", "longitude"]
    shipped = read_mainshock_times(times_path)
    shipped = shipped[~shipped.index.duplicated()].reindex(table.index).to_frame()
    _overlay(table, shipped, ["time"], "time_from", times_path.name)
    source = source_of(layout.root)
    if (fsp := layout.root / FSP_DIR).is_dir():
        epicentres = read_fsp_directory(fsp, names, source / FSP_DIR)
        _overlay(table, epicentres, place, "location_from", f"{FSP_DIR}/" + epicentres["file"])
    if (events_csv := layout.root / EVENTS_CSV).is_file():
        try:
            supplied = read_events_csv(events_csv, names, source / EVENTS_CSV)
        except InputError as error:
            if source == layout.root:
                raise
            # the stage reads acquire's copy: a fixed file reaches it only through acquire
            raise InputError(f"{error} (this stage reads the copy acquire made of it: rerun "
                             "acquire after fixing it)") from None
        _overlay(table, supplied, place, "location_from", EVENTS_CSV)
        _overlay(table, supplied, ["time"], "time_from", EVENTS_CSV)
    return table.reset_index()[list(COLUMNS)]


def write_events(table: pd.DataFrame, path: Path) -> None:
    """The events table as CSV (times ISO 8601 UTC, ``Z``, fractional seconds kept where
    there are any), written atomically."""
    out = table.copy()
    out["time"] = (out["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
                   .str.replace(r"\.?0+$", "", regex=True) + "Z").fillna("")
    with atomic_file(path) as temporary:
        out.to_csv(temporary, index=False, float_format="%.6f")


def read_events(path: Path) -> pd.DataFrame:
    """The events stage's table, checked (``COLUMNS``; times as UTC timestamps)."""
    try:
        table = pd.read_csv(path, dtype={"slip_model": str, "event": str,
                                         "location_from": str, "time_from": str},
                            keep_default_na=False, na_values={"latitude": [""],
                                                              "longitude": [""]})
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the events table ({error}); rerun the events "
                         "stage") from error
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; rerun the "
                         "events stage")
    table["time"] = parse_times(table["time"], f"{path}, column 'time'")
    return table


def event_positions(table: pd.DataFrame) -> pd.DataFrame:
    """Per earthquake: the mean epicentre of its slip models (on the sphere, so that events
    across the antimeridian average correctly) and its earliest origin time; NaN/NaT where
    any slip model lacks one."""
    latitude, longitude = np.radians(table["latitude"]), np.radians(table["longitude"])
    unit = pd.DataFrame({
        "event": table["event"], "cx": np.cos(latitude) * np.cos(longitude),
        "cy": np.cos(latitude) * np.sin(longitude), "cz": np.sin(latitude),
        "time": table["time"],
    })
    grouped = unit.groupby("event", sort=True)
    mean = grouped[["cx", "cy", "cz"]].mean(numeric_only=True)
    complete = grouped[["cx", "time"]].count().min(axis=1) == grouped.size()
    positions = pd.DataFrame({
        "latitude": np.degrees(np.arctan2(mean["cz"], np.hypot(mean["cx"], mean["cy"]))),
        "longitude": np.degrees(np.arctan2(mean["cy"], mean["cx"])),
        "time": grouped["time"].min(),
    })
    positions.loc[~complete, ["latitude", "longitude"]] = np.nan
    positions.loc[~complete, "time"] = pd.NaT
    return positions


def great_circle_km(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Pairwise great-circle distances (km) between points given in degrees."""
    points = np.radians(np.column_stack([latitude, longitude]))
    return haversine_distances(points) * EARTH_RADIUS_KM


def days_apart(times: pd.Series) -> np.ndarray:
    """Pairwise absolute differences of UTC timestamps, in days."""
    seconds = (times - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    return np.abs(seconds[:, None] - seconds[None, :]) / SECONDS_PER_DAY


def coverage(table: pd.DataFrame) -> dict[str, Any]:
    """How many slip models have an epicentre and a time, and from where."""
    return {
        "slip_models": len(table),
        "with_epicentre": int(table["latitude"].notna().sum()),
        "with_time": int(table["time"].notna().sum()),
        "epicentres_from": table["location_from"].replace("", "none")
        .str.replace(r"^fsp/.*", "fsp/*.fsp", regex=True).value_counts().to_dict(),
        "times_from": table["time_from"].replace("", "none").value_counts().to_dict(),
    }


def events_stage(params: dict[str, Any], raw: Input, out: Output) -> None:
    """Epicentre and origin time of every slip model, for the spatio-temporal clusters.

    inputs:  raw, the original layout (its fsp/*.fsp headers or events.csv supply
             epicentres; events.csv may also give times); the shipped MainShockTimes.csv
             of Process-Srcmod-Files (origin times of the published slip models).
    outputs: out (CSV): slip_model, event, latitude, longitude (degrees), time (UTC),
             location_from, time_from; empty where nothing supplies a value.
    params:  none
    """
    del params  # the stage reads no params; the signature is the CLI's
    table = events_table(open_layout(raw))
    write_events(table, out)
    counts = coverage(table)
    log.info("events: %d slip models, %d with an epicentre (%s), %d with an origin time (%s)",
             counts["slip_models"], counts["with_epicentre"], counts["epicentres_from"],
             counts["with_time"], counts["times_from"])
    if counts["with_epicentre"] < counts["slip_models"]:
        log.info("epicentres missing for %d slip models: split.grouped_by=spatiotemporal "
                 "needs them (%s)", counts["slip_models"] - counts["with_epicentre"],
                 SUPPLY_EPICENTRES)
