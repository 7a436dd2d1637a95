"""Wall time, CPU time and peak memory of a command and all the processes it starts.

CPU time comes from the kernel's accounting of the finished process tree (``os.wait4``),
or, where more, from the sum of the last CPU times sampled per process (worker processes
that outlive their parent are never reaped into its account). Peak memory is the largest
sum of resident set sizes over the tree, sampled every ``interval`` seconds with psutil
(worker processes included; pages they share, such as memory-mapped arrays, count once per
process, so the figure errs on the high side).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Usage:
    """Resources one command used."""

    command: str
    returncode: int
    wall_s: float
    cpu_s: float  # user + system, the whole process tree
    user_s: float
    system_s: float
    peak_rss_mb: float  # sampled peak of the summed RSS of the process tree

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def sample_tree(process: psutil.Process, cpu_seen: dict[int, float]) -> int:
    """Resident bytes of a process and all its descendants; records each one's CPU seconds."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            with member.oneshot():
                total += member.memory_info().rss
                times = member.cpu_times()
            cpu_seen[member.pid] = times.user + times.system
        except psutil.Error:
            continue
    return total


def run_measured(
    command: list[str], cwd: Path, env: dict[str, str] | None = None,
    log_path: Path | None = None, interval: float = SAMPLE_SECONDS,
) -> Usage:
    """Run ``command`` to completion, returning its resource use (output to ``log_path``)."""
    output = log_path.open("ab") if log_path else subprocess.DEVNULL
    start = time.perf_counter()
    try:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=output,
                                 stderr=subprocess.STDOUT)
        peak = 0
        cpu_seen: dict[int, float] = {}
        watched = psutil.Process(child.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, sample_tree(watched, cpu_seen))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_path:
            output.close()
    return Usage(
        command=" ".join(command), returncode=child.returncode,
        wall_s=round(time.perf_counter() - start, 2),
        cpu_s=round(max(usage.ru_utime + usage.ru_stime, sum(cpu_seen.values())), 2),
        user_s=round(usage.ru_utime, 2), system_s=round(usage.ru_stime, 2),
        peak_rss_mb=round(max(peak, usage.ru_maxrss * 1024) / 2**20, 1),
    )
