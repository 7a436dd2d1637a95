"""Checks of ``data.dislocation`` (cutde's triangular dislocations) against Okada (1992):
the published check values of his Table 2 and, where ``okada_wrapper`` is installed, his
DC3D subroutine itself on faults of various strike, dip and rake.

The check case (Okada 1992, Table 2; the same fault and point as Okada 1985, Table 2):
alpha = (lambda + mu) / (lambda + 2 mu) = 2/3 (lambda = mu), observation point x = 2, y = 3,
z = 0, reference depth 4, dip 70, AL1 = 0 ... AL2 = 3 along strike, AW1 = 0 ... AW2 = 2 down
dip, for unit strike-slip (DISL1), dip-slip (DISL2) and tensile (DISL3) dislocations. In
DC3D's frame the fault strikes along +x and occupies (xi, eta cos 70, -4 + eta sin 70), so
it dips toward -y: with x = east and y = north it is a fault of strike 90 dipping 70 to the
south. Lengths are read as metres, slip as 1 m; the gradients are dimensionless.
"""

from __future__ import annotations

import cutde.halfspace
import numpy as np
import pytest

from aftershock_replication.benchmarks.okada_crosscheck import (
    ALPHA,
    INSTALL_HINT,
    dc3d_rectangles,
    distance_to_patches,
    okada_stress,
    stress_from_gradient,
)
from aftershock_replication.data.dislocation import (
    POISSON,
    Patches,
    rectangular_fault,
    stress_change,
    triangles,
)
from aftershock_replication.stress import fault_vectors

# Okada (1992) Table 2, 4 significant figures, in his order: ux, uy, uz, then u{i}{j} =
# du_i/dx_j as uxx, uyx, uzx, uxy, uyy, uzy, uxz, uyz, uzz (DC3D's output order).
# The x- and y-derivatives are the surface values of Okada (1985) Table 2 (all 27 agree with
# F. Beauducel's independent transcription in his okada85 checklist); the z-derivatives are
# fixed by the traction-free surface (test_table_is_traction_free); all 36 agree with DC3D
# (test_table_matches_dc3d). A circulating transcription with uxy ... uzz of the strike-slip
# row and uxy, uxz of the tensile row different (-7.035e-3, 1.741e-3, -5.506e-4, 1.193e-3,
# 6.503e-4, 2.567e-4; -4.782e-4, -6.325e-4) fails all three checks.
TABLE2 = {
    "strike_slip": [-8.689e-3, -4.298e-3, -2.747e-3,
                    -1.220e-3, -8.191e-3, -5.175e-3,
                    +2.470e-4, -5.814e-4, +2.945e-4,
                    +5.175e-3, -2.945e-4, +6.006e-4],
    "dip_slip": [-4.682e-3, -3.527e-2, -3.564e-2,
                 -8.867e-3, +4.057e-3, +4.088e-3,
                 -1.519e-4, -1.035e-2, +2.626e-3,
                 -4.088e-3, -2.626e-3, +6.407e-3],
    "tensile": [-2.660e-4, +1.056e-2, +3.214e-3,
                -5.655e-4, -1.066e-3, -3.730e-4,
                +1.993e-3, +1.230e-2, +1.040e-2,
                +3.730e-4, -1.040e-2, -3.911e-3],
}
DISLOCATIONS = {"strike_slip": [1.0, 0.0, 0.0], "dip_slip": [0.0, 1.0, 0.0],
                "tensile": [0.0, 0.0, 1.0]}
POINT = np.array([[2.0, 3.0, 0.0]])
DIP = 70.0
CUTDE_FLOOR = 1e-6  # cutde's own error allowance, relative to the largest component


def _table_arrays(case: str) -> tuple[np.ndarray, np.ndarray]:
    """The table's displacement (3,) and gradient (3, 3), ``[i, j]`` = du_i/dx_j."""
    values = np.array(TABLE2[case])
    return values[:3], values[3:].reshape(3, 3).T  # rows of the table are d/dx, d/dy, d/dz


def _half_unit(values: np.ndarray) -> np.ndarray:
    """Half a unit in the 4th significant figure: the rounding error of a table value."""
    return 0.5 * 10.0 ** (np.floor(np.log10(np.abs(values))) - 3)


def _table_stress(case: str) -> tuple[np.ndarray, np.ndarray]:
    """Stress (6,) from the table's gradients per metre of slip, lambda = mu, and its
    rounding bound (6,): the table's half-units pushed through Hooke's law in absolute value
    (every coefficient of the map is non-negative, so this bounds each component)."""
    _, gradient = _table_arrays(case)
    stress = stress_from_gradient(gradient[None])[0]
    bound = stress_from_gradient(_half_unit(gradient)[None])[0]
    return stress, bound


