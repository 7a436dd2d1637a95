"""Checks of the half-space dislocation stresses in ``aftershock_replication.data.dislocation``
against the 2-D antiplane (screw dislocation) solution and basic elastostatic properties."""

from __future__ import annotations

import numpy as np
import pytest

from aftershock_replication.data.dislocation import (
    LAME_LAMBDA,
    POISSON,
    SHEAR_MODULUS,
    Patches,
    rectangular_fault,
    stress_change,
)
from aftershock_replication.stress import fault_vectors, resolve_on_plane

TOP, BOTTOM = 2.0e3, 15.0e3  # depths of the buried strike-slip band (m)
LONG = 4000.0e3  # along-strike length making the centre effectively 2-D


def _antiplane_stress(
    y: np.ndarray, depth: np.ndarray, jump: float
) -> tuple[np.ndarray, np.ndarray]:
    """sigma_xy and sigma_xz (z up) of a screw-dislocation band in a half-space.

    The fault occupies y = 0, TOP < depth < BOTTOM, infinitely long along x, with the
    displacement jump u_x(y = 0+) - u_x(y = 0-) = ``jump``. With zeta = depth (down),

        u_x = jump / (2 pi) [atan2(y, d1 - zeta) - atan2(y, d2 - zeta)
                             + atan2(y, d1 + zeta) - atan2(y, d2 + zeta)],

    whose first pair has a 2 pi branch cut exactly on the fault and whose image pair (cuts
    above the free surface) makes u_x even in zeta, so sigma_xz = 0 at zeta = 0 (Segall 2010,
    ch. 2). Stresses: sigma_xy = mu du/dy, sigma_xz = mu du/dz = -mu du/dzeta.
    """
    dudy = np.zeros_like(y)
    dudzeta = np.zeros_like(y)
    for d, sign in ((TOP, 1.0), (BOTTOM, -1.0)):
        real = y**2 + (d - depth) ** 2
        image = y**2 + (d + depth) ** 2
        dudy += sign * ((d - depth) / real + (d + depth) / image)
        dudzeta += sign * (y / real - y / image)
    scale = SHEAR_MODULUS * jump / (2.0 * np.pi)
    return scale * dudy, -scale * dudzeta


def _centre_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observation points in the x = 0 cross-section, off the fault: (y, depth, xyz)."""
    ys = np.array([-40e3, -20e3, -10e3, -5e3, -3e3, 3e3, 5e3, 10e3, 20e3, 40e3])
    depths = np.array([0.5e3, 1e3, 5e3, 8e3, 14e3, 20e3, 30e3])
    y, depth = (a.ravel() for a in np.meshgrid(ys, depths))
    return y, depth, np.stack([np.zeros_like(y), y, -depth], axis=1)


@pytest.mark.parametrize(("rake", "slip"), [(0.0, 1.0), (180.0, 1.0), (0.0, 2.5)])
def test_long_strike_slip_matches_antiplane_solution(rake: float, slip: float) -> None:
    """A 4000 km long vertical fault, strike 90, matches the 2-D screw dislocation at its centre.

    Strike 90 dip 90 dips to the south, so the hanging wall is the southern block and rake 0
    moves it east: u_x(north) - u_x(south) = -slip (left-lateral); rake 180 reverses it.
    """
    normal, direction = fault_vectors(90.0, 90.0, rake)
    np.testing.assert_allclose(normal, [0, -1, 0], atol=1e-12)
    jump = -slip * direction[0]  # north-minus-south = -(hanging wall motion along x)
    assert jump == pytest.approx(-slip if rake == 0.0 else slip)

    patches = rectangular_fault(
        (0.0, 0.0, -TOP), 90.0, 90.0, rake, LONG, BOTTOM - TOP, np.full((1, 1), slip)
    )
    y, depth, points = _centre_points()
    sigma = stress_change(points, patches)
    sxy, sxz = _antiplane_stress(y, depth, jump)
    scale = np.abs(np.concatenate([sxy, sxz])).max()
    assert 1e5 * slip < scale < 1e7 * slip  # sanity: ~MPa per metre of slip
    np.testing.assert_allclose(sigma[:, 2], sxy, rtol=0.01, atol=100.0 * slip)
    np.testing.assert_allclose(sigma[:, 3], sxz, rtol=0.01, atol=100.0 * slip)
    # antiplane: the in-plane components (xx, yy, yz, zz) vanish
    np.testing.assert_allclose(sigma[:, [0, 1, 4, 5]], 0.0, atol=100.0 * slip)


def test_antiplane_solution_wrong_sign_fails() -> None:
    """Guard: the comparison discriminates the slip sense (the opposite jump is far off)."""
    patches = rectangular_fault(
        (0.0, 0.0, -TOP), 90.0, 90.0, 0.0, LONG, BOTTOM - TOP, np.ones((1, 1))
    )
    y, depth, points = _centre_points()
    sigma = stress_change(points, patches)
    sxy, _ = _antiplane_stress(y, depth, +1.0)
    assert np.abs(sigma[:, 2] - sxy).max() > 1e5


def test_elastic_constants() -> None:
    """lambda = mu = 3e10 Pa, hence Poisson's ratio 0.25."""
    assert SHEAR_MODULUS == LAME_LAMBDA == 3.0e10
    assert pytest.approx(0.25) == POISSON


