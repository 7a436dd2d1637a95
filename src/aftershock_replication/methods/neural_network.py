"""The network of DeVries et al. (2018), rebuilt in Keras 3 on the JAX backend.

Recipe (STUDY.md and the original's ``modelfunctions.py``): 12 inputs; six Dense(50, tanh,
lecun_uniform) layers each followed by Dropout(0.5); a sigmoid output, also lecun_uniform
(13,451 parameters); binary cross-entropy; Adadelta with the Keras 2.0 defaults (learning
rate 1.0, rho 0.95, epsilon 1e-8); batches of 3,500 cells, half positive and half
negative, taken in turn from shuffled pools, each pool reshuffled (and its tail dropped)
when fewer than half a batch remain; validation on 10 % of the positive training cells
plus as many negatives (shuffled with seed 42), the rest trains; steps per epoch =
round(positive training cells / 3,500); 5 epochs; the weights with the best validation
loss are kept. ``steps_per_epoch`` fixes the training length instead (the learning curves
hold it constant along a curve). ``restarts`` > 1 (not in the original) fits from that many seeded
initialisations and keeps the one with the best validation loss (training cells only).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..cells import Cells
from ..errors import InputError
from ..progress import format_seconds
from . import FITTED_METHOD, Settings, base, setting
from .base import Method

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)

HIDDEN_LAYERS, HIDDEN_UNITS, DROPOUT = 6, 50, 0.5
VALIDATION_SEED = 42  # as in the original code
ADADELTA_EPSILON = 1e-8  # Keras 2.0's default (Keras 3: 1e-7)


@dataclass(frozen=True)
class NeuralNetworkSettings(Settings):
    batch_size: int = setting("count", 3500)
    epochs: int = setting("count", 5)
    learning_rate: float = setting("positive", 1.0)
    rho: float = setting("unit_open", 0.95)
    validation_share: float = setting("unit_open", 0.1)
    max_train_rows: int | None = setting("cap", None)
    # fits from this many seeded initialisations, keeping the best validation loss (1 = the
    # original's single fit)
    restarts: int = setting("count", 1)
    # gradient steps per epoch; None = the original's round(positive training cells / batch)
    steps_per_epoch: int | None = setting("cap", None)

    def original_steps(self, positives: int) -> int:
        """Steps per epoch of the original recipe for ``positives`` positive training rows:
        round(those left after validation / batch size), at least one (validation holds out
        ``validation_share`` of them, at least one)."""
        held_out = max(1, round(self.validation_share * positives))
        return max(1, round((positives - held_out) / self.batch_size))


def _keras() -> Any:
    """Keras on the JAX backend, imported on first use (not when the registry imports this
    module to read its declaration); the backend must be chosen before keras is imported."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def build_network(seed: int, learning_rate: float, rho: float) -> keras.Model:
    """The original architecture, compiled with Adadelta(learning_rate, rho).

    Every initialiser and dropout layer gets its own seed derived from ``seed``: Keras'
    defaults draw them from Python's global ``random``, which other threads of a process
    (a Dask worker's) may advance, so the same partition could start from other weights.
    """
    keras = _keras()
    keras.utils.set_random_seed(seed)
    seeds = iter(int(v) for v in np.random.SeedSequence([seed, 23]).generate_state(
        2 * HIDDEN_LAYERS + 1))
    layers: list[keras.layers.Layer] = [keras.Input(shape=(12,))]
    for _ in range(HIDDEN_LAYERS):
        layers += [keras.layers.Dense(HIDDEN_UNITS, activation="tanh",
                                      kernel_initializer=keras.initializers.LecunUniform(
                                          seed=next(seeds))),
                   keras.layers.Dropout(DROPOUT, seed=next(seeds))]
    layers.append(keras.layers.Dense(1, activation="sigmoid",
                                     kernel_initializer=keras.initializers.LecunUniform(
                                         seed=next(seeds))))
    model = keras.Sequential(layers)
    model.compile(loss="binary_crossentropy",
                  optimizer=keras.optimizers.Adadelta(learning_rate=learning_rate, rho=rho,
                                                      epsilon=ADADELTA_EPSILON))
    return model


# One compiled network per thread and optimiser setting: JAX traces and compiles the
# training step once per model object (about a second), so each fit loads fresh weights,
# dropout states and optimiser state into this one instead of compiling a new network.
# Per thread, not per process: a Dask worker with several threads fits partitions at once.
_PER_THREAD = threading.local()


