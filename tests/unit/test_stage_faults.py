"""Faults around the stages, through the CLI (issue 15, items 8-10): a learning curve that
would degenerate, outputs that cannot be written (refused before any input is read),
missing or malformed feature tables and splits, and temporaries left by killed runs.

Each case runs ``replicate <stage>`` in-process and asserts exit status 2, a message
naming the path or param, and that no file was deleted, changed or half-written.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from aftershock_replication import atomic, cli, features
from aftershock_replication.atomic import atomic_files, remove_stale_temporaries
from aftershock_replication.errors import InputError
from aftershock_replication.learning_curve import curve_shares, starting_share
from aftershock_replication.pipeline import read_stages
from helpers import FAST_PIPELINE, FIXTURE_TEST, FIXTURE_TRAIN, ROOT, make_layout

Status = tuple[int, str]  # exit status, logged errors


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """params.yaml (fast), a tiny original layout, its feature table and splits."""
    root = tmp_path_factory.mktemp("project")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(FAST_PIPELINE)
    params["compute"]["n_jobs"] = 1
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    make_layout(root / "raw", FIXTURE_TRAIN, FIXTURE_TEST)
    for argv in (["features", "--raw", "raw", "--out", "data/features.parquet",
                  "--report", "metrics/features.json"],
                 ["events", "--raw", "raw", "--out", "data/events.csv"],
                 ["split", "--features", "data/features.parquet", "--events", "data/events.csv",
                  "--out", "data/splits.json", "--audit", "metrics/leakage_audit.json"]):
        assert cli.main([argv[0], "--params", str(root / "params.yaml"),
                         *[str(root / a) if a[0] != "-" else a for a in argv[1:]]]) == 0
    return root


@pytest.fixture
def replicate(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
              ) -> Callable[..., Status]:
    """``replicate`` in-process: (exit status, the errors it logged)."""
    monkeypatch.setattr(cli, "setup_logging", lambda verbose: None)  # keep caplog's handler

    def go(*argv: str | Path) -> Status:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            status = cli.main([str(a) for a in argv])
        return status, "\n".join(r.getMessage() for r in caplog.records
                                 if r.levelno >= logging.ERROR)

    return go


def digest(*roots: Path) -> dict[str, str]:
    """Content hash of every file under ``roots``: nothing may change on a refusal."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


# --- issue 31: a Dask scheduler that cannot be reached -------------------------------------

def free_port() -> int:
    """A TCP port of this machine on which nothing listens (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "not a url"],
                         ids=["nothing_listens", "malformed"])
def test_an_unreachable_dask_scheduler_is_named_after_a_short_wait(
    project: Path, replicate, tmp_path: Path, address: str,
) -> None:
    """compute.scheduler is given up after Dask's connect timeout (1 s here) with a message
    naming the param, the address and why, not the client's traceback."""
    import dask
    import distributed  # noqa: F401 - loads Dask's distributed defaults, then set below

    address = address.format(port=free_port())
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["compute"] = {**params["compute"], "backend": "dask", "scheduler": address}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    argv = reader_argv("evaluate", project, tmp_path, project / "data/features.parquet",
                       project / "data/splits.json")
    argv[argv.index("--params") + 1] = tmp_path / "params.yaml"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status, errors = replicate(*argv)
    assert status == 2
    assert errors.startswith(f"params: compute.scheduler={address!r}: no Dask scheduler "
                             "reached ("), errors
    assert "compute.backend: loky" in errors
    assert not (tmp_path / "out").exists()


def test_the_scheduler_probe_runs_inside_a_running_event_loop() -> None:
    """A notebook's loop is running: the probe still answers with the message (its own loop,
    in a thread), and the caller's loop is left as it was."""
    import asyncio

    from aftershock_replication.compute import check_scheduler

    async def caller() -> str:
        loop = asyncio.get_running_loop()
        with pytest.raises(InputError, match="no Dask scheduler reached"):
            check_scheduler(f"tcp://127.0.0.1:{free_port()}", timeout=1.0)
        assert asyncio.get_running_loop() is loop
        return "done"

    assert asyncio.run(caller()) == "done"


# --- item 8: a learning_curve.min_share too small for the data ----------------------------

