"""The original's per-slip-model label-permutation test of one AUC, vectorised via ranks.

Shuffling the labels is the same as drawing a uniformly random subset of n1 cells as
positives. With midranks r, the AUC of such a subset S is (sum_{i in S} r_i - n1(n1+1)/2) /
(n1 n0), so each permutation costs one subset draw and one gather-sum, and the comparison
with the real AUC can be made on exact half-integer rank sums.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from aftershock_replication.stats.delong import as_labels, as_scores, midrank

PERMUTATION_UNIT = "cell (label permutation)"
_BATCH_CELLS = 2_000_000  # bound on the (permutations x subset size) index block


def permutation_pvalue(
    labels: ArrayLike, scores: ArrayLike, permutations: int = 5000, seed: int = 0,
) -> dict:
    """AUC and the share of label permutations whose AUC is >= the real one.

    ``p_value`` = count / permutations is what the original reported (it can be 0);
    ``p_value_plus_one`` = (1 + count) / (1 + permutations) is the valid Monte-Carlo p-value.
    The smaller class is the one drawn (its complement's rank sum follows), and draws are
    batched so memory stays bounded. Deterministic for a seed.
    """
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    lab = as_labels(labels)
    s = as_scores(scores, lab.size)
    if s.shape[0] != 1:
        raise ValueError("permutation_pvalue takes one 1-D score vector")
    cells = lab.size
    n1 = int(lab.sum())
    n0 = cells - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("AUC needs at least one positive and one negative cell")
    ranks = midrank(s[0])
    # midranks are half-integers, so these sums (and the comparisons below) are exact
    total = ranks.sum()
    real = ranks[lab].sum()
    auc = (real - n1 * (n1 + 1) / 2.0) / (n1 * n0)

    drawn = min(n1, n0)
    complement = n1 > n0  # draw the negatives; positives' rank sum = total - their sum
    rng = np.random.default_rng(seed)
    batch = max(1, min(permutations, _BATCH_CELLS // drawn))
    subset = np.empty((batch, drawn), dtype=np.intp)
    count = done = 0
    while done < permutations:
        size = min(batch, permutations - done)
        for row in range(size):
            subset[row] = rng.choice(cells, size=drawn, replace=False, shuffle=False)
        sums = ranks[subset[:size]].sum(axis=1)
        if complement:
            sums = total - sums
        count += int(np.count_nonzero(sums >= real))
        done += size
    return {
        "auc": float(auc),
        "p_value": count / permutations,
        "p_value_plus_one": (1 + count) / (1 + permutations),
        "permutations": permutations,
        "exceedances": count,
        "unit": PERMUTATION_UNIT,
    }
