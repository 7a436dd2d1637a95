"""Operating characteristics of the letter's verdicts: how often each outcome is reached on
generated data whose truth is known (a benchmark, not part of the pipeline).

For every truth setting (``demo.transferable``, ``demo.leakage``) and generator seed, a
fresh small demo is generated and the pipeline's own code runs on it with the shipped
settings (params.yaml: 10 split seeds, each method's settings as shipped, the matched
leakage experiment's three control draws): features, partitions, the untrained stress
metrics and the methods under test on every partition, the statistics tables
(``comparisons.seed_tables``) and the matched leakage test (``leakage_summary``). Three
verdicts the letter can print are scored, each per method:

- ``vs_best``: the method minus the best untrained stress metric, grouped splits;
- ``drop``: the method's leaky minus grouped AUC (untrained metrics too);
- ``matched``: the matched leakage test (fitted methods): the exposed-minus-unexposed
  contrast over partitions (``leakage_summary.contrast_over_splits``); beside it,
  ``matched_by_group``, the t-test over the exposed earthquakes' groups that was the
  tested combination before this benchmark showed its false claims. Both are recomputed
  from each dataset's stored per-earthquake arms, so every dataset is scored by the
  current code.

The pipeline Holm-adjusts each verdict over a family (``SHIPPED_FAMILY``), whose other
members are not run here. A member's Holm-adjusted p-value lies between its raw p-value
and m times it, so each outcome is counted twice: with the raw p-values (a family of one:
an upper bound on how often the pipeline claims a difference or an equivalence) and with
the Bonferroni bound m x p (a lower bound). False-claim rates are read from the first,
power from the second. Each rate has a Clopper-Pearson 95 % interval (unit: generated
dataset). The truth of a setting is the planted one (``DEMO_DATA.json``) and, for each
verdict, the mean estimate over the setting's datasets with its 95 % interval: the
expected value of the tested quantity.

The ``--out`` file is rewritten after every dataset and the same command resumes it:

    python -m aftershock_replication.benchmarks.operating --settings 0:0 --datasets 100 \\
        --methods logistic --out benchmarks/results/operating-null-logistic.json

``--combine`` merges result files into the one table the Supplementary Information and the
README quote (``paper/operating_characteristics.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import t as student_t
from statsmodels.stats.proportion import proportion_confint

from ..atomic import finite_or_none, write_json
from ..cells import load_cells
from ..comparisons import seed_tables
from ..data.demo import GENERATOR_VERSION, generate_demo
from ..data.layout import open_layout
from ..errors import InputError
from ..evaluate import evaluate_method
from ..features import build_features
from ..leakage import measure_leakage
from ..leakage_summary import combine_by_group, contrast_over_splits
from ..methods import ALL_METHODS, COMPETITORS, CONTROLS, STRESS_METRICS, spec
from ..methods.params import LeakageParams, StatsParams, method_settings
from ..names import VERDICTS
from ..params import ComputeParams, DemoParams, SplitParams
from ..progress import format_seconds, setup_logging
from ..splits import make_splits, slip_model_table
from ..stats import decide, equivalence_pvalue

log = logging.getLogger(__name__)

PARAMS_FILE = Path("params.yaml")  # the shipped settings (run from the project's root)
VERDICT_KINDS = ("vs_best", "drop", "matched", "matched_by_group")
TABLE_OF = {"vs_best": "vs_best_stress_metric", "drop": "leaky_minus_grouped"}
# the size of each verdict's Holm family in the pipeline (the tests check it against the
# registry and params.yaml)
SHIPPED_FAMILY = {
    "vs_best": len(COMPETITORS),
    "drop": sum(1 for m in ALL_METHODS if m not in CONTROLS and not spec(m).uses_test_labels),
    "matched": 3,
    "matched_by_group": 3,
}
LEVELS = ("raw", "bonferroni")  # the two counts (module docstring)
FIRST_GENERATOR_SEED = 1000  # datasets of this benchmark: seeds 1000, 1001, ...


def shipped_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """The project's params.yaml (the shipped settings the verdicts are measured with)."""
    if not path.is_file():
        raise InputError(f"{path}: not found; run the benchmark from the project's root")
    return yaml.safe_load(path.read_text())


def compact(row: dict[str, Any]) -> dict[str, Any]:
    """What a verdict needs of a test row: the estimate, its interval and the raw tests."""
    return {key: row.get(key) for key in ("estimate", "ci", "se", "df", "p_value",
                                          "p_equivalence")}