def _table_fault(case: str, reverse: bool = False) -> Patches:
    """The check fault as one ``Patches`` rectangle with the case's unit slip.

    Corners top-start, top-end, bottom-end, bottom-start (``reverse``: listed from the other
    end, top-end first, which describes the same rectangle). Slip is the hanging wall's
    (the southern block's) motion: strike-slip is rake 0 (left-lateral, DISL1 > 0), dip-slip
    rake 90 (reverse, DISL2 > 0), tensile the motion along the normal into the hanging wall.
    """
    c, s = np.cos(np.radians(DIP)), np.sin(np.radians(DIP))
    top, bottom = [2 * c, -4 + 2 * s], [0.0, -4.0]
    corners = np.array([[0.0, *top], [3.0, *top], [3.0, *bottom], [0.0, *bottom]])
    if reverse:
        corners = corners[[1, 0, 3, 2]]
    normal, along = fault_vectors(90.0, DIP, 0.0)
    _, updip = fault_vectors(90.0, DIP, 90.0)
    slip = {"strike_slip": along, "dip_slip": updip, "tensile": normal}[case]
    return Patches(corners=corners[None], slip=slip[None], hanging_wall_normal=normal)


def test_table_fault_slip_directions() -> None:
    """The slip vectors of ``_table_fault`` are Okada's unit dislocations in east/north/up."""
    c, s = np.cos(np.radians(DIP)), np.sin(np.radians(DIP))
    expected = {"strike_slip": [1, 0, 0], "dip_slip": [0, c, s], "tensile": [0, -s, c]}
    for case, vector in expected.items():
        np.testing.assert_allclose(_table_fault(case).slip[0], vector, atol=1e-15)


@pytest.mark.parametrize("case", sorted(TABLE2))
def test_table_is_traction_free(case: str) -> None:
    """The table itself (at z = 0) has sigma_xz = sigma_yz = sigma_zz = 0 within rounding:
    a guard against transcription errors in its z-derivatives."""
    stress, bound = _table_stress(case)
    traction = [3, 4, 5]
    assert np.all(np.abs(stress[traction]) <= bound[traction])
    assert np.abs(stress).max() > 1e8  # while the other components are 0.1 - 1 GPa


@pytest.mark.parametrize("case", sorted(TABLE2))
@pytest.mark.parametrize("reverse", [False, True], ids=["corners-forward", "corners-reversed"])
def test_stress_change_matches_table(case: str, reverse: bool) -> None:
    """All six stress components at (2, 3, 0) within what the 4 significant figures allow.

    Tolerance per component: the table's rounding (half a unit in the 4th figure of every
    gradient entry, propagated through Hooke's law: relative 5e-4 or less of each entry)
    plus 1e-6 of the largest component for cutde. Opening is expressed as slip along the
    normal; the corner order (either end first) must not matter.
    """
    stress, bound = _table_stress(case)
    got = stress_change(POINT, _table_fault(case, reverse))[0]
    tolerance = bound + CUTDE_FLOOR * np.abs(stress).max()
    assert np.all(np.abs(got - stress) <= tolerance), (got, stress, tolerance)


def test_table_comparison_discriminates_slip_sense() -> None:
    """Guard: with the slip reversed (right-lateral, normal, closing) the comparison fails."""
    for case in TABLE2:
        stress, bound = _table_stress(case)
        fault = _table_fault(case)
        flipped = Patches(fault.corners, -fault.slip, fault.hanging_wall_normal)
        got = stress_change(POINT, flipped)[0]
        assert np.any(np.abs(got - stress) > 100 * bound)


@pytest.mark.parametrize("case", sorted(TABLE2))
def test_free_surface_at_table_point(case: str) -> None:
    """cutde at exactly z = 0: sigma_xz, sigma_yz, sigma_zz vanish to round-off."""
    got = stress_change(POINT, _table_fault(case))[0]
    assert np.abs(got[[3, 4, 5]]).max() < 1e-9 * np.abs(got).max()


@pytest.mark.parametrize("case", sorted(TABLE2))
def test_displacement_matches_table(case: str) -> None:
    """ux, uy, uz from cutde (same triangles and slip as ``stress_change``) within the
    table's rounding plus 1e-6 of the largest component."""
    displacement, _ = _table_arrays(case)
    tris, slip = triangles(_table_fault(case))
    got = cutde.halfspace.disp_free(POINT, tris, slip, POISSON)[0]
    tolerance = _half_unit(displacement) + CUTDE_FLOOR * np.abs(displacement).max()
    assert np.all(np.abs(got - displacement) <= tolerance), (got, displacement)


