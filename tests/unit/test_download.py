"""Downloading the published layout: resumable, verified downloads from a local HTTP mirror.

A ThreadingHTTPServer on 127.0.0.1 serves a tiny layout with switches for dropped
connections, ignored Range headers, HTML pages and error statuses; Google Drive is replaced
by a fake session, so nothing here touches the internet.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from aftershock_replication.atomic import write_json
from aftershock_replication.data import pins, transfer
from aftershock_replication.data.layout import (
    LABEL_COLUMN,
    STRESS_COLUMNS,
    open_layout,
    write_file_list,
)
from aftershock_replication.data.pins import (
    MANIFEST_PATH,
    load_manifest,
    pin_checksums,
    verify_against_manifest,
)
from aftershock_replication.data.published import fetch_devries2018
from aftershock_replication.data.transfer import download_file
from aftershock_replication.errors import DownloadRefused, InputError
from aftershock_replication.params import DataParams

TRAIN = ["2001AAAAAA01AUTH_grid.csv", "2002BBBBBB01AUTH_grid.csv"]
TEST = ["2003CCCCCC01AUTH"]  # a bare name: the CSV is still <name>_grid.csv
CSVS = ["AllCSV/2001AAAAAA01AUTH_grid.csv", "AllCSV/2002BBBBBB01AUTH_grid.csv",
        "AllCSV/2003CCCCCC01AUTH_grid.csv"]
LISTS = ["Training_FileNames.h5", "Testing_FileNames.h5"]
FOLDER = "FOLDERID123"


@dataclass
class Mirror:
    """What the test server serves and how it misbehaves; it records every request."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str | None, int]] = field(default_factory=list)
    drop: dict[str, int] = field(default_factory=dict)  # path -> times to cut the body short
    drop_fraction: float = 0.5
    drop_limit: int | None = None  # and at most this many bytes of it
    fail: dict[str, int] = field(default_factory=dict)  # path -> times to answer 503 (after drops)
    html: set[str] = field(default_factory=set)  # paths answered with a sign-in page
    ignore_range: bool = False
    omit_length: bool = False  # no Content-Length: the body ends when the connection closes
    validators: bool = True  # send ETag and Last-Modified, and honour If-Range
    content_coding: str | None = None  # a Content-Encoding header on the files served
    # path -> new content, written to the served file after its first request (a new ETag)
    change: dict[str, bytes] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]


