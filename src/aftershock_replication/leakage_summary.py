"""Leakage on matched test sets, combined: across partitions per method, Holm over methods.

Each ``leakage@<method>`` stage measures, per partition, every test earthquake's AUC under
four fits scored on the same test cells: as split, purged of the test set's neighbours,
purged of its later neighbours only, and an exact size control. Here the leaky partitions
are combined per method:

- ``contrast`` (the tested one, Holm's correction over the methods): per partition, the
  mean effect (size control minus purged) of the *exposed* test earthquakes minus that of
  the *unexposed* ones. Both are scored by the same fits, so whatever a partition's fits
  share cancels: a control draw that happened to remove useful cells, the smaller training
  set, an unlucky fit. What is left is what the neighbours did for the earthquakes they
  could help. The partitions' contrasts are tested with the Nadeau-Bengio corrected t
  (unit: the repeated split; their training sets overlap, which the correction allows
  for). The operating-characteristics benchmark measured it: no false claim in the null
  datasets, where the t-test over the exposed earthquakes' groups (below) made false
  claims in about one in five, because groups tested in one partition share its fits.
- secondary, reported with their intervals but not tested: the exposed earthquakes'
  effect averaged per earthquake over partitions and per group (``by_group``, t over
  groups); the mean effect on all, exposed and unexposed cells over partitions
  (``combined``, corrected t); the contrast of as split minus purged
  (``contrast_as_split``), which needs no refit of a control; and the future-only arm's
  two contrasts, each against the unexposed earthquakes: ``later`` (as split minus purged
  of later neighbours, on the earthquakes that had later neighbours: the leak) and
  ``earlier`` (that arm minus the full purge, on the earthquakes with earlier neighbours:
  transfer a real forecast may use).

The paper's split is one partition: its effects and contrasts are reported beside the
combined estimates without intervals (``SINGLE_SPLIT``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import finite_or_none, read_json, write_json
from .errors import InputError
from .methods.params import LeakageParams, StatsParams
from .names import sequence_of
from .stage_io import Input, Output
from .stats import (
    SPLIT_UNIT,
    T_TEST,
    cluster_mean_ttest,
    corrected_ttest,
    detectable_effect,
    family_verdicts,
)

log = logging.getLogger(__name__)

SUBSETS = ("all", "exposed", "unexposed")
# The tested quantity: the effect on the exposed test earthquakes' cells. Only they can be
# helped by neighbours; the unexposed ones (the built-in control) move only by chance, so
# the all-cells effect is the same leak diluted by noise. All three are reported.
PRIMARY = "exposed"
# The tested combination: the exposed-minus-unexposed contrast over partitions
PRIMARY_TEST = "contrast"
CONTRAST_TEST = f"{T_TEST} of the exposed-minus-unexposed contrast"
SINGLE_SPLIT = ("one split: its few test earthquakes are the only replication, and a "
                "percentile cluster bootstrap over 30 or fewer of them covers 69-91 % for "
                "skewed effects (benchmarks/results/cluster-interval-coverage.json)")
FAMILY = ("methods in leakage.methods: matched leakage effect (size control minus purged), "
          "exposed minus unexposed test earthquakes of the same leaky partition, tested over "
          "the partitions")


def combine(records: dict[str, dict[str, Any]], quantity: str, subset: str,
            alpha: float) -> dict[str, Any]:
    """Corrected t-test of the mean per-partition ``quantity`` ('effect' or
    'as_split_minus_purged') on ``subset`` of the test cells, over the measured partitions;
    the detectable effect is at level ``alpha`` (pass the family-corrected level)."""
    measured = {p: r for p, r in records.items() if r.get("measured")}
    values = {p: r[quantity][subset] for p, r in measured.items()
              if r[quantity][subset] is not None}
    result: dict[str, Any] = {
        "partitions": len(values), "not_measured": len(records) - len(measured),
        "undefined": len(measured) - len(values), "per_partition": values,
        "unit": SPLIT_UNIT, "test": T_TEST,
    }
    if not values:
        return {**result, "estimate": None, "ci": [None, None], "se": None, "df": 0,
                "p_value": None, "detectable_effect_80": None}
    train = float(np.mean([measured[p]["train_cells"] for p in values]))
    test = float(np.mean([measured[p]["test_cells"] for p in values]))
    tested = corrected_ttest(list(values.values()), train, test)
    return {**result, "estimate": tested["mean"], "ci": tested["ci"], "se": tested["se"],
            "df": tested["df"], "p_value": tested["p_value"],
            "detectable_effect_80": detectable_effect(tested["se"], len(values), alpha)}


def exposed_group_effects(records: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Mean effect per group of exposed test earthquakes: each exposed earthquake's effect
    on its cells averaged over the measured partitions that test it exposed, then over the
    group's earthquakes. Groups come from each record's ``exposed_event_groups`` (the
    sequence of the earthquake's name when a record has none)."""
    by_event: dict[str, list[float]] = {}
    group_of: dict[str, str] = {}
    for record in records.values():
        if not record.get("measured"):
            continue
        groups = record.get("exposed_event_groups") or {}
        for event in record["exposed_events"]:
            value = record["effect"]["per_event"].get(event)
            if value is not None:
                by_event.setdefault(event, []).append(float(value))
                group_of[event] = str(groups.get(event, sequence_of(event)))
    by_group: dict[str, list[float]] = {}
    for event, values in sorted(by_event.items()):
        by_group.setdefault(group_of[event], []).append(float(np.mean(values)))
    return {group: float(np.mean(values)) for group, values in sorted(by_group.items())}


