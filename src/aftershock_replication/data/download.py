"""Download DeVries et al.'s (2018) published data into the original layout (``layout.py``).

The data is a Google Drive folder (``data.drive_folder``) that cannot be fetched unattended:
Google's API needs authentication even for public folders, listing tools see at most ~50
files per folder (it holds 199 CSV files), and unauthenticated bulk downloads are often
answered with a sign-in, quota or virus-scan page instead of the file. So the Drive route
makes one honest attempt and then explains the manual way; a plain HTTP(S) copy of the layout
(``data.mirror``) is downloaded file by file, resumably, and checked against the sizes and
SHA-256 digests pinned in ``devries2018_manifest.json`` once those are pinned. Until then
(and for any file not pinned) a download is checked as far as HTTP allows: the length the
server states, a validator (ETag or Last-Modified) before resuming, a range request when no
length was stated, and the file's structure (CSV columns and rows, HDF5 lists).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn
from urllib.parse import quote

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from ..atomic import sha256_of, write_json
from ..errors import DownloadRefused, InputError
from ..params import DataParams
from ..progress import format_seconds, progress_bar, timed
from .layout import (
    CSV_DIR,
    CSV_SUFFIX,
    FILE_LIST_DATASETS,
    FILE_LIST_NAMES,
    ROLES,
    find_file_list,
    open_layout,
    read_file_list,
    slip_model_name,
)

log = logging.getLogger(__name__)

MANIFEST_PATH = Path(__file__).with_name("devries2018_manifest.json")
DRIVE_FOLDER_URL = "https://drive.google.com/drive/folders/{folder}"
PART_SUFFIX = ".part"
VALIDATOR_SUFFIX = ".json"  # beside the .part: the ETag or Last-Modified it was begun with
TIMEOUT = (15.0, 60.0)  # seconds: connect, and between two reads of the body
READ_BYTES = 64 << 10  # the most bytes of a body read (and held in memory) at a time
BACKOFF_SECONDS = 1.0  # first retry delay; doubles per consecutive fruitless attempt
MAX_BACKOFF_SECONDS = 30.0
USER_AGENT = "aftershock-replication/0.1 (python-requests)"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


class HTTPRefused(DownloadRefused):
    """The server answered a non-retryable HTTP error status (404, 403...) for a URL."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"{url}: the server answered HTTP {status} {reason}".rstrip())
        self.url, self.status = url, status


class _TransientError(Exception):
    """A failed attempt worth retrying: short body, 5xx/429, or an inconsistent range answer."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    # the body is read from urllib3 directly (``_arrived``), so its errors are not wrapped
    # into the requests ones above
    ProtocolError,
    ReadTimeoutError,
    SSLError,
    _TransientError,
)


@dataclass(frozen=True)
class Pin:
    """The pinned size and SHA-256 digest of one file of the layout."""

    size: int
    sha256: str


# --------------------------------------------------------------------------------------------
# Checksum manifest


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
        problem = _mismatch(root / relative, pin)
        if problem:
            problems.append(f"{relative}: {problem}")
    return problems


def _mismatch(path: Path, pin: Pin) -> str | None:
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


# --------------------------------------------------------------------------------------------
# One file


def part_path(target: Path) -> Path:
    """Where ``target`` is downloaded to before it is complete and verified."""
    return target.with_name(target.name + PART_SUFFIX)


def validator_path(target: Path) -> Path:
    """Where the validator (ETag or Last-Modified) of the response that began the ``.part``
    is kept, so that a later run resumes only onto the same remote file."""
    return target.with_name(target.name + PART_SUFFIX + VALIDATOR_SUFFIX)


def new_session() -> requests.Session:
    """An HTTP session identifying this package."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


FileCheck = Callable[[Path], None]  # raises InputError when a downloaded file is malformed


