"""Provenance of a rendered letter: commit, inputs and their checksums, params, versions, date.

Everything here must be deterministic for identical inputs (the PDF bytes are compared):
the run date comes from ``SOURCE_DATE_EPOCH`` when it is set, paths are shown relative to
the directories passed in, and nothing depends on the current time otherwise.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from ..atomic import sha256_of
from ..errors import InputError
from ..params import DataParams, results_params
from ..pipeline import source_dependencies

# The stack the analysis and the letter depend on (distribution names).
PACKAGES = ("aftershock-replication", "dvc", "pandas", "numpy", "scipy", "scikit-learn",
            "keras", "jax", "statsmodels", "pygam", "jinja2", "weasyprint", "matplotlib",
            "pyarrow")


@dataclass
class Provenance:
    """What the appendix prints."""

    commit: str
    dirty: str
    sources: str
    run_date: datetime
    date_source: str
    data_source: list[tuple[str, str]]
    inputs: list[tuple[str, str]] = field(default_factory=list)
    params_yaml: str = ""
    versions: list[tuple[str, str]] = field(default_factory=list)
    python: str = ""
    commands: list[str] = field(default_factory=list)

    @property
    def iso_date(self) -> str:
        return self.run_date.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_date() -> tuple[datetime, str]:
    """The build date: ``SOURCE_DATE_EPOCH`` (reproducible builds) if set, else now, in UTC."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            return datetime.fromtimestamp(int(raw), tz=UTC), "SOURCE_DATE_EPOCH"
        except (ValueError, OverflowError, OSError) as error:
            raise InputError(
                f"SOURCE_DATE_EPOCH={raw!r}: expected whole seconds since 1970-01-01 UTC"
            ) from error
    return datetime.now(tz=UTC).replace(microsecond=0), "the clock (SOURCE_DATE_EPOCH unset)"


def _git(*args: str, cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


# What the results are made from: the files the pipeline's stages depend on (their code
# and templates, as dvc.yaml lists them), params.yaml and dvc.yaml. A digest of their git
# objects at the commit proves, with no history needed (shallow clones), that a document
# was rendered from the same sources; code no stage reads (tests, benchmarks) is left out,
# and params.yaml counts by the settings the results depend on (``params.results_params``:
# not its comments, nor where the work ran).
SOURCE_PATHS = ("src", "params.yaml", "dvc.yaml", "paper")
PARAMS_PATH = "params.yaml"


def params_digest(text: str | None) -> str:
    """SHA-256 of the settings in a params.yaml text that the results depend on (canonical
    JSON of ``results_params``); of the stripped text when that cannot be made."""
    if text is None:
        return "missing"
    try:
        params = yaml.safe_load(text)
    except yaml.YAMLError:
        params = None
    try:
        if not isinstance(params, dict):
            raise TypeError("not a mapping")
        canonical = json.dumps(results_params(params), sort_keys=True, default=str)
    except (TypeError, ValueError):  # not a mapping, or keys JSON cannot sort (1 and "a")
        canonical = text.strip()  # as git shows a committed file
    return hashlib.sha256(canonical.encode()).hexdigest()


def _committed_params(commit: str, cwd: Path) -> str | None:
    return _git("show", f"{commit}:{PARAMS_PATH}", cwd=cwd)


def _working_params(cwd: Path) -> str | None:
    try:
        return (cwd / PARAMS_PATH).read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _dependency_patterns(cwd: Path) -> list[str]:
    """dvc.yaml's dependencies under src/ and paper/ (all of both without a readable
    dvc.yaml), params.yaml and dvc.yaml."""
    try:
        return source_dependencies(cwd / "dvc.yaml") if (cwd / "dvc.yaml").is_file() \
            else list(SOURCE_PATHS)
    except InputError:
        return list(SOURCE_PATHS)


def _is_source(path: str, patterns: list[str]) -> bool:
    """Whether a repository path is a pipeline dependency (a file or under a directory)."""
    return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")
               for pattern in patterns)


