"""Unit tests of the pure statistics package against direct (slow) computations."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.stats import nct, norm, rankdata, ttest_1samp
from scipy.stats import t as student_t
from sklearn.metrics import roc_auc_score
from statsmodels.stats.multitest import multipletests

from aftershock_replication.stats import (
    auc_from_weights,
    cluster_bootstrap,
    corrected_ttest,
    delong,
    delong_paired,
    delong_variance,
    detectable_effect,
    group_codes,
    holm,
    midrank,
    pair_matrix,
    permutation_pvalue,
    seed_summary,
)


def tied_data(seed: int, cells: int = 200, models: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels and `models` correlated score rows rounded to one decimal (many ties)."""
    rng = np.random.default_rng(seed)
    labels = rng.random(cells) < 0.35
    signal = labels * 0.8 + rng.normal(size=cells)
    scores = np.round(signal + rng.normal(0.0, 0.7, (models, cells)), 1)
    return labels, scores


def direct_delong(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong (1988) from the full m x n kernel: V10, V01 and their sample covariances."""
    pos, neg = scores[:, labels], scores[:, ~labels]
    kernel = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    v10 = kernel.mean(axis=2)  # (k, m): share of negatives below each positive
    v01 = kernel.mean(axis=1)  # (k, n): share of positives above each negative
    cov = np.atleast_2d(np.cov(v10)) / pos.shape[1] + np.atleast_2d(np.cov(v01)) / neg.shape[1]
    return kernel.mean(axis=(1, 2)), cov


def grouped_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tied scores in 7 string groups of unequal size, one all-negative, one all-positive."""
    rng = np.random.default_rng(seed)
    sizes = [40, 25, 60, 10, 33, 18, 5]
    groups = np.repeat(np.array(["ev_c", "ev_a", "ev_g", "ev_b", "ev_f", "ev_e", "ev_d"]), sizes)
    labels = rng.random(groups.size) < 0.3
    labels[groups == "ev_g"] = False
    labels[groups == "ev_d"] = True
    scores = np.round(labels + rng.normal(size=groups.size), 1)
    order = rng.permutation(groups.size)  # cells not stored group by group
    return labels[order], scores[order], groups[order]


# ----------------------------------------------------------------------------- DeLong


def test_midrank_matches_scipy_average_ranks() -> None:
    x = np.round(np.random.default_rng(0).normal(size=500), 1)
    np.testing.assert_array_equal(midrank(x), rankdata(x, method="average"))


def test_delong_matches_direct_kernel_computation_with_ties() -> None:
    for seed in range(3):
        labels, scores = tied_data(seed)
        aucs, cov = delong(labels, scores)
        direct_aucs, direct_cov = direct_delong(labels, scores)
        np.testing.assert_allclose(aucs, direct_aucs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(cov, direct_cov, rtol=0, atol=1e-10)
        for row in range(scores.shape[0]):
            assert aucs[row] == pytest.approx(roc_auc_score(labels, scores[row]), abs=1e-12)
        auc, variance = delong_variance(labels.astype(int), scores[1])
        assert auc == pytest.approx(direct_aucs[1], abs=1e-12)
        assert variance == pytest.approx(direct_cov[1, 1], abs=1e-10)


def test_delong_paired_matches_direct_computation() -> None:
    labels, scores = tied_data(7, cells=300, models=2)
    result = delong_paired(labels, scores[0], scores[1])
    aucs, cov = direct_delong(labels, scores)
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (aucs[0] - aucs[1]) / np.sqrt(variance)
    assert result["auc_a"] == pytest.approx(roc_auc_score(labels, scores[0]), abs=1e-12)
    assert result["auc_b"] == pytest.approx(roc_auc_score(labels, scores[1]), abs=1e-12)
    assert result["difference"] == pytest.approx(aucs[0] - aucs[1], abs=1e-12)
    assert result["variance"] == pytest.approx(variance, abs=1e-10)
    assert result["z"] == pytest.approx(z, rel=1e-8)
    assert result["p_value"] == pytest.approx(2 * norm.sf(abs(z)), rel=1e-8)
    half = 1.959963984540054 * np.sqrt(variance)
    np.testing.assert_allclose(result["ci"], [z * np.sqrt(variance) - half,
                                              z * np.sqrt(variance) + half], atol=1e-10)
    assert result["unit"] == "cell (naive: cells assumed independent)"


def test_delong_paired_identical_scores_and_degenerate_inputs() -> None:
    labels, scores = tied_data(3, models=1)
    same = delong_paired(labels, scores[0], scores[0].copy())
    assert same["difference"] == 0.0 and same["variance"] == 0.0
    assert np.isnan(same["z"]) and np.isnan(same["p_value"]) and same["ci"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="positive and one negative"):
        delong(np.zeros(5, dtype=bool), np.arange(5.0))
    with pytest.raises(ValueError, match="0/1"):
        delong(np.array([0, 1, 2, 0]), np.arange(4.0))  # aftershock counts, not labels
    with pytest.raises(ValueError, match="finite"):
        delong(np.array([0, 1, 1, 0]), np.array([0.1, np.nan, 0.3, 0.2]))
    _, single_positive = delong_variance(np.array([1, 0, 0, 0]), np.array([0.9, 0.1, 0.5, 0.3]))
    assert np.isnan(single_positive)  # the positive-side variance needs two positives


# -------------------------------------------------------------------- cluster bootstrap


def materialised_auc(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, names: np.ndarray,
    weights: np.ndarray,
) -> float:
    """AUC (sklearn) of the resample that repeats every cell of group g weights[g] times."""
    index = np.concatenate([np.tile(np.flatnonzero(groups == name), int(count))
                            for name, count in zip(names, weights, strict=True)])
    return float(roc_auc_score(labels[index], scores[index]))


def test_pair_matrix_matches_brute_force_pair_counting() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0, 0], dtype=bool)
    scores = np.array([0.5, 0.5, 0.2, 0.1, 0.7, 0.7, 0.3, 0.9, 0.2, 0.5])
    groups = np.array(["b", "a", "a", "b", "c", "c", "a", "b", "c", "b"])
    pairs, positives, negatives, names = pair_matrix(labels, scores, groups)
    assert names.tolist() == ["a", "b", "c"]
    expected = np.zeros((3, 3))
    for i in np.flatnonzero(labels):
        for j in np.flatnonzero(~labels):
            g, h = names.tolist().index(groups[i]), names.tolist().index(groups[j])
            expected[g, h] += 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0
    np.testing.assert_array_equal(pairs, expected)
    np.testing.assert_array_equal(positives, [1, 2, 1])
    np.testing.assert_array_equal(negatives, [2, 2, 2])
    # integer group ids give the same matrix
    int_pairs, _, _, int_names = pair_matrix(labels, scores, np.searchsorted(names, groups) + 10)
    np.testing.assert_array_equal(int_pairs, expected)
    assert int_names.tolist() == [10, 11, 12]


