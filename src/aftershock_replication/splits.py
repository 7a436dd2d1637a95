"""Train/test partitions of the slip models and the audit of what straddles them.

Three schemes, all partitions of whole slip models (a slip model's cells never straddle):

* ``paper``: the split stored with the data (the original file lists);
* ``leaky``: the paper's procedure repeated over seeds: random by ``split.leaky_by``
  (``event`` as the paper did, or ``slip_model``, the worst case);
* ``grouped``: random by ``split.grouped_by`` (``physical`` sequences, the default:
  name prefixes joined by shared origin times, the reviewed link table of the published
  earthquakes and, where epicentres are known, the spatio-temporal clusters; ``sequence``,
  the critique's name prefixes; or ``spatiotemporal`` clusters alone) with the same seeds
  and test fraction.

The test fraction is a share of the *units* drawn (scikit-learn's ``GroupShuffleSplit``),
not of rows; the audit reports the resulting share of test rows.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import GroupShuffleSplit

from .atomic import write_json_files
from .errors import InputError
from .events import (
    SUPPLY_EPICENTRES,
    days_apart,
    event_positions,
    great_circle_km,
    read_events,
)
from .params import SplitParams
from .schema import ID_COLUMNS, LABEL, check_feature_table
from .sequences import SEQUENCE_LINKS, TIME_FORMAT, physical_sequences, reviewed_links
from .stage_io import Input, Output

log = logging.getLogger(__name__)

LEVELS = ("slip_model", "event", "sequence", "physical", "spatiotemporal")
PHYSICAL_RULE = ("name prefixes (the first 10 characters) joined, transitively, where slip "
                 "models share an origin time, where the reviewed link table joins two "
                 "published earthquakes, and where epicentres are known, by the "
                 "spatio-temporal clusters")
TABLE_COLUMNS = (*ID_COLUMNS, LABEL)  # what the splits are made from


def slip_model_table(features: pd.DataFrame) -> pd.DataFrame:
    """One row per slip model: ids, paper role, rows, positives."""
    frame = features[list(TABLE_COLUMNS)].copy()
    for column in ("slip_model", "event", "sequence", "paper_role"):
        frame[column] = frame[column].astype(str)
    return frame.groupby("slip_model", sort=True).agg(
        event=("event", "first"), sequence=("sequence", "first"),
        paper_role=("paper_role", "first"), rows=("label", "size"),
        positives=("label", "sum"),
    )


def spatiotemporal_groups(
    events: pd.DataFrame, cluster_km: float, cluster_days: float,
) -> pd.Series:
    """Cluster id per earthquake: earthquakes whose epicentres lie within ``cluster_km``
    (great-circle) and whose origin times lie within ``cluster_days`` of each other merge,
    transitively (connected components). ``events``: index event; latitude, longitude
    (degrees), time (UTC), complete (``events.event_positions``)."""
    distance = great_circle_km(events["latitude"].to_numpy(), events["longitude"].to_numpy())
    near = (distance <= cluster_km) & (days_apart(events["time"]) <= cluster_days)
    rows, cols = np.nonzero(near)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(events),) * 2)
    _, component = connected_components(graph, directed=False)
    # name each cluster after its first event, so the ids are readable in the audit
    first_event = pd.Series(events.index).groupby(component).transform("first").to_numpy()
    return pd.Series(first_event, index=events.index, name="spatiotemporal")


def spatiotemporal_of_slip_models(
    models: pd.DataFrame, events: pd.DataFrame | None, params: SplitParams,
) -> tuple[pd.Series | None, str]:
    """Spatio-temporal cluster per slip model, or None and why when an earthquake lacks an
    epicentre or time (an error when the grouped scheme needs the clusters)."""
    if events is None:
        reason = "no events table"
    else:
        analysed = events.set_index("slip_model").reindex(models.index)
        analysed["event"] = models["event"]
        lacking = analysed.index[analysed["latitude"].isna() | analysed["time"].isna()]
        if lacking.empty:
            positions = event_positions(analysed.reset_index(names="slip_model"))
            clusters = spatiotemporal_groups(positions, params.cluster_km, params.cluster_days)
            return models["event"].map(clusters).rename("spatiotemporal"), ""
        reason = (f"{len(lacking)} of the {len(models)} slip models, in "
                  f"{models.loc[lacking, 'event'].nunique()} of the "
                  f"{models['event'].nunique()} earthquakes, "
                  f"{'lacks' if len(lacking) == 1 else 'lack'} an epicentre or origin time "
                  f"(e.g. {lacking[0]})")
    if params.grouped_by == "spatiotemporal":
        raise InputError(f"params: split.grouped_by=spatiotemporal needs the epicentre and "
                         f"origin time of every earthquake: {reason}. To supply them, "
                         f"{SUPPLY_EPICENTRES}; or set split.grouped_by=sequence")
    log.info("spatio-temporal clusters not computed (%s); not needed with "
             "split.grouped_by=%s", reason, params.grouped_by)
    return None, reason


def physical_of_slip_models(models: pd.DataFrame, events: pd.DataFrame | None,
                            clusters: pd.Series | None, params: SplitParams) -> pd.Series:
    """Physical sequence per slip model (``sequences.physical_sequences``): origin times
    from the events table where known, the published earthquakes listed under several ids,
    the shipped link table within ``split.cluster_days``, the clusters if computed."""
    names = [str(name) for name in models.index]
    times = None
    if events is not None:
        times = events.set_index("slip_model")["time"].reindex(names)
    # grouped by another level, physical sequences are only audited: keep the table as
    # reviewed rather than stop the stage
    links = reviewed_links(params.cluster_days, strict=params.grouped_by == "physical")
    groups = physical_sequences(names, times, links, clusters)
    return pd.Series(groups, name="physical").reindex(models.index)


def origin_times(models: pd.DataFrame, events: pd.DataFrame | None
                 ) -> dict[str, str | None] | None:
    """Origin time (ISO 8601, UTC) per slip model from the events table, None where
    unknown; None without an events table (the leakage experiment's future-only arm needs
    them)."""
    if events is None:
        return None
    times = events.set_index("slip_model")["time"].reindex(models.index)
    return {str(name): None if pd.isna(time) else pd.Timestamp(time).strftime(TIME_FORMAT)
            for name, time in times.items()}


def with_levels(models: pd.DataFrame, spatiotemporal: pd.Series | None,
                physical: pd.Series | None = None) -> pd.DataFrame:
    """The slip-model table with one column per grouping level (``LEVELS``; without
    ``spatiotemporal`` when the clusters are unknown, without ``physical`` when not
    given)."""
    levels = models.rename_axis(None).copy()
    levels["slip_model"] = levels.index
    if physical is not None:
        levels["physical"] = physical
    if spatiotemporal is not None:
        levels["spatiotemporal"] = spatiotemporal
    return levels


def random_partition(units: pd.Series, test_size: float, seed: int) -> list[str]:
    """Test slip models of a random partition of whole units (a share of units, not rows)."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    _, test = next(splitter.split(np.zeros(len(units)), groups=units.to_numpy()))
    return sorted(units.index[test])


