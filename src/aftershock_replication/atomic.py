"""The pipeline's files: atomic writes (outputs appear complete under their final path or not
at all), checked reads of other stages' outputs, and checksums."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError

TEMP_MARKER = ".tmp-"


def _temp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_MARKER}{os.getpid()}")


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries left next to ``path`` by an interrupted earlier run."""
    if not path.parent.is_dir():
        return
    for stale in path.parent.glob(f".{path.name}{TEMP_MARKER}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    temporary = _temp_sibling(final)
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; it replaces ``path`` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    temporary = _temp_sibling(final)
    temporary.mkdir()
    try:
        yield temporary
        if final.is_symlink() or final.is_file():
            final.unlink()
        elif final.exists():
            retired = final.with_name(f".{final.name}{TEMP_MARKER}old-{os.getpid()}")
            os.replace(final, retired)
            shutil.rmtree(retired)
        os.replace(temporary, final)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as stable, human-readable JSON, atomically."""
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` atomically."""
    with atomic_file(path) as temporary:
        temporary.write_text(text)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file, read in blocks."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_json(path: str | os.PathLike[str], producer: str) -> Any:
    """A JSON file another stage wrote; missing or unreadable is an InputError naming the
    file and the stage that writes it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: missing; it is written by {producer} (run `dvc repro` or "
                         "that stage first)")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error}); rerun {producer}") from error
