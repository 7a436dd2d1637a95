"""UTM coordinates of a slip model's region, as the original pre-processing made them.

Process-Srcmod-Files projects every point (patches, catalogue events) into the UTM zone of
the slip model's epicentre with ``pyproj.Proj(proj='utm', zone='<number><letter>')``.
The PROJ of 2018 read the zone as a number and ignored the letter, so a southern-hemisphere
model was projected with the northern formulas: its northings are negative (no 10,000 km
false northing). Today's PROJ refuses the letter. ``original`` reproduces the 2018
behaviour (zone number only, never ``+south``); ``corrected`` adds ``+south`` south of the
equator. Distances, and so every stress and count, are the same either way; only the
``y`` column differs, by 10,000,000 m.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyproj

from ..params import PROJECTIONS

FALSE_NORTHING_SOUTH = 10_000_000.0  # metres, what ``corrected`` adds south of the equator


def utm_zone_number(latitude: float, longitude: float) -> int:
    """The UTM zone of a point, with the Norway and Svalbard exceptions (as the ``utm``
    package the original called computes it; PROJ takes the zone, it does not choose it)."""
    longitude = (longitude + 180.0) % 360.0 - 180.0
    if 56.0 <= latitude < 64.0 and 3.0 <= longitude < 12.0:
        return 32
    if 72.0 <= latitude <= 84.0 and longitude >= 0.0:
        for upper, zone in ((9.0, 31), (21.0, 33), (33.0, 35), (42.0, 37)):
            if longitude < upper:
                return zone
    return math.floor((longitude + 180.0) / 6.0) % 60 + 1


Projector = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def projector(latitude: float, longitude: float, projection: str = "original") -> Projector:
    """(longitudes, latitudes) in degrees -> (eastings, northings) in metres, in the UTM zone
    of the epicentre (``latitude``, ``longitude``), WGS84, as ``projection`` says."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {projection!r}")
    zone = utm_zone_number(latitude, longitude)
    south = projection == "corrected" and latitude < 0.0
    proj = pyproj.Proj(proj="utm", zone=zone, ellps="WGS84", south=south)

    def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = proj(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    return project
