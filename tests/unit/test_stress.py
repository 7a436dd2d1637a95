"""Checks of the scalar stress metrics in ``aftershock_replication.stress`` against slow or
independently derived references (per-row eigen-decompositions, textbook formulas, hand-worked
tractions, Aki & Richards' closed-form fault vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from aftershock_replication import stress
from aftershock_replication.stress import (
    COMPONENTS,
    COULOMB_CONVENTIONS,
    FRICTION,
    as_matrices,
    coulomb,
    fault_vectors,
    max_shear,
    principal_stresses,
    resolve_on_plane,
    sum_abs,
    von_mises,
)


def _random_tensors(n: int, seed: int = 0) -> np.ndarray:
    """Random (n, 6) stress-change tensors of order 1 MPa in ``COMPONENTS`` order."""
    return np.random.default_rng(seed).normal(scale=1e6, size=(n, 6))


def _tensor(**components: float) -> np.ndarray:
    """One (1, 6) tensor from named components, e.g. ``_tensor(xx=1.0, xy=2.0)``."""
    row = np.zeros((1, 6))
    for name, value in components.items():
        row[0, COMPONENTS.index(name)] = value
    return row


def _rotation(seed: int) -> np.ndarray:
    """A random proper rotation matrix (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _from_matrix(m: np.ndarray) -> np.ndarray:
    """A symmetric 3x3 matrix -> (1, 6) row in ``COMPONENTS`` order."""
    return np.array([[m[0, 0], m[1, 1], m[0, 1], m[0, 2], m[1, 2], m[2, 2]]])


def test_component_order_and_matrix_layout() -> None:
    """The six components map onto the symmetric matrix at the named positions."""
    assert COMPONENTS == ("xx", "yy", "xy", "xz", "yz", "zz")
    row = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    expected = np.array([[1.0, 3.0, 4.0], [3.0, 2.0, 5.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(as_matrices(row)[0], expected)
    np.testing.assert_array_equal(_from_matrix(expected), row)


def test_principal_stresses_match_per_row_eig(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sorted eigenvalues from a per-row general ``numpy.linalg.eig`` loop; small chunks too."""
    tensors = _random_tensors(257)
    reference = np.empty((len(tensors), 3))
    for i, (xx, yy, xy, xz, yz, zz) in enumerate(tensors):
        values = np.linalg.eig(np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]))[0]
        reference[i] = np.sort(values.real)
    np.testing.assert_allclose(principal_stresses(tensors), reference, rtol=1e-10, atol=1e-4)
    monkeypatch.setattr(stress, "_CHUNK", 10)  # exercise the chunk boundaries
    np.testing.assert_allclose(principal_stresses(tensors), reference, rtol=1e-10, atol=1e-4)
    # first invariant: the trace
    np.testing.assert_allclose(
        principal_stresses(tensors).sum(1), tensors[:, [0, 1, 5]].sum(1), rtol=1e-9, atol=1e-3
    )


def test_principal_stresses_diagonal_and_rotated() -> None:
    """diag(D) and R D R^T both have principal values sort(D)."""
    d = np.array([3.0e5, -7.0e5, 1.0e5])
    np.testing.assert_allclose(
        principal_stresses(_tensor(xx=d[0], yy=d[1], zz=d[2]))[0], np.sort(d)
    )
    for seed in range(5):
        r = _rotation(seed)
        rotated = _from_matrix(r @ np.diag(d) @ r.T)
        np.testing.assert_allclose(principal_stresses(rotated)[0], np.sort(d), atol=1e-6)
        np.testing.assert_allclose(max_shear(rotated), [(d.max() - d.min()) / 2], atol=1e-6)
        np.testing.assert_allclose(
            von_mises(rotated), von_mises(_tensor(xx=d[0], yy=d[1], zz=d[2])), rtol=1e-12
        )


def test_max_shear_pure_shear_and_uniaxial() -> None:
    """Pure shear tau has max shear tau (any shear component); uniaxial sigma gives |sigma|/2."""
    tau = 2.5e5
    for name in ("xy", "xz", "yz"):
        np.testing.assert_allclose(max_shear(_tensor(**{name: tau})), [tau])
        np.testing.assert_allclose(max_shear(_tensor(**{name: -tau})), [tau])
        np.testing.assert_allclose(
            principal_stresses(_tensor(**{name: tau}))[0], [-tau, 0.0, tau], atol=1e-9
        )
    np.testing.assert_allclose(max_shear(_tensor(zz=-4e5)), [2e5])


def test_max_shear_matches_principal_spread() -> None:
    """Max shear equals half the spread of per-row eigenvalues from an independent loop."""
    tensors = _random_tensors(50, seed=1)
    spread = np.array([np.ptp(np.linalg.eigvalsh(m)) for m in as_matrices(tensors)])
    np.testing.assert_allclose(max_shear(tensors), spread / 2, rtol=1e-10)
    assert np.all(max_shear(tensors) >= 0)


def test_von_mises_textbook_formula() -> None:
    """sqrt(3 J2) equals sqrt(((s1-s2)^2 + (s2-s3)^2 + (s3-s1)^2) / 2) of the principal values."""
    tensors = _random_tensors(200, seed=2)
    s1, s2, s3 = np.linalg.eigvalsh(as_matrices(tensors)).T
    textbook = np.sqrt(((s1 - s2) ** 2 + (s2 - s3) ** 2 + (s3 - s1) ** 2) / 2)
    np.testing.assert_allclose(von_mises(tensors), textbook, rtol=1e-10)


def test_von_mises_simple_states() -> None:
    """Uniaxial -> |sigma|; pure shear -> sqrt(3) tau; hydrostatic -> 0; deviatoric shift-free."""
    for name in ("xx", "yy", "zz"):
        np.testing.assert_allclose(von_mises(_tensor(**{name: -3e5})), [3e5])
    for name in ("xy", "xz", "yz"):
        np.testing.assert_allclose(von_mises(_tensor(**{name: 2e5})), [np.sqrt(3) * 2e5])
    np.testing.assert_allclose(von_mises(_tensor(xx=5e5, yy=5e5, zz=5e5)), [0.0], atol=1e-9)
    tensors = _random_tensors(20, seed=3)
    shifted = tensors.copy()
    shifted[:, [0, 1, 5]] += 1.234e6
    np.testing.assert_allclose(von_mises(shifted), von_mises(tensors), rtol=1e-9)


def test_sum_abs() -> None:
    """Sum of |component| over the six independent components (off-diagonals counted once)."""
    row = np.array([[1.0, -2.0, 3.0, -4.0, 5.0, -6.0], [0.0, 0.0, -1.5, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(sum_abs(row), [21.0, 1.5])
    tensors = _random_tensors(30, seed=4)
    loop = [sum(abs(v) for v in t) for t in tensors]
    np.testing.assert_allclose(sum_abs(tensors), loop)


def _aki_richards_enu(strike: float, dip: float, rake: float) -> tuple[np.ndarray, np.ndarray]:
    """Aki & Richards (2002, eq. 4.88-4.89) normal and slip, north/east/down, converted to ENU."""
    phi, delta, lam = np.radians([strike, dip, rake])
    n_ned = np.array([-np.sin(delta) * np.sin(phi), np.sin(delta) * np.cos(phi), -np.cos(delta)])
    u_ned = np.array(
        [
            np.cos(lam) * np.cos(phi) + np.cos(delta) * np.sin(lam) * np.sin(phi),
            np.cos(lam) * np.sin(phi) - np.cos(delta) * np.sin(lam) * np.cos(phi),
            -np.sin(lam) * np.sin(delta),
        ]
    )
    to_enu = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    return to_enu @ n_ned, to_enu @ u_ned


@pytest.mark.parametrize(
    ("strike", "dip", "rake", "normal", "slip"),
    [
        # vertical, strike north: dips to the east, hanging wall = east block; rake 0 moves
        # it north (left-lateral), rake 180 south (right-lateral)
        (0.0, 90.0, 0.0, (1, 0, 0), (0, 1, 0)),
        (0.0, 90.0, 180.0, (1, 0, 0), (0, -1, 0)),
        # vertical, strike east: hanging wall = south block
        (90.0, 90.0, 0.0, (0, -1, 0), (1, 0, 0)),
        # strike east dipping 45 deg south: thrust moves the hanging wall up-dip (north, up),
        # a normal fault down-dip
        (90.0, 45.0, 90.0, (0, -np.sqrt(0.5), np.sqrt(0.5)), (0, np.sqrt(0.5), np.sqrt(0.5))),
        (90.0, 45.0, -90.0, (0, -np.sqrt(0.5), np.sqrt(0.5)), (0, -np.sqrt(0.5), -np.sqrt(0.5))),
        # horizontal plane: normal up, rake 0 slip along strike
        (45.0, 0.0, 0.0, (0, 0, 1), (np.sqrt(0.5), np.sqrt(0.5), 0)),
    ],
)
def test_fault_vectors_textbook_cases(
    strike: float, dip: float, rake: float, normal: tuple, slip: tuple
) -> None:
    """Hand-derived normal (into the hanging wall) and slip for standard geometries."""
    n, s = fault_vectors(strike, dip, rake)
    np.testing.assert_allclose(n, normal, atol=1e-12)
    np.testing.assert_allclose(s, slip, atol=1e-12)


def test_fault_vectors_random_angles() -> None:
    """Unit, orthogonal, match Aki & Richards' closed form, and the plane dips to the right."""
    rng = np.random.default_rng(5)
    for strike, dip, rake in zip(
        rng.uniform(0, 360, 50), rng.uniform(1, 89, 50), rng.uniform(-180, 180, 50), strict=True
    ):
        n, s = fault_vectors(strike, dip, rake)
        ref_n, ref_s = _aki_richards_enu(strike, dip, rake)
        np.testing.assert_allclose(n, ref_n, atol=1e-12)
        np.testing.assert_allclose(s, ref_s, atol=1e-12)
        assert np.linalg.norm(n) == pytest.approx(1.0)
        assert np.linalg.norm(s) == pytest.approx(1.0)
        assert abs(n @ s) < 1e-12
        assert n[2] > 0  # hanging wall is above a dipping plane
        # horizontal part of the normal points 90 deg clockwise of strike (dip direction)
        dip_azimuth = np.radians(strike + 90.0)
        horizontal = np.array([np.sin(dip_azimuth), np.cos(dip_azimuth)])
        np.testing.assert_allclose(n[:2], np.sin(np.radians(dip)) * horizontal, atol=1e-12)
        # vertical slip component up for reverse (rake > 0) motion
        assert np.sign(s[2]) == np.sign(np.sin(np.radians(rake)))


def test_resolve_on_plane_matches_matrix_product() -> None:
    """Traction t = sigma n; shear = slip . t, normal = n . t."""
    tensors = _random_tensors(40, seed=6)
    n, s = fault_vectors(123.0, 37.0, -71.0)
    traction = np.einsum("kij,j->ki", as_matrices(tensors), n)
    shear, normal = resolve_on_plane(tensors, n, s)
    np.testing.assert_allclose(shear, traction @ s, rtol=1e-10, atol=1e-4)
    np.testing.assert_allclose(normal, traction @ n, rtol=1e-10, atol=1e-4)


def test_coulomb_conventions_order() -> None:
    """Column k is a_k * tau + b_k * friction * sigma_n with column 0 the standard (+, +)."""
    assert FRICTION == 0.4
    assert COULOMB_CONVENTIONS == ((1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0))


def test_coulomb_vertical_plane_by_hand() -> None:
    """Strike 0, dip 90, rake 0: n = east, slip = north, so sigma_n = xx and tau = xy."""
    tensor = _tensor(xx=1.0e5, yy=-3.0e5, xy=2.0e5, xz=7.0e5, yz=-9.0e5, zz=5.0e4)
    tau, sigma_n = 2.0e5, 1.0e5
    expected = [
        tau + 0.4 * sigma_n,
        tau - 0.4 * sigma_n,
        -tau + 0.4 * sigma_n,
        -tau - 0.4 * sigma_n,
    ]
    np.testing.assert_allclose(coulomb(tensor, 0.0, 90.0, 0.0)[0], expected, atol=1e-6)
    # uniaxial tension across the plane unclamps it: standard CFS rises by friction * sigma
    np.testing.assert_allclose(coulomb(_tensor(xx=1e6), 0.0, 90.0, 0.0)[0, 0], 0.4e6)
    # a larger friction coefficient is honoured
    np.testing.assert_allclose(
        coulomb(tensor, 0.0, 90.0, 0.0, friction=0.6)[0, 0], tau + 0.6 * sigma_n, atol=1e-6
    )


def test_coulomb_dipping_thrust_by_hand() -> None:
    """Strike 90, dip 45, rake 90, worked by hand.

    n = (0, -r, r), slip = (0, r, r), r = 1/sqrt(2). With sigma (MPa) xx=5, yy=2, zz=-4,
    xy=1, xz=3, yz=1.5: t = sigma n = r (2, -0.5, -5.5), sigma_n = n.t = 0.25 - 2.75 = -2.5,
    tau = slip.t = -0.25 - 2.75 = -3.0, CFS = -3.0 + 0.4 * -2.5 = -4.0.
    """
    tensor = _tensor(xx=5.0, yy=2.0, zz=-4.0, xy=1.0, xz=3.0, yz=1.5) * 1e6
    n, s = fault_vectors(90.0, 45.0, 90.0)
    shear, normal = resolve_on_plane(tensor, n, s)
    np.testing.assert_allclose(shear, [-3.0e6], rtol=1e-12)
    np.testing.assert_allclose(normal, [-2.5e6], rtol=1e-12)
    np.testing.assert_allclose(
        coulomb(tensor, 90.0, 45.0, 90.0)[0], np.array([-4.0, -2.0, 2.0, 4.0]) * 1e6, rtol=1e-12
    )


def test_coulomb_reversed_rake_flips_shear_only() -> None:
    """Reversing the rake swaps the +tau and -tau columns; the shape is (n, 4)."""
    tensors = _random_tensors(25, seed=7)
    a = coulomb(tensors, 210.0, 55.0, 30.0)
    b = coulomb(tensors, 210.0, 55.0, 30.0 - 180.0)
    assert a.shape == (25, 4)
    np.testing.assert_allclose(a[:, [2, 3, 0, 1]], b, rtol=1e-9, atol=1e-3)
