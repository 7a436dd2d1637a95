"""The untrained baselines in words: which stress metric is the reference, how the other
untrained metrics fare against Coulomb stress, and the negative control's tests (verdicts
are the statistics stage's, only looked up here)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..names import VERDICTS
from . import formatting as fmt
from .inputs import Inputs, dig, label, prose
from .tables import format_row, significance_table


def reference_findings(inputs: Inputs) -> dict[str, Any]:
    reference = inputs.stats["reference_metric"]
    most_common = str(reference["most_common"])
    by_seed = {str(k): str(v) for k, v in (reference.get("by_seed") or {}).items()}
    paper_choice = by_seed.pop("paper", None)
    counts = Counter(by_seed.values())
    return {
        "method": most_common,
        "label": label(most_common),
        "prose": prose(most_common),
        "rule": str(reference.get("rule", "")),
        "seeds": sum(counts.values()),
        "chosen": counts.get(most_common, 0),
        "others": fmt.join_words([f"{prose(m)} in {n}" for m, n in sorted(counts.items())
                                  if m != most_common]),
        "paper": prose(paper_choice) if paper_choice else None,
    }


def untrained_vs_coulomb(inputs: Inputs) -> dict[str, Any] | None:
    """Each other untrained stress metric against Coulomb stress on grouped splits (the
    original paper's physical point, which needs no network); None when not computed."""
    table = inputs.stats["tables"].get("untrained_vs_coulomb")
    if not table or not table.get("rows"):
        return None
    found = significance_table(table, "metrics/stats.json")
    # the rows each claim rests on, for the macro ``listed_claims``
    found["higher_rows"] = [r for r in found["rows"] if r["verdict"] == "higher"]
    for verdict_name in VERDICTS:
        found[verdict_name] = [prose(m) for m in found[verdict_name]]
    return found


def control_findings(inputs: Inputs) -> list[dict[str, Any]]:
    """The negative control's tests (vs the best stress metric; leakage term), in a Holm
    family of their own; empty when the statistics hold no such table."""
    table = inputs.stats["tables"].get("negative_control")
    if not table:
        return []
    source = "metrics/stats.json"
    return [{**format_row(row, source), "family": str(table.get("family", "")),
             "kind": "leakage term" if str(row.get("comparison", "")).startswith("leak(")
             else "difference from the best untrained stress metric"}
            for row in dig(table, ["rows"], source)]
