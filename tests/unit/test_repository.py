"""Repository contracts: README commands, CI, pins, lint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock_replication.pipeline import read_stages
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
    stages = read_stages(ROOT / "dvc.yaml")
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


def test_no_stage_depends_on_where_the_work_runs_and_the_letter_on_everything_else() -> None:
    """compute.* changes where the work runs, never a result: no stage may list it (changing
    it would rerun stages for nothing); the letter prints every other setting, so it lists
    every other section, and a new section is either a speed setting or the letter's."""
    from aftershock_replication.params import SPEED_ONLY_SECTIONS, TOP_LEVEL_KEYS

    stages = read_stages(ROOT / "dvc.yaml")
    for name, stage in stages.items():
        listed = {str(entry).split(".")[0] for entry in stage.get("do", stage).get("params", [])}
        assert not listed & set(SPEED_ONLY_SECTIONS), f"stage {name} lists {listed}"
    letter = [str(entry) for entry in stages["letter"]["params"]]
    assert letter == [key for key in TOP_LEVEL_KEYS if key not in SPEED_ONLY_SECTIONS]
    assert list(yaml.safe_load((ROOT / "params.yaml").read_text())) == list(TOP_LEVEL_KEYS)


def test_code_is_ruff_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"  # installed by the test extra
    result = subprocess.run([str(ruff), "check", "src", "tests"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _code_changes(entries: list[Any]) -> list[Any]:
    """The entries of one stage's `dvc status` that say its code, params or command changed;
    data and other stages' outputs, absent in a fresh clone, are not such a change (their
    own stages report it)."""
    found: list[Any] = []
    for entry in entries:
        if entry == "changed command":
            found.append(entry)
        elif isinstance(entry, dict):
            for path, state in entry.get("changed deps", {}).items():
                if isinstance(state, dict) or path.startswith("src/") or (
                        path.startswith("paper/") and path.endswith((".j2", ".css"))):
                    found.append({path: state})  # params, code or templates
    return found


def test_the_committed_lock_matches_the_committed_code() -> None:
    """A fresh clone's `dvc status` must not report code or params changed since dvc.lock
    (a stale lock made every clone rerun every stage); checked on a clean checkout (CI)."""
    pipeline = ["src", "params.yaml", "dvc.yaml", "dvc.lock"]
    dirty = subprocess.run(["git", "status", "--porcelain", "--", *pipeline], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    if dirty.strip():
        pytest.skip(f"uncommitted changes to the pipeline: {dirty.split()[1:2]}")
    dvc = Path(sys.executable).parent / "dvc"
    result = subprocess.run([str(dvc), "status", "--json"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    status = json.loads(result.stdout)
    stale = {stage: found for stage, entries in status.items()
             if (found := _code_changes(entries))}
    assert not stale, f"dvc.lock is older than the code: run `dvc repro` and commit ({stale})"


COMMITTED_DOCUMENTS = ("paper/letter.pdf", "paper/supplementary.pdf", "paper/cover_letter.pdf")


@pytest.mark.parametrize("document", COMMITTED_DOCUMENTS)
def test_the_committed_documents_were_rendered_from_the_committed_sources(
    document: str,
) -> None:
    """A committed PDF's provenance (its embedded provenance.json) must name a clean tree
    whose sources (code, params, dvc.yaml, templates) are HEAD's: otherwise the PDF a
    reader gets was made by other code than the repository holds."""
    from io import BytesIO

    from pypdf import PdfReader

    from aftershock_replication.report.provenance import source_digest

    shown = subprocess.run(["git", "show", f"HEAD:{document}"], cwd=ROOT, capture_output=True)
    assert shown.returncode == 0, f"{document} is not committed: run `dvc repro`, commit it"
    committed = shown.stdout
    attached = PdfReader(BytesIO(committed)).attachments
    assert "provenance.json" in attached, f"{document}: no provenance attachment"
    provenance = json.loads(attached["provenance.json"][0])
    assert provenance["uncommitted_changes"].startswith("no"), (
        f"{document} was rendered from a working tree with uncommitted sources: commit the "
        f"code first, then `dvc repro`, then commit the outputs")
    assert provenance["sources_sha256"] == source_digest(ROOT), (
        f"{document} was rendered from other sources than HEAD's (commit "
        f"{provenance['commit'][:10]}): run `dvc repro` and commit the outputs")


def test_the_committed_demo_shows_coulombs_test_label_inflation() -> None:
    """As in the paper (0.583 published against the honest value), on the committed default
    demo the Coulomb convention picked per test slip model on its own labels beats the one
    chosen on training cells, on the paper's split; so the letter's point can show."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    if params["data"]["source"] != "demo":
        pytest.skip("the committed metrics are not from the demo")
    paper = json.loads((ROOT / "metrics/auc.json").read_text())["paper"]
    assert paper["coulomb_test_selected"]["pooled"]["mean"] > paper["coulomb"]["pooled"]["mean"]
