"""End to end: `dvc repro` in a fresh copy of the project, on tiny demo and local data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from dvc.repo import Repo
from pypdf import PdfReader
from sklearn.metrics import roc_auc_score

from aftershock_replication.auc import pooled_auc
from aftershock_replication.benchmarks.pipeline import copy_project
from aftershock_replication.cells import load_cells
from aftershock_replication.methods import ALL_METHODS
from aftershock_replication.names import VERDICTS
from helpers import (
    FAST_PIPELINE,
    FIXTURE_TEST,
    FIXTURE_TRAIN,
    ROOT,
    make_layout,
    run,
    run_environment,
)

pytestmark = pytest.mark.e2e
DOCUMENTS = ("paper/letter.pdf", "paper/supplementary.pdf", "paper/cover_letter.pdf")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git + DVC copy of the project whose demo is tiny (12 slip models)."""
    copy = copy_project(ROOT, tmp_path_factory.mktemp("project") / "project")
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["demo"]["size"] = 12
    params.update(FAST_PIPELINE)
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], copy)
    run(["git", "add", "-A"], copy)
    run(["git", "commit", "-qm", "fresh clone"], copy)
    return copy


def test_demo_pipeline_runs_offline_and_is_reproducible(project: Path) -> None:
    run(["dvc", "repro"], project)
    report = json.loads((project / "metrics/features.json").read_text())
    assert report["demo"]["source"] == "demo" and report["demo"]["slip_models"] == 13
    assert report["slip_models"] == 12 and len(report["skipped_slip_models"]) == 1
    assert 0.01 < report["positive_share"] < 0.05
    table = pd.read_parquet(project / "data/features.parquet")
    assert len(table) == report["rows"]
    auc = json.loads((project / "metrics/auc.json").read_text())
    assert set(auc) == {"paper", "leaky", "grouped"}
    for scheme in auc.values():
        assert set(scheme) == set(ALL_METHODS)
        for method in scheme.values():
            assert 0.0 <= method["pooled"]["mean"] <= 1.0
            assert {"per_slip_model_mean", "event_weighted", "train_pooled"} <= set(method)
    assert len(auc["grouped"]["random_forest"]["pooled"]["per_seed"]) == 3
    assert auc["paper"]["coulomb_test_selected"]["uses_test_labels"] is True
    # the original's Coulomb AUC recomputed with scikit-learn: per test slip model of the
    # paper's split, the best of the four sign conventions on its own labels
    table = pd.read_parquet(project / "data/features.parquet")
    selected = pd.read_csv(project / "results/per_slip_model/coulomb_test_selected.csv")
    selected = selected[selected["scheme"] == "paper"].dropna(subset=["auc"])
    assert len(selected) >= 2
    for name, reported_auc in zip(selected["slip_model"], selected["auc"], strict=True):
        own = table[table["slip_model"] == name]
        best = max(roc_auc_score(own["label"], own[f"cfs_{k}"]) for k in range(1, 5))
        assert reported_auc == pytest.approx(best, abs=1e-6), name
    summary = json.loads((project / "metrics/summary.json").read_text())  # the DVC metric
    for scheme in ("paper", "leaky", "grouped"):
        assert summary[scheme]["random_forest"] == round(
            auc[scheme]["random_forest"]["pooled"]["mean"], 4)
    assert set(summary) == {"paper", "leaky", "grouped"}
    # a referee recomputing any AUC from the stored scores gets the printed value exactly
    cells = load_cells(project / "data/features.parquet")
    schemes = json.loads((project / "data/splits.json").read_text())["schemes"]
    for method in ALL_METHODS:
        stored = np.load(project / "results/scores" / f"{method}.npz")
        reported = json.loads((project / "metrics/methods" / f"{method}.json").read_text())
        for key in stored.files:
            scheme, partition = key.split("/")
            scores = stored[key]
            labels = cells.labels[cells.slip_model.rows(schemes[scheme][partition])]
            keep = np.isfinite(scores)
            assert pooled_auc(labels[keep], scores[keep]) == \
                reported["partitions"][scheme][partition]["pooled"], (method, key)
    audit = json.loads((project / "metrics/leakage_audit.json").read_text())
    assert set(audit["grouped"]) == {"0", "1", "2"}
    assert all(audit["grouped"][seed]["sequence"] == [] for seed in audit["grouped"])
    curve = pd.read_csv(project / "plots/learning_curve/random_forest.csv")
    assert curve.seed.nunique() == 3 and curve.groupby("seed")["train_share"].apply(
        sorted).map(tuple).nunique() == 1  # the same shares for every seed, ending at 1
    curve_summary = json.loads((project / "metrics/learning_curve/random_forest.json").read_text())
    # the tiny data set raises the first share to hold enough aftershock rows, and says so
    assert curve.train_share.max() == 1.0
    assert curve.train_share.min() == curve_summary["min_share"]["used"] >= 0.01
    for method in ("neural_network", "random_forest", "logistic"):  # leakage.methods
        leakage = json.loads((project / f"metrics/leakage/{method}.json").read_text())
        assert set(leakage["partitions"]) == {"paper", "leaky"}
        assert set(leakage["partitions"]["leaky"]) == {"0", "1", "2"}
        for record in (p for scheme in leakage["partitions"].values() for p in scheme.values()):
            assert record["measured"] == bool(record["exposed_events"])
            if record["measured"]:
                # the demo has origin times, so the future-only arm is measured too
                assert set(record["aucs"]) == {"as_split", "purged", "size_control",
                                               "future_purged"}
                assert -1 <= record["effect"]["all"] <= 1
                # no size-control draw removes more cells or positives than the neighbours
                for draw in record["size_controls"]:
                    assert draw["cells"] <= record["neighbour_cells"]
                    assert draw["positives"] <= record["neighbour_positives"]
    combined = json.loads((project / "metrics/leakage.json").read_text())
    assert set(combined["methods"]) == {"neural_network", "random_forest", "logistic"}
    for entry in combined["methods"].values():
        primary = entry["combined"][combined["primary"]]
        assert primary["partitions"] + primary["not_measured"] + primary["undefined"] == 3
        # the tested combination: per split, exposed minus unexposed test earthquakes
        tested = entry[combined["primary_test"]]
        assert combined["primary_test"] == "contrast"
        assert tested["partitions"] + tested["undefined"] + tested["not_measured"] == 3
        assert tested["df"] == max(tested["partitions"] - 1, 0)
        assert entry["by_group"]["groups"] <= entry["by_group"]["earthquakes"]
        # absence only by equivalence: an "equivalent" verdict's test rejected
        assert tested["verdict"] in VERDICTS
        if tested["verdict"] == "equivalent":
            assert tested["p_equivalence_holm"] < combined["alpha"]
    stats = json.loads((project / "metrics/stats.json").read_text())
    assert {"vs_best_stress_metric", "leaky_minus_grouped", "leakage_term"} <= set(stats["tables"])
    for table in stats["tables"].values():
        for row in table["rows"]:
            assert row["verdict"] in VERDICTS and row["smallest_effect"] == 0.02
            if row["verdict"] == "equivalent":
                assert row["p_equivalence_holm"] < stats["alpha"] <= row["p_holm"]
    assert set(stats["reference_metric"]["by_seed"]) == {"paper", "0", "1", "2"}
    for document in DOCUMENTS:
        pages = PdfReader(project / document).pages
        assert all("synthetic demonstration data" in page.extract_text() for page in pages)
    # Methods describe the data as generated, never as the published grids
    letter = " ".join(" ".join(page.extract_text().split())
                      for page in PdfReader(project / "paper/letter.pdf").pages)
    assert "The data are synthetic" in letter and "The data are the published" not in letter
    counts = json.loads((project / "metrics/letter.json").read_text())["letter"]
    assert counts["words"] <= counts["limits"]["words"]
    assert counts["display_items"] <= counts["limits"]["display_items"]
    first = (project / "data/features.parquet").read_bytes()
    second_run = run(["dvc", "repro"], project)
    assert "didn't change" in second_run.stdout + second_run.stderr
    status = run(["dvc", "status", "features"], project)
    assert "up to date" in status.stdout
    # forcing a full re-run gives the same bytes and metrics: same params, same data
    metrics_before = {p.name: p.read_bytes() for p in (project / "metrics").glob("*.json")}
    documents_before = {name: (project / name).read_bytes() for name in DOCUMENTS}
    run(["dvc", "repro", "--force"], project)
    assert (project / "data/features.parquet").read_bytes() == first
    for name, content in metrics_before.items():
        assert (project / "metrics" / name).read_bytes() == content, name
    for name, content in documents_before.items():
        assert (project / name).read_bytes() == content, name


