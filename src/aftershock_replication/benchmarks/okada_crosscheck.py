"""Half-space stresses of ``data.dislocation`` (cutde's triangles) against Okada's (1992)
rectangles (DC3D, through the ``okada_wrapper`` package, as the original pre-processing
computed them) on realistic faults (a benchmark, run once).

Two faults, each on the study's grid of 5 km cells (centres 2.5 ... 47.5 km deep, within
``--half-width`` km of the fault's centre): a vertical strike-slip fault 83 km long in
28 x 6 patches, surface-breaking, and a buried oblique thrust in 15 x 8 patches, both with
variable slip. Reported per fault: the largest stress of either implementation, the largest
absolute difference of any component, that difference relative to the largest stress, and
per-point relative differences, with the wall time of each implementation.

``okada_wrapper`` is compiled Fortran (``apt-get install gfortran && pip install
okada_wrapper``). Its DC3D takes and returns REAL*4, so agreement is bounded below by
single precision (~1e-7 of each patch's contribution).

    python -m aftershock_replication.benchmarks.okada_crosscheck \\
        --out benchmarks/results/okada-crosscheck.json
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json
from ..data.dislocation import LAME_LAMBDA, SHEAR_MODULUS, Patches, rectangular_fault
from ..data.dislocation import stress_change as cutde_stress

# DC3D's medium constant (lambda + mu) / (lambda + 2 mu): 2/3 for lambda = mu
ALPHA = (LAME_LAMBDA + SHEAR_MODULUS) / (LAME_LAMBDA + 2.0 * SHEAR_MODULUS)
INSTALL_HINT = "apt-get install gfortran && pip install okada_wrapper"
_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Dc3dRectangle:
    """One patch as DC3D describes it.

    DC3D's frame has x along strike, y = z x x horizontal, z up; the fault occupies
    (xi, eta cos(dip), -depth + eta sin(dip)) for xi in [0, length], eta in [-width, 0], so
    its reference point (xi = eta = 0) is the top-start corner ``origin`` and it dips toward
    -y. ``frame`` holds DC3D's x, y, z axes as rows, in east/north/up. ``dislocation`` is
    (DISL1, DISL2, DISL3): the block on the side of x cross up-dip relative to the other,
    along strike (left-lateral positive), up-dip (reverse positive) and opening.
    """

    origin: np.ndarray
    frame: np.ndarray
    depth: float
    dip: float
    length: float
    width: float
    dislocation: np.ndarray


def dc3d_rectangles(patches: Patches) -> list[Dc3dRectangle]:
    """Describe each patch in DC3D's terms, whichever way round its corners are ordered.

    Raises ``ValueError`` for a patch that is not a rectangle with horizontal top and bottom
    edges (DC3D cannot represent it) or whose ``hanging_wall_normal`` lies in its plane.
    """
    rectangles = []
    for corners, slip in zip(patches.corners, patches.slip, strict=True):
        c = np.asarray(corners, dtype=np.float64)
        along, down = c[1] - c[0], c[3] - c[0]
        length, width = float(np.linalg.norm(along)), float(np.linalg.norm(down))
        along, down = along / length, down / width
        scale = max(length, width)
        if (abs(along[2]) > 1e-9 or abs(along @ down) > 1e-9
                or np.abs(c[2] - (c[1] + c[3] - c[0])).max() > 1e-9 * scale):
            raise ValueError("DC3D needs rectangles with horizontal top and bottom edges")
        origin = c[0]
        across = np.cross(_UP, along)
        if down @ across > 0.0:  # dips to the left of c0 -> c1: start from the other end
            origin, along, across = c[1], -along, -across
        dip = float(np.degrees(np.arctan2(-down[2], -(down @ across))))
        normal = np.cross(along, -down)  # into DC3D's hanging wall
        side = float(np.sign(normal @ patches.hanging_wall_normal))
        if side == 0.0:
            raise ValueError("hanging_wall_normal lies in the plane of a patch")
        dislocation = side * np.array([slip @ along, slip @ -down, slip @ normal])
        rectangles.append(Dc3dRectangle(
            origin=origin, frame=np.stack([along, across, _UP]), depth=float(-origin[2]),
            dip=dip, length=length, width=width, dislocation=dislocation))
    return rectangles


def stress_from_gradient(gradient: np.ndarray) -> np.ndarray:
    """Hooke's law, lambda = mu = ``SHEAR_MODULUS``: displacement gradients (n, 3, 3),
    ``gradient[:, i, j]`` = du_i/dx_j, to stress tensors (n, 6) in ``stress_change``'s
    component order xx yy xy xz yz zz."""
    g = np.asarray(gradient, dtype=np.float64)
    strain = 0.5 * (g + np.swapaxes(g, 1, 2))
    dilatation = np.trace(strain, axis1=1, axis2=2)
    sigma = 2.0 * SHEAR_MODULUS * strain + LAME_LAMBDA * dilatation[:, None, None] * np.eye(3)
    return sigma[:, [0, 1, 0, 0, 1, 2], [0, 1, 1, 2, 2, 2]]


def okada_gradient(points: np.ndarray, patches: Patches) -> np.ndarray:
    """Displacement gradients (n, 3, 3), ``[:, i, j]`` = du_i/dx_j in east/north/up, summed
    over the patches with ``okada_wrapper``'s DC3D (one call per point and patch).

    ``dc3dwrapper`` returns ``grad_u[i, j]`` = du_j/dx_i (DC3D's UXX, UYX, UZX, UXY, ... in
    row-major order), the transpose of the usual convention. Raises ``ValueError`` where DC3D
    reports a singular point (on a patch edge) or a point above the surface.
    """
    from okada_wrapper import dc3dwrapper

    pts = np.asarray(points, dtype=np.float64)
    total = np.zeros((len(pts), 3, 3))
    for rect in dc3d_rectangles(patches):
        local = (pts - rect.origin) @ rect.frame.T
        local[:, 2] = pts[:, 2]  # DC3D's z is absolute (depth is the reference point's)
        strike_range, dip_range = [0.0, rect.length], [-rect.width, 0.0]
        disl = list(rect.dislocation)
        grad = np.empty((len(pts), 3, 3))
        for k, xyz in enumerate(local):
            code, _, grad_u = dc3dwrapper(ALPHA, xyz, rect.depth, rect.dip, strike_range,
                                          dip_range, disl)
            if code != 0:
                raise ValueError(f"DC3D returned {code} at {pts[k]} (1: singular, 2: z > 0)")
            grad[k] = grad_u.T
        total += rect.frame.T @ grad @ rect.frame  # rotate to east/north/up
    return total


def okada_stress(points: np.ndarray, patches: Patches) -> np.ndarray:
    """Stress-change tensors (n, 6) in Pa from Okada's DC3D, as ``stress_change`` returns."""
    return stress_from_gradient(okada_gradient(points, patches))