def _cache() -> tuple[dict[tuple[float, float], tuple[keras.Model, list[np.ndarray]]],
                      dict[tuple[float, float], int]]:
    """This thread's compiled networks, and the id of the fit whose weights each holds."""
    if not hasattr(_PER_THREAD, "compiled"):
        _PER_THREAD.compiled, _PER_THREAD.owner = {}, {}
    return _PER_THREAD.compiled, _PER_THREAD.owner


def fresh_network(seed: int, learning_rate: float, rho: float) -> keras.Model:
    """This thread's compiled network, reset to the state ``build_network(seed, ...)``
    starts from: the seeded initial weights and dropout states, an untouched optimiser."""
    key = (learning_rate, rho)
    compiled, _ = _cache()
    fresh = build_network(seed, learning_rate, rho)
    if key not in compiled:
        fresh.optimizer.build(fresh.trainable_variables)
        compiled[key] = (fresh, [v.numpy() for v in fresh.optimizer.variables])
        return fresh
    model, optimizer_start = compiled[key]
    for target, source in zip(model.variables, fresh.variables, strict=True):
        target.assign(source.value)
    for variable, value in zip(model.optimizer.variables, optimizer_start, strict=True):
        variable.assign(value)
    return model


def validation_split(labels: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) positions: ``share`` of the positives plus as many negatives."""
    rng = np.random.default_rng(VALIDATION_SEED)
    positives = rng.permutation(np.flatnonzero(labels))
    negatives = rng.permutation(np.flatnonzero(~labels))
    if len(positives) < 2 or len(negatives) < 2:
        raise InputError(f"the network needs at least 2 positive and 2 negative training cells "
                         f"(one of each for validation), got {len(positives)} and "
                         f"{len(negatives)}")
    # at least one of each class validates: a tiny training set still has a validation loss
    count = max(1, round(share * len(positives)))
    validation = np.concatenate([positives[:count], negatives[:count]])
    training = np.concatenate([positives[count:], negatives[count:]])
    return np.sort(training), np.sort(validation)


def balanced_batches(labels: np.ndarray, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """Endless batches of positions, half positive and half negative, each taken in turn
    from a shuffled pool. As in the original's ``generate_data``, a pool is reshuffled and
    restarted when the next half batch would reach its end, so its tail is dropped. A pool
    of at most half a batch (tiny training sets, e.g. a learning curve's first points)
    would give the original short, unbalanced batches; here it is cycled through
    reshuffles until the half batch is full, so every batch stays balanced."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    pools = [np.flatnonzero(labels), np.flatnonzero(~labels)]
    orders = [rng.permutation(pool) for pool in pools]
    cursors = [0, 0]
    half = batch_size // 2
    while True:
        batch = []
        for k in range(2):
            if len(pools[k]) > half:  # the original's rule
                if cursors[k] + half >= len(pools[k]):
                    orders[k], cursors[k] = rng.permutation(pools[k]), 0
                batch.append(orders[k][cursors[k]:cursors[k] + half])
                cursors[k] += half
                continue
            taken: list[np.ndarray] = []
            need = half
            while need:
                chunk = orders[k][cursors[k]:cursors[k] + need]
                taken.append(chunk)
                cursors[k] += len(chunk)
                need -= len(chunk)
                if cursors[k] == len(orders[k]):
                    orders[k], cursors[k] = rng.permutation(pools[k]), 0
            batch.append(np.concatenate(taken))
        yield np.concatenate(batch)


def restart_seed(seed: int, restart: int) -> int:
    """The seed of a restart: the partition's own for the first (so ``restarts: 1`` is the
    plain fit), derived ones for the others."""
    if restart == 0:
        return seed
    return int(np.random.SeedSequence([seed, 29, restart]).generate_state(1)[0])


class NeuralNetwork(Method):
    name = "neural_network"
    role = FITTED_METHOD
    order = 110
    settings_class = NeuralNetworkSettings
    settings: NeuralNetworkSettings

    def __init__(self, settings: NeuralNetworkSettings) -> None:
        super().__init__(settings)
        self.model: keras.Model | None = None
        self.weights_: list[np.ndarray] = []
        self.key: tuple[float, float] | None = None  # the optimiser setting fitted with
        self.history: list[dict[str, float]] = []
        self.restart_losses: list[float] = []  # best validation loss of each restart
        # validation loss of the kept restart's initial weights: whether training helped
        self.initial_val_loss: float | None = None
        self.steps_per_epoch: int | None = None  # gradient steps per epoch, as run

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        inputs, labels = cells.network_inputs(rows), cells.labels[rows]
        training, validation = validation_split(labels, self.settings.validation_share)
        x_train, y_train = inputs[training], labels[training]
        x_valid, y_valid = inputs[validation], labels[validation].astype(np.float32)
        self.key = (self.settings.learning_rate, self.settings.rho)
        best: tuple[float, list[np.ndarray], list[dict[str, float]], float] | None = None
        self.restart_losses = []
        for restart in range(self.settings.restarts):
            loss, weights, history, initial = self._fit_once(
                x_train, y_train, x_valid, y_valid, restart_seed(seed, restart))
            self.restart_losses.append(loss)
            if best is None or loss < best[0]:
                best = (loss, weights, history, initial)
        assert best is not None and self.model is not None
        _, self.weights_, self.history, self.initial_val_loss = best
        self.model.set_weights(self.weights_)
        _cache()[1][self.key] = id(self)

    def _fit_once(
        self, x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray,
        y_valid: np.ndarray, seed: int,
    ) -> tuple[float, list[np.ndarray], list[dict[str, float]], float]:
        """One training run from the initialisation ``seed``: the best validation loss, its
        weights, the per-epoch history and the validation loss before training."""
        assert self.key is not None
        batch_size, epochs = self.settings.batch_size, self.settings.epochs
        steps = self.settings.steps_per_epoch or self.settings.original_steps(
            int(y_train.sum()) + int(y_valid.sum()))
        self.steps_per_epoch = steps
        self.model = fresh_network(seed, *self.key)
        initial = float(self.model.evaluate(x_valid, y_valid, batch_size=65536, verbose=0))
        batches = balanced_batches(y_train, batch_size, seed)
        best_loss, best_weights = np.inf, self.model.get_weights()
        history = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            for _ in range(steps):
                batch = next(batches)
                loss = self.model.train_on_batch(x_train[batch],
                                                 y_train[batch].astype(np.float32))
            valid_loss = float(self.model.evaluate(x_valid, y_valid, batch_size=65536,
                                                   verbose=0))
            history.append({"epoch": epoch, "loss": float(np.asarray(loss).ravel()[0]),
                            "val_loss": valid_loss})
            if valid_loss < best_loss:
                best_loss, best_weights = valid_loss, self.model.get_weights()
            log.info("network epoch %d/%d: %d steps of %d cells, validation loss %.4f (%s)",
                     epoch, epochs, steps, batch_size, valid_loss,
                     format_seconds(time.perf_counter() - start))
        return best_loss, best_weights, history, initial

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None and self.key is not None, "fit first"
        compiled, owner = _cache()
        if self.key not in compiled or compiled[self.key][0] is not self.model:
            raise RuntimeError("a fitted network scores in the thread that fitted it")
        if owner.get(self.key) != id(self):  # another fit has used the shared network since
            self.model.set_weights(self.weights_)
            owner[self.key] = id(self)
        inputs = cells.network_inputs(rows)
        # chunk sizes rounded up to a power of two (at most SCORE_CHUNK_ROWS): a handful of
        # input shapes, each compiled once per thread, instead of one per chunk length
        size = min(base.SCORE_CHUNK_ROWS, max(1024, 1 << max(0, len(rows) - 1).bit_length()))
        padded = np.zeros((size, inputs.shape[1]), dtype=inputs.dtype)
        padded[:len(rows)] = inputs
        scores = self.model.predict(padded, batch_size=size, verbose=0)
        return np.asarray(scores, dtype=np.float64).ravel()[:len(rows)]

    def describe(self) -> dict[str, Any]:
        assert self.model is not None
        described: dict[str, Any] = {"parameters": int(self.model.count_params()),
                                     "history": self.history,
                                     "initial_val_loss": self.initial_val_loss,
                                     "steps_per_epoch": self.steps_per_epoch}
        if self.settings.restarts > 1:
            described["restart_validation_losses"] = self.restart_losses
        return described