def minimum_groups(test_size: float) -> int:
    """The fewest groups whose random partition at ``test_size`` keeps one for training
    (GroupShuffleSplit tests ceil(test_size * n) of n)."""
    groups = 2
    while groups - math.ceil(test_size * groups) < 1:
        groups += 1
    return groups


def check_partition(models: pd.DataFrame, test: list[str], what: str) -> None:
    """Both sides must hold slip models and cells of both classes."""
    is_test = models.index.isin(test)
    for side, mask in (("train", ~is_test), ("test", is_test)):
        positives = int(models.loc[mask, "positives"].sum())
        negatives = int((models.loc[mask, "rows"] - models.loc[mask, "positives"]).sum())
        if not mask.any() or positives == 0 or negatives == 0:
            raise InputError(
                f"{what}: the {side} side has {int(mask.sum())} slip models, {positives} positive "
                f"and {negatives} negative cells; both classes are needed on both sides "
                "(change split.test_size or the number of slip models)"
            )


def make_splits(
    models: pd.DataFrame, params: SplitParams, events: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """All partitions: scheme -> partition id ('paper' or the seed) -> sorted test slip
    models; ``events`` (the events stage's table) gives the spatio-temporal clusters
    (without it they are left out, which grouping by physical or by name-prefix sequence
    allows; physical sequences then join by the shipped earthquake and link tables only)."""
    clusters, missing = spatiotemporal_of_slip_models(models, events, params)
    physical = physical_of_slip_models(models, events, clusters, params)
    levels = with_levels(models, clusters, physical)
    for scheme, unit in (("leaky", params.leaky_by), ("grouped", params.grouped_by)):
        groups = levels[unit].nunique()
        if groups - math.ceil(params.test_size * groups) < 1:  # GroupShuffleSplit's rounding
            raise InputError(
                f"params: split.test_size={params.test_size} of {groups} {unit} groups leaves "
                f"no group for training in the {scheme} scheme; at least "
                f"{minimum_groups(params.test_size)} {unit} groups are needed (add slip models "
                "of other earthquakes, or lower split.test_size)"
            )
    partitions: dict[str, dict[str, list[str]]] = {
        "paper": {"paper": sorted(models.index[models["paper_role"] == "test"])},
        "leaky": {}, "grouped": {},
    }
    for seed in range(params.seeds):
        partitions["leaky"][str(seed)] = random_partition(
            levels[params.leaky_by], params.test_size, seed)
        partitions["grouped"][str(seed)] = random_partition(
            levels[params.grouped_by], params.test_size, seed)
    for scheme, by_id in partitions.items():
        for partition, test in by_id.items():
            check_partition(models, test, f"split '{scheme}' partition {partition}")
    return {
        "schemes": partitions,
        "units": {"paper": "as stored with the data (the original file lists)",
                  "leaky": params.leaky_by, "grouped": params.grouped_by},
        "test_size": params.test_size,
        "test_size_is": "a share of units (groups) drawn by GroupShuffleSplit, not of rows",
        "seeds": list(range(params.seeds)),
        "slip_models": sorted(models.index),
        "origin_times": origin_times(models, events),
        "spatiotemporal": {
            "cluster_km": params.cluster_km, "cluster_days": params.cluster_days,
            "location": "epicentre (mean of the earthquake's slip models); great-circle "
                        "distance",
            "date": "origin time (UTC); exact differences",
            "groups": None if clusters is None else clusters.to_dict(),
            "not_computed_because": missing or None,
        },
        "physical": {
            "rule": PHYSICAL_RULE,
            "link_table": f"{SEQUENCE_LINKS.parent.name}/{SEQUENCE_LINKS.name}",
            "with_spatiotemporal_clusters": clusters is not None,
            "groups": physical.to_dict(),
        },
    }


def audit(levels: pd.DataFrame, test: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Groups at each level with slip models on both sides, and their share of test rows."""
    is_test = levels.index.isin(test)
    test_rows = float(levels.loc[is_test, "rows"].sum())
    report: dict[str, list[dict[str, Any]]] = {}
    for level in (level for level in LEVELS if level in levels):
        straddling = []
        for group, members in levels.groupby(level, sort=True):
            member_test = members.index.isin(test)
            if member_test.any() and not member_test.all():
                straddling.append({
                    "group": str(group),
                    "train_slip_models": sorted(members.index[~member_test]),
                    "test_slip_models": sorted(members.index[member_test]),
                    "test_row_share": float(members.loc[member_test, "rows"].sum() / test_rows),
                })
        report[level] = straddling
    return report


def leakage_audit(models: pd.DataFrame, splits: dict[str, Any]) -> dict[str, Any]:
    """The audit of every partition: scheme -> partition id -> level -> straddling groups
    (no ``spatiotemporal`` level when the clusters are unknown)."""
    groups = splits["spatiotemporal"]["groups"]
    physical = (splits.get("physical") or {}).get("groups")
    levels = with_levels(models, None if groups is None else pd.Series(groups),
                         None if physical is None else pd.Series(physical))
    return {
        scheme: {
            partition: audit(levels, test) for partition, test in by_id.items()
        }
        for scheme, by_id in splits["schemes"].items()
    }


def split_stage(
    params: dict[str, Any], features: Input, events: Input, out: Output, audit: Output,
) -> None:
    """Partition the slip models: the paper's split, leaky and grouped seeds; audit them.

    inputs:  features, the feature table; events, the events stage's epicentres and origin
             times (for the spatio-temporal clusters; all must be known when
             split.grouped_by=spatiotemporal, otherwise that level is left out).
    outputs: out (JSON): scheme -> partition -> test slip models; audit (JSON): scheme ->
             partition -> grouping level -> groups straddling train and test, their slip
             models and test-row share.
    params:  seeds, split.*
    """
    settings = SplitParams.from_params(params)
    check_feature_table(features, TABLE_COLUMNS)
    try:
        table = pd.read_parquet(features, columns=list(TABLE_COLUMNS))
    except (OSError, ValueError) as error:
        raise InputError(f"{features}: cannot read the feature table ({error}); "
                         "rerun the features stage") from error
    models = slip_model_table(table)
    splits = make_splits(models, settings, read_events(events))
    report = leakage_audit(models, splits)
    write_json_files({out: splits, audit: report})
    for scheme, by_partition in report.items():
        for partition, levels in by_partition.items():
            log.info("%s/%s: %s", scheme, partition, ", ".join(
                f"{len(groups)} {level} group(s) straddle" for level, groups in levels.items()))