def test_rectangular_fault_geometry() -> None:
    """Corner order, patch tiling, slip vectors and the surface check."""
    strike, dip, rake = 30.0, 40.0, 70.0
    slip = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    top = np.array([1e3, 2e3, -1e3])
    p = rectangular_fault(tuple(top), strike, dip, rake, 9e3, 4e3, slip)
    normal, direction = fault_vectors(strike, dip, rake)
    along = np.array([np.sin(np.radians(strike)), np.cos(np.radians(strike)), 0.0])
    down = np.cross(along, normal)
    assert p.corners.shape == (6, 4, 3)
    np.testing.assert_allclose(p.slip, slip.reshape(-1, 1) * direction)
    np.testing.assert_allclose(p.hanging_wall_normal, normal)
    first = p.corners[0]  # top-start, top-end, bottom-end, bottom-start of the shallow row
    start = top - along * 4.5e3
    np.testing.assert_allclose(first[0], start, atol=1e-6)
    np.testing.assert_allclose(first[1], start + along * 3e3, atol=1e-6)
    np.testing.assert_allclose(first[2], start + along * 3e3 + down * 2e3, atol=1e-6)
    np.testing.assert_allclose(first[3], start + down * 2e3, atol=1e-6)
    # the bottom edge of the deepest row lies at depth 1 km + 4 km sin(dip)
    assert p.corners[:, :, 2].min() == pytest.approx(-1e3 - 4e3 * np.sin(np.radians(dip)))
    with pytest.raises(ValueError, match="half-space"):
        rectangular_fault((0.0, 0.0, 10.0), 0.0, 45.0, 90.0, 1e3, 1e3, np.ones((1, 1)))


