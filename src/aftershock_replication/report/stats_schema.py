"""The schema of metrics/stats.json: the statistics stage's families of comparisons (each
verdict with its numbers, claimed at the family's level), the seed summaries, the paper
split's intervals and permutation tests (the shared types: ``metrics_schema``)."""

from __future__ import annotations

from pydantic import StrictBool, StrictStr, model_validator

from .metrics_schema import (
    Alpha,
    Count,
    Estimate,
    Interval,
    Model,
    Number,
    Probability,
    Tested,
    Verdict,
    claims_at_level,
)


class Comparison(Tested):
    """One row of a statistics table: a method's comparison and its verdict."""

    method: StrictStr
    comparison: StrictStr
    verdict: Verdict
    p_holm: Probability | None
    ci_simultaneous: Interval | None
    p_equivalence_holm: Probability | None
    equivalence_bound: Number | None
    within_smallest_effect: StrictBool
    # the same test without the splits whose fit failed (absent: none failed)
    without_failed_fits: Tested | None = None


class Table(Model):
    """A family of comparisons tested together (Holm over the family)."""

    alpha: Alpha
    family: StrictStr
    rows: list[Comparison]

    @model_validator(mode="after")
    def _verdicts_at_level(self) -> Table:
        rows: dict[str, Tested] = {}
        for index, row in enumerate(self.rows):
            rows[f"row {index} ({row.method})"] = row
            if row.without_failed_fits is not None:  # printed beside it, with its own verdict
                rows[f"row {index} ({row.method}) without_failed_fits"] = \
                    row.without_failed_fits
        claims_at_level(rows, self.alpha)
        return self


class SeedSummary(Model):
    """A method's AUC over the partitions of one scheme."""

    mean: Number | None
    sd: Number | None
    ci95: Interval | None
    per_seed: list[Number]
    n_seeds: Count


class Bootstrap(Estimate):
    """A cluster-bootstrap interval of the paper split's AUC (or of its difference)."""

    se: Number | None
    clusters: Count | None = None
    replicates: Count | None = None
    unit: StrictStr


class DeLong(Model):
    auc: Number | None
    se: Number | None


class PaperSplit(Model):
    bootstrap: dict[str, Bootstrap]
    # pydantic copies a mutable default per instance (ruff cannot tell Model is pydantic's)
    bootstrap_by_sequence: dict[str, Bootstrap] = {}  # noqa: RUF012
    bootstrap_vs_reference: dict[str, Bootstrap] = {}  # noqa: RUF012
    delong: dict[str, DeLong]


class SlipModelPermutation(Model):
    auc: Number | None
    p_value: Probability | None


class Permutation(Model):
    alpha: Probability
    method: StrictStr
    permutations: Count
    significant: Count
    slip_models: Count
    per_slip_model: dict[str, SlipModelPermutation]


class Decomposition(Model):
    leakage_term: Number | None
    paper_minus_grouped: Number | None
    reference_paper_minus_grouped: Number | None


class ReferenceMetric(Model):
    most_common: StrictStr
    by_seed: dict[str, StrictStr]


class Tables(Model):
    """The families of comparisons: the three the letter's claims rest on, and any other
    (controls, the 2019 review's test), each checked as a family."""

    __pydantic_extra__: dict[str, Table]  # type: ignore[assignment]
    vs_best_stress_metric: Table
    leaky_minus_grouped: Table
    leakage_term: Table


class Stats(Model):
    """metrics/stats.json."""

    alpha: Alpha
    smallest_effect: Number
    tables: Tables
    seed_summary: dict[str, dict[str, SeedSummary]]
    paper_split: PaperSplit
    permutation: Permutation
    decomposition: dict[str, Decomposition]
    reference_metric: ReferenceMetric

    @model_validator(mode="after")
    def _one_level(self) -> Stats:
        """Every family is tested at the level the letter states (``alpha``)."""
        tables = {"vs_best_stress_metric": self.tables.vs_best_stress_metric,
                  "leaky_minus_grouped": self.tables.leaky_minus_grouped,
                  "leakage_term": self.tables.leakage_term,
                  **(self.tables.__pydantic_extra__ or {})}
        for name, table in tables.items():
            if table.alpha != self.alpha:
                raise ValueError(f"tables.{name}.alpha {table.alpha} differs from alpha "
                                 f"{self.alpha}")
        return self
