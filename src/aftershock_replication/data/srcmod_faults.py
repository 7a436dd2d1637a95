"""A slip model's subfaults as rectangles in UTM metres, the way Process-Srcmod-Files
built them (``Readsrcmod.py``), and the mean orientation its Coulomb stress is resolved on.

Each subfault's top-centre latitude/longitude is projected into the epicentre's UTM zone;
the top corners lie half a subfault length either way along the segment's strike; the
bottom corners are offset down dip by the file's own row spacing (X, Y, Z of the first
subfault of rows 1 and 0) or, for one-row segments, by the width at the segment's dip.
The original asserts that the two agree within 100 m and that each patch's area is within
5 % of length x width; here those are errors naming the file. The dislocation is Okada's
rectangle of that length and width below the top edge (the original's DC3D call), slip
split by the patch's rake into strike-slip (positive left-lateral) and dip-slip (positive
reverse). Angles follow Aki & Richards (``stress.fault_vectors``).
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..stress import fault_vectors
from .dislocation import Patches
from .fsp import SlipModel
from .projection import Projector

KM = 1e3
OFFSET_TOLERANCE_M = 100.0  # the original's check of the down-dip offset
AREA_TOLERANCE = 0.05  # the original's check of each patch's area

# Slip models the original treated by name (Readsrcmod.py), reproduced as it did them:
# the mean strike is the header's where two segments' strikes differ by 180 degrees ...
STRIKE_FROM_HEADER = frozenset({
    "1995KOBEJA01HORI", "1995KOBEJA01SEKI", "1995KOBEJA01KOKE", "1995KOBEJA01WALD",
    "1995KOBEJA01YOSH", "1995KOBEJA02SEKI", "2010ELMAYO01WEIx",
})
# ... for Haiti 2010 the segments of strike 257 count as 77 in the mean ...
STRIKE_FLIPPED = {"2010HAITIx01HAYE": 257.0}
# ... and for Chi-Chi 1999 the mean rake is the header's (many patches slip backwards).
RAKE_FROM_HEADER = frozenset({"1999CHICHI01WUxx"})


@dataclass(frozen=True)
class Fault:
    """All subfaults of a slip model, flattened in file order (segment, row, column).

    ``corners`` (n, 4, 2) are the original's corners 1-4 in UTM metres (top ahead along
    strike, top behind, bottom ahead, bottom behind), which bound the study region;
    ``top_depth`` is each patch's top depth (m, positive down)."""

    name: str
    corners: np.ndarray
    top_depth: np.ndarray
    strike: np.ndarray
    dip: np.ndarray
    rake: np.ndarray
    slip: np.ndarray
    length: np.ndarray
    width: np.ndarray
    segment: np.ndarray

    @property
    def area(self) -> np.ndarray:
        return self.length * self.width


def _planar_area(quad: np.ndarray) -> float:
    """Area of a planar quadrilateral given in order around its edge (3-D points)."""
    return float(0.5 * np.linalg.norm(np.cross(quad[2] - quad[0], quad[3] - quad[1])))


