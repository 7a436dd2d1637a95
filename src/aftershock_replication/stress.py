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


def principal_stresses(tensors: np.ndarray) -> np.ndarray:
    """Principal stresses in ascending order, (n, 3); computed in chunks to bound memory."""
    tensors = np.asarray(tensors, dtype=np.float64)
    out = np.empty((tensors.shape[0], 3))
    for start in range(0, tensors.shape[0], _CHUNK):
        block = tensors[start : start + _CHUNK]
        out[start : start + _CHUNK] = np.linalg.eigvalsh(as_matrices(block))
    return out


def max_shear(tensors: np.ndarray) -> np.ndarray:
    """Maximum shear stress change (sigma_max - sigma_min) / 2."""
    principal = principal_stresses(tensors)
    return (principal[:, 2] - principal[:, 0]) / 2.0


def von_mises(tensors: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress sqrt(3 J2) of the stress-change tensor."""
    t = np.asarray(tensors, dtype=np.float64)
    xx, yy, xy, xz, yz, zz = (t[:, i] for i in range(6))
    j2 = ((xx - yy) ** 2 + (yy - zz) ** 2 + (zz - xx) ** 2) / 6.0 + xy**2 + xz**2 + yz**2
    return np.sqrt(3.0 * j2)


def sum_abs(tensors: np.ndarray) -> np.ndarray:
    """Sum of the absolute values of the six independent components."""
    return np.abs(np.asarray(tensors, dtype=np.float64)).sum(axis=1)


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
