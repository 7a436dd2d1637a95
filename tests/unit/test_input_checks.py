"""Bad input through the CLI: values, headers, file lists and params (issue 15, items 3-7),
and a local data source that acquire must refuse or link faithfully (issue 31).

Each case runs ``replicate features`` (or ``acquire``, then the stages after it) in-process
on a tiny original-layout directory and asserts exit status 2, a message naming the
file/column/row or the param, and that nothing was written beside the (untouched) input.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from aftershock_replication import cli
from aftershock_replication.data.layout import FILE_LIST_DATASETS, write_file_list
from aftershock_replication.errors import InputError
from aftershock_replication.params import TOP_LEVEL_KEYS
from helpers import ROOT

BAD = "1999CHICHI01MAxx_grid.csv"  # the slip model each case breaks
ROW = 3  # the broken row's index: data row 4, line 5 of the file
PARAMS = {"features": {"crosscheck_rtol": 0.001}}


def features(root: Path, out: Path, params: dict | None = None) -> int:
    """``replicate features`` on ``root`` into ``out/``; its exit status."""
    params_path = out.parent / "params.yaml"
    params_path.write_text(yaml.safe_dump(PARAMS if params is None else params))
    return cli.main(["features", "--params", str(params_path), "--raw", str(root),
                     "--out", str(out / "features.parquet"),
                     "--report", str(out / "features.json")])


def digest(root: Path) -> dict[str, str]:
    """Content hash of every file under ``root``: the input must come out untouched."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def run(original_layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> Callable[..., tuple[int, str, Path]]:
    """Apply ``edit`` to the layout, run the stage; (status, logged errors, output dir)."""
    monkeypatch.setattr(cli, "setup_logging", lambda verbose: None)  # keep caplog's handler

    def go(edit: Callable[[Path], None] | None = None,
           params: dict | None = None) -> tuple[int, str, Path]:
        if edit is not None:
            edit(original_layout)
        before = digest(original_layout)
        out = tmp_path / "out"
        out.mkdir()
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            status = features(original_layout, out, params)
        assert digest(original_layout) == before
        errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        return status, errors, out

    return go


def set_cell(column: str, text: str) -> Callable[[Path], None]:
    """Write ``text`` verbatim into ``column`` of the broken row."""
    def edit(root: Path) -> None:
        path = root / "AllCSV" / BAD
        frame = pd.read_csv(path)
        frame[column] = frame[column].astype(object)
        frame.loc[ROW, column] = text
        frame.to_csv(path, index=False)
    return edit


def edit_header(change: Callable[[str], str]) -> Callable[[Path], None]:
    """Rewrite the broken file's header line."""
    def edit(root: Path) -> None:
        path = root / "AllCSV" / BAD
        head, rest = path.read_bytes().split(b"\n", 1)
        path.write_bytes(change(head.decode()).encode() + b"\n" + rest)
    return edit


def duplicate_label(root: Path) -> None:
    """Append a second 'aftershocksyn' column (all zero) to the broken file."""
    path = root / "AllCSV" / BAD
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",aftershocksyn"]
                              + [line + ",0" for line in lines[1:]]) + "\n")


def train_list_entry(entry: bytes) -> Callable[[Path], None]:
    """Replace the first entry of the train file list by raw bytes ``entry``."""
    def edit(root: Path) -> None:
        dataset = FILE_LIST_DATASETS["train"]
        with h5py.File(root / "Training_FileNames.h5", "a") as handle:
            entries = list(handle[dataset][()])
            del handle[dataset]
            handle.create_dataset(dataset, data=np.array([entry, *entries[1:]]))
    return edit


def train_list_as_group(root: Path) -> None:
    """Move the train file list's names into a group of the same name."""
    dataset = FILE_LIST_DATASETS["train"]
    with h5py.File(root / "Training_FileNames.h5", "a") as handle:
        entries = handle[dataset][()]
        del handle[dataset]
        handle.create_group(dataset).create_dataset("names", data=entries)


def both_list_spellings(differ: bool) -> Callable[[Path], None]:
    """Add Training_Filenames.h5 beside Training_FileNames.h5, equal or listing less."""
    def edit(root: Path) -> None:
        other = root / "Training_Filenames.h5"
        if differ:
            write_file_list(other, FILE_LIST_DATASETS["train"], ["1995KOBEJA01YOSH_grid.csv"])
        else:
            shutil.copy(root / "Training_FileNames.h5", other)
    return edit


