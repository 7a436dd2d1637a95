"""What a learning curve shows, as tests: how much the full training set adds to the
smallest share, and from which share on the AUC is equivalent to the full fit's.

Per grouped split the curve's fits are nested subsets of one training set scored on one test
set, so per split the difference "AUC with all rows minus AUC with a share" is paired; over
splits the training sets overlap, so each mean difference is tested with the Nadeau-Bengio
corrected t (the statistics stage's test, unit: split). The equivalence share comes from a
fixed-sequence procedure: the shares are tested from the largest down, each with two
one-sided tests against the smallest effect of interest, and the sequence stops at the first
share not shown equivalent; testing in a fixed order keeps the family-wise error at alpha
without adjustment (Maurer, Hothorn & Lehmacher 1995).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..stats import corrected_ttest, equivalence_pvalue


def shortfalls(table: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    """Per split (``seed``) and share below the full one: the full fit's test AUC minus the
    share's; with the training rows of the full fits and the test cells (their means), which
    the correction needs."""
    rows = []
    for seed, part in table.dropna(subset=["test_auc"]).groupby("seed", sort=True):
        part = part.sort_values("train_share")
        full = part.iloc[-1]
        for _, point in part.iloc[:-1].iterrows():
            rows.append({"seed": seed, "train_share": float(point["train_share"]),
                         "shortfall": float(full["test_auc"] - point["test_auc"])})
    fulls = table.sort_values("train_share").groupby("seed").tail(1)
    return (pd.DataFrame(rows, columns=["seed", "train_share", "shortfall"]),
            float(fulls["train_rows"].mean()), float(fulls["test_cells"].mean()))


def curve_tests(table: pd.DataFrame, margin: float, alpha: float) -> dict[str, Any]:
    """The smallest share's shortfall with its corrected 95 % interval (unit: split), and
    the smallest share from which every larger share is equivalent to the full fit within
    ``margin`` (None when not even the largest is)."""
    found, n_train, n_test = shortfalls(table)
    shares = sorted(found["train_share"].unique(), reverse=True)
    by_share = {}
    for share in shares:
        values = found.loc[found["train_share"] == share, "shortfall"].to_numpy()
        if len(values) < 2:
            continue
        result = corrected_ttest(values, n_train, n_test)
        by_share[share] = {
            "estimate": float(result["mean"]), "ci": [float(v) for v in result["ci"]],
            "p_equivalence": equivalence_pvalue(result["mean"], result["se"], result["df"],
                                                margin),
            "splits": len(values)}
    equivalent_from = None
    for share in sorted(by_share, reverse=True):  # fixed sequence: largest share first
        if not by_share[share]["p_equivalence"] < alpha:
            break
        equivalent_from = share
    smallest = min(by_share) if by_share else None
    return {"smallest_share": smallest,
            "smallest": by_share.get(smallest) if smallest is not None else None,
            "equivalent_from": equivalent_from,
            "equivalent_from_p": None if equivalent_from is None
            else by_share[equivalent_from]["p_equivalence"],
            "shares_tested": len(by_share), "unit": "split",
            "margin": margin, "alpha": alpha,
            "shares": {f"{share:.6g}": entry for share, entry in by_share.items()},
            "n_train": n_train, "n_test": n_test,
            "finite": bool(by_share) and all(np.isfinite(e["estimate"])
                                             for e in by_share.values())}
