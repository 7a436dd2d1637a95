"""Learning curves: grouped-test AUC against the number of training rows, over the seeds.

For each grouped partition the training rows are put in one seeded random order and the
method is fitted on growing prefixes (nested subsets), log-spaced from ``min_rows`` to all
rows (or ``max_rows``), ignoring the method's own training cap: the curve is what shows
whether that cap costs anything.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from .auc import pooled_auc
from .evaluate import SideIndex
from .methods import create
from .methods.base import Cells
from .progress import format_seconds, timed

log = logging.getLogger(__name__)


def curve_sizes(available: int, min_rows: int, max_rows: int | None, points: int) -> list[int]:
    """Log-spaced training sizes from ``min_rows`` to all available rows (or ``max_rows``)."""
    top = available if max_rows is None else min(available, max_rows)
    low = min(min_rows, top)
    return sorted({round(v) for v in np.geomspace(low, top, points)})


def learning_curve(
    method_name: str, settings: dict[str, Any], cells: Cells, grouped: dict[str, list[str]],
    min_rows: int, max_rows: int | None, points: int,
) -> pd.DataFrame:
    """Rows of (seed, train_rows, test_auc, train_positives) for every grouped partition."""
    index = SideIndex.of(cells)
    uncapped = {**settings, "max_train_rows": None}
    records = []
    with timed(f"learning curve of {method_name} over {len(grouped)} grouped partitions"):
        for partition, test_models in sorted(grouped.items(), key=lambda kv: int(kv[0])):
            seed = int(partition)
            test = index.rows(test_models)
            train = index.rows(test_models, include=False)
            order = np.random.default_rng(np.random.SeedSequence([seed, 13])).permutation(train)
            for size in curve_sizes(len(train), min_rows, max_rows, points):
                subset = np.sort(order[:size])
                if cells.labels[subset].all() or not cells.labels[subset].any():
                    log.info("seed %d, %d rows: one class only, skipped", seed, size)
                    continue
                start = time.perf_counter()
                method = create(method_name, uncapped)
                method.fit(cells, subset, seed)
                auc = pooled_auc(cells.labels[test], method.score(cells, test))
                log.info("%s seed %d: %s training rows -> grouped test AUC %.3f (%s)",
                         method_name, seed, f"{size:,}", auc,
                         format_seconds(time.perf_counter() - start))
                records.append({"method": method_name, "seed": seed, "train_rows": size,
                                "train_positives": int(cells.labels[subset].sum()),
                                "test_auc": auc})
    return pd.DataFrame.from_records(records)
