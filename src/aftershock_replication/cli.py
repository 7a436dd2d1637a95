"""Command line: one subcommand per DVC stage, each reading only the params it lists.

Run ``replicate <stage> --help`` for a stage's inputs, outputs and params.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .params import (
    ComputeParams,
    DataParams,
    DemoParams,
    EvaluateParams,
    FeatureParams,
    LearningCurveParams,
    SplitParams,
    StatsParams,
    load_params,
    method_settings,
)
from .progress import format_seconds, setup_logging

log = logging.getLogger("aftershock_replication")


def run_acquire(args: argparse.Namespace) -> None:
    """acquire: the configured data source -> original layout in --out."""
    from .data.sources import acquire
    from .pipeline import check_outside_outputs, stage_outputs

    params = load_params(args.params)
    data, demo = DataParams.from_params(params), DemoParams.from_params(params)
    if data.source != "demo":  # the user's own copy: never where DVC deletes outputs
        declared = stage_outputs(Path(args.params).parent / "dvc.yaml")
        check_outside_outputs(data.path, "data.path", {Path(args.out): "acquire", **declared})
    acquire(data, demo, Path(args.out))


def run_features(args: argparse.Namespace) -> None:
    """features: original layout -> Parquet feature table + JSON report."""
    from .atomic import write_json
    from .data.layout import open_layout
    from .features import build_features

    settings = FeatureParams.from_params(load_params(args.params))
    report = build_features(open_layout(args.raw), Path(args.out), settings.crosscheck_rtol)
    write_json(args.report, report)
    log.info(
        "%s rows from %d slip models (%.2f%% positive cells); %d slip model(s) skipped",
        f"{report['rows']:,}", report["slip_models"], 100 * report["positive_share"],
        len(report["skipped_slip_models"]),
    )


def run_split(args: argparse.Namespace) -> None:
    """split: feature table -> partitions of every scheme and seed + leakage audit."""
    import pandas as pd

    from .atomic import write_json
    from .splits import leakage_audit, make_splits, slip_model_table

    split_params = SplitParams.from_params(load_params(args.params))
    columns = ["slip_model", "event", "sequence", "paper_role", "x", "y", "label"]
    models = slip_model_table(pd.read_parquet(args.features, columns=columns))
    splits = make_splits(models, split_params)
    audit = leakage_audit(models, splits)
    write_json(args.out, splits)
    write_json(args.audit, audit)
    for scheme, by_partition in audit.items():
        for partition, levels in by_partition.items():
            log.info("%s/%s: %s", scheme, partition, ", ".join(
                f"{len(groups)} {level} group(s) straddle" for level, groups in levels.items()))


def run_evaluate(args: argparse.Namespace) -> None:
    """evaluate: fit one method on every partition's training side, score both sides."""
    import json

    import numpy as np
    import pandas as pd

    from .atomic import atomic_file, write_json
    from .cells import load_cells
    from .evaluate import evaluate_method
    from .methods import create

    params = load_params(args.params)
    settings = method_settings(params, args.method)
    create(args.method, settings)  # unknown method -> error before any work
    compute = ComputeParams.from_params(params)
    train_auc_negatives = EvaluateParams.from_params(params).train_auc_negatives
    splits = json.loads(Path(args.splits).read_text())
    cells = load_cells(args.features)
    result = evaluate_method(args.method, settings, cells, splits, compute, train_auc_negatives)
    write_json(args.metrics, {"method": args.method, "settings": settings,
                              "partitions": result.partitions})
    with atomic_file(args.scores) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **result.test_scores)  # float32 barely compresses: 4 s for 10 %
    with atomic_file(args.per_slip_model) as temporary:
        pd.concat(result.per_slip_model).to_csv(temporary, index=False, float_format="%.6f")
    with atomic_file(args.roc) as temporary:
        pd.concat(result.roc).to_csv(temporary, index=False, float_format="%.5f")


def run_aggregate(args: argparse.Namespace) -> None:
    """aggregate: per-method metrics -> metrics/auc.json (the metrics contract)."""
    import json

    from .atomic import write_json
    from .evaluate import auc_summary
    from .methods import ALL_METHODS

    per_method = {}
    for method in ALL_METHODS:
        path = Path(args.methods_dir) / f"{method}.json"
        if not path.is_file():
            raise InputError(f"{path}: missing; run the evaluate stage of '{method}' first")
        per_method[method] = json.loads(path.read_text())["partitions"]
    write_json(args.out, auc_summary(per_method))


