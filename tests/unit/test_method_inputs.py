"""Results come only from the current run: aggregate reads the methods the params name, and
no method file computed from other inputs is mixed into new results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftershock_replication.comparisons import stats_stage
from aftershock_replication.errors import InputError
from aftershock_replication.evaluate import input_digests, method_partitions
from aftershock_replication.methods import ALL_METHODS
from aftershock_replication.methods.params import configured_methods


def write_methods(root: Path, inputs: dict[str, dict[str, str]]) -> Path:
    """One metrics file per method with the given input digests."""
    methods_dir = root / "metrics" / "methods"
    methods_dir.mkdir(parents=True)
    for method, made_from in inputs.items():
        (methods_dir / f"{method}.json").write_text(json.dumps(
            {"method": method, "inputs": made_from, "partitions": {"paper": {}}}))
    return methods_dir


CURRENT = {"features_sha256": "a" * 64, "splits_sha256": "b" * 64}
EARLIER = {"features_sha256": "c" * 64, "splits_sha256": "b" * 64}


def test_only_the_configured_methods_are_read(tmp_path: Path) -> None:
    """Dropping max_shear from ``untrained`` leaves its old file behind: it is not read."""
    methods_dir = write_methods(tmp_path, {**dict.fromkeys(ALL_METHODS, CURRENT),
                                           "max_shear": EARLIER})
    params = {"untrained": ["coulomb", "von_mises"], "methods": {"logistic": {}}}
    assert configured_methods(params) == ["coulomb", "von_mises", "logistic"]
    assert set(method_partitions(methods_dir, configured_methods(params))) == {
        "coulomb", "von_mises", "logistic"}


def test_a_method_file_from_other_inputs_is_refused(tmp_path: Path) -> None:
    methods_dir = write_methods(tmp_path, {"coulomb": CURRENT, "max_shear": EARLIER})
    with pytest.raises(InputError, match=r"max_shear\.json: computed from other inputs than "
                                         r"the other methods' \(coulomb\).*rerun the stage "
                                         r"score@max_shear"):
        method_partitions(methods_dir, ["coulomb", "max_shear"])
    with pytest.raises(InputError, match=r"coulomb\.json: computed from other inputs than the "
                                         r"current feature table and splits"):
        method_partitions(methods_dir, ["coulomb"], EARLIER)
    # a file without the record (written before digests were kept) is an earlier run's too
    (methods_dir / "von_mises.json").write_text(json.dumps({"partitions": {}}))
    with pytest.raises(InputError, match=r"von_mises\.json: computed from other inputs"):
        method_partitions(methods_dir, ["von_mises"], CURRENT)


def test_digests_are_those_of_the_files(tmp_path: Path) -> None:
    import hashlib

    features, splits = tmp_path / "f.parquet", tmp_path / "s.json"
    features.write_bytes(b"table")
    splits.write_bytes(b"{}")
    assert input_digests(features, splits) == {
        "features_sha256": hashlib.sha256(b"table").hexdigest(),
        "splits_sha256": hashlib.sha256(b"{}").hexdigest()}


def test_stats_refuse_params_that_leave_a_registered_method_out(tmp_path: Path) -> None:
    params = {"untrained": ["coulomb"], "methods": {}, "stats": {
        "bootstrap_replicates": 100, "permutations": 100, "permutation_method": "logistic",
        "seed": 0, "alpha": 0.05, "smallest_effect": 0.02}}
    with pytest.raises(InputError, match=r"'untrained' and 'methods' leave out "
                                         r"coulomb_test_selected, max_shear"):
        stats_stage(params, tmp_path, tmp_path, tmp_path / "f", tmp_path / "s",
                    tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
