"""The learning curves in the letter's words: per method, the AUC at the smallest share and
at all rows, the tested gain of the full data and the share from which the fit is
equivalent to the full one (tests in ``curves``), the descriptive plateau."""

from __future__ import annotations

from typing import Any

from . import formatting as fmt
from .curves import curve_tests
from .inputs import Inputs, dig, label, prose


def curve_findings(inputs: Inputs, tolerance: float, reference: dict[str, Any]) -> list[dict]:
    """Per method: AUC at the smallest share, at all rows, what the full data add to the
    smallest share (tested, ``curves.curve_tests``) and from which share the AUC is
    equivalent to the full fit's; where each split's curve comes within ``tolerance`` of
    its best (descriptive); whether the full-data fits were still improving."""
    margin = float(dig(inputs.stats, ["smallest_effect"], "metrics/stats.json"))
    alpha = float(dig(inputs.stats, ["alpha"], "metrics/stats.json"))
    found = []
    for method, table in inputs.curves.items():
        table = table.dropna(subset=["test_auc"])
        if table.empty:
            continue
        tested = curve_tests(table, margin, alpha)
        # the smallest share the tests could use (at least two splits), so that its AUC and
        # the gain printed beside it describe one share
        smallest = (tested["smallest_share"] if tested["smallest_share"] is not None
                    else float(table["train_share"].min()))
        first = table[table["train_share"] == smallest]
        plateaus, full, full_rows = [], [], []
        for _, part in table.groupby("seed", sort=True):
            part = part.sort_values("train_share")
            best = part["test_auc"].max()
            plateaus.append(float(part.loc[part["test_auc"] >= best - tolerance,
                                           "train_share"].min()))
            last = part.iloc[-1]
            full.append(float(last["test_auc"]))
            full_rows.append(int(last["train_rows"]))
        summary = inputs.curve_summaries.get(method, {})
        improving = summary.get("full_point_still_improving")
        shortfall = tested["smallest"] or {}
        from_share = tested["equivalent_from"]
        found.append({
            # the full data's gain over the smallest share, corrected 95 % CI (unit: split)
            "shortfall": fmt.diff(shortfall.get("estimate")),
            "shortfall_ci": fmt.interval(shortfall.get("ci")),
            "shortfall_splits": shortfall.get("splits"),
            "equivalent_from": None if from_share is None else fmt.percent(from_share),
            "equivalent_from_rows": None if from_share is None else fmt.value_range(
                [int(r) for r in table.loc[table["train_share"] == from_share, "train_rows"]],
                fmt.integer),
            "equivalent_from_p": fmt.p_value(tested["equivalent_from_p"]),
            "equivalent_from_value": from_share,
            "method": method,
            "label": label(method),
            "prose": prose(method),
            "smallest_share": fmt.percent(smallest),
            "smallest_rows": fmt.value_range([int(r) for r in first["train_rows"]], fmt.integer),
            "at_smallest": fmt.auc(first["test_auc"].mean()),
            "at_full": fmt.auc(sum(full) / len(full)),
            "full_rows": fmt.value_range(full_rows, fmt.integer),
            "plateau_share": fmt.value_range(plateaus, lambda v: fmt.percent(v)),
            "max_share": max(plateaus),
            "seeds": len(plateaus),
            "steps_fixed": str(summary.get("training_length", "")).startswith("fixed"),
            # the main evaluation draws at most max_train_rows of the partition's rows
            "capped": "partition_train_rows" in table
            and bool((table["train_share"].eq(1.0)
                      & (table["train_rows"] < table["partition_train_rows"])).any()),
            "still_improving": None if not improving else
            {"seeds": int(improving["seeds"]), "of": int(improving["of"])},
            "beats_reference": (reference["grouped_mean"] is not None
                                and sum(full) / len(full) > reference["grouped_mean"]),
        })
    return found
