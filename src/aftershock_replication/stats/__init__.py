"""Pure statistics for the critique (no I/O): what STATISTICS.md asks for, one module each.

- ``delong``: fast DeLong AUC (co)variance and paired test; naive unit = cell.
- ``bootstrap``: exact O(G^2)-per-replicate cluster bootstrap over groups; unit = group.
- ``resampled``: Nadeau & Bengio corrected resampled t-test over seeds (unit = split), and
  the t-test over independent clusters (unit = cluster).
- ``multiple``: Holm's correction over a table's family, NaN-tolerant, and the
  simultaneous intervals compatible with its directional claims.
- ``permutation``: the original's per-slip-model label-permutation test.
- ``verdicts``: higher / lower / equivalent / undecided from a smallest effect of interest.
"""

from aftershock_replication.stats.bootstrap import (
    auc_from_weights,
    cluster_bootstrap,
    group_codes,
    pair_matrix,
)
from aftershock_replication.stats.delong import (
    delong,
    delong_paired,
    delong_variance,
    midrank,
    placements,
)
from aftershock_replication.stats.multiple import (
    directional_holm,
    holm,
    holm_compatible_intervals,
)
from aftershock_replication.stats.permutation import permutation_pvalue
from aftershock_replication.stats.resampled import (
    SPLIT_UNIT,
    T_TEST,
    cluster_mean_ttest,
    corrected_ttest,
    detectable_effect,
    seed_summary,
)
from aftershock_replication.stats.verdicts import (
    VERDICTS,
    decide,
    equivalence_bound,
    equivalence_pvalue,
    family_verdicts,
)

__all__ = [
    "SPLIT_UNIT",
    "T_TEST",
    "VERDICTS",
    "auc_from_weights",
    "cluster_bootstrap",
    "cluster_mean_ttest",
    "corrected_ttest",
    "decide",
    "delong",
    "delong_paired",
    "delong_variance",
    "detectable_effect",
    "directional_holm",
    "equivalence_bound",
    "equivalence_pvalue",
    "family_verdicts",
    "group_codes",
    "holm",
    "holm_compatible_intervals",
    "midrank",
    "pair_matrix",
    "permutation_pvalue",
    "placements",
    "seed_summary",
]
