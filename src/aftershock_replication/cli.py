"""Command line: one subcommand per DVC stage, each reading only the params it lists.

Run ``replicate <stage> --help`` for a stage's inputs, outputs and params.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .params import DataParams, DemoParams, FeatureParams, load_params
from .progress import format_seconds, setup_logging

log = logging.getLogger("aftershock_replication")


def run_acquire(args: argparse.Namespace) -> None:
    """acquire: the configured data source -> original layout in --out."""
    from .data.sources import acquire

    params = load_params(args.params)
    data, demo = DataParams.from_params(params), DemoParams.from_params(params)
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
         paper_role, x, y, z, stress_xx..stress_zz (float32), label, max_shear,
         von_mises, sum_abs, cfs_1..cfs_4;
         --report (default metrics/features.json): rows and positives per paper role,
         skipped one-class slip models, metric sources, cross-check results, demo flag.
params:  features.crosscheck_rtol""",
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
    "pin-checksums": {
        "root": "data/original",
        "out": "src/aftershock_replication/data/devries2018_manifest.json",
    },
}


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
            sub.add_argument(f"--{option}", default=default, help=f"(default {default})")
        sub.set_defaults(function=function)
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
    log.info("replicate %s finished in %s", args.command, elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
