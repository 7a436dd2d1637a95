"""The referee's comparison of a rebuilt layout with the published one (data/compare.py):
cells matched by grid_id whatever their order, each difference found, named and measured
on the published column's scale, and bad inputs refused naming file and column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from aftershock_replication.data.compare import (
    COMPARED_COLUMNS,
    DEFINITIONS,
    UNITS,
    check_tolerance,
    compare_layouts,
    write_compare_report,
)
from aftershock_replication.data.layout import CSV_DIR, STRESS_COLUMNS
from aftershock_replication.errors import InputError

MODELS = {"1995KOBEJA01YOSH": 36, "1999CHICHI01MAxx": 30, "2010DARFIE01ATZO": 24}


def grid_columns(rows: int, seed: int) -> dict[str, np.ndarray | list[str]]:
    """One slip model's grid in the published files' style: grid_ids '<depth>_<index>',
    UTM coordinates, stress changes in Pa (one cell's xy change near zero), extra columns."""
    rng = np.random.default_rng(seed)
    layers = rows // 6
    depth = 2500.0 + 5000.0 * (np.arange(rows) // layers)
    index = np.arange(rows) % layers
    columns: dict[str, np.ndarray | list[str]] = {
        "": np.arange(rows),  # pandas' unnamed index column
        "grid_id": [f"{d:.1f}_{i}" for d, i in zip(depth, index, strict=True)],
        "x": 3.5e5 + 5000.0 * index, "y": 4.05e6 + 5000.0 * (index % 3), "z": -depth,
    }
    tensors = rng.normal(0.0, 1e5, size=(rows, 6))
    tensors[3, 2] = 0.5  # stresses_full_xy of the 4th cell: almost no change
    columns |= dict(zip(STRESS_COLUMNS, tensors.T, strict=True))
    columns["stresses_full_i1"] = tensors[:, 0] + tensors[:, 1] + tensors[:, 5]
    for i in range(1, 5):
        columns[f"stresses_full_cfs_{i}"] = rng.normal(0.0, 1e5, rows)
    columns["stresses_full_max_shear"] = np.abs(rng.normal(0.0, 1e5, rows))
    columns["von_mises"] = np.abs(rng.normal(0.0, 2e5, rows))
    counts = np.zeros(rows, dtype=np.int64)
    counts[rng.choice(rows, size=rows // 5, replace=False)] = rng.integers(1, 4, rows // 5)
    columns["aftershocksyn"] = counts
    return columns


def write_grid(path: Path, columns: dict[str, np.ndarray | list[str]],
               order: np.ndarray | None = None) -> None:
    """A slip-model CSV from columns, its rows in ``order`` when given."""
    table = pa.table({name: pa.array(values) for name, values in columns.items()})
    if order is not None:
        table = table.take(pa.array(order))
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)


def write_layout(root: Path, grids: dict[str, dict[str, np.ndarray | list[str]]]) -> Path:
    """A layout root whose AllCSV holds one CSV per slip model."""
    for name, columns in grids.items():
        write_grid(root / CSV_DIR / f"{name}_grid.csv", columns)
    return root


def published_grids() -> dict[str, dict[str, np.ndarray | list[str]]]:
    return {name: grid_columns(rows, seed) for seed, (name, rows) in enumerate(MODELS.items())}


def copy_of(grids: dict[str, dict[str, np.ndarray | list[str]]]
            ) -> dict[str, dict[str, np.ndarray | list[str]]]:
    return {name: {column: (values.copy() if isinstance(values, np.ndarray) else list(values))
                   for column, values in columns.items()} for name, columns in grids.items()}


def csv_path(root: Path, name: str) -> Path:
    return root / CSV_DIR / f"{name}_grid.csv"


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return write_layout(tmp_path / "published", published_grids())


def test_identical_layouts_agree_everywhere(tmp_path: Path, published: Path) -> None:
    rebuilt = write_layout(tmp_path / "rebuilt", published_grids())
    report = compare_layouts(rebuilt, published, progress=False)
    assert sorted(report["slip_models"]) == sorted(MODELS)
    assert report["slip_models_only_in_rebuilt"] == report["slip_models_only_in_published"] == []
    for name, model in report["slip_models"].items():
        cells = model["cells"]
        assert cells["rebuilt"] == cells["published"] == cells["matched"] == MODELS[name]
        assert cells["matched_share_of_published"] == cells["matched_share_of_rebuilt"] == 1.0
        assert set(model["columns"]) | {"aftershocksyn"} == set(COMPARED_COLUMNS)
        for entry in model["columns"].values():
            assert entry["max_abs_difference"] == entry["max_relative_difference"] == 0.0
            assert entry["published_max_abs"] > 0
        counts = model["aftershocksyn"]
        assert counts["counts_differ"] == counts["labels_differ"] == 0
        assert counts["max_count_difference"] == 0
        assert counts["positives_rebuilt"] == counts["positives_published"] == MODELS[name] // 5
        assert model["columns_only_in_rebuilt"] == model["columns_only_in_published"] == []
    summary = report["summary"]
    assert summary["slip_models_compared"] == len(MODELS)
    assert summary["cells_matched"] == summary["cells_published"] == sum(MODELS.values())
    assert summary["matched_share_of_published"] == summary["matched_share_of_rebuilt"] == 1.0
    assert summary["worst"]["max_relative_difference"] == 0.0
    assert check_tolerance(report, 0.0) == []


def test_each_difference_is_found_named_and_measured(tmp_path: Path, published: Path) -> None:
    """One stress value off by a known amount (where the stress is near zero, so that a
    pointwise relative difference would be ~2500), one count, one dropped cell, one slip
    model on each side only."""
    grids = copy_of(published_grids())
    kobe, chichi, darfield = MODELS
    delta = 1234.5
    grids[kobe]["stresses_full_xy"][3] += delta
    changed_id = grids[kobe]["grid_id"][3]
    grids[chichi]["aftershocksyn"][7] = 0 if grids[chichi]["aftershocksyn"][7] else 2
    count_change = abs(int(grids[chichi]["aftershocksyn"][7])
                       - int(published_grids()[chichi]["aftershocksyn"][7]))
    dropped_id = grids[darfield]["grid_id"][5]
    grids[darfield] = {column: (np.delete(values, 5) if isinstance(values, np.ndarray)
                                else values[:5] + values[6:])
                       for column, values in grids[darfield].items()}
    grids["2016KUMAMO01ASAN"] = grid_columns(18, 9)
    write_grid(published / CSV_DIR / "2004PARKFI01JIxx_grid.csv", grid_columns(12, 8))
    rebuilt = write_layout(tmp_path / "rebuilt", grids)

    report = compare_layouts(rebuilt, published, progress=False)

    assert report["slip_models_only_in_rebuilt"] == ["2016KUMAMO01ASAN"]
    assert report["slip_models_only_in_published"] == ["2004PARKFI01JIxx"]
    assert sorted(report["slip_models"]) == sorted(MODELS)
    xy = report["slip_models"][kobe]["columns"]["stresses_full_xy"]
    scale = float(np.max(np.abs(published_grids()[kobe]["stresses_full_xy"])))
    assert xy["published_max_abs"] == scale
    assert xy["max_abs_difference"] == pytest.approx(delta)
    assert xy["max_relative_difference"] == pytest.approx(delta / scale)
    assert xy["max_relative_difference"] < 0.1  # not the pointwise 1234.5 / 0.5
    assert xy["at_grid_id"] == changed_id
    assert xy["published_value"] == 0.5 and xy["rebuilt_value"] == pytest.approx(0.5 + delta)
    assert xy["unit"] == "Pa"
    others = [entry["max_abs_difference"] for (name, model) in report["slip_models"].items()
              for column, entry in model["columns"].items()
              if (name, column) != (kobe, "stresses_full_xy")]
    assert set(others) == {0.0}
    counts = report["slip_models"][chichi]["aftershocksyn"]
    assert counts["counts_differ"] == counts["labels_differ"] == 1
    assert counts["max_count_difference"] == count_change
    cells = report["slip_models"][darfield]["cells"]
    assert (cells["published"], cells["rebuilt"], cells["matched"]) == (24, 23, 23)
    assert cells["matched_share_of_published"] == pytest.approx(23 / 24)
    assert cells["matched_share_of_rebuilt"] == 1.0
    assert (cells["only_in_published"], cells["only_in_rebuilt"]) == (1, 0)
    assert cells["examples_only_in_published"] == [dropped_id]
    summary = report["summary"]
    assert summary["worst"]["column"] == "stresses_full_xy"
    assert summary["worst"]["slip_model"] == kobe
    assert summary["cells_matched"] == sum(MODELS.values()) - 1
    assert summary["matched_share_of_published"] == pytest.approx(
        (sum(MODELS.values()) - 1) / sum(MODELS.values()))
    assert summary["aftershocksyn"]["labels_differ"] == 1

    found = check_tolerance(report, 1e-9)
    assert len(found) == 5, found
    assert "2016KUMAMO01ASAN: slip model only in the rebuilt layout" in found
    assert "2004PARKFI01JIxx: slip model only in the published layout" in found
    [stress] = [line for line in found if line.startswith(f"{kobe}: stresses_full_xy:")]
    assert f"{delta / scale:.6g}" in stress and changed_id in stress and "Pa" in stress
    [count] = [line for line in found if line.startswith(f"{chichi}: aftershocksyn:")]
    assert "1 matched cells with different counts" in count
    [dropped] = [line for line in found if line.startswith(f"{darfield}: grid_id:")]
    assert "1 of 24 published cells" in dropped and dropped_id in dropped
    # a tolerance above the stress difference keeps the rest: counts and cells are exact
    looser = check_tolerance(report, 2 * delta / scale)
    assert sorted(looser) == sorted(line for line in found if line != stress)


def test_cells_are_matched_by_grid_id_whatever_their_order(tmp_path: Path,
                                                           published: Path) -> None:
    rng = np.random.default_rng(5)
    for name, columns in published_grids().items():
        columns = {key: columns[key] for key in reversed(columns)}  # columns reordered too
        write_grid(csv_path(tmp_path / "rebuilt", name), columns,
                   order=rng.permutation(MODELS[name]))
    report = compare_layouts(tmp_path / "rebuilt", published, progress=False)
    assert check_tolerance(report, 0.0) == []
    assert report["summary"]["matched_share_of_rebuilt"] == 1.0


def test_an_allcsv_directory_is_accepted_as_well_as_its_layout(tmp_path: Path,
                                                               published: Path) -> None:
    rebuilt = write_layout(tmp_path / "rebuilt", published_grids())
    by_root = compare_layouts(rebuilt, published, progress=False)
    by_csv_dir = compare_layouts(rebuilt / CSV_DIR, published / CSV_DIR, progress=True)
    assert by_csv_dir["slip_models"] == by_root["slip_models"]
    assert by_csv_dir["published"] == by_root["published"] == str(published / CSV_DIR)


def test_a_column_one_file_lacks_is_listed_not_compared(tmp_path: Path,
                                                        published: Path) -> None:
    grids = published_grids()
    name = next(iter(MODELS))
    del grids[name]["von_mises"], grids[name]["z"]
    report = compare_layouts(write_layout(tmp_path / "rebuilt", grids), published,
                             progress=False)
    model = report["slip_models"][name]
    assert model["columns_only_in_published"] == ["z", "von_mises"]
    assert "von_mises" not in model["columns"] and "x" in model["columns"]
    assert sorted(check_tolerance(report, 0.0)) == [
        f"{name}: von_mises: only in the published file, not compared",
        f"{name}: z: only in the published file, not compared"]


def test_a_published_column_of_zeros_that_differs_is_flagged(tmp_path: Path,
                                                              published: Path) -> None:
    """No scale for a relative difference: it is undefined (null), and always reported."""
    name = next(iter(MODELS))
    grids = published_grids()
    grids[name]["stresses_full_cfs_2"] = np.zeros(MODELS[name])
    write_grid(csv_path(published, name), grids[name])
    grids[name]["stresses_full_cfs_2"][0] = 7.0
    report = compare_layouts(write_layout(tmp_path / "rebuilt", grids), published,
                             progress=False)
    entry = report["slip_models"][name]["columns"]["stresses_full_cfs_2"]
    assert (entry["published_max_abs"], entry["max_abs_difference"]) == (0.0, 7.0)
    assert entry["max_relative_difference"] is None
    assert report["summary"]["worst"]["column"] == "stresses_full_cfs_2"
    [line] = check_tolerance(report, 1.0)
    assert "relative difference undefined" in line and "7 Pa" in line


def test_the_report_is_written_as_json_with_units_and_definitions(tmp_path: Path,
                                                                   published: Path) -> None:
    report = compare_layouts(published, published, progress=False)
    out = tmp_path / "out" / "compare.json"
    write_compare_report(report, out)
    written = json.loads(out.read_text())
    assert written["units"] == UNITS and written["definitions"] == DEFINITIONS
    assert written["units"]["x"] == "m" and written["units"]["stresses_full_xx"] == "Pa"
    assert "published_max_abs" in written["definitions"]["max_relative_difference"]
    assert written["slip_models"] == json.loads(json.dumps(report["slip_models"]))
    assert [path.name for path in out.parent.iterdir()] == ["compare.json"]


def test_a_bad_tolerance_is_refused(published: Path) -> None:
    report = compare_layouts(published, published, progress=False)
    for rtol in (-1e-3, float("nan"), float("inf")):
        with pytest.raises(InputError, match="relative tolerance"):
            check_tolerance(report, rtol)


def test_directories_without_slip_model_csvs_are_refused(tmp_path: Path,
                                                         published: Path) -> None:
    with pytest.raises(InputError, match="directory not found"):
        compare_layouts(tmp_path / "absent", published, progress=False)
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match=r"plain: neither a layout \(no 'AllCSV'"):
        compare_layouts(tmp_path / "plain", published, progress=False)
    (tmp_path / "empty" / CSV_DIR).mkdir(parents=True)
    with pytest.raises(InputError, match=r"empty/AllCSV: no slip-model CSV files"):
        compare_layouts(published, tmp_path / "empty", progress=False)


def broken_copy(tmp_path: Path, published: Path, change) -> tuple[Path, Path]:
    """A rebuilt layout equal to the published one but for its first slip model's CSV,
    whose text ``change`` edits; returns the layout and that CSV."""
    rebuilt = write_layout(tmp_path / "rebuilt", published_grids())
    path = csv_path(rebuilt, next(iter(MODELS)))
    path.write_text(change(path.read_text()))
    return rebuilt, path


@pytest.mark.parametrize(("change", "message"), [
    (lambda text: text.replace('"grid_id"', '"cell"', 1),
     r"missing column 'grid_id', needed to match"),
    (lambda text: text.replace('"7500.0_1"', '"7500.0_0"', 1),
     r"column 'grid_id' repeats '7500.0_0' 2 times \(data rows 7, 8\)"),
    (lambda text: text.replace('"7500.0_1"', '""', 1),
     r"column 'grid_id' is empty in data row 8"),
    (lambda text: text.replace('"7500.0_1",', '"7500.0_1",n/a', 1),
     r"column 'x' is not numeric"),
    (lambda text: text.replace('"stresses_full_xx"', '"stresses_full_xx","stresses_full_xx"'),
     r"column 'stresses_full_xx' appears 2 times"),
])
def test_bad_csvs_are_refused_naming_file_and_column(tmp_path: Path, published: Path,
                                                     change, message: str) -> None:
    rebuilt, path = broken_copy(tmp_path, published, change)
    with pytest.raises(InputError, match=message) as error:
        compare_layouts(rebuilt, published, progress=False)
    assert str(path) in str(error.value)


def test_a_non_numeric_or_missing_stress_is_named_by_column_and_row(tmp_path: Path,
                                                                    published: Path) -> None:
    name = next(iter(MODELS))
    grids = published_grids()
    table = pa.table({column: pa.array(values) for column, values in grids[name].items()})
    xx = table.column("stresses_full_xx").to_pylist()
    for value, message in (("abc", r"column 'stresses_full_xx' is not numeric"),
                           (None, r"column 'stresses_full_xx' has an empty value in data "
                                  r"row 3"),
                           (float("nan"), r"column 'stresses_full_xx' holds NaN in data "
                                          r"row 3")):
        edited = [str(v) for v in xx] if isinstance(value, str) else list(xx)
        edited[2] = value
        index = table.schema.get_field_index("stresses_full_xx")
        broken = table.set_column(index, "stresses_full_xx", pa.array(edited))
        path = csv_path(tmp_path / "rebuilt", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(broken, path)
        with pytest.raises(InputError, match=message) as error:
            compare_layouts(tmp_path / "rebuilt", published, progress=False)
        assert str(path) in str(error.value)
