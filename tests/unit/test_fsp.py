"""The SRCMOD .fsp reader: a real multi-segment file, small single- and multi-segment files,
and malformed files refused with the file and line named."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pytest

from aftershock_replication.data.fsp import read_fsp, read_fsp_header
from aftershock_replication.errors import InputError
from helpers import SHARED_SAMPLES

LANDERS = SHARED_SAMPLES / "s1992LANDER01COHE.fsp"

HEADER = """% ----------------------------------  FINITE-SOURCE RUPTURE MODEL  ----------
%
% Event : Kobe (Japan)\t\t01/17/1995\t\t[Test (2024)]
% EventTAG: s1995KOBEJA01TEST
%
% Loc  : LAT  = 34.6 \t\tLON = 135.0\t\tDEP = 17.0
% Size : LEN  = 6.0 km \tWID =  4.0 km\t\tMw = 6.9\tMo = 2.4e+19 Nm
% Mech : STRK = 45.0\t\tDIP = 80.0\t\tRAKE = 170.0\tHtop = 0.0 km
%
% Invs :  Nx  =  3 \tNz  = 2
% Invs :  Dx  =  2.00 km \tDz  = 2.00 km
% Invs :  Ntw =  1\tNsg =  {nsg}
%
% Rmin : \t60\t0
\t10.0\t0.0
%
"""

SINGLE = HEADER.format(nsg=1) + """% SOURCE MODEL PARAMETERS
%   Coordinates are given for top-center of each subfault
% ------------------------------------------------------------------------
%    LAT     LON     X==EW     Y==NS     Z     SLIP    RAKE
% ------------------------------------------------------------------------
   34.60  135.00    0.0    0.0    0.0    1.0   170.0
   34.61  135.01    1.4    1.4    0.0    2.0   171.0
   34.62  135.02    2.8    2.8    0.0    3.0   172.0
   34.60  135.00    0.3    0.0    2.0    4.0   173.0
   34.61  135.01    1.7    1.4    2.0    5.0   174.0
   34.62  135.02    3.1    2.8    2.0    6.0   175.0