def test_group_codes_of_unsorted_groups() -> None:
    groups = np.array(["x", "x", "a", "m", "a", "a", "x", "m"])
    codes, names = group_codes(groups, groups.size)
    assert names.tolist() == ["a", "m", "x"]
    np.testing.assert_array_equal(names[codes], groups)


def test_weighted_auc_equals_auc_of_materialised_resample() -> None:
    labels, scores, groups = grouped_data(1)
    pairs, positives, negatives, names = pair_matrix(labels, scores, groups)
    rng = np.random.default_rng(5)
    draws = [np.ones(names.size)] + [rng.multinomial(names.size, np.full(7, 1 / 7))
                                     for _ in range(8)] + [rng.integers(0, 4, 7) for _ in range(4)]
    draws = np.array([w for w in draws if w @ positives > 0 and w @ negatives > 0])
    vectorised = auc_from_weights(pairs, positives, negatives, draws)
    for w, fast in zip(draws, vectorised, strict=True):
        slow = materialised_auc(labels, scores, groups, names, w)
        assert auc_from_weights(pairs, positives, negatives, w) == pytest.approx(slow, abs=1e-12)
        assert fast == pytest.approx(slow, abs=1e-12)
    no_positives = (names == "ev_g").astype(float)  # the all-negative group alone
    assert np.isnan(auc_from_weights(pairs, positives, negatives, no_positives))