def distance_to_patches(points: np.ndarray, patches: Patches) -> np.ndarray:
    """Distance (m) from each point to the nearest patch (rectangles, so the nearest point
    of a patch is found by clamping the in-plane coordinates to its sides)."""
    pts = np.asarray(points, dtype=np.float64)
    nearest = np.full(len(pts), np.inf)
    for c in patches.corners:
        along, down = c[1] - c[0], c[3] - c[0]
        s = np.clip((pts - c[0]) @ along / (along @ along), 0.0, 1.0)
        t = np.clip((pts - c[0]) @ down / (down @ down), 0.0, 1.0)
        closest = c[0] + s[:, None] * along + t[:, None] * down
        nearest = np.minimum(nearest, np.linalg.norm(pts - closest, axis=1))
    return nearest


def compare(points: np.ndarray, patches: Patches, near: float = 1e3) -> dict[str, Any]:
    """Differences between the two implementations at ``points``, and their wall times.

    Differences are reported relative to the largest stress (of Okada's) over all points
    and over the points at least ``near`` metres from the fault: closer in, the stress
    varies by ~1e2 Pa per mm, so DC3D's single-precision coordinates (mm-level at tens of
    km) dominate the difference.
    """
    start = time.perf_counter()
    ours = cutde_stress(points, patches)
    cutde_seconds = time.perf_counter() - start
    start = time.perf_counter()
    okada = okada_stress(points, patches)
    okada_seconds = time.perf_counter() - start
    difference = np.abs(ours - okada)
    largest = float(np.abs(okada).max())
    per_point = difference.max(axis=1) / np.abs(okada).max(axis=1)
    distance = distance_to_patches(points, patches)
    far = distance >= near
    worst = int(difference.max(axis=1).argmax())
    return {
        "patches": len(patches.corners),
        "points": len(points),
        "nearest_point_to_fault_m": float(distance.min()),
        "max_abs_stress_pa": largest,
        "max_abs_difference_pa": float(difference.max()),
        "max_difference_relative_to_max_stress": float(difference.max()) / largest,
        "max_difference_relative_to_max_stress_by_component": {
            name: float(difference[:, i].max()) / largest
            for i, name in enumerate(("xx", "yy", "xy", "xz", "yz", "zz"))},
        "per_point_relative_difference": {
            "median": float(np.median(per_point)),
            "p99": float(np.quantile(per_point, 0.99)),
            "max": float(per_point.max())},
        "worst_point": {"xyz_m": [float(v) for v in points[worst]],
                        "distance_to_fault_m": float(distance[worst])},
        f"beyond_{near / 1e3:g}_km": {
            "points": int(far.sum()),
            "max_abs_stress_pa": float(np.abs(okada[far]).max()),
            "max_difference_relative_to_max_stress":
                float(difference[far].max() / np.abs(okada[far]).max()),
            "per_point_relative_difference_max": float(per_point[far].max())},
        "seconds": {"cutde": round(cutde_seconds, 3), "okada_wrapper": round(okada_seconds, 3)},
    }


