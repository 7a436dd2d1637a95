"""The verdicts' operating characteristics, in the Supplementary Information's words: how
often each verdict was reached on generated data whose truth is known
(``benchmarks.operating``; the table is a committed input of the letter stage)."""

from __future__ import annotations

from typing import Any

from statsmodels.stats.proportion import proportion_confint

from ..methods import spec
from . import formatting as fmt
from .inputs import Inputs, dig, label, prose

SOURCE = "paper/operating_characteristics.json"
VERDICT_WORDS = {
    "vs_best": f"{fmt.MINUS} best metric",
    "drop": f"leaky {fmt.MINUS} grouped",
    "matched": "matched leakage",
    "matched_by_group": "matched, t over groups (retired)",
}
# an interval is printed as inference only where the simulation shows it covering at least
# this often (a nominal 95 % interval covering 93 % is close enough to read as one)
COVERAGE_FLOOR = 0.93
RETIRED = "matched_by_group"  # reported beside the tested verdicts, never printed as one
# where a null holds, a claim of either sign is false for the leakage verdicts; for the
# baseline only "higher" is (no fitted model can beat the best forecast of the stress)
FALSE_CLAIMS = {"vs_best": ("higher",), "drop": ("higher", "lower"),
                "matched": ("higher", "lower"), "matched_by_group": ("higher", "lower")}


def rate_text(count: int, total: int, interval: list[float] | None) -> str:
    """A count, its rate and its Clopper-Pearson interval: "3/100 (3.0%; 95% CI 0.6-8.5%)"
    (with an en dash)."""
    share = count / total if total else None
    bounds = "" if interval is None else (
        f"; 95% CI {fmt.percent(interval[0])}{fmt.EN_DASH}{fmt.percent(interval[1])}")
    return f"{count}/{total} ({fmt.percent(share)}{bounds})"


def _counted(level: dict[str, Any], names: tuple[str, ...], total: int) -> dict[str, Any]:
    count = sum(int(level[name]["count"]) for name in names)
    # one interval for a sum of outcomes: recomputed from the counts
    low, high = proportion_confint(count, total, alpha=0.05, method="beta")
    return {"count": count, "text": rate_text(count, total, [float(low), float(high)]),
            "upper": float(high)}


def operating_findings(inputs: Inputs) -> dict[str, Any] | None:
    """Per fitted method, verdict and setting: the truth (null or planted, with the mean
    estimate over the datasets), the false claims where a null holds (raw p-values: an upper
    bound on the pipeline's Holm-adjusted rate) and the correct claims where an effect was
    planted (m x p: a lower bound), with the rate of 'equivalent'; None without the table."""
    table = inputs.operating
    if table is None:
        return None
    rows, untrained = [], []
    for row in dig(table, ["rows"], SOURCE):
        verdict, total = row["verdict"], int(row["datasets"])
        raw, bound = row["raw"], row["bonferroni"]
        estimate = row["estimate"]
        entry = {
            "method": row["method"], "prose": prose(row["method"]), "label": label(row["method"]),
            "verdict": VERDICT_WORDS[verdict], "kind": verdict,
            "transferable": fmt.number(row["transferable"]),
            "leakage": fmt.number(row["leakage"]),
            "null": row["truth"] == "null", "datasets": total,
            "estimate": fmt.diff(estimate.get("mean")),
            "estimate_ci": fmt.interval(estimate.get("ci")),
            "false_claims": _counted(raw, FALSE_CLAIMS[verdict], total),
            "correct_higher": _counted(bound, ("higher",), total),
            "equivalent": _counted(raw, ("equivalent",), total),
            "undecided": _counted(bound, ("undecided",), total),
            "counts": {name: int(raw[name]["count"]) for name in raw},
        }
        (rows if spec(row["method"]).fitted else untrained).append(entry)
    nulls = [r for r in rows + untrained if r["null"] and r["kind"] != RETIRED]
    retired = [r for r in rows if r["null"] and r["kind"] == RETIRED]
    records = [source.get("record") or {} for source in table.get("sources", [])]

    def shared(key: str) -> str:
        values = {str(record.get(key)) for record in records if key in record}
        return fmt.join_words(sorted(values)) if values else fmt.MISSING

    return {
        "seeds": shared("seeds"), "size": shared("demo_size"),
        "rows": rows,
        # the retired test at the null, pooled over methods (None when not measured)
        "retired": None if not retired else {"false_claims": _counted(
            {name: {"count": sum(r["counts"][name] for r in retired)}
             for name in ("higher", "lower")}, ("higher", "lower"),
            sum(r["datasets"] for r in retired))},
        # where an effect was planted: how often the correct claim was reached (Bonferroni
        # bound, a lower bound on power), so the letter can say what its tests can detect
        "planted": [{**r, "power_low": r["correct_higher"]["count"] / r["datasets"] < 0.8}
                    for r in rows if not r["null"] and r["kind"] != RETIRED],
        "untrained_drop_false_claims": sum(r["false_claims"]["count"] for r in untrained
                                           if r["null"]),
        "untrained_drop_datasets": sum(r["datasets"] for r in untrained if r["null"]),
        "largest_false_claim_upper": fmt.percent(max(
            (r["false_claims"]["upper"] for r in nulls), default=None)),
        "sources": [source.get("file") for source in table.get("sources", [])],
        "commands": [source.get("command") for source in table.get("sources", [])],
        "coverage": coverage_findings(table.get("cluster_coverage")),
    }


