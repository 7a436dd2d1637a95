"""The common interface of every method.

A method is fitted on training rows only (``fit``) and then scores any rows (``score``);
untrained stress metrics have nothing to fit. Scores are higher where aftershocks are
more likely; only their order matters (AUC). Scoring goes in bounded chunks of rows, so no
method ever expands millions of cells into its feature space at once.

``SklearnMethod`` is the common skeleton of the scikit-learn methods: a subclass names the
``Cells`` features it reads and how its estimator scores, and builds the estimator from its
settings; the base caps the training rows, fits, and scores chunk by chunk.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from ..cells import Cells

if TYPE_CHECKING:
    from . import Settings

SCORE_CHUNK_ROWS = 65_536  # rows scored at a time: bounds e.g. SVM's (rows x components) block


class Method(ABC):
    """One way of scoring cells; how it is shown is in the report's table
    (``report.method_table``). Fitted methods learn from training rows only.

    A class that is a method declares what the registry (``methods/__init__.py``) reads:
    ``name`` (a fitted method's is its module's), ``role`` (one of the registry's roles),
    ``order`` (its place in tables, figures, params.yaml and the comparisons) and, if
    fitted, ``settings_class``. A class without a ``name`` of its own is a common base.
    """

    name: ClassVar[str]
    role: ClassVar[str]
    order: ClassVar[int]
    settings_class: ClassVar[type[Settings] | None] = None  # None: untrained

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.train_rows_used: int | None = None

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:  # noqa: B027
        """Learn from the training ``rows`` (nothing to learn by default)."""

    def score(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` (float64), higher = aftershock more likely, chunk by chunk."""
        out = np.empty(len(rows))
        for start in range(0, len(rows), SCORE_CHUNK_ROWS):
            chunk = rows[start:start + SCORE_CHUNK_ROWS]
            out[start:start + len(chunk)] = self.score_chunk(cells, chunk)
        return out

    @abstractmethod
    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """Scores of a bounded number of ``rows``."""

    def describe(self) -> dict[str, Any]:
        """What was fitted or chosen, for the metrics file."""
        return {}

    def training_rows(self, cells: Cells, rows: np.ndarray, seed: int) -> np.ndarray:
        """The training rows this method fits on: all of them, or at most its
        ``max_train_rows`` (a maximum, not a requirement) drawn by ``cap_rows``; records
        how many were used."""
        used = cap_rows(rows, cells.labels[rows], getattr(self.settings, "max_train_rows", None),
                        seed)
        self.train_rows_used = len(used)
        return used


class SklearnMethod(Method):
    """A scikit-learn estimator fitted on one feature function of the cells.

    A subclass says which inputs it reads (``inputs``: the name of a ``Cells`` method taking
    rows, e.g. ``"network_inputs"`` or ``"log_magnitudes"``), how its estimator scores
    (``scorer``: ``"predict_proba"``, the probability of the positive class, or
    ``"decision_function"``), and builds its unfitted estimator from ``self.settings`` in
    ``estimator(seed)``, importing scikit-learn there (the registry imports every method
    module to read its declaration, and must stay light). The base fits it on the training
    rows only (capped by ``training_rows``) and keeps it in ``self.model``; ``after_fit``
    may derive more from it.
    """

    inputs: ClassVar[str]
    scorer: ClassVar[Literal["predict_proba", "decision_function"]]

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.model: Any = None

    @abstractmethod
    def estimator(self, seed: int) -> Any:
        """The unfitted estimator, from ``self.settings`` (``seed``: its random_state)."""

    def features(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        """The estimator's inputs for ``rows``."""
        return getattr(cells, self.inputs)(rows)

    def fit(self, cells: Cells, rows: np.ndarray, seed: int) -> None:
        rows = self.training_rows(cells, rows, seed)
        self.model = self.estimator(seed).fit(self.features(cells, rows), cells.labels[rows])
        self.after_fit()

    def after_fit(self) -> None:
        """Derive what scoring needs from the fitted ``self.model`` (nothing by default)."""

    def score_chunk(self, cells: Cells, rows: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit first"
        if self.scorer == "predict_proba":
            return self.model.predict_proba(self.features(cells, rows))[:, 1]
        return self.model.decision_function(self.features(cells, rows))


def cap_rows(rows: np.ndarray, labels: np.ndarray, max_rows: int | None,
             seed: int) -> np.ndarray:
    """At most ``max_rows`` of the training ``rows`` (``labels``: theirs), for methods too
    slow to fit on millions of rows; all rows if None or if there are no more.

    Case-control sampling (seeded, sorted): every positive row up to half the cap, then
    negatives drawn uniformly to fill it (``_lowest``: coupled across training sets).
    Aftershock cells are ~2 % of the rows, so a uniform draw would leave a capped method a
    few hundred positives; the original network was trained on class-balanced batches. AUC
    depends only on the ranking, and for a logistic model a scaled-down negative class
    shifts only the intercept (King & Zeng 2001, rare events); for other learners it is the
    usual remedy for a rare class (Chen, Liaw & Breiman 2004, balanced random forests).
    """
    if max_rows is None or len(rows) <= max_rows:
        return rows
    positives, negatives = rows[labels], rows[~labels]
    take = min(len(positives), max_rows // 2)
    chosen = [_lowest(positives, take, seed), _lowest(negatives, max_rows - take, seed)]
    return np.sort(np.concatenate(chosen))


def _lowest(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    """The ``count`` rows of lowest seeded pseudo-random priority.

    A row's priority depends only on the row and the seed (splitmix64 of both), not on the
    other rows, so two training sets that share rows draw them alike: the arms of a paired
    comparison (e.g. the leakage experiment's purged and size-control fits) then differ in
    the slip models they leave out, not in a fresh random draw of everything else. NumPy's
    generators draw from a whole array at once and cannot give that coupling.
    """
    if count >= len(rows):
        return rows
    with np.errstate(over="ignore"):  # the mixing wraps around modulo 2**64 on purpose
        mixed = rows.astype(np.uint64) + np.uint64(seed + 1) * np.uint64(0x9E3779B97F4A7C15)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(31)
    return rows[np.argpartition(mixed, count - 1)[:count]]
