"""The SRCMOD rebuild: projection, subfault geometry, region and cells, catalogue
selection and binning, and the layout it writes (tests of its pieces against slow
reference implementations written the way Process-Srcmod-Files computed them)."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest
import shapely

from aftershock_replication.atomic import read_json
from aftershock_replication.cli import main
from aftershock_replication.data import rebuild as rebuild_module
from aftershock_replication.data.catalogue import read_catalogue, select_aftershocks
from aftershock_replication.data.compare import check_tolerance
from aftershock_replication.data.dislocation import rectangular_fault, stress_change
from aftershock_replication.data.fsp import SlipModel, read_fsp
from aftershock_replication.data.grid import bin_events, build_grid, study_region
from aftershock_replication.data.layout import CSV_DIR, open_layout
from aftershock_replication.data.projection import projector, utm_zone_number
from aftershock_replication.data.rebuild import (
    CATALOGUE_FILE,
    REBUILD_MARKER,
    TIMES_FILE,
    aftershock_window,
    paper_like_side,
    rebuild_layout,
)
from aftershock_replication.data.srcmod_faults import (
    build_fault,
    dislocations,
    mean_angle,
    mean_orientation,
)
from aftershock_replication.errors import InputError
from aftershock_replication.params import ComputeParams
from helpers import SHARED_SAMPLES, write_fsp

NAME = "1992TESTxx01NOBO"
ORIGIN = pd.Timestamp("1992-06-28 11:57:34", tz="UTC")
LANDERS = SHARED_SAMPLES / "s1992LANDER01COHE.fsp"


# --- projection -----------------------------------------------------------------------

@pytest.mark.parametrize(("latitude", "longitude", "zone"), [
    (34.2, -116.43, 11), (-33.0, -72.0, 19), (60.0, 5.0, 32), (78.0, 20.0, 33),
    (40.0, 179.9, 60), (40.0, -180.0, 1), (0.0, 0.0, 31)])
def test_utm_zone_numbers_follow_the_standard_and_its_exceptions(latitude: float,
                                                                 longitude: float,
                                                                 zone: int) -> None:
    assert utm_zone_number(latitude, longitude) == zone


def test_the_original_projection_has_no_southern_false_northing() -> None:
    lon, lat = np.array([-72.0, -71.5]), np.array([-33.0, -33.4])
    east_o, north_o = projector(-33.0, -72.0, "original")(lon, lat)
    east_c, north_c = projector(-33.0, -72.0, "corrected")(lon, lat)
    np.testing.assert_allclose(east_o, east_c)
    np.testing.assert_allclose(north_c - north_o, 10_000_000.0)
    assert (north_o < 0).all()
    # north of the equator the two agree: Landers' epicentre, zone 11
    east, north = projector(34.2, -116.43, "corrected")(np.array([-116.43]), np.array([34.2]))
    np.testing.assert_allclose([east[0], north[0]], [552514.9007, 3784478.7722], atol=0.01)


# --- geometry of the subfaults --------------------------------------------------------

def test_a_planar_fault_gives_the_stress_of_the_same_rectangles_built_independently(
        tmp_path: Path) -> None:
    """The rebuilt rectangles carry the same stress as ``rectangular_fault`` makes for the
    same plane, slip and rake: strike, dip direction and slip sense agree."""
    slip = np.array([[1.0, 2.0, 1.0], [0.5, 1.5, 0.25]])
    model = read_fsp(write_fsp(tmp_path / "a.fsp", NAME, strike=330.0, dip=60.0, rake=70.0,
                               slip=slip))
    project = projector(model.epicentre_latitude, model.epicentre_longitude)
    fault = build_fault(model, project)
    top_centre = fault.corners[1, :2].mean(axis=0)  # middle subfault of the top row
    origin = top_centre
    patches = dislocations(fault, origin)
    assert len(patches) == 1
    # the top edge's midpoint of the whole fault is the middle subfault's top centre; the
    # positions differ by UTM's grid convergence (0.3 degrees here: up to ~40 m over 7.5 km)
    # as they did in the original, which placed each subfault by its latitude/longitude
    reference = rectangular_fault((0.0, 0.0, -1000.0), 330.0, 60.0, 70.0, 15e3, 10e3, slip)
    np.testing.assert_allclose(np.sort(patches[0].corners.reshape(-1, 3), axis=0),
                               np.sort(reference.corners.reshape(-1, 3), axis=0), atol=50.0)
    rng = np.random.default_rng(0)
    points = np.c_[rng.uniform(-40e3, 40e3, (200, 2)), -rng.uniform(2.5e3, 47.5e3, 200)]
    ours = stress_change(points, patches[0])
    theirs = stress_change(points, reference)
    scale = np.abs(theirs).max()
    # the same ~40 m between the two: agreement to 1e-2 of the largest stress
    assert np.abs(ours - theirs).max() < 1e-2 * scale


def test_subfault_corners_follow_strike_and_the_rows_spacing(tmp_path: Path) -> None:
    model = read_fsp(write_fsp(tmp_path / "a.fsp", NAME, strike=30.0, dip=45.0))
    fault = build_fault(model, projector(34.2, -116.43))
    along = fault.corners[:, 0] - fault.corners[:, 1]  # corner 1 lies ahead along strike
    np.testing.assert_allclose(np.linalg.norm(along, axis=1), 5e3, rtol=1e-12)
    np.testing.assert_allclose(np.degrees(np.arctan2(along[:, 0], along[:, 1])), 30.0)
    down = fault.corners[:, 2] - fault.corners[:, 0]  # bottom ahead minus top ahead
    expected = 5e3 * math.cos(math.radians(45.0)) * np.array(
        [math.cos(math.radians(30.0)), -math.sin(math.radians(30.0))])
    np.testing.assert_allclose(down, np.broadcast_to(expected, down.shape), atol=0.2)
    np.testing.assert_allclose(fault.top_depth, [1e3] * 3 + [1e3 + 5e3 * math.sin(
        math.radians(45.0))] * 3, atol=0.1)


def test_a_row_spacing_that_contradicts_dz_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write_fsp(tmp_path / "a.fsp", NAME, dz_km=5.0)
    text = path.read_text().replace("Dz  = 5.0 km", "Dz  = 4.0 km")
    path.write_text(text)
    with pytest.raises(InputError, match=r"a\.fsp, segment 1 .*differs from Dz = 4 km"):
        build_fault(read_fsp(path), projector(34.2, -116.43))


def test_mean_angles_are_circular_and_weighted() -> None:
    north = mean_angle(np.array([350.0, 10.0]), np.array([1.0, 1.0]))
    assert min(north, 360.0 - north) == pytest.approx(0.0, abs=1e-9)
    assert mean_angle(np.array([350.0, 20.0]), np.array([2.0, 1.0])) == pytest.approx(
        math.degrees(math.atan2(2 * math.sin(math.radians(-10)) + math.sin(math.radians(20)),
                                2 * math.cos(math.radians(-10)) + math.cos(math.radians(20))))
        % 360.0)


def test_the_mean_plane_skips_patches_without_slip_and_keeps_the_named_exceptions(
        tmp_path: Path) -> None:
    slip = np.array([[1.0, 0.0, 1.0]])
    path = write_fsp(tmp_path / "a.fsp", NAME, strike=330.0, dip=60.0, rake=80.0, slip=slip)
    text = path.read_text().splitlines()
    # the slipless middle subfault gets a rake that would pull the mean if it counted
    text[-2] = text[-2].rsplit(" ", 1)[0] + " 170.0000"
    path.write_text("\n".join(text) + "\n")
    model = read_fsp(path)
    strike, dip, rake = mean_orientation(build_fault(model, projector(34.2, -116.43)), model)
    assert (strike, dip, rake) == pytest.approx((330.0, 60.0, 80.0))


def two_segments(tmp_path: Path, name: str, strikes: tuple[float, float],
                 header_strike: float, rakes: float = 90.0,
                 header_rake: float = 90.0) -> SlipModel:
    """A slip model of two one-row segments with the given strikes and patch rakes under a
    header of its own (one-row segments take no row spacing from the file)."""
    model = read_fsp(write_fsp(tmp_path / f"{name}.fsp", name, rake=rakes,
                               slip=np.array([[1.0, 1.0]])))
    first, = model.segments
    return replace(model, strike=header_strike, rake=header_rake, segments=(
        replace(first, strike=strikes[0]), replace(first, strike=strikes[1])))


@pytest.mark.parametrize(("name", "expected"), [
    ("1995KOBEJA01YOSH", (45.0, 90.0)),  # by name: the header's strike
    ("1995KOBEJA01XXXX", (None, 90.0)),  # any other: the mean of 40 and 220 (undefined-ish)
    ("2010HAITIx01HAYE", (78.5, 90.0)),  # by name: 257 counts as 77; mean of 77 and 80
    ("1999CHICHI01WUxx", (None, 55.0)),  # by name: the header's rake, not the patches' 101
])
def test_the_originals_by_name_exceptions(tmp_path: Path, name: str,
                                          expected: tuple[float | None, float]) -> None:
    project = projector(34.2, -116.43)
    if name.startswith("1995"):
        model = two_segments(tmp_path, name, (40.0, 220.0), header_strike=45.0)
    elif name.startswith("2010"):
        model = two_segments(tmp_path, name, (257.0, 80.0), header_strike=168.5)
    else:
        model = two_segments(tmp_path, name, (10.0, 10.0), header_strike=10.0, rakes=101.0,
                             header_rake=55.0)
    strike, _, rake = mean_orientation(build_fault(model, project), model)
    if expected[0] is not None:
        assert strike == pytest.approx(expected[0])
    elif name.startswith("1995"):
        assert strike != pytest.approx(45.0, abs=1.0)
    assert rake == pytest.approx(expected[1])
    if name == "1999CHICHI01WUxx":
        other = replace(model, name="1999CHICHI01OTHR")
        assert mean_orientation(build_fault(other, project), other)[2] == pytest.approx(101.0)


# --- region, cells and binning, against the original's loops ---------------------------

def slow_cells(region: shapely.Polygon, spacing: float) -> list[tuple[float, float]]:
    """The original's calcBufferGridPoints, loop for loop (shapely's contains per cell)."""
    exterior = np.asarray(region.exterior.coords)
    xs = np.arange(exterior[:, 0].min(), exterior[:, 0].max(), spacing)
    ys = np.arange(exterior[:, 1].min(), exterior[:, 1].max(), spacing)
    centres = []
    for i in range(len(ys) - 1):
        for j in range(len(xs) - 1):
            cell = shapely.Polygon([(xs[j], ys[i]), (xs[j], ys[i + 1]), (xs[j + 1], ys[i + 1]),
                                    (xs[j + 1], ys[i])])
            if region.contains(cell):
                centres.append((xs[j] + (xs[j + 1] - xs[j]) / 2.0,
                                ys[i] + (ys[i + 1] - ys[i]) / 2.0))
    return centres


def test_cells_and_bins_match_the_originals_loops() -> None:
    rng = np.random.default_rng(3)
    corners = np.array([[0.0, 0.0], [12e3, 9e3], [30e3, 2e3]]) + 456_789.0
    region = study_region(corners, distance=20e3)
    grid = build_grid(region)
    x, y, z = grid.centres()
    squares = list(zip(x[: grid.row.size], y[: grid.row.size], strict=True))
    assert squares == slow_cells(region, 5e3)
    np.testing.assert_array_equal(np.unique(z), -np.arange(2500.0, 50000.0, 5000.0)[::-1])
    assert grid.grid_ids()[:2] == ["2500.0_0", "2500.0_1"]
    assert grid.grid_ids()[grid.row.size] == "7500.0_0"
    # events: random, on cell edges, on layer boundaries, too deep, outside
    ex = np.r_[rng.uniform(*region.bounds[::2], 400), grid.x_edges[3], 0.0]
    ey = np.r_[rng.uniform(*region.bounds[1::2], 400), y[0], 0.0]
    depth = np.r_[rng.uniform(-5.0, 55.0, 400), 5.0, 1.0]
    depth[:5] = [0.0, 5.0, 10.0, 49.999, 50.0]
    counts = bin_events(grid, ex, ey, depth)
    slow = np.zeros(grid.cells, dtype=int)
    boxes = [shapely.box(x0 - 2500, y0 - 2500, x0 + 2500, y0 + 2500) for x0, y0 in squares]
    for px, py, d in zip(ex, ey, depth, strict=True):
        metres = 1000.0 * abs(d)
        for layer in range(10):
            if not 5000.0 * layer <= metres < 5000.0 * (layer + 1):
                continue
            for k, box in enumerate(boxes):
                if box.contains(shapely.Point(px, py)):
                    slow[layer * len(boxes) + k] += 1
    np.testing.assert_array_equal(counts, slow)
    assert counts.sum() > 50


def test_the_landers_grid_keeps_its_extent() -> None:
    """A regression constant of this code (the published CSV's row count is not available
    here): the Landers region and its cells, as the README and the note quote them."""
    if not LANDERS.is_file():
        pytest.skip(f"the shared Landers sample is absent ({LANDERS})")
    model = read_fsp(LANDERS)
    fault = build_fault(model, projector(model.epicentre_latitude, model.epicentre_longitude))
    grid = build_grid(study_region(fault.corners))
    assert fault.slip.size == 54 + 60 + 90  # three segments of 9, 10 and 15 by 6 subfaults
    assert (grid.row.size, grid.layers, grid.cells) == (1837, 10, 18370)


# --- the catalogue ----------------------------------------------------------------------

def catalogue_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "time": ["1992-06-28T11:57:34Z", "1992-06-28T11:57:35.5Z", "1992-07-01T00:00:00Z",
                 "1993-06-28T11:57:35Z", "1992-08-01T00:00:00Z", "1992-08-01T00:00:00Z",
                 "1992-08-01T00:00:00Z", "1992-08-01T00:00:00Z"],
        "latitude": [34.2, 34.2, 34.3, 34.3, 85.0, 34.3, 34.3, 34.3],
        "longitude": [-116.43] * 8,
        "depth": [5.0, 5.0, 0.0, 5.0, 5.0, 7.0, 7.0, ""],
        "magnitude": [7.3, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0],
        "magnitude_type": ["Mw", "ML", "mb", "ML", "ML", " m b ", "Md", "ML"],
    })


def test_the_aftershock_selection_applies_each_rule_of_the_original(tmp_path: Path) -> None:
    catalogue_rows().to_csv(tmp_path / "c.csv", index=False)
    catalogue = read_catalogue(tmp_path / "c.csv")
    kept, removed = select_aftershocks(catalogue, *aftershock_window(ORIGIN))
    # the mainshock itself (at the origin), depth 0, 365 days later, beyond 84 degrees,
    # type Md and the empty depth are removed; ' m b ' is mb once spaces go
    assert kept.index.tolist() == [1, 5]
    assert removed == {"missing value": 1, "beyond the UTM latitude limit": 1,
                       "depth exactly 0": 1, "outside the time window": 2,
                       "magnitude type not accepted": 1}


@pytest.mark.parametrize(("column", "value", "message"), [
    ("depth", "deep", r"column 'depth': data row 2 has 'deep'; expected a number"),
    ("time", "yesterday", r"column 'time': data row 2 has time 'yesterday'"),
    ("latitude", "95", r"column 'latitude': data row 2 has '95'; expected degrees"),
    ("magnitude", "inf", r"column 'magnitude': data row 2 has 'inf'; expected a finite"),
])
def test_bad_catalogue_values_are_refused_naming_column_and_row(tmp_path: Path, column: str,
                                                                value: str,
                                                                message: str) -> None:
    table = catalogue_rows().astype(str)
    table.loc[1, column] = value
    table.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match=r"c\.csv, " + message):
        read_catalogue(tmp_path / "c.csv")


def test_a_catalogue_without_a_column_or_file_is_refused(tmp_path: Path) -> None:
    catalogue_rows().drop(columns="magnitude_type").to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(InputError, match=r"c\.csv: catalogue misses column\(s\) "
                                         r"magnitude_type"):
        read_catalogue(tmp_path / "c.csv")
    with pytest.raises(InputError, match="catalogue file not found"):
        read_catalogue(tmp_path / "absent.csv")


# --- the layout -------------------------------------------------------------------------

def srcmod_folder(folder: Path, names: dict[str, float], events: int = 400) -> Path:
    """A folder as data.source: srcmod reads it: small .fsp files, a catalogue around them
    (events near the faults, in the window), and MainShockTimes.csv with their times."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    rows, times = [], []
    for name, latitude in names.items():
        write_fsp(folder / f"s{name}.fsp", name, latitude=latitude, dx_km=2.0, dz_km=2.0,
                  slip=np.array([[1.0, 2.0], [0.5, 1.0]]))
        times.append(f" '{name}_grid.csv',1992-06-28 11:57:34 UTC")
        rows.append(pd.DataFrame({
            "time": "1992-07-15T00:00:00Z",
            "latitude": latitude + rng.normal(0.0, 0.2, events),
            "longitude": -116.43 + rng.normal(0.0, 0.2, events),
            "depth": rng.uniform(0.5, 30.0, events), "magnitude": 3.0,
            "magnitude_type": "ML"}))
    pd.concat(rows).to_csv(folder / CATALOGUE_FILE, index=False)
    (folder / TIMES_FILE).write_text("earthquake,time\n" + "\n".join(times) + "\n")
    return folder