def run_learning_curve(args: argparse.Namespace) -> None:
    """learning-curve: grouped-test AUC against training rows for one method."""
    import json

    from .atomic import atomic_file, write_json
    from .cells import load_cells
    from .learning_curve import learning_curve

    params = load_params(args.params)
    curve = LearningCurveParams.from_params(params)
    if args.method not in curve.methods:
        raise InputError(f"'{args.method}' is not in learning_curve.methods {list(curve.methods)}")
    settings = method_settings(params, args.method)
    splits = json.loads(Path(args.splits).read_text())
    table = learning_curve(args.method, settings, load_cells(args.features),
                           splits["schemes"]["grouped"], curve.min_rows, curve.max_rows,
                           curve.points, ComputeParams.from_params(params))
    with atomic_file(args.plot) as temporary:
        table.to_csv(temporary, index=False, float_format="%.6f")
    summary = table.groupby("train_rows")["test_auc"].agg(["mean", "std", "count"])
    write_json(args.out, {
        "method": args.method,
        "by_train_rows": {str(rows): {"mean": float(r["mean"]),
                                      "sd": float(r["std"]) if r["count"] > 1 else 0.0,
                                      "seeds": int(r["count"])}
                          for rows, r in summary.iterrows()},
    })


def run_stats(args: argparse.Namespace) -> None:
    """stats: uncertainty and tests from the per-method metrics and test scores."""
    import json

    import numpy as np

    from .atomic import write_json
    from .cells import load_cells
    from .comparisons import (
        finite_or_none,
        paper_scores,
        paper_split_tests,
        permutation_tests,
        seed_tables,
    )
    from .methods import ALL_METHODS

    settings = StatsParams.from_params(load_params(args.params))
    per_method, scores = {}, {}
    for method in ALL_METHODS:
        metrics_path = Path(args.methods_dir) / f"{method}.json"
        scores_path = Path(args.scores_dir) / f"{method}.npz"
        for path in (metrics_path, scores_path):
            if not path.is_file():
                raise InputError(f"{path}: missing; run the evaluation of '{method}' first")
        per_method[method] = json.loads(metrics_path.read_text())["partitions"]
        scores[method] = np.load(scores_path)
    splits = json.loads(Path(args.splits).read_text())
    tables = seed_tables(per_method)
    cells = load_cells(args.features)
    paper_test = splits["schemes"]["paper"]["paper"]
    by_method = paper_scores(scores)
    reference = tables["reference_metric"]["by_partition"]["paper"]["paper"]
    write_json(args.out, finite_or_none({
        **tables,
        "paper_split": paper_split_tests(cells, paper_test, by_method, reference, settings),
        "permutation": permutation_tests(cells, paper_test, by_method[settings.permutation_method],
                                         settings.permutation_method, settings.permutations,
                                         settings.seed),
    }))


def run_letter(args: argparse.Namespace) -> None:
    """letter: metrics, plots and tables -> paper/letter.pdf (Jinja2 + WeasyPrint)."""
    import shlex

    from .report import render_letter

    summary = render_letter(
        metrics_dir=Path(args.metrics), plots_dir=Path(args.plots),
        results_dir=Path(args.results), params=load_params(args.params),
        out_pdf=Path(args.out), figures_dir=Path(args.figures),
        template_dir=Path(args.templates), splits_path=Path(args.splits),
        commands=["dvc repro", shlex.join(["replicate", *sys.argv[1:]])],
    )
    log.info("wrote %s: %d pages, %d figures%s", args.out, summary["pages"],
             len(summary["figures"]), " (DEMO DATA)" if summary["demo"] else "")


def run_pin_checksums(args: argparse.Namespace) -> None:
    """pin-checksums: write the size/SHA-256 manifest of a verified copy of the published data."""
    from .atomic import write_json
    from .data.download import pin_checksums

    manifest = pin_checksums(Path(args.root))
    write_json(args.out, manifest)
    log.info("pinned %d files into %s", len(manifest["files"]), args.out)


