"""Stress change from slip on rectangular fault patches in an elastic half-space.

Each rectangle is split into two triangular dislocations computed with ``cutde``
(Nikkhoo & Walter 2015 half-space triangular dislocations): a maintained library of the
field, where Okada's rectangles would need a Fortran compiler. Lame parameters
lambda = mu = 3e10 Pa as in the original pre-processing (Poisson ratio 0.25).
Coordinates in metres, x east, y north, z up (z <= 0 in the solid).
"""

from __future__ import annotations

from dataclasses import dataclass

import cutde.halfspace
import numpy as np

from ..stress import fault_vectors

SHEAR_MODULUS = 3.0e10
LAME_LAMBDA = 3.0e10
POISSON = LAME_LAMBDA / (2.0 * (LAME_LAMBDA + SHEAR_MODULUS))

# cutde's strain output order (xx, yy, zz, xy, xz, yz) -> ours (xx, yy, xy, xz, yz, zz).
_CUTDE_TO_COMPONENTS = [0, 1, 3, 4, 5, 2]


@dataclass(frozen=True)
class Patches:
    """Rectangular dislocations: corners (n, 4, 3), ordered top-start, top-end, bottom-end,
    bottom-start along strike, and slip (n, 3), the hanging wall's displacement relative to
    the footwall in east/north/up metres."""

    corners: np.ndarray
    slip: np.ndarray
    hanging_wall_normal: np.ndarray


def rectangular_fault(
    top_centre: tuple[float, float, float],
    strike: float,
    dip: float,
    rake: float,
    length: float,
    width: float,
    slip: np.ndarray,
) -> Patches:
    """Discretise a planar fault into ``slip.shape`` = (n_down_dip, n_along_strike) patches.

    ``top_centre`` is the midpoint of the top edge (metres, z <= 0); ``slip`` holds each
    patch's slip magnitude (m), all in the direction given by ``rake``.
    """
    slip = np.asarray(slip, dtype=np.float64)
    n_dip, n_strike = slip.shape
    normal, slip_direction = fault_vectors(strike, dip, rake)
    phi, delta = np.radians(strike), np.radians(dip)
    along = np.array([np.sin(phi), np.cos(phi), 0.0])
    down = np.array([np.cos(delta) * np.cos(phi), -np.cos(delta) * np.sin(phi), -np.sin(delta)])
    start = np.asarray(top_centre, dtype=np.float64) - along * length / 2.0
    s_edges = np.linspace(0.0, length, n_strike + 1)
    d_edges = np.linspace(0.0, width, n_dip + 1)
    corners = np.empty((n_dip, n_strike, 4, 3))
    for i in range(n_dip):
        for j in range(n_strike):
            corners[i, j] = [
                start + along * s_edges[j] + down * d_edges[i],
                start + along * s_edges[j + 1] + down * d_edges[i],
                start + along * s_edges[j + 1] + down * d_edges[i + 1],
                start + along * s_edges[j] + down * d_edges[i + 1],
            ]
    if corners[..., 2].max() > 1e-6:
        raise ValueError("fault patches must lie in the half-space (z <= 0)")
    return Patches(
        corners=corners.reshape(-1, 4, 3),
        slip=slip.reshape(-1, 1) * slip_direction,
        hanging_wall_normal=normal,
    )


def triangles(patches: Patches) -> tuple[np.ndarray, np.ndarray]:
    """Split rectangles into triangles and express each slip in the triangle's own frame.

    cutde takes slip as (strike-slip, dip-slip, opening) in each triangle's frame, built from
    its vertex order as in Nikkhoo & Walter (2015); the frame is rebuilt here so that the
    east/north/up slip maps onto it whatever the vertex order.
    """
    c = patches.corners
    tris = np.concatenate([c[:, [0, 1, 2]], c[:, [0, 2, 3]]], axis=0)
    burgers = np.concatenate([patches.slip, patches.slip], axis=0)
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    strike = np.cross(np.array([0.0, 0.0, 1.0]), normal)
    horizontal = np.linalg.norm(strike, axis=1) == 0
    strike[horizontal] = np.array([0.0, 1.0, 0.0]) * normal[horizontal, 2:3]
    strike /= np.linalg.norm(strike, axis=1, keepdims=True)
    dip = np.cross(normal, strike)
    # cutde's slip is the motion of the side the triangle's normal points into relative to the
    # other side (checked against the antiplane solution in tests/unit/test_dislocation.py); flip
    # it where the normal points into the footwall.
    orientation = np.sign(normal @ patches.hanging_wall_normal)[:, None]
    local = orientation * np.stack(
        [(burgers * strike).sum(1), (burgers * dip).sum(1), (burgers * normal).sum(1)], axis=1
    )
    return tris, local


def stress_change(points: np.ndarray, patches: Patches) -> np.ndarray:
    """Stress-change tensors (n, 6) in Pa at ``points`` (n, 3), components xx yy xy xz yz zz."""
    tris, local_slip = triangles(patches)
    strain = cutde.halfspace.strain_free(
        np.ascontiguousarray(points, dtype=np.float64), np.ascontiguousarray(tris),
        np.ascontiguousarray(local_slip), POISSON,
    )
    stress = cutde.halfspace.strain_to_stress(strain, SHEAR_MODULUS, POISSON)
    return stress[:, _CUTDE_TO_COMPONENTS]