def test_cluster_bootstrap_replicates_are_materialised_resample_aucs() -> None:
    labels, scores, groups = grouped_data(2)
    labels[groups == "ev_d"] = False  # every group now holds negatives: nothing is dropped
    result = cluster_bootstrap(labels, scores, groups, replicates=60, seed=11)
    names = np.unique(groups)
    draws = np.random.default_rng(11).multinomial(names.size, np.full(names.size, 1 / 7), 60)
    assert all(w @ np.bincount(np.searchsorted(names, groups[labels]), minlength=7) > 0
               for w in draws), "pick a seed whose draws all hold positives"
    slow = np.array([materialised_auc(labels, scores, groups, names, w) for w in draws])
    assert result["dropped"] == 0
    np.testing.assert_allclose(result["ci"], np.quantile(slow, [0.025, 0.975]), atol=1e-12)
    assert result["se"] == pytest.approx(slow.std(ddof=1), abs=1e-12)
    assert result["estimate"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_cluster_bootstrap_is_deterministic_and_contains_estimate() -> None:
    labels, scores, groups = grouped_data(3)
    first = cluster_bootstrap(labels, scores, groups, replicates=300, seed=4)
    assert first == cluster_bootstrap(labels, scores, groups, replicates=300, seed=4)
    assert first["ci"] != cluster_bootstrap(labels, scores, groups, replicates=300, seed=5)["ci"]
    assert first["ci"][0] < first["estimate"] < first["ci"][1]
    assert first["se"] > 0 and first["replicates"] == 300 and first["groups"] == 7
    assert first["unit"] == "group (cluster bootstrap)"


def test_cluster_bootstrap_paired_difference() -> None:
    labels, scores, groups = grouped_data(4)
    other = np.round(scores + np.random.default_rng(0).normal(0, 0.8, scores.size), 1)
    itself = cluster_bootstrap(labels, scores, groups, scores_b=scores.copy(), replicates=200)
    assert itself["estimate"] == 0.0 and itself["ci"] == [0.0, 0.0] and itself["se"] == 0.0
    paired = cluster_bootstrap(labels, scores, groups, scores_b=other, replicates=200)
    expected = roc_auc_score(labels, scores) - roc_auc_score(labels, other)
    assert paired["estimate"] == pytest.approx(expected, abs=1e-12)
    assert paired["auc_b"] == pytest.approx(roc_auc_score(labels, other), abs=1e-12)


def test_cluster_bootstrap_of_several_draws_is_the_mean_of_their_resample_aucs() -> None:
    """(k, cells) scores stand for the mean AUC of k draws, replicate by replicate."""
    labels, scores, groups = grouped_data(5)
    labels[groups == "ev_d"] = False  # nothing is dropped: the resamples are the same
    rng = np.random.default_rng(1)
    draws = np.round(scores + rng.normal(0, 0.8, (3, scores.size)), 1)
    other = np.round(scores + rng.normal(0, 0.8, scores.size), 1)
    names = np.unique(groups)
    weights = np.random.default_rng(9).multinomial(names.size, np.full(names.size, 1 / 7), 80)
    slow = np.array([np.mean([materialised_auc(labels, d, groups, names, w) for d in draws])
                     - materialised_auc(labels, other, groups, names, w) for w in weights])
    result = cluster_bootstrap(labels, draws, groups, scores_b=other, replicates=80, seed=9)
    np.testing.assert_allclose(result["ci"], np.quantile(slow, [0.025, 0.975]), atol=1e-12)
    expected = np.mean([roc_auc_score(labels, d) for d in draws]) - roc_auc_score(labels, other)
    assert result["estimate"] == pytest.approx(expected, abs=1e-12)


def test_cluster_bootstrap_redraws_resamples_without_positives() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2, 3], 50)
    labels = (groups == 2) & (rng.random(200) < 0.4)  # only group 2 has positives
    scores = labels + rng.normal(size=200)
    result = cluster_bootstrap(labels, scores, groups, replicates=2000, seed=1)
    assert result["replicates"] == 2000 and np.isfinite(result["ci"]).all()
    share = result["dropped"] / (result["dropped"] + 2000)
    assert share == pytest.approx((3 / 4) ** 4, abs=0.04)  # P(group 2 never drawn)


