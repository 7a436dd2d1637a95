"""The letter's inputs: every metrics, plots and results file it reads, checked on reading.

A missing or malformed file, or one that does not match the metrics schema
(``metrics_schema``: types, finite numbers, the numbers each claim needs), is an InputError
naming the file, the stage that writes it and the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import read_json
from ..errors import InputError
from ..methods import ALL_METHODS
from ..names import event_of, sequence_of
from .method_table import METHOD_TABLE
from .metrics_schema import (
    Auc,
    Audit,
    CurveSummary,
    Features,
    Leakage,
    Model,
    Operating,
    check,
)
from .stats_schema import Stats


@dataclass
class Inputs:
    """Everything the letter reads, with the files it came from (for the checksums)."""

    features: dict[str, Any]
    auc: dict[str, Any]
    audit: dict[str, Any]
    stats: dict[str, Any]
    leakage: dict[str, Any]
    curves: dict[str, pd.DataFrame]
    curve_summaries: dict[str, dict[str, Any]]
    roc: dict[str, pd.DataFrame]
    per_slip_model: dict[str, pd.DataFrame]
    roles: pd.DataFrame
    roles_complete: bool
    methods: list[str]
    files: list[tuple[str, Path]] = field(default_factory=list)
    # why the split stage formed no spatio-temporal clusters (None: formed, or not known
    # because no splits file was given)
    clusters_missing_because: str | None = None
    # the operating characteristics of the verdicts (benchmarks.operating --combine); None
    # when no file was given
    operating: dict[str, Any] | None = None
    # the level the grouped partitions were drawn by (splits.json ``units.grouped``)
    grouped_by: str = "sequence"


def _shown(path: Path, root: Path) -> str:
    """A path as printed: relative to the parent of its input directory (``metrics/auc.json``)."""
    try:
        return f"{root.name}/{path.relative_to(root).as_posix()}"
    except ValueError:
        return path.name


def _need(path: Path, producer: str) -> Path:
    if not path.is_file():
        raise InputError(f"{path}: missing; it is written by {producer} (run `dvc repro` or "
                         f"that stage first)")
    return path


def _read_json(path: Path, producer: str) -> dict[str, Any]:
    loaded = read_json(path, producer)
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return loaded


def _read_csv(path: Path, producer: str, columns: Iterable[str],
              numeric: Iterable[str] = ()) -> pd.DataFrame:
    """A CSV another stage wrote, with ``columns``; those in ``numeric`` hold numbers (an
    empty cell, an undefined value, is allowed; text or an infinity is not)."""
    _need(path, producer)
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV ({error}); rerun {producer}") from error
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; rerun {producer}")
    for column in numeric:
        values = table[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers.isna() & values.notna()) | numbers.isin([np.inf, -np.inf])
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise InputError(f"{path}: column '{column}' holds '{values.iloc[row]}' in data row "
                             f"{row + 1}; expected a finite number. Rerun {producer}")
    return table


def dig(mapping: Any, keys: Iterable[str], source: str) -> Any:
    """``mapping[k1][k2]...`` with an InputError naming the file and the missing key path."""
    node, walked = mapping, []
    for key in keys:
        walked.append(str(key))
        if not isinstance(node, dict) or key not in node:
            raise InputError(f"{source}: missing key {'.'.join(walked)}; the file does not "
                             "match the metrics schema (rerun the stage that writes it)")
        node = node[key]
    return node


def order_methods(names: Iterable[str]) -> list[str]:
    """Methods in the registry's order (unknown names last, alphabetically)."""
    names = set(names)
    known = [m for m in ALL_METHODS if m in names]
    return known + sorted(names - set(known))


def label(method: str) -> str:
    """A method's name in tables and legends."""
    shown = METHOD_TABLE.get(method)
    return shown.label if shown else method.replace("_", " ")


def prose(method: str) -> str:
    """A method's name in running text."""
    shown = METHOD_TABLE.get(method)
    return shown.prose if shown else method.replace("_", " ")


