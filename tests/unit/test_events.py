"""Epicentres and origin times: the shipped mainshock times, .fsp headers, a user's
events.csv, great-circle distances, and the events stage feeding spatio-temporal splits."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from aftershock_replication import cli
from aftershock_replication.data.layout import open_layout
from aftershock_replication.data.sources import link_layout
from aftershock_replication.errors import InputError
from aftershock_replication.events import (
    EARTH_RADIUS_KM,
    event_positions,
    events_table,
    great_circle_km,
    read_events,
    read_fsp_epicentre,
    read_mainshock_times,
    write_events,
)
from helpers import ROOT, SHARED_SAMPLES

FSP_HEADER = """% ----------------------------------  FINITE-SOURCE RUPTURE MODEL  ----------
%
% Event : Kobe (Japan)\t\t01/17/1995\t\t[Wald (1996)]
% EventTAG: s{name}
%
% Loc  : LAT  = {lat} \t\tLON = {lon}\t\tDEP = 10.0
% Size : LEN  = 60.0 km \tWID =  20.0 km\t\tMw = 6.9
"""


def write_fsp(directory: Path, name: str, lat: float, lon: float) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"s{name}.fsp"
    path.write_text(FSP_HEADER.format(name=name, lat=lat, lon=lon) + "% ...\n 34.1 -116.2 0.5\n")
    return path


def test_the_shipped_mainshock_times_are_read_exactly() -> None:
    times = read_mainshock_times()
    assert times["1992LANDER01COHE"] == pd.Timestamp("1992-06-28 11:57:34", tz="UTC")
    assert times["2011VANTUR01ELLI_1"] == pd.Timestamp("2011-10-23 10:41:23", tz="UTC")
    assert times.index.is_unique and len(times) == 310


@pytest.mark.skipif(not (SHARED_SAMPLES / "paper_split_names.csv").is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_every_published_slip_model_has_a_shipped_origin_time() -> None:
    with (SHARED_SAMPLES / "paper_split_names.csv").open() as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    times = read_mainshock_times()
    assert len(names) == 199 and set(names) <= set(times.index)
    # the name's year is the origin time's year
    assert all(times[name].year == int(name[:4]) for name in names)


@pytest.mark.skipif(not (SHARED_SAMPLES / "s1992LANDER01COHE.fsp").is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_the_epicentre_of_a_real_srcmod_file() -> None:
    assert read_fsp_epicentre(SHARED_SAMPLES / "s1992LANDER01COHE.fsp") == \
        ("1992LANDER01COHE", 34.2, -116.43)


def test_a_file_without_an_fsp_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.fsp"
    path.write_text("% EventTAG: s1995KOBEJA01YOSH\n% nothing else\n")
    with pytest.raises(InputError, match=r"notes.fsp: not an SRCMOD .fsp header: no Loc"):
        read_fsp_epicentre(path)


def law_of_cosines_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the spherical law of cosines (a different formula)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, cosine)))


def test_great_circle_distances_agree_with_the_law_of_cosines() -> None:
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 12), rng.uniform(-180, 180, 12)
    distances = great_circle_km(lat, lon)
    assert np.diag(distances).tolist() == [0.0] * 12
    for i in range(12):
        for j in range(i + 1, 12):
            assert distances[i, j] == pytest.approx(
                law_of_cosines_km(lat[i], lon[i], lat[j], lon[j]), abs=1e-6)
    # one degree of a great circle on the mean sphere; across the antimeridian too
    assert great_circle_km(np.array([0.0, 1.0]), np.array([0.0, 0.0]))[0, 1] == \
        pytest.approx(111.195, abs=1e-3)
    assert great_circle_km(np.array([0.0, 0.0]), np.array([179.5, -179.5]))[0, 1] == \
        pytest.approx(111.195, abs=1e-3)


def test_an_earthquake_across_the_antimeridian_is_placed_on_it() -> None:
    table = pd.DataFrame({
        "event": ["2011KERMAD01", "2011KERMAD01"], "latitude": [-29.0, -29.2],
        "longitude": [179.8, -179.8],
        "time": pd.to_datetime(["2011-07-06T19:03:18Z"] * 2, utc=True),
    })
    position = event_positions(table).loc["2011KERMAD01"]
    assert abs(position["longitude"]) == pytest.approx(180.0, abs=1e-3)
    assert position["latitude"] == pytest.approx(-29.1, abs=1e-3)
    table.loc[1, "time"] = pd.NaT  # a slip model without a time leaves the event unknown
    assert event_positions(table)[["latitude", "time"]].isna().all(axis=None)


def test_events_come_from_shipped_times_fsp_headers_and_events_csv(
    original_layout: Path,
) -> None:
    # no epicentres in the published layout: times only where the shipped table has them
    table = events_table(open_layout(original_layout)).set_index("slip_model")
    assert table["latitude"].isna().all()
    assert table.loc["1995KOBEJA01YOSH", "time"] == pd.Timestamp("1995-01-16 20:46:52",
                                                                 tz="UTC")
    assert table.loc["1995KOBEJA01YOSH", "time_from"] == "MainShockTimes.csv"
    assert table.loc["1995KOBEJA02HORI", "time_from"] == ""  # a name the table lacks
    # fsp headers give epicentres; events.csv wins over both and can key by event
    write_fsp(original_layout / "fsp", "1995KOBEJA01YOSH", 34.6, 135.0)
    write_fsp(original_layout / "fsp", "1999CHICHI01MAxx", 23.8, 120.9)
    (original_layout / "events.csv").write_text(
        "event,latitude,longitude,time\n"
        "1995KOBEJA02,34.5,135.1,1995-01-20T03:00:00Z\n"
        "1999CHICHI01,23.85,120.82,\n")
    table = events_table(open_layout(original_layout)).set_index("slip_model")
    assert table.loc["1995KOBEJA01YOSH", ["latitude", "location_from"]].tolist() == \
        [34.6, "fsp/s1995KOBEJA01YOSH.fsp"]
    assert table.loc["1999CHICHI01MAxx", ["latitude", "location_from", "time_from"]].tolist() \
        == [23.85, "events.csv", "MainShockTimes.csv"]
    assert table.loc["1995KOBEJA02HORI", "time"] == pd.Timestamp("1995-01-20 03:00", tz="UTC")


@pytest.mark.parametrize(("content", "message"), [
    ("slip_model,lat,lon\n", "expected columns slip_model \\(or event\\), latitude, longitude"),
    ("slip_model,latitude,longitude\n1995KOBEJA01YOSH,95,135\n",
     "data row 1 has latitude 95; expected a number of degrees in \\[-90, 90\\]"),
    ("slip_model,latitude,longitude\n1995KOBEJA01YOSH,north,135\n",
     "data row 1 has latitude 'north'; expected a number of degrees"),
    ("slip_model,latitude,longitude,time\n1995KOBEJA01YOSH,34,135,17 January\n",
     "data row 1 has time '17 January'; expected ISO 8601"),
    ("slip_model,latitude,longitude\n1995KOBEJA01YOSH,34,135\n1995KOBEJA01YOSH,34,135\n",
     "data row 2 has a repeated slip_model '1995KOBEJA01YOSH'; expected one row per "
     "slip_model"),
    ("event,latitude,longitude\n1995KOBEJA01,34,135\n,34,135\n",
     "data row 2 has an empty event ''; expected one row per event"),
    ("slip_model,latitude,longitude\n1995KOBEJA01YOSH,34,\n",
     "data row 1 gives only one of latitude and longitude"),
])
def test_a_bad_events_csv_is_named_with_its_row(
    original_layout: Path, content: str, message: str,
) -> None:
    (original_layout / "events.csv").write_text(content)
    with pytest.raises(InputError, match=f"events.csv.*{message}"):
        events_table(open_layout(original_layout))


def test_an_fsp_header_out_of_range_is_named_by_its_file(original_layout: Path) -> None:
    path = write_fsp(original_layout / "fsp", "1995KOBEJA01YOSH", 134.6, 135.0)
    with pytest.raises(InputError, match=rf"{path.name}: the 'Loc' line gives LAT = 134.6"):
        events_table(open_layout(original_layout))


def test_an_empty_fsp_folder_and_unreadable_headers(original_layout: Path) -> None:
    (original_layout / "fsp").mkdir()
    (original_layout / "fsp" / "notes.txt").write_text("not a slip model\n")
    table = events_table(open_layout(original_layout))  # nothing supplied: no epicentres
    assert table["latitude"].isna().all() and table["latitude"].dtype == float
    path = original_layout / "fsp" / "s1995KOBEJA01YOSH.fsp"
    path.write_text(FSP_HEADER.format(name="1995KOBEJA01YOSH", lat="-", lon="135.0"))
    with pytest.raises(InputError, match=rf"{path.name}: the 'Loc' line gives LAT = '-'"):
        events_table(open_layout(original_layout))


def test_an_fsp_entry_that_cannot_be_read_is_named(original_layout: Path) -> None:
    """A directory among the .fsp files (or a link whose file went after acquire, which
    refuses both in the user's folder): named, not a traceback."""
    (original_layout / "fsp" / "s1995KOBEJA01YOSH.fsp").mkdir(parents=True)
    with pytest.raises(InputError, match=r"fsp/s1995KOBEJA01YOSH\.fsp: cannot read \(Is a "
                                         r"directory\); expected an SRCMOD \.fsp file"):
        events_table(open_layout(original_layout))


def test_na_like_texts_are_values_not_missing_cells(original_layout: Path) -> None:
    """Only an empty cell is missing: 'NA' as a key or a coordinate is an error, not a
    silently absent epicentre."""
    (original_layout / "events.csv").write_text("event,latitude,longitude\nNA,34,135\n")
    events_table(open_layout(original_layout))  # an unknown event: ignored with a warning
    (original_layout / "events.csv").write_text(
        "slip_model,latitude,longitude\n1995KOBEJA01YOSH,NA,NA\n")
    with pytest.raises(InputError, match="data row 1 has latitude 'NA'"):
        events_table(open_layout(original_layout))


def test_the_events_stage_output_serves_as_a_users_events_csv(
    original_layout: Path, tmp_path: Path,
) -> None:
    """A user may copy data/events.csv back as events.csv: it has both key columns (slip_model
    is used), rows without an epicentre, and times with fractional seconds kept."""
    write_fsp(original_layout / "fsp", "1995KOBEJA01YOSH", 34.6, 135.0)
    table = events_table(open_layout(original_layout))
    table.loc[table["slip_model"] == "1995KOBEJA01YOSH", "time"] = pd.Timestamp(
        "1995-01-16T20:46:52.25", tz="UTC")
    write_events(table, tmp_path / "events.csv")
    shutil.rmtree(original_layout / "fsp")
    shutil.copy(tmp_path / "events.csv", original_layout / "events.csv")
    again = events_table(open_layout(original_layout))
    pd.testing.assert_frame_equal(again.drop(columns=["location_from", "time_from"]),
                                  table.drop(columns=["location_from", "time_from"]))
    assert set(again.loc[again["latitude"].notna(), "location_from"]) == {"events.csv"}


def test_a_linked_layout_carries_its_epicentres(original_layout: Path, tmp_path: Path) -> None:
    write_fsp(original_layout / "fsp", "1995KOBEJA01YOSH", 34.6, 135.0)
    (original_layout / "events.csv").write_text("event,latitude,longitude\n1999CHICHI01,23.8,121\n")
    link_layout(original_layout, tmp_path / "raw")
    table = events_table(open_layout(tmp_path / "raw")).set_index("slip_model")
    assert table["latitude"].notna().sum() == 2


def test_the_demo_clusters_its_earthquakes_by_epicentre_and_time(
    tiny_demo: Path, tmp_path: Path,
) -> None:
    """The demo's own events.csv gives every slip model an epicentre and a time, and the
    split stage draws grouped partitions by spatio-temporal cluster from it."""
    raw = tmp_path / "raw"
    shutil.copytree(tiny_demo, raw)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["seeds"] = 2
    params["split"]["grouped_by"] = "spatiotemporal"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    run = [["features", "--raw", raw, "--out", tmp_path / "f.parquet", "--report",
            tmp_path / "features.json"],
           ["events", "--raw", raw, "--out", tmp_path / "events.csv"],
           ["split", "--features", tmp_path / "f.parquet", "--events", tmp_path / "events.csv",
            "--out", tmp_path / "splits.json", "--audit", tmp_path / "audit.json"]]
    for argv in run:
        assert cli.main([str(argv[0]), "--params", str(tmp_path / "params.yaml"),
                         *map(str, argv[1:])]) == 0
    events = read_events(tmp_path / "events.csv")
    assert events["latitude"].notna().all() and events["time"].notna().all()
    assert set(events["location_from"]) == {"events.csv"}
    # an earthquake's origin time lies in the year of its name
    assert (events["time"].dt.year == events["slip_model"].str[:4].astype(int)).all()
    splits = yaml.safe_load((tmp_path / "splits.json").read_text())
    assert splits["units"]["grouped"] == "spatiotemporal"
    groups = pd.Series(splits["spatiotemporal"]["groups"])
    assert set(groups.index) == set(splits["slip_models"])
    # a demo sequence's earthquakes lie near one another, weeks apart: some cluster holds
    # several earthquakes, and no two sequences (years apart) merge
    events_per_cluster = groups.groupby(groups).apply(lambda g: g.index.str[:12].nunique())
    sequences_per_cluster = groups.groupby(groups).apply(lambda g: g.index.str[:10].nunique())
    assert events_per_cluster.max() > 1 and (sequences_per_cluster == 1).all()