def fewest_training_rows(project: Path) -> tuple[str, int]:
    """The grouped partition with the fewest training rows, and their number."""
    table = pd.read_parquet(project / "data/features.parquet", columns=["slip_model"])
    grouped = json.loads((project / "data/splits.json").read_text())["schemes"]["grouped"]
    rows = {p: int((~table["slip_model"].astype(str).isin(test)).sum())
            for p, test in grouped.items()}
    return min(rows.items(), key=lambda item: item[1])


def test_a_min_share_too_small_to_hold_aftershocks_is_raised_and_recorded(
    project: Path, replicate, tmp_path: Path,
) -> None:
    """A first share holding almost no aftershock rows would be skipped in some seeds only;
    the curve starts higher instead, says so, and records what was asked and used."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["learning_curve"] = {**params["learning_curve"], "min_share": 0.001}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    before = digest(project)
    status, errors = replicate(
        "learning-curve", "--params", tmp_path / "params.yaml", "--method", "logistic",
        "--features", project / "data/features.parquet", "--splits", project / "data/splits.json",
        "--out", tmp_path / "out/curve.json", "--plot", tmp_path / "out/curve.csv")
    assert status == 0, errors
    summary = json.loads((tmp_path / "out/curve.json").read_text())
    used = summary["min_share"]["used"]
    assert summary["min_share"]["requested"] == 0.001 and used > 0.001
    curve = pd.read_csv(tmp_path / "out/curve.csv")
    assert curve.groupby("seed")["train_share"].min().eq(used).all()  # every seed alike
    assert digest(project) == before


def test_every_curve_has_the_same_shares_ending_at_all_rows() -> None:
    for minimum in (0.001, 0.01, 0.3):
        for points in (2, 6, 7):
            shares = curve_shares(minimum, points)
            assert shares[0] == pytest.approx(minimum) and shares[-1] == 1.0
            assert len(shares) == points and shares == sorted(shares)
    where = "grouped partition 1"
    assert starting_share(0.01, 5_000, where) == 0.01  # 50 aftershock rows: as asked
    assert starting_share(0.001, 5_000, where) == 0.002  # 5 would be too few: 10 instead
    assert starting_share(0.001, 3_001, where) * 3_001 >= 10  # rounded up, never down
    assert starting_share(0.01, 6, where) == 0.5  # a tiny data set: half its aftershock rows
    with pytest.raises(InputError, match=r"grouped partition 1 trains on 3 aftershock rows"):
        starting_share(0.5, 3, where)


# --- item 9: outputs that cannot be written, refused before any input is read -------------

def block(directory: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``directory`` unwritable: its permissions, a file in its place, or (where
    root ignores permissions) ``os.access`` saying so, as for a read-only file system."""
    if how == "parent_is_file":
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.write_text("a file where the output directory should be\n")
    elif how == "chmod":
        directory.chmod(0o555)
        if os.access(directory, os.W_OK):
            pytest.skip("permissions do not bind this user (root)")
    else:
        real = os.access
        monkeypatch.setattr(atomic.os, "access", lambda path, mode, **kw: False if Path(
            path) == directory else real(path, mode, **kw))


def stage_argv(stage: str, tmp_path: Path, blocked: str) -> tuple[list[str | Path], Path]:
    """Arguments of ``stage`` with every input missing and every output under ``out/``,
    but the ``blocked`` output in ``locked/``; the locked directory."""
    locked = tmp_path / "locked"
    argv: list[str | Path] = [stage, "--params", tmp_path / "missing/params.yaml"]
    if cli.takes_method(stage):
        argv += ["--method", "logistic"]
    for option in cli.path_options(stage):
        path = (locked / option if option == blocked
                else tmp_path / "out" / option if option in cli.output_options(stage)
                else tmp_path / "missing" / option)
        argv += [f"--{option.replace('_', '-')}", path]
    return argv, locked