# ------------------------------------------------------------------- repeated splits


def test_corrected_ttest_by_hand() -> None:
    d = np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    result = corrected_ttest(d, n_train=80, n_test=20)
    # mean 0.03, var(ddof 1) 2.5e-4, factor 1/5 + 20/80 = 0.45, se = sqrt(1.125e-4)
    # t = 0.03 / sqrt(1.125e-4) = sqrt(8), df 4, p = 2 sf_t4(2.828...) = 0.0474207,
    # half-width t_{0.975,4} * se = 2.7764451 * 0.0106066 = 0.0294486
    assert result["mean"] == pytest.approx(0.03)
    assert result["sd"] == pytest.approx(np.sqrt(2.5e-4))
    assert result["t"] == pytest.approx(np.sqrt(8.0), rel=1e-12)
    assert result["df"] == 4 and result["n_splits"] == 5
    assert result["p_value"] == pytest.approx(0.04742065558, rel=1e-8)
    np.testing.assert_allclose(result["ci"], [0.03 - 0.0294486474, 0.03 + 0.0294486474],
                               atol=1e-9)
    plain = ttest_1samp(d, 0.0)
    assert plain.statistic == pytest.approx(np.sqrt(18.0))
    assert abs(result["t"]) < abs(plain.statistic)
    assert result["p_value"] > plain.pvalue
    assert result["unit"] == "repeated split (seed)"


def test_corrected_ttest_degenerate_cases_are_nan_not_errors() -> None:
    one = corrected_ttest([0.02], n_train=80, n_test=20)
    assert one["mean"] == 0.02 and np.isnan(one["t"]) and np.isnan(one["p_value"])
    assert np.isnan(one["ci"]).all()
    flat = corrected_ttest([0.02, 0.02, 0.02], n_train=80, n_test=20)
    assert np.isnan(flat["t"]) and np.isnan(flat["p_value"]) and flat["sd"] == 0.0
    assert flat["ci"] == [0.02, 0.02]
    with pytest.raises(ValueError, match="finite"):
        corrected_ttest([0.1, np.nan], n_train=80, n_test=20)


@pytest.mark.parametrize("splits", [3, 10])
def test_detectable_effect_is_detected_with_80_percent_power(splits: int) -> None:
    # power of the two-sided t-test at that true effect, from the noncentral t directly
    se, alpha = 0.012, 0.05
    effect = detectable_effect(se, splits, alpha)
    critical = student_t.ppf(1 - alpha / 2, splits - 1)
    power = nct.sf(critical, splits - 1, effect / se) + nct.cdf(-critical, splits - 1,
                                                               effect / se)
    assert power == pytest.approx(0.8, abs=1e-4)
    # the textbook approximation (t quantiles added) is close, and fewer splits need more
    approximate = (critical + student_t.ppf(0.8, splits - 1)) * se
    assert effect == pytest.approx(approximate, rel=0.1)
    assert detectable_effect(se, 2, alpha) > effect
    assert np.isnan(detectable_effect(se, 1, alpha)) and np.isnan(detectable_effect(0, 5, 0.05))