def arms_by_earthquake(partitions: dict[str, Any]) -> dict[str, Any]:
    """Each measured leaky partition's arms per test earthquake (AUC as split, purged, size
    control and, with origin times, purged of later neighbours only) and which earthquakes
    were exposed (to any, later and earlier neighbours): enough to judge other ways of
    combining the matched experiment on the same datasets without refitting."""
    return {partition: {"exposed": record["exposed_events"],
                        "later_exposed": record.get("later_exposed_events", []),
                        "earlier_exposed": record.get("earlier_exposed_events", []),
                        "train_cells": record["train_cells"],
                        "test_cells": record["test_cells"],
                        "aucs": {arm: values["per_event"]
                                 for arm, values in record["aucs"].items()}}
            for partition, record in partitions.get("leaky", {}).items()
            if record.get("measured")}


def matched_tests(arms: dict[str, Any], alpha: float, margin: float) -> dict[str, Any]:
    """The matched leakage tests of one method on one dataset, from its stored arms
    (``arms_by_earthquake``): the contrast (tested) and the t over groups (retired)."""
    def minus(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        return {"per_event": {e: (None if a.get(e) is None or v is None else a[e] - v)
                              for e, v in b.items()}}

    records = {p: {"measured": True, "exposed_events": r["exposed"],
                   "train_cells": r["train_cells"], "test_cells": r["test_cells"],
                   "effect": minus(r["aucs"]["size_control"], r["aucs"]["purged"]),
                   "as_split_minus_purged": minus(r["aucs"]["as_split"], r["aucs"]["purged"])}
               for p, r in arms.items()}
    found = {"matched": contrast_over_splits(records, "effect", alpha),
             "matched_by_group": combine_by_group(records, alpha)}
    return {kind: {**compact(test), "p_equivalence": equivalence_pvalue(
        test.get("estimate"), test.get("se"), test.get("df"), margin)}
        for kind, test in found.items()}


def one_dataset(seed: int, transferable: float, leakage: float, methods: list[str],
                params: dict[str, Any], work: Path, matched: bool = True) -> dict[str, Any]:
    """Generate one demo and measure the verdicts of every method on it (without the
    matched leakage experiment, the costliest part, when ``matched`` is False)."""
    demo = DemoParams.from_params(params)
    demo = DemoParams(seed=seed, size=demo.size, leakage=leakage,
                      sequence_share=demo.sequence_share, positive_rate=demo.positive_rate,
                      transferable=transferable)
    raw = work / "raw"
    summary = generate_demo(demo, raw)
    features = work / "features.parquet"
    build_features(open_layout(raw), features, 1e-3)
    frame = pd.read_parquet(features, columns=["slip_model", "event", "sequence",
                                               "paper_role", "label"])
    splits = make_splits(slip_model_table(frame), SplitParams.from_params(params))
    cells = load_cells(features)
    compute = ComputeParams(backend="loky", n_jobs=-1, scheduler=None)
    stats = StatsParams.from_params(params)
    per_method = {m: evaluate_method(m, None, cells, splits, compute, None).partitions
                  for m in STRESS_METRICS}
    runs = {m: evaluate_method(m, method_settings(params, m), cells, splits, compute, None)
            for m in methods}
    per_method |= {m: run.partitions for m, run in runs.items()}
    tables = seed_tables(per_method, stats.alpha, stats.smallest_effect)
    leakage_settings = LeakageParams.from_params(params)
    measured = {m: measure_leakage(m, method_settings(params, m), cells, splits,
                                   runs[m].test_scores, leakage_settings, compute)
                for m in methods if spec(m).fitted and matched}
    tests: dict[str, dict[str, Any]] = {}
    for kind, table in TABLE_OF.items():
        for row in tables["tables"][table]["rows"]:
            tests.setdefault(row["method"], {})[kind] = compact(row)
    return {"seed": seed, "transferable": transferable, "leakage": leakage,
            "truth": summary["truth"], "tests": tests,
            "leakage_partitions": {m: arms_by_earthquake(parts) for m, parts in measured.items()},
            "fit_failures": {m: h["failures"]
                             for m, h in tables["fit_health"]["methods"].items()}}


def outcome_of(test: dict[str, Any], level: str, family: int, alpha: float) -> str:
    """The verdict of one test at ``level``: with the raw p-values, or with m x p."""
    factor = 1 if level == "raw" else family
    p, p_eq = test.get("p_value"), test.get("p_equivalence")
    return decide(test.get("estimate"),
                  None if p is None else min(1.0, factor * p),
                  None if p_eq is None else min(1.0, factor * p_eq), alpha)


def interval(count: int, total: int) -> list[float] | None:
    """Clopper-Pearson 95 % interval of a rate (statsmodels)."""
    if not total:
        return None
    low, high = proportion_confint(count, total, alpha=0.05, method="beta")
    return [float(low), float(high)]


def mean_interval(values: list[float]) -> dict[str, Any]:
    """Mean over datasets with its Student-t 95 % interval: the expected tested quantity."""
    array = np.asarray([v for v in values if v is not None], dtype=float)
    if array.size < 2:
        return {"mean": float(array.mean()) if array.size else None, "ci": None,
                "datasets": int(array.size)}
    half = float(student_t.ppf(0.975, array.size - 1) * array.std(ddof=1) / np.sqrt(array.size))
    return {"mean": float(array.mean()), "ci": [float(array.mean() - half),
                                                 float(array.mean() + half)],
            "datasets": int(array.size)}


def test_of(outcome: dict[str, Any], method: str, kind: str, alpha: float,
            margin: float) -> dict[str, Any] | None:
    """One verdict's test on one dataset: the matched ones recomputed from the stored arms,
    the others as the statistics tables gave them (None where not run)."""
    if kind.startswith("matched"):
        arms = outcome.get("leakage_partitions", {}).get(method)
        return None if arms is None else matched_tests(arms, alpha, margin)[kind]
    return outcome["tests"].get(method, {}).get(kind)


def summarise_setting(outcomes: list[dict[str, Any]], alpha: float,
                      margin: float) -> list[dict[str, Any]]:
    """One row per method and verdict: outcome counts and rates at both levels with their
    intervals, the mean estimate (the truth of the tested quantity) and the planted truth."""
    rows = []
    methods = sorted({m for o in outcomes for m in o["tests"]},
                     key=lambda m: ALL_METHODS.index(m) if m in ALL_METHODS else 99)
    for method in methods:
        for kind in VERDICT_KINDS:
            tests = [test_of(o, method, kind, alpha, margin) for o in outcomes]
            tests = [test for test in tests if test is not None]
            if not tests:
                continue
            row: dict[str, Any] = {
                "method": method, "verdict": kind, "datasets": len(tests),
                "family": SHIPPED_FAMILY[kind],
                "estimate": mean_interval([t["estimate"] for t in tests]),
            }
            for level in LEVELS:
                found = [outcome_of(t, level, SHIPPED_FAMILY[kind], alpha) for t in tests]
                row[level] = {name: {"count": found.count(name),
                                     "rate": found.count(name) / len(found),
                                     "ci": interval(found.count(name), len(found))}
                              for name in VERDICTS}
            rows.append(row)
    planted = {key: mean_interval([o["truth"].get(key) for o in outcomes])
               for key in ("transferable_gain", "sequence_gain", "oracle_auc")}
    for row in rows:
        row["planted"] = planted
    return rows


def setting_key(transferable: float, leakage: float) -> str:
    return f"{transferable:g}:{leakage:g}"


def run(settings: list[tuple[float, float]], datasets: int, methods: list[str],
        params: dict[str, Any], out: Path, command: str, matched: bool = True,
        ) -> dict[str, Any]:
    """Measure (resuming ``out``) and summarise; ``out`` is rewritten after every dataset."""
    record = {"generator_version": GENERATOR_VERSION, "methods": methods,
              "demo_size": params["demo"]["size"], "seeds": params["seeds"],
              "method_settings": {m: params["methods"].get(m) for m in methods},
              "leakage": params["leakage"], "split": params["split"],
              "stats": {k: params["stats"][k] for k in ("alpha", "smallest_effect")},
              "first_generator_seed": FIRST_GENERATOR_SEED,
              **({} if matched else {"matched": False})}
    outcomes: list[dict[str, Any]] = []
    if out.is_file():
        earlier = json.loads(out.read_text())
        if earlier.get("record") != record:
            raise InputError(f"{out}: made with other settings ({earlier.get('record')}); "
                             "choose another --out to start afresh")
        outcomes = earlier["outcomes"]
    done = {(o["transferable"], o["leakage"], o["seed"]) for o in outcomes}
    alpha = float(params["stats"]["alpha"])
    margin = float(params["stats"]["smallest_effect"])

    def save() -> dict[str, Any]:
        table = {setting_key(t, lk): summarise_setting(
            [o for o in outcomes if (o["transferable"], o["leakage"]) == (t, lk)], alpha,
            margin) for t, lk in settings}
        payload = finite_or_none({"command": command, "record": record, "table": table,
                                  "wall_seconds": round(sum(o["seconds"] for o in outcomes)),
                                  "outcomes": outcomes})
        write_json(out, payload)
        return payload

    for transferable, leakage in settings:
        for index in range(datasets):
            seed = FIRST_GENERATOR_SEED + index
            if (transferable, leakage, seed) in done:
                continue
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as directory:
                outcome = one_dataset(seed, transferable, leakage, methods, params,
                                      Path(directory), matched)
            outcome["seconds"] = round(time.perf_counter() - start, 1)
            outcomes.append(outcome)
            summary = {m: {k: (round(v["estimate"], 4) if v.get("estimate") is not None
                               else None) for k, v in tests.items()}
                       for m, tests in outcome["tests"].items() if m in methods}
            log.info("setting %s, dataset %d/%d (seed %d) in %s: %s",
                     setting_key(transferable, leakage), index + 1, datasets, seed,
                     format_seconds(outcome["seconds"]), summary)
            save()
    return save()


def truth_kind(verdict: str, transferable: float, leakage: float) -> str:
    """'null' where the setting plants nothing the verdict could find (no leak for the
    leakage verdicts; no transferable signal for the baseline, where then no fitted model
    can beat the best forecast of the stress), else 'planted'."""
    planted = transferable if verdict == "vs_best" else leakage
    return "null" if planted == 0 else "planted"


def combine(sources: list[Path], out: Path) -> dict[str, Any]:
    """One table from several result files (the Supplementary Information and the README
    quote it): per setting, method and verdict, the outcome rates at both levels with their
    intervals, the mean estimate and the planted truth, and whether the setting is a null
    for that verdict; with each source's command and settings. A source written by
    ``benchmarks.cluster_coverage`` is kept whole as ``cluster_coverage``."""
    rows, made_by = [], []
    coverage = None
    for source in sources:
        result = json.loads(source.read_text())
        if "outcomes" not in result and "clusters" in (result.get("rows") or [{}])[0]:
            # the few-cluster interval coverage (benchmarks.cluster_coverage): why one
            # split's estimates carry no interval
            coverage = {"file": source.name, **{key: result[key] for key in (
                "command", "datasets", "unit", "target", "shapes", "rows")}}
            continue
        made_by.append({"file": source.name, "command": result["command"],
                        "record": result["record"], "wall_seconds": result["wall_seconds"]})
        alpha = float(result["record"]["stats"]["alpha"])
        margin = float(result["record"]["stats"]["smallest_effect"])
        settings = sorted({(o["transferable"], o["leakage"]) for o in result["outcomes"]})
        for transferable, leakage in settings:
            # summarised again by the current code (the matched tests from the stored arms)
            setting_rows = summarise_setting(
                [o for o in result["outcomes"]
                 if (o["transferable"], o["leakage"]) == (transferable, leakage)],
                alpha, margin)
            for row in setting_rows:
                rows.append({"source": source.name, "transferable": transferable,
                             "leakage": leakage,
                             "truth": truth_kind(row["verdict"], transferable, leakage),
                             **row})
    payload = finite_or_none({"sources": made_by, "levels": {
        "raw": "raw p-values (a family of one): an upper bound on the pipeline's claims",
        "bonferroni": "m x p with m the pipeline's family size: a lower bound"},
        "rows": rows, "cluster_coverage": coverage})
    write_json(out, payload)
    return payload


def parse_setting(text: str) -> tuple[float, float]:
    """``T:L``: demo.transferable and demo.leakage."""
    try:
        transferable, leakage = (float(part) for part in text.split(":"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected TRANSFERABLE:LEAKAGE, got {text!r}") \
            from error
    return transferable, leakage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", type=parse_setting, nargs="+",
                        help="truths to generate, each TRANSFERABLE:LEAKAGE")
    parser.add_argument("--datasets", type=int,
                        help="generated datasets per setting (generator seeds 1000, ...)")
    parser.add_argument("--methods", nargs="+", default=[],
                        help="the methods under test (the untrained metrics always run)")
    parser.add_argument("--no-matched", action="store_true",
                        help="skip the matched leakage experiment (for settings that test "
                             "the baseline verdict only)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--combine", type=Path, nargs="+", default=None,
                        help="instead of measuring: combine these result files into --out")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    setup_logging()
    if args.combine:
        combine(args.combine, args.out)
        return 0
    if not (args.settings and args.datasets and args.methods):
        parser.error("--settings, --datasets and --methods are required to measure")
    unknown = [m for m in args.methods if m not in ALL_METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {', '.join(ALL_METHODS)}")
    command = " ".join(["python -m aftershock_replication.benchmarks.operating",
                        *(argv if argv is not None else sys.argv[1:])])
    start = time.perf_counter()
    result = run(args.settings, args.datasets, args.methods, shipped_params(args.params),
                 args.out, command, matched=not args.no_matched)
    for key, rows in result["table"].items():
        for row in rows or []:
            raw, bound = row["raw"], row["bonferroni"]
            print(key, row["method"], row["verdict"], row["datasets"],
                  " ".join(f"{v}:{raw[v]['count']}/{bound[v]['count']}" for v in VERDICTS),
                  "mean", row["estimate"]["mean"])
    print(f"wall time of this run {format_seconds(time.perf_counter() - start)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