"""

SEGMENT = """% ------------------------------------------------------------------------
% SEGMENT #  {number}:  STRIKE =  {strike} deg       DIP =  {dip} deg
%                   LEN  =  4.00 km       WID =  2.00 km
%\t\t      Dx =   {dx} km       Dz = {dz} km
%                   LAT =  34.6 ,       LON = 135.0
% ------------------------------------------------------------------------
%    LAT     LON     X==EW     Y==NS     Z     SLIP    {rake_name}
% ------------------------------------------------------------------------
"""


def segment(number: int, strike: float, dip: float, dx: float, dz: float,
            rows: list[list[float]], rake: bool = True) -> str:
    """One segment of a multi-segment file: header lines, then one line per subfault
    (LAT LON X Y Z SLIP [RAKE])."""
    text = SEGMENT.format(number=number, strike=strike, dip=dip, dx=dx, dz=dz,
                          rake_name="RAKE" if rake else "")
    return text + "".join("   " + "  ".join(f"{v:g}" for v in row) + "\n" for row in rows)


TWO_BY_TWO = [[34.6, 135.0, 0.0, 0.0, 0.0, 1.5, 90.0], [34.61, 135.0, 0.0, 2.0, 0.0, 2.5, 91.0],
              [34.6, 135.01, 0.5, 0.0, 1.8, 3.5, 92.0], [34.61, 135.01, 0.5, 2.0, 1.8, 4.5, 93.0]]
ONE_BY_THREE = [[34.7, 135.1, 3.0, 3.0, 0.0, 0.5, 10.0], [34.71, 135.1, 3.0, 4.0, 0.0, 0.6, 11.0],
                [34.72, 135.1, 3.0, 5.0, 0.0, 0.7, 12.0]]


def multi(rake: bool = True) -> str:
    """A two-segment file: 2 x 2 subfaults at strike 10 dip 60, then 1 x 3 at strike 20
    dip 90 with its own Dx, Dz."""
    rows = [TWO_BY_TWO, ONE_BY_THREE] if rake else [[r[:6] for r in TWO_BY_TWO],
                                                     [r[:6] for r in ONE_BY_THREE]]
    return (HEADER.format(nsg=2) + "% SOURCE MODEL PARAMETERS\n"
            + segment(1, 10.0, 60.0, 2.0, 2.0, rows[0], rake)
            + segment(2, 20.0, 90.0, 1.0, 0.5, rows[1], rake))


def write(tmp_path: Path, text: str, name: str = "s1995KOBEJA01TEST.fsp") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of ``text`` holding ``fragment`` first."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


@pytest.mark.skipif(not LANDERS.is_file(),
                    reason="../shared/samples not present (only in the project's CI)")
def test_the_landers_model_of_cohee_and_beroza() -> None:
    model = read_fsp(LANDERS)
    assert (model.name, model.description) == ("1992LANDER01COHE", "Landers (Calif.)")
    assert model.date == datetime.date(1992, 6, 28)
    assert (model.epicentre_latitude, model.epicentre_longitude) == (34.2, -116.43)
    assert (model.epicentre_depth_km, model.magnitude, model.moment) == (5.0, 7.08, 4.66e19)
    assert (model.strike, model.dip, model.rake) == (330.0, 90.0, 180.0)
    # each segment's own strike and subfault size (the header's Dx is 2.96 km)
    geometry = [(s.strike, s.dip, s.dx_km, s.dz_km, s.shape) for s in model.segments]
    assert geometry == [(354.0, 90.0, 3.0, 3.0, (6, 9)), (331.0, 90.0, 3.0, 3.0, (6, 10)),
                        (322.0, 90.0, 3.0, 3.0, (6, 15))]
    assert [s.slip_m.size for s in model.segments] == [54, 60, 90]  # the files' Nsbfs
    assert model.subfaults == 204
    first, last = model.segments[0], model.segments[2]
    assert first.first_line == 58 and first.rake is None
    assert (first.latitude[0, 0], first.longitude[0, 0], first.x_km[0, 0], first.y_km[0, 0],
            first.slip_m[0, 0]) == (34.1176, -116.4197, 0.9511, -9.1563, 0.17)
    assert first.z_km[:, 0].tolist() == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]
    assert (last.latitude[-1, -1], last.slip_m[0, 3]) == (34.7664, 4.72)
    # the stray numeric line after 'Rmin' (line 23) is not a subfault
    header = read_fsp_header(LANDERS)
    assert header.last_line == 37 and header.epicentre() == (34.2, -116.43)


def test_a_single_segment_takes_its_geometry_from_the_header(tmp_path: Path) -> None:
    model = read_fsp(write(tmp_path, SINGLE))
    assert (model.name, model.date) == ("1995KOBEJA01TEST", datetime.date(1995, 1, 17))
    assert (model.magnitude, model.moment, model.epicentre_depth_km) == (6.9, 2.4e19, 17.0)
    (only,) = model.segments
    assert (only.strike, only.dip, only.dx_km, only.dz_km) == (45.0, 80.0, 2.0, 2.0)
    assert only.shape == (2, 3)
    assert only.slip_m.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert only.rake is not None and only.rake.tolist() == [[170.0, 171.0, 172.0],
                                                            [173.0, 174.0, 175.0]]
    assert only.first_line == line_of(SINGLE, "34.60  135.00    0.0")


def test_segments_take_their_own_geometry_and_rake(tmp_path: Path) -> None:
    model = read_fsp(write(tmp_path, multi()))
    first, second = model.segments
    assert (first.strike, first.dip, first.dx_km, first.dz_km) == (10.0, 60.0, 2.0, 2.0)
    assert (second.strike, second.dip, second.dx_km, second.dz_km) == (20.0, 90.0, 1.0, 0.5)
    assert (first.shape, second.shape, model.subfaults) == ((2, 2), (1, 3), 7)
    assert first.y_km.tolist() == [[0.0, 2.0], [0.0, 2.0]]
    assert first.z_km.tolist() == [[0.0, 0.0], [1.8, 1.8]]
    assert second.rake is not None and second.rake.tolist() == [[10.0, 11.0, 12.0]]
    assert second.latitude.tolist() == [[34.7, 34.71, 34.72]]
    assert model.strike == 45.0  # the header's, which the segments override


def test_a_file_without_rake_column(tmp_path: Path) -> None:
    model = read_fsp(write(tmp_path, multi(rake=False)))
    assert [s.rake for s in model.segments] == [None, None]
    assert model.segments[1].slip_m.tolist() == [[0.5, 0.6, 0.7]]


def test_the_header_is_read_without_the_slip_model(tmp_path: Path) -> None:
    """The events stage reads only the header: a broken slip model does not stop it."""
    text = SINGLE.replace("34.62  135.02    3.1", "34.62  135.02    x")
    header = read_fsp_header(write(tmp_path, text))
    assert (header.name, header.epicentre()) == ("1995KOBEJA01TEST", (34.6, 135.0))
    assert header.last_line == line_of(text, "% SOURCE MODEL PARAMETERS") - 1
    with pytest.raises(InputError):
        read_fsp(tmp_path / "s1995KOBEJA01TEST.fsp")


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def drop_line(text: str, fragment: str) -> str:
    return "\n".join(line for line in text.split("\n") if fragment not in line)


def data_line(text: str) -> int:
    return line_of(text, "34.61  135.01    1.7")


# (file text, fragment of the line named or None, the message after it)
MALFORMED = {
    "not_a_number": (replace(SINGLE, "1.7    1.4    2.0", "1.7    1.4    deep"), "1.7    1.4",
                     "column Z holds 'deep'; expected a finite number"),
    "too_few_values": (replace(SINGLE, "1.7    1.4    2.0    5.0   174.0", "1.7    1.4    2.0"),
                       "1.7    1.4", r"5 values; expected 7, one per column of line \d+ "
                       r"\(LAT LON X Y Z SLIP RAKE\)"),
    "too_many_values": (replace(SINGLE, "5.0   174.0", "5.0   174.0  9"), "1.7    1.4",
                        "8 values; expected 7"),
    "unequal_rows": (drop_line(SINGLE, "34.62  135.02    3.1"), "34.60  135.00    0.3",
                     r"segment 1's row 2 down dip \(Z = 2\) has 2 subfaults but row 1 "
                     r"\(line \d+\) has 3; expected rows of equal length"),
    "latitude_out_of_range": (replace(SINGLE, "34.61  135.01    1.7", "94.61  135.01    1.7"),
                              "94.61", r"LAT = 94.61; expected degrees in \[-90, 90\]"),
    "missing_column": (replace(SINGLE, "Z     SLIP    RAKE", "Z     RAKE"), "Z     RAKE",
                       "segment 1's column line has no SLIP; expected columns LAT LON X Y Z "
                       "SLIP"),
    "nsg_not_matching": (replace(multi(), "Nsg =  2", "Nsg =  3"), "Nsg =  3",
                         "Nsg = 3 but the file has 2 line.s. starting '% SEGMENT'; expected "
                         "one per segment"),
    "no_source_model": (replace(SINGLE, "% SOURCE MODEL PARAMETERS", "% MODEL"), "Nsg =",
                        "Nsg = 1 but the file has 0 line.s. starting '% SOURCE MODEL "
                        "PARAMETERS'; expected one, followed by the slip model"),
    "nsg_not_whole": (replace(SINGLE, "Nsg =  1", "Nsg =  1.5"), "Nsg =  1.5",
                      "Nsg = 1.5; expected a whole number of fault segments"),
    "no_subfaults": (SINGLE.split("%    LAT")[0], "% SOURCE MODEL PARAMETERS",
                     "segment 1 has no subfaults; expected a column line"),
    "date_invalid": (replace(SINGLE, "01/17/1995", "17/01/1995"), "17/01/1995",
                     "date '17/01/1995' is not a valid month/day/year"),
    "dip_not_a_number": (replace(SINGLE, "DIP = 80.0", "DIP = steep"), "DIP = steep",
                         "DIP = 'steep' is not read as a number; expected 'DIP = <number>'"),
    "no_dx": (drop_line(replace(SINGLE, "Dx  =  2.00 km", ""), "Size :"), "SOURCE MODEL",
              "segment 1 gives no 'DX = <number>' and the header no 'DX = <number>'"),
}


@pytest.mark.parametrize(("text", "fragment", "message"), MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_file_is_refused_naming_file_and_line(
    tmp_path: Path, text: str, fragment: str, message: str,
) -> None:
    path = write(tmp_path, text)
    line = line_of(text, fragment)
    shown = Path("original/fsp") / path.name  # the user's file behind a data/raw link
    with pytest.raises(InputError) as caught:
        read_fsp(path, shown)
    assert re.match(rf"original/fsp/s1995KOBEJA01TEST\.fsp, line {line}: {message}",
                    str(caught.value)), str(caught.value)


# (file text, the message after the file's name) where no one line is at fault
MISSING = {
    "no_event_tag": (drop_line(SINGLE, "EventTAG"),
                     r"not an SRCMOD \.fsp header: no EventTAG line in lines 1-\d+"),
    "no_date": (replace(SINGLE, "01/17/1995", "1995"), r"no date in lines 1-\d+; expected"),
    "no_latitude": (replace(SINGLE, "LAT  = 34.6", "LAT"),
                    r"not an SRCMOD \.fsp header: no Loc : LAT = \.\. LON = \.\. line"),
    "latitude_not_a_number": (replace(SINGLE, "LAT  = 34.6", "LAT  = -"),
                              r"the 'Loc' line gives LAT = '-', LON = '135\.0'; expected "
                              r"numbers of degrees \(line 6"),
    "no_nsg": (replace(SINGLE, "Nsg =  1", "Nsg"),
               r"no 'NSG = <number>' \(the number of fault segments\) in lines 1-\d+"),
    "no_dip": (replace(SINGLE, "DIP = 80.0", ""), r"no 'DIP = <number>' \(dip, degrees\)"),
    "segment_without_dip": (replace(multi(), "DIP =  90.0 deg", "          "),
                            r"no 'DIP = <number>' \(dip of segment 2, degrees\) in lines "
                            r"\d+-\d+"),
}


@pytest.mark.parametrize(("text", "message"), MISSING.values(), ids=MISSING)
def test_a_missing_header_field_is_refused_naming_the_file(
    tmp_path: Path, text: str, message: str,
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: {message}"):
        read_fsp(path)


def test_an_unreadable_or_non_utf8_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "folder.fsp").mkdir()
    for reader in (read_fsp, read_fsp_header):
        with pytest.raises(InputError, match=r"folder\.fsp: cannot read \(Is a directory\); "
                                             r"expected an SRCMOD \.fsp file"):
            reader(tmp_path / "folder.fsp")
    path = tmp_path / "latin.fsp"
    path.write_bytes(SINGLE.replace("Kobe (Japan)", "K\xf6be").encode("latin-1"))
    for reader in (read_fsp, read_fsp_header):
        with pytest.raises(InputError, match=r"latin\.fsp, line 3: not UTF-8 text \(byte "
                                             r"0xf6\)"):
            reader(path)


def test_the_first_field_of_a_name_wins_and_names_are_upper_cased(tmp_path: Path) -> None:
    """As the original: the header's LEN (km) is kept over the inversion's 'LEN' (s), and
    'Mw' and 'MW' are one field."""
    text = replace(SINGLE, "Mw = 6.9", "mw = 6.9") + "% MW = 7.5\n"
    model = read_fsp(write(tmp_path, text))
    assert model.magnitude == 6.9
    header = read_fsp_header(tmp_path / "s1995KOBEJA01TEST.fsp")
    assert header.number("LEN") == 6.0 and header.number("HTOP") == 0.0
    assert np.isclose(model.segments[0].slip_m.sum(), 21.0)
