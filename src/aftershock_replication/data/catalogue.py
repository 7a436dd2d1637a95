"""An earthquake catalogue as a plain CSV, and the aftershocks the original kept from it.

Columns (any order, names as here; extra columns are ignored):
``time`` (ISO 8601, UTC unless an offset is given), ``latitude``, ``longitude`` (degrees),
``depth`` (km), ``magnitude``, ``magnitude_type`` (e.g. mb, ML, Mw, Ms), and optionally
``magnitude_author``. The ISC bulletin's CSV export holds the same fields (DATE and TIME,
LAT, LON, DEPTH, and per magnitude an AUTHOR, TYPE and MAG); write one row per event with
the magnitude you choose to filter on (README, "Rebuilding from SRCMOD").

The selection is Process-Srcmod-Files' (``ISCFunctions.getIscEventCatalog``): rows with a
magnitude, depth, latitude, longitude and magnitude type (and author, where the column
exists); |latitude| < 84 (the UTM limit); depth not exactly 0; a time strictly between
the window's ends; a magnitude type among ``MAGNITUDE_TYPES`` (spaces removed first).
An empty cell is a missing value, as the original's coercion made it; any other text where
a number or a time belongs is an error naming the file, column and row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .origin_times import parse_times

REQUIRED_COLUMNS = ("time", "latitude", "longitude", "depth", "magnitude", "magnitude_type")
NUMERIC_COLUMNS = ("latitude", "longitude", "depth", "magnitude")
AUTHOR_COLUMN = "magnitude_author"
# the magnitude types the original accepted (body-wave, local, moment, surface-wave)
MAGNITUDE_TYPES = frozenset({
    "Mb", "mb", "MB", "mB", "ML", "Ml", "ml", "mL", "Mw", "MW", "mW", "mw", "Ms", "MS", "mS",
    "ms",
})
UTM_LATITUDE_LIMIT = 84.0  # degrees; the original dropped events at or beyond it


@dataclass(frozen=True)
class Catalogue:
    """A validated catalogue: times (UTC), positions, depth (km) and magnitudes."""

    path: Path
    table: pd.DataFrame  # columns time, latitude, longitude, depth, magnitude, magnitude_type

    def __len__(self) -> int:
        return len(self.table)


def _numbers(values: pd.Series, where: str) -> pd.Series:
    """Numbers from text; empty cells become NaN, other non-numbers are errors."""
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    numbers = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = numbers.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{where}: data row {row + 1} has {values.iloc[row]!r}; expected a "
                         "number (or an empty cell for a missing value)")
    if not np.isfinite(numbers.dropna().to_numpy(dtype=np.float64)).all():
        row = int(np.flatnonzero(~np.isfinite(numbers.fillna(0).to_numpy(np.float64)))[0])
        raise InputError(f"{where}: data row {row + 1} has {values.iloc[row]!r}; expected a "
                         "finite number")
    return numbers.astype(np.float64)


def read_catalogue(path: Path) -> Catalogue:
    """Read and check a catalogue CSV (module docstring); errors name the file, the column
    and the data row."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{path}: catalogue file not found; expected a CSV with columns "
                         f"{', '.join(REQUIRED_COLUMNS)}") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:
        raise InputError(f"{path}: cannot read the catalogue as CSV ({error})") from error
    raw.columns = [str(column).strip().lstrip("\ufeff").lower() for column in raw.columns]
    missing = [column for column in REQUIRED_COLUMNS if column not in raw.columns]
    if missing:
        raise InputError(f"{path}: catalogue misses column(s) {', '.join(missing)}; expected "
                         f"{', '.join(REQUIRED_COLUMNS)} (found {', '.join(raw.columns)})")
    table = pd.DataFrame({"time": parse_times(raw["time"], f"{path}, column 'time'")})
    for column in NUMERIC_COLUMNS:
        table[column] = _numbers(raw[column], f"{path}, column '{column}'")
    bad = table["latitude"].abs() > 90.0
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{path}, column 'latitude': data row {row + 1} has "
                         f"{raw['latitude'].iloc[row]!r}; expected degrees in [-90, 90]")
    table["magnitude_type"] = raw["magnitude_type"].str.replace(r"\s+", "", regex=True)
    if AUTHOR_COLUMN in raw.columns:
        table[AUTHOR_COLUMN] = raw[AUTHOR_COLUMN].str.strip()
    return Catalogue(path=path, table=table)


def select_aftershocks(catalogue: Catalogue, start: pd.Timestamp,
                       end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, int]]:
    """The events the original kept for one window (module docstring), and how many each
    rule removed, in the order the rules are applied."""
    table = catalogue.table
    removed: dict[str, int] = {}

    def keep(mask: pd.Series, reason: str) -> None:
        nonlocal table
        removed[reason] = int((~mask).sum())
        table = table[mask]

    complete = table[list(NUMERIC_COLUMNS)].notna().all(axis=1) & table["time"].notna()
    complete &= table["magnitude_type"] != ""
    if AUTHOR_COLUMN in table.columns:
        complete &= table[AUTHOR_COLUMN] != ""
    keep(complete, "missing value")
    keep(table["latitude"].abs() < UTM_LATITUDE_LIMIT, "beyond the UTM latitude limit")
    keep(table["depth"] != 0.0, "depth exactly 0")
    keep((table["time"] > start) & (table["time"] < end), "outside the time window")
    keep(table["magnitude_type"].isin(MAGNITUDE_TYPES), "magnitude type not accepted")
    return table, removed