class Handler(BaseHTTPRequestHandler):
    """GET with single open-ended byte ranges (``bytes=N-``), plus the Mirror's switches."""

    server: Any

    def do_GET(self) -> None:
        mirror: Mirror = self.server.mirror
        path = unquote(self.path.split("?")[0])
        ranged = self.headers.get("Range")
        if mirror.fail.get(path, 0) > 0 and not mirror.drop.get(path, 0):  # drops come first
            mirror.fail[path] -= 1
            return self._answer(path, ranged, 503, b"busy", "text/plain")
        if path in mirror.html:
            return self._answer(path, ranged, 200, b"<html>Sign in</html>", "text/html")
        file = mirror.root / path.lstrip("/")
        if not file.is_file():
            return self._answer(path, ranged, 404, b"not found", "text/plain")
        body = file.read_bytes()
        start, status, extra = 0, 200, {}
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if mirror.validators:
            extra = {"ETag": etag, "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True)}
        if mirror.content_coding:
            extra["Content-Encoding"] = mirror.content_coding
        if path in mirror.change:
            file.write_bytes(mirror.change.pop(path))  # served from the next request on
        if_range = self.headers.get("If-Range")
        same_file = if_range is None or (mirror.validators and if_range == etag)
        if ranged and same_file and not mirror.ignore_range:  # a changed file is sent whole
            start = int(re.fullmatch(r"bytes=(\d+)-", ranged).group(1))
            if start >= len(body):
                return self._answer(path, ranged, 416, b"", "text/plain",
                                    {"Content-Range": f"bytes */{len(body)}"})
            status = 206
            extra["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        payload = body[start:]
        if mirror.drop.get(path, 0) > 0:
            mirror.drop[path] -= 1
            # Promise the whole body, send part of it, then close the connection.
            cut = int(len(payload) * mirror.drop_fraction)
            if mirror.drop_limit is not None:
                cut = min(cut, mirror.drop_limit)
            self._answer(path, ranged, status, payload, "text/csv", extra, send=payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            return None
        return self._answer(path, ranged, status, payload, "text/csv", extra)

    def _answer(self, path: str, ranged: str | None, status: int, body: bytes,
                content_type: str, extra: dict[str, str] | None = None,
                send: bytes | None = None) -> None:
        self.server.mirror.requests.append((path, ranged, status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if not self.server.mirror.omit_length:
            self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body if send is None else send)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def csv_bytes(seed: int) -> bytes:
    """About 16 KB of distinct slip-model CSV text (the columns the features stage reads)."""
    header = ",".join(["x", "y", *STRESS_COLUMNS, LABEL_COLUMN])
    rows = [",".join([str(seed), str(i), *(str((i * 7919 + seed * k) % 1000) for k in
                                           range(1, 7)), str(i % 2)]) for i in range(400)]
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def build_layout(root: Path) -> None:
    (root / "AllCSV").mkdir(parents=True)
    for seed, relative in enumerate(CSVS):
        (root / relative).write_bytes(csv_bytes(seed))
    write_file_list(root / LISTS[0], "file_names_training", TRAIN)
    write_file_list(root / LISTS[1], "file_names_testing", TEST)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    root = tmp_path / "mirror"
    build_layout(root)
    served = Mirror(root=root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.mirror = served  # type: ignore[attr-defined]
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer, "BACKOFF_SECONDS", 0.0)


def params(mirror_url: str = "", dest: Path = Path("data/original")) -> DataParams:
    return DataParams(source="devries2018", path=dest, mirror=mirror_url, drive_folder=FOLDER)


def leftovers(root: Path) -> list[Path]:
    """Downloads in progress: ``.part`` files and the validators recorded beside them."""
    return sorted(root.rglob("*.part*"))


# --------------------------------------------------------------------------------------------
# Mirror


def test_fetch_brings_the_whole_layout(mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "data" / "original"
    assert fetch_devries2018(params(mirror.url), dest, manifest={"files": {}}) == dest
    layout = open_layout(dest)
    assert layout.names == {"train": ["2001AAAAAA01AUTH", "2002BBBBBB01AUTH"],
                            "test": ["2003CCCCCC01AUTH"]}
    for relative in LISTS + CSVS:
        assert (dest / relative).read_bytes() == (mirror.root / relative).read_bytes()
    assert mirror.paths()[:2] == [f"/{name}" for name in LISTS]  # the lists come first
    assert sorted(mirror.paths()) == sorted(f"/{name}" for name in LISTS + CSVS)
    assert leftovers(dest) == []


def test_rerun_downloads_nothing_and_pins_catch_a_corrupt_file(
    mirror: Mirror, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert len(mirror.requests) == 5
    mirror.requests.clear()
    with caplog.at_level("DEBUG", logger="aftershock_replication"):
        fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert mirror.requests == []
    assert caplog.text.count("already present, skipped") == 5

    pinned = pin_checksums(mirror.root)
    fetch_devries2018(params(mirror.url), dest, manifest=pinned)
    assert mirror.requests == []

    # Same size, other bytes: only the pins can tell, and only that file is fetched again.
    corrupt = dest / CSVS[1]
    corrupt.write_bytes(corrupt.read_bytes().replace(b"x,y", b"X,Y"))
    fetch_devries2018(params(mirror.url), dest, manifest=pinned)
    assert mirror.paths() == [f"/{CSVS[1]}"]
    assert corrupt.read_bytes() == (mirror.root / CSVS[1]).read_bytes()


def test_an_interrupted_run_resumes_from_its_part_file(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    dest = tmp_path / "original"
    source = (mirror.root / CSVS[2]).read_bytes()
    mirror.drop[f"/{CSVS[2]}"] = 1  # half the file arrives, then the server goes down
    mirror.fail[f"/{CSVS[2]}"] = 100
    with pytest.raises(DownloadRefused, match="re-run resumes"):
        download_file(http, f"{mirror.url}/{CSVS[2]}", dest / CSVS[2], expected_size=None,
                      expected_sha256=None, chunk=256, retries=2, sleep=lambda _: None)
    kept = (dest / (CSVS[2] + ".part")).read_bytes()
    assert 0 < len(kept) < len(source) and source.startswith(kept)
    assert not (dest / CSVS[2]).exists()

    mirror.fail.clear()
    mirror.requests.clear()
    fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    resumed = [request for request in mirror.requests if request[0] == f"/{CSVS[2]}"]
    assert resumed == [(f"/{CSVS[2]}", f"bytes={len(kept)}-", 206)]
    assert (dest / CSVS[2]).read_bytes() == source
    assert leftovers(dest) == []


def test_download_resumes_with_a_range_after_a_dropped_connection(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    source = (mirror.root / CSVS[0]).read_bytes()
    mirror.drop[f"/{CSVS[0]}"] = 1
    target = tmp_path / "out" / "a_grid.csv"
    sleeps: list[float] = []
    download_file(http, f"{mirror.url}/{CSVS[0]}", target, expected_size=len(source),
                  expected_sha256=hashlib.sha256(source).hexdigest(), chunk=256,
                  sleep=sleeps.append)
    assert target.read_bytes() == source
    assert len(sleeps) == 1
    (first, first_range, _), (second, second_range, status) = mirror.requests
    assert first == second == f"/{CSVS[0]}"
    assert first_range is None
    resumed_at = int(re.fullmatch(r"bytes=(\d+)-", second_range).group(1))
    assert 0 < resumed_at <= len(source) // 2
    assert status == 206
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("ignore_range", [False, True])
def test_fetch_survives_a_dropped_connection(
    mirror: Mirror, tmp_path: Path, ignore_range: bool
) -> None:
    mirror.ignore_range = ignore_range
    mirror.drop[f"/{CSVS[1]}"] = 1
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest=pin_checksums(mirror.root))
    assert (dest / CSVS[1]).read_bytes() == (mirror.root / CSVS[1]).read_bytes()
    assert mirror.paths().count(f"/{CSVS[1]}") == 2
    assert leftovers(dest) == []


def test_a_part_file_of_unknown_origin_is_not_resumed(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    source = (mirror.root / CSVS[0]).read_bytes()
    target = tmp_path / "a_grid.csv"
    (tmp_path / "a_grid.csv.part").write_bytes(b"y" * 5000)  # garbage left by something else
    download_file(http, f"{mirror.url}/{CSVS[0]}", target, expected_size=None,
                  expected_sha256=None)
    assert mirror.requests == [(f"/{CSVS[0]}", None, 200)]
    assert target.read_bytes() == source
    assert leftovers(tmp_path) == []


def test_a_complete_part_file_is_finished_on_416(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    source = (mirror.root / CSVS[0]).read_bytes()
    target = tmp_path / "a_grid.csv"
    (tmp_path / "a_grid.csv.part").write_bytes(source)
    download_file(http, f"{mirror.url}/{CSVS[0]}", target, expected_size=len(source),
                  expected_sha256=hashlib.sha256(source).hexdigest())
    assert mirror.requests == [(f"/{CSVS[0]}", f"bytes={len(source)}-", 416)]
    assert target.read_bytes() == source
    assert leftovers(tmp_path) == []


def test_server_errors_are_retried_with_a_doubling_backoff(
    mirror: Mirror, http: requests.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "BACKOFF_SECONDS", 1.0)
    mirror.fail[f"/{CSVS[0]}"] = 2
    sleeps: list[float] = []
    target = tmp_path / "a_grid.csv"
    download_file(http, f"{mirror.url}/{CSVS[0]}", target, expected_size=None,
                  expected_sha256=None, sleep=sleeps.append)
    assert sleeps == [1.0, 2.0]
    assert target.read_bytes() == (mirror.root / CSVS[0]).read_bytes()


def test_giving_up_keeps_the_part_but_no_final_file(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    url = f"{mirror.url}/{CSVS[0]}"
    mirror.drop[f"/{CSVS[0]}"] = 100
    mirror.drop_fraction = 0.0  # no progress at all, so every retry counts
    target = tmp_path / "a_grid.csv"
    with pytest.raises(DownloadRefused, match=re.escape(url)):
        download_file(http, url, target, expected_size=None, expected_sha256=None, retries=2,
                      sleep=lambda _: None)
    assert len(mirror.requests) == 3
    assert not target.exists()


def requests_for(mirror: Mirror, relative: str) -> list[tuple[str | None, int]]:
    """(Range header, status) of every request for one file, in order."""
    return [(ranged, status) for path, ranged, status in mirror.requests
            if path == f"/{relative}"]


BIG = "big.bin"  # on the mirror: 3 MiB, three of the 1 MiB blocks the body was once read in
CUT = 400_000  # bytes: where the server broke off every answer, under one such block


def big_file(mirror: Mirror) -> bytes:
    """Serve BIG, cut after CUT bytes of every answer (of the range asked for); its content."""
    content = random.Random(31).randbytes(3 << 20)
    (mirror.root / BIG).write_bytes(content)
    mirror.drop[f"/{BIG}"], mirror.drop_fraction, mirror.drop_limit = 1000, 1.0, CUT
    return content


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "validator"])
def test_a_connection_that_always_drops_early_still_progresses(
    mirror: Mirror, http: requests.Session, tmp_path: Path, pinned: bool
) -> None:
    # the case: every attempt received CUT bytes and kept none, so it never ended
    source = big_file(mirror)
    target = tmp_path / BIG
    download_file(http, f"{mirror.url}/{BIG}", target,
                  expected_size=len(source) if pinned else None,
                  expected_sha256=hashlib.sha256(source).hexdigest() if pinned else None,
                  retries=1, sleep=lambda _: None)
    assert target.read_bytes() == source
    # each attempt keeps its CUT bytes and the next resumes after them (If-Range: the same file)
    resumes = [(f"bytes={start}-", 206) for start in range(CUT, len(source), CUT)]
    assert requests_for(mirror, BIG) == [(None, 200), *resumes]
    assert len(resumes) + 1 == 8
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("down", "retries", "times"), [
    (False, 0, "once"),  # the first attempt is the only one
    (True, 2, "3 times in a row"),  # the server goes down after the cut answer
], ids=["no-retries", "server-down"])
def test_giving_up_keeps_every_byte_received(
    mirror: Mirror, http: requests.Session, tmp_path: Path, down: bool, retries: int,
    times: str,
) -> None:
    source = big_file(mirror)
    mirror.drop[f"/{BIG}"] = 1
    mirror.fail[f"/{BIG}"] = 100 if down else 0
    url, target, part = f"{mirror.url}/{BIG}", tmp_path / BIG, tmp_path / f"{BIG}.part"
    with pytest.raises(DownloadRefused) as raised:
        download_file(http, url, target, expected_size=None, expected_sha256=None,
                      retries=retries, sleep=lambda _: None)
    assert part.read_bytes() == source[:CUT]
    assert f"the download failed {times} (" in str(raised.value)
    assert f"; {CUT} bytes are kept in {part} and a re-run resumes" in str(raised.value)
    assert not target.exists()

    mirror.fail.clear()  # a re-run resumes with a range of the same file, proven by If-Range
    download_file(http, url, target, expected_size=None, expected_sha256=None)
    assert requests_for(mirror, BIG)[-1] == (f"bytes={CUT}-", 206)
    assert target.read_bytes() == source
    assert leftovers(tmp_path) == []


def test_a_content_coded_answer_is_refused(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    # its lengths and byte ranges would be of the coded bytes, not of the file
    mirror.content_coding = "gzip"
    url, target = f"{mirror.url}/{CSVS[0]}", tmp_path / "a_grid.csv"
    with pytest.raises(DownloadRefused, match=re.escape(f"{url}: the server sent the file gzip")):
        download_file(http, url, target, expected_size=None, expected_sha256=None)
    assert len(mirror.requests) == 1  # not retried
    assert not target.exists() and leftovers(tmp_path) == []


def test_a_body_without_length_cut_short_is_completed(mirror: Mirror, tmp_path: Path) -> None:
    # the case: no Content-Length, the connection drops after 5,000 bytes
    source = (mirror.root / CSVS[1]).read_bytes()
    mirror.omit_length = True
    mirror.drop[f"/{CSVS[1]}"] = 1
    mirror.drop_fraction = 5000 / len(source)
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert (dest / CSVS[1]).read_bytes() == source
    # the short body is followed by a range request, and a last one proves nothing follows
    assert requests_for(mirror, CSVS[1]) == [
        (None, 200), ("bytes=5000-", 206), (f"bytes={len(source)}-", 416)]
    assert leftovers(dest) == []


def test_without_lengths_or_validators_the_structure_catches_a_cut(
    mirror: Mirror, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = (mirror.root / CSVS[0]).read_bytes()
    mirror.omit_length, mirror.validators = True, False
    mirror.drop[f"/{CSVS[0]}"] = 1
    mirror.drop_fraction = 0.37  # inside a row
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert (dest / CSVS[0]).read_bytes() == source
    assert requests_for(mirror, CSVS[0]) == [(None, 200), (None, 200)]  # again from the start
    assert "failed verification" in caplog.text and "only the file's structure" in caplog.text

    mirror.drop[f"/{CSVS[0]}"] = 100  # cut every time: refused, nothing left behind
    mirror.requests.clear()
    other = tmp_path / "other"
    with pytest.raises(InputError, match="failed verification twice") as raised:
        fetch_devries2018(params(mirror.url), other, manifest={"files": {}})
    assert str(other / CSVS[0]) in str(raised.value)
    assert len(requests_for(mirror, CSVS[0])) == 2
    assert not (other / CSVS[0]).exists() and leftovers(other) == []


def test_a_file_changed_between_attempts_is_not_spliced(
    mirror: Mirror, http: requests.Session, tmp_path: Path
) -> None:
    old = (mirror.root / CSVS[0]).read_bytes()
    new = csv_bytes(99)
    assert len(new) >= len(old) // 2 and new != old
    mirror.drop[f"/{CSVS[0]}"] = 1
    mirror.change[f"/{CSVS[0]}"] = new  # the mirror is updated after the first request
    target = tmp_path / "a_grid.csv"
    download_file(http, f"{mirror.url}/{CSVS[0]}", target, expected_size=None,
                  expected_sha256=None, chunk=256, sleep=lambda _: None)
    assert target.read_bytes() == new
    (_, first), (resumed, status) = requests_for(mirror, CSVS[0])
    assert first == 200 and resumed is not None and status == 200  # If-Range: sent whole
    assert leftovers(tmp_path) == []


def test_with_pins_a_bad_part_file_is_retried_not_fatal(mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "original"
    (dest / "AllCSV").mkdir(parents=True)
    (dest / (CSVS[1] + ".part")).write_bytes(b"y" * 5000)  # garbage, but shorter than pinned
    fetch_devries2018(params(mirror.url), dest, manifest=pin_checksums(mirror.root))
    for relative in CSVS:
        assert (dest / relative).read_bytes() == (mirror.root / relative).read_bytes()
    # resumed (the pin checks the result), refused by the digest, fetched again whole
    assert requests_for(mirror, CSVS[1]) == [("bytes=5000-", 206), (None, 200)]
    assert leftovers(dest) == []


def test_with_pins_a_short_body_without_length_is_resumed(
    mirror: Mirror, tmp_path: Path
) -> None:
    source = (mirror.root / CSVS[2]).read_bytes()
    mirror.omit_length = True
    mirror.drop[f"/{CSVS[2]}"] = 1
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest=pin_checksums(mirror.root))
    assert (dest / CSVS[2]).read_bytes() == source
    assert requests_for(mirror, CSVS[2]) == [(None, 200), (f"bytes={len(source) // 2}-", 206)]


def test_with_pins_a_server_that_always_cuts_and_ignores_ranges_is_given_up(
    mirror: Mirror, tmp_path: Path
) -> None:
    # no length, no ranges, every body cut short: each attempt starts from zero and ends
    # short, which must end in a clear error, not an endless loop
    mirror.omit_length, mirror.ignore_range = True, True
    mirror.drop[f"/{CSVS[2]}"] = 1000
    dest = tmp_path / "original"
    with pytest.raises(InputError, match="failed verification twice") as raised:
        fetch_devries2018(params(mirror.url), dest, manifest=pin_checksums(mirror.root))
    assert CSVS[2].split("/")[1] in str(raised.value)
    assert len(requests_for(mirror, CSVS[2])) == 4  # two rounds of: short body, ranged ask
    assert not (dest / CSVS[2]).exists() and leftovers(dest) == []


def test_an_empty_manifest_is_announced_once_per_run(
    mirror: Mirror, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fetch_devries2018(params(mirror.url), tmp_path / "a", manifest={"files": {}})
    assert caplog.text.count("CHECKSUM MANIFEST IS EMPTY") == 1
    caplog.clear()
    fetch_devries2018(params(mirror.url), tmp_path / "b", manifest=pin_checksums(mirror.root))
    assert "CHECKSUM MANIFEST IS EMPTY" not in caplog.text


@pytest.mark.parametrize(("relative", "content", "expected"), [
    (LISTS[0], b"not an HDF5 file", "not a readable HDF5 file"),
    (CSVS[2], b"x,y,aftershocksyn\n1,2,0\n", "missing required column(s) stresses_full_xx"),
], ids=["file-list", "csv-columns"])
def test_an_unpinned_file_of_the_wrong_structure_is_refused(
    mirror: Mirror, tmp_path: Path, relative: str, content: bytes, expected: str
) -> None:
    (mirror.root / relative).write_bytes(content)
    dest = tmp_path / "original"
    with pytest.raises(InputError) as raised:
        fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    message = str(raised.value)
    assert str(dest / relative) in message and expected in message
    assert not (dest / relative).exists() and leftovers(dest) == []


@pytest.mark.parametrize("field_name", ["sha256", "size"])
def test_a_wrong_pin_deletes_the_download(
    mirror: Mirror, tmp_path: Path, field_name: str
) -> None:
    manifest = pin_checksums(mirror.root)
    entry = manifest["files"][CSVS[2]]
    actual = dict(entry)
    entry[field_name] = "0" * 64 if field_name == "sha256" else entry["size"] + 1
    dest = tmp_path / "original"
    with pytest.raises(InputError) as raised:
        fetch_devries2018(params(mirror.url), dest, manifest=manifest)
    message = str(raised.value)
    assert CSVS[2].split("/")[1] in message
    assert str(entry[field_name]) in message and str(actual[field_name]) in message
    assert not (dest / CSVS[2]).exists()
    assert leftovers(dest) == []


def test_an_html_page_is_refused(mirror: Mirror, http: requests.Session, tmp_path: Path) -> None:
    url = f"{mirror.url}/{CSVS[0]}"
    mirror.html.add(f"/{CSVS[0]}")
    target = tmp_path / "a_grid.csv"
    with pytest.raises(DownloadRefused, match=re.escape(url)):
        download_file(http, url, target, expected_size=None, expected_sha256=None)
    assert len(mirror.requests) == 1  # not retried
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_missing_file_names_its_url(mirror: Mirror, tmp_path: Path) -> None:
    (mirror.root / CSVS[1]).unlink()
    dest = tmp_path / "original"
    with pytest.raises(DownloadRefused, match=re.escape(f"{mirror.url}/{CSVS[1]}")) as raised:
        fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert "404" in str(raised.value)
    assert mirror.paths().count(f"/{CSVS[1]}") == 1  # not retried
    assert not (dest / CSVS[1]).exists()


def test_the_other_spelling_of_a_file_list_is_accepted(mirror: Mirror, tmp_path: Path) -> None:
    (mirror.root / LISTS[0]).rename(mirror.root / "Training_Filenames.h5")
    dest = tmp_path / "original"
    fetch_devries2018(params(mirror.url), dest, manifest={"files": {}})
    assert open_layout(dest).names["train"] == ["2001AAAAAA01AUTH", "2002BBBBBB01AUTH"]

    (mirror.root / "Training_Filenames.h5").unlink()
    with pytest.raises(DownloadRefused, match=re.escape("Training_Filenames.h5")):
        fetch_devries2018(params(mirror.url), tmp_path / "other", manifest={"files": {}})


# --------------------------------------------------------------------------------------------
# Google Drive


class FakeSession(requests.Session):
    """Answers every request with a canned response or exception, recording the URLs."""

    def __init__(self, answer: requests.Response | Exception) -> None:
        super().__init__()
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls.append((method, url))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def response(status: int, content_type: str, body: bytes) -> requests.Response:
    made = requests.Response()
    made.status_code, made.reason, made._content = status, "", body
    made._content_consumed = True  # as after requests has read the body
    made.headers["Content-Type"] = content_type
    return made


@pytest.mark.parametrize("answer", [
    response(200, "text/html; charset=utf-8", b"<html>Google Drive</html>"),
    response(403, "text/html", b"<html>Sign in</html>"),
    requests.exceptions.ConnectionError("Name or service not known"),
], ids=["folder-page", "forbidden", "offline"])
def test_google_drive_refusal_explains_the_manual_route(
    answer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    session = FakeSession(answer)
    drive = f"https://drive.google.com/drive/folders/{FOLDER}"
    with pytest.raises(DownloadRefused) as raised:
        fetch_devries2018(params(), Path("data/original"), session=session,
                          manifest={"files": {}})
    message = str(raised.value)
    assert session.calls == [("GET", drive)]
    assert drive in message
    assert "data/original" in message
    assert "dvc exp run -S data.source=local -S data.path=data/original" in message
    assert "data.mirror" in message
    assert not (tmp_path / "data").exists()


def test_a_complete_manual_download_needs_no_drive(mirror: Mirror, tmp_path: Path) -> None:
    dest = tmp_path / "original"
    shutil.copytree(mirror.root, dest)
    pinned = pin_checksums(mirror.root)
    offline = FakeSession(AssertionError("Google Drive must not be contacted"))
    assert fetch_devries2018(params(), dest, session=offline, manifest=pinned) == dest
    assert offline.calls == []

    (dest / CSVS[0]).write_bytes(b"truncated")  # fails its pin: back to the refusal
    refusing = FakeSession(requests.exceptions.ConnectionError("offline"))
    with pytest.raises(DownloadRefused, match=re.escape("data.source=local")):
        fetch_devries2018(params(), dest, session=refusing, manifest=pinned)
    assert len(refusing.calls) == 1


# --------------------------------------------------------------------------------------------
# Manifest


def test_pin_checksums_round_trip(mirror: Mirror, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(mirror.root, root)
    manifest = pin_checksums(root)
    assert sorted(manifest["files"]) == sorted(LISTS + CSVS)
    for relative, entry in manifest["files"].items():
        data = (root / relative).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    write_json(tmp_path / "manifest.json", manifest)
    assert load_manifest(tmp_path / "manifest.json") == manifest
    assert verify_against_manifest(root, manifest) == []

    (root / CSVS[0]).write_bytes((root / CSVS[0]).read_bytes().replace(b"x,y", b"X,Y"))
    (root / CSVS[1]).write_bytes(b"short")
    (root / CSVS[2]).unlink()
    problems = verify_against_manifest(root, manifest)
    assert len(problems) == 3
    assert problems[0].startswith(CSVS[0]) and "sha256" in problems[0]
    assert problems[1].startswith(CSVS[1]) and "5 bytes" in problems[1]
    assert problems[2] == f"{CSVS[2]}: missing"


def test_the_packaged_manifest_is_valid() -> None:
    assert MANIFEST_PATH.name == "devries2018_manifest.json"
    assert MANIFEST_PATH.parent == Path(pins.__file__).parent
    assert isinstance(load_manifest()["files"], dict)


@pytest.mark.parametrize("manifest", [
    {},
    {"files": []},
    {"files": {"AllCSV/a_grid.csv": {"size": 3}}},
    {"files": {"AllCSV/a_grid.csv": {"size": -1, "sha256": "0" * 64}}},
    {"files": {"AllCSV/a_grid.csv": {"size": 3, "sha256": "xyz"}}},
    {"files": {"../escape.csv": {"size": 3, "sha256": "0" * 64}}},
])
def test_malformed_manifests_are_rejected(manifest: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(InputError):
        verify_against_manifest(tmp_path, manifest)
