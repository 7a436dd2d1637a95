"""Which AUCs rest on a sample of test cells: per split, the cells drawn against the
split's test cells, for the learning curves and the matched leakage experiment (the letter
says where an AUC is a sample's, and how large a share)."""

from __future__ import annotations

from typing import Any

from . import formatting as fmt
from .inputs import Inputs


def scored_cells(splits: dict[str, tuple[int, int]]) -> dict[str, Any] | None:
    """Which splits' AUCs were computed on a sample of their test cells, from the cells
    drawn and the test cells per split, and the share drawn on those (a range; a sample
    never shows as 100%); None without counts."""
    counts = {key: (int(drawn), int(total)) for key, (drawn, total) in splits.items() if total}
    if not counts:
        return None
    sampled = [drawn / total for drawn, total in counts.values() if drawn < total]
    return {"sampled": bool(sampled), "sampled_splits": len(sampled), "splits": len(counts),
            "share": fmt.value_range(sampled, lambda v: fmt.percent(min(v, 0.99), 0))
            if sampled else None}


def curve_cells(inputs: Inputs) -> dict[str, Any] | None:
    """The learning curves' test cells: per grouped split (the draw is the same at every
    share and for every method), the cells drawn and the split's test cells."""
    return scored_cells({
        str(seed): (drawn, total)
        for table in inputs.curves.values()
        if {"test_cells_drawn", "test_cells"} <= set(table.columns)
        for seed, drawn, total in zip(table["seed"], table["test_cells_drawn"],
                                      table["test_cells"], strict=True)})


def matched_cells(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The matched experiment's test cells: per partition (one draw for every arm and
    method), the cells drawn (scored or not) and the partition's test cells."""
    return scored_cells({
        f"{scheme_name}/{partition}": (
            record["scored_test_cells"] + record.get("unscored_test_cells", 0),
            record["test_cells"])
        for entry in summary["methods"].values()
        for scheme_name, scheme in (entry.get("partitions") or {}).items()
        for partition, record in scheme.items()
        if record.get("measured") and "scored_test_cells" in record})
