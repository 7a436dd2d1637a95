"""The study region of a slip model and its 3-D cells, as Process-Srcmod-Files made them
(``Calculate.calcFaultBuffer``, ``calcBufferGridPoints``, ``getGridIdNames`` and
``ISCFunctions.binNearFieldIscEventsBuffer``).

The region is the union of 100 km discs (polygons of 64 sides, shapely's default then and
now) around every corner of every subfault. Square cells of 5 km start at the region's
smallest easting and northing; a cell is kept when the region contains it whole. Each kept
square is repeated in ten layers 5 km thick down to 50 km, stresses at the centres
(depths 2.5 ... 47.5 km). A catalogue event falls in a cell when it lies strictly inside
the square (an event on a cell's edge falls in none, as with shapely's ``contains``) and
its depth d (km) has 5 km * layer <= 1000 |d| m < 5 km * (layer + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

BUFFER_M = 100e3
CELL_M = 5e3
MAX_DEPTH_M = 50e3
DISC_QUADRANT_SEGMENTS = 16  # shapely's default resolution, which the original used


@dataclass(frozen=True)
class Grid:
    """Kept cells of one slip model: square ``row``/``column`` on the ``x_edges`` /
    ``y_edges`` lattice (UTM metres), in the original's order (rows of northing, then
    eastings), and the depth layers' boundaries (m, positive down)."""

    region: shapely.Polygon
    x_edges: np.ndarray
    y_edges: np.ndarray
    row: np.ndarray
    column: np.ndarray
    depth_edges: np.ndarray

    @property
    def layers(self) -> int:
        return self.depth_edges.size - 1

    @property
    def cells(self) -> int:
        """3-D cells: squares times layers."""
        return self.row.size * self.layers

    def centres(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y, z (m, z negative) of every 3-D cell, layer by layer (the original's order:
        all squares at 2.5 km, then at 7.5 km, ...)."""
        x0, x1 = self.x_edges[self.column], self.x_edges[self.column + 1]
        y0, y1 = self.y_edges[self.row], self.y_edges[self.row + 1]
        x = x0 + (x1 - x0) / 2.0
        y = y0 + (y1 - y0) / 2.0
        depths = self.depth_edges[1:] - (self.depth_edges[1] - self.depth_edges[0]) / 2.0
        return (np.tile(x, self.layers), np.tile(y, self.layers),
                np.repeat(-depths, self.row.size))

    def grid_ids(self) -> list[str]:
        """'<depth of the centre in m>_<index of the square>', e.g. '2500.0_17' (the
        original's ``str(-z) + '_' + str(i)``)."""
        _, _, z = self.centres()
        index = np.tile(np.arange(self.row.size), self.layers)
        return [f"{-depth!r}_{i}" for depth, i in zip(z.tolist(), index.tolist(), strict=True)]


def study_region(corners: np.ndarray, distance: float = BUFFER_M) -> shapely.Polygon:
    """Union of discs of radius ``distance`` around ``corners`` (n, 2) in metres."""
    discs = shapely.buffer(shapely.points(corners.reshape(-1, 2)), distance,
                           quad_segs=DISC_QUADRANT_SEGMENTS)
    region = shapely.union_all(discs)
    if not isinstance(region, shapely.Polygon):
        raise ValueError("the subfaults' discs do not form one region (segments more than "
                         f"{2 * distance / 1e3:.0f} km apart)")
    return region


def build_grid(region: shapely.Polygon, spacing: float = CELL_M,
               max_depth: float = MAX_DEPTH_M) -> Grid:
    """The squares of ``spacing`` the region contains whole, on a lattice from its bounds."""
    exterior = np.asarray(region.exterior.coords)
    x_edges = np.arange(exterior[:, 0].min(), exterior[:, 0].max(), spacing)
    y_edges = np.arange(exterior[:, 1].min(), exterior[:, 1].max(), spacing)
    row, column = np.meshgrid(np.arange(y_edges.size - 1), np.arange(x_edges.size - 1),
                              indexing="ij")
    row, column = row.ravel(), column.ravel()
    squares = shapely.box(x_edges[column], y_edges[row], x_edges[column + 1], y_edges[row + 1])
    shapely.prepare(region)
    inside = shapely.contains(region, squares)
    depth_edges = np.arange(0.0, max_depth + spacing, spacing)
    return Grid(region=region, x_edges=x_edges, y_edges=y_edges, row=row[inside],
                column=column[inside], depth_edges=depth_edges)


def bin_events(grid: Grid, x: np.ndarray, y: np.ndarray, depth_km: np.ndarray) -> np.ndarray:
    """Events per 3-D cell, in ``Grid.centres`` order (module docstring for the rule)."""
    counts = np.zeros(grid.cells, dtype=np.int64)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    depth = 1000.0 * np.abs(np.asarray(depth_km, dtype=np.float64))
    column = np.searchsorted(grid.x_edges, x, side="right") - 1
    row = np.searchsorted(grid.y_edges, y, side="right") - 1
    layer = np.searchsorted(grid.depth_edges, depth, side="right") - 1
    ok = ((column >= 0) & (column < grid.x_edges.size - 1) & (row >= 0)
          & (row < grid.y_edges.size - 1) & (layer >= 0) & (layer < grid.layers))
    # strictly inside the square: not on its west or south edge (the east and north edges
    # are excluded by side="right" already)
    ok &= (x > grid.x_edges[np.clip(column, 0, None)]) & (y > grid.y_edges[np.clip(row, 0, None)])
    square_of = np.full((grid.y_edges.size - 1, grid.x_edges.size - 1), -1, dtype=np.int64)
    square_of[grid.row, grid.column] = np.arange(grid.row.size)
    square = np.where(ok, square_of[np.clip(row, 0, square_of.shape[0] - 1),
                                    np.clip(column, 0, square_of.shape[1] - 1)], -1)
    kept = square >= 0
    np.add.at(counts, layer[kept] * grid.row.size + square[kept], 1)
    return counts