WHERE = rf"{BAD}: column '{{}}' holds {{}} in data row {ROW + 1} \(line {ROW + 2}\)"
TOO_LARGE = r", too large for float32 \(largest 3\.403e\+38\)"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # 3: finite but beyond float32, in a required, an optional and a coordinate column
        (set_cell("stresses_full_xx", "1e200"),
         WHERE.format("stresses_full_xx", r"1e\+200" + TOO_LARGE)),
        (set_cell("stresses_full_cfs_2", "-1e39"),
         WHERE.format("stresses_full_cfs_2", r"-1e\+39" + TOO_LARGE)),
        (set_cell("x", "1e200"), WHERE.format("x", r"1e\+200" + TOO_LARGE)),
        # 3: each component fits float32, their sum of magnitudes does not
        (lambda root: [set_cell(c, "3e38")(root) for c in ("stresses_full_xx",
                                                            "stresses_full_yy")],
         rf"{BAD}: the sum_abs of data row 4 \(line 5\), computed from its stress components, "
         r"is inf as float32"),
        # 4: a column the analysis reads appears twice
        (duplicate_label,
         rf"{BAD}: column 'aftershocksyn' appears 2 times in the header \(columns \d+, \d+\)"),
        # 5: what was found, said as found; the same rule in required and optional columns
        (set_cell("stresses_full_zz", "NaN"), WHERE.format("stresses_full_zz", "NaN")),
        (set_cell("stresses_full_zz", ""),
         rf"{BAD}: column 'stresses_full_zz' has an empty value in data row 4 \(line 5\)"),
        (set_cell("von_mises", "NaN"), WHERE.format("von_mises", "NaN")),
        (set_cell("von_mises", "inf"), WHERE.format("von_mises", "inf")),
        (set_cell("stresses_full_cfs_1", "-inf"), WHERE.format("stresses_full_cfs_1", "-inf")),
        (set_cell("aftershocksyn", "-1"),
         WHERE.format("aftershocksyn", "-1") + "; expected a whole count >= 0"),
        # issue 31: a label is a count of aftershocks, whole
        (set_cell("aftershocksyn", "0.5"),
         WHERE.format("aftershocksyn", "0.5") + "; expected a whole count >= 0"),
        (set_cell("stresses_full_xy", "NA"),
         rf"{BAD}: column 'stresses_full_xy' is not numeric.*'NA'"),
        # 6: the two spellings of a file list disagree
        (both_list_spellings(differ=True),
         "both Training_FileNames.h5 and Training_Filenames.h5 are present and list "
         "different train slip models"),
        # issue 31: a file list that is a group, names that are not UTF-8 or cannot exist
        (train_list_as_group,
         r"Training_FileNames\.h5: 'file_names_training' is a group, expected a dataset of "
         "file names"),
        (train_list_entry(b"\xff\xfe_grid.csv"),
         r"Training_FileNames\.h5: entry 1 of 'file_names_training' is not UTF-8 text \(byte "
         r"0 is 0xff in .*\); file names must be UTF-8"),
        (train_list_entry(b"A" * 300 + b"_grid.csv"),
         r"Training_FileNames\.h5: entry 1 of 'file_names_training' names the CSV file "
         rf"'{'A' * 40}\.\.\.' of 309 bytes; a file name is limited to 255 bytes"),
    ],
    ids=["overflow_stress", "overflow_cfs", "overflow_x", "overflow_sum_abs", "duplicate",
         "nan", "empty", "nan_optional", "inf_optional", "minus_inf_cfs", "negative_count",
         "fractional_count", "na_text", "list_spellings_differ", "list_is_a_group",
         "name_not_utf8", "name_too_long"],
)
def test_bad_data_is_refused_naming_file_column_and_row(run, edit, message: str) -> None:
    status, errors, out = run(edit)
    assert status == 2
    assert len(re.findall(message, errors)) == 1, errors
    assert list(out.iterdir()) == []  # no table, no report, no temporary


