"""Repository contracts: README commands, CI, pins, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import ROOT, readme_commands


def test_readme_has_exactly_two_fresh_machine_commands() -> None:
    install_run, install_test = readme_commands()
    assert "requirements.lock" in install_run and install_run.endswith("dvc repro")
    assert "requirements-test.lock" in install_test and install_test.endswith("pytest")


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    script = [line for line in (ROOT / ".ci/run").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert script == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', readme_commands()[1]]


def test_lock_files_pin_every_package_exactly() -> None:
    for lock in ("requirements.lock", "requirements-test.lock"):
        lines = (ROOT / lock).read_text().splitlines()
        requirements = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
        assert requirements, lock
        exact = re.compile(r"[A-Za-z0-9._\[\],-]+==[^=\s]+")
        loose = [line for line in requirements if not exact.fullmatch(line)]
        assert not loose, f"{lock}: not pinned exactly: {loose}"
        names = {line.split("==")[0].lower() for line in requirements}
        for package in ("dvc", "pandas", "numpy", "scikit-learn", "keras", "jax", "statsmodels",
                        "pygam", "jinja2", "weasyprint", "pyarrow", "cutde"):
            assert package in names, f"{lock}: {package} missing"


def test_dvc_stages_list_only_declared_params() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, stage in stages.items():
        for entry in stage.get("params", []):
            if isinstance(entry, dict):  # {file: [keys]} or {file: None} for every param
                (file, keys), = entry.items()
                assert file == "params.yaml", f"stage {name}: params from {file}"
                entries = keys or []
            else:
                entries = [entry]
            for key in entries:
                assert key.split(".")[0] in params, f"stage {name}: unknown param {key}"


def test_code_is_ruff_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"  # installed by the test extra
    result = subprocess.run([str(ruff), "check", "src", "tests"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