def load_inputs(
    metrics_dir: Path, plots_dir: Path, results_dir: Path, splits_path: Path | None = None,
    curve_methods: Iterable[str] = (), operating_path: Path | None = None,
) -> Inputs:
    """Read and check every input; a missing or malformed file is an InputError naming it."""
    metrics_dir, plots_dir, results_dir = Path(metrics_dir), Path(plots_dir), Path(results_dir)
    files: list[tuple[str, Path]] = []

    def note(path: Path, root: Path) -> Path:
        files.append((_shown(path, root), path))
        return path

    def checked(name: str, schema: type[Model], producer: str) -> dict[str, Any]:
        path = note(metrics_dir / name, metrics_dir)
        payload = _read_json(path, producer)
        check(schema, payload, path, producer)
        return payload

    features = checked("features.json", Features, "the features stage")
    auc = checked("auc.json", Auc, "the aggregate stage")
    audit = checked("leakage_audit.json", Audit, "the split stage")
    stats = checked("stats.json", Stats, "the stats stage")
    leakage = checked("leakage.json", Leakage, "the leakage_summary stage")
    methods = order_methods(auc["paper"])

    curves, summaries = {}, {}
    for method in curve_methods:
        producer = f"the learning_curve stage of '{method}'"
        summaries[method] = checked(f"learning_curve/{method}.json", CurveSummary, producer)
        curves[method] = _read_csv(
            note(plots_dir / "learning_curve" / f"{method}.csv", plots_dir), producer,
            ("seed", "train_share", "train_rows", "test_auc", "test_cells"),
            ("train_share", "train_rows", "test_auc", "test_cells"))
    roc, per_slip_model = {}, {}
    for method in methods:
        producer = f"the evaluate stage of '{method}'"
        roc[method] = _read_csv(note(plots_dir / "roc" / f"{method}.csv", plots_dir), producer,
                                ("fpr", "tpr", "split"), ("fpr", "tpr"))
        per_slip_model[method] = _read_csv(
            note(results_dir / "per_slip_model" / f"{method}.csv", results_dir), producer,
            ("slip_model", "auc", "event", "event_auc", "scheme", "partition"),
            ("auc", "event_auc"))
    if splits_path is not None:
        splits_path = Path(splits_path)
        splits = _read_json(splits_path, "the split stage")
        files.append((_shown(splits_path, splits_path.parent), splits_path))
        roles, complete = roles_from_splits(splits, str(splits_path))
        missing = (splits.get("spatiotemporal") or {}).get("not_computed_because")
        grouped_by = str((splits.get("units") or {}).get("grouped") or "sequence")
    else:
        roles, complete = roles_from_results(per_slip_model, audit, features)
        missing = None
        grouped_by = "sequence"
    operating = None
    if operating_path is not None:
        operating_path = Path(operating_path)
        producer = ("python -m aftershock_replication.benchmarks.operating --combine "
                    "(README, \"Operating characteristics\")")
        operating = _read_json(operating_path, producer)
        check(Operating, operating, operating_path, producer)
        files.append((_shown(operating_path, operating_path.parent), operating_path))
    return Inputs(features, auc, audit, stats, leakage, curves, summaries, roc, per_slip_model,
                  roles, complete, methods, files, missing, operating, grouped_by)


def _roles_table(test: set[str], every: set[str]) -> pd.DataFrame:
    names = sorted(every)
    return pd.DataFrame({
        "slip_model": names,
        "event": [event_of(n) for n in names],
        "sequence": [sequence_of(n) for n in names],
        "role": ["test" if n in test else "train" for n in names],
    })


def roles_from_splits(splits: dict[str, Any], source: str) -> tuple[pd.DataFrame, bool]:
    """Paper-split side of every analysed slip model, from data/splits.json."""
    test = set(dig(splits, ["schemes", "paper", "paper"], source))
    every = set(dig(splits, ["slip_models"], source)) | test
    return _roles_table(test, every), True


def roles_from_results(
    per_slip_model: dict[str, pd.DataFrame], audit: dict[str, Any], features: dict[str, Any],
) -> tuple[pd.DataFrame, bool]:
    """Best effort without the splits file: every slip model named in any input.

    Training slip models never drawn into any test set are not named anywhere else, so the
    result may be incomplete; the second value says whether it matches features.json.
    """
    test: set[str] = set()
    every: set[str] = set()
    for table in per_slip_model.values():
        every.update(table["slip_model"].astype(str))
        test.update(table.loc[table["scheme"] == "paper", "slip_model"].astype(str))
    for groups in audit.get("paper", {}).get("paper", {}).values():
        for group in groups:
            test.update(group.get("test_slip_models", []))
            every.update(group.get("train_slip_models", []))
    every |= test
    roles = _roles_table(test, every)
    expected = features.get("by_paper_role", {})
    complete = all(
        int((roles["role"] == side).sum()) == int(expected.get(side, {}).get("slip_models", -1))
        for side in ("train", "test"))
    return roles, complete
