"""The demo's geometry: planar ruptures in region-local metres and the lattice of 5 km
cells in depth layers around them (shared by a region, so that cells of related slip
models coincide)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .dislocation import Patches, rectangular_fault

CELL_M = 5_000.0
DEPTHS_M = np.arange(2_500.0, 50_000.0, 5_000.0)  # layer centroids 2.5 ... 47.5 km


@dataclass(frozen=True)
class Rupture:
    """A planar rupture in region-local metres (x east, y north, z up)."""

    x: float
    y: float
    top_depth: float
    strike: float
    dip: float
    rake: float
    length: float
    width: float

    def patches(self, slip: np.ndarray) -> Patches:
        return rectangular_fault(
            (self.x, self.y, -self.top_depth), self.strike, self.dip, self.rake,
            self.length, self.width, slip,
        )


def cells_2d(rupture: Rupture, buffer_m: float) -> np.ndarray:
    """Lattice indices (n, 2) of the 5 km cells within ``buffer_m`` of the rupture's map view."""
    phi, delta = math.radians(rupture.strike), math.radians(rupture.dip)
    along = np.array([math.sin(phi), math.cos(phi)])
    across = np.array([math.cos(phi), -math.sin(phi)])  # horizontal down-dip direction
    half = rupture.length / 2.0
    projected_width = rupture.width * math.cos(delta)
    corners = np.array([[rupture.x, rupture.y]]) + np.array(
        [a * along + b * across for a in (-half, half) for b in (0.0, projected_width)]
    )
    low = np.floor((corners.min(0) - buffer_m) / CELL_M).astype(int)
    high = np.ceil((corners.max(0) + buffer_m) / CELL_M).astype(int)
    ii, jj = np.meshgrid(np.arange(low[0], high[0]), np.arange(low[1], high[1]), indexing="ij")
    index = np.stack([ii.ravel(), jj.ravel()], axis=1)
    centres = (index + 0.5) * CELL_M - np.array([rupture.x, rupture.y])
    u, v = centres @ along, centres @ across
    du = np.maximum(np.abs(u) - half, 0.0)
    dv = np.maximum(np.maximum(-v, v - projected_width), 0.0)
    return index[np.hypot(du, dv) <= buffer_m]


def cells_3d(index_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell lattice indices (n, 3) over all depth layers and their centres (n, 3), metres."""
    layers = np.arange(DEPTHS_M.size)
    index = np.concatenate(
        [np.c_[index_2d, np.full(len(index_2d), k)] for k in layers], axis=0
    )
    centres = np.c_[(index[:, :2] + 0.5) * CELL_M, -DEPTHS_M[index[:, 2]]]
    return index, centres


def cell_keys(index: np.ndarray) -> np.ndarray:
    """Pack lattice indices (each within +-2**20; depth layer < 16) into unique int64 keys."""
    shifted = index.astype(np.int64) + np.array([1 << 20, 1 << 20, 0])
    return (shifted[:, 0] << 26) | (shifted[:, 1] << 4) | shifted[:, 2]
