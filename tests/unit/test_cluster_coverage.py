"""The coverage simulation behind the rule that intervals over few clusters are not
inference: a percentile bootstrap over 3 clusters covers far less than 95 %, a t-interval
over normal cluster effects about 95 %."""

from __future__ import annotations

import numpy as np

from aftershock_replication.benchmarks.cluster_coverage import cluster_effects, coverage


def test_few_clusters_undercover_and_the_t_interval_holds_for_normal_effects() -> None:
    rng = np.random.default_rng(0)
    few = coverage(cluster_effects(rng, 2000, 3, "lognormal"), 400, rng)
    assert few["bootstrap"] < 0.80  # about 0.69: a nominal 95 % interval is not one
    normal = coverage(cluster_effects(rng, 2000, 20, "normal"), 400, rng)
    assert 0.93 < normal["t"] < 0.97
    # the effects have mean 0 whatever the shape, so the true value checked is right
    assert abs(cluster_effects(rng, 200_000, 1, "lognormal").mean()) < 0.01
