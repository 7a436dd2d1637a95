"""Command line: one subcommand per DVC stage; it parses, calls the stage's function, and
reports bad input as one clear message (exit 2).

Each stage function lives in the module of its concept and documents its inputs, outputs
and params (``replicate <stage> --help`` prints it). Paths are not defaulted here:
``dvc.yaml`` passes every one, so it stays the one place that names them.
"""

from __future__ import annotations

import argparse
import ast
import errno
import importlib
import logging
import resource
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from .atomic import check_writable, read_splits, remove_stale_temporaries
from .errors import InputError
from .params import load_params
from .progress import format_seconds, setup_logging
from .stage_io import OTHER_ARGUMENTS, PATH_KINDS

log = logging.getLogger("aftershock_replication")

# stage -> (module, function); modules are imported only for the stage run. Each stage
# function's signature declares its path options and which of them it writes
# (``stage_io``), read from the source by ``path_options``
STAGES: dict[str, tuple[str, str]] = {
    "acquire": ("data.sources", "acquire_stage"),
    "features": ("features", "features_stage"),
    "events": ("events", "events_stage"),
    "split": ("splits", "split_stage"),
    "evaluate": ("evaluate", "evaluate_stage"),
    "aggregate": ("evaluate", "aggregate_stage"),
    "learning-curve": ("learning_curve", "learning_curve_stage"),
    "leakage": ("leakage", "leakage_stage"),
    "leakage-summary": ("leakage_summary", "leakage_summary_stage"),
    "stats": ("comparisons", "stats_stage"),
    "letter": ("report.render", "letter_stage"),
    "pin-checksums": ("data.pins", "pin_checksums_stage"),
}


@cache
def _function_node(module: str, function: str) -> ast.FunctionDef:
    """A stage function's definition, parsed from its module's source (no import: Keras,
    WeasyPrint... load slowly)."""
    path = Path(__file__).parent.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text())
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)


@cache
def stage_arguments(stage: str) -> dict[str, str]:
    """A stage function's path arguments in signature order -> their kind (input, output,
    output directory, pipeline), from their ``stage_io`` annotations; a programming error
    for an argument that has none, so that no path is silently left out of the CLI."""
    module, function = STAGES[stage]
    node = _function_node(module, function)
    if node.args.kwonlyargs or node.args.vararg or node.args.kwarg:
        raise TypeError(f"{module}.{function}: stage arguments must be positional")
    kinds = {}
    for arg in node.args.args:
        if arg.arg in OTHER_ARGUMENTS:
            continue
        name = arg.annotation.id if isinstance(arg.annotation, ast.Name) else None
        if name not in PATH_KINDS:
            shown = ast.unparse(arg.annotation) if arg.annotation else "none"
            raise TypeError(f"{module}.{function}: argument {arg.arg!r} is annotated {shown}; "
                            f"a stage's paths are annotated {', '.join(PATH_KINDS)} "
                            "(stage_io)")
        kinds[arg.arg] = PATH_KINDS[name]
    return kinds


def path_options(stage: str) -> dict[str, str]:
    """A stage's path options in signature order -> their kind (input, output, output
    directory): every path argument but the pipeline file, which the CLI fills in."""
    return {name: kind for name, kind in stage_arguments(stage).items() if kind != "pipeline"}


def output_options(stage: str) -> list[str]:
    """The path options naming what a stage writes (the others name what it reads)."""
    return [option for option, kind in path_options(stage).items() if kind != "input"]


def takes_method(stage: str) -> bool:
    """Whether a stage runs one method of the registry (a ``method`` argument)."""
    return any(arg.arg == "method" for arg in _function_node(*STAGES[stage]).args.args)


def stage_function(name: str) -> Callable[..., None]:
    """The function a stage runs."""
    module, function = STAGES[name]
    return getattr(importlib.import_module(f".{module}", __package__), function)


def prepare_outputs(command: str, paths: dict[str, Path]) -> None:
    """Before a stage reads anything: refuse an output it could not write (a read-only or
    missing directory would otherwise fail only after all the work), then delete the
    temporaries that killed runs left beside its outputs (those of live processes stay)."""
    kinds = path_options(command)
    for option in output_options(command):
        check_writable(paths[option], directory=kinds[option] == "output directory")
    for option in output_options(command):
        for stale in remove_stale_temporaries(paths[option]):
            log.info("removed %s, left by an interrupted run", stale)


def check_inputs(paths: dict[str, Path]) -> None:
    """Refuse a missing or malformed splits file up front, for every stage that reads one
    (the feature table is checked by its readers, ``schema.check_feature_table``)."""
    if "splits" in paths:
        read_splits(paths["splits"])


def run_stage(args: argparse.Namespace) -> None:
    """Check the outputs and inputs, load params, call the stage's function with the
    parsed paths."""
    kwargs = {option: Path(getattr(args, option)) for option in path_options(args.command)}
    prepare_outputs(args.command, kwargs)
    check_inputs(kwargs)
    if takes_method(args.command):
        kwargs["method"] = args.method
    for name, kind in stage_arguments(args.command).items():
        if kind == "pipeline":  # acquire refuses a data.path inside any declared output
            kwargs[name] = Path(args.params).parent / "dvc.yaml"
    stage_function(args.command)(load_params(args.params), **kwargs)


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