def coverage_at(table: dict[str, Any] | None, clusters: int | None) -> float | None:
    """The simulated coverage of a 95 % percentile cluster-bootstrap interval over
    ``clusters`` clusters: the worst shape at the largest simulated count not above it
    (a lower count covers less); None without the simulation or below its counts."""
    rows = ((table or {}).get("cluster_coverage") or {}).get("rows") or []
    counts = [int(row["clusters"]) for row in rows]
    if clusters is None or not counts or clusters < min(counts):
        return None
    nearest = max(count for count in counts if count <= clusters)
    return min(float(row["bootstrap"]["coverage"]) for row in rows
               if int(row["clusters"]) == nearest)


def coverage_findings(coverage: dict[str, Any] | None) -> dict[str, str] | None:
    """The simulated coverage of 95 % percentile cluster-bootstrap intervals: its range over
    the cluster counts and shapes simulated ("69%-95%" for "3-100" clusters) and the fewest
    clusters at which every shape reaches ``COVERAGE_FLOOR``; None without the
    simulation."""
    if not coverage or not coverage.get("rows"):
        return None
    rates = [float(row["bootstrap"]["coverage"]) for row in coverage["rows"]]
    clusters = sorted({int(row["clusters"]) for row in coverage["rows"]})
    wrapped = {"cluster_coverage": coverage}
    enough = [count for count in clusters
              if (coverage_at(wrapped, count) or 0.0) >= COVERAGE_FLOOR]
    return {"bootstrap": f"{fmt.percent(min(rates))}{fmt.EN_DASH}{fmt.percent(max(rates))}",
            "clusters": f"{min(clusters)}{fmt.EN_DASH}{max(clusters)}",
            "datasets": fmt.integer(coverage.get("datasets")),
            "floor": fmt.percent(COVERAGE_FLOOR, 0),
            # the fewest clusters simulated at which every shape covers at least the floor
            "needed": fmt.integer(enough[0]) if enough else f"more than {max(clusters)}"}


def bootstrap_coverage(inputs: Inputs, clusters: int | None) -> dict[str, Any]:
    """Whether a cluster-bootstrap interval over ``clusters`` earthquakes may be read as
    inference: only where the coverage simulation shows it covering at least
    ``COVERAGE_FLOOR`` (and never without the simulation)."""
    rate = coverage_at(inputs.operating, clusters)
    return {"clusters": clusters, "coverage": fmt.percent(rate),
            "inference": rate is not None and rate >= COVERAGE_FLOOR}
