"""The network of DeVries et al. (2018), rebuilt in Keras 3 on the JAX backend.

Recipe (STUDY.md): 12 inputs; six Dense(50, tanh, lecun_uniform) layers each followed by
Dropout(0.5); a sigmoid output (13,451 parameters); binary cross-entropy; Adadelta with
the Keras 2 defaults (learning rate 1.0, rho 0.95); batches of 3,500 cells, half
positive and half negative, drawn from shuffled pools; validation on 10 % of the positive
training cells plus as many negatives (shuffled with seed 42), the rest trains;
steps per epoch = round(positive training cells / 3,500); 5 epochs; the weights with the
best validation loss are kept.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..cells import Cells
from ..errors import InputError
from ..progress import format_seconds
from . import NeuralNetworkSettings, base
from .base import Method

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # (the backend must be chosen before keras is imported)

log = logging.getLogger(__name__)

HIDDEN_LAYERS, HIDDEN_UNITS, DROPOUT = 6, 50, 0.5
VALIDATION_SEED = 42  # as in the original code


def build_network(seed: int, learning_rate: float, rho: float) -> keras.Model:
    """The original architecture, compiled with Adadelta(learning_rate, rho).

    Every initialiser and dropout layer gets its own seed derived from ``seed``: Keras'
    defaults draw them from Python's global ``random``, which other threads of a process
    (a Dask worker's) may advance, so the same partition could start from other weights.
    """
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
                                     kernel_initializer=keras.initializers.GlorotUniform(
                                         seed=next(seeds))))
    model = keras.Sequential(layers)
    model.compile(loss="binary_crossentropy",
                  optimizer=keras.optimizers.Adadelta(learning_rate=learning_rate, rho=rho))
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
    """Endless batches of positions, half positive and half negative, each drawn in turn from
    a shuffled pool that is reshuffled when used up."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    pools = [np.flatnonzero(labels), np.flatnonzero(~labels)]
    orders = [rng.permutation(pool) for pool in pools]
    cursors = [0, 0]
    half = batch_size // 2
    while True:
        batch = []
        for k in range(2):
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


class NeuralNetwork(Method):
    settings: NeuralNetworkSettings

    def __init__(self, settings: NeuralNetworkSettings) -> None:
        super().__init__(settings)
        self.model: keras.Model | None = None
        self.weights_: list[np.ndarray] = []
        self.key: tuple[float, float] | None = None  # the optimiser setting fitted with
        self.history: list[dict[str, float]] = []

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        batch_size, epochs = self.settings.batch_size, self.settings.epochs
        rows = self.training_rows(cells, rows, seed)
        inputs, labels = cells.network_inputs(rows), cells.labels[rows]
        training, validation = validation_split(labels, self.settings.validation_share)
        x_train, y_train = inputs[training], labels[training]
        x_valid, y_valid = inputs[validation], labels[validation].astype(np.float32)
        steps = max(1, round(int(y_train.sum()) / batch_size))
        self.key = (self.settings.learning_rate, self.settings.rho)
        self.model = fresh_network(seed, *self.key)
        batches = balanced_batches(y_train, batch_size, seed)
        best_loss, best_weights = np.inf, self.model.get_weights()
        self.history = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            for _ in range(steps):
                batch = next(batches)
                loss = self.model.train_on_batch(x_train[batch],
                                                 y_train[batch].astype(np.float32))
            valid_loss = float(self.model.evaluate(x_valid, y_valid, batch_size=65536,
                                                   verbose=0))
            self.history.append({"epoch": epoch, "loss": float(np.asarray(loss).ravel()[0]),
                                 "val_loss": valid_loss})
            if valid_loss < best_loss:
                best_loss, best_weights = valid_loss, self.model.get_weights()
            log.info("network epoch %d/%d: %d steps of %d cells, validation loss %.4f (%s)",
                     epoch, epochs, steps, batch_size, valid_loss,
                     format_seconds(time.perf_counter() - start))
        self.model.set_weights(best_weights)
        self.weights_ = best_weights
        _cache()[1][self.key] = id(self)

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
        return {"parameters": int(self.model.count_params()), "history": self.history}
