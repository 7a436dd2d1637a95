"""The package's shared vocabulary and the slip-model name rule, free of dependencies so
that any stage, the letter included, can import them without loading the statistics,
machine-learning or Arrow stack."""

from __future__ import annotations

# a comparison's outcome (stats.verdicts decides it; the letter puts it into words):
# higher / lower: the Holm-adjusted test rejects a zero difference; equivalent: two
# one-sided tests put it within the smallest effect of interest; undecided: neither;
# untested: no test was possible
VERDICTS = ("higher", "lower", "equivalent", "undecided", "untested")

# the three kinds of partition: the paper's own split, random by earthquake ("leaky", the
# paper's unit) and random by group ("grouped")
SCHEMES = ("paper", "leaky", "grouped")

# the untrained stress scalars every feature table carries, one column each
STRESS_SCALARS = ("max_shear", "von_mises", "sum_abs")


def event_of(name: str) -> str:
    """Earthquake id: the first 12 characters, YYYYNAMEnn (year, region code, event number)."""
    return name[:12]


def sequence_of(name: str) -> str:
    """Region-year sequence id: the first 10 characters, YYYYNAME."""
    return name[:10]
