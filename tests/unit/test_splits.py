"""Partitions and the leakage audit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from aftershock_replication import cli
from aftershock_replication.errors import InputError
from aftershock_replication.events import EARTH_RADIUS_KM, read_mainshock_times
from aftershock_replication.params import SplitParams
from aftershock_replication.splits import (
    audit,
    leakage_audit,
    make_splits,
    minimum_groups,
    spatiotemporal_groups,
    with_levels,
)
from helpers import ROOT, SHARED_SAMPLES

NAMES = ["1995KOBEJA01YOSH", "1995KOBEJA01WALD", "1995KOBEJA02HORI", "1999CHICHI01MAxx",
         "1999CHICHI01JIxx", "2004PARKFI01CUST", "2010DARFIE01ATZO", "2011TOHOKU01SHAO",
         "2011TOHOKU02AMMO", "1992LANDER01COHE"]


def models_table(names: list[str], test: set[str] | None = None) -> pd.DataFrame:
    """A slip-model table like splits.slip_model_table builds, 100 rows and 5 positives each."""
    test = {"1999CHICHI01MAxx", "1999CHICHI01JIxx"} if test is None else test
    return pd.DataFrame({
        "event": [n[:12] for n in names], "sequence": [n[:10] for n in names],
        "paper_role": ["test" if n in test else "train" for n in names],
        "rows": 100, "positives": 5,
    }, index=pd.Index(names, name="slip_model"))


def events_table(names: list[str]) -> pd.DataFrame:
    """An events stage table: the earthquakes of one region-year ~10 km apart and weeks
    apart; regions thousands of km apart."""
    rng = np.random.default_rng(0)
    regions = sorted({n[:10] for n in names})
    latitude = [-60 + 12 * regions.index(n[:10]) + 0.1 * int(n[10:12]) for n in names]
    return pd.DataFrame({
        "slip_model": names, "event": [n[:12] for n in names],
        "latitude": np.add(latitude, rng.normal(0, 0.01, len(names))), "longitude": 10.0,
        "time": [pd.Timestamp(f"{n[:4]}-03-01", tz="UTC") + pd.Timedelta(days=20 * int(n[10:12]))
                 for n in names],
        "location_from": "events.csv", "time_from": "events.csv",
    })


def params(**changes: object) -> SplitParams:
    base = {"seeds": 4, "test_size": 0.3, "leaky_by": "event", "grouped_by": "sequence",
            "cluster_km": 50.0, "cluster_days": 365.0}
    return SplitParams(**{**base, **changes})


def test_audit_finds_every_straddling_group_of_a_hand_made_split() -> None:
    models = models_table(NAMES)
    splits = make_splits(models, params(), events_table(NAMES))
    levels = with_levels(models, pd.Series(splits["spatiotemporal"]["groups"]))
    test = ["1995KOBEJA01WALD", "1995KOBEJA02HORI", "2011TOHOKU02AMMO", "2004PARKFI01CUST"]
    report = audit(levels, test)
    assert report["slip_model"] == []
    assert [g["group"] for g in report["event"]] == ["1995KOBEJA01"]
    assert report["event"][0]["train_slip_models"] == ["1995KOBEJA01YOSH"]
    assert report["event"][0]["test_slip_models"] == ["1995KOBEJA01WALD"]
    assert [g["group"] for g in report["sequence"]] == ["1995KOBEJA", "2011TOHOKU"]
    kobe = report["sequence"][0]
    assert kobe["test_row_share"] == pytest.approx(200 / 400)
    assert kobe["test_slip_models"] == ["1995KOBEJA01WALD", "1995KOBEJA02HORI"]
    assert len(report["spatiotemporal"]) == 2  # Kobe's two earthquakes are one cluster


def test_grouped_partitions_never_straddle_and_leaky_ones_are_by_event() -> None:
    models = models_table(NAMES)
    splits = make_splits(models, params(), events_table(NAMES))
    report = leakage_audit(models, splits)
    for partition in report["grouped"].values():
        assert all(partition[level] == [] for level in ("slip_model", "event", "sequence"))
    for partition in report["leaky"].values():
        assert partition["event"] == [] and partition["slip_model"] == []
    assert list(report["paper"]) == ["paper"]
    assert splits["seeds"] == [0, 1, 2, 3]
    assert "share of units" in splits["test_size_is"]


def test_same_seed_same_partition_and_more_seeds_only_add() -> None:
    models = models_table(NAMES)
    three = make_splits(models, params(seeds=3), None)["schemes"]
    ten = make_splits(models, params(seeds=10), None)["schemes"]
    for scheme in ("leaky", "grouped"):
        assert all(three[scheme][k] == ten[scheme][k] for k in three[scheme])
        assert len(ten[scheme]) == 10


def test_spatiotemporal_merges_nearby_events_transitively() -> None:
    # 0.4 degrees of latitude = 44.5 km: A-B and B-C merge within 50 km, A-C only through B;
    # D is far away; E is near A but five years later
    events = pd.DataFrame({
        "latitude": [0.0, 0.4, 0.8, 10.0, 0.0], "longitude": 0.0,
        "time": pd.to_datetime(["2000-01-01"] * 4 + ["2005-01-01"], utc=True),
    }, index=list("ABCDE"))
    groups = spatiotemporal_groups(events, cluster_km=50, cluster_days=365)
    assert groups["A"] == groups["B"] == groups["C"] == "A"
    assert len({groups["A"], groups["D"], groups["E"]}) == 3


def test_with_the_default_params_a_new_year_pair_merges_but_not_400_days_or_150_km_apart(
) -> None:
    """Exact times and great-circle distances: two earthquakes 60 km apart on either side of
    the antimeridian, 20 days apart across a new year, merge; 400 days apart they do not, nor
    do they 20 days but 150 km apart (each condition is needed)."""
    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())["split"]
    degrees_per_km = 1.0 / (EARTH_RADIUS_KM * np.pi / 180.0)
    for km, days, merged in ((60, 20, True), (60, 400, False), (150, 20, False)):
        half = km * degrees_per_km / 2  # +- half: km apart, 2 km across the antimeridian
        events = pd.DataFrame({
            "latitude": [-half, half], "longitude": [179.99, -179.99],
            "time": [pd.Timestamp("1999-12-22T10:00", tz="UTC"),
                     pd.Timestamp("1999-12-22T10:00", tz="UTC") + pd.Timedelta(days=days)],
        }, index=["1999AAAAAA01", "2000BBBBBB01"])
        groups = spatiotemporal_groups(events, defaults["cluster_km"], defaults["cluster_days"])
        assert (groups.nunique() == 1) is merged, (km, days)


def test_spatiotemporal_grouping_without_epicentres_says_what_to_supply() -> None:
    models = models_table(NAMES)
    events = events_table(NAMES)
    events.loc[events["slip_model"] == "2004PARKFI01CUST", "latitude"] = np.nan
    with pytest.raises(InputError, match=rf"1 of the {len(NAMES)} slip models, in 1 of the 8 "
                                         r"earthquakes, lacks an epicentre.*2004PARKFI01CUST"
                                         r".*fsp/.*events.csv.*dvc repro -f acquire"
                                         r".*split.grouped_by=sequence"):
        make_splits(models, params(grouped_by="spatiotemporal"), events)
    # by sequence the clusters are not needed: left out of the splits and the audit
    splits = make_splits(models, params(), events)
    assert splits["spatiotemporal"]["groups"] is None
    assert "lacks an epicentre" in splits["spatiotemporal"]["not_computed_because"]
    assert "spatiotemporal" not in leakage_audit(models, splits)["paper"]["paper"]
    assert splits["slip_models"] == sorted(NAMES)


def test_grouped_partitions_by_cluster_keep_every_cluster_on_one_side() -> None:
    models = models_table(NAMES)
    splits = make_splits(models, params(grouped_by="spatiotemporal"), events_table(NAMES))
    report = leakage_audit(models, splits)
    assert all(partition["spatiotemporal"] == [] for partition in report["grouped"].values())


@pytest.mark.parametrize(("change", "message"), [
    ({"test_size": 0.95}, "leaves no group for training in the leaky scheme; at least 20 "
                          "event groups are needed"),
])
def test_bad_split_params(change: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_splits(models_table(NAMES), params(**change), None)


@pytest.mark.parametrize(("test_size", "groups"), [(0.2, 2), (0.5, 2), (0.6, 3), (0.95, 20)])
def test_the_minimum_number_of_groups_keeps_one_for_training(test_size: float,
                                                             groups: int) -> None:
    """n - ceil(test_size * n) >= 1 first holds at ``groups`` (worked by hand)."""
    assert minimum_groups(test_size) == groups


@pytest.mark.parametrize(("split", "message"), [
    ({"test_size": 1.0}, r"split.test_size' must lie in \(0.0, 1.0\)"),
    ({"leaky_by": "region"}, "split.leaky_by' must be one of event, slip_model"),
    ({"grouped_by": "year"}, "split.grouped_by' must be one of physical, sequence, spatiotemporal"),
])
def test_split_params_are_validated(split: dict, message: str) -> None:
    raw = {"seeds": 3, "split": {"test_size": 0.2, "leaky_by": "event", "grouped_by": "sequence",
                                 "cluster_km": 50, "cluster_days": 365, **split}}
    with pytest.raises(InputError, match=message):
        SplitParams.from_params(raw)


def test_seeds_below_one_is_an_error() -> None:
    raw = {"seeds": 0, "split": {"test_size": 0.2, "leaky_by": "event", "grouped_by": "sequence",
                                 "cluster_km": 50, "cluster_days": 365}}
    with pytest.raises(InputError, match="'seeds' must be >= 1"):
        SplitParams.from_params(raw)


def test_a_split_leaving_a_class_absent_is_an_error() -> None:
    models = models_table(NAMES)
    models.loc[models.sequence == "1995KOBEJA", "positives"] = 100  # all-positive
    models.loc[models.sequence != "1995KOBEJA", "positives"] = 0  # all-negative elsewhere
    with pytest.raises(InputError, match="both classes are needed on both sides"):
        make_splits(models, params(seeds=8), None)


@pytest.mark.skipif(not (SHARED_SAMPLES / "paper_split_names.csv").is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_audit_of_the_published_split_finds_its_five_straddling_sequences() -> None:
    with (SHARED_SAMPLES / "paper_split_names.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    test = {row["name"] for row in rows if row["role"] == "test"}
    models = models_table([row["name"] for row in rows], test)
    splits = make_splits(models, params(seeds=1, test_size=0.2), None)
    report = leakage_audit(models, splits)["paper"]["paper"]
    assert report["event"] == []  # the paper kept each earthquake's slip models together
    assert len(report["sequence"]) == 5  # STUDY.md: 5 sequences straddle


def test_the_split_stage_runs_on_a_table_without_coordinates_when_grouping_by_sequence(
    original_layout: Path, tmp_path: Path,
) -> None:
    """x, y are optional in the feature table; grouping by sequence needs neither them nor
    epicentres (the published layout has none)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["seeds"], params["split"]["test_size"] = 2, 0.3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    features, events = tmp_path / "features.parquet", tmp_path / "events.csv"

    def replicate(*argv: object) -> int:
        return cli.main([str(argv[0]), "--params", str(tmp_path / "params.yaml"),
                         *map(str, argv[1:])])

    assert replicate("features", "--raw", original_layout, "--out", features,
                     "--report", tmp_path / "features.json") == 0
    assert replicate("events", "--raw", original_layout, "--out", events) == 0
    pd.read_parquet(features).drop(columns=["x", "y"]).to_parquet(features)
    assert replicate("split", "--features", features, "--events", events,
                     "--out", tmp_path / "splits.json", "--audit", tmp_path / "audit.json") == 0
    splits = json.loads((tmp_path / "splits.json").read_text())
    assert splits["spatiotemporal"]["groups"] is None  # no epicentres: not computed
    assert set(splits["schemes"]["grouped"]) == {"0", "1"}


