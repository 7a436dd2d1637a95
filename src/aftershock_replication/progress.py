"""Logging set-up, timed steps and progress reporting for long stages.

On a terminal, progress is a tqdm bar; in logs (DVC, CI, Docker) it is a plain line every
few seconds, so a log file shows how far a long step got and how long it took.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
log = logging.getLogger("aftershock_replication")


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr with timestamps; quieten chatty third-party loggers."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("matplotlib", "fontTools", "weasyprint", "urllib3", "jax", "absl"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def format_seconds(seconds: float) -> str:
    """Human-readable duration: '850 ms', '12.3 s', '4 min 05 s'."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@contextmanager
def timed(what: str, logger: logging.Logger = log) -> Iterator[None]:
    """Log the start of a step and, when it ends, how long it took."""
    logger.info("%s ...", what)
    start = time.perf_counter()
    yield
    logger.info("%s done in %s", what, format_seconds(time.perf_counter() - start))


class _LogLines:
    """tqdm stand-in for non-terminals: a log line at most every ``interval`` seconds."""

    def __init__(self, total: float | None, desc: str, unit: str, interval: float) -> None:
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.count = 0.0
        self.start = self.last = time.perf_counter()

    def update(self, amount: float = 1) -> None:
        self.count += amount
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self._emit(now)

    def _emit(self, now: float) -> None:
        elapsed = now - self.start
        if self.total:
            share = self.count / self.total
            remaining = elapsed * (1 - share) / share if share > 0 else float("nan")
            log.info(
                "%s: %s/%s %s (%.0f%%), %s elapsed, ~%s left", self.desc, _n(self.count),
                _n(self.total), self.unit, 100 * share, format_seconds(elapsed),
                format_seconds(remaining) if remaining == remaining else "?",
            )
        else:
            log.info("%s: %s %s, %s elapsed", self.desc, _n(self.count), self.unit,
                     format_seconds(elapsed))

    def close(self) -> None:
        self._emit(time.perf_counter())


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 10_000 else f"{value:g}"


@contextmanager
def progress_bar(
    total: float | None, desc: str, unit: str = "it", interval: float = 10.0
) -> Iterator[tqdm | _LogLines]:
    """A progress reporter with ``update(n)``: tqdm on a terminal, periodic log lines otherwise."""
    if sys.stderr.isatty():
        bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", leave=False)
        try:
            yield bar
        finally:
            bar.close()
    else:
        lines = _LogLines(total, desc, unit, interval)
        try:
            yield lines
        finally:
            lines.close()


def progress(items: Iterable[T], total: int | None, desc: str, unit: str = "it") -> Iterator[T]:
    """Iterate over ``items`` while reporting progress."""
    with progress_bar(total, desc, unit) as bar:
        for item in items:
            yield item
            bar.update(1)
