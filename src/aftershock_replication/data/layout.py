"""The original on-disk layout of DeVries et al.'s data, shared by every data source.

    <root>/AllCSV/<name>_grid.csv        one CSV per slip model
    <root>/Training_FileNames.h5         dataset 'file_names_training' (byte strings)
    <root>/Testing_FileNames.h5          dataset 'file_names_testing'
    <root>/fsp/*.fsp                     optional: SRCMOD slip models (their epicentres)
    <root>/events.csv                    optional: epicentres (and times) per slip model

The Drive folder's README spells the lists ``*_Filenames.h5``; both spellings are accepted.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..atomic import atomic_file, read_json
from ..errors import InputError

CSV_DIR = "AllCSV"
CSV_SUFFIX = "_grid.csv"
DEMO_MARKER = "DEMO_DATA.json"  # the demo generator's summary; marks synthetic data
DEMO_PRODUCER = "the demo generator (`replicate acquire` with data.source: demo)"
SOURCE_MARKER = "SOURCE.json"  # acquire's note, in a linked layout, of the directory linked
EVENTS_CSV = "events.csv"  # optional epicentres and times (events.py)
FSP_DIR = "fsp"  # optional SRCMOD .fsp files, read for their epicentres (events.py)
ROLES = ("train", "test")
FILE_LIST_NAMES = {
    "train": ("Training_FileNames.h5", "Training_Filenames.h5"),
    "test": ("Testing_FileNames.h5", "Testing_Filenames.h5"),
}
FILE_LIST_DATASETS = {"train": "file_names_training", "test": "file_names_testing"}
NAME_MAX = 255  # bytes in one file name (ext4, XFS, APFS, NTFS): a longer one cannot exist
SHOWN_CHARACTERS = 40  # of a name too long to show whole

# Columns the analysis reads (STUDY.md); the files hold many more, in any order.
STRESS_COLUMNS = (
    "stresses_full_xx",
    "stresses_full_yy",
    "stresses_full_xy",
    "stresses_full_xz",
    "stresses_full_yz",
    "stresses_full_zz",
)
LABEL_COLUMN = "aftershocksyn"
# map coordinates of the cell centres (for the split's spatio-temporal groups); the depth
# column z is not used by the analysis, so it is not read
COORDINATE_COLUMNS = ("x", "y")
COULOMB_COLUMNS = tuple(f"stresses_full_cfs_{i}" for i in range(1, 5))
MAX_SHEAR_COLUMN = "stresses_full_max_shear"
VON_MISES_COLUMN = "von_mises"


def slip_model_name(file_name: str) -> str:
    """'1995KOBEJA01YOSH_grid.csv' (or a bare name, or a path) -> '1995KOBEJA01YOSH'."""
    base = Path(file_name).name
    return base[: -len(CSV_SUFFIX)] if base.endswith(CSV_SUFFIX) else base


def find_file_list(root: Path, role: str) -> Path:
    """Path of the train/test file list, accepting both spellings of its name.

    Both present is fine when they list the same names (or are one file on a
    case-insensitive file system); different lists are refused, naming both files, since
    which one the data means is ambiguous.
    """
    present = [root / name for name in FILE_LIST_NAMES[role] if (root / name).is_file()]
    if not present:
        spellings = " or ".join(FILE_LIST_NAMES[role])
        raise InputError(f"{root}: missing the {role} file list (expected {spellings})")
    first, *others = present
    for other in others:
        if not first.samefile(other) and (read_file_list(first, FILE_LIST_DATASETS[role])
                                          != read_file_list(other, FILE_LIST_DATASETS[role])):
            raise InputError(
                f"{root}: both {first.name} and {other.name} are present and list different "
                f"{role} slip models; keep the one that is meant and remove the other"
            )
    return first


def read_file_list(path: Path, dataset: str) -> list[str]:
    """File names stored in an HDF5 list, decoded from Python 2 byte strings.

    ``dataset`` must be a dataset (not a group) and each entry UTF-8 text naming a CSV whose
    file name fits ``NAME_MAX`` bytes; anything else is an InputError naming the file, the
    dataset and the entry (it would otherwise end in a traceback further on).
    """
    try:
        with h5py.File(path, "r") as handle:
            if dataset not in handle:
                raise InputError(
                    f"{path}: no dataset '{dataset}' (found: {', '.join(handle) or 'none'})"
                )
            item = handle[dataset]
            if not isinstance(item, h5py.Dataset):
                kind = "a group" if isinstance(item, h5py.Group) else "not a dataset"
                raise InputError(f"{path}: '{dataset}' is {kind}, expected a dataset of file "
                                 "names (one byte string per slip-model CSV)")
            raw = np.atleast_1d(np.squeeze(item[()]))
    except OSError as error:
        raise InputError(f"{path}: not a readable HDF5 file ({error})") from error
    names = [_file_list_entry(f"{path}: entry {number} of '{dataset}'", item)
             for number, item in enumerate(raw, start=1)]
    return [name.strip() for name in names if name.strip()]


def _file_list_entry(where: str, item: Any) -> str:
    """One entry of a file list as text: UTF-8, naming a CSV whose file name can exist."""
    if isinstance(item, bytes):
        item = bytes(item)  # numpy's bytes_ shows itself as np.bytes_(...)
        try:
            item = item.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{where} is not UTF-8 text (byte {error.start} is "
                             f"0x{item[error.start]:02x} in {item[:SHOWN_CHARACTERS]!r}); "
                             "file names must be UTF-8") from None
    name = str(item)
    csv_name = f"{slip_model_name(name.strip())}{CSV_SUFFIX}"
    size = len(csv_name.encode())
    if size > NAME_MAX:
        raise InputError(f"{where} names the CSV file '{csv_name[:SHOWN_CHARACTERS]}...' of "
                         f"{size} bytes; a file name is limited to {NAME_MAX} bytes")
    return name


def write_file_list(path: Path, dataset: str, file_names: list[str]) -> None:
    """Write a file list the way the original did: a 1-D array of byte strings."""
    with atomic_file(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.create_dataset(dataset, data=np.array([n.encode() for n in file_names], dtype="S"))


@dataclass(frozen=True)
class Layout:
    """A validated original-layout directory: slip-model names per side of the paper's split."""

    root: Path
    names: dict[str, list[str]]

    def csv_path(self, name: str) -> Path:
        return self.root / CSV_DIR / f"{name}{CSV_SUFFIX}"

    @property
    def role_of(self) -> dict[str, str]:
        return {name: role for role in ROLES for name in self.names[role]}


