"""What a learning curve shows, as tests: how much the full training set adds to the
smallest share, and from which share on the AUC is equivalent to the full fit's.

Per grouped split the curve's fits are nested subsets of one training set scored on one test
set, so per split the difference "AUC with all rows minus AUC with a share" is paired; over
splits the training sets overlap, so each mean difference is tested with the Nadeau-Bengio
corrected t (as the statistics stage tests, with the splits' training and test sizes; unit:
split). The equivalence share comes from a
fixed-sequence procedure: the shares are tested from the largest down, each with two
one-sided tests against the smallest effect of interest, and the sequence stops at the first
share not shown equivalent (or not testable); testing in a fixed order keeps the family-wise
error at alpha without adjustment (Maurer, Hothorn & Lehmacher 1995), and the claim "from
this share on" carries the largest p-value of the shares passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..stats import corrected_ttest, equivalence_pvalue


def shortfalls(table: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    """Per split (``seed``) and share below the full one: the full fit's test AUC minus the
    share's; with the mean training rows of the splits (``partition_train_rows``: the
    correction is for the overlap of the splits' training sets, whatever share of them a
    fit used) and the mean test cells. A split without a finite AUC at the table's largest
    share has no full fit to compare with and is left out."""
    table = table.dropna(subset=["test_auc"])
    full_share = float(table["train_share"].max())
    rows, fulls = [], []
    for seed, part in table.groupby("seed", sort=True):
        full = part[part["train_share"] == full_share]
        if full.empty:
            continue
        full = full.iloc[0]
        fulls.append(full)
        for _, point in part[part["train_share"] < full_share].iterrows():
            rows.append({"seed": seed, "train_share": float(point["train_share"]),
                         "shortfall": float(full["test_auc"] - point["test_auc"])})
    fulls_frame = pd.DataFrame(fulls)
    training = ("partition_train_rows" if "partition_train_rows" in fulls_frame
                else "train_rows")
    return (pd.DataFrame(rows, columns=["seed", "train_share", "shortfall"]),
            float(fulls_frame[training].mean()) if fulls else float("nan"),
            float(fulls_frame["test_cells"].mean()) if fulls else float("nan"))


def curve_tests(table: pd.DataFrame, margin: float, alpha: float) -> dict[str, Any]:
    """The smallest share's shortfall with its corrected 95 % interval (unit: split), and
    the smallest share from which every larger share is equivalent to the full fit within
    ``margin`` (None when not even the largest is), with the procedure's p-value: the
    largest equivalence p-value of the shares it passed."""
    found, n_train, n_test = shortfalls(table)
    shares = sorted(found["train_share"].unique(), reverse=True)
    by_share: dict[float, dict[str, Any] | None] = {}
    for share in shares:
        values = found.loc[found["train_share"] == share, "shortfall"].to_numpy()
        if len(values) < 2 or not (n_train > 0 and n_test > 0):
            by_share[share] = None  # no test: the fixed sequence stops here
            continue
        result = corrected_ttest(values, n_train, n_test)
        by_share[share] = {
            "estimate": float(result["mean"]), "ci": [float(v) for v in result["ci"]],
            "p_equivalence": equivalence_pvalue(result["mean"], result["se"], result["df"],
                                                margin),
            "splits": len(values)}
    equivalent_from, passed = None, []
    for share in shares:  # fixed sequence: largest share first, stop at the first failure
        entry = by_share[share]
        if entry is None or not entry["p_equivalence"] < alpha:
            break
        equivalent_from = share
        passed.append(entry["p_equivalence"])
    tested = [share for share in shares if by_share[share] is not None]
    smallest = min(tested) if tested else None
    return {"smallest_share": smallest,
            "smallest": by_share[smallest] if smallest is not None else None,
            "equivalent_from": equivalent_from,
            "equivalent_from_p": max(passed) if passed else None,
            "shares_tested": len(tested), "unit": "split",
            "margin": margin, "alpha": alpha,
            "shares": {f"{share:.6g}": entry for share, entry in by_share.items()
                       if entry is not None},
            "n_train": n_train, "n_test": n_test,
            "finite": bool(tested) and all(np.isfinite(by_share[s]["estimate"])
                                           for s in tested)}
