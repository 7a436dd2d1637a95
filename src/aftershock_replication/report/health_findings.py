"""Which fits failed: per fitted method the partitions whose fit the statistics stage judged
failed (``fit_health``), where, and why (one reason as an example), formatted for the
Supplementary Information, whose template words them."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from . import formatting as fmt
from .inputs import Inputs, dig, label, order_methods, prose
from .method_table import FOCUS
from .tables import SCHEME_LABELS


def health_findings(inputs: Inputs) -> dict[str, Any]:
    """Which fits failed (the statistics stage's ``fit_health``): per fitted method, how many
    of its partitions and which, with one reason as an example."""
    health = dig(inputs.stats, ["fit_health"], "metrics/stats.json")
    rows = []
    for method in order_methods(dig(health, ["methods"], "metrics/stats.json")):
        entry = health["methods"][method]
        failed = entry.get("failed") or {}
        where = [f"{SCHEME_LABELS.get(scheme, scheme)} {', '.join(sorted(parts, key=_order))}"
                 for scheme, parts in failed.items() if parts]
        example = next((_reason(reasons[0]) for parts in failed.values()
                        for reasons in parts.values() if reasons), None)
        rows.append({"method": method, "label": label(method), "prose": prose(method),
                     "failures": int(entry.get("failures") or 0),
                     "partitions": int(entry.get("partitions") or 0),
                     "grouped": len(failed.get("grouped") or {}),
                     "where": "; ".join(where), "example": example,
                     "steps": _steps(entry.get("steps_per_epoch"))})
    return {"rule": str(health.get("rule", "")), "rows": rows,
            "failing": [r for r in rows if r["failures"]],
            "focus": next((r for r in rows if r["method"] == FOCUS), None)}


def _steps(steps: list[int] | None) -> dict[str, Any] | None:
    """The gradient steps per epoch: their range ("1-3") and whether more than one (None
    when the method does not say)."""
    if not steps:
        return None
    return {"range": fmt.value_range(steps, fmt.integer), "plural": max(steps) != 1}


def _reason(reason: dict[str, Any]) -> dict[str, Any]:
    """Why a fit failed: its kind and the numbers that show it."""
    if reason.get("kind") == "training_auc":
        return {"kind": "training_auc", "auc": fmt.auc(reason.get("auc")),
                "reference_auc": fmt.auc(reason.get("reference_auc")),
                "reference": prose(str(reason.get("reference")))}
    if reason.get("kind") == "validation_loss":
        return {"kind": "validation_loss", "initial": fmt.fixed(reason.get("initial"), 4)}
    raise InputError(f"metrics/stats.json: unknown kind of failed fit {reason.get('kind')!r}; "
                     "rerun the stats stage")


def _order(partition: str) -> tuple[int, str]:
    return (int(partition), "") if partition.isdigit() else (-1, partition)
