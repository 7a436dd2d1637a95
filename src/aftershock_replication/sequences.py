"""Physical aftershock sequences of the published earthquakes, from a reviewed link table.

The critique's "sequence" is the first 10 characters of a slip-model name (year and region
code). That misses real sequences whose earthquakes carry different codes (the Michoacan
earthquake and its M7.5 aftershock at Zihuatanejo; Elmore Ranch and Superstition Hills,
11 hours apart; Joshua Tree and Landers; the Tohoku foreshock) and one earthquake published
under two codes (2006 Java: ``2006JAVAIN01`` and ``2006SOUTHE01``, one origin time).

Two tables under ``data/`` make the physical grouping auditable:

* ``published_earthquakes.csv``: the 117 distinct earthquakes of the 199 published slip
  models (one row per origin time of the shipped ``MainShockTimes.csv``: slip models with
  one origin time are one earthquake, whatever their number), with a region, an
  approximate epicentre and magnitude entered by hand (about 0.5 degrees, which the
  decision rule's 50 km margin does not fully cover: the closest unlinked pair lies 94 km
  beyond its reach);
* ``sequence_links.csv``: every pair of those earthquakes whose origin times lie within
  365 days (``LINK_WINDOW_DAYS``; the candidates, pinned by a test), with the distance,
  the reach of their aftershock grids, the decision by the rule below and a one-line
  basis (a known relation for every linked pair; the distance for the others).

Two earthquakes are linked when their aftershock zones can overlap: the original's cells
reach 100 km beyond each rupture, so grids touch when the epicentres lie within
2 x 100 km plus half of each rupture's length (Wells & Coppersmith 1994, subsurface length,
all slip types), and a further 50 km covers the epicentres' uncertainty and ruptures that
spread one way from the epicentre. Linking more cannot leak (it only merges groups), so
borderline pairs are linked. A physical sequence is a connected component of name
prefixes, shared origin times and linked pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .errors import InputError
from .events import days_apart, great_circle_km
from .names import event_of, sequence_of

DATA = Path(__file__).parent / "data"
PUBLISHED_EARTHQUAKES = DATA / "published_earthquakes.csv"
SEQUENCE_LINKS = DATA / "sequence_links.csv"

LINK_WINDOW_DAYS = 365.0  # the window the candidate pairs were drawn and reviewed for
GRID_MARGIN_KM = 100.0  # the original's cells reach this far beyond each rupture
LOCATION_UNCERTAINTY_KM = 50.0  # hand-entered epicentres; ruptures spreading one way
EARTHQUAKE_COLUMNS = ("earthquake", "slip_model_ids", "origin_time", "region", "latitude",
                      "longitude", "magnitude")
LINK_COLUMNS = ("earthquake_a", "earthquake_b", "origin_time_a", "origin_time_b",
                "days_apart", "distance_km", "reach_km", "linked", "relation", "basis")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def rupture_length_km(magnitude: np.ndarray | float) -> np.ndarray:
    """Subsurface rupture length (km) from moment magnitude: Wells & Coppersmith (1994),
    all slip types, log10 L = -2.44 + 0.59 M."""
    return 10.0 ** (-2.44 + 0.59 * np.asarray(magnitude, dtype=float))


def grid_reach_km(magnitude_a: np.ndarray | float, magnitude_b: np.ndarray | float
                  ) -> np.ndarray:
    """Epicentral distance (km) within which two earthquakes' aftershock grids can overlap."""
    half_lengths = (rupture_length_km(magnitude_a) + rupture_length_km(magnitude_b)) / 2
    return 2 * GRID_MARGIN_KM + half_lengths + LOCATION_UNCERTAINTY_KM


def earthquakes_by_origin_time(times: pd.Series) -> pd.DataFrame:
    """One row per distinct origin time of ``times`` (slip-model name -> UTC time): the
    earthquake (its first 12-character id), all its 12-character ids, the time."""
    frame = pd.DataFrame({"name": times.index.astype(str), "time": times.to_numpy()})
    if frame["time"].isna().any():
        missing = frame.loc[frame["time"].isna(), "name"].tolist()
        raise InputError(f"no origin time for slip model(s) {', '.join(missing[:5])}")
    rows = []
    for time, members in frame.groupby("time", sort=True):
        ids = sorted({event_of(name) for name in members["name"]})
        rows.append({"earthquake": ids[0], "slip_model_ids": " ".join(ids),
                     "origin_time": pd.Timestamp(time).strftime(TIME_FORMAT)})
    return pd.DataFrame(rows)


def read_published_earthquakes(path: Path = PUBLISHED_EARTHQUAKES) -> pd.DataFrame:
    """The hand-entered table of published earthquakes, checked for its columns and ranges."""
    table = pd.read_csv(path, dtype={"earthquake": str, "slip_model_ids": str})
    missing = [c for c in EARTHQUAKE_COLUMNS if c not in table]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    for column, low, high in (("latitude", -90, 90), ("longitude", -180, 180),
                              ("magnitude", 3, 10)):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or not values.between(low, high).all():
            raise InputError(f"{path}: column {column} must hold numbers in [{low}, {high}]")
    if table["earthquake"].duplicated().any():
        raise InputError(f"{path}: an earthquake appears twice")
    return table


