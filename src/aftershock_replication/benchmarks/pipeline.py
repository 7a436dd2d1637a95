"""The scale benchmark: the whole DVC pipeline on a full-size dataset, stage by stage.

``replicate benchmark --cells 6121210 --seeds 10`` writes a synthetic dataset in the
original layout (``dataset.py``; or uses the demo generator with ``--source demo``), makes
a scratch git + DVC copy of this project whose params point at it, and runs every stage
with ``dvc repro --single-item`` in pipeline order, measuring each one's wall time, CPU
time and peak memory over its whole process tree (``measure.py``). It then measures the
reader ratio (the features stage against the original study's row-by-row reader on the
same CSV files), the training-AUC sample (``evaluate.train_auc_negatives``) against
the all-cells value on the paper's split, and the test-AUC samples of the learning curves
and the leakage arms (``*.test_auc_negatives``) against the evaluation stage's all-cells
AUC of the same fits. Results are printed as a table and written to
``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..atomic import write_json
from ..pipeline import stage_names
from ..progress import format_seconds, timed
from .dataset import write_scale_dataset
from .measure import Usage, run_measured

log = logging.getLogger(__name__)

# what a copy of the project needs to run the pipeline, besides src/ (benchmark, e2e tests)
PROJECT_FILES = ("dvc.yaml", "params.yaml", "data.dvc", ".dvc/config", ".dvc/.gitignore",
                 ".dvcignore", ".gitignore")
# the letter stage's templates, stylesheet and the verdicts' operating characteristics
TEMPLATES = ("paper/*.j2", "paper/*.css", "paper/*.json")
PLOT_TEMPLATES = ".dvc/plots"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "benchmark", "GIT_AUTHOR_EMAIL": "benchmark@localhost",
                "GIT_COMMITTER_NAME": "benchmark", "GIT_COMMITTER_EMAIL": "benchmark@localhost"}


def copy_project(source: Path, project: Path) -> Path:
    """Copy the pipeline's definition (PROJECT_FILES, TEMPLATES, plot templates) and ``src``
    from the project ``source`` into a new directory ``project``; git is the caller's
    business."""
    templates = [path.relative_to(source).as_posix() for pattern in TEMPLATES
                 for path in sorted(source.glob(pattern))]
    for name in (*PROJECT_FILES, *templates):
        if (source / name).exists():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, project / name)
    if (source / PLOT_TEMPLATES).is_dir():
        shutil.copytree(source / PLOT_TEMPLATES, project / PLOT_TEMPLATES)
    shutil.copytree(source / "src", project / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return project


def scratch_project(root: Path, source: Path, params: dict[str, Any]) -> Path:
    """A git + DVC copy of the project at ``root`` with ``params`` (the code is installed)."""
    project = root / "project"
    if project.exists():
        shutil.rmtree(project)
    copy_project(source, project)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    environment = {**os.environ, **GIT_IDENTITY}
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "commit", "-qm", "benchmark"]):
        subprocess.run(command, cwd=project, env=environment, check=True, capture_output=True)
    return project


def benchmark_params(source_params: dict[str, Any], seeds: int, data: dict[str, Any],
                     demo_size: str | int | None) -> dict[str, Any]:
    """The project's params with the benchmark's seeds and data source."""
    params = json.loads(json.dumps(source_params))  # deep copy
    params["seeds"] = seeds
    params["data"].update(data)
    if demo_size is not None:
        params["demo"]["size"] = demo_size
    return params


def median_usage(runs: list[Usage]) -> dict[str, Any]:
    """The run with the median CPU time, and every run's CPU time."""
    ordered = sorted(runs, key=lambda usage: usage.cpu_s)
    return {**ordered[len(ordered) // 2].as_dict(), "cpu_s_runs": [u.cpu_s for u in runs]}


def reader_ratio(raw: Path, project: Path, work: Path, repeats: int) -> dict[str, Any]:
    """CPU time of the original row-by-row reader over that of the features stage (the
    median of ``repeats`` runs of each, on the same CSV files)."""
    runs: dict[str, list[Usage]] = {"features_stage": [], "original_reader": []}
    for k in range(repeats):
        commands = {
            "features_stage": ["replicate", "features", "--raw", str(raw), "--out",
                               str(work / f"features-{k}.parquet"), "--report",
                               str(work / f"features-{k}.json")],
            "original_reader": [sys.executable, "-m",
                                "aftershock_replication.benchmarks.original_reader", str(raw)],
        }
        for what, command in commands.items():
            usage = run_measured(command, cwd=project, log_path=work / "reader.log")
            if usage.returncode != 0:
                raise RuntimeError(f"{usage.command} failed (exit {usage.returncode}); see "
                                   f"{work / 'reader.log'}")
            runs[what].append(usage)
        (work / f"features-{k}.parquet").unlink(missing_ok=True)
    medians = {what: median_usage(usages) for what, usages in runs.items()}
    return {**medians, "cpu_ratio": round(medians["original_reader"]["cpu_s"]
                                          / medians["features_stage"]["cpu_s"], 2)}


def train_auc_check(project: Path) -> dict[str, Any]:
    """Each method's training-cell AUC on the paper split: all cells against the sample."""
    from ..auc import auc_sample, pooled_auc
    from ..cells import load_cells
    from ..compute import single_threaded
    from ..methods import ALL_METHODS, create
    from ..methods.params import method_settings
    from ..params import EvaluateParams, load_params

    params = load_params(project / "params.yaml")
    negatives = EvaluateParams.from_params(params).train_auc_negatives
    cells = load_cells(project / "data/features.parquet")
    splits = json.loads((project / "data/splits.json").read_text())
    test_models = splits["schemes"]["paper"]["paper"]
    train = cells.slip_model.rows(test_models, include=False)
    sample = auc_sample(cells.labels, train, negatives, seed=0)
    position = np.searchsorted(train, sample)
    out: dict[str, Any] = {"train_auc_negatives": negatives, "training_cells": len(train),
                           "sampled_cells": len(sample), "by_method": {}}
    for method in ALL_METHODS:
        model = create(method, method_settings(params, method))
        single_threaded(model.fit, cells, train, 0)
        scores = single_threaded(model.score, cells, train).astype(np.float32)
        keep = np.isfinite(scores)
        full = pooled_auc(cells.labels[train][keep], scores[keep])
        kept = keep[position]
        sampled = pooled_auc(cells.labels[sample][kept], scores[position][kept])
        out["by_method"][method] = {"all_cells": full, "sample": sampled,
                                    "difference": sampled - full}
        log.info("train AUC of %s: all cells %.5f, sample %.5f", method, full, sampled)
    out["max_abs_difference"] = max(abs(v["difference"]) for v in out["by_method"].values())
    return out


def sampled_test_auc_check(project: Path) -> dict[str, Any]:
    """Learning-curve and leakage AUCs on the sampled test cells against the evaluation
    stage's all-cells AUC of the same fit: the share-1 curve point per grouped seed, and
    the as-split arm per measured partition (identical models, so the difference is the
    sampling error alone)."""
    import pandas as pd

    @functools.cache  # each method's metrics are read once (curve and leakage share them)
    def main_pooled(method: str) -> dict[str, dict[str, float]]:
        metrics = json.loads((project / "metrics/methods" / f"{method}.json").read_text())
        return {scheme: {p: v["pooled"] for p, v in parts.items()}
                for scheme, parts in metrics["partitions"].items()}

    out: dict[str, Any] = {"learning_curve": {}, "leakage": {}}
    for path in sorted((project / "plots/learning_curve").glob("*.csv")):
        curve = pd.read_csv(path)
        full = curve[curve["train_share"] == curve["train_share"].max()]
        grouped = main_pooled(path.stem)["grouped"]
        out["learning_curve"][path.stem] = [
            {"seed": int(seed), "sample": float(auc), "all_cells": grouped[str(int(seed))],
             "difference": float(auc) - grouped[str(int(seed))]}
            for seed, auc in zip(full["seed"], full["test_auc"], strict=True)]
    for path in sorted((project / "metrics/leakage").glob("*.json")):
        leakage = json.loads(path.read_text())["partitions"]
        pooled = main_pooled(path.stem)
        out["leakage"][path.stem] = [
            {"partition": f"{scheme}/{partition}",
             "sample": record["aucs"]["as_split"]["all"],
             "all_cells": pooled[scheme][partition],
             "difference": record["aucs"]["as_split"]["all"] - pooled[scheme][partition]}
            for scheme, parts in leakage.items() for partition, record in parts.items()
            if record.get("measured")]
    differences = [abs(row["difference"]) for kind in ("learning_curve", "leakage")
                   for rows in out[kind].values() for row in rows]
    out["max_abs_difference"] = max(differences, default=None)
    return out


def table(result: dict[str, Any]) -> str:
    """The per-stage resources as a Markdown table."""
    lines = ["| stage | wall s | CPU s | peak RSS MB |", "|---|---:|---:|---:|"]
    for stage in result["stages"]:
        lines.append(f"| {stage['stage']} | {stage['wall_s']:.1f} | {stage['cpu_s']:.1f} | "
                     f"{stage['peak_rss_mb']:.0f} |")
    total = result["total"]
    lines.append(f"| **total** | **{total['wall_s']:.1f}** | **{total['cpu_s']:.1f}** | "
                 f"**{total['peak_rss_mb']:.0f}** (largest stage) |")
    return "\n".join(lines)


def run_benchmark(
    source_root: Path, out: Path, cells: int, seeds: int, source: str,
    demo_size: str | int | None, workdir: Path | None, stages: list[str] | None,
    reader_repeats: int, check_train_auc: bool, keep: bool,
) -> dict[str, Any]:
    """Make the data, run the pipeline stage by stage, measure; write and return the result."""
    work = Path(tempfile.mkdtemp(prefix="replicate-benchmark-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    source_params = yaml.safe_load((source_root / "params.yaml").read_text())
    result: dict[str, Any] = {
        "command": " ".join(["replicate", *sys.argv[1:]]), "source": source, "seeds": seeds,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                        * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        if source == "scale":
            raw = work / "original"
            start = time.perf_counter()
            result["dataset"] = write_scale_dataset(raw, cells=cells)
            result["dataset"]["seconds"] = round(time.perf_counter() - start, 1)
            data = {"source": "local", "path": str(raw)}
        else:
            data = {"source": "demo"}
        params = benchmark_params(source_params, seeds, data, demo_size)
        project = scratch_project(work, source_root, params)
        names = stage_names(project / "dvc.yaml", params)
        if stages:
            unknown = sorted(set(stages) - set(names))
            if unknown:
                raise ValueError(f"unknown stage(s) {unknown}; the pipeline has {names}")
            names = [name for name in names if name in stages]
        measured = []
        with timed(f"running {len(names)} stages with seeds={seeds} in {project}"):
            for name in names:
                usage = run_measured(["dvc", "repro", "--single-item", name], cwd=project,
                                     env={**os.environ, **GIT_IDENTITY},
                                     log_path=work / "pipeline.log")
                if usage.returncode != 0:
                    raise RuntimeError(f"stage {name} failed (exit {usage.returncode}); see "
                                       f"{work / 'pipeline.log'}")
                log.info("%s: %s wall, %.1f CPU s, peak %.0f MB", name,
                         format_seconds(usage.wall_s), usage.cpu_s, usage.peak_rss_mb)
                measured.append({"stage": name, **usage.as_dict()})
        result["stages"] = measured
        result["total"] = {
            "wall_s": round(sum(s["wall_s"] for s in measured), 1),
            "cpu_s": round(sum(s["cpu_s"] for s in measured), 1),
            "peak_rss_mb": max((s["peak_rss_mb"] for s in measured), default=0.0),
        }
        if reader_repeats and source == "scale":
            with timed("reader ratio: features stage vs the original row-by-row reader"):
                result["reader"] = reader_ratio(raw, project, work, reader_repeats)
        if check_train_auc and (project / "data/splits.json").is_file():
            with timed("training-cell AUC: sampled negatives against all cells"):
                result["train_auc_sample"] = train_auc_check(project)
        if (project / "metrics/methods").is_dir():
            result["test_auc_sample"] = sampled_test_auc_check(project)
    finally:
        if not keep and workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    write_json(out, result)
    print(table(result))
    if "reader" in result:
        print(f"reader CPU ratio (original / features stage): {result['reader']['cpu_ratio']}")
    if "train_auc_sample" in result:
        print("largest |training AUC on the sample - on all cells|: "
              f"{result['train_auc_sample']['max_abs_difference']:.5f}")
    if (result.get("test_auc_sample") or {}).get("max_abs_difference") is not None:
        print("largest |test AUC on the sample - on all cells| (learning curves, leakage): "
              f"{result['test_auc_sample']['max_abs_difference']:.5f}")
    return result


def default_name(source: str, cells: int, seeds: int, demo_size: str | int | None) -> str:
    """File name of a benchmark result, from what it ran."""
    size = f"{cells / 1e6:.1f}M" if source == "scale" else f"demo-{demo_size or 'default'}"
    return f"{size}-seeds{seeds}.json"