STAGES: dict[str, tuple[Callable[[argparse.Namespace], None], str]] = {
    "acquire": (
        run_acquire,
        """Bring the data source chosen by data.source into the original layout.

inputs:  data.source=demo: nothing (generated from demo.*);
         data.source=local: the directory data.path;
         data.source=devries2018: downloads the published folder into data.path
           (or from data.mirror), resumable and verified against pinned checksums.
outputs: --out (default data/raw): AllCSV/<name>_grid.csv + Training_FileNames.h5 +
         Testing_FileNames.h5 (links to data.path for local/devries2018), and
         DEMO_DATA.json when the data is synthetic.
params:  data.source, data.path, data.mirror, data.drive_folder,
         demo.seed, demo.size, demo.leakage, demo.sequence_share, demo.positive_rate""",
    ),
    "features": (
        run_features,
        """Read the original layout into one feature table, one row per grid cell.

inputs:  --raw (default data/raw), the original layout.
outputs: --out (default data/features.parquet): slip_model, event, sequence,
         paper_role, x, y, stress_xx..stress_zz (all float32), label, max_shear,
         von_mises, sum_abs, cfs_1..cfs_4;
         --report (default metrics/features.json): rows and positives per paper role,
         skipped one-class slip models, metric sources, cross-check results, demo flag.
params:  features.crosscheck_rtol""",
    ),
    "split": (
        run_split,
        """Partition the slip models: the paper's split, leaky and grouped seeds; audit them.

inputs:  --features (default data/features.parquet).
outputs: --out (default data/splits.json): scheme -> partition -> test slip models;
         --audit (default metrics/leakage_audit.json): scheme -> partition -> grouping
         level -> groups straddling train and test, their slip models, test-row share.
params:  seeds, split.test_size, split.leaky_by, split.grouped_by, split.cluster_km,
         split.cluster_days""",
    ),
    "evaluate": (
        run_evaluate,
        """Fit one method on each partition's training cells and score test and train cells.

inputs:  --features, --splits; --method one of coulomb, coulomb_test_selected,
         max_shear, von_mises, sum_abs, one_neuron, logistic, random_forest, svm, gam,
         neural_network.
outputs: --metrics (metrics/methods/<method>.json): AUC variants per partition;
         --scores (results/scores/<method>.npz): float32 test scores per partition;
         --per-slip-model (results/per_slip_model/<method>.csv); --roc (plots/roc/<method>.csv).
params:  methods.<method> (fitted methods only)""",
    ),
    "aggregate": (
        run_aggregate,
        """Collect every method's metrics into metrics/auc.json.

inputs:  --methods-dir (default metrics/methods), one JSON per method.
outputs: --out (default metrics/auc.json): scheme -> method -> pooled (mean, sd,
         per_seed), per_slip_model_mean, event_weighted, train_pooled.
params:  none""",
    ),
    "learning-curve": (
        run_learning_curve,
        """Grouped-test AUC against the number of training rows, for one method.

inputs:  --features, --splits (the grouped partitions); --method.
outputs: --out (metrics/learning_curve/<method>.json), --plot (plots/learning_curve/<method>.csv).
params:  learning_curve.*, methods.<method>""",
    ),
    "stats": (
        run_stats,
        """Uncertainty with the earthquake or the repeated split as unit, and the tests.

inputs:  --methods-dir (metrics/methods), --scores-dir (results/scores), --features,
         --splits.
outputs: --out (default metrics/stats.json): seed summaries, the reference stress metric,
         Holm-corrected tables (vs the best stress metric, leaky - grouped, leakage
         term), the leakage/composition decomposition, cluster bootstrap and naive DeLong
         on the paper split, per-slip-model permutation tests.
params:  stats.bootstrap_replicates, stats.permutations, stats.permutation_method,
         stats.seed""",
    ),
    "letter": (
        run_letter,
        """Render the rebuttal letter from the metrics files.

inputs:  --metrics (metrics: features.json, auc.json, leakage_audit.json, stats.json,
         learning_curve/), --plots (plots: roc/, learning_curve/), --results
         (results/per_slip_model), --splits, --templates (paper: letter.html.j2, style.css).
outputs: --out (default paper/letter.pdf), --figures (default paper/figures).
params:  the whole params.yaml (printed in the provenance appendix); letter.* for the
         signatures, date and wording thresholds. Set SOURCE_DATE_EPOCH for
         reproducible bytes (dvc.yaml uses the last commit's time).""",
    ),
    "pin-checksums": (
        run_pin_checksums,
        """Pin sizes and SHA-256 of a verified copy of the published data (maintainers).

inputs:  --root (default data/original), the published layout.
outputs: --out, the manifest JSON that data.source=devries2018 verifies downloads against.
params:  none""",
    ),
}

DEFAULTS: dict[str, dict[str, str]] = {
    "acquire": {"out": "data/raw"},
    "features": {
        "raw": "data/raw", "out": "data/features.parquet", "report": "metrics/features.json",
    },
    "split": {"features": "data/features.parquet", "out": "data/splits.json",
              "audit": "metrics/leakage_audit.json"},
    "evaluate": {"method": "", "features": "data/features.parquet", "splits": "data/splits.json",
                 "metrics": "", "scores": "", "per_slip_model": "", "roc": ""},
    "aggregate": {"methods_dir": "metrics/methods", "out": "metrics/auc.json"},
    "learning-curve": {"method": "", "features": "data/features.parquet",
                       "splits": "data/splits.json", "out": "", "plot": ""},
    "stats": {"methods_dir": "metrics/methods", "scores_dir": "results/scores",
              "features": "data/features.parquet", "splits": "data/splits.json",
              "out": "metrics/stats.json"},
    "letter": {"metrics": "metrics", "plots": "plots", "results": "results",
               "splits": "data/splits.json", "templates": "paper", "figures": "paper/figures",
               "out": "paper/letter.pdf"},
    "pin-checksums": {
        "root": "data/original",
        "out": "src/aftershock_replication/data/devries2018_manifest.json",
    },
}


