"""Architecture contracts: one method registry that dvc.yaml and params.yaml agree with,
DVC dependencies that cover every module a stage imports, package layers that no import
climbs, modules of one job (a length limit), and test modules that import only shared
helpers."""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from dvc.repo import Repo

from aftershock_replication.cli import STAGES
from aftershock_replication.methods import (
    ALL_METHODS,
    FITTED,
    NOT_METHODS,
    REGISTRY,
    UNTRAINED,
    declared,
    fitted_names,
    spec,
)
from aftershock_replication.pipeline import read_stages
from aftershock_replication.report.method_table import METHOD_TABLE
from helpers import ROOT

PACKAGE = ROOT / "src" / "aftershock_replication"
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
DVC_STAGES = read_stages(ROOT / "dvc.yaml")
METHOD_MODULES = sorted(path for path in (PACKAGE / "methods").glob("*.py")
                        if path.stem not in ("__init__", *NOT_METHODS))
# the stages that load the registry for the one method they run, and no other method module
# (test_a_stage_running_one_method_loads_no_other_method_module); every other stage that
# loads the registry reads every method's declaration (order, roles), which imports every
# method module
ONE_METHOD_STAGES = ("evaluate", "learning-curve")


def module_file(dotted: str) -> Path | None:
    """The file of a package module given its dotted name relative to the package."""
    path = PACKAGE.joinpath(*dotted.split(".")) if dotted else PACKAGE
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return path / "__init__.py" if (path / "__init__.py").is_file() else None


def imported_files(path: Path, top_level_only: bool = False) -> set[Path]:
    """Package files that ``path`` imports (relative or absolute), lazily imported ones too
    unless ``top_level_only``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    package = parts[:-1]  # for a package's __init__ too: the package itself
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[Path] = set()
    for node in nodes:
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[:len(package) - node.level + 1]
            dotted = ".".join(base + ([node.module] if node.module else []))
        elif (node.module or "").split(".")[0] == "aftershock_replication":
            dotted = node.module.partition(".")[2]
        else:
            continue
        candidates = [dotted] + [f"{dotted}.{alias.name}".strip(".") for alias in node.names]
        found |= {file for file in map(module_file, candidates) if file is not None}
    return found


def closure(start: set[Path]) -> set[Path]:
    """Every package file loaded by importing ``start``, with the packages' __init__ files."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for parent in path.relative_to(PACKAGE).parents:
            todo.append(PACKAGE / parent / "__init__.py")
        todo.extend(imported_files(path))
    return seen


def required_files(cmd: str) -> set[Path]:
    """Package files a stage's ``replicate`` command loads: the CLI's top-level imports, the
    stage function's module and the method modules the registry imports for it (the
    ``--method``'s for a stage of ``ONE_METHOD_STAGES``, else every one if it loads the
    registry)."""
    words = shlex.split(cmd)
    subcommand = words[words.index("replicate") + 1]
    cli = PACKAGE / "cli.py"
    start = imported_files(cli, top_level_only=True)  # its lazy imports serve other commands
    start.add(module_file(STAGES[subcommand][0]))
    if subcommand in ONE_METHOD_STAGES:
        start.add(module_file(f"methods.{spec(words[words.index('--method') + 1]).module}"))
    elif PACKAGE / "methods" / "__init__.py" in closure(start):
        start |= set(METHOD_MODULES)
    return closure(start) | {cli}


def resolved_stages() -> dict[str, tuple[str, list[str]]]:
    """Every stage of dvc.yaml as DVC resolves it (foreach expanded): command and deps."""
    with Repo(str(ROOT)) as repo:
        return {stage.addressing: (stage.cmd, [d.def_path for d in stage.deps])
                for stage in repo.index.stages if stage.cmd}


