"""The schema of the metrics the letter prints: types, finite numbers, and the numbers each
claim rests on.

The stages write their JSON through ``atomic.json_text`` (NaN refused); a file edited by
hand, truncated or left by an older version may still hold a string where a number belongs,
a missing key or a verdict without its estimate. Each file is checked here once, on
reading, so that no claim renders without its number and no value prints as a dash by
accident: a mismatch is an InputError naming the file, the key and the stage that rebuilds
it. Keys the letter does not read are let through (``extra="allow"``).

pydantic does the checking: its strict mode refuses a string
or a bool where a number belongs, and its error locations name the key path. The schema of
``metrics/stats.json`` is in ``stats_schema``, on the types defined here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from ..errors import InputError
from ..names import VERDICTS

Number = FiniteFloat  # strict: an int or a finite float; NaN, a string or a bool is refused
Probability = Annotated[FiniteFloat, Field(ge=0.0, le=1.0)]
Alpha = Annotated[FiniteFloat, Field(gt=0.0, le=0.5)]  # a test's level
Count = Annotated[StrictInt, Field(ge=0)]
# a two-sided interval: [low, high]; an end is null where the stage could not compute it
Interval = Annotated[list[Number | None], Field(min_length=2, max_length=2)]
Verdict = Literal[VERDICTS]  # type: ignore[valid-type]

# the numbers a verdict is printed with; a claim is never rendered without them
CLAIM_NEEDS: dict[str, tuple[str, ...]] = {
    "higher": ("estimate", "p_holm", "ci_simultaneous"),
    "lower": ("estimate", "p_holm", "ci_simultaneous"),
    "equivalent": ("estimate", "p_equivalence_holm", "equivalence_bound"),
    "undecided": ("estimate", "p_holm", "detectable_effect_80"),
    "untested": (),
}


class Model(BaseModel):
    """A JSON object of a metrics file: typed keys checked, other keys let through."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


def _complete(interval: list[float | None] | None) -> bool:
    return interval is not None and None not in interval


def _ordered(interval: list[float | None] | None, name: str) -> None:
    if _complete(interval) and interval[0] > interval[1]:  # type: ignore[index, operator]
        raise ValueError(f"{name} {interval} has its lower end above its upper end")


class Estimate(Model):
    """An estimate and its interval (a bootstrap, or a t test's)."""

    estimate: Number | None
    ci: Interval | None

    @model_validator(mode="after")
    def _interval_ordered(self) -> Estimate:
        _ordered(self.ci, "ci")
        return self


class Tested(Estimate):
    """A t test of an estimate (over splits or clusters) and, where it is one of a family's
    comparisons, its verdict with the Holm-adjusted p-values the verdict rests on."""

    se: Number | None
    df: Annotated[Number, Field(ge=0)] | None
    p_value: Probability | None
    detectable_effect_80: Number | None
    test: StrictStr
    unit: StrictStr
    verdict: Verdict | None = None
    p_holm: Probability | None = None
    ci_simultaneous: Interval | None = None
    p_equivalence_holm: Probability | None = None
    equivalence_bound: Number | None = None
    within_smallest_effect: StrictBool | None = None

    @model_validator(mode="after")
    def _claim_has_its_numbers(self) -> Tested:
        """A verdict needs the numbers it is printed with, and a direction its sign."""
        _ordered(self.ci_simultaneous, "ci_simultaneous")
        if self.verdict is None:
            return self
        absent = [name for name in CLAIM_NEEDS[self.verdict]
                  if name not in self.model_fields_set or getattr(self, name) is None
                  or (name.startswith("ci") and not _complete(getattr(self, name)))]
        if absent:
            raise ValueError(f"the verdict {self.verdict!r} is printed with its "
                             f"{', '.join(absent)}, which {'is' if len(absent) == 1 else 'are'}"
                             " missing or null")
        sign = {"higher": 1, "lower": -1}.get(self.verdict)
        if sign is not None and not self.estimate * sign > 0:  # type: ignore[operator]
            raise ValueError(f"the verdict {self.verdict!r} contradicts the estimate "
                             f"{self.estimate}")
        return self


def claims_at_level(rows: dict[str, Tested], alpha: float) -> None:
    """A claimed difference or equivalence has its adjusted p below the family's level,
    an undecided row does not (``rows``: each named as the message should place it)."""
    for where, row in rows.items():
        p = {"higher": row.p_holm, "lower": row.p_holm,
             "equivalent": row.p_equivalence_holm}.get(str(row.verdict))
        if p is not None and not p < alpha:
            raise ValueError(f"{where}: the verdict {row.verdict!r} needs an adjusted p below "
                             f"alpha {alpha}, got {p}")
        if row.verdict == "undecided" and row.p_holm is not None and row.p_holm < alpha:
            raise ValueError(f"{where}: undecided with p_holm {row.p_holm} below alpha "
                             f"{alpha}")