def _off_fault_points(seed: int = 0) -> np.ndarray:
    """Points in a 60 km box down to 30 km depth, away from the test faults."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-30e3, 30e3, (2, 300))
    return np.stack([x, y, rng.uniform(-30e3, -100.0, 300)], axis=1)


def test_reversed_strike_describes_same_vertical_fault() -> None:
    """Strike 90 and strike 270 (same plane, opposite vertex order) give the same field for
    left-lateral slip, which exercises the triangle-orientation flip."""
    points = _off_fault_points(1)
    a = rectangular_fault((0.0, 0.0, -1e3), 90.0, 90.0, 0.0, 20e3, 8e3, np.ones((1, 1)))
    b = rectangular_fault((0.0, 0.0, -1e3), 270.0, 90.0, 0.0, 20e3, 8e3, np.ones((1, 1)))
    sa, sb = stress_change(points, a), stress_change(points, b)
    np.testing.assert_allclose(sb, sa, rtol=1e-6, atol=1e-6 * np.abs(sa).max())


def test_subdivision_does_not_change_uniform_slip() -> None:
    """A uniformly slipping thrust gives the same stress as one patch or as 3 x 4 patches."""
    points = _off_fault_points(2)
    args = ((2e3, -1e3, -2e3), 30.0, 40.0, 90.0, 20e3, 10e3)
    one = stress_change(points, rectangular_fault(*args, np.ones((1, 1))))
    many = stress_change(points, rectangular_fault(*args, np.ones((3, 4))))
    np.testing.assert_allclose(many, one, rtol=1e-6, atol=1e-6 * np.abs(one).max())


def test_linear_in_slip_and_superposition() -> None:
    """Stress scales linearly with slip and is additive over patches."""
    points = _off_fault_points(3)
    args = ((0.0, 0.0, -3e3), 200.0, 60.0, -120.0, 16e3, 8e3)
    base = stress_change(points, rectangular_fault(*args, np.ones((1, 2))))
    scaled = stress_change(points, rectangular_fault(*args, np.full((1, 2), 2.5)))
    np.testing.assert_allclose(scaled, 2.5 * base, rtol=1e-9, atol=1e-9 * np.abs(base).max())
    zero = stress_change(points, rectangular_fault(*args, np.zeros((1, 2))))
    np.testing.assert_array_equal(zero, 0.0)
    mixed = rectangular_fault(*args, np.array([[1.0, 3.0]]))
    left = Patches(mixed.corners[:1], mixed.slip[:1], mixed.hanging_wall_normal)
    right = Patches(mixed.corners[1:], mixed.slip[1:], mixed.hanging_wall_normal)
    np.testing.assert_allclose(
        stress_change(points, mixed),
        stress_change(points, left) + stress_change(points, right),
        rtol=1e-9,
        atol=1e-9 * np.abs(base).max(),
    )


def test_free_surface_is_traction_free() -> None:
    """Near-surface sigma_xz, sigma_yz, sigma_zz vanish for an inclined buried thrust.

    At z = 0 they vanish to round-off; at z = -1 m they are O(1 m / length scale) of the
    stress and linear in depth (2 sigma(-1 m) - sigma(-2 m) ~ 0).
    """
    patches = rectangular_fault((0.0, 0.0, -1e3), 30.0, 40.0, 90.0, 20e3, 10e3, np.ones((1, 1)))
    grid = np.linspace(-30e3, 30e3, 13)
    x, y = (a.ravel() for a in np.meshgrid(grid, grid))

    def at(z: float) -> np.ndarray:
        return stress_change(np.stack([x, y, np.full(x.size, z)], axis=1), patches)

    surface, one, two = at(0.0), at(-1.0), at(-2.0)
    typical = np.abs(one).max()
    assert typical > 1e6  # MPa-level stresses at the surface for 1 m of slip
    traction = [3, 4, 5]  # xz, yz, zz
    assert np.abs(surface[:, traction]).max() < 1e-9 * typical
    assert np.abs(one[:, traction]).max() < 1e-2 * typical
    assert np.abs(2 * one[:, traction] - two[:, traction]).max() < 1e-4 * typical
    # whereas at depth the same components are of the order of the stress itself
    deep = at(-5e3)
    assert np.abs(deep[:, traction]).max() > 0.1 * typical


@pytest.mark.parametrize("azimuth", [0.3, 1.2, 2.5])
def test_far_field_decays_as_inverse_cube(azimuth: float) -> None:
    """Away from a small patch the stress falls monotonically, tending to r^-3."""
    patches = rectangular_fault((0.0, 0.0, -5e3), 20.0, 60.0, 45.0, 4e3, 3e3, np.ones((1, 1)))
    r = 50e3 * 2.0 ** np.arange(6)  # 50 km ... 1600 km
    direction = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
    norms = np.linalg.norm(stress_change(r[:, None] * direction + [0, 0, -5e3], patches), axis=1)
    assert np.all(np.diff(norms) < 0)
    slopes = np.log2(norms[1:] / norms[:-1])
    assert slopes[-1] == pytest.approx(-3.0, abs=0.1)
    assert norms[-1] < 1e-4 * norms[0]  # 32x farther: ~32^-3 = 3e-5


@pytest.mark.parametrize(
    ("strike", "dip", "rake"),
    [
        (90.0, 90.0, 0.0),
        (270.0, 90.0, 0.0),
        (30.0, 40.0, 90.0),
        (200.0, 60.0, -90.0),
        (120.0, 70.0, 150.0),
    ],
)
def test_stress_drop_inside_and_loading_beyond_edges(
    strike: float, dip: float, rake: float
) -> None:
    """Shear traction in the slip direction drops over the slipping patch and rises beyond its
    edges, for strike-slip, thrust, normal and oblique slip: the slip sense is consistent."""
    length, width = 10e3, 6e3
    top = np.array([1e3, -2e3, -3e3])
    patches = rectangular_fault(tuple(top), strike, dip, rake, length, width, np.ones((1, 1)))
    normal, direction = fault_vectors(strike, dip, rake)
    along = np.array([np.sin(np.radians(strike)), np.cos(np.radians(strike)), 0.0])
    down = np.cross(along, normal)
    inside = top + down * width / 2 + along * length / 5  # off the triangles' shared diagonal
    points = np.array(
        [
            inside + 10.0 * normal,  # hanging wall side
            inside - 10.0 * normal,  # footwall side
            top + down * (width + 500.0),  # beyond the bottom edge
            top - along * (length / 2 + 500.0) + down * width / 2,  # beyond either end
            top + along * (length / 2 + 500.0) + down * width / 2,
        ]
    )
    tau, _ = resolve_on_plane(stress_change(points, patches), normal, direction)
    assert np.all(tau[:2] < -1e6)  # MPa stress drop for 1 m on a 6 km wide patch
    assert np.all(tau[2:] > 1e6)