def test_registry_params_and_dvc_yaml_name_the_same_methods() -> None:
    assert PARAMS["untrained"] == list(UNTRAINED)
    assert list(PARAMS["methods"]) == list(FITTED)
    assert set(PARAMS["learning_curve"]["methods"]) <= set(FITTED)
    stages = DVC_STAGES
    assert stages["score"]["foreach"] == "${untrained}"
    assert stages["fit"]["foreach"] == "${methods}"
    assert stages["learning_curve"]["foreach"] == "${learning_curve.methods}"
    resolved = resolved_stages()
    assert {name for name in resolved if name.startswith("score@")} == {
        f"score@{name}" for name in UNTRAINED}
    assert {name for name in resolved if name.startswith("fit@")} == {
        f"fit@{name}" for name in FITTED}


@pytest.mark.parametrize("entry", [e for e in REGISTRY if e.fitted], ids=lambda e: e.name)
def test_params_yaml_ships_the_registry_defaults(entry) -> None:
    """The settings dataclass's defaults are the package's; params.yaml must not drift."""
    defaults = {item.name: item.default for item in fields(entry.settings)}
    assert PARAMS["methods"][entry.name] == defaults


def test_the_report_table_shows_every_registered_method_and_no_other() -> None:
    """Label, prose and colour live in the report's table, keyed like the registry: a method
    cannot be registered without its presentation, nor shown without being registered (the
    same order too, the order of tables and legends)."""
    assert list(METHOD_TABLE) == list(ALL_METHODS)


def test_the_data_stages_and_core_params_do_not_load_the_method_registry() -> None:
    """Adding or changing a method must not mark acquire, features, events and split stale:
    neither they nor the core params module load ``methods`` (a fresh interpreter, since
    this one has loaded it)."""
    modules = ["params", "data.sources", "features", "events", "splits"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(f'aftershock_replication.{name}')\n"
            "print(' '.join(m for m in sys.modules\n"
            "               if m.startswith('aftershock_replication.methods')) or '-')\n")
    assert loaded_in_a_fresh_interpreter(code) == ["-"]


def test_no_data_stage_depends_on_the_method_registry() -> None:
    """The same, statically and lazy imports included: no module under methods/ is in the
    import closure of acquire, features, events or split (nor among their DVC deps)."""
    methods = PACKAGE / "methods"
    for name, (cmd, deps) in resolved_stages().items():
        if name not in ("acquire", "features", "events", "split"):
            continue
        loaded = [f for f in required_files(cmd) if methods in f.parents]
        listed = [d for d in deps if (ROOT / d) == methods or methods in (ROOT / d).parents]
        assert not loaded and not listed, (name, loaded, listed)


def test_only_the_letter_loads_the_method_presentation() -> None:
    """A label, name or colour changed in ``report/method_table.py`` reruns only the letter."""
    table = PACKAGE / "report" / "method_table.py"
    loading = {name for name, (cmd, _) in resolved_stages().items()
               if table in required_files(cmd)}
    assert loading == {"letter"}


def test_the_vocabulary_module_imports_nothing() -> None:
    """names.py holds what every stage and the letter share (schemes, stress scalars, the
    slip-model name rule) so that none keeps a copy to spare a heavy import: it must stay
    free of imports itself."""
    tree = ast.parse(module_file("names").read_text())
    imported = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    assert imported == []


def test_every_method_module_declares_its_methods_on_their_classes() -> None:
    """Every module of methods/ but base and params declares methods, on classes it holds;
    a fitted method's module is named after it (its stages depend on methods/<name>.py),
    and the names of the fitted methods, known without importing, are the registry's."""
    assert {entry.module for entry in REGISTRY} == {path.stem for path in METHOD_MODULES}
    for entry in REGISTRY:
        source = module_file(f"methods.{entry.module}")
        assert source is not None, entry.name
        classes = {n.name for n in ast.parse(source.read_text()).body
                   if isinstance(n, ast.ClassDef)}
        assert entry.cls in classes, f"{entry.name}: no class {entry.cls} in {source.name}"
        assert declared(entry.module)[entry.name] == entry
        assert entry.module == entry.name or not entry.fitted, entry.name
    assert fitted_names() == set(FITTED)


def test_the_registry_orders_methods_by_their_declared_order() -> None:
    """Tables, figures and comparisons follow ``order`` (each method's own, none shared),
    not file names."""
    orders = [entry.order for entry in REGISTRY]
    assert orders == sorted(set(orders))


