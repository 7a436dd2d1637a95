"""Where independent tasks run: joblib workers on this machine, or an existing Dask cluster.

Partitions (and learning-curve points, leakage arms) are independent, so a stage hands its
tasks to ``run_tasks``; ``compute.backend`` chooses joblib's ``loky`` (worker processes on
this machine) or ``dask`` (``compute.scheduler``: the address of a running scheduler; the
shared data is scattered to the workers once). For loky, the large arrays of the shared
data are written once to files mapped into every worker's memory: each task then ships a
file name, not 400 MB, and joblib does not hash the arrays again for every task. Each task runs
with one thread for numerical libraries, so results do not depend on where or how many
tasks run at once; tests hold the serial, loky and Dask paths to identical metrics.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits

from .errors import InputError
from .params import ComputeParams
from .progress import format_seconds

log = logging.getLogger(__name__)

R = TypeVar("R")
SERIAL = ComputeParams(backend="loky", n_jobs=1, scheduler=None)


def single_threaded(function: Callable[..., R], *args: Any) -> R:
    """Run one task with BLAS/OpenMP limited to one thread (tasks run side by side)."""
    with threadpool_limits(limits=1):
        return function(*args)


MAP_BYTES = 1 << 20  # arrays at least this large are shared through memory-mapped files
SHARED_MEMORY = Path("/dev/shm")  # RAM-backed where it exists


def _mapped(value: Any, folder: Path) -> Any:
    """``value`` with its large arrays (also inside dataclasses) replaced by read-only
    memory maps of copies written to ``folder``."""
    if isinstance(value, np.ndarray) and value.nbytes >= MAP_BYTES and not value.dtype.hasobject:
        path = folder / f"{sum(1 for _ in folder.iterdir())}.npy"
        np.save(path, value)
        return np.load(path, mmap_mode="r")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{field.name: _mapped(getattr(value, field.name),
                                                                 folder)
                                             for field in dataclasses.fields(value)})
    return value


@contextmanager
def memory_mapped(shared: Sequence[Any]) -> Iterator[list[Any]]:
    """Copies of the ``shared`` objects whose large arrays are memory-mapped files (removed
    afterwards)."""
    parent = SHARED_MEMORY if SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK) \
        else None
    folder = Path(tempfile.mkdtemp(prefix="replicate-shared-", dir=parent))
    try:
        yield [_mapped(value, folder) for value in shared]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_scheduler(address: str, timeout: float | None = None) -> None:
    """Refuse a ``compute.scheduler`` that is malformed or where no Dask scheduler answers
    within ``timeout`` seconds (default: Dask's own connect timeout,
    ``distributed.comm.timeouts.connect``, 30 s unless configured), naming the param, the
    address and why, instead of the client's traceback. The probe connects as the client
    would (the configured TLS settings) on an event loop of its own, in a thread, so that it
    neither needs nor disturbs the caller's loop (a notebook's, say)."""
    import dask  # optional at import: only the dask backend needs them
    from dask.utils import parse_timedelta
    from distributed.comm import connect
    from distributed.security import Security

    if timeout is None:
        timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")

    async def knock() -> None:
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        await comm.close()

    with ThreadPoolExecutor(max_workers=1) as probe:
        try:
            probe.submit(asyncio.run, knock()).result()
        except (OSError, ValueError) as error:  # OSError: refused, unknown host, timed out
            raise InputError(
                f"params: compute.scheduler={address!r}: no Dask scheduler reached ({error}); "
                "give the address of a running scheduler (e.g. tcp://host:8786, as `dask "
                "scheduler` prints it), or set compute.backend: loky") from None


@contextmanager
def _backend(compute: ComputeParams, shared: Sequence[Any]) -> Iterator[int]:
    """joblib's configuration for ``compute``; yields the n_jobs to use."""
    if compute.backend == "dask":
        from distributed import Client  # optional at import: only the dask backend needs it

        check_scheduler(compute.scheduler)
        with Client(compute.scheduler, set_as_default=False) as client, \
                parallel_config(backend="dask", client=client, scatter=list(shared)):
            yield -1
    else:  # worker processes start their BLAS/OpenMP libraries with one thread each
        with parallel_config(backend="loky", inner_max_num_threads=1):
            yield compute.n_jobs


def run_tasks(
    function: Callable[..., R], tasks: Sequence[tuple[Any, ...]], compute: ComputeParams,
    shared: Sequence[Any] = (), describe: Callable[[int, R], str] | None = None,
) -> list[R]:
    """``function(*task)`` for every task, in order, logging each result as it arrives.

    ``shared`` lists large arguments common to all tasks (the cell arrays), which the
    backend ships to each worker once rather than with every task.
    """
    start = time.perf_counter()
    results: list[R] = []
    local = compute.backend == "loky" and compute.n_jobs != 1 and len(tasks) > 1
    mapping = memory_mapped(shared) if local else nullcontext(list(shared))
    with mapping as mapped, _backend(compute, shared) as n_jobs:
        # the tasks refer to the mapped copies of the shared objects
        replace = {id(original): copy for original, copy in zip(shared, mapped, strict=True)}
        tasks = [tuple(replace.get(id(item), item) for item in task) for task in tasks]
        runner = Parallel(n_jobs=n_jobs, return_as="generator")
        stream = runner(delayed(single_threaded)(function, *task) for task in tasks)
        for number, result in enumerate(stream, start=1):
            results.append(result)
            if describe is not None:
                log.info("[%d/%d] %s (%s elapsed)", number, len(tasks),
                         describe(number - 1, result),
                         format_seconds(time.perf_counter() - start))
    return results
