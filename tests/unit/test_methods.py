"""Methods: the network's recipe, leakage safety, Coulomb conventions, determinism, AUC variants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier

from aftershock_replication.auc import per_group_auc, pooled_auc, roc_points
from aftershock_replication.cells import Cells, Groups
from aftershock_replication.compute import SERIAL
from aftershock_replication.errors import InputError
from aftershock_replication.evaluate import evaluate_method
from aftershock_replication.methods import ALL_METHODS, FITTED, Settings, create, setting, spec
from aftershock_replication.methods.base import SklearnMethod, cap_rows
from aftershock_replication.methods.neural_network import (
    balanced_batches,
    build_network,
    validation_split,
)
from aftershock_replication.methods.params import method_settings
from helpers import FAST, FAST_PARAMS, synthetic_cells


def test_network_has_the_original_architecture_and_optimiser() -> None:
    model = build_network(seed=0, learning_rate=1.0, rho=0.95)
    assert model.count_params() == 13_451
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    dropout = [layer for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    assert [layer.units for layer in dense] == [50] * 6 + [1]
    assert all(layer.rate == 0.5 for layer in dropout) and len(dropout) == 6
    assert float(model.optimizer.learning_rate) == pytest.approx(1.0)
    assert float(model.optimizer.rho) == pytest.approx(0.95)
    assert model.optimizer.__class__.__name__ == "Adadelta"
    # the original (Keras 2.0): lecun_uniform in every layer, the output included; epsilon 1e-8
    assert all(layer.kernel_initializer.__class__.__name__ == "LecunUniform" for layer in dense)
    assert float(model.optimizer.epsilon) == pytest.approx(1e-8)


def test_network_batches_are_class_balanced_and_cycle_through_the_pools() -> None:
    labels = np.zeros(10_000, dtype=bool)
    labels[:300] = True
    batches = balanced_batches(labels, 3500, seed=1)
    seen = set()
    for _ in range(3):
        batch = next(batches)
        assert len(batch) == 3500 and labels[batch].sum() == 1750
        seen.update(batch[~labels[batch]].tolist())
    assert len(seen) == 5250  # negatives drawn without repetition until the pool is used up


def test_network_batches_drop_a_pools_tail_as_the_original_generator() -> None:
    """A pool larger than half a batch restarts (reshuffled) when the next half batch would
    reach its end: 4,000 negatives give two half batches of 1,750, then the 500 left are
    dropped and the third batch comes from a fresh shuffle."""
    labels = np.zeros(6_000, dtype=bool)
    labels[:2_000] = True
    batches = balanced_batches(labels, 3500, seed=3)
    first, second, third = (next(batches) for _ in range(3))
    negatives = [set(b[~labels[b]].tolist()) for b in (first, second, third)]
    assert not negatives[0] & negatives[1]  # one pass without repetition
    left_over = set(np.flatnonzero(~labels).tolist()) - negatives[0] - negatives[1]
    assert len(left_over) == 500 and not left_over <= negatives[2]  # dropped, not served first
    assert all(labels[b].sum() == 1750 and len(b) == 3500 for b in (first, second, third))


def test_network_validation_is_a_tenth_of_positives_plus_as_many_negatives() -> None:
    labels = np.zeros(5000, dtype=bool)
    labels[::25] = True  # 200 positives
    training, validation = validation_split(labels, 0.1)
    assert labels[validation].sum() == 20 and (~labels[validation]).sum() == 20
    assert len(np.intersect1d(training, validation)) == 0
    assert len(training) + len(validation) == 5000
    again = validation_split(labels, 0.1)[1]
    np.testing.assert_array_equal(validation, again)  # fixed shuffle seed (42), as the original


@pytest.mark.parametrize("name", FITTED)
def test_fitted_methods_learn_only_from_training_rows(name: str) -> None:
    """Changing the labels of rows outside the training set leaves the scores unchanged."""
    cells = synthetic_cells()
    train = cells.slip_model.rows(cells.slip_model.names[:4])
    test = cells.slip_model.rows(cells.slip_model.names[:4], include=False)
    method = create(name, FAST[name])
    method.fit(cells, train, seed=3)
    scores = method.score(cells, test)
    assert pooled_auc(cells.labels[test], scores) > 0.7  # it learnt the stress signal
    flipped = Cells(**{**cells.__dict__, "labels": cells.labels.copy()})
    flipped.labels[test] = ~flipped.labels[test]
    again = create(name, FAST[name])
    again.fit(flipped, train, seed=3)
    np.testing.assert_allclose(again.score(flipped, test), scores, rtol=1e-6)


@dataclass(frozen=True)
class ExtraTreesSettings(Settings):
    n_estimators: int = setting("count", 20)
    max_train_rows: int | None = setting("cap", None)


class ExtraTrees(SklearnMethod):
    """A new scikit-learn method as its module would write it: inputs, scorer, estimator."""

    settings: ExtraTreesSettings
    inputs = "network_inputs"
    scorer = "predict_proba"

    def estimator(self, seed: int) -> ExtraTreesClassifier:
        return ExtraTreesClassifier(n_estimators=self.settings.n_estimators, random_state=seed)


@pytest.mark.parametrize("cap", [None, 1000])
def test_sklearn_base_fits_on_the_capped_training_rows_only(cap: int | None) -> None:
    """A minimal ``SklearnMethod`` learns the stress signal; flipping the labels outside its
    training rows leaves its scores identical, flipping the training labels does not."""
    cells = synthetic_cells()
    train = cells.slip_model.rows(cells.slip_model.names[:4])
    test = cells.slip_model.rows(cells.slip_model.names[:4], include=False)
    settings = ExtraTreesSettings(max_train_rows=cap)

    def fitted_scores(labels: np.ndarray) -> tuple[ExtraTrees, np.ndarray]:
        method = ExtraTrees(settings)
        relabelled = Cells(**{**cells.__dict__, "labels": labels})
        method.fit(relabelled, train, seed=3)
        return method, method.score(relabelled, test)

    method, scores = fitted_scores(cells.labels)
    assert isinstance(method.model, ExtraTreesClassifier) and method.model.n_features_in_ == 12
    assert method.train_rows_used == (len(train) if cap is None else cap)
    assert scores.dtype == np.float64 and ((scores >= 0) & (scores <= 1)).all()
    assert pooled_auc(cells.labels[test], scores) > 0.7
    outside = cells.labels.copy()
    outside[test] = ~outside[test]
    np.testing.assert_array_equal(fitted_scores(outside)[1], scores)
    inside = cells.labels.copy()
    inside[train] = ~inside[train]
    assert not np.array_equal(fitted_scores(inside)[1], scores)


def test_svm_folded_scoring_equals_its_decision_function() -> None:
    """The SVM scores through its weights folded per basis point (``after_fit``); the
    pipeline's own decision function, the base's scorer, gives the same values."""
    cells = synthetic_cells()
    train = cells.slip_model.rows(cells.slip_model.names[:4])
    rows = np.arange(len(cells))
    svm = create("svm", FAST["svm"])
    svm.fit(cells, train, seed=2)
    np.testing.assert_allclose(svm.score_chunk(cells, rows),
                               SklearnMethod.score_chunk(svm, cells, rows), rtol=1e-9, atol=1e-9)


def test_coulomb_chooses_its_convention_on_training_rows_only() -> None:
    cells = synthetic_cells()
    train = cells.slip_model.rows(cells.slip_model.names[:4])
    coulomb = create("coulomb")
    coulomb.fit(cells, train, seed=0)
    expected = np.argmax([pooled_auc(cells.labels[train], cells.cfs[train, k]) for k in range(4)])
    assert coulomb.describe()["convention"] == f"cfs_{expected + 1}"
    assert not spec("coulomb").uses_test_labels


def test_coulomb_as_the_original_picks_per_slip_model_with_the_test_labels() -> None:
    cells = synthetic_cells()
    test = np.arange(len(cells))
    # make convention 3 perfect on one slip model only
    target = cells.slip_model.codes == 0
    cells.cfs[target, 2] = cells.labels[target].astype(np.float32)
    method = create("coulomb_test_selected")
    assert spec("coulomb_test_selected").uses_test_labels
    scores = method.score(cells, test)
    assert pooled_auc(cells.labels[target], scores[target]) == 1.0


@pytest.mark.parametrize("name", ["coulomb", "coulomb_test_selected"])
def test_coulomb_leaves_out_darfield_as_the_original(name: str) -> None:
    """2010DARFIE01ATZO takes no part in the Coulomb assessment: it is not scored, and its
    cells cannot sway the training-chosen convention (here it is made to favour cfs_4)."""
    from dataclasses import replace

    cells = synthetic_cells()
    renamed = np.where(cells.slip_model.names == cells.slip_model.names[0], "2010DARFIE01ATZO",
                       cells.slip_model.names)
    cells = replace(cells, slip_model=Groups.of(renamed[cells.slip_model.codes]))
    darfield = cells.slip_model.rows(["2010DARFIE01ATZO"])
    rows = np.arange(len(cells.labels))
    method = create(name)
    method.fit(cells, rows, seed=0)
    scores = method.score(cells, rows)
    assert np.isnan(scores[darfield]).all() and np.isfinite(np.delete(scores, darfield)).all()
    if name == "coulomb":
        others = np.setdiff1d(rows, darfield)
        expected = np.argmax([pooled_auc(cells.labels[others], cells.cfs[others, k])
                              for k in range(4)])
        assert expected != 3  # the rigged convention must not win on the others anyway
        cells.cfs[darfield, 3] = np.where(cells.labels[darfield], 1e9, -1e9)
        method.fit(cells, rows, seed=0)
        assert method.describe()["convention"] == f"cfs_{expected + 1}"


def test_cap_rows_is_seeded_bounded_and_keeps_the_rare_class() -> None:
    rows = np.arange(100, 10_000)
    labels = np.random.default_rng(0).random(len(rows)) < 0.02  # ~200 positives
    capped = cap_rows(rows, labels, 500, seed=1)
    assert len(capped) == 500 and np.isin(capped, rows).all() and (np.diff(capped) > 0).all()
    np.testing.assert_array_equal(capped, cap_rows(rows, labels, 500, seed=1))
    assert not np.array_equal(capped, cap_rows(rows, labels, 500, seed=2))
    # every positive row is kept while they fit in half the cap ...
    assert set(rows[labels]) <= set(capped)
    # ... and at most half the cap when there are more
    many = np.random.default_rng(1).random(len(rows)) < 0.3
    kept = np.isin(rows[many], cap_rows(rows, many, 500, seed=1)).sum()
    assert kept == 250
    assert cap_rows(rows, labels, None, seed=1) is rows
    np.testing.assert_array_equal(cap_rows(rows[:400], labels[:400], 500, seed=1), rows[:400])


def test_capped_draws_of_overlapping_training_sets_are_coupled() -> None:
    # two arms of a paired comparison: all rows but a different tenth left out of each
    rows = np.arange(200_000)
    labels = np.zeros(len(rows), dtype=bool)
    first, second = rows[rows % 10 != 0], rows[rows % 10 != 1]
    a = cap_rows(first, labels[first], 20_000, seed=4)
    b = cap_rows(second, labels[second], 20_000, seed=4)
    shared = np.intersect1d(first, second)
    # rows both sets hold are drawn alike: far more in common than independent draws give
    common = len(np.intersect1d(a, b))
    independent = 20_000 * 20_000 / len(first) * len(shared) / len(first)
    assert common > 0.85 * 20_000 > 2 * independent
    # and the draw is still uniform over the rows
    counts = np.histogram(a, bins=10, range=(0, len(rows)))[0]
    assert counts.min() > 0.9 * counts.mean()


def test_same_params_give_the_same_metrics() -> None:
    cells = synthetic_cells()
    models = list(cells.slip_model.names)
    splits = {"schemes": {"paper": {"paper": models[4:]},
                          "grouped": {"0": models[:2], "1": models[2:4]}}}
    for name in ("random_forest", "neural_network"):
        first = evaluate_method(name, FAST[name], cells, splits, SERIAL, None)
        second = evaluate_method(name, FAST[name], cells, splits, SERIAL, None)
        assert first.partitions == second.partitions
        for key, scores in first.test_scores.items():
            np.testing.assert_array_equal(scores, second.test_scores[key])


def test_auc_variants_against_direct_pair_counting() -> None:
    rng = np.random.default_rng(5)
    labels = rng.random(400) < 0.3
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # with ties
    positives, negatives = scores[labels], scores[~labels]
    pairs = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :])
    assert pooled_auc(labels, scores) == pytest.approx(pairs.mean(), abs=1e-12)
    groups = Groups.of(np.repeat(["a", "b", "c", "d"], 100))
    labels[300:] = False  # group d has one class: skipped, not scored 0.5
    result = per_group_auc(labels, scores, groups.codes, groups.names)
    assert result.skipped == ["d"]
    assert result.table.loc["b", "auc"] == pytest.approx(pooled_auc(labels[100:200],
                                                                    scores[100:200]))
    assert result.mean == pytest.approx(result.table["auc"].mean())
    curve = roc_points(labels, scores)
    assert curve.tpr.is_monotonic_increasing and curve.tpr.iloc[-1] == 1.0


def test_unknown_method_and_bad_settings_are_named() -> None:
    with pytest.raises(InputError, match="unknown method 'deep_forest'"):
        create("deep_forest")
    params = {"methods": {"random_forest": {**FAST_PARAMS["random_forest"], "n_estimators": 0}}}
    with pytest.raises(InputError, match=r"methods\.random_forest\.n_estimators' must be >= 1"):
        method_settings(params, "random_forest")
    params = {"methods": {"svm": {**FAST_PARAMS["svm"], "kernel": "rbf"}}}
    with pytest.raises(InputError, match=r"unknown key.*methods\.svm\.kernel"):
        method_settings(params, "svm")
    assert len(set(ALL_METHODS)) == len(ALL_METHODS)  # a name selects one method


def test_network_restarts_keep_the_best_validation_loss() -> None:
    """restarts: 1 is the plain fit; more restarts keep the initialisation whose validation
    loss (training cells only) is lowest, and its scores."""
    from dataclasses import replace

    cells = synthetic_cells()
    rows = np.arange(len(cells.labels))
    single = create("neural_network", FAST["neural_network"])
    single.fit(cells, rows, seed=5)
    several = create("neural_network", replace(FAST["neural_network"], restarts=3))
    several.fit(cells, rows, seed=5)
    losses = several.describe()["restart_validation_losses"]
    assert len(losses) == 3 and losses[0] == pytest.approx(single.restart_losses[0])
    assert min(h["val_loss"] for h in several.history) == pytest.approx(min(losses))
    if np.argmin(losses) == 0:  # the first initialisation won: the same network as one fit
        np.testing.assert_allclose(several.score(cells, rows), single.score(cells, rows))


def test_per_slip_model_rows_keep_one_class_slip_models_with_their_earthquakes_auc() -> None:
    """An earthquake whose slip models each hold one class (all aftershocks in one, none in
    the other) has no per-slip-model AUC but a pooled one: its rows are kept, auc empty."""
    cells = synthetic_cells(n=6000, models=6, seed=2)
    codes = cells.slip_model.codes
    names = cells.slip_model.names
    labels = cells.labels.copy()
    labels[codes == list(names).index("2000ABCDEF03AU4x")] = True
    labels[codes == list(names).index("2000ABCDEF03AU5x")] = False
    cells = Cells(**{**cells.__dict__, "labels": labels})
    test = ["2000ABCDEF03AU4x", "2000ABCDEF03AU5x", "2000ABCDEF02AU2x"]
    splits = {"schemes": {"paper": {"paper": test}}}
    result = evaluate_method("sum_abs", None, cells, splits, SERIAL, None)
    table = result.per_slip_model[0].set_index("slip_model")
    assert sorted(table.index) == sorted(test)
    assert table.loc[["2000ABCDEF03AU4x", "2000ABCDEF03AU5x"], "auc"].isna().all()
    assert table.loc["2000ABCDEF03AU4x", "positives"] == table.loc["2000ABCDEF03AU4x", "rows"]
    pooled = np.isin(codes, [list(names).index(n) for n in test[:2]])
    expected = pooled_auc(labels[pooled], cells.sum_abs[pooled])
    assert table.loc[test[:2], "event_auc"].tolist() == pytest.approx([expected] * 2)
    assert table.loc["2000ABCDEF02AU2x", "auc"] == table.loc["2000ABCDEF02AU2x", "event_auc"]
