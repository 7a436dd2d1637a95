"""Each slip model's group at the level the grouped partitions were drawn by, read from a
splits file: the unit the leakage experiment purges by and the paper split's bootstrap
resamples by (one reading, so the two cannot disagree)."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .names import sequence_of

# what a group of each level is called in prose
GROUP_KINDS = {"sequence": "region-year sequence", "physical": "physical sequence",
               "spatiotemporal": "spatio-temporal cluster"}


def grouped_level(splits: dict[str, Any], names: list[str]) -> tuple[str, dict[str, str]]:
    """The grouped scheme's level (``splits['units']['grouped']``) and the group of every
    slip model of ``names`` at that level: name prefixes for ``sequence``, the split
    stage's own groups for ``physical`` and ``spatiotemporal``."""
    level = splits["units"]["grouped"]
    if level == "sequence":
        return level, {name: sequence_of(name) for name in names}
    if level not in GROUP_KINDS:
        raise InputError(f"splits: grouped partitions by {level!r}; expected one of "
                         f"{', '.join(GROUP_KINDS)} groups")
    groups = (splits.get(level) or {}).get("groups") or {}
    missing = [name for name in names if name not in groups]
    if missing:
        raise InputError(f"splits: no {level} group for {missing[:3]}; rerun the split stage")
    return level, {name: str(groups[name]) for name in names}