def run_benchmark(args: argparse.Namespace) -> None:
    """benchmark: the whole pipeline at scale, stage by stage (not a DVC stage)."""
    from .benchmarks.dataset import PUBLISHED_CELLS
    from .benchmarks.pipeline import default_name, run_benchmark

    if args.cells is None:
        args.cells = PUBLISHED_CELLS
    if args.cells < 10_000:
        raise InputError(f"--cells must be at least 10,000, got {args.cells:,}")
    name = args.name or default_name(args.source, args.cells, args.seeds, args.demo_size)
    run_benchmark(
        source_root=Path(args.params).resolve().parent, out=Path(args.results_dir) / name,
        cells=args.cells, seeds=args.seeds, source=args.source, demo_size=args.demo_size,
        workdir=None if args.workdir is None else Path(args.workdir),
        stages=args.stages.split(",") if args.stages else None,
        reader_repeats=args.reader_repeats, check_train_auc=not args.no_train_auc_check,
        keep=args.keep,
    )


def add_benchmark_parser(commands: argparse._SubParsersAction) -> None:
    """``replicate benchmark``: options of the scale benchmark."""
    sub = commands.add_parser(
        "benchmark", help="measure every stage at scale (wall, CPU, peak memory)",
        description=(
            "Run the whole pipeline on a full-size synthetic dataset in the original layout "
            "(or the demo), stage by stage in a scratch copy of the project; print and write "
            "wall time, CPU time and peak memory per stage, the reader ratio against the "
            "original row-by-row CSV reader, and the training-AUC sample check."),
    )
    sub.add_argument("--params", default="params.yaml", help="the project's params file")
    sub.add_argument("--source", choices=("scale", "demo"), default="scale",
                     help="scale: synthetic dataset with the 199 real names (default); "
                          "demo: the demo generator (demo.size from --demo-size)")
    sub.add_argument("--cells", type=lambda text: int(float(text)), default=None,
                     help="cells of the scale dataset, e.g. 6.1e6 (default: the published "
                          "4,743,090 training + 1,378,120 test cells)")
    sub.add_argument("--seeds", type=int, default=10, help="partitions per scheme (10)")
    sub.add_argument("--demo-size", default=None,
                     type=lambda v: int(v) if v.isdigit() else v,
                     help="demo.size for --source demo (small, full or a number)")
    sub.add_argument("--stages", default="", help="comma-separated stages (default: all)")
    sub.add_argument("--workdir", default=None, help="scratch directory (default: a new "
                     "temporary one, deleted afterwards)")
    sub.add_argument("--keep", action="store_true", help="keep the temporary scratch directory")
    sub.add_argument("--reader-repeats", type=int, default=3,
                     help="runs of each reader for the ratio (median; 0 = skip)")
    sub.add_argument("--no-train-auc-check", action="store_true",
                     help="skip the training-AUC sample check")
    sub.add_argument("--results-dir", default="benchmarks/results")
    sub.add_argument("--name", default="", help="result file name (default from the options)")
    sub.set_defaults(function=run_benchmark)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global options and one subparser per stage."""
    parser = argparse.ArgumentParser(
        prog="replicate",
        description="Re-examine DeVries et al. (2018): pipeline stages run by dvc.yaml.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="STAGE")
    for name, (function, text) in STAGES.items():
        sub = commands.add_parser(
            name, help=text.splitlines()[0], description=text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--params", default="params.yaml", help="params file (params.yaml)")
        for option, default in DEFAULTS[name].items():
            flag = f"--{option.replace('_', '-')}"
            if default:
                sub.add_argument(flag, dest=option, default=default, help=f"(default {default})")
            else:
                sub.add_argument(flag, dest=option, required=True)
        sub.set_defaults(function=function)
    add_benchmark_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one stage; bad input ends with one clear message and exit code 2."""
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    start = time.perf_counter()
    try:
        args.function(args)
    except InputError as error:
        log.error("%s", error)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; run the same command again to resume")
        return 130
    elapsed = format_seconds(time.perf_counter() - start)
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    log.info("replicate %s finished in %s (CPU %s, peak memory of the main process %.0f MB)",
             args.command, elapsed, format_seconds(cpu), own.ru_maxrss / 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main())
