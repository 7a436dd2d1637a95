"""A resumable output directory: work goes to ``.<out>.partial`` one finished file at a
time and replaces ``<out>`` only when complete (the demo generator, the SRCMOD rebuild).

A stamp file holds a fingerprint of what the work is made from; a partial directory with
another (or no) stamp is discarded rather than resumed.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..atomic import _clear as remove_path  # atomic.py's remover (a stage dep: not renamed)
from ..atomic import remove_stale_temporaries

log = logging.getLogger(__name__)


def open_partial(out_dir: Path, stamp: str, fingerprint: str, made_from: str) -> Path:
    """The stamped ``.<out_dir>.partial`` directory, kept from an interrupted run with the
    same ``fingerprint``, else new; ``made_from`` says in the log what differed."""
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    stamp_file = partial / stamp
    if partial.exists() and (not stamp_file.is_file()
                             or stamp_file.read_text() != fingerprint):
        log.info("discarding an interrupted run made from other %s: %s", made_from, partial)
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(fingerprint)
    remove_stale_temporaries(out_dir)
    return partial


def finish_partial(partial: Path, out_dir: Path, bookkeeping: Iterable[str]) -> None:
    """Put the finished ``partial`` in place of ``out_dir``: the old one is moved aside
    first and deleted last, so at every moment either the old directory or the new one is
    complete; the resuming ``bookkeeping`` (stamp, per-item records) goes once the new one
    is in place."""
    retired = out_dir.with_name(f".{out_dir.name}.retired")
    remove_path(retired)
    if out_dir.is_symlink() or out_dir.exists():
        out_dir.rename(retired)
    partial.rename(out_dir)
    for name in bookkeeping:
        remove_path(out_dir / name)
    remove_path(retired)
