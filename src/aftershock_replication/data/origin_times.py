"""Origin times of the slip models' mainshocks, and the parser of ISO 8601 times.

``MainShockTimes.csv`` of Process-Srcmod-Files (DeVries & Meade 2018, MIT licence) is
shipped here: one UTC time per slip model of the published data. The events stage reads it
for the split's clusters; the SRCMOD rebuild starts each aftershock window from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .layout import slip_model_name

SHIPPED_TIMES = Path(__file__).parent / "MainShockTimes.csv"
TIME_DTYPE = "datetime64[us, UTC]"


def parse_times(values: pd.Series, where: str) -> pd.Series:
    """ISO 8601 texts (a trailing ' UTC' allowed; no offset = UTC) -> UTC timestamps; empty
    cells become NaT, anything else unreadable is an error naming ``where`` and the data row
    (blank lines are not counted, so the row, not the line, is named)."""
    text = values.astype("string").str.strip().str.replace(r"\s*UTC$", "", case=False,
                                                           regex=True)
    empty = text.isna() | (text == "")
    times = pd.to_datetime(text.where(~empty), utc=True, errors="coerce",
                           format="ISO8601").astype(TIME_DTYPE)
    bad = times.isna() & ~empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{where}: data row {row + 1} has time "
                         f"{values.iloc[row]!r}; expected ISO 8601, e.g. 1992-06-28 11:57:34")
    return times


def read_mainshock_times(path: Path = SHIPPED_TIMES) -> pd.Series:
    """Origin time (UTC) per slip-model name, from a ``MainShockTimes.csv`` of
    Process-Srcmod-Files (names quoted as ``'<name>_grid.csv'``)."""
    try:
        table = pd.read_csv(path, quotechar="'", skipinitialspace=True, dtype=str)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the mainshock times ({error})") from error
    missing = {"earthquake", "time"} - set(table.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected "
                         "earthquake,time as in Process-Srcmod-Files")
    names = table["earthquake"].str.strip().map(slip_model_name)
    times = parse_times(table["time"], f"{path}, column 'time'")
    return pd.Series(times.to_numpy(), index=pd.Index(names, name="slip_model"), name="time")
