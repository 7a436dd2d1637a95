"""Checksum pins of the published data: the manifest ``devries2018_manifest.json``.

The manifest pins the size and SHA-256 digest of each file of the original layout
(``layout.py``) by its path inside the layout's root. This module reads and validates it
(``load_manifest``, ``parse_pins``), checks a file or a directory against it (``mismatch``,
``verify_against_manifest``) and writes it from a verified copy (``pin_checksums``, the
``pin-checksums`` stage). An empty manifest pins nothing, so it reports nothing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..atomic import sha256_of, write_json
from ..errors import InputError
from ..progress import timed
from ..stage_io import Input, Output
from .layout import ROLES, find_file_list, open_layout

log = logging.getLogger(__name__)

MANIFEST_PATH = Path(__file__).with_name("devries2018_manifest.json")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    """The pinned size and SHA-256 digest of one file of the layout."""

    size: int
    sha256: str


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """Read and validate a checksum manifest (by default the packaged, possibly empty one)."""
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot read the checksum manifest ({error})") from error
    parse_pins(manifest, source=str(path))
    return manifest


def parse_pins(manifest: dict[str, Any], source: str = "manifest") -> dict[str, Pin]:
    """Validate ``{"files": {relative path: {"size": n, "sha256": hex}}}`` into pins."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise InputError(
            f"{source}: expected {{\"files\": {{relative path: {{\"size\": bytes, "
            f"\"sha256\": hex digest}}}}}}"
        )
    pins: dict[str, Pin] = {}
    for relative, entry in files.items():
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise InputError(f"{source}: '{relative}' is not a path inside the data directory")
        size = entry.get("size") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InputError(f"{source}: '{relative}' needs a non-negative integer 'size'")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
            raise InputError(f"{source}: '{relative}' needs a 64-hex-digit 'sha256'")
        pins[relative] = Pin(size, digest.lower())
    return pins


def pin_checksums(root: Path) -> dict[str, Any]:
    """Manifest of an existing layout directory: both file lists and every CSV they name.

    Pin the published data with ``write_json(MANIFEST_PATH, pin_checksums(Path(...)))``.
    """
    layout = open_layout(root)
    files: dict[str, dict[str, Any]] = {}
    with timed(f"computing checksums of {layout.root}"):
        paths = [find_file_list(layout.root, role) for role in ROLES]
        names = sorted({name for role in ROLES for name in layout.names[role]})
        paths += [layout.csv_path(name) for name in names]
        for path in paths:
            relative = path.relative_to(layout.root).as_posix()
            files[relative] = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    return {"files": files}


def verify_against_manifest(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems (missing file, wrong size, wrong digest) of ``root`` against the pinned files.

    An empty manifest pins nothing, so it reports nothing.
    """
    root = Path(root)
    problems = []
    for relative, pin in sorted(parse_pins(manifest).items()):
        problem = mismatch(root / relative, pin)
        if problem:
            problems.append(f"{relative}: {problem}")
    return problems


def mismatch(path: Path, pin: Pin) -> str | None:
    """Why ``path`` does not match its pin, or None when it does."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != pin.size:
        return f"{size} bytes, expected {pin.size}"
    digest = sha256_of(path)
    if digest != pin.sha256:
        return f"sha256 {digest}, expected {pin.sha256}"
    return None


def pin_checksums_stage(params: dict[str, Any], root: Input, out: Output) -> None:
    """Pin sizes and SHA-256 of a verified copy of the published data (for maintainers).

    inputs:  root, the published layout (data/original).
    outputs: out, the manifest that data.source=devries2018 verifies downloads against
             (src/aftershock_replication/data/devries2018_manifest.json).
    params:  none
    """
    manifest = pin_checksums(Path(root))
    write_json(out, manifest)
    log.info("pinned %d files into %s", len(manifest["files"]), out)
