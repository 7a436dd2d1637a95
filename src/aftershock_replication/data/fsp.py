"""Read an SRCMOD finite-fault slip model (``.fsp``) as DeVries et al. (2018) read it.

The original pre-processing (Process-Srcmod-Files, ``Readsrcmod.py``, after Google's
stress_transfer) parses the text with regular expressions; this module parses the same
things the same way (header tags, ``NAME = number`` fields of which the first of a name
wins, segments split at ``% SEGMENT`` lines, subfaults grouped into rows down dip where Z
changes) but refuses a malformed file with an InputError naming the file, the line and what
was expected, where the original asserts or fails with a traceback. No maintained reader of
the format exists on PyPI.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

# 'Name : text' (the text ends at a tab or two spaces), as the original's TAGS_RE
TAG_RE = re.compile(r"(\w+)\s*:\s*((?:\S+ ?)+)")
# 'NAME = number', as the original's FIELDS_RE (spaces around '=' required)
FIELD_RE = re.compile(r"(\w+)\s+=\s+(-?\d+\.?\d*[eE]?[+-]?\d*)")
# any 'NAME = text', only to say what a field that is not a number gives
LOOSE_FIELD_RE = re.compile(r"(\w+)\s*=\s*(\S*)")
DATE_RE = re.compile(r"\d+/\d+/\d+")  # month/day/year; the first in the file is the date
COLUMNS_RE = re.compile(r"%\s+LAT\s+LON")  # the column-name line before a segment's subfaults
MULTI_SEGMENT = "% SEGMENT"  # starts each segment when Nsg > 1
SINGLE_SEGMENT = "% SOURCE MODEL PARAMETERS"  # starts the one segment when Nsg = 1
MODEL_STARTS = (MULTI_SEGMENT, SINGLE_SEGMENT)  # the header ends before either
REQUIRED_COLUMNS = ("LAT", "LON", "X", "Y", "Z", "SLIP")
LATITUDES, LONGITUDES = (-90.0, 90.0), (-180.0, 360.0)  # an epicentre's accepted ranges
SUBFAULT_LONGITUDES = (-180.0, 180.0)  # a subfault's, as the original asserts


@dataclass(frozen=True)
class FspHeader:
    """Tags, the first date and ``NAME = number`` fields of some lines of an ``.fsp`` file
    (its header, its whole text or a segment's), each the first of its name, with its
    1-based line; errors name ``where``."""

    where: Path
    first_line: int  # the first and last line scanned
    last_line: int
    tags: Mapping[str, tuple[str, int]]  # upper-cased name -> (text, line)
    fields: Mapping[str, tuple[str, int]]  # upper-cased name -> (number as written, line)
    loose: Mapping[str, tuple[str, int]]  # 'NAME = text' even where text is no number
    date_text: tuple[str, int] | None  # the first nn/nn/nnnn and its line

    @property
    def extent(self) -> str:
        """The lines scanned, for messages."""
        if self.last_line < self.first_line:
            return "an empty text"
        return f"lines {self.first_line}-{self.last_line}"

    @property
    def name(self) -> str:
        """The slip model's name: the EventTAG without the leading 's' of SRCMOD's tags
        (``s1992LANDER01COHE`` -> ``1992LANDER01COHE``)."""
        if "EVENTTAG" not in self.tags:
            raise InputError(f"{self.where}: not an SRCMOD .fsp header: no EventTAG line in "
                             f"{self.extent}; expected e.g. '% EventTAG: s1992LANDER01COHE'")
        tag = self.tags["EVENTTAG"][0].split()[0]
        return tag[1:] if tag[:1] == "s" and tag[1:5].isdigit() else tag

    @property
    def description(self) -> str:
        """The ``Event :`` text (up to a tab, as the original reads it); '' if none."""
        return self.tags.get("EVENT", ("", 0))[0]

    def date(self) -> datetime.date:
        """The first month/day/year date of the lines scanned."""
        if self.date_text is None:
            raise InputError(f"{self.where}: no date in {self.extent}; expected the event's "
                             "date as month/day/year, e.g. 06/28/1992 on the 'Event :' line")
        text, line = self.date_text
        try:
            return datetime.datetime.strptime(text, "%m/%d/%Y").date()
        except ValueError:
            raise InputError(f"{self.where}, line {line}: date {text!r} is not a valid "
                             "month/day/year with a four-digit year, e.g. 06/28/1992") from None

    def number(self, name: str) -> float | None:
        """The first ``NAME = number`` of ``name`` (upper case), or None if there is none;
        an error if it is written like a number but is none (``1.5-2``)."""
        if name not in self.fields:
            return None
        text, line = self.fields[name]
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(f"{self.where}, line {line}: {name} = {text!r}; expected a number")
        return value

    def require(self, name: str, meaning: str) -> float:
        """``number(name)``, which must be given; the error says what it means."""
        value = self.number(name)
        if value is not None:
            return value
        if name in self.loose:
            text, line = self.loose[name]
            raise InputError(f"{self.where}, line {line}: {name} = {text!r} is not read as a "
                             f"number; expected '{name} = <number>' ({meaning}) with spaces "
                             "around '=', as SRCMOD writes it")
        raise InputError(f"{self.where}: no '{name} = <number>' ({meaning}) in {self.extent}")

    def epicentre(self) -> tuple[float, float]:
        """(latitude, longitude in [-180, 180)) of the ``Loc : LAT = .. LON = ..`` line."""
        lat, lon = self.number("LAT"), self.number("LON")
        if lat is None or lon is None:
            missing = [name for name in ("LAT", "LON") if name not in self.fields]
            if all(name in self.loose for name in missing):  # written, but not as numbers
                texts = {name: repr(self.fields.get(name, self.loose.get(name, ("", 0)))[0])
                         for name in ("LAT", "LON")}
                line = min(self.loose[name][1] for name in missing)
                raise InputError(f"{self.where}: the 'Loc' line gives LAT = {texts['LAT']}, "
                                 f"LON = {texts['LON']}; expected numbers of degrees (line "
                                 f"{line}: 'LAT = <number>' with spaces around '=')")
            raise InputError(f"{self.where}: not an SRCMOD .fsp header: no Loc : LAT = .. "
                             f"LON = .. line in {self.extent}")
        if not (LATITUDES[0] <= lat <= LATITUDES[1] and LONGITUDES[0] <= lon <= LONGITUDES[1]):
            raise InputError(f"{self.where}: the 'Loc' line gives LAT = {lat:g}, LON = "
                             f"{lon:g}; expected degrees, latitude in [{LATITUDES[0]:g}, "
                             f"{LATITUDES[1]:g}] and longitude in [{LONGITUDES[0]:g}, "
                             f"{LONGITUDES[1]:g}] (line {self.fields['LAT'][1]})")
        return lat, (lon + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class FspSegment:
    """One planar segment: its geometry and its subfaults, rows down dip by columns along
    strike (coordinates of each subfault's top centre, as the file gives them)."""

    strike: float  # degrees
    dip: float  # degrees
    dx_km: float  # subfault length along strike
    dz_km: float  # subfault width down dip
    latitude: np.ndarray  # (n_down_dip, n_along_strike), degrees
    longitude: np.ndarray
    x_km: np.ndarray  # local coordinates about the epicentre: x east, y north
    y_km: np.ndarray
    z_km: np.ndarray  # depth, positive down
    slip_m: np.ndarray
    rake: np.ndarray | None  # degrees; None if the file has no RAKE column
    first_line: int  # 1-based line of the first subfault, for messages

    @property
    def shape(self) -> tuple[int, int]:
        """(subfaults down dip, subfaults along strike)."""
        return self.slip_m.shape[0], self.slip_m.shape[1]


@dataclass(frozen=True)
class SlipModel:
    """An SRCMOD slip model: the header's event and mechanism, and its segments."""

    path: Path
    name: str  # the EventTAG without its leading 's'
    description: str  # the 'Event :' text
    date: datetime.date
    epicentre_latitude: float  # degrees
    epicentre_longitude: float  # degrees, in [-180, 180)
    epicentre_depth_km: float | None  # None where the header gives no DEP
    magnitude: float | None  # Mw
    moment: float | None  # Mo, N m
    strike: float | None  # the header's STRK, DIP and RAKE, degrees (STRK and RAKE optional,
    dip: float  # as for the original, which reads a segment's own STRIKE first)
    rake: float | None
    segments: tuple[FspSegment, ...]

    @property
    def subfaults(self) -> int:
        """Subfaults over all segments."""
        return sum(segment.slip_m.size for segment in self.segments)


def scan(lines: Iterable[str], where: Path, first_line: int = 1) -> FspHeader:
    """Tags, fields and the first date of ``lines`` (the first of ``first_line``), the
    first of each name kept."""
    tags: dict[str, tuple[str, int]] = {}
    fields: dict[str, tuple[str, int]] = {}
    loose: dict[str, tuple[str, int]] = {}
    date_text = None
    number = first_line - 1
    for number, line in enumerate(lines, first_line):
        for name, text in TAG_RE.findall(line):
            tags.setdefault(name.upper(), (text.strip(), number))
        for name, text in FIELD_RE.findall(line):
            fields.setdefault(name.upper(), (text, number))
        for name, text in LOOSE_FIELD_RE.findall(line):
            loose.setdefault(name.upper(), (text, number))
        if date_text is None and (date := DATE_RE.search(line)):
            date_text = (date.group(0), number)
    return FspHeader(where, first_line, number, tags, fields, loose, date_text)


def _decode(raw: bytes, line: int, where: Path) -> str:
    """One line's bytes as text; not UTF-8 is an error naming the line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{where}, line {line}: not UTF-8 text (byte "
                         f"{raw[error.start]:#04x}); expected an SRCMOD .fsp text file") from None


def _cannot_read(error: OSError, where: Path) -> InputError:
    return InputError(f"{where}: cannot read ({error.strerror or error}); expected an SRCMOD "
                      ".fsp file")


def read_fsp_header(path: Path, shown: Path | None = None) -> FspHeader:
    """The header of an ``.fsp`` file: the lines before its slip model (a ``% SEGMENT``,
    ``% SOURCE MODEL PARAMETERS`` or ``% LAT LON`` line), read without the rest, for the
    epicentre and name. Errors name ``shown`` (the user's file behind a link) if given."""
    where = shown or path
    lines = []
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                line = _decode(raw, number, where).rstrip("\r\n")
                if line.startswith(MODEL_STARTS) or COLUMNS_RE.match(line.lstrip()):
                    break
                lines.append(line)
    except OSError as error:  # a directory, or a link whose file has gone
        raise _cannot_read(error, where) from error
    return scan(lines, where)


def _read_lines(path: Path, where: Path) -> list[str]:
    """The file's lines (without line ends), UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise _cannot_read(error, where) from error
    lines = raw.split(b"\n")
    return [_decode(line, number, where).rstrip("\r") for number, line in enumerate(lines, 1)]


def _segment_bounds(lines: list[str], header: FspHeader) -> list[tuple[int, int]]:
    """(first, end) indices of each segment's lines: from each ``% SEGMENT`` line when
    Nsg > 1, else after the ``% SOURCE MODEL PARAMETERS`` line, as the original splits."""
    nsg = header.require("NSG", "the number of fault segments")
    line = header.fields["NSG"][1]
    if nsg < 1 or nsg != int(nsg):
        raise InputError(f"{header.where}, line {line}: Nsg = {nsg:g}; expected a whole "
                         "number of fault segments, at least 1")
    marker = MULTI_SEGMENT if nsg > 1 else SINGLE_SEGMENT
    starts = [index for index, text in enumerate(lines) if text.startswith(marker)]
    if len(starts) != nsg:
        expected = "one per segment" if nsg > 1 else "one, followed by the slip model"
        raise InputError(f"{header.where}, line {line}: Nsg = {int(nsg)} but the file has "
                         f"{len(starts)} line(s) starting '{marker}'; expected {expected}")
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


def _subfaults(lines: list[str], first: int, where: Path, label: str,
               ) -> tuple[list[list[dict[str, float]]], int]:
    """The subfault rows of a segment's lines (``first`` is the 1-based line of
    ``lines[0]``): the values of each data line after a column-name line, a new row
    wherever Z changes; and the line of the first subfault."""
    names: list[str] | None = None
    columns_line = 0
    rows: list[list[dict[str, float]]] = []
    row_lines: list[int] = []  # the first line of each row
    last_z = None
    for number, line in enumerate(lines, first):
        text = line.strip()
        if not text:
            continue
        if text.startswith("%"):
            if COLUMNS_RE.match(text):
                names = [token.upper().split("=")[0] for token in text.split()[1:]]
                columns_line = number
                missing = [name for name in REQUIRED_COLUMNS if name not in names]
                if missing:
                    raise InputError(f"{where}, line {number}: {label}'s column line has no "
                                     f"{', '.join(missing)}; expected columns "
                                     f"{' '.join(REQUIRED_COLUMNS)} (and optionally RAKE)")
            continue
        if names is None:  # before the column names (the header's stray numbers, say)
            continue
        values = text.split()
        if len(values) != len(names):
            raise InputError(f"{where}, line {number}: {len(values)} values; expected "
                             f"{len(names)}, one per column of line {columns_line} "
                             f"({' '.join(names)})")
        record = {}
        for name, value in zip(names, values, strict=True):
            try:
                record[name] = float(value)
            except ValueError:
                record[name] = math.nan
            if not math.isfinite(record[name]):
                raise InputError(f"{where}, line {number}: column {name} holds {value!r}; "
                                 "expected a finite number")
        for name, (low, high) in (("LAT", LATITUDES), ("LON", SUBFAULT_LONGITUDES)):
            if not low <= record[name] <= high:
                raise InputError(f"{where}, line {number}: {name} = {record[name]:g}; "
                                 f"expected degrees in [{low:g}, {high:g}]")
        if last_z is None or record["Z"] != last_z:
            _check_row(rows, row_lines, where, label)
            rows.append([])
            row_lines.append(number)
        rows[-1].append(record)
        last_z = record["Z"]
    if not rows:
        raise InputError(f"{where}, line {first}: {label} has no subfaults; expected a column "
                         "line '%  LAT  LON  X==EW  Y==NS  Z  SLIP ...' followed by one line "
                         "of numbers per subfault" if names is None else
                         f"{where}, line {columns_line}: {label} has no subfault lines after "
                         "its column line; expected one line of numbers per subfault")
    _check_row(rows, row_lines, where, label)
    return rows, row_lines[0]


def _check_row(rows: list[list[dict[str, float]]], row_lines: list[int], where: Path,
               label: str) -> None:
    """The last row down dip must be as long as the first (the original's assert)."""
    if len(rows) > 1 and len(rows[-1]) != len(rows[0]):
        raise InputError(f"{where}, line {row_lines[-1]}: {label}'s row {len(rows)} down dip "
                         f"(Z = {rows[-1][0]['Z']:g}) has {len(rows[-1])} subfaults but row 1 "
                         f"(line {row_lines[0]}) has {len(rows[0])}; expected rows of equal "
                         "length (a row is a run of subfaults with the same Z)")


def _segment(lines: list[str], bounds: tuple[int, int], index: int, count: int,
             header: FspHeader) -> FspSegment:
    """Segment ``index`` (0-based) of ``count``: its geometry from its own fields (the
    header's when there is one segment, as in the original) and its subfaults."""
    start, end = bounds
    where = header.where
    label = f"segment {index + 1}"
    own = header if count == 1 else scan(lines[start:end], where, start + 1)

    def either(name: str, fallback: str, meaning: str) -> float:
        value = own.number(name)
        value = header.number(fallback) if value is None else value
        if value is None:
            raise InputError(f"{where}, line {start + 1}: {label} gives no '{name} = "
                             f"<number>' and the header no '{fallback} = <number>' "
                             f"({meaning}); expected one")
        return value

    strike = either("STRIKE", "STRK", "strike, degrees")
    dx = either("DX", "DX", "subfault length along strike, km")
    dz = either("DZ", "DZ", "subfault width down dip, km")
    dip = own.require("DIP", f"dip of {label}, degrees")
    rows, first_line = _subfaults(lines[start:end], start + 1, where, label)

    def grid(name: str) -> np.ndarray:
        return np.array([[record[name] for record in row] for row in rows], dtype=float)

    has_rake = all("RAKE" in record for row in rows for record in row)
    return FspSegment(strike=strike, dip=dip, dx_km=dx, dz_km=dz, latitude=grid("LAT"),
                      longitude=grid("LON"), x_km=grid("X"), y_km=grid("Y"), z_km=grid("Z"),
                      slip_m=grid("SLIP"), rake=grid("RAKE") if has_rake else None,
                      first_line=first_line)


def read_fsp(path: Path, shown: Path | None = None) -> SlipModel:
    """An SRCMOD ``.fsp`` slip model, parsed as Process-Srcmod-Files' ``Readsrcmod.py``
    parses it (the first of each field in the whole file wins); errors name ``shown`` (the
    user's file behind a link) if given, else ``path``, and the line."""
    where = shown or path
    lines = _read_lines(path, where)
    header = scan(lines, where)
    name, date = header.name, header.date()
    latitude, longitude = header.epicentre()
    dip = header.require("DIP", "dip, degrees")
    bounds = _segment_bounds(lines, header)
    segments = tuple(_segment(lines, bound, index, len(bounds), header)
                     for index, bound in enumerate(bounds))
    return SlipModel(
        path=path, name=name, description=header.description, date=date,
        epicentre_latitude=latitude, epicentre_longitude=longitude,
        epicentre_depth_km=header.number("DEP"), magnitude=header.number("MW"),
        moment=header.number("MO"), strike=header.number("STRK"),
        dip=dip, rake=header.number("RAKE"),
        segments=segments)