def partition_contrast(record: dict[str, Any], quantity: str,
                       exposed_key: str = "exposed_events") -> float | None:
    """One partition's mean per-earthquake ``quantity`` of the test earthquakes listed
    under ``exposed_key`` minus that of the unexposed ones (no neighbour in training);
    None without that quantity or where either set has no value."""
    if quantity not in record:
        return None
    per_event = record[quantity]["per_event"]
    exposed = set(record[exposed_key])
    unexposed = set(per_event) - set(record["exposed_events"])
    inside = [v for e, v in per_event.items() if e in exposed and v is not None]
    outside = [v for e, v in per_event.items() if e in unexposed and v is not None]
    if not (inside and outside):
        return None
    return float(np.mean(inside) - np.mean(outside))


def contrast_over_splits(records: dict[str, dict[str, Any]], quantity: str,
                         alpha: float, exposed_key: str = "exposed_events") -> dict[str, Any]:
    """Per measured partition, the mean per-earthquake ``quantity`` ('effect',
    'as_split_minus_purged', 'later_effect' or 'earlier_effect') of the test earthquakes
    listed under ``exposed_key`` minus that of the unexposed ones (no neighbour in
    training; the same fits score both), tested with the corrected t over the partitions;
    the detectable effect is at level ``alpha`` (pass the family-corrected level). A
    partition without that quantity, or with no exposed or no unexposed earthquake with a
    value, is counted as undefined."""
    contrasts: dict[str, float] = {}
    exposed_events: set[str] = set()
    measured = {p: r for p, r in records.items() if r.get("measured")}
    for partition, record in measured.items():
        contrast = partition_contrast(record, quantity, exposed_key)
        if contrast is not None:
            contrasts[partition] = contrast
            per_event = record[quantity]["per_event"]
            exposed_events |= {e for e in record[exposed_key] if per_event.get(e) is not None}
    result: dict[str, Any] = {
        "partitions": len(contrasts), "not_measured": len(records) - len(measured),
        "undefined": len(measured) - len(contrasts), "per_partition": contrasts,
        "earthquakes": len(exposed_events), "quantity": quantity, "exposed": exposed_key,
        "unit": SPLIT_UNIT, "test": CONTRAST_TEST,
    }
    if not contrasts:
        return {**result, "estimate": None, "ci": [None, None], "se": None, "df": 0,
                "p_value": None, "detectable_effect_80": None}
    train = float(np.mean([measured[p]["train_cells"] for p in contrasts]))
    test = float(np.mean([measured[p]["test_cells"] for p in contrasts]))
    tested = corrected_ttest(list(contrasts.values()), train, test)
    return {**result, "estimate": tested["mean"], "ci": tested["ci"], "se": tested["se"],
            "df": tested["df"], "p_value": tested["p_value"],
            "detectable_effect_80": detectable_effect(tested["se"], len(contrasts), alpha)}


def combine_by_group(records: dict[str, dict[str, Any]], alpha: float) -> dict[str, Any]:
    """The t-test over groups of ``exposed_group_effects``; the detectable effect is at
    level ``alpha`` (pass the family-corrected level)."""
    effects = exposed_group_effects(records)
    tested = cluster_mean_ttest(list(effects.values()))
    measured = sum(1 for r in records.values() if r.get("measured"))
    return {
        "estimate": None if not effects else tested["mean"],
        "ci": tested["ci"], "se": tested["se"], "df": tested["df"],
        "p_value": tested["p_value"], "groups": len(effects),
        "earthquakes": len({e for r in records.values() if r.get("measured")
                            for e in r["exposed_events"]
                            if r["effect"]["per_event"].get(e) is not None}),
        "partitions": measured, "not_measured": len(records) - measured,
        "per_group": effects,
        "detectable_effect_80": detectable_effect(tested["se"], len(effects), alpha),
        "unit": "group of exposed test earthquakes (each averaged over the partitions)",
        "test": "one-sample t-test over groups",
    }


