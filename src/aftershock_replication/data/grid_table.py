"""The columns of one slip model's CSV in the original layout, from the stress tensors.

The demo generator and the SRCMOD rebuild both write them: the published columns the
analysis reads (six stress components, four Coulomb conventions, maximum shear, von Mises,
``aftershocksyn``) and a few more the pre-processing also wrote (``grid_id``, ``x, y, z``,
``i1``, extreme principal stresses), in the original's (non-analysis) column order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import stress as stress_metrics


def grid_table(grid_id: list[str], x: np.ndarray, y: np.ndarray, z: np.ndarray,
               tensors: np.ndarray, plane: tuple[float, float, float],
               counts: np.ndarray) -> pa.Table:
    """All columns of one slip model's CSV: cells' ids and centres (m), the stress-change
    ``tensors`` (n, 6) in ``stress.COMPONENTS`` order (Pa), Coulomb resolved on ``plane``
    (strike, dip, rake in degrees) and the aftershock ``counts``."""
    principal = stress_metrics.principal_stresses(tensors)
    coulomb = stress_metrics.coulomb(tensors, *plane)
    xx, yy, xy, xz, yz, zz = (tensors[:, i] for i in range(6))
    return pa.table({
        "grid_id": grid_id, "x": x, "y": y, "z": z,
        "stresses_full_xx": xx, "stresses_full_xy": xy, "stresses_full_xz": xz,
        "stresses_full_yy": yy, "stresses_full_yz": yz, "stresses_full_zz": zz,
        **{f"stresses_full_cfs_{i + 1}": coulomb[:, i] for i in range(4)},
        "stresses_full_max_shear": (principal[:, 2] - principal[:, 0]) / 2.0,
        "stresses_full_i1": xx + yy + zz,
        "stresses_full_eigmax": principal[:, 2],
        "stresses_full_eigmin": principal[:, 0],
        "von_mises": stress_metrics.von_mises(tensors),
        "aftershocksyn": counts,
    })