def build_fault(model: SlipModel, project: Projector) -> Fault:
    """The subfault rectangles of ``model`` in the UTM frame of ``project`` (module doc)."""
    rakes_given = [segment.rake is not None for segment in model.segments]
    if any(rakes_given) and not all(rakes_given):
        raise InputError(f"{model.path}: some segments give a RAKE column and others do not; "
                         "expected all or none (the header rake replaces a missing one only "
                         "when no segment gives it)")
    if not any(rakes_given) and model.rake is None:
        raise InputError(f"{model.path}: no RAKE, neither per subfault nor in the header; "
                         "expected a RAKE column or 'RAKE = ..' in the header")
    header_rake = (model.rake or 0.0) % 360.0
    parts: dict[str, list[np.ndarray]] = {key: [] for key in (
        "corners", "top_depth", "strike", "dip", "rake", "slip", "length", "width",
        "segment")}
    for number, segment in enumerate(model.segments, start=1):
        where = f"{model.path}, segment {number} (line {segment.first_line})"
        if not 0.0 <= segment.dip <= 90.0 or not 0.0 <= segment.strike <= 360.0:
            raise InputError(f"{where}: strike {segment.strike:g}, dip {segment.dip:g}; "
                             "expected strike in [0, 360] and dip in [0, 90] degrees")
        length, width = segment.dx_km * KM, segment.dz_km * KM
        phi, delta = math.radians(segment.strike), math.radians(segment.dip)
        along = np.array([math.sin(phi), math.cos(phi)])
        half = along * length / 2.0
        computed = np.array([width * math.cos(delta) * math.cos(phi),
                             -width * math.cos(delta) * math.sin(phi),
                             width * math.sin(delta)])
        if segment.z_km.shape[0] > 1:
            offset = np.array([segment.x_km[1, 0] - segment.x_km[0, 0],
                               segment.y_km[1, 0] - segment.y_km[0, 0],
                               segment.z_km[1, 0] - segment.z_km[0, 0]]) * KM
            if np.abs(offset - computed).max() >= OFFSET_TOLERANCE_M:
                raise InputError(
                    f"{where}: the rows' spacing ({offset[0]:.0f}, {offset[1]:.0f}, "
                    f"{offset[2]:.0f}) m differs from Dz = {segment.dz_km:g} km at dip "
                    f"{segment.dip:g} ({computed[0]:.0f}, {computed[1]:.0f}, "
                    f"{computed[2]:.0f}) m by {OFFSET_TOLERANCE_M:.0f} m or more")
        else:
            offset = computed
        east, north = project(segment.longitude.ravel(), segment.latitude.ravel())
        top = np.stack([east, north], axis=1)
        depth = segment.z_km.ravel() * KM
        corners = np.stack([top + half, top - half, top + offset[:2] + half,
                            top + offset[:2] - half], axis=1)
        quad = np.concatenate([corners, np.stack([depth, depth, depth + offset[2],
                                                  depth + offset[2]], axis=1)[..., None]],
                              axis=2)
        for patch, points in enumerate(quad):
            area = _planar_area(points[[0, 1, 3, 2]])
            if abs(length * width - area) > AREA_TOLERANCE * area:
                raise InputError(f"{where}: subfault {patch + 1} spans {area / 1e6:.3f} km2, "
                                 f"not Dx x Dz = {length * width / 1e6:.3f} km2 (within 5 %)")
        n = depth.size
        rake = segment.rake.ravel() if segment.rake is not None else np.full(n, header_rake)
        for key, value in (("corners", corners), ("top_depth", depth),
                           ("strike", np.full(n, segment.strike)),
                           ("dip", np.full(n, segment.dip)), ("rake", rake),
                           ("slip", segment.slip_m.ravel()), ("length", np.full(n, length)),
                           ("width", np.full(n, width)), ("segment", np.full(n, number - 1))):
            parts[key].append(np.asarray(value, dtype=np.float64 if key != "segment" else int))
    return Fault(name=model.name, **{key: np.concatenate(value) for key, value in parts.items()})


def mean_angle(degrees: np.ndarray, weights: np.ndarray) -> float:
    """Weighted circular mean in [0, 360) degrees (the original's ``mean_angle``)."""
    total = sum(w * cmath.rect(1.0, math.radians(a)) for a, w in zip(degrees, weights,
                                                                     strict=True))
    return math.degrees(cmath.phase(total)) % 360.0


def mean_orientation(fault: Fault, model: SlipModel) -> tuple[float, float, float]:
    """(strike, dip, rake) of the receiver plane: area-weighted circular means over the
    patches that slip, with the original's by-name exceptions (constants above)."""
    slipping = fault.slip != 0.0
    if not slipping.any():
        raise InputError(f"{model.path}: no subfault slips; expected some SLIP > 0")
    weights = fault.area[slipping] / fault.area.sum()
    strikes = fault.strike[slipping].copy()
    if model.name in STRIKE_FLIPPED:
        strikes[strikes == STRIKE_FLIPPED[model.name]] -= 180.0
    strike = (model.strike if model.name in STRIKE_FROM_HEADER and model.strike is not None
              else mean_angle(strikes, weights))
    dip = mean_angle(fault.dip[slipping], weights)
    rake = (model.rake % 360.0 if model.name in RAKE_FROM_HEADER and model.rake is not None
            else mean_angle(fault.rake[slipping], weights))
    return strike, dip, rake


def dislocations(fault: Fault, origin: np.ndarray) -> list[Patches]:
    """One ``Patches`` per segment: Okada's rectangles (top edge from corner 2 to corner 1 at
    the top depth, extending one width down dip), in x east, y north, z up metres from
    ``origin`` (an easting and northing)."""
    segments = []
    for number in np.unique(fault.segment):
        chosen = fault.segment == number
        strike, dip = fault.strike[chosen][0], fault.dip[chosen][0]
        phi, delta = np.radians(strike), np.radians(dip)
        down = np.array([np.cos(delta) * np.cos(phi), -np.cos(delta) * np.sin(phi),
                         -np.sin(delta)])
        along = np.array([np.sin(phi), np.cos(phi), 0.0])
        width = fault.width[chosen][:, None]
        top = -fault.top_depth[chosen][:, None]
        start = np.concatenate([fault.corners[chosen, 1] - origin, top], axis=1)
        end = np.concatenate([fault.corners[chosen, 0] - origin, top], axis=1)
        corners = np.stack([start, end, end + width * down, start + width * down], axis=1)
        rake = np.radians(fault.rake[chosen])[:, None]
        slip = fault.slip[chosen][:, None]
        vector = slip * (np.cos(rake) * along - np.sin(rake) * down)
        normal, _ = fault_vectors(strike, dip, 0.0)
        segments.append(Patches(corners=corners, slip=vector, hanging_wall_normal=normal))
    return segments