def loaded_in_a_fresh_interpreter(code: str) -> list[str]:
    """What ``code`` prints last, run by a fresh interpreter on this checkout's package
    (this one has loaded every method)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=ROOT, check=True)
    return result.stdout.strip().splitlines()[-1].split()


@pytest.mark.parametrize("method", ["logistic", "neural_network", "coulomb"])
def test_a_stage_running_one_method_loads_no_other_method_module(method: str) -> None:
    """What ``evaluate`` and ``learning-curve`` ask the registry (the params sections they
    read, the method itself) imports that method's module and no other, so their DVC stages
    depend on methods/<module>.py alone (``ONE_METHOD_STAGES``)."""
    code = ("import sys, yaml\n"
            "from aftershock_replication import cli, evaluate, learning_curve\n"
            "from aftershock_replication.methods import create, spec\n"
            "from aftershock_replication.methods.params import (LearningCurveParams,\n"
            "                                                   method_settings)\n"
            "params = yaml.safe_load(open('params.yaml'))\n"
            f"entry = spec({method!r})\n"
            f"create({method!r}, method_settings(params, {method!r}))\n"
            "print(entry.stage, entry.fitted, entry.uses_test_labels)\n"
            "if entry.fitted:\n"
            "    LearningCurveParams.from_params(params)\n"
            "print(' '.join(sorted(name.rpartition('.')[2] for name in sys.modules\n"
            "                      if name.startswith('aftershock_replication.methods.'))))\n")
    assert loaded_in_a_fresh_interpreter(code) == sorted(
        {"base", "params", spec(method).module})


def test_the_whole_registry_loads_no_heavy_library() -> None:
    """Every stage comparing methods imports every method module to read its declaration:
    the modules import Keras, JAX, pyGAM and scikit-learn's estimators where they fit."""
    heavy = ("keras", "jax", "pygam", "sklearn.ensemble", "sklearn.svm", "sklearn.linear_model",
             "sklearn.kernel_approximation")
    code = ("import sys\n"
            "from aftershock_replication.methods import REGISTRY\n"
            f"print(' '.join(name for name in sys.modules if name in {heavy!r}) or '-')\n")
    assert loaded_in_a_fresh_interpreter(code) == ["-"]


def test_stage_deps_cover_every_module_the_stage_imports() -> None:
    missing = {}
    for name, (cmd, deps) in resolved_stages().items():
        covered = [ROOT / dep for dep in deps]
        needed = required_files(cmd)
        uncovered = sorted(str(f.relative_to(ROOT)) for f in needed
                           if not any(f == dep or dep in f.parents for dep in covered))
        if uncovered:
            missing[name] = uncovered
    assert not missing, f"dvc.yaml deps miss imported modules: {missing}"


def test_stage_deps_list_no_module_the_stage_does_not_import() -> None:
    """The converse: a module a stage no longer loads is not among its deps, so changing it
    does not mark the stage stale (a directory dep must hold a module the stage loads; data
    files the stage reads, such as the link table, are not modules and not checked)."""
    extra = {}
    for name, (cmd, deps) in resolved_stages().items():
        needed = required_files(cmd)
        unused = sorted(dep for dep in deps if (ROOT / dep).is_relative_to(PACKAGE)
                        and (dep.endswith(".py") or (ROOT / dep).is_dir())
                        and not any(f == ROOT / dep or ROOT / dep in f.parents
                                    for f in needed))
        if unused:
            extra[name] = unused
    assert not extra, f"dvc.yaml deps list modules the stage does not import: {extra}"


def test_import_closure_follows_lazy_and_absolute_imports(tmp_path: Path) -> None:
    """The checker itself: the letter stage needs the figures module (imported by render),
    and the evaluate stage of the network needs the network's module."""
    letter = required_files("replicate letter --out x")
    assert PACKAGE / "report" / "figures.py" in letter
    assert PACKAGE / "evaluate.py" not in letter
    network = required_files("replicate evaluate --method neural_network --out x")
    assert PACKAGE / "methods" / "neural_network.py" in network
    assert PACKAGE / "methods" / "svm.py" not in network