@pytest.mark.parametrize(
    "edit",
    [
        edit_header(lambda head: head.replace("aftershocksyn", " aftershocksyn ")
                    .replace("von_mises", '  "von_mises"')),
        edit_header(lambda head: "\ufeff" + head),
        both_list_spellings(differ=False),
    ],
    ids=["padded_names", "utf8_bom", "list_spellings_equal"],
)
def test_unambiguous_variants_give_the_same_table(
    run, original_layout: Path, tmp_path: Path, edit,
) -> None:
    status, errors, out = run()
    assert status == 0, errors
    expected = pq.read_table(out / "features.parquet")
    shutil.rmtree(out)
    status, errors, out = run(edit)
    assert status == 0, errors
    assert pq.read_table(out / "features.parquet").equals(expected)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**PARAMS, "seedz": 10}, r"unknown key\(s\) seedz; expected some of compute, data"),
        ({**PARAMS, "seed": 10}, r"unknown key\(s\) seed; expected .*seeds"),
        ({**PARAMS, "featurez": {"crosscheck_rtol": 0.1}}, r"unknown key\(s\) featurez"),
        ({"features": {"crosscheck_rtol": 0.001, "rtol": 1}},
         r"unknown key\(s\) features\.rtol; expected some of features\.crosscheck_rtol"),
    ],
    ids=["seedz", "seed", "unknown_section", "nested"],
)
def test_unknown_params_are_refused_listing_the_valid_keys(
    run, params: dict, message: str,
) -> None:
    status, errors, out = run(params=params)
    assert status == 2
    assert re.search(message, errors), errors
    assert list(out.iterdir()) == []


# the stages that read method settings (the data stages before them know no method)
METHOD_STAGES = ("evaluate", "aggregate", "learning-curve", "leakage", "leakage-summary",
                 "stats", "letter")


@pytest.mark.parametrize("stage", METHOD_STAGES)
def test_an_unknown_method_is_refused_by_every_stage_reading_method_settings(
    stage: str, tmp_path: Path,
) -> None:
    """A typo under ``methods`` would silently change nothing: every stage that reads method
    settings refuses it, listing the valid names, before it reads any input (none of the
    paths given exists)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["methods"]["randomforest"] = {"n_estimators": 10}
    kwargs: dict = {option: tmp_path / option for option in cli.path_options(stage)}
    if cli.takes_method(stage):
        kwargs["method"] = "random_forest"
    with pytest.raises(InputError, match=r"unknown key\(s\) methods\.randomforest; expected "
                                         r"some of .*methods\.random_forest"):
        cli.stage_function(stage)(params, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_top_level_keys_are_those_of_params_yaml() -> None:
    """The list of valid keys is the shipped params file's (no section left out)."""
    assert list(yaml.safe_load((ROOT / "params.yaml").read_text())) == list(TOP_LEVEL_KEYS)


def test_a_params_file_not_utf8_or_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    """Both used to pass or end in a traceback; each now names the file and what to do."""
    from aftershock_replication.params import load_params

    latin = tmp_path / "latin.yaml"
    latin.write_bytes("seeds: 3\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.yaml: not UTF-8 text \(byte 14 is 0xe9\)"):
        load_params(latin)
    twice = tmp_path / "twice.yaml"
    twice.write_text("seeds: 3\nsplit:\n  seeds: 1\nseeds: 4\n")
    with pytest.raises(InputError, match=r"twice\.yaml: the key 'seeds' appears twice "
                                         r"\(again on line 4\); give each"):
        load_params(twice)


@pytest.mark.parametrize("mirror", ["http://exa mple.com", "https://", "ftp://host/x",
                                    "example.org/data"])
def test_a_malformed_mirror_url_is_refused(mirror: str) -> None:
    from aftershock_replication.params import DataParams

    with pytest.raises(InputError, match=r"'data\.mirror' must be an http\(s\) URL with a host"):
        DataParams.from_params({"data": {"source": "devries2018", "path": "data/original",
                                         "mirror": mirror}})


def test_a_full_disk_ends_with_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    """ENOSPC in any stage: exit 2, the file named, and what was kept."""
    import errno

    def full(_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "metrics/stats.json.tmp")

    parser = cli.build_parser()
    original = parser.parse_args

    def parse(argv: object = None) -> object:
        args = original(argv)
        args.function = full
        return args

    monkeypatch.setattr(cli, "build_parser", lambda: type(
        "P", (), {"parse_args": staticmethod(parse)})())
    status = cli.main(["stats", "--methods-dir", "m", "--scores-dir", "s", "--features", "f",
                       "--splits", "x", "--out", "o"])
    errors = capfd.readouterr().err
    assert status == 2 and "Traceback" not in errors
    assert "metrics/stats.json.tmp: no space left on the device" in errors
    assert "no output of this stage was replaced" in errors


