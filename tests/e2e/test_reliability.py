"""Bad input and faults: the user's data is never deleted, errors name what is wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import FIXTURE_TEST, FIXTURE_TRAIN, ROOT, make_layout

REPLICATE = str(Path(sys.executable).parent / "replicate")


def project_with_data(tmp_path: Path, data_path: str) -> tuple[Path, Path]:
    """A project directory (dvc.yaml, params.yaml) whose data.path holds a user's layout."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(ROOT / "dvc.yaml", project / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"].update(source="local", path=data_path)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    user_data = (project / data_path).resolve()
    if not (user_data / "AllCSV").is_dir():
        make_layout(user_data, FIXTURE_TRAIN, FIXTURE_TEST)
    return project, user_data


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (following no links) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize(("data_path", "output"), [
    ("data/raw", "data/raw"),  # the acquire stage's own output
    ("data/raw/mine", "data/raw"),  # inside it
    ("results/scores/mine", "results/scores"),  # inside a foreach stage's outputs
    (".", "data/raw"),  # containing the outputs
])
def test_data_path_overlapping_a_stage_output_is_refused_untouched(
    tmp_path: Path, data_path: str, output: str,
) -> None:
    project, user_data = project_with_data(tmp_path, data_path)
    before = snapshot(user_data)
    result = subprocess.run([REPLICATE, "acquire", "--out", "data/raw"], cwd=project,
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert f"data.path='{data_path}' overlaps" in result.stderr
    assert output in result.stderr and "would be lost" in result.stderr
    assert snapshot(user_data) == before  # nothing deleted or changed


def test_dvc_repro_does_not_delete_data_kept_in_the_acquire_output(tmp_path: Path) -> None:
    """DVC deletes a stage's outputs before running it, unless they persist: data/raw does,
    so the acquire stage gets to refuse before anything is lost."""
    project, user_data = project_with_data(tmp_path, "data/raw")
    shutil.copytree(ROOT / "src", project / "src",  # the stage's dependencies
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    before = snapshot(user_data)
    environment = {**os.environ,
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        subprocess.run(command, cwd=project, check=True, capture_output=True, env=environment)
    result = subprocess.run(["dvc", "repro", "--single-item", "acquire"], cwd=project,
                            capture_output=True, text=True, env=environment)
    assert result.returncode != 0
    assert "overlaps" in result.stdout + result.stderr
    assert snapshot(user_data) == before