@pytest.mark.parametrize("how", ["chmod", "parent_is_file", "access_denied"])
@pytest.mark.parametrize("stage", list(cli.STAGES))
def test_an_unwritable_output_is_refused_before_any_input_is_read(
    replicate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str, how: str,
) -> None:
    blocked = cli.output_options(stage)[-1]  # the last: the others would pass the check
    argv, locked = stage_argv(stage, tmp_path, blocked)
    out = tmp_path / "out"
    for option in cli.output_options(stage)[:-1]:  # old outputs, which must stay as they are
        (out / option).parent.mkdir(parents=True, exist_ok=True)
        (out / option).write_text(f"old {option}\n")
    if how != "parent_is_file":
        locked.mkdir()
        (locked / "kept.txt").write_text("an old output\n")
    block(locked, how, monkeypatch)
    before = digest(tmp_path)
    try:
        status, errors = replicate(*argv)
    finally:
        if locked.is_dir():  # let pytest delete it
            locked.chmod(0o755)
    assert status == 2
    assert f"{locked / blocked}: cannot write the output: " in errors, errors
    assert str(locked) in errors.split("cannot write the output: ", 1)[1]
    assert "missing" not in errors  # the inputs (all missing) were not looked at
    assert digest(tmp_path) == before
    assert sorted(p.name for p in out.rglob("*")) == sorted(cli.output_options(stage)[:-1])


def test_an_output_path_that_is_a_directory_is_refused(replicate, tmp_path: Path) -> None:
    (tmp_path / "metrics/features.json").mkdir(parents=True)
    status, errors = replicate("features", "--raw", tmp_path / "missing", "--out",
                               tmp_path / "data/features.parquet", "--report",
                               tmp_path / "metrics/features.json")
    assert status == 2
    assert f"{tmp_path / 'metrics/features.json'}: is a directory" in errors
    assert not (tmp_path / "data").exists()


def test_dvc_yaml_passes_each_stage_what_its_signature_declares() -> None:
    """A stage's signature says which path options it reads and writes (``stage_io``);
    dvc.yaml must pass every output option a path it declares as the stage's output (so
    DVC tracks what the stage writes), declare no output no option writes, and pass every
    input option one of the stage's dependencies or a directory holding some (the files of
    it the stage reads: so a changed input reruns it)."""
    checked = set()
    for name, stage in read_stages(ROOT / "dvc.yaml").items():
        body = stage.get("do", stage)
        words = shlex.split(" ".join(body["cmd"].split()))
        words = words[words.index("replicate") + 1:]
        command, options = words[0], dict(zip(words[1::2], words[2::2], strict=True))
        assert ("--method" in options) == cli.takes_method(command), name
        options.pop("--method", None)
        kinds = {f"--{option.replace('_', '-')}": kind
                 for option, kind in cli.path_options(command).items()}
        assert set(options) == set(kinds), f"{name}: options {sorted(options)}"
        declared = {str(next(iter(entry))) if isinstance(entry, dict) else str(entry)
                    for kind in ("outs", "metrics", "plots") for entry in body.get(kind, [])}
        written = {path for option, path in options.items() if kinds[option] != "input"}
        assert written == declared, f"{name}: writes {sorted(written)}, declares {declared}"
        deps = {str(entry) for entry in body.get("deps", [])}
        unlisted = [path for option, path in options.items() if kinds[option] == "input"
                    and not any(dep == path or dep.startswith(f"{path}/") for dep in deps)]
        assert not unlisted, f"{name}: reads {unlisted} without a dependency"
        checked.add(command)
    assert checked == set(cli.STAGES) - {"pin-checksums"}  # run by hand, not by dvc.yaml


@pytest.mark.parametrize("stage", list(cli.STAGES))
def test_every_argument_of_a_stage_function_is_declared(stage: str) -> None:
    """Every argument of a stage function is the params, the method or a path whose kind
    its annotation declares, so none is silently missing from the command line."""
    module, function = cli.STAGES[stage]
    arguments = list(inspect.signature(cli.stage_function(stage)).parameters)
    paths = [argument for argument in arguments if argument not in ("params", "method")]
    assert paths == list(cli.stage_arguments(stage)), f"{module}.{function}"


def test_a_stage_path_without_its_kind_is_a_programming_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = "def broken_stage(params: dict, root: Path, out: Output) -> None:\n    pass\n"
    monkeypatch.setitem(cli.STAGES, "broken", ("broken", "broken_stage"))
    monkeypatch.setattr(cli, "_function_node", lambda module, function:
                        ast.parse(source).body[0])
    cli.stage_arguments.cache_clear()
    try:
        with pytest.raises(TypeError, match=r"broken.broken_stage: argument 'root' is "
                                            r"annotated Path; a stage's paths are annotated "
                                            r"Input, Output, OutputDir, Pipeline"):
            cli.stage_arguments("broken")
    finally:
        cli.stage_arguments.cache_clear()