def test_a_slip_model_name_with_tex_is_drawn_as_typed(tmp_path: Path) -> None:
    """Names are data: "$\\foo$" in a name once stopped the letter stage in matplotlib's
    mathtext parser."""
    from aftershock_replication.report.figures import paper_split_groups

    name = "2000$\\foo$xx01AB"
    roles = pd.DataFrame({"slip_model": [name, "2000$\\foo$xx02AB"],
                          "event": [name[:12], "2000$\\foo$xx02"],
                          "sequence": [name[:10]] * 2, "role": ["train", "test"]})
    paper_split_groups(roles, tmp_path / "groups.png")
    assert (tmp_path / "groups.png").stat().st_size > 0


@pytest.mark.parametrize(("change", "message"), [
    ({"seeds": 10_000}, r"'seeds' must be <= 1,000 \(a sanity bound"),
    ({"methods": {"random_forest": {"n_estimators": 10**30}}},
     r"'methods\.random_forest\.n_estimators' must be <= 1,000,000"),
    ({"demo": {"size": 10**7}}, r"'demo\.size' must be <= 10,000"),
])
def test_values_that_cannot_be_meant_are_refused(change: dict, message: str) -> None:
    from aftershock_replication.methods.params import method_settings
    from aftershock_replication.params import DemoParams

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, value in change.items():
        if isinstance(value, dict):
            for key, inner in value.items():
                params[section][key] = ({**params[section][key], **inner}
                                        if isinstance(inner, dict) else inner)
        else:
            params[section] = value
    with pytest.raises(InputError, match=message):
        from aftershock_replication.params import SplitParams

        SplitParams.from_params(params)
        DemoParams.from_params(params)
        method_settings(params, "random_forest")


# --- issue 31: a local data source, through acquire ---------------------------------------

@pytest.fixture
def acquire(original_layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            caplog: pytest.LogCaptureFixture) -> Callable[..., tuple[int, str]]:
    """``replicate acquire`` of a local source into ``tmp_path/raw``, then any later stages
    given: (status of the last, errors logged). Nothing under the source may change."""
    monkeypatch.setattr(cli, "setup_logging", lambda verbose: None)  # keep caplog's handler
    params = yaml.safe_load((ROOT / "params.yaml").read_text())

    def go(source: Path = original_layout, *stages: str) -> tuple[int, str]:
        params["data"] = {**params["data"], "source": "local", "path": str(source)}
        params_path = tmp_path / "params.yaml"
        params_path.write_text(yaml.safe_dump(params))
        before = digest(original_layout)
        argv = {"acquire": ["--out", "raw"],
                "features": ["--raw", "raw", "--out", "f.parquet", "--report", "f.json"],
                "events": ["--raw", "raw", "--out", "events.csv"]}
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            for stage in ("acquire", *stages):
                status = cli.main([stage, "--params", str(params_path),
                                   *[a if a[0] == "-" else str(tmp_path / a)
                                     for a in argv[stage]]])
                if status != 0:
                    break
        assert digest(original_layout) == before
        return status, "\n".join(r.getMessage() for r in caplog.records
                                 if r.levelno >= logging.ERROR)

    return go


def listing(root: Path) -> dict[str, str]:
    """Every entry under ``root`` with its link target or content hash."""
    return {str(p.relative_to(root)): os.readlink(p) if p.is_symlink()
            else hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def symlink_loop(root: Path) -> Path:
    """A data.path that is a loop of two symbolic links."""
    (root.parent / "loop1").symlink_to(root.parent / "loop2")
    (root.parent / "loop2").symlink_to(root.parent / "loop1")
    return root.parent / "loop1"


def write(relative: str, text: str) -> Callable[[Path], Path]:
    """Write ``text`` into ``relative`` of the source."""
    def edit(root: Path) -> Path:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
        return root
    return edit


def fsp_entry(kind: str) -> Callable[[Path], Path]:
    """An ``fsp/*.fsp`` entry that is a directory or a link to nothing."""
    def edit(root: Path) -> Path:
        (root / "fsp").mkdir()
        if kind == "directory":
            (root / "fsp" / "s1995KOBEJA01YOSH.fsp").mkdir()
        else:
            (root / "fsp" / "s1995KOBEJA01YOSH.fsp").symlink_to(root / "gone.fsp")
        return root
    return edit


@pytest.mark.parametrize(("edit", "message"), [
    (symlink_loop, r"params: data\.path='.*loop1' is a symbolic link loop; set data\.path"),
    (write("DEMO_DATA.json", "{corrupt"),
     r"original/DEMO_DATA\.json: not valid JSON \(Expecting property name.*\); rerun the "
     "demo generator"),
    (write("DEMO_DATA.json", "[1, 2]"),
     r"original/DEMO_DATA\.json: expected a JSON object \(the demo generator's summary\), "
     "found list"),
    (fsp_entry("directory"),
     r"original/fsp/s1995KOBEJA01YOSH\.fsp: is a directory; expected an SRCMOD \.fsp file"),
    (fsp_entry("dangling"),
     r"original/fsp/s1995KOBEJA01YOSH\.fsp: is a symbolic link to '.*gone\.fsp', which "
     r"leads to no file \(dangling, or a loop\); expected an SRCMOD \.fsp file"),
], ids=["data_path_loop", "demo_marker_corrupt", "demo_marker_not_object", "fsp_directory",
        "fsp_dangling"])
def test_acquire_refuses_a_local_source_it_could_not_pass_on(
    acquire, original_layout: Path, tmp_path: Path, edit, message: str,
) -> None:
    """Refused at acquire, naming the user's file or data.path; the previous data/raw stays."""
    assert acquire()[0] == 0
    kept = listing(tmp_path / "raw")
    status, errors = acquire(edit(original_layout))
    assert status == 2
    assert len(re.findall(message, errors)) == 1, errors
    assert "data/raw was not replaced" in errors
    assert listing(tmp_path / "raw") == kept
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".raw")] == []