def imported_modules(tree: ast.Module, package: list[str]) -> set[str]:
    """Dotted names, relative to the package, of every package module a module (in the
    subpackage ``package``) imports, lazily or not, relatively or absolutely: each
    ``import``ed module, and for ``from x import y`` both x and x.y (y may be a module)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package[:len(package) - node.level + 1]
                base = ".".join(["aftershock_replication", *parts, *filter(None, [node.module])])
            else:
                base = node.module or ""
            modules = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {module.partition(".")[2] for module in modules
                  if module.split(".")[0] == "aftershock_replication"}
    return found


def test_imported_modules_sees_lazy_relative_and_absolute_imports() -> None:
    """The checker itself, on a module of data/."""
    tree = ast.parse(
        "from .. import errors, cli\n"
        "from .layout import ROLES\n"
        "import aftershock_replication.report.render\n"
        "def check(path):\n"
        "    from ..features import read_slip_model_csv\n"
        "    read_slip_model_csv(path)\n"
    )
    found = imported_modules(tree, ["data"])
    assert {"errors", "cli", "data.layout", "report.render", "features"} <= found


# the package's layers, bottom first, each named by the top-level modules and subpackages it
# holds (the package's own __init__ is ""): a module may import its own layer and those
# below, never one above, not even lazily in a function. Derived from the import graph; a
# new module must be placed in one. benchmarks/ may import every layer but the CLI, and only
# the CLI imports it (``replicate benchmark``, lazily).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vocabulary", ("", "names", "errors", "stage_io")),
    ("infrastructure", ("atomic", "progress", "params", "pipeline", "compute")),
    ("maths", ("stats", "stress", "auc")),
    ("data", ("data",)),
    ("shared model", ("schema", "cells", "groups", "methods")),
    ("stages", ("features", "events", "sequences", "splits", "evaluate", "learning_curve",
                "leakage_plan", "leakage", "leakage_summary", "paper_split_stats",
                "comparisons")),
    ("report", ("report",)),
    ("benchmarks", ("benchmarks",)),
    ("cli", ("cli",)),
)
MAX_MODULE_LINES = 420  # a longer module does more than one job: split it by job


def dotted_name(path: Path) -> str:
    """A package file's module name relative to the package ("" for its own __init__)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of a package module (by its top-level name)."""
    top = module.split(".")[0]
    found = [index for index, (_, members) in enumerate(LAYERS) if top in members]
    assert len(found) == 1, f"{module or 'the package __init__'}: in {len(found)} layers"
    return found[0]


def back_arrows(sources: dict[Path, str]) -> list[str]:
    """Each import (lazy ones too) by a package file of ``sources`` (path -> its text) of a
    module in a higher layer than its own."""
    found = []
    for path, text in sorted(sources.items()):
        own = layer_of(dotted_name(path))
        package = list(path.relative_to(PACKAGE).parent.parts)
        for module in sorted(imported_modules(ast.parse(text), package)):
            # ``from x import y``: x.y is a module only if its file exists
            if module_file(module) is not None and layer_of(module) > own:
                found.append(f"{path.relative_to(PACKAGE)} ({LAYERS[own][0]}) imports "
                             f"{module} ({LAYERS[layer_of(module)][0]})")
    return found


def test_every_module_is_in_one_layer() -> None:
    modules = [dotted_name(path) for path in PACKAGE.rglob("*.py")]
    assert all(layer_of(module) >= 0 for module in modules)
    tops = {module.split(".")[0] for module in modules}
    listed = {top for _, members in LAYERS for top in members}
    assert listed == tops, f"LAYERS names no module: {sorted(listed - tops)}"


def test_no_module_imports_a_module_of_a_higher_layer() -> None:
    offenders = back_arrows({path: path.read_text() for path in PACKAGE.rglob("*.py")})
    assert not offenders, "imports pointing up the layers:\n" + "\n".join(offenders)