# --- item 9: missing or malformed feature tables and splits -------------------------------

def write_table(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path)


def bad_features(case: str, good: Path, path: Path) -> Path:
    """A broken copy of the feature table at ``path`` (or a directory, or nothing)."""
    table = pq.read_table(good)
    if case == "garbage":
        path.write_bytes(b"PAR1 not a parquet file\n")
    elif case == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "no_label":
        write_table(path, table.drop(["label"]))
    elif case == "text_label":
        index = table.schema.get_field_index("label")
        write_table(path, table.set_column(index, "label",
                                           pa.array(["yes"] * table.num_rows)))
    elif case == "directory":
        path.mkdir()
    return path


def bad_splits(case: str, good: Path, path: Path) -> Path:
    """A broken copy of the splits file at ``path`` (or a directory, or nothing)."""
    splits = json.loads(good.read_text())
    if case == "invalid_json":
        path.write_text(good.read_text()[:40])
    elif case == "a_list":
        path.write_text("[1, 2]\n")
    elif case == "no_schemes":
        path.write_text(json.dumps({"units": splits["units"]}))
    elif case == "empty_grouped":
        splits["schemes"]["grouped"] = {}
        path.write_text(json.dumps(splits))
    elif case == "foreign_slip_models":
        splits["schemes"]["grouped"]["0"] = ["2099NOWHERE01XXXX"]
        path.write_text(json.dumps(splits))
    elif case == "directory":
        path.mkdir()
    return path


def reader_argv(stage: str, project: Path, tmp_path: Path, features_path: Path,
                splits_path: Path) -> list[str | Path]:
    """Arguments of a stage reading ``features_path`` and ``splits_path``, writing to out/."""
    out = tmp_path / "out"
    scores = tmp_path / "scores.npz"
    np.savez(scores)  # leakage's scores file must exist: its stage checks it first
    data = {"features": features_path, "splits": splits_path, "scores": scores,
            "events": project / "data/events.csv",
            "methods_dir": project / "metrics", "scores_dir": tmp_path,
            "metrics": project / "metrics", "plots": tmp_path, "results": tmp_path,
            "templates": ROOT / "paper",
            "operating": ROOT / "paper" / "operating_characteristics.json"}
    argv: list[str | Path] = [stage, "--params", project / "params.yaml"]
    if cli.takes_method(stage):
        argv += ["--method", "logistic"]
    for option in cli.path_options(stage):
        argv += [f"--{option.replace('_', '-')}",
                 out / option if option in cli.output_options(stage) else data[option]]
    return argv


FEATURE_CASES = ["missing", "garbage", "truncated", "no_label", "text_label", "directory"]
SPLITS_CASES = ["missing", "invalid_json", "a_list", "no_schemes", "empty_grouped",
                "directory"]
CASES = (
    [("features", case, stage) for case in FEATURE_CASES
     for stage in ("split", "evaluate", "learning-curve", "leakage")]
    + [("splits", case, stage) for case in SPLITS_CASES
       for stage in ("evaluate", "learning-curve", "leakage", "stats", "letter")]
    + [("splits", "foreign_slip_models", stage) for stage in ("evaluate", "learning-curve")]
)


@pytest.mark.parametrize(("which", "case", "stage"), CASES,
                         ids=[f"{stage}-{which}-{case}" for which, case, stage in CASES])
def test_a_bad_feature_table_or_splits_file_is_named(
    project: Path, replicate, tmp_path: Path, which: str, case: str, stage: str,
) -> None:
    good = {"features": project / "data/features.parquet",
            "splits": project / "data/splits.json"}
    make = bad_features if which == "features" else bad_splits
    paths = {**good, which: make(case, good[which], tmp_path / f"bad-{Path(good[which]).name}")}
    argv = reader_argv(stage, project, tmp_path, paths["features"], paths["splits"])
    before = digest(project, tmp_path)
    status, errors = replicate(*argv)
    assert status == 2
    assert errors.startswith(f"{paths[which]}: "), errors
    assert ("rerun the" in errors or "run `dvc repro`" in errors
            or "is a directory" in errors), errors
    assert not (tmp_path / "out").exists()
    assert digest(project, tmp_path) == before


