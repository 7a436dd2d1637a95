"""Fetch DeVries et al.'s (2018) published folder into the original layout (``layout.py``).

The data is a Google Drive folder (``data.drive_folder``) that cannot be fetched unattended:
Google's API needs authentication even for public folders, listing tools see at most ~50
files per folder (it holds 199 CSV files), and unauthenticated bulk downloads are often
answered with a sign-in, quota or virus-scan page instead of the file. So the Drive route
makes one honest attempt and then explains the manual way; a plain HTTP(S) copy of the layout
(``data.mirror``) is fetched file by file (the two file lists, then every CSV they name),
each through ``transfer.py`` and checked against its pin (``pins.py``) when pinned, else
by its structure: CSV columns and rows as the features stage reads them (``slip_csv.py``),
HDF5 lists naming slip models.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import requests

from ..errors import DownloadRefused, InputError
from ..params import DataParams
from ..progress import progress_bar, timed
from .layout import (
    CSV_DIR,
    CSV_SUFFIX,
    FILE_LIST_DATASETS,
    FILE_LIST_NAMES,
    ROLES,
    open_layout,
    read_file_list,
    slip_model_name,
)
from .pins import MANIFEST_PATH, Pin, load_manifest, mismatch, parse_pins
from .slip_csv import read_slip_model_csv
from .transfer import TIMEOUT, FileCheck, HTTPRefused, download_file, new_session, part_path

log = logging.getLogger(__name__)

DRIVE_FOLDER_URL = "https://drive.google.com/drive/folders/{folder}"


def check_slip_model_csv(path: Path) -> None:
    """A downloaded slip-model CSV must parse as the features stage will read it."""
    read_slip_model_csv(path)


def file_list_check(role: str) -> FileCheck:
    """A downloaded train/test list must be an HDF5 file holding its dataset of names."""
    def check(path: Path) -> None:
        if not read_file_list(path, FILE_LIST_DATASETS[role]):
            raise InputError(f"{path}: the {role} file list names no slip model")
    return check


# --------------------------------------------------------------------------------------------
# The whole layout


def fetch_devries2018(
    data: DataParams,
    dest: Path,
    *,
    session: requests.Session | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Bring the published layout into ``dest`` from ``data.mirror``, or explain the manual way.

    With a mirror, the two file lists come first, then every CSV they name; files already
    complete (matching their pins, or just present without a ``.part`` when nothing is
    pinned) are skipped, so a re-run resumes. Without one, Google Drive is tried and refuses
    (DownloadRefused saying how to download the folder by hand), unless ``dest`` already holds
    a complete layout. The result is validated with ``open_layout``.
    """
    dest = Path(dest)
    pins = parse_pins(load_manifest() if manifest is None else manifest)
    http = session if session is not None else new_session()
    try:
        if not data.mirror:
            if _holds_layout(dest, pins):
                log.info("%s already holds the complete published layout; nothing to download",
                         dest)
                return dest
            refuse_drive(http, data.drive_folder, dest)
        if not pins:
            log.warning(
                "THE CHECKSUM MANIFEST IS EMPTY (%s): downloads cannot be checked against "
                "pinned sizes and SHA-256 digests, only against the lengths the server states, "
                "validators before resuming, and each file's structure (CSV columns and rows, "
                "HDF5 lists). Pin a verified copy with `replicate pin-checksums`.", MANIFEST_PATH)
        with timed(f"downloading the DeVries et al. (2018) data from {data.mirror} into {dest}"):
            downloaded, skipped = _fetch_from_mirror(http, data.mirror, dest, pins)
    finally:
        if session is None:
            http.close()
    layout = open_layout(dest)
    log.info("%s: %d train and %d test slip models; %d files downloaded, %d already present",
             dest, len(layout.names["train"]), len(layout.names["test"]), downloaded, skipped)
    return dest


def _holds_layout(dest: Path, pins: dict[str, Pin]) -> bool:
    """Whether ``dest`` is already a valid layout matching every pin."""
    try:
        open_layout(dest)
    except InputError:
        return False
    problems = [f"{rel}: {why}" for rel, pin in sorted(pins.items())
                if (why := mismatch(dest / rel, pin))]
    if problems:
        log.warning("%s does not match the checksum manifest: %s", dest, "; ".join(problems[:5]))
    return not problems


def _fetch_from_mirror(
    session: requests.Session, mirror: str, dest: Path, pins: dict[str, Pin]
) -> tuple[int, int]:
    """Download the lists, then the CSV files they name; returns (downloaded, skipped)."""
    (dest / CSV_DIR).mkdir(parents=True, exist_ok=True)
    counts = [0, 0]
    names: dict[str, None] = {}
    for role in ROLES:
        path = _fetch_file_list(session, mirror, dest, role, pins, counts)
        for entry in read_file_list(path, FILE_LIST_DATASETS[role]):
            names[slip_model_name(entry)] = None
    with progress_bar(len(names), "slip-model CSV files", unit="file") as bar:
        for name in names:
            file_name = f"{name}{CSV_SUFFIX}"
            relative = f"{CSV_DIR}/{file_name}"
            _fetch(session, f"{mirror}/{CSV_DIR}/{quote(file_name)}", dest / relative,
                   pins.get(relative), counts, check_slip_model_csv)
            bar.update(1)
    return counts[0], counts[1]


