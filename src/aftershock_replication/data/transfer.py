"""Resumable, verified HTTP(S) transfer of one file (``download_file``).

A file arrives in ``<target>.part`` and is renamed to ``target`` only once verified: against
its pinned size and SHA-256 digest when the caller has them (``pins.py``), otherwise as far
as HTTP allows (the length the server states, a validator, ETag or Last-Modified, before
resuming, a range request when no length was stated) and by a check of the file's structure
that the caller passes. Dropped connections and 5xx answers are retried with a doubling
delay, resuming where the ``.part`` ends; a web page or a content-coded body instead of the
file's own bytes is refused (DownloadRefused).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from ..atomic import sha256_of, write_json
from ..errors import DownloadRefused, InputError
from ..progress import format_seconds, progress_bar
from .pins import Pin, mismatch

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
VALIDATOR_SUFFIX = ".json"  # beside the .part: the ETag or Last-Modified it was begun with
TIMEOUT = (15.0, 60.0)  # seconds: connect, and between two reads of the body
READ_BYTES = 64 << 10  # the most bytes of a body read (and held in memory) at a time
BACKOFF_SECONDS = 1.0  # first retry delay; doubles per consecutive fruitless attempt
MAX_BACKOFF_SECONDS = 30.0
USER_AGENT = "aftershock-replication/0.1 (python-requests)"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
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
        return mismatch(part, Pin(expected_size, expected_sha256.lower()))
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
