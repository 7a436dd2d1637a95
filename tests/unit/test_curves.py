"""Learning-curve tests: the full data's gain over a share, and the fixed-sequence share from
which a method is equivalent to its full fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from aftershock_replication.report.curves import curve_tests


def curve(aucs: dict[float, list[float]], train_rows: int = 9000, test_cells: int = 1000,
          ) -> pd.DataFrame:
    """A curve table: per share, one test AUC per split (seed)."""
    return pd.DataFrame([
        {"seed": seed, "train_share": share, "train_rows": round(share * train_rows),
         "test_cells": test_cells, "test_auc": auc}
        for share, values in aucs.items() for seed, auc in enumerate(values)])


def test_the_gain_of_all_rows_is_the_corrected_t_interval_by_hand() -> None:
    """Shortfalls 0.03, 0.05, 0.04 over three splits: mean 0.04, variance 1e-4; the
    Nadeau-Bengio standard error sqrt((1/3 + 1000/9000) 1e-4), t(2) quantile."""
    table = curve({0.01: [0.77, 0.75, 0.76], 1.0: [0.80, 0.80, 0.80]})
    found = curve_tests(table, margin=0.02, alpha=0.05)
    se = np.sqrt((1 / 3 + 1000 / 9000) * 1e-4)
    half = student_t.ppf(0.975, 2) * se
    assert found["smallest_share"] == 0.01
    assert found["smallest"]["estimate"] == pytest.approx(0.04)
    assert found["smallest"]["ci"] == pytest.approx([0.04 - half, 0.04 + half])
    assert found["equivalent_from"] is None  # 0.04 is beyond the margin


def test_the_equivalent_share_stops_at_the_first_share_not_shown_equivalent() -> None:
    """Shares 0.5 and 0.3 are within the margin, 0.1 is not, 0.03 is again: the fixed
    sequence stops at 0.1, so the method is equivalent from 0.3 on, not from 0.03."""
    close = [0.799, 0.800, 0.801]
    table = curve({0.03: close, 0.1: [0.70, 0.76, 0.73], 0.3: close, 0.5: close,
                   1.0: [0.800, 0.801, 0.800]}, test_cells=10)
    found = curve_tests(table, margin=0.02, alpha=0.05)
    assert found["shares"]["0.03"]["p_equivalence"] < 0.05
    assert found["shares"]["0.1"]["p_equivalence"] > 0.05
    assert found["equivalent_from"] == 0.3
    assert found["equivalent_from_p"] == pytest.approx(found["shares"]["0.3"]["p_equivalence"])


def test_an_untestable_share_stops_the_sequence_and_the_claim_carries_the_largest_p() -> None:
    """A share measured on one split only cannot be tested: the sequence stops there even
    if smaller shares would pass; the share reached carries the largest p of those passed."""
    close = [0.799, 0.800, 0.801]
    table = curve({0.03: close, 0.1: close, 0.3: [0.795, 0.800, 0.797], 0.5: close,
                   1.0: [0.800, 0.801, 0.800]}, test_cells=10)
    table = table[~((table["train_share"] == 0.1) & (table["seed"] > 0))]
    found = curve_tests(table, margin=0.02, alpha=0.05)
    assert "0.1" not in found["shares"]
    assert found["equivalent_from"] == 0.3
    assert found["equivalent_from_p"] == pytest.approx(max(
        found["shares"]["0.3"]["p_equivalence"], found["shares"]["0.5"]["p_equivalence"]))


def test_the_correction_uses_the_splits_training_rows_not_a_capped_draw() -> None:
    """A method capped at 2,000 of a split's 9,000 training rows: the splits' training sets
    overlap as much as ever, so n_test / n_train is 1000 / 9000, not 1000 / 2000."""
    table = curve({0.01: [0.77, 0.75, 0.76], 1.0: [0.80, 0.80, 0.80]}).assign(
        partition_train_rows=9000)
    table["train_rows"] = (table["train_share"] * 2000).round().astype(int)
    found = curve_tests(table, margin=0.02, alpha=0.05)
    half = student_t.ppf(0.975, 2) * np.sqrt((1 / 3 + 1000 / 9000) * 1e-4)
    assert found["n_train"] == 9000
    assert found["smallest"]["ci"] == pytest.approx([0.04 - half, 0.04 + half])