def git_state(cwd: Path | None = None) -> tuple[str, str]:
    """(commit, dirty description): whether the sources (code, params, dvc.yaml, templates)
    differ from the commit; tolerates a missing git or a directory outside a repository."""
    where = Path.cwd() if cwd is None else cwd
    commit = _git("rev-parse", "HEAD", cwd=where)
    if not commit:
        return "unknown (not a git checkout, or git not installed)", "unknown"
    recorded = os.environ.get("SOURCE_COMMIT", "").strip()
    if recorded and recorded != "unknown" and recorded != commit:
        # the container's one snapshot commit stands for the source commit it was built
        # from (docker build --build-arg SOURCE_COMMIT=...; the sources digest ties them)
        commit = f"{recorded} (source, recorded at image build; snapshot commit {commit})"
    status = _git("status", "--porcelain", "--untracked-files=normal", "--", *SOURCE_PATHS,
                  cwd=where)
    if status is None:
        return commit, "unknown"
    # porcelain lines are "XY path" or "XY old -> new" (the output's first space is stripped)
    patterns = _dependency_patterns(where)
    changed = [path for line in status.splitlines() if line.strip()
               and _is_source(path := line.split(None, 1)[-1].split(" -> ")[-1], patterns)]
    if PARAMS_PATH in changed and params_digest(_working_params(where)) == params_digest(
            _committed_params("HEAD", where)):
        changed.remove(PARAMS_PATH)  # only comments or where the work runs changed
    if not changed:
        return commit, "no (code, params, pipeline and templates as committed)"
    return commit, (f"yes ({len(changed)} changed or untracked source path(s) at render "
                    f"time; the sources digest is then the commit's, not what ran)")


def source_digest(cwd: Path | None = None, commit: str = "HEAD") -> str:
    """SHA-256 of ``git ls-tree -r <commit>`` lines (object id and path) of the sources, or
    "unknown" outside a git checkout."""
    where = Path.cwd() if cwd is None else cwd
    listing = _git("ls-tree", "-r", "--full-tree", commit, "--", *SOURCE_PATHS, cwd=where)
    if not listing:
        return "unknown"
    patterns = _dependency_patterns(where)
    kept = []
    for line in listing.splitlines():
        path = line.split("\t", 1)[-1]
        if path == PARAMS_PATH:
            line = f"params {params_digest(_committed_params(commit, where))}\t{path}"
        if _is_source(path, patterns):
            kept.append(line)
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> list[tuple[str, str]]:
    versions = []
    for name in names:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return versions


def data_source(data: DataParams, features: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the analysed data came from, as (label, value) rows."""
    demo = features.get("demo")
    rows = []
    if demo:
        rows.append(("source", "demo: synthetic data generated by this package"))
        rows.append(("generator", ", ".join(f"{key}={demo[key]}" for key in sorted(demo))))
    else:
        rows.append(("source", data.source))
        for key in ("path", "mirror", "drive_folder"):
            if getattr(data, key):
                rows.append((f"data.{key}", str(getattr(data, key))))
    if features.get("source_root"):
        rows.append(("layout read from", str(features["source_root"])))
    return rows


def collect(
    *, inputs: list[tuple[str, Path]], params: dict[str, Any], features: dict[str, Any],
    commands: list[str], data: DataParams | None = None,
) -> Provenance:
    """Gather the appendix; ``inputs`` are (label shown, file) pairs of every file read;
    ``data``: the parsed ``data`` section (parsed here when not given)."""
    moment, date_from = run_date()
    commit, dirty = git_state()
    return Provenance(
        commit=commit,
        dirty=dirty,
        sources=source_digest(),
        run_date=moment,
        date_source=date_from,
        data_source=data_source(DataParams.from_params(params) if data is None else data,
                                features),
        inputs=[(label, sha256_of(path)) for label, path in inputs],
        params_yaml=yaml.safe_dump(results_params(params), sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=88).rstrip(),
        versions=package_versions(),
        python=sys.version.split()[0],
        commands=list(commands),
    )