def test_the_layer_check_sees_lazy_and_package_level_back_arrows() -> None:
    """The checker itself: data/ importing a stage lazily, the maths importing data/ and
    stats/__init__ importing the report are caught; a name imported from the package's
    own __init__ or a same-layer import is not."""
    sources = {
        PACKAGE / "data" / "made_up.py": ("from .layout import ROLES\n"
                                          "def check(path):\n"
                                          "    from ..features import read_slip_model_csv\n"),
        PACKAGE / "stress.py": "from .data import layout\nfrom . import auc\n",
        PACKAGE / "stats" / "__init__.py": "from ..report.tables import auc_table\n",
        PACKAGE / "names.py": "from . import __version__\n",
    }
    assert back_arrows(sources) == [
        "data/made_up.py (data) imports features (stages)",
        "stats/__init__.py (maths) imports report.tables (report)",
        "stress.py (maths) imports data (data)",
        "stress.py (maths) imports data.layout (data)",
    ]


def test_no_module_is_longer_than_the_limit() -> None:
    """One job per module: a module over ``MAX_MODULE_LINES`` lines is split by job (not
    squeezed), so that its name and docstring can say what it holds."""
    lengths = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
               for path in sorted(PACKAGE.rglob("*.py"))}
    long = [f"{name} ({count} lines)" for name, count in lengths.items()
            if count > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {', '.join(long)}"


def test_test_modules_import_no_other_test_module() -> None:
    offenders = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0].startswith(("test_", "conftest"))]
    assert not offenders


def sections_read(tree: ast.Module) -> set[str]:
    """Top-level params sections a piece of code reads by name: ``section(params, "x")``,
    ``params.get("x")`` or ``params["x"]``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args[1:2] and isinstance(node.func, ast.Name) \
                and node.func.id == "section" and isinstance(node.args[1], ast.Constant):
            found.add(node.args[1].value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "get" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "params" and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == "params" and isinstance(node.slice, ast.Constant):
            found.add(node.slice.value)
    return {name for name in found if name in PARAMS}


def params_readers() -> dict[Path, dict[str, set[str]]]:
    """Each package file -> its top-level functions and classes that read params sections
    -> those sections (``results_params``, which the letter prints, reads every section but
    the speed-only ones)."""
    from aftershock_replication.params import SPEED_ONLY_SECTIONS

    readers: dict[Path, dict[str, set[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                read = sections_read(ast.Module(body=[node], type_ignores=[]))
                if node.name == "results_params":
                    read = set(PARAMS) - set(SPEED_ONLY_SECTIONS)
                if read:
                    readers.setdefault(path, {})[node.name] = read
    return readers


def names_used(tree: ast.AST) -> set[str]:
    """Names and attributes a piece of code uses, annotations left out (a return type
    names a class without calling it)."""
    used: set[str] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns"):
                continue
            todo.extend(v for v in (value if isinstance(value, list) else [value])
                        if isinstance(v, ast.AST))
    return used


def test_each_stage_lists_only_params_sections_its_code_reads() -> None:
    """A stage's DVC params are sections its code reads, through a reader (a function or
    class reading ``params``, defined in a module the stage loads) that its code uses or the
    stage function itself, so changing a
    setting no stage reads reruns nothing: ``compute`` is read by many stages and listed
    by none, and ``letter`` is listed by the letter stage only. (The converse, every
    section read is listed, is the dvc.yaml author's: code that only validates a section,
    such as the method-name check, reads it without depending on it.)"""
    readers = params_readers()
    with Repo(str(ROOT)) as repo:
        stages = {stage.addressing: (stage.cmd, {key.split(".")[0] for dep in stage.params
                                                 for key in dep.params})
                  for stage in repo.index.stages if stage.cmd}
    broader = {}
    for name, (cmd, listed) in stages.items():
        words = shlex.split(cmd)
        used = {STAGES[words[words.index("replicate") + 1]][1]}
        loaded = required_files(cmd)
        for path in loaded:
            used |= names_used(ast.parse(path.read_text()))
        # a reader counts when a file the stage loads defines it and some loaded code uses it
        read = set().union(*(sections for path in loaded
                             for reader, sections in readers.get(path, {}).items()
                             if reader in used))
        if listed - read:
            broader[name] = sorted(listed - read)
    assert not broader, f"stages list params sections their code never reads: {broader}"
