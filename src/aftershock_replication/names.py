"""The package's shared vocabulary, free of dependencies so that any stage, the letter
included, can import it without loading the statistics or machine-learning stack."""

from __future__ import annotations

# a comparison's outcome (stats.verdicts decides it; the letter puts it into words):
# higher / lower: the Holm-adjusted test rejects a zero difference; equivalent: two
# one-sided tests put it within the smallest effect of interest; undecided: neither;
# untested: no test was possible
VERDICTS = ("higher", "lower", "equivalent", "undecided", "untested")