def test_listed_csvs_are_linked_under_their_listed_names(
    acquire, original_layout: Path, tmp_path: Path,
) -> None:
    """A listed CSV that is a link to a file of another name, or two listed CSVs linking to
    one file, are linked under the names the file lists give: the features stage finds
    every slip model (it once found a listed CSV 'absent', or acquire stopped on
    FileExistsError)."""
    csv_dir = original_layout / "AllCSV"
    shared = original_layout.parent / "shared.csv"
    (csv_dir / "1995KOBEJA01YOSH_grid.csv").rename(shared)
    (csv_dir / "1995KOBEJA01WALD_grid.csv").unlink()
    for name in ("1995KOBEJA01YOSH", "1995KOBEJA01WALD"):  # two names, one file
        (csv_dir / f"{name}_grid.csv").symlink_to(shared)
    (csv_dir / "1999CHICHI01MAxx_grid.csv").rename(original_layout.parent / "other.csv")
    (csv_dir / "1999CHICHI01MAxx_grid.csv").symlink_to("../../other.csv")
    status, errors = acquire(original_layout, "features")
    assert status == 0, errors
    linked = {p.name: p.resolve() for p in (tmp_path / "raw" / "AllCSV").iterdir()}
    assert linked["1995KOBEJA01YOSH_grid.csv"] == linked["1995KOBEJA01WALD_grid.csv"] == \
        shared.resolve()
    assert linked["1999CHICHI01MAxx_grid.csv"] == (original_layout.parent / "other.csv").resolve()
    table = pq.read_table(tmp_path / "f.parquet", columns=["slip_model"]).to_pandas()
    assert {"1995KOBEJA01YOSH", "1995KOBEJA01WALD", "1999CHICHI01MAxx"} <= \
        set(table["slip_model"].astype(str))


@pytest.mark.parametrize(("edit", "stage", "message"), [
    (write("events.csv", "slip_model,latitude,longitude\n1995KOBEJA01YOSH,row,135\n"), "events",
     "{root}/events.csv: data row 1 has latitude 'row'; expected a number of degrees (this "
     "stage reads the copy acquire made of it: rerun acquire after fixing it)"),
    (write("fsp/s1995KOBEJA01YOSH.fsp", "% EventTAG: s1995KOBEJA01YOSH\n"), "events",
     "{root}/fsp/s1995KOBEJA01YOSH.fsp: not an SRCMOD .fsp header: no Loc"),
    (lambda root: set_cell("aftershocksyn", "0.5")(root) or root, "features",
     f"{{root}}/AllCSV/{BAD}: column 'aftershocksyn' holds 0.5 in data row {ROW + 1}"),
], ids=["events_csv", "fsp", "slip_model_csv"])
def test_errors_in_a_linked_source_name_the_users_file(
    acquire, original_layout: Path, tmp_path: Path, edit, stage: str, message: str,
) -> None:
    """The stages after acquire read data/raw's copies and links, but name the file the user
    can fix."""
    status, errors = acquire(edit(original_layout), stage)
    assert status == 2
    assert message.format(root=original_layout.resolve()) in errors, errors
    assert str(tmp_path / "raw") not in errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["original", "params.yaml", "raw"]