def run_rebuild(args: argparse.Namespace) -> None:
    """rebuild: the grids from SRCMOD and a catalogue, and their check against a published
    layout (not a DVC stage; ``data.source: srcmod`` runs the same rebuild in acquire)."""
    from .data.compare import check_tolerance, compare_layouts, write_compare_report
    from .data.rebuild import rebuild_layout
    from .params import ComputeParams

    out = Path(args.out)
    check_writable(out, directory=True)
    if args.compare:
        check_writable(Path(args.report))
    compute = ComputeParams.from_params(load_params(args.params))
    rebuild_layout(Path(args.folder), out, args.projection, compute)
    if args.compare:
        report = compare_layouts(out, Path(args.compare))
        write_compare_report(report, Path(args.report))
        differences = check_tolerance(report, args.rtol)
        for line in differences[:20]:
            log.warning("differs: %s", line)
        log.info("compared with %s: %s; report in %s", args.compare,
                 f"{len(differences)} difference(s) above rtol {args.rtol:g}" if differences
                 else f"no difference above rtol {args.rtol:g}", args.report)


def add_rebuild_parser(commands: argparse._SubParsersAction) -> None:
    """``replicate rebuild``: options of the SRCMOD rebuild and its comparison."""
    sub = commands.add_parser(
        "rebuild", help="rebuild the grids from SRCMOD .fsp files and a catalogue",
        description=(
            "Rebuild one CSV per slip model in the original layout from the SRCMOD .fsp "
            "files, catalogue.csv and optionally MainShockTimes.csv of --folder, as "
            "Process-Srcmod-Files made them (README, 'Rebuilding from SRCMOD'); with "
            "--compare, match the rebuilt cells to a published layout by grid_id and "
            "report the largest differences per column."),
    )
    sub.add_argument("--params", default="params.yaml", help="params file (compute.*)")
    sub.add_argument("--folder", required=True, help="the .fsp files and catalogue.csv")
    sub.add_argument("--out", required=True, help="the layout to write")
    sub.add_argument("--projection", choices=("original", "corrected"), default="original",
                     help="UTM as the 2018 code did (original) or with the southern "
                          "false northing (corrected)")
    sub.add_argument("--compare", default="", help="a published layout (or its AllCSV)")
    sub.add_argument("--report", default="metrics/rebuild_compare.json",
                     help="where --compare writes its report")
    sub.add_argument("--rtol", type=float, default=1e-5,
                     help="differences above this share of a column's largest published "
                          "value are listed (1e-5: the stress route agrees with DC3D to 2e-6)")
    sub.set_defaults(function=run_rebuild)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global options and one subparser per stage."""
    parser = argparse.ArgumentParser(
        prog="replicate",
        description="Re-examine DeVries et al. (2018): pipeline stages run by dvc.yaml.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="STAGE")
    for name, (module, function) in STAGES.items():
        # the help is the stage function's docstring, read without importing the module
        text = ast.get_docstring(_function_node(module, function)) or function
        sub = commands.add_parser(name, help=text.splitlines()[0], description=text,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--params", default="params.yaml", help="params file (params.yaml)")
        if takes_method(name):
            sub.add_argument("--method", required=True, help="a method of the registry")
        for option, kind in path_options(name).items():
            sub.add_argument(f"--{option.replace('_', '-')}", dest=option, required=True,
                             help=kind)
        sub.set_defaults(function=run_stage)
    add_benchmark_parser(commands)
    add_rebuild_parser(commands)
    return parser


# What a stage that stops early leaves: its outputs are written to temporaries and renamed
# into place together, and dvc.yaml marks every output `persist`, so DVC does not delete
# them before the stage runs either (tests/e2e/test_pipeline_e2e.py checks both).
KEPT = ("no output of this stage was replaced: its previous outputs, if any, are kept as "
        "they were")


def interruption_advice(command: str) -> str:
    """What an interrupted stage left behind and what running it again does."""
    if command == "acquire":
        return ("run the same command again to resume: finished files are kept, downloads "
                "resume from their .part files and the demo from its .partial directory")
    return (f"{KEPT}; running it again restarts the stage from the beginning, and "
            "`dvc repro` reruns only this stage and those after it")


def failure_note(command: str) -> str | None:
    """What a stage that stopped on bad input left behind (None: not a pipeline stage)."""
    if command == "acquire":
        return ("data/raw was not replaced; finished downloads and an interrupted demo "
                "generation are kept for the next run")
    return f"{KEPT}" if command in STAGES else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one stage; bad input ends with one clear message and exit code 2."""
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    start = time.perf_counter()
    try:
        args.function(args)
    except InputError as error:
        log.error("%s", error)
        note = failure_note(args.command)
        if note is not None:
            log.error("%s", note)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted: %s", interruption_advice(args.command))
        return 130
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("%s: no space left on the device (%s); free some space and run the stage "
                  "again", error.filename or "writing an output", error.strerror)
        note = failure_note(args.command)
        if note is not None:
            log.error("%s", note)
        return 2
    elapsed = format_seconds(time.perf_counter() - start)
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    log.info("replicate %s finished in %s (CPU %s, peak memory of the main process %.0f MB)",
             args.command, elapsed, format_seconds(cpu), own.ru_maxrss / 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main())