def paper_split(records: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The paper's split, one partition: its effects per subset, the exposed-minus-
    unexposed contrasts and the earthquakes they rest on, without intervals (one split's
    few test earthquakes give none with honest coverage); or why it was not measured."""
    record = records.get("paper")
    if record is None:
        return None
    if not record.get("measured"):
        return {"measured": False, "reason": record.get("reason")}
    scored = set(record["effect"]["per_event"])
    exposed = set(record["exposed_events"]) & scored
    return {
        "measured": True, "exposed_events": record["exposed_events"],
        "earthquakes": {"all": len(scored), "exposed": len(exposed),
                        "unexposed": len(scored - exposed),
                        "later_exposed": len(set(record.get("later_exposed_events") or [])
                                             & scored)},
        **{subset: {"estimate": record["effect"][subset],
                    "as_split_minus_purged": record["as_split_minus_purged"][subset]}
           for subset in SUBSETS},
        "contrast": partition_contrast(record, "effect"),
        "later_contrast": partition_contrast(record, "later_effect", "later_exposed_events"),
        "earlier_contrast": partition_contrast(record, "earlier_effect",
                                               "earlier_exposed_events"),
        "interval": None,
        "why_no_interval": SINGLE_SPLIT,
    }


def tested_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The result of a method's tested combination (``PRIMARY_TEST``)."""
    return entry[PRIMARY_TEST]


def summarise(by_method: dict[str, dict[str, Any]], alpha: float,
              margin: float) -> dict[str, Any]:
    """Per method: the combined leaky-partition tests, the paper's split, and the
    per-partition records; Holm over the methods on the primary test, verdicts with
    ``margin`` the smallest effect of interest."""
    methods: dict[str, Any] = {}
    # detectable effects at the Bonferroni level alpha/m, a conservative bound for Holm
    level = alpha / max(len(by_method), 1)
    for method, result in by_method.items():
        leaky = result["partitions"].get("leaky", {})
        methods[method] = {
            "contrast": contrast_over_splits(leaky, "effect", level),
            "contrast_as_split": contrast_over_splits(leaky, "as_split_minus_purged", level),
            # the future-only arm (reported, not tested): what the later neighbours add, and
            # what the earlier ones add once the later ones are gone
            "later": contrast_over_splits(leaky, "later_effect", level,
                                          "later_exposed_events"),
            "earlier": contrast_over_splits(leaky, "earlier_effect", level,
                                            "earlier_exposed_events"),
            "by_group": combine_by_group(leaky, level),
            "combined": {subset: combine(leaky, "effect", subset, level) for subset in SUBSETS},
            "as_split_minus_purged": combine(leaky, "as_split_minus_purged", PRIMARY, level),
            "paper": paper_split(result["partitions"].get("paper", {})),
            "partitions": result["partitions"],
        }
    family_verdicts([tested_entry(m) for m in methods.values()], alpha, margin)
    return {"alpha": alpha, "smallest_effect": margin, "family": FAMILY, "primary": PRIMARY,
            "primary_test": PRIMARY_TEST,
            "detectable_at": f"80 % power at alpha / {len(by_method)} (Bonferroni bound on Holm)",
            "methods": methods}


def leakage_summary_stage(params: dict[str, Any], leakage_dir: Input, out: Output) -> None:
    """Combine the matched leakage measurements of every method.

    inputs:  leakage_dir: one JSON per method from the leakage stages (``<method>.json``).
    outputs: out (JSON): alpha, the Holm family, and per method the combined tests over the
             leaky partitions (all, exposed, unexposed test cells; as_split - purged), the
             paper's split, and every partition's arms, effects and per-earthquake effects.
    params:  leakage.methods (which files to read), stats.alpha, stats.smallest_effect
    """
    methods = LeakageParams.from_params(params).methods
    stats = StatsParams.from_params(params)
    by_method = {}
    for method in methods:
        path = Path(leakage_dir) / f"{method}.json"
        if not path.is_file():
            raise InputError(f"{path}: missing; run the stage leakage@{method} first")
        by_method[method] = read_json(path, f"the stage leakage@{method}")
        if by_method[method].get("method") != method:
            raise InputError(f"{path}: holds the method {by_method[method].get('method')!r}, "
                             f"expected {method!r}; rerun the stage leakage@{method}")
    grouped_by = {result["grouped_by"] for result in by_method.values()}
    if len(grouped_by) > 1:
        raise InputError(f"{leakage_dir}: methods measured at different grouping levels "
                         f"{sorted(grouped_by)}; rerun the leakage stages")
    summary = summarise(by_method, stats.alpha, stats.smallest_effect)
    write_json(out, finite_or_none({**summary, "grouped_by": next(iter(grouped_by), None)}))
    log.info("matched leakage of %d methods combined into %s", len(methods), out)