TWO = {"1992TESTxx01NOBO": 34.2, "1992TESTxx02NOBO": 34.25}


def test_the_rebuilt_layout_is_one_the_pipeline_reads(tmp_path: Path) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    summary = rebuild_layout(folder, tmp_path / "raw")
    layout = open_layout(tmp_path / "raw")
    assert sorted(layout.names["train"] + layout.names["test"]) == sorted(TWO)
    for name in TWO:
        assert layout.role_of[name] == paper_like_side(name)
        table = pacsv.read_csv(layout.csv_path(name)).to_pandas()
        for column in ("grid_id", "x", "y", "z", "stresses_full_xx", "stresses_full_cfs_4",
                       "stresses_full_max_shear", "von_mises", "aftershocksyn"):
            assert column in table.columns, column
        assert np.isfinite(table.drop(columns="grid_id").to_numpy()).all()
        assert (table["aftershocksyn"] > 0).any() and (table["aftershocksyn"] == 0).any()
    first = summary["slip_models"][0]
    assert first["cells"] == first["squares"] * 10
    # one catalogue, one window: each model sees the events of both
    assert first["events_binned"] <= first["events_in_window"] == 2 * 400
    events = pd.read_csv(tmp_path / "raw" / "events.csv")
    assert events["slip_model"].tolist() == sorted(TWO)
    assert (tmp_path / "raw" / REBUILD_MARKER).is_file()