def download_file(
    session: requests.Session,
    url: str,
    target: Path,
    *,
    expected_size: int | None,
    expected_sha256: str | None,
    check: FileCheck | None = None,
    retries: int = 5,
    chunk: int = READ_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Download ``url`` to ``target`` via ``<target>.part``, resuming and retrying as needed.

    A kept ``.part`` is resumed with a Range request only when it is provably a prefix of
    the same remote file: an If-Range with the validator recorded when it was begun, or a
    pinned checksum that checks the result. Dropped connections and 5xx answers are retried
    with a doubling delay (``retries`` consecutive fruitless attempts at most). The body is
    written as it arrives, at most ``chunk`` bytes at a time, so an attempt cut short keeps
    every byte it received, and one that received any resets that count; a body that ends
    without a stated length is followed by a range request that proves nothing is missing.
    An HTML or content-coded answer raises DownloadRefused. The finished file is checked
    against the pins when given, otherwise by ``check`` (its structure); a failure downloads
    it once more from the start, a second one deletes it and raises InputError. Only a
    verified file is renamed to ``target``, so nothing incomplete ever appears there.
    """
    target = Path(target)
    part = part_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pinned = expected_sha256 is not None
    for round_ in (1, 2):
        _transfer(session, url, target, expected_size, pinned, retries, chunk, sleep)
        problem = _problem(part, expected_size, expected_sha256, check)
        if problem is None:
            break
        _discard(target)
        if round_ == 2:
            raise InputError(
                f"{target}: the download from {url} failed verification twice ({problem}); "
                f"it was deleted. Check the mirror, or download the file by hand."
            )
        log.warning("%s: the downloaded file failed verification (%s); downloading it again "
                    "from the start", url, problem)
    validator_path(target).unlink(missing_ok=True)
    os.replace(part, target)
    log.info("downloaded %s (%s bytes) in %s", target, f"{target.stat().st_size:,}",
             format_seconds(time.perf_counter() - start))


def _transfer(
    session: requests.Session, url: str, target: Path, expected_size: int | None,
    pinned: bool, retries: int, chunk: int, sleep: Callable[[float], None],
) -> None:
    """Attempts until ``.part`` holds the whole remote file (or all that can be told of it)."""
    part = part_path(target)
    failures = 0
    while True:
        before = _size(part)
        try:
            if _attempt(session, url, target, expected_size, pinned, chunk):
                return
            # a body without a stated length: ask again for what may follow, as long as
            # asking brings bytes (a server that sends nothing more is a failed attempt)
            if _size(part) > before:
                failures = 0
                continue
            raise _TransientError(f"no bytes after the {_size(part)} received")
        except TRANSIENT_ERRORS as error:
            failures = 1 if _size(part) > before else failures + 1  # progress resets the count
            if failures > retries:
                times = "once" if failures == 1 else f"{failures} times in a row"
                raise DownloadRefused(
                    f"{url}: the download failed {times} ({error}); "
                    f"{_size(part)} bytes are kept in {part} and a re-run resumes from there"
                ) from error
            delay = min(BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            log.warning("%s: %s; retrying in %s (%d/%d)", url, error,
                        format_seconds(delay), failures, retries)
            sleep(delay)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _discard(target: Path) -> None:
    """Delete a download in progress: its ``.part`` and the validator it was begun with."""
    part_path(target).unlink(missing_ok=True)
    validator_path(target).unlink(missing_ok=True)


def _validator_of(response: requests.Response) -> str | None:
    """What proves a later response is of the same file: a strong ETag, else Last-Modified."""
    etag = response.headers.get("ETag", "").strip()
    if etag and not etag.startswith("W/"):  # a weak ETag may not be used in If-Range
        return etag
    return response.headers.get("Last-Modified", "").strip() or None


def _read_validator(target: Path, url: str) -> str | None:
    """The validator recorded for ``target``'s ``.part`` if it was begun from ``url``."""
    try:
        record = json.loads(validator_path(target).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("url") != url:
        return None
    validator = record.get("validator")
    return validator if isinstance(validator, str) and validator else None


def _attempt(
    session: requests.Session, url: str, target: Path, expected_size: int | None,
    pinned: bool, chunk: int,
) -> bool:
    """One request: append the rest of the file to ``.part`` (or rewrite it from the start).

    Returns True when ``.part`` is known to hold the whole file (its stated length arrived,
    the server has nothing after it, or the pinned size is reached), False when the body
    ended without a stated length, so that the next attempt asks for what may follow.
    """
    part = part_path(target)
    have = _size(part)
    if expected_size is not None and have > expected_size:
        log.info("%s: discarding %s, longer than the expected %d bytes", url, part, expected_size)
        _discard(target)
        have = 0
    validator = _read_validator(target, url) if have else None
    if have and validator is None and not pinned:
        log.warning("%s: %s was not begun from this URL with a validator (ETag or "
                    "Last-Modified), so it cannot be proven a prefix of the remote file; "
                    "downloading from the start", url, part)
        _discard(target)
        have = 0
    headers = {"Accept-Encoding": "identity"}  # byte ranges and lengths of the file itself
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator:
            headers["If-Range"] = validator  # a changed file is sent whole (200), not spliced
    with session.get(url, headers=headers, stream=True, timeout=TIMEOUT) as response:
        status = response.status_code
        content_range = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if status == 416 and have:
            total = content_range.group(3) if content_range else "*"
            if total in ("*", str(have)):
                log.debug("%s: %s already holds the whole file", url, part)
                return True
            _discard(target)
            raise _TransientError(
                f"the file has {total} bytes, fewer than the {have} kept; restarting"
            )
        if status in RETRY_STATUSES:
            raise _TransientError(f"HTTP {status} {response.reason}")
        if status not in (200, 206):
            raise HTTPRefused(url, status, response.reason or "")
        _reject_unusable(response, url)
        if status == 206:
            first = content_range.group(1) if content_range else None
            answered = _validator_of(response)
            if first != str(have) or (validator and answered and answered != validator):
                _discard(target)
                raise _TransientError(
                    f"the server answered the resume request with a range starting at {first} "
                    f"of {answered or 'an unidentified file'}, not at {have} of {validator}; "
                    f"restarting"
                )
            mode = "ab"
        else:
            if have:
                log.info("%s: the server sent the whole file (changed, or resuming is not "
                         "supported); restarting from zero", url)
            mode, have = "wb", 0
        length = _content_length(response)
        total = have + length if length is not None else expected_size
        received = 0
        with part.open(mode) as out, progress_bar(total, desc=target.name, unit="B") as bar:
            if mode == "wb":  # only once the old bytes are gone: never old bytes, new validator
                _record_validator(target, url, _validator_of(response))
            bar.update(have)
            for block in _arrived(response, chunk):
                out.write(block)
                received += len(block)
                bar.update(len(block))
        if length is not None:
            if received < length:
                raise _TransientError(
                    f"the connection closed after {received} of {length} bytes"
                )
            return True
        ranges_ignored = mode == "wb" and "Range" in headers  # asking again resends it all
        if not ranges_ignored and expected_size is not None:
            return have + received >= expected_size  # short: resume; the pin checks the end
        if not ranges_ignored and (mode == "ab" or _read_validator(target, url)):
            return False  # ask, with a range proven to be of this file, what follows
        # no stated length, and either no validator to ask with or byte ranges ignored:
        # asking again cannot tell more, so the file's structure is all that is left
        log.warning("%s: the server states no length and cannot be asked for the rest, so "
                    "only the file's structure can show that it arrived whole", url)
        return True


def _arrived(response: requests.Response, size: int) -> Iterator[bytes]:
    """The body's own bytes (not decoded) as they arrive, at most ``size`` at a time.

    Not ``iter_content``: it (like urllib3's ``read`` and ``stream``) returns a block only
    once it is full, and a connection that drops while one is being filled raises and loses
    what was already read into it, so a server that always drops before a block is full
    never lets ``.part`` grow. ``read1`` returns what has arrived (one socket read at most),
    so every byte is handed over, and written, before a read can fail.
    """
    while block := response.raw.read1(size, decode_content=False):
        yield block


def _record_validator(target: Path, url: str, validator: str | None) -> None:
    """Keep the validator of the response that begins ``.part`` (or forget an older one)."""
    if validator is None:
        validator_path(target).unlink(missing_ok=True)
    else:
        write_json(validator_path(target), {"url": url, "validator": validator})


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def _reject_unusable(response: requests.Response, url: str) -> None:
    """Refuse an answer that is not the file's own bytes: a web page where a data file was
    expected (Google's warning/sign-in pages), or a content-coded body, whose lengths and
    byte ranges are not those of the file (``Accept-Encoding: identity`` asked for none)."""
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise DownloadRefused(
            f"{url}: the server sent the file {coding}-encoded although only its own bytes "
            f"(Accept-Encoding: identity) were asked for; use another mirror"
        )
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise DownloadRefused(
            f"{url}: the server sent a web page ({content_type}) instead of the file, typically "
            f"a sign-in, quota-exceeded or virus-scan warning page; download the file in a "
            f"browser or use another mirror"
        )


def _problem(
    part: Path, expected_size: int | None, expected_sha256: str | None,
    check: FileCheck | None,
) -> str | None:
    """Why the finished download cannot be accepted, or None: pins first, else its structure."""
    if expected_size is not None and expected_sha256 is not None:
        return _mismatch(part, Pin(expected_size, expected_sha256.lower()))
    size = _size(part)
    if expected_size is not None and size != expected_size:
        return f"expected {expected_size} bytes, got {size}"
    if expected_sha256 is not None:
        digest = sha256_of(part)
        return None if digest == expected_sha256.lower() else \
            f"expected sha256 {expected_sha256.lower()}, got {digest}"
    if check is not None:
        try:
            check(part)
        except InputError as error:
            return str(error)
    return None


def check_slip_model_csv(path: Path) -> None:
    """A downloaded slip-model CSV must parse as the features stage will read it."""
    from .slip_csv import read_slip_model_csv  # pyarrow: only when a CSV is downloaded

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
                if (why := _mismatch(dest / rel, pin))]
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
    problem = _mismatch(target, pin)
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


def pin_checksums_stage(params: dict[str, Any], root: Path, out: Path) -> None:
    """Pin sizes and SHA-256 of a verified copy of the published data (for maintainers).

    inputs:  root, the published layout (data/original).
    outputs: out, the manifest that data.source=devries2018 verifies downloads against
             (src/aftershock_replication/data/devries2018_manifest.json).
    params:  none
    """
    manifest = pin_checksums(Path(root))
    write_json(out, manifest)
    log.info("pinned %d files into %s", len(manifest["files"]), out)
