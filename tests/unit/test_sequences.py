"""Physical sequences: the reviewed link table covers every candidate pair of the published
earthquakes, its decisions follow its rule, and the grouping joins what the Earth joined."""

from __future__ import annotations

import pandas as pd
import pytest

from aftershock_replication.benchmarks.dataset import paper_split_names
from aftershock_replication.benchmarks.sequence_audit import audit_paper_split
from aftershock_replication.errors import InputError
from aftershock_replication.events import read_mainshock_times
from aftershock_replication.params import load_params
from aftershock_replication.sequences import (
    LINK_WINDOW_DAYS,
    SEQUENCE_LINKS,
    candidate_pairs,
    earthquakes_by_origin_time,
    grid_reach_km,
    links_within,
    physical_sequences,
    read_link_table,
    read_published_earthquakes,
    rupture_length_km,
)

NAMES = [name for name, _ in paper_split_names()]


@pytest.fixture(scope="module")
def links() -> pd.DataFrame:
    return read_link_table()


def test_the_earthquake_table_has_one_row_per_published_origin_time() -> None:
    """Slip models sharing an origin time are one earthquake whatever their number: the
    hand-entered table must list exactly the shipped times' earthquakes."""
    expected = earthquakes_by_origin_time(read_mainshock_times().reindex(NAMES))
    table = read_published_earthquakes()
    assert len(table) == 117
    pd.testing.assert_frame_equal(table[list(expected)], expected)
    java = table.loc[table["earthquake"] == "2006JAVAIN01", "slip_model_ids"].item()
    assert java == "2006JAVAIN01 2006SOUTHE01"


def test_the_link_table_decides_every_candidate_pair_and_no_other(links) -> None:
    """The candidates are all pairs of published earthquakes within split.cluster_days of
    each other; the table must hold each once, with the distances of the earthquake table."""
    assert load_params()["split"]["cluster_days"] == LINK_WINDOW_DAYS
    candidates = candidate_pairs(read_published_earthquakes(), LINK_WINDOW_DAYS)
    assert len(candidates) == 412
    columns = list(candidates)
    pd.testing.assert_frame_equal(links[columns], candidates, check_dtype=False)


def test_decisions_follow_the_written_rule(links) -> None:
    """Linked exactly when the epicentres lie within the grids' reach."""
    assert (links["linked"] == (links["distance_km"] <= links["reach_km"])).all()
    assert (links.loc[~links["linked"], "relation"] == "none").all()
    assert (links.loc[links["linked"], "relation"] != "none").all()


def test_rupture_length_is_wells_and_coppersmith() -> None:
    """log10 L = -2.44 + 0.59 M (Wells & Coppersmith 1994, Table 2A, all slip types):
    M 7 -> 10**1.69 = 49.0 km; reach = 200 km + mean length + 50 km."""
    assert rupture_length_km(7.0) == pytest.approx(48.98, abs=0.01)
    assert grid_reach_km(7.0, 7.0) == pytest.approx(250 + 48.98, abs=0.01)


@pytest.mark.parametrize(("a", "b"), [
    ("1985MICHOA01MEND", "1985ZIHUAT01MEND"),  # M7.5 aftershock 36 hours later
    ("1987ELMORE01LARS", "1987SUPERS01WALD"),  # 11 hours apart, conjugate faults
    ("1992JOSHUA01HOUG", "1992LANDER01WALD"),  # foreshock sequence
    ("2011OFFSHO01HAYE", "2011TOHOKU01FUJI"),  # the foreshock two days before
    ("2006JAVAIN01YAGI", "2006SOUTHE01JIxx"),  # one earthquake under two codes
    ("1999IZMITT01YAGI", "1999DUZCET01BIRG"),
])
def test_known_sequences_are_one_physical_sequence(links, a: str, b: str) -> None:
    groups = physical_sequences(NAMES, read_mainshock_times(), links)
    assert groups[a] == groups[b]
    assert groups[a] != groups["1995KOBEJA01WALD"]


def test_physical_sequences_merge_prefixes_times_and_links() -> None:
    """A small example worked by hand: A-B linked, C and D share an origin time, E alone."""
    names = ["2000AAAAAA01X", "2000AAAAAA02Y", "2000BBBBBB01X", "2000CCCCCC01X",
             "2000DDDDDD01X", "2000EEEEEE01X"]
    time = pd.Timestamp("2000-01-01", tz="UTC")
    times = pd.Series([time, time + pd.Timedelta(days=1), time, time + pd.Timedelta(days=3),
                       time + pd.Timedelta(days=3), time + pd.Timedelta(days=9)], index=names)
    links = pd.DataFrame({"earthquake_a": ["2000AAAAAA01", "2000BBBBBB01"],
                          "earthquake_b": ["2000BBBBBB01", "2000EEEEEE01"],
                          "linked": [True, False]})
    groups = physical_sequences(names, times, links)
    assert groups == {"2000AAAAAA01X": "2000AAAAAA", "2000AAAAAA02Y": "2000AAAAAA",
                      "2000BBBBBB01X": "2000AAAAAA", "2000CCCCCC01X": "2000CCCCCC",
                      "2000DDDDDD01X": "2000CCCCCC", "2000EEEEEE01X": "2000EEEEEE"}
    assert physical_sequences(names) == {n: n[:10] for n in names}


def test_a_link_without_a_basis_is_refused(tmp_path) -> None:
    table = pd.read_csv(SEQUENCE_LINKS)
    table.loc[3, "basis"] = " "
    path = tmp_path / "links.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=f"{path}: no basis for "
                                         f"{table.loc[3, 'earthquake_a']}"):
        read_link_table(path)


def test_the_paper_split_exposes_more_test_earthquakes_under_physical_sequences() -> None:
    """Name prefixes find the five straddling sequences the critique lists; physical
    sequences add Michoacan (Zihuatanejo in training), Sierra Madre and Little Skull
    Mountain (Joshua Tree and Landers) and Duzce (Izmit)."""
    report = audit_paper_split()
    assert report["name_prefix"]["exposed_test_earthquakes"] == [
        "1985NAHANN01", "1996HYUGAx02", "1997COLFIO02", "1997KAGOSH01", "2010NORTHE01"]
    assert report["exposed_only_under_physical"] == [
        "1985MICHOA01", "1991SIERRA01", "1992LITTLE01", "1999DUZCET01"]
    assert report["exposed_only_under_name_prefix"] == []
    assert (report["name_prefix"]["sequences"], report["physical"]["sequences"]) == (105, 92)


def test_a_window_beyond_the_reviewed_one_is_refused_and_a_shorter_one_filters(links) -> None:
    with pytest.raises(InputError, match=r"split\.cluster_days=400 exceeds the 365 days"):
        links_within(links, 400)
    kept = links_within(links, 30)
    assert (kept["days_apart"] <= 30).all() and len(kept) < len(links)
    assert ("1992JOSHUA01", "1992LANDER01") not in set(
        zip(kept["earthquake_a"], kept["earthquake_b"], strict=True))  # 66 days apart