def test_published_sides_win_and_one_class_models_are_not_listed(tmp_path: Path) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    # a third model far from every event: all of its cells are negative
    write_fsp(folder / "s1992TESTxx03NOBO.fsp", "1992TESTxx03NOBO", latitude=40.0)
    with (folder / TIMES_FILE).open("a") as handle:
        handle.write(" '1992TESTxx03NOBO_grid.csv',1992-06-28 11:57:34 UTC\n")
    side = {"1992TESTxx01NOBO": "test", "1992TESTxx02NOBO": "train"}
    if all(paper_like_side(n) == s for n, s in side.items()):
        side = {n: "train" if s == "test" else "test" for n, s in side.items()}
    for role, dataset, file in (("train", "file_names_training", "Training_FileNames.h5"),
                                ("test", "file_names_testing", "Testing_FileNames.h5")):
        with h5py.File(folder / file, "w") as handle:
            handle.create_dataset(dataset, data=np.array(
                [f"{n}_grid.csv".encode() for n, s in side.items() if s == role], dtype="S"))
    summary = rebuild_layout(folder, tmp_path / "raw")
    layout = open_layout(tmp_path / "raw")
    assert layout.role_of == side
    assert summary["one_class_not_listed"] == ["1992TESTxx03NOBO"]
    assert (tmp_path / "raw" / CSV_DIR / "1992TESTxx03NOBO_grid.csv").is_file()


