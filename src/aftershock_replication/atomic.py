"""The pipeline's files: atomic writes (outputs appear complete under their final path or not
at all), checks that outputs can be written before any work, checked reads of other stages'
outputs, and checksums."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError
from .names import SCHEMES

# a temporary is ``.<name>.tmp-<pid>`` (or ``.tmp-old-<pid>``, a directory being replaced)
# beside its final path; .gitignore and .dvcignore ignore the pattern ``.*.tmp-*``
TEMP_MARKER = ".tmp-"
RETIRED = "old-"


def _temp_sibling(path: Path, retired: bool = False) -> Path:
    return path.with_name(f".{path.name}{TEMP_MARKER}{RETIRED if retired else ''}{os.getpid()}")


def temporary_owner(temporary: Path, final: Path) -> int | None:
    """The process id in the name of a temporary of ``final``; None if it has none."""
    suffix = temporary.name.removeprefix(f".{final.name}{TEMP_MARKER}").removeprefix(RETIRED)
    return int(suffix) if suffix.isdigit() else None


def process_alive(pid: int) -> bool:
    """True if a process ``pid`` exists (possibly another user's; a zombie counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OverflowError:  # not a possible process id
        return False
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete the temporaries left beside ``path`` by runs that died (SIGKILL, power loss);
    return them. A temporary of a live process, this one's included, is kept: it may be
    a concurrent run's write in progress."""
    if not path.parent.is_dir():
        return []
    removed = []
    for stale in path.parent.glob(f".{path.name}{TEMP_MARKER}*"):
        owner = temporary_owner(stale, path)
        if owner is None or process_alive(owner):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


def _clear(path: Path) -> None:
    """Remove ``path`` (file, link or directory) if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def check_writable(path: Path, directory: bool = False) -> None:
    """Refuse an output that cannot be written, before a stage reads anything: its nearest
    existing parent must be a writable directory, and a file output must not be a directory.

    ``os.access`` answers for the effective user and a read-only file system; root passes
    permission bits, as its writes would.
    """
    if not directory and path.is_dir():
        raise InputError(f"{path}: is a directory; the output is a file (remove or rename "
                         "the directory, or choose another path)")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{path}: cannot write the output: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write the output: directory {parent} is not "
                         "writable (permissions or a read-only file system); nothing was "
                         "read or written")


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    temporary = _temp_sibling(final)
    _clear(temporary)  # this process id's leftover from a killed run (ids are reused)
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
    _clear(temporary)  # this process id's leftover from a killed run (ids are reused)
    temporary.mkdir()
    try:
        yield temporary
        if final.is_symlink() or final.is_file():
            final.unlink()
        elif final.exists():
            retired = _temp_sibling(final, retired=True)
            _clear(retired)
            os.replace(final, retired)
            shutil.rmtree(retired)
        os.replace(temporary, final)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


@contextmanager
def atomic_files(*paths: str | os.PathLike[str]) -> Iterator[list[Path]]:
    """Temporaries for outputs that belong together (a table and its report): they replace
    their final paths one after another only once the block has written all of them, so
    a failure while writing leaves every old output in place, never a new one beside an old
    one. (The renames themselves are not one transaction: a rename failing midway, e.g. on
    a full disk, could still leave a mix; writability is checked before a stage starts.)"""
    with ExitStack() as stack:
        yield [stack.enter_context(atomic_file(path)) for path in paths]


def json_text(payload: Any) -> str:
    """``payload`` as stable, human-readable JSON (sorted keys; NaN refused)."""
    return json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as stable, human-readable JSON, atomically."""
    with atomic_file(path) as temporary:
        temporary.write_text(json_text(payload))


def write_json_files(payloads: dict[Path, Any]) -> None:
    """Write outputs that belong together as JSON, as a set (``atomic_files``)."""
    with atomic_files(*payloads) as temporaries:
        for temporary, payload in zip(temporaries, payloads.values(), strict=True):
            temporary.write_text(json_text(payload))


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
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not the JSON file {producer} writes")
    if not path.is_file():
        raise InputError(f"{path}: missing; it is written by {producer} (run `dvc repro` or "
                         "that stage first)")
    constants: list[str] = []

    def mark(name: str) -> _Constant:
        constants.append(name)
        return _Constant(name)

    try:
        loaded = json.loads(path.read_text(), parse_constant=mark)
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid JSON ({error}); rerun {producer}") from error
    if constants:  # no stage writes them (json_text refuses NaN): say where the first is
        where = _first_constant(loaded, ())
        raise InputError(f"{path}: {'.'.join(where or ()) or 'a value'} is {constants[0]}, "
                         "which no stage writes (an undefined number is null); rerun "
                         f"{producer}")
    return loaded


class _Constant(str):
    """NaN, Infinity or -Infinity as read, marked so that its key path can be found."""


def _first_constant(node: Any, at: tuple[str, ...]) -> tuple[str, ...] | None:
    """The key path of the first ``_Constant`` in ``node`` (list items by index)."""
    if isinstance(node, _Constant):
        return at
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for key, item in items:
        found = _first_constant(item, (*at, str(key)))
        if found is not None:
            return found
    return None


def finite_or_none(value: Any) -> Any:
    """Nested copy with NaN/inf (undefined statistics, e.g. the sd of one value) as None:
    JSON has no NaN."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):  # NumPy's integers register as Integral
        return int(value)
    if isinstance(value, numbers.Real):  # and its floats as Real: no NumPy import needed
        return float(value) if math.isfinite(value) else None
    return value




def _splits_problem(splits: Any) -> str | None:
    """What is wrong with the structure of a splits file's content; None if nothing."""
    if not isinstance(splits, dict):
        return f"expected a JSON object, found {type(splits).__name__}"
    schemes, units = splits.get("schemes"), splits.get("units")
    if not isinstance(schemes, dict):
        return "no 'schemes' object"
    for scheme in SCHEMES:
        partitions = schemes.get(scheme)
        if not isinstance(partitions, dict) or not partitions:
            return f"no partitions of the '{scheme}' scheme"
        for partition, test in partitions.items():
            if not isinstance(test, list) or not test or \
                    not all(isinstance(name, str) for name in test):
                return (f"partition '{scheme}/{partition}' is not a non-empty list of "
                        "slip-model names")
    if "paper" not in schemes["paper"]:
        return "no 'paper' partition in the 'paper' scheme"
    if not isinstance(units, dict) or not all(isinstance(units.get(s), str)
                                              for s in ("leaky", "grouped")):
        return "no 'units' naming the leaky and grouped grouping levels"
    if not isinstance(splits.get("slip_models"), list):
        return "no 'slip_models' list"
    spatiotemporal = splits.get("spatiotemporal")
    if not isinstance(spatiotemporal, dict) or \
            not isinstance(spatiotemporal.get("groups", ""), dict | None):
        return "no 'spatiotemporal' object with 'groups' (an object, or null when not computed)"
    return None


def read_splits(
    path: str | os.PathLike[str], slip_models: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The split stage's partitions, checked: the structure every reader relies on and,
    given the feature table's ``slip_models``, that each test slip model is one of them
    (a splits file made from another table would test on nothing)."""
    splits = read_json(path, "the split stage")
    problem = _splits_problem(splits)
    if problem is not None:
        raise InputError(f"{path}: not a splits file of this pipeline ({problem}); rerun "
                         "the split stage")
    if slip_models is not None:
        known = set(slip_models)
        for scheme, partitions in splits["schemes"].items():
            for partition, test in partitions.items():
                unknown = sorted(set(test) - known)
                if unknown:
                    raise InputError(
                        f"{path}: partition '{scheme}/{partition}' names {len(unknown)} slip "
                        f"model(s) absent from the feature table, e.g. {unknown[0]}; the "
                        "splits were made from another feature table: rerun the split stage")
    return splits