def same_earthquake_links(earthquakes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Links between the 12-character ids that the earthquake table lists as one
    earthquake (one origin time), so that they join without an events table too."""
    table = read_published_earthquakes() if earthquakes is None else earthquakes
    rows = [{"earthquake_a": ids[0], "earthquake_b": other, "linked": True}
            for ids in (str(v).split() for v in table["slip_model_ids"]) for other in ids[1:]]
    return pd.DataFrame(rows, columns=["earthquake_a", "earthquake_b", "linked"])


def links_within(links: pd.DataFrame, cluster_days: float) -> pd.DataFrame:
    """The reviewed links of pairs at most ``cluster_days`` apart; a window beyond the one
    the table was reviewed for would leave pairs undecided, so it is refused."""
    if cluster_days > LINK_WINDOW_DAYS:
        raise InputError(
            f"params: split.cluster_days={cluster_days:g} exceeds the {LINK_WINDOW_DAYS:g} "
            f"days the link table ({SEQUENCE_LINKS.name}) was reviewed for: pairs further "
            "apart are undecided; extend the table or set split.grouped_by to sequence or "
            "spatiotemporal")
    return links.loc[links["days_apart"] <= cluster_days]


def reviewed_links(cluster_days: float, strict: bool = True) -> pd.DataFrame:
    """The links that join published earthquakes into physical sequences: the ids the
    earthquake table lists as one earthquake, and the reviewed pairs at most
    ``cluster_days`` apart (``strict``: a window beyond the reviewed one is refused, as
    when grouping by physical sequence; otherwise the table is kept as reviewed)."""
    reviewed = read_link_table()
    reviewed = (links_within(reviewed, cluster_days) if strict
                else reviewed.loc[reviewed["days_apart"] <= cluster_days])
    return pd.concat([same_earthquake_links(),
                      reviewed[["earthquake_a", "earthquake_b", "linked"]]],
                     ignore_index=True)


def candidate_pairs(earthquakes: pd.DataFrame, cluster_days: float) -> pd.DataFrame:
    """Every pair of earthquakes whose origin times lie within ``cluster_days``, with their
    distance and grid reach when the table has epicentres and magnitudes."""
    times = pd.to_datetime(earthquakes["origin_time"], utc=True)
    days = days_apart(times)
    first, second = np.nonzero(np.triu(days <= cluster_days, k=1))
    pairs = pd.DataFrame({
        "earthquake_a": earthquakes["earthquake"].to_numpy()[first],
        "earthquake_b": earthquakes["earthquake"].to_numpy()[second],
        "origin_time_a": earthquakes["origin_time"].to_numpy()[first],
        "origin_time_b": earthquakes["origin_time"].to_numpy()[second],
        "days_apart": np.round(days[first, second], 2),
    })
    if {"latitude", "longitude", "magnitude"} <= set(earthquakes):
        distance = great_circle_km(earthquakes["latitude"].to_numpy(float),
                                   earthquakes["longitude"].to_numpy(float))
        magnitude = earthquakes["magnitude"].to_numpy(float)
        pairs["distance_km"] = np.round(distance[first, second]).astype(int)
        pairs["reach_km"] = np.round(grid_reach_km(magnitude[first], magnitude[second])
                                     ).astype(int)
    return pairs


def read_link_table(path: Path = SEQUENCE_LINKS) -> pd.DataFrame:
    """The reviewed link table: every candidate pair, its decision and basis."""
    table = pd.read_csv(path, dtype={"earthquake_a": str, "earthquake_b": str,
                                     "relation": str, "basis": str})
    missing = [c for c in LINK_COLUMNS if c not in table]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    if table["linked"].dtype != bool:
        raise InputError(f"{path}: column linked must hold True or False")
    blank = table["basis"].isna() | (table["basis"].str.strip() == "")
    if blank.any():
        first = table.loc[blank].iloc[0]
        raise InputError(f"{path}: no basis for {first['earthquake_a']}-"
                         f"{first['earthquake_b']}")
    return table


def physical_sequences(names: list[str], times: pd.Series | None = None,
                       links: pd.DataFrame | None = None,
                       clusters: pd.Series | None = None) -> dict[str, str]:
    """Physical sequence per slip-model name: connected components of one name prefix, one
    origin time (``times``: name -> time, where known), the ``linked`` pairs of ``links``
    (12-character earthquake ids) and one spatio-temporal cluster (``clusters``: name ->
    cluster id, where epicentres are known). Each sequence is named by its earliest prefix
    in sorted order, so a sequence without links keeps its name-prefix id."""
    nodes = sorted({sequence_of(name) for name in names})
    index = {node: position for position, node in enumerate(nodes)}
    first: list[int] = []
    second: list[int] = []
    for shared in (times, clusters):
        if shared is None:
            continue
        known = shared.reindex(names).dropna()
        for _, members in known.groupby(known, sort=False):
            prefixes = sorted({index[sequence_of(str(n))] for n in members.index})
            first += prefixes[:1] * (len(prefixes) - 1)
            second += prefixes[1:]
    if links is not None:
        for a, b in links.loc[links["linked"], ["earthquake_a", "earthquake_b"]].itertuples(
                index=False):
            if sequence_of(a) in index and sequence_of(b) in index:
                first.append(index[sequence_of(a)])
                second.append(index[sequence_of(b)])
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(len(nodes),) * 2)
    _, component = connected_components(graph, directed=False)
    label = {c: nodes[min(np.flatnonzero(component == c))] for c in set(component)}
    return {name: label[component[index[sequence_of(name)]]] for name in names}