def test_an_interrupted_rebuild_resumes_with_the_finished_models(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    real = rebuild_module.rebuild_slip_model
    calls: list[str] = []

    def dies_on_the_second(job: rebuild_module.SlipModelJob,
                           projection: str) -> tuple[object, dict[str, object]]:
        calls.append(job.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, projection)

    monkeypatch.setattr(rebuild_module, "rebuild_slip_model", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        rebuild_layout(folder, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
    monkeypatch.setattr(rebuild_module, "rebuild_slip_model", lambda job, p: (
        calls.append(job.name), real(job, p))[1])
    rebuild_layout(folder, tmp_path / "raw")
    assert calls == [*sorted(TWO), sorted(TWO)[1]]  # the first was not rebuilt again
    assert sorted(open_layout(tmp_path / "raw").role_of) == sorted(TWO)


def test_rebuild_errors_name_the_missing_piece(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no SRCMOD \.fsp file"):
        rebuild_layout(tmp_path / "empty", tmp_path / "raw")
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    (folder / TIMES_FILE).write_text("earthquake,time\n '1992TESTxx01NOBO_grid.csv',"
                                     "1992-06-28 11:57:34 UTC\n")
    with pytest.raises(InputError, match=r"MainShockTimes\.csv: no origin time for slip "
                                         r"model 1992TESTxx02NOBO"):
        rebuild_layout(folder, tmp_path / "raw")
    (folder / CATALOGUE_FILE).unlink()
    with pytest.raises(InputError, match="catalogue file not found"):
        rebuild_layout(folder, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_a_header_date_far_from_the_origin_time_is_refused(tmp_path: Path) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", {"1992TESTxx01NOBO": 34.2})
    path = folder / "s1992TESTxx01NOBO.fsp"
    path.write_text(path.read_text().replace("06/28/1992", "06/30/1992"))
    with pytest.raises(InputError, match=r"s1992TESTxx01NOBO\.fsp: the header's date "
                                         r"1992-06-30 is more than 36 h"):
        rebuild_layout(folder, tmp_path / "raw")


def test_a_rebuild_compared_with_itself_and_with_a_perturbed_copy(tmp_path: Path) -> None:
    """`replicate rebuild --compare`: no difference with an identical rebuild; a changed
    stress and a changed count in a copy are found and named."""
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    rebuild_layout(folder, tmp_path / "published")
    params = tmp_path / "params.yaml"
    params.write_text("compute: {backend: loky, n_jobs: 1, scheduler: null}\n")
    report_path = tmp_path / "report.json"
    argv = ["rebuild", "--params", str(params), "--folder", str(folder), "--out",
            str(tmp_path / "rebuilt"), "--compare", str(tmp_path / "published"),
            "--report", str(report_path)]
    assert main(argv) == 0
    report = read_json(report_path, "the comparison")
    assert report["summary"]["slip_models_compared"] == 2
    assert report["summary"]["matched_share_of_published"] == 1.0
    assert check_tolerance(report, 0.0) == []
    # perturb the "published" copy: one stress component and one count
    perturbed = tmp_path / "perturbed"
    shutil.copytree(tmp_path / "published", perturbed)
    csv = perturbed / CSV_DIR / "1992TESTxx01NOBO_grid.csv"
    table = pd.read_csv(csv)
    table.loc[7, "stresses_full_xy"] += 1000.0
    table.loc[3, "aftershocksyn"] += 2
    table.to_csv(csv, index=False)
    argv[argv.index("--compare") + 1] = str(perturbed)
    assert main(argv) == 0
    report = read_json(report_path, "the comparison")
    model = report["slip_models"]["1992TESTxx01NOBO"]
    assert model["columns"]["stresses_full_xy"]["max_abs_difference"] == pytest.approx(1000.0)
    assert model["aftershocksyn"]["counts_differ"] == 1
    assert model["aftershocksyn"]["max_count_difference"] == 2
    named = check_tolerance(report, 1e-9)
    assert any("1992TESTxx01NOBO" in line and "stresses_full_xy" in line for line in named)
    assert report["slip_models"]["1992TESTxx02NOBO"]["aftershocksyn"]["counts_differ"] == 0


def test_the_rebuilt_layout_is_the_same_bytes_serial_and_in_parallel(tmp_path: Path) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", TWO)
    rebuild_layout(folder, tmp_path / "serial")
    rebuild_layout(folder, tmp_path / "loky",
                   compute=ComputeParams(backend="loky", n_jobs=2, scheduler=None))
    serial = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*"))
    assert serial == sorted(p.relative_to(tmp_path / "loky")
                            for p in (tmp_path / "loky").rglob("*"))
    for relative in serial:
        if (tmp_path / "serial" / relative).is_file():
            assert (tmp_path / "serial" / relative).read_bytes() == \
                (tmp_path / "loky" / relative).read_bytes(), relative


def test_a_model_is_named_after_its_file_as_the_original_named_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", {"1992TESTxx01NOBO": 34.2})
    path = folder / "s1992TESTxx01NOBO.fsp"
    path.write_text(path.read_text().replace("EventTAG: s1992TESTxx01NOBO",
                                             "EventTAG: s1992TESTXX01NOBO"))
    rebuild_layout(folder, tmp_path / "raw")
    assert open_layout(tmp_path / "raw").names["train"] + \
        open_layout(tmp_path / "raw").names["test"] == ["1992TESTxx01NOBO"]
    assert "the EventTAG says 1992TESTXX01NOBO; the slip model is named 1992TESTxx01NOBO" \
        in caplog.text


def test_a_catalogue_with_no_event_in_any_cell_is_named(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = srcmod_folder(tmp_path / "srcmod", {"1992TESTxx01NOBO": 34.2})
    table = pd.read_csv(folder / CATALOGUE_FILE)
    table["time"] = "1980-01-01T00:00:00Z"  # all before the mainshock
    table.to_csv(folder / CATALOGUE_FILE, index=False)
    summary = rebuild_layout(folder, tmp_path / "raw")
    assert summary["one_class_not_listed"] == ["1992TESTxx01NOBO"]
    assert "catalogue.csv: not one event of the catalogue fell in a cell" in caplog.text


def test_the_rebuilt_rectangles_carry_the_originals_dc3d_stress(tmp_path: Path) -> None:
    """The original's own call, rebuilt here: DC3D with the reference at corner 1, the
    observation rotated by -angle, extents [min(0, x2), max(0, x2)] x [-W, 0], the top
    depth, slip split by the rake; against ``stress_change`` of ``dislocations``."""
    okada = pytest.importorskip("okada_wrapper", reason="needs `apt-get install gfortran && "
                                "pip install okada_wrapper` (DC3D in Fortran)")
    lame = 3e10
    for strike, dip, rake in ((330.0, 60.0, 70.0), (30.0, 45.0, -120.0), (120.0, 80.0, 180.0)):
        model = read_fsp(write_fsp(tmp_path / f"{strike}.fsp", NAME, strike=strike, dip=dip,
                                   rake=rake))
        fault = build_fault(model, projector(34.2, -116.43))
        origin = fault.corners[:, 0].mean(axis=0)
        rng = np.random.default_rng(1)
        points = np.c_[origin + rng.uniform(-40e3, 40e3, (60, 2)),
                       -rng.uniform(2.5e3, 47.5e3, 60)]
        ours = sum(stress_change(np.c_[points[:, :2] - origin, points[:, 2]], patches)
                   for patches in dislocations(fault, origin))
        angle = np.radians(90.0 - strike)
        rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0],
                             [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
        theirs = np.zeros((len(points), 3, 3))
        for k in range(fault.slip.size):
            corner1, corner2 = fault.corners[k, 0], fault.corners[k, 1]
            x2 = (rotation[:2, :2].T @ (corner2 - corner1))[0]
            slip = fault.slip[k] * np.array([np.cos(np.radians(fault.rake[k])),
                                             np.sin(np.radians(fault.rake[k])), 0.0])
            for n, point in enumerate(points):
                local = rotation[:2, :2].T @ (point[:2] - corner1)
                _, _, grad = okada.dc3dwrapper(2.0 / 3.0, [local[0], local[1], point[2]],
                                               fault.top_depth[k], dip,
                                               [min(0.0, x2), max(0.0, x2)],
                                               [-fault.width[k], 0.0], slip)
                strain = rotation @ (0.5 * (grad + grad.T)) @ rotation.T
                theirs[n] += lame * np.trace(strain) * np.eye(3) + 2.0 * lame * strain
        theirs6 = theirs[:, [0, 1, 0, 0, 1, 2], [0, 1, 1, 2, 2, 2]]
        # okada_wrapper computes in single precision: 1e-5 of the largest stress
        assert np.abs(ours - theirs6).max() < 1e-5 * np.abs(theirs6).max(), (strike, dip)