def test_physical_sequences_hold_together_in_grouped_partitions() -> None:
    """Grouped by physical sequence, earthquakes the link table joins (Michoacan and its
    aftershock at Zihuatanejo; Joshua Tree, Landers and Little Skull Mountain) or that share
    an origin time (2006 Java under two codes) never fall on both sides, although their
    name prefixes differ; without epicentres the origin times and links still apply."""
    names = ["1985MICHOA01MEND", "1985ZIHUAT01MEND", "1992JOSHUA01HOUG", "1992LANDER01COHE",
             "1992LITTLE01SILV", "2006JAVAIN01YAGI", "2006SOUTHE01JIxx", "1995KOBEJA01YOSH",
             "2004PARKFI01CUST", "2010DARFIE01ATZO", "1999CHICHI01MAxx", "2008WENCHU01JIxx"]
    times = read_mainshock_times().reindex(names)
    events = pd.DataFrame({"slip_model": names, "event": [n[:12] for n in names],
                           "latitude": np.nan, "longitude": np.nan, "time": times.to_numpy(),
                           "location_from": "", "time_from": "MainShockTimes.csv"})
    models = models_table(names, test={"1999CHICHI01MAxx"})
    splits = make_splits(models, params(grouped_by="physical", seeds=20, test_size=0.25),
                         events)
    physical = splits["physical"]["groups"]
    assert physical["1985ZIHUAT01MEND"] == physical["1985MICHOA01MEND"] == "1985MICHOA"
    assert len({physical[n] for n in names[2:5]}) == 1
    assert physical["2006SOUTHE01JIxx"] == physical["2006JAVAIN01YAGI"]
    assert len(set(physical.values())) == 8
    together = [names[:2], names[2:5], names[5:7]]
    for test in splits["schemes"]["grouped"].values():
        for members in together:
            assert len({name in test for name in members}) == 1
    report = leakage_audit(models, splits)
    assert all(report["grouped"][seed]["physical"] == [] for seed in report["grouped"])
    # without an events table the shipped tables still join one earthquake's two codes
    bare = make_splits(models, params(grouped_by="physical", seeds=2, test_size=0.25))
    groups = bare["physical"]["groups"]
    assert groups["2006SOUTHE01JIxx"] == groups["2006JAVAIN01YAGI"]
    assert groups["1985ZIHUAT01MEND"] == groups["1985MICHOA01MEND"]


def test_splits_carry_each_slip_models_origin_time_for_the_future_only_arm() -> None:
    events = events_table(NAMES)
    events.loc[events["slip_model"] == "2004PARKFI01CUST", "time"] = pd.NaT
    splits = make_splits(models_table(NAMES), params(), events)
    times = splits["origin_times"]
    assert times["1995KOBEJA02HORI"] == "1995-04-10T00:00:00Z"  # 1 March + 40 days
    assert times["2004PARKFI01CUST"] is None  # unknown stays unknown, never a guess
    assert set(times) == set(NAMES)
    assert make_splits(models_table(NAMES), params(), None)["origin_times"] is None
