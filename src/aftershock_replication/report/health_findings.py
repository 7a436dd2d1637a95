"""Which fits failed, in words: per fitted method the partitions whose fit the statistics
stage judged failed (``fit_health``), where, and why (one reason as an example)."""

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
                     "steps": _steps_text(entry.get("steps_per_epoch"))})
    return {"rule": str(health.get("rule", "")), "rows": rows,
            "failing": [r for r in rows if r["failures"]],
            "focus": next((r for r in rows if r["method"] == FOCUS), None)}


def _steps_text(steps: list[int] | None) -> str | None:
    """"1 gradient step" or "1-3 gradient steps" (None when the method does not say)."""
    if not steps:
        return None
    return f"{fmt.value_range(steps, fmt.integer)} gradient step{'' if max(steps) == 1 else 's'}"


def _reason(reason: dict[str, Any]) -> str:
    """Why a fit failed, in words."""
    if reason.get("kind") == "training_auc":
        return (f"training-cell AUC {fmt.auc(reason.get('auc'))} against "
                f"{fmt.auc(reason.get('reference_auc'))} for {prose(str(reason.get('reference')))}")
    if reason.get("kind") == "validation_loss":
        return (f"validation loss never below its initial {fmt.fixed(reason.get('initial'), 4)}")
    raise InputError(f"metrics/stats.json: unknown kind of failed fit {reason.get('kind')!r}; "
                     "rerun the stats stage")


def _order(partition: str) -> tuple[int, str]:
    return (int(partition), "") if partition.isdigit() else (-1, partition)