def test_seed_summary() -> None:
    result = seed_summary([0.70, 0.72, 0.74])
    assert result["mean"] == pytest.approx(0.72) and result["sd"] == pytest.approx(0.02)
    half = student_t.ppf(0.975, 2) * 0.02 / np.sqrt(3)  # 4.3026527 * 0.0115470 = 0.0496828
    np.testing.assert_allclose(result["ci95"], [0.72 - half, 0.72 + half])
    assert half == pytest.approx(0.0496828, abs=1e-7)
    assert result["per_seed"] == [0.70, 0.72, 0.74]
    assert np.isnan(seed_summary([0.7])["sd"])


def test_seed_summary_interval_carries_the_nadeau_bengio_correction() -> None:
    """With test/train = 0.25 the interval widens by sqrt((1/3 + 0.25) / (1/3)) = 1.3229:
    the same correction as the corrected t-test of the same values."""
    naive = seed_summary([0.70, 0.72, 0.74])
    corrected = seed_summary([0.70, 0.72, 0.74], test_over_train=0.25)
    widths = [r["ci95"][1] - r["ci95"][0] for r in (naive, corrected)]
    assert widths[1] / widths[0] == pytest.approx(np.sqrt(1.75), abs=1e-12)
    test = corrected_ttest(np.array([0.70, 0.72, 0.74]), 4.0, 1.0)
    np.testing.assert_allclose(corrected["ci95"], test["ci"])


# ------------------------------------------------------------------ multiple testing


def test_holm_matches_statsmodels_and_passes_nan_through() -> None:
    p = np.random.default_rng(0).random(12) ** 3
    np.testing.assert_array_equal(holm(p), multipletests(p, method="holm")[1])
    # by hand: sorted 0.01, 0.03, 0.04 -> 3*0.01, max(2*0.03, .), max(1*0.04, 0.06)
    np.testing.assert_allclose(holm([0.01, np.nan, 0.04, 0.03]), [0.03, np.nan, 0.06, 0.06])
    assert np.isnan(holm([np.nan, np.nan])).all()
    assert holm([]).size == 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.2, 1.5])


# ---------------------------------------------------------------------- permutation


def test_permutation_perfect_score() -> None:
    labels = np.zeros(200, dtype=bool)
    labels[::10] = True
    scores = labels + np.random.default_rng(0).random(200) * 0.5
    result = permutation_pvalue(labels, scores, permutations=1000, seed=0)
    assert result["auc"] == 1.0 and result["p_value"] == 0.0
    assert result["p_value_plus_one"] == pytest.approx(1 / 1001)


@pytest.mark.parametrize("positives", [4, 7])  # 7 of 10 exercises drawing the negatives
def test_permutation_pvalue_matches_exact_enumeration(positives: int) -> None:
    rng = np.random.default_rng(positives)
    scores = np.round(rng.normal(size=10), 0)  # heavy ties
    labels = np.zeros(10, dtype=bool)
    labels[rng.choice(10, positives, replace=False)] = True
    ranks = rankdata(scores)
    real = ranks[labels].sum()
    exact = np.mean([ranks[list(c)].sum() >= real for c in combinations(range(10), positives)])
    result = permutation_pvalue(labels, scores, permutations=20000, seed=3)
    assert result["auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert result["p_value"] == pytest.approx(exact, abs=0.015)
    assert result == permutation_pvalue(labels, scores, permutations=20000, seed=3)


def test_permutation_pvalue_is_roughly_uniform_under_the_null() -> None:
    rng = np.random.default_rng(8)
    p_values = []
    for seed in range(300):
        labels = rng.random(60) < 0.2
        labels[:2] = [True, False]
        p_values.append(permutation_pvalue(labels, rng.normal(size=60), permutations=200,
                                           seed=seed)["p_value"])
    p_values = np.array(p_values)
    assert 0.42 < p_values.mean() < 0.58
    assert 0.01 < np.mean(p_values <= 0.05) < 0.10
