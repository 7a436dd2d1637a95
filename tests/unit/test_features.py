"""The original-layout reader and the feature table: content, skipping, cross-checks, bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from aftershock_replication.data.layout import open_layout, read_file_list
from aftershock_replication.errors import InputError
from aftershock_replication.features import build_features
from aftershock_replication.schema import COMPONENT_COLUMNS
from aftershock_replication.stress import sum_abs
from helpers import FIXTURE_TEST, FIXTURE_TRAIN, make_layout


def test_layout_reads_both_sides_from_byte_string_lists(original_layout: Path) -> None:
    layout = open_layout(original_layout)
    assert layout.names["train"] == list(FIXTURE_TRAIN)
    assert layout.names["test"] == list(FIXTURE_TEST)
    with h5py.File(original_layout / "Training_FileNames.h5") as handle:
        assert handle["file_names_training"].dtype.kind == "S"  # Python 2 byte strings


def test_layout_accepts_the_readme_spelling(tmp_path: Path) -> None:
    root = make_layout(tmp_path / "o", {"1995KOBEJA01YOSH": 10}, {"1999CHICHI01MAxx": 10},
                       spelling="Filenames")
    assert open_layout(root).names["test"] == ["1999CHICHI01MAxx"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no_dir", "data directory not found"),
        ("no_allcsv", "missing the 'AllCSV' directory"),
        ("no_train_list", "missing the train file list"),
        ("wrong_dataset", "no dataset 'file_names_testing'"),
        ("not_hdf5", "not a readable HDF5 file"),
        ("absent_csv", "1999CHICHI01MAxx_grid.csv"),
        ("duplicate", "listed more than once"),
    ],
)
def test_layout_errors_name_the_problem(original_layout: Path, breakage: str, message: str) -> None:
    root = original_layout
    if breakage == "no_dir":
        root = root / "nowhere"
    elif breakage == "no_allcsv":
        (root / "AllCSV").rename(root / "csv")
    elif breakage == "no_train_list":
        (root / "Training_FileNames.h5").unlink()
    elif breakage == "wrong_dataset":
        with h5py.File(root / "Testing_FileNames.h5", "w") as handle:
            handle.create_dataset("names", data=np.array([b"x_grid.csv"]))
    elif breakage == "not_hdf5":
        (root / "Testing_FileNames.h5").write_text("not hdf5")
    elif breakage == "absent_csv":
        (root / "AllCSV" / "1999CHICHI01MAxx_grid.csv").unlink()
    elif breakage == "duplicate":
        with h5py.File(root / "Testing_FileNames.h5", "w") as handle:
            listed_twice = np.array([b"1995KOBEJA01YOSH_grid.csv"])
            handle.create_dataset("file_names_testing", data=listed_twice)
    with pytest.raises(InputError, match=message):
        open_layout(root)


def test_feature_table_rows_columns_and_values(original_layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    report = build_features(open_layout(original_layout), out, rtol=1e-3)
    table = pq.read_table(out)
    frame = table.to_pandas()
    analysed = {**FIXTURE_TRAIN, **FIXTURE_TEST}
    del analysed["2004PARKFI01NONE"]
    assert report["rows"] == len(frame) == sum(analysed.values())
    assert set(frame.slip_model.astype(str)) == set(analysed)
    assert report["skipped_slip_models"] == [{
        "slip_model": "2004PARKFI01NONE", "paper_role": "train", "rows": 20,
        "reason": "no aftershock cells",
    }]
    for column in COMPONENT_COLUMNS:
        assert table.schema.field(column).type == "float"  # float32
    kobe = frame[frame.slip_model == "1995KOBEJA02HORI"]
    assert set(kobe.event.astype(str)) == {"1995KOBEJA02"}
    assert set(kobe.sequence.astype(str)) == {"1995KOBEJA"}
    assert set(kobe.paper_role.astype(str)) == {"test"}
    source = pd.read_csv(original_layout / "AllCSV" / "1995KOBEJA02HORI_grid.csv")
    np.testing.assert_array_equal(kobe.label.to_numpy(), source.aftershocksyn.to_numpy() > 0)
    np.testing.assert_allclose(kobe.stress_xy.to_numpy(), source.stresses_full_xy, rtol=1e-6)
    np.testing.assert_allclose(kobe.cfs_3.to_numpy(), source.stresses_full_cfs_3, rtol=1e-6)
    tensors = source[["stresses_full_xx", "stresses_full_yy", "stresses_full_xy",
                      "stresses_full_xz", "stresses_full_yz", "stresses_full_zz"]].to_numpy()
    np.testing.assert_allclose(kobe.sum_abs.to_numpy(), sum_abs(tensors), rtol=1e-6)
    assert report["metric_source"] == {
        "max_shear": "given", "von_mises": "given", "sum_abs": "recomputed",
    }
    assert report["crosscheck"]["von_mises"]["disagreeing_rows"] == 0
    assert report["demo"] is None
    assert report["by_paper_role"]["test"]["slip_models"] == 2


def test_disagreeing_given_metric_is_kept_and_warned_about(
    original_layout: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = original_layout / "AllCSV" / "1995KOBEJA01WALD_grid.csv"
    frame = pd.read_csv(path)
    frame["von_mises"] = frame["von_mises"] / np.sqrt(3.0)  # sqrt(J2) instead of sqrt(3 J2)
    frame.to_csv(path, index=False)
    with caplog.at_level(logging.WARNING):
        report = build_features(open_layout(original_layout), tmp_path / "f.parquet", 1e-3)
    check = report["crosscheck"]["von_mises"]
    assert check["slip_models_disagreeing"] == ["1995KOBEJA01WALD"]
    assert 0.1 < check["median_ratio_given_to_recomputed"] < 1.0
    assert "von_mises" in caplog.text and "1995KOBEJA01WALD" in caplog.text
    kept = pd.read_parquet(tmp_path / "f.parquet")
    wald = kept[kept.slip_model == "1995KOBEJA01WALD"]
    np.testing.assert_allclose(wald.von_mises.to_numpy(), frame.von_mises.to_numpy(), rtol=1e-6)


def test_missing_metric_columns_are_recomputed(original_layout: Path, tmp_path: Path) -> None:
    for path in (original_layout / "AllCSV").glob("*.csv"):
        pd.read_csv(path).drop(columns=["von_mises", "stresses_full_max_shear"]).to_csv(
            path, index=False)
    report = build_features(open_layout(original_layout), tmp_path / "f.parquet", 1e-3)
    assert report["metric_source"]["von_mises"] == "recomputed"
    frame = pd.read_parquet(tmp_path / "f.parquet")
    assert np.isfinite(frame.von_mises).all() and (frame.von_mises >= frame.max_shear).all()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns=["stresses_full_yz"]),
         "missing required column.*stresses_full_yz"),
        (lambda f: f.assign(stresses_full_xx=["abc"] + [1.0] * (len(f) - 1)),
         "column 'stresses_full_xx' is not numeric"),
        (lambda f: f.assign(aftershocksyn=[np.inf] + [0] * (len(f) - 1)),
         "column 'aftershocksyn' holds inf"),
        (lambda f: f.assign(stresses_full_zz=[np.nan] + [1.0] * (len(f) - 1)),
         "column 'stresses_full_zz' has an empty value"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_bad_csv_is_named_with_its_column(
    original_layout: Path, tmp_path: Path, edit, message: str,
) -> None:
    path = original_layout / "AllCSV" / "1999CHICHI01MAxx_grid.csv"
    edit(pd.read_csv(path)).to_csv(path, index=False)
    out = tmp_path / "f.parquet"
    with pytest.raises(InputError, match=message) as caught:
        build_features(open_layout(original_layout), out, 1e-3)
    assert "1999CHICHI01MAxx_grid.csv" in str(caught.value)
    assert not out.exists() and not list(tmp_path.glob(".f.parquet*"))


def test_empty_csv_file(original_layout: Path, tmp_path: Path) -> None:
    (original_layout / "AllCSV" / "1999CHICHI01MAxx_grid.csv").write_text("")
    with pytest.raises(InputError, match=r"1999CHICHI01MAxx_grid\.csv: empty file"):
        build_features(open_layout(original_layout), tmp_path / "f.parquet", 1e-3)


def test_demo_layout_reads_like_the_original(tiny_demo: Path, tmp_path: Path) -> None:
    """The demo goes through exactly the reader of the real data, and stays marked as demo."""
    layout = open_layout(tiny_demo)
    raw_names = read_file_list(tiny_demo / "Testing_FileNames.h5", "file_names_testing")
    assert all(name.endswith("_grid.csv") for name in raw_names)
    report = build_features(layout, tmp_path / "f.parquet", 1e-3)
    assert report["demo"]["source"] == "demo"
    assert report["crosscheck"]["max_shear"]["slip_models_disagreeing"] == []
    assert report["crosscheck"]["von_mises"]["slip_models_disagreeing"] == []
    assert len(report["skipped_slip_models"]) == 1  # the generator's all-negative earthquake