def open_layout(root: str | Path) -> Layout:
    """Check a directory holds the original layout and return its slip models per split side.

    Errors name the missing piece: the directory, ``AllCSV``, a file list, a CSV a list
    names, or a slip model listed twice.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: data directory not found")
    if not (root / CSV_DIR).is_dir():
        raise InputError(f"{root}: missing the '{CSV_DIR}' directory of per-slip-model CSV files")
    names = {
        role: [
            slip_model_name(entry)
            for entry in read_file_list(find_file_list(root, role), FILE_LIST_DATASETS[role])
        ]
        for role in ROLES
    }
    counts = Counter(name for role in ROLES for name in names[role])
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise InputError(
            f"{root}: slip model(s) listed more than once across the train/test file lists: "
            f"{', '.join(duplicated)}"
        )
    layout = Layout(root=root, names=names)
    missing = [str(layout.csv_path(name)) for role in ROLES for name in names[role]
               if not layout.csv_path(name).is_file()]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        shown = ", ".join(missing[:5]) + more
        raise InputError(f"{root}: the file lists name CSV files that are absent: {shown}")
    if not counts:
        raise InputError(f"{root}: both file lists are empty")
    return layout


def file_problem(path: Path) -> str | None:
    """What stops ``path`` from being read as a file, in words (a directory, a link leading
    nowhere, a device); None when it is a regular file or absent (an optional file)."""
    if path.is_file() or not (path.exists() or path.is_symlink()):
        return None
    if path.is_dir():
        return "is a directory"
    if path.is_symlink():
        return (f"is a symbolic link to '{os.readlink(path)}', which leads to no file "
                "(dangling, or a loop)")
    return "is not a regular file"


def read_demo_marker(root: Path) -> dict[str, Any] | None:
    """The demo generator's summary if ``root`` holds synthetic data, else None; a marker
    that is not a JSON object is an InputError naming it."""
    marker = root / DEMO_MARKER
    if not marker.is_file():
        return None
    summary = read_json(marker, DEMO_PRODUCER)
    if not isinstance(summary, dict):
        raise InputError(f"{marker}: expected a JSON object (the demo generator's summary), "
                         f"found {type(summary).__name__}; rerun {DEMO_PRODUCER}")
    return summary


def source_of(root: Path) -> Path:
    """The user's directory a layout was linked from (``SOURCE_MARKER``: data.source local
    or devries2018), so that messages about its files name the file to fix, not its copy
    in data/raw; ``root`` itself for any other layout (the demo's)."""
    marker = root / SOURCE_MARKER
    if not marker.is_file():
        return root
    summary = read_json(marker, "the acquire stage")
    source = summary.get("source_root") if isinstance(summary, dict) else None
    return Path(source) if isinstance(source, str) else root