# --- item 10: temporaries of killed runs; the table and its report as a pair --------------

def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_temporaries_of_dead_runs_are_removed_at_stage_start(
    project: Path, replicate, tmp_path: Path,
) -> None:
    out = tmp_path / "data"
    out.mkdir()
    dead, live = dead_pid(), os.getppid()
    stale = [out / f".features.parquet.tmp-{dead}", out / f".features.json.tmp-{dead}"]
    (out / f".features.json.tmp-old-{dead}").mkdir()  # a directory being replaced
    stale.append(out / f".features.json.tmp-old-{dead}")
    kept = [out / f".features.parquet.tmp-{live}",  # a concurrent run's write in progress
            out / ".features.parquet.tmp-notapid", out / f".other.parquet.tmp-{dead}"]
    for path in [*stale[:2], *kept]:
        path.write_text("partial\n")
    # the stage fails on its (missing) input, after the clean-up at its start
    status, errors = replicate("features", "--params", project / "params.yaml", "--raw",
                               tmp_path / "missing", "--out", out / "features.parquet",
                               "--report", out / "features.json")
    assert status == 2 and str(tmp_path / "missing") in errors
    assert not any(path.exists() for path in stale)
    assert all(path.read_text() == "partial\n" for path in kept)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in kept)


def test_remove_stale_temporaries_keeps_live_processes_files(tmp_path: Path) -> None:
    final = tmp_path / "raw"
    dead = dead_pid()
    (tmp_path / f".raw.tmp-{dead}" / "AllCSV").mkdir(parents=True)
    (tmp_path / f".raw.tmp-{os.getpid()}").mkdir()
    assert remove_stale_temporaries(final) == [tmp_path / f".raw.tmp-{dead}"]
    assert [p.name for p in tmp_path.iterdir()] == [f".raw.tmp-{os.getpid()}"]


def test_temporaries_are_ignored_by_git_and_dvc() -> None:
    for path in ("data/.features.parquet.tmp-123", "metrics/methods/.svm.json.tmp-old-45"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0
    assert ".*.tmp-*" in (ROOT / ".dvcignore").read_text().splitlines()


def test_a_failed_report_leaves_the_old_table_and_report(
    project: Path, replicate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table is complete but its report cannot be written: neither replaces the old."""
    out = tmp_path / "data"
    out.mkdir()
    (out / "features.parquet").write_text("old table\n")
    (out / "features.json").write_text("old report\n")

    def failing(payload: object) -> str:
        raise ValueError("the report cannot be written")

    monkeypatch.setattr(features, "json_text", failing)
    with pytest.raises(ValueError, match="cannot be written"):
        replicate("features", "--params", project / "params.yaml", "--raw", project / "raw",
                  "--out", out / "features.parquet", "--report", out / "features.json")
    assert (out / "features.parquet").read_text() == "old table\n"
    assert (out / "features.json").read_text() == "old report\n"
    assert sorted(p.name for p in out.iterdir()) == ["features.json", "features.parquet"]


def test_atomic_files_replace_all_or_none(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a")
    with pytest.raises(OSError), atomic_files(first, second) as (a, b):
        a.write_text("new a")
        shutil.rmtree(tmp_path / "no-such-directory")  # the second write fails
    assert first.read_text() == "old a" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    with atomic_files(first, second) as (a, b):
        a.write_text("new a")
        b.write_text("new b")
    assert (first.read_text(), second.read_text()) == ("new a", "new b")


# --- item 11: what an interrupted stage says ------------------------------------------------

@pytest.mark.parametrize(("stage", "advice"), [
    ("features", "restarts the stage from the beginning"),
    ("acquire", "resume"),
])
def test_an_interrupted_stage_says_whether_running_it_again_resumes(
    project: Path, replicate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    stage: str, advice: str,
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "stage_function", lambda command: interrupted)
    paths = {"features": ["--raw", project / "raw", "--out", tmp_path / "f.parquet",
                          "--report", tmp_path / "f.json"],
             "acquire": ["--out", tmp_path / "raw"]}[stage]
    status, errors = replicate(stage, "--params", project / "params.yaml", *paths)
    assert status == 130
    assert advice in errors
    assert ("resume" in errors) == (stage == "acquire")  # only acquire picks up where it was