# one stage of each kind: data, split, fit, aggregate, stats, letter
STAGE_KINDS = {"data": "features", "split": "split", "fit": "fit@logistic",
               "aggregate": "aggregate", "stats": "stats", "letter": "letter"}
# stands in for `replicate` on PATH: the stage whose subcommand is $FAULT_COMMAND fails at
# once (exit 1) or hangs until interrupted; every other command runs the real one
SHIM = """#!/bin/sh
if [ "$1" = "$FAULT_COMMAND" ]; then
  if [ "$FAULT" = fail ]; then echo "injected failure" >&2; exit 1; fi
  touch "$FAULT_STARTED"
  exec sleep 600
fi
exec "$REAL_REPLICATE" "$@"
"""


def stage_outputs(project: Path) -> dict[str, list[Path]]:
    """Each stage's declared outputs (files, and directories' files), as DVC resolves them."""
    with Repo(str(project)) as repo:
        return {stage.name: [Path(out.fs_path) for out in stage.outs]
                for stage in repo.index.stages if getattr(stage, "name", None)}


def output_bytes(paths: list[Path]) -> dict[str, bytes]:
    files = [q for p in paths for q in ([p] if p.is_file() else sorted(p.rglob("*")))]
    return {str(f): f.read_bytes() for f in files if f.is_file()}