def _fetch_file_list(
    session: requests.Session, mirror: str, dest: Path, role: str,
    pins: dict[str, Pin], counts: list[int],
) -> Path:
    """Fetch the train/test list, trying each accepted spelling of its name on the mirror."""
    spellings = [name for name in FILE_LIST_NAMES[role] if name in pins] or FILE_LIST_NAMES[role]
    for name in spellings:
        if _complete(dest / name, pins.get(name)):
            counts[1] += 1
            log.debug("%s: already present, skipped", dest / name)
            return dest / name
    refusals = []
    for name in spellings:
        try:
            _fetch(session, f"{mirror}/{quote(name)}", dest / name, pins.get(name), counts,
                   file_list_check(role))
            return dest / name
        except HTTPRefused as error:
            if error.status != 404:
                raise
            refusals.append(error.url)
    raise DownloadRefused(
        f"{mirror}: no {role} file list on the mirror (HTTP 404 for {' and '.join(refusals)}); "
        f"data.mirror must hold the original layout (AllCSV/ and the two .h5 file lists)"
    )


def _complete(target: Path, pin: Pin | None) -> bool:
    """Whether ``target`` needs no download: it matches its pin, or, unpinned, has no .part."""
    if not target.is_file():
        return False
    if pin is None:
        return not part_path(target).exists()
    problem = mismatch(target, pin)
    if problem:
        log.info("%s: %s; downloading it again", target, problem)
    return problem is None


def _fetch(
    session: requests.Session, url: str, target: Path, pin: Pin | None, counts: list[int],
    check: FileCheck,
) -> None:
    """Download one file unless already complete; counts[0] downloaded, counts[1] skipped."""
    if _complete(target, pin):
        counts[1] += 1
        log.debug("%s: already present, skipped", target)
        return
    download_file(session, url, target, expected_size=pin.size if pin else None,
                  expected_sha256=pin.sha256 if pin else None, check=check)
    counts[0] += 1


# --------------------------------------------------------------------------------------------
# Google Drive


def drive_instructions(folder: str, dest: Path, reason: str) -> str:
    """How to get the data when Google Drive refuses: manual download, or a mirror."""
    url = DRIVE_FOLDER_URL.format(folder=folder)
    where = Path(dest).as_posix()
    train, test = FILE_LIST_NAMES["train"][0], FILE_LIST_NAMES["test"][0]
    return (
        f"Cannot download the DeVries et al. (2018) data from Google Drive automatically: "
        f"{reason}.\n"
        f"Google's API needs authentication even for public folders, folder-listing tools see "
        f"at most ~50 files per folder (this one holds 199 slip-model CSV files), and unattended "
        f"downloads are often answered with a sign-in, quota or virus-scan page instead of the "
        f"file. Instead, either:\n"
        f"  1. open {url} in a browser and download the folder (\"Download all\", then unzip "
        f"every part) into {where}, keeping {CSV_DIR}/ and the two lists {train} and {test}, "
        f"so that {where}/{CSV_DIR}/<name>{CSV_SUFFIX} exists; then run\n"
        f"       dvc exp run -S data.source=local -S data.path={where}\n"
        f"     (or set data.source: local and data.path: {where} in params.yaml); or\n"
        f"  2. set data.mirror to a plain HTTPS mirror of that layout ({train}, {test} and "
        f"{CSV_DIR}/<name>{CSV_SUFFIX} under one URL)."
    )


def refuse_drive(session: requests.Session, folder: str, dest: Path) -> NoReturn:
    """Try the Drive folder page once, then raise DownloadRefused with the manual route.

    Listing a Drive folder needs authentication (or scraping a browser page that changes
    without notice), so even a reachable folder page ends here.
    """
    url = DRIVE_FOLDER_URL.format(folder=folder)
    try:
        response = session.get(url, timeout=TIMEOUT)
    except requests.RequestException as error:
        reason = f"could not reach {url} ({error})"
    else:
        response.close()
        if response.status_code >= 400:
            reason = f"{url} answered HTTP {response.status_code} {response.reason}".rstrip()
        else:
            reason = (f"{url} is only a web page for browsers, and a Drive folder cannot be "
                      f"listed or downloaded without authentication")
    log.debug("Google Drive: %s", reason)
    raise DownloadRefused(drive_instructions(folder, dest, reason))
