"""Scalar stress metrics from the co-seismic stress-change tensor (pure NumPy).

Tensors are (n, 6) arrays of the six independent components in the original analysis'
order ``COMPONENTS`` (Pa, tension positive). Definitions follow DeVries et al.'s
pre-processing: maximum shear is half the spread of the principal stresses; von Mises is
the equivalent stress sqrt(3 J2); Coulomb is resolved on the mainshock plane.
"""

from __future__ import annotations

import numpy as np

COMPONENTS = ("xx", "yy", "xy", "xz", "yz", "zz")
FRICTION = 0.4
# The four sign conventions of the Coulomb failure stress change, as (shear sign, normal sign):
# the receiver's slip sense and the normal-stress sign convention are both ambiguous in the
# pre-processed files, so all four combinations tau*a + friction*sigma_n*b are kept.
COULOMB_CONVENTIONS = ((1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0))

_CHUNK = 1_000_000


def as_matrices(tensors: np.ndarray) -> np.ndarray:
    """(n, 6) components in ``COMPONENTS`` order -> (n, 3, 3) symmetric matrices."""
    xx, yy, xy, xz, yz, zz = (tensors[:, i] for i in range(6))
    return np.stack(
        [np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1), np.stack([xz, yz, zz], -1)],
        axis=-2,
    )


def _deviatoric_circle(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean stress q, radius p and angle phi of the closed-form eigenvalues of symmetric 3x3
    matrices: q + 2 p cos(phi + 2 pi k / 3), k = 0, 1, 2 (Smith 1961, Commun. ACM 4:168)."""
    xx, yy, xy, xz, yz, zz = (block[:, i] for i in range(6))
    mean = (xx + yy + zz) / 3.0
    dx, dy, dz = xx - mean, yy - mean, zz - mean
    radius = np.sqrt((dx * dx + dy * dy + dz * dz + 2.0 * (xy * xy + xz * xz + yz * yz)) / 6.0)
    safe = np.where(radius > 0, radius, 1.0)
    determinant = (dx * (dy * dz - yz * yz) - xy * (xy * dz - yz * xz)
                   + xz * (xy * yz - dy * xz))
    angle = np.arccos(np.clip(determinant / (2.0 * safe**3), -1.0, 1.0)) / 3.0
    return mean, radius, angle


def principal_stresses(tensors: np.ndarray) -> np.ndarray:
    """Principal stresses in ascending order, (n, 3), in closed form; chunked to bound memory.

    The trigonometric solution of the characteristic cubic, vectorised: LAPACK's per-matrix
    ``eigvalsh`` costs ~0.6 us a cell, several times this at 6 million cells. Accurate to
    ~1e-8 of the deviatoric scale where two principal values coincide, to rounding elsewhere.
    """
    tensors = np.asarray(tensors, dtype=np.float64)
    out = np.empty((tensors.shape[0], 3))
    for start in range(0, tensors.shape[0], _CHUNK):
        mean, radius, angle = _deviatoric_circle(tensors[start : start + _CHUNK])
        largest = mean + 2.0 * radius * np.cos(angle)
        smallest = mean + 2.0 * radius * np.cos(angle + 2.0 * np.pi / 3.0)
        block_out = out[start : start + _CHUNK]
        block_out[:, 0] = smallest
        block_out[:, 1] = 3.0 * mean - largest - smallest
        block_out[:, 2] = largest
    return out


def max_shear(tensors: np.ndarray) -> np.ndarray:
    """Maximum shear stress change (sigma_max - sigma_min) / 2.

    From the closed form: p (cos phi - cos(phi + 2 pi / 3)) = sqrt(3) p sin(phi + pi / 3).
    """
    tensors = np.asarray(tensors, dtype=np.float64)
    out = np.empty(tensors.shape[0])
    for start in range(0, tensors.shape[0], _CHUNK):
        _, radius, angle = _deviatoric_circle(tensors[start : start + _CHUNK])
        out[start : start + _CHUNK] = np.sqrt(3.0) * radius * np.sin(angle + np.pi / 3.0)
    return out


def von_mises(tensors: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress sqrt(3 J2) of the stress-change tensor."""
    t = np.asarray(tensors, dtype=np.float64)
    xx, yy, xy, xz, yz, zz = (t[:, i] for i in range(6))
    j2 = ((xx - yy) ** 2 + (yy - zz) ** 2 + (zz - xx) ** 2) / 6.0 + xy**2 + xz**2 + yz**2
    return np.sqrt(3.0 * j2)


def sum_abs(tensors: np.ndarray) -> np.ndarray:
    """Sum of the absolute values of the six independent components."""
    t = np.asarray(tensors, dtype=np.float64)
    total = np.abs(t[:, 0])
    for i in range(1, 6):
        total += np.abs(t[:, i])
    return total


def fault_vectors(strike: float, dip: float, rake: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit normal (into the hanging wall) and slip direction of a plane, x=east, y=north, z=up.

    Angles in degrees, Aki & Richards convention: strike clockwise from north with the plane
    dipping to its right; rake measured in the plane from the strike direction, positive when
    the hanging wall moves up (rake 0 = left-lateral, 90 = reverse).
    """
    phi, delta, lam = np.radians([strike, dip, rake])
    along_strike = np.array([np.sin(phi), np.cos(phi), 0.0])
    down_dip = np.array([np.cos(delta) * np.cos(phi), -np.cos(delta) * np.sin(phi), -np.sin(delta)])
    normal = np.cross(down_dip, along_strike)
    slip = np.cos(lam) * along_strike - np.sin(lam) * down_dip
    return normal, slip


def resolve_on_plane(
    tensors: np.ndarray, normal: np.ndarray, slip: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shear traction along ``slip`` and normal traction (tension positive) on a plane."""
    t = np.asarray(tensors, dtype=np.float64)
    xx, yy, xy, xz, yz, zz = (t[:, i] for i in range(6))
    n0, n1, n2 = normal
    traction = np.stack(
        [xx * n0 + xy * n1 + xz * n2, xy * n0 + yy * n1 + yz * n2, xz * n0 + yz * n1 + zz * n2],
        axis=1,
    )
    return traction @ slip, traction @ normal


def coulomb(
    tensors: np.ndarray, strike: float, dip: float, rake: float, friction: float = FRICTION
) -> np.ndarray:
    """Coulomb failure stress change on the given plane under the four sign conventions, (n, 4)."""
    normal, slip = fault_vectors(strike, dip, rake)
    shear, normal_stress = resolve_on_plane(tensors, normal, slip)
    return np.stack(
        [a * shear + b * friction * normal_stress for a, b in COULOMB_CONVENTIONS], axis=1
    )