class LeakageMethod(Model):
    """One method's matched-leakage experiment."""

    contrast: Tested
    by_group: Tested
    combined: dict[Literal["all", "exposed", "unexposed"], Tested]
    as_split_minus_purged: Tested
    earlier: Tested | None = None
    later: Tested | None = None
    partitions: dict[str, Any]


class Leakage(Model):
    """metrics/leakage.json; the verdict is on ``primary_test`` (or the combined
    ``primary`` subset)."""

    alpha: Alpha
    smallest_effect: Number
    primary: Literal["all", "exposed", "unexposed"]
    primary_test: StrictStr | None = None
    methods: dict[str, LeakageMethod]

    @model_validator(mode="after")
    def _each_method_tested(self) -> Leakage:
        tested: dict[str, Tested] = {}
        for method, entry in self.methods.items():
            row = (getattr(entry, self.primary_test)
                   if self.primary_test in ("contrast", "by_group")
                   else entry.combined.get(self.primary))
            if row is None or row.verdict is None:
                raise ValueError(f"methods.{method}: the tested entry "
                                 f"({self.primary_test or 'combined.' + self.primary}) "
                                 "has no verdict")
            tested[f"methods.{method}.{self.primary_test or 'combined.' + self.primary}"] = row
        claims_at_level(tested, self.alpha)
        return self


class Variant(Model):
    mean: Number | None
    per_seed: list[Number | None] = []


class MethodAuc(Model):
    pooled: Variant
    per_slip_model_mean: Variant
    event_weighted: Variant
    train_pooled: Variant | None = None
    fitted: StrictBool
    uses_test_labels: StrictBool


class Auc(Model):
    """metrics/auc.json: scheme -> method -> AUC variants."""

    paper: dict[str, MethodAuc]
    leaky: dict[str, MethodAuc]
    grouped: dict[str, MethodAuc]


class RoleCounts(Model):
    slip_models: Count
    rows: Count
    positives: Count


class Features(Model):
    """metrics/features.json."""

    rows: Count
    slip_models: Count
    by_paper_role: dict[Literal["train", "test"], RoleCounts]
    demo: dict[str, Any] | None


class SharePoint(Model):
    mean: Number | None
    sd: Number | None
    seeds: Count


class CurveSummary(Model):
    """metrics/learning_curve/<method>.json."""

    by_train_share: dict[str, SharePoint]
    training_length: StrictStr
    full_point_still_improving: dict[str, Count] | None


class StraddlingGroup(Model):
    """An earthquake or sequence with slip models on both sides of a split."""

    group: StrictStr
    train_slip_models: list[StrictStr]
    test_slip_models: list[StrictStr]
    test_row_share: Probability | None


# scheme -> partition -> grouping level -> the groups that straddle it
AuditScheme = dict[str, dict[str, list[StraddlingGroup]]]


class Audit(Model):
    """metrics/leakage_audit.json."""

    paper: AuditScheme
    leaky: AuditScheme
    grouped: AuditScheme

    @model_validator(mode="after")
    def _paper_split(self) -> Audit:
        if "paper" not in self.paper:
            raise ValueError("paper: the paper split's partition 'paper' is missing")
        return self


class Outcome(Model):
    count: Count


class OperatingEstimate(Model):
    mean: Number | None
    ci: Interval | None


class OperatingRow(Model):
    """One verdict's outcomes over generated datasets whose truth is known."""

    method: StrictStr
    verdict: StrictStr
    truth: StrictStr
    datasets: Annotated[StrictInt, Field(gt=0)]
    transferable: Number
    leakage: Number
    estimate: OperatingEstimate
    raw: dict[str, Outcome]
    bonferroni: dict[str, Outcome]


class CoverageRate(Model):
    coverage: Probability


class CoverageRow(Model):
    clusters: Count
    bootstrap: CoverageRate


class CoverageTable(Model):
    rows: list[CoverageRow]


class Operating(Model):
    """paper/operating_characteristics.json (benchmarks.operating --combine)."""

    rows: list[OperatingRow]
    cluster_coverage: CoverageTable | None = None


def check(schema: type[Model], payload: Any, path: Path | str, producer: str) -> None:
    """Refuse ``payload`` (read from ``path``) unless it matches ``schema``: an InputError
    naming the file, the first mismatching keys and the stage that rebuilds the file."""
    try:
        schema.model_validate(payload)
    except ValidationError as error:
        problems = []
        for item in error.errors()[:3]:
            where = ".".join(str(part) for part in item["loc"]) or "top level"
            shown = repr(item["input"])
            found = "" if item["type"] in ("missing", "value_error") else \
                f" (found {shown if len(shown) <= 40 else shown[:37] + '...'})"
            problems.append(f"{where}: {item['msg']}{found}")
        more = error.error_count() - len(problems)
        raise InputError(
            f"{path}: does not match the metrics schema: {'; '.join(problems)}"
            f"{f'; and {more} more' if more > 0 else ''}. Rerun {producer} to rebuild it"
        ) from None
