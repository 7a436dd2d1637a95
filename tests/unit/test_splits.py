"""Partitions and the leakage audit."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from aftershock_replication.errors import InputError
from aftershock_replication.params import SplitParams
from aftershock_replication.splits import (
    audit,
    leakage_audit,
    make_splits,
    spatiotemporal_groups,
    with_levels,
)
from helpers import SHARED_SAMPLES

NAMES = ["1995KOBEJA01YOSH", "1995KOBEJA01WALD", "1995KOBEJA02HORI", "1999CHICHI01MAxx",
         "1999CHICHI01JIxx", "2004PARKFI01CUST", "2010DARFIE01ATZO", "2011TOHOKU01SHAO",
         "2011TOHOKU02AMMO", "1992LANDER01COHE"]


def models_table(names: list[str], test: set[str] | None = None) -> pd.DataFrame:
    """A slip-model table like splits.slip_model_table builds, 100 rows and 5 positives each."""
    rng = np.random.default_rng(0)
    test = {"1999CHICHI01MAxx", "1999CHICHI01JIxx"} if test is None else test
    frame = pd.DataFrame({
        "event": [n[:12] for n in names], "sequence": [n[:10] for n in names],
        "paper_role": ["test" if n in test else "train" for n in names],
        "rows": 100, "positives": 5,
        # events of one region-year sit near each other; regions far apart
        "x": [hash(n[:10]) % 10 * 1e6 + rng.normal(0, 1e3) for n in names],
        "y": 4e6, "year": [int(n[:4]) for n in names],
    }, index=pd.Index(names, name="slip_model"))
    return frame


def params(**changes: object) -> SplitParams:
    base = {"seeds": 4, "test_size": 0.3, "leaky_by": "event", "grouped_by": "sequence",
            "cluster_km": 50.0, "cluster_days": 365.0}
    return SplitParams(**{**base, **changes})


def test_audit_finds_every_straddling_group_of_a_hand_made_split() -> None:
    models = models_table(NAMES)
    levels = with_levels(models, spatiotemporal_groups(models, 50.0, 365.0))
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
    assert len(report["spatiotemporal"]) == 2


def test_grouped_partitions_never_straddle_and_leaky_ones_are_by_event() -> None:
    models = models_table(NAMES)
    splits = make_splits(models, params())
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
    three = make_splits(models, params(seeds=3))["schemes"]
    ten = make_splits(models, params(seeds=10))["schemes"]
    for scheme in ("leaky", "grouped"):
        assert all(three[scheme][k] == ten[scheme][k] for k in three[scheme])
        assert len(ten[scheme]) == 10


def test_spatiotemporal_merges_nearby_events_transitively() -> None:
    models = pd.DataFrame({
        "event": ["A", "B", "C", "D", "E"], "x": [0, 40e3, 80e3, 500e3, 0], "y": 0.0,
        "year": [2000, 2000, 2000, 2000, 2005],
    }, index=list("abcde"))
    groups = spatiotemporal_groups(models, cluster_km=50, cluster_days=365)
    # A-B and B-C are within 50 km (A-C is not, but transitively joined); D is far; E later
    assert groups["a"] == groups["b"] == groups["c"]
    assert len({groups["a"], groups["d"], groups["e"]}) == 3


@pytest.mark.parametrize(("change", "message"), [
    ({"test_size": 0.95}, "leaves no group for training in the leaky scheme"),
])
def test_bad_split_params(change: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_splits(models_table(NAMES), params(**change))


@pytest.mark.parametrize(("split", "message"), [
    ({"test_size": 1.0}, r"split.test_size' must lie in \(0.0, 1.0\)"),
    ({"leaky_by": "region"}, "split.leaky_by' must be one of event, slip_model"),
    ({"grouped_by": "year"}, "split.grouped_by' must be one of sequence, spatiotemporal"),
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
        make_splits(models, params(seeds=8))


@pytest.mark.skipif(not (SHARED_SAMPLES / "paper_split_names.csv").is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_audit_of_the_published_split_finds_its_five_straddling_sequences() -> None:
    with (SHARED_SAMPLES / "paper_split_names.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    test = {row["name"] for row in rows if row["role"] == "test"}
    models = models_table([row["name"] for row in rows], test)
    splits = make_splits(models, params(seeds=1, test_size=0.2))
    report = leakage_audit(models, splits)["paper"]["paper"]
    assert report["event"] == []  # the paper kept each earthquake's slip models together
    assert len(report["sequence"]) == 5  # STUDY.md: 5 sequences straddle