def realistic_faults(seed: int = 0) -> dict[str, Patches]:
    """A surface-breaking vertical strike-slip fault 83 km long (28 x 6 patches, 18 km deep,
    right-lateral) and a buried oblique thrust (15 x 8 patches of 4 km, strike 320, dip 25,
    rake 120), with tapered, randomly perturbed slip of a few metres."""
    rng = np.random.default_rng(seed)

    def slip(n_dip: int, n_strike: int, peak: float) -> np.ndarray:
        s = np.sin(np.pi * (np.arange(n_strike) + 0.5) / n_strike)
        d = np.sin(np.pi * (np.arange(n_dip) + 0.5) / (2 * n_dip) + np.pi / 4)
        return peak * np.outer(d, s) * rng.uniform(0.7, 1.3, (n_dip, n_strike))

    return {
        "vertical_strike_slip": rectangular_fault(
            (0.0, 0.0, 0.0), 90.0, 90.0, 180.0, 83e3, 18e3, slip(6, 28, 5.0)),
        "oblique_thrust": rectangular_fault(
            (5e3, -5e3, -2e3), 320.0, 25.0, 120.0, 60e3, 32e3, slip(8, 15, 4.0)),
    }


def grid_points(half_width: float = 100e3, spacing: float = 5e3) -> np.ndarray:
    """Centres of cubic cells of ``spacing`` within ``half_width`` of the origin horizontally
    and down to 50 km (2.5 ... 47.5 km deep for 5 km cells), as the study's grid."""
    horizontal = np.arange(-half_width + spacing / 2, half_width, spacing)
    depths = np.arange(spacing / 2, 50e3, spacing)
    x, y, z = np.meshgrid(horizontal, horizontal, -depths, indexing="ij")
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)


def main(argv: list[str] | None = None) -> int:
    """Compare the implementations on the realistic faults; print and write the result."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half-width", type=float, default=100.0,
                        help="horizontal half-width of the grid, km (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        import okada_wrapper  # noqa: F401
    except ImportError:
        print(f"okada_wrapper is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 1
    points = grid_points(args.half_width * 1e3)
    results = {}
    for name, patches in realistic_faults(args.seed).items():
        results[name] = row = compare(points, patches)
        print(f"{name}: {row['patches']} patches, {row['points']} points; max |stress| "
              f"{row['max_abs_stress_pa']:.3e} Pa, max |difference| "
              f"{row['max_abs_difference_pa']:.3e} Pa "
              f"({row['max_difference_relative_to_max_stress']:.2e} of it); "
              f"cutde {row['seconds']['cutde']} s, okada_wrapper "
              f"{row['seconds']['okada_wrapper']} s")
    if args.out is not None:
        write_json(args.out, {
            "command": "python -m aftershock_replication.benchmarks.okada_crosscheck "
                       + " ".join(argv if argv is not None else sys.argv[1:]),
            "versions": {"cutde": version("cutde"), "okada_wrapper": version("okada_wrapper")},
            "elastic": {"lambda_pa": LAME_LAMBDA, "mu_pa": SHEAR_MODULUS, "alpha": ALPHA},
            "grid": {"spacing_km": 5.0, "half_width_km": args.half_width,
                     "depths_km": [2.5, 47.5]},
            "seed": args.seed,
            "faults": results,
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