@pytest.mark.parametrize("reverse", [False, True])
def test_dc3d_rectangles_recovers_table_geometry(reverse: bool) -> None:
    """The conversion to DC3D's terms gives back the check case: dip 70, length 3, width 2,
    reference point at the top-start corner (DC3D's eta = 0 there, so AW = -2 ... 0 and
    depth 4 - 2 sin 70), and the unit dislocations, whichever end the corners start from."""
    for case, dislocation in DISLOCATIONS.items():
        (rect,) = dc3d_rectangles(_table_fault(case, reverse))
        assert rect.dip == pytest.approx(DIP)
        assert (rect.length, rect.width) == pytest.approx((3.0, 2.0))
        assert rect.depth == pytest.approx(4.0 - 2.0 * np.sin(np.radians(DIP)))
        np.testing.assert_allclose(rect.origin[:2], [0.0, 2.0 * np.cos(np.radians(DIP))],
                                   atol=1e-12)
        np.testing.assert_allclose(rect.frame, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(rect.dislocation, dislocation, atol=1e-12)


def test_dc3d_rectangles_rejects_what_dc3d_cannot_represent() -> None:
    """A tilted top edge or a hanging-wall normal in the fault plane is refused."""
    fault = _table_fault("strike_slip")
    tilted = fault.corners.copy()
    tilted[0, [1, 2], 2] -= 0.5
    with pytest.raises(ValueError, match="horizontal"):
        dc3d_rectangles(Patches(tilted, fault.slip, fault.hanging_wall_normal))
    with pytest.raises(ValueError, match="plane"):
        dc3d_rectangles(Patches(fault.corners, fault.slip, np.array([1.0, 0.0, 0.0])))


def test_distance_to_patches() -> None:
    """Distances to the check rectangle: above its middle, beyond an end, on it."""
    fault = _table_fault("strike_slip")
    c, s = np.cos(np.radians(DIP)), np.sin(np.radians(DIP))
    on = np.array([1.5, c, -4 + s])  # centre of the rectangle
    normal = fault.hanging_wall_normal
    points = np.array([on + 0.7 * normal, [5.0, 0.0, -4.0], on])
    np.testing.assert_allclose(distance_to_patches(points, fault), [0.7, 2.0, 0.0],
                               atol=1e-12)


# --- okada_wrapper (compiled Fortran: skipped where it is not installed) --------------------

REASON = f"okada_wrapper is not installed (it needs gfortran: {INSTALL_HINT})"


@pytest.mark.parametrize("case", sorted(TABLE2))
def test_table_matches_dc3d(case: str) -> None:
    """The transcription against DC3D itself, to 4 significant figures.

    ``dc3dwrapper`` returns ``grad_u[i, j]`` = du_j/dx_i (DC3D's UXX, UYX, UZX, UXY, ... in
    row-major order), so its ``grad_u.ravel()`` is the table's order.
    """
    okada_wrapper = pytest.importorskip("okada_wrapper", reason=REASON)
    code, u, grad_u = okada_wrapper.dc3dwrapper(
        ALPHA, POINT[0], 4.0, DIP, [0.0, 3.0], [0.0, 2.0], DISLOCATIONS[case])
    assert code == 0
    assert pytest.approx(2.0 / 3.0) == ALPHA
    got = np.concatenate([u, grad_u.ravel()])
    table = np.array(TABLE2[case])
    assert np.all(np.abs(got - table) <= _half_unit(table) * (1 + 1e-4)), (got, table)


def _points_around(patches: Patches, seed: int, count: int = 300) -> np.ndarray:
    """Points 5 - 100 km horizontally from the fault's first corner, 2.5 - 47.5 km deep, at
    least 1 km from the fault (closer in, DC3D's single-precision coordinates dominate)."""
    rng = np.random.default_rng(seed)
    n = 2 * count
    radius, azimuth = rng.uniform(5e3, 100e3, n), rng.uniform(0.0, 2 * np.pi, n)
    origin = patches.corners[0, 0]
    points = np.stack([origin[0] + radius * np.cos(azimuth),
                       origin[1] + radius * np.sin(azimuth),
                       -rng.uniform(2.5e3, 47.5e3, n)], axis=1)
    return points[distance_to_patches(points, patches) >= 1e3][:count]


def _reversed(patches: Patches) -> Patches:
    """The same patches with their corners listed from the other end."""
    return Patches(patches.corners[:, [1, 0, 3, 2]], patches.slip, patches.hanging_wall_normal)


OBLIQUE_NORMAL = rectangular_fault((3e3, -2e3, -3e3), 300.0, 55.0, -120.0, 20e3, 12e3,
                                   np.ones((1, 1)))
FAULTS = {
    "vertical right-lateral strike-slip": rectangular_fault(
        (0.0, 0.0, -500.0), 30.0, 90.0, 180.0, 40e3, 15e3,
        np.array([[1.0, 2.0, 3.0, 1.5], [0.5, 1.0, 2.0, 1.0]])),
    "shallow thrust reaching the surface": rectangular_fault(
        (0.0, 0.0, 0.0), 200.0, 15.0, 90.0, 50e3, 30e3, np.linspace(0.5, 3.0, 15).reshape(3, 5)),
    "oblique normal": OBLIQUE_NORMAL,
    "oblique normal, corners reversed": _reversed(OBLIQUE_NORMAL),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_stress_change_matches_okada_wrapper(name: str) -> None:
    """cutde's triangles and Okada's rectangles agree to 1e-6 of the largest stress at 300
    points around each fault (measured: 1.2e-7 to 4.3e-7, DC3D being single precision)."""
    pytest.importorskip("okada_wrapper", reason=REASON)
    patches = FAULTS[name]
    points = _points_around(patches, seed=list(FAULTS).index(name))
    assert len(points) == 300
    ours, okada = stress_change(points, patches), okada_stress(points, patches)
    largest = np.abs(okada).max()
    assert largest > 1e4  # kPa or more for metres of slip within 100 km
    assert np.abs(ours - okada).max() < 1e-6 * largest