def run_with_fault(project: Path, command: list[str], subcommand: str, fault: str,
                   shim_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run a DVC command whose stage fails or is interrupted (SIGINT to the process group,
    as Ctrl-C in a terminal sends) once it has started."""
    started = shim_dir / "started"
    started.unlink(missing_ok=True)
    base = run_environment()
    environment = {**base, "FAULT": fault, "FAULT_COMMAND": subcommand,
                   "FAULT_STARTED": str(started),
                   "REAL_REPLICATE": str(Path(sys.executable).parent / "replicate"),
                   "PATH": os.pathsep.join([str(shim_dir), str(Path(sys.executable).parent),
                                            base["PATH"]])}
    process = subprocess.Popen(command, cwd=project, env=environment, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    if fault == "interrupt":
        deadline = time.monotonic() + 120
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert started.exists(), f"{command}: the stage never started"
        os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def test_a_failed_or_interrupted_stage_keeps_its_previous_outputs(
    project: Path, tmp_path: Path,
) -> None:
    """DVC deletes a stage's outputs before running it unless they persist; every output
    does, so a stage of any kind that fails or is interrupted, under `dvc repro` or `dvc
    exp run`, leaves the previous outputs byte for byte (the `cache: false` ones could not
    be restored otherwise)."""
    run(["dvc", "repro"], project)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "replicate").write_text(SHIM)
    (shim / "replicate").chmod(0o755)
    outputs = stage_outputs(project)
    failures = []
    for kind, stage in STAGE_KINDS.items():
        before = output_bytes(outputs[stage])
        assert before, stage
        subcommand = "evaluate" if stage.startswith(("fit@", "score@")) else stage
        for dvc in (["dvc", "repro"], ["dvc", "exp", "run"]):
            for fault in ("fail", "interrupt"):
                command = [*dvc, "--force", "--single-item", stage]
                result = run_with_fault(project, command, subcommand, fault, shim)
                assert result.returncode != 0, (command, fault, result.stdout)
                if output_bytes(outputs[stage]) != before:
                    failures.append(f"{kind} ({stage}), {fault}, {' '.join(dvc)}")
    assert not failures, f"outputs lost or changed: {failures}"
    # the stages' own failures, as a user meets them (the letter over its word limit; a
    # split with a negative number of seeds): refused, the previous outputs untouched
    letter, split = (output_bytes(outputs[s]) for s in ("letter", "split"))
    params_text = (project / "params.yaml").read_text()
    params = yaml.safe_load(params_text)
    params["letter"]["limits"]["words"] = 10
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run(["dvc", "repro", "letter"], cwd=project, capture_output=True,
                            text=True, env=run_environment())
    assert result.returncode != 0 and "previous outputs" in result.stdout + result.stderr
    assert output_bytes(outputs["letter"]) == letter
    (project / "params.yaml").write_text(params_text)
    result = subprocess.run(["dvc", "exp", "run", "-S", "seeds=-1", "split"], cwd=project,
                            capture_output=True, text=True, env=run_environment())
    assert result.returncode != 0 and "seeds" in result.stdout + result.stderr
    assert output_bytes(outputs["split"]) == split
    (project / "params.yaml").write_text(params_text)
    run(["dvc", "repro"], project)  # nothing lost, so nothing but the faulted stages reruns


def test_local_source_goes_through_the_same_reader(project: Path, tmp_path: Path) -> None:
    original = make_layout(tmp_path / "original", FIXTURE_TRAIN, FIXTURE_TEST)
    run(["dvc", "repro", "features"], project)  # the demo state, then switch source
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"].update(source="local", path=str(original))
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "features"], project)
    report = json.loads((project / "metrics/features.json").read_text())
    assert report["demo"] is None
    assert report["slip_models"] == 5
    assert [s["slip_model"] for s in report["skipped_slip_models"]] == ["2004PARKFI01NONE"]
    assert (project / "data/raw/AllCSV/1995KOBEJA01YOSH_grid.csv").is_symlink()
    # the source changes -> DVC notices through the links and re-runs
    csv = original / "AllCSV" / "1995KOBEJA01YOSH_grid.csv"
    frame = pd.read_csv(csv)
    frame.loc[:, "aftershocksyn"] = 0
    frame.loc[:9, "aftershocksyn"] = 1  # 10 positive cells instead of 4
    frame.to_csv(csv, index=False)
    run(["dvc", "repro", "features"], project)
    report_after = json.loads((project / "metrics/features.json").read_text())
    assert report_after["by_paper_role"]["train"]["positives"] == 6 + \
        report["by_paper_role"]["train"]["positives"]


def test_published_layout_letter_has_no_demo_mark(project: Path, tmp_path: Path) -> None:
    """The whole pipeline on a tiny original-layout fixture (data.source=local), unmarked."""
    names = [f"20{10 + s}SEQ{s}xx0{e}AUT{a}" for s in range(6) for e in (1, 2) for a in "AB"]
    test = {n for n in names if n[:10] in ("2010SEQ0xx", "2013SEQ3xx") or n.endswith("2AUTB")}
    original = make_layout(tmp_path / "published", {n: 300 for n in names if n not in test},
                           {n: 300 for n in names if n in test})
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"].update(source="local", path=str(original))
    # the shipped defaults, not the fast test settings: their training caps (20,000 rows
    # and more) exceed this dataset's training rows, and a cap is a maximum
    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["methods"], params["learning_curve"] = defaults["methods"], defaults["learning_curve"]
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro"], project)
    report = json.loads((project / "metrics/features.json").read_text())
    assert report["demo"] is None and report["slip_models"] == 24
    forest = json.loads((project / "metrics/methods/random_forest.json").read_text())
    paper = forest["partitions"]["paper"]["paper"]
    assert paper["train_rows_used"] == paper["train_rows"] < 20_000
    pages = [page.extract_text() for document in DOCUMENTS
             for page in PdfReader(project / document).pages]
    assert pages and not any("synthetic demonstration data" in text for text in pages)
    assert any("local" in text for text in pages)  # the provenance names the source
    # the data are described as what they are: a local copy, counted, never "published"
    letter = " ".join(" ".join(page.extract_text().split())
                      for page in PdfReader(project / "paper/letter.pdf").pages)
    assert "The data are 24 slip models (7,200 cells," in letter, letter
    assert "read from a local copy" in letter and "The data are the published" not in letter
    assert "The data are synthetic" not in letter


def test_bad_params_stop_before_any_work(project: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "drive"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run([str(Path(sys.executable).parent / "replicate"), "acquire",
                             "--out", "data/raw"],
                            cwd=project, capture_output=True, text=True)
    assert result.returncode == 2
    assert "'data.source' must be one of demo, devries2018, local" in result.stderr
