"""What ``dvc.yaml`` declares about the pipeline (stages, outputs, source dependencies),
read at run time: the file is the truth, and this module is its only reader.

DVC deletes a stage's outputs before it reruns the stage, so anything a user keeps inside
one of them is lost; ``stage_outputs`` lets a stage refuse such a location up front.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

OUTPUT_KINDS = ("outs", "metrics", "plots")

TEMPLATE_START = "${"


def _declared_paths(entries: list[object]) -> list[str]:
    """Paths of a stage's ``outs``/``metrics``/``plots`` list (strings or one-key mappings)."""
    paths = []
    for entry in entries:
        if isinstance(entry, str):
            paths.append(entry)
        elif isinstance(entry, dict):
            paths.extend(str(key) for key in entry)
    return paths


def _untemplated(path: str) -> str:
    """'results/scores/${item}.npz' -> 'results/scores': the directory every expansion lies in."""
    if TEMPLATE_START not in path:
        return path
    return str(Path(path.split(TEMPLATE_START, 1)[0] + "x").parent)


def read_stages(dvc_yaml: Path) -> dict[str, Any]:
    """The ``stages`` of ``dvc_yaml`` as declared ({} if there is no file); every reader of
    dvc.yaml in the package (and its tests) goes through here."""
    if not dvc_yaml.is_file():
        return {}
    try:
        stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages") or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{dvc_yaml}: not readable as YAML: {error}") from error
    if not isinstance(stages, dict):
        raise InputError(f"{dvc_yaml}: 'stages' is not a mapping")
    return stages


def _body(stage: object) -> dict[str, Any]:
    """What a stage declares (a ``foreach`` stage's ``do`` block)."""
    return stage.get("do", stage) if isinstance(stage, dict) else {}


def stage_outputs(dvc_yaml: Path) -> dict[Path, str]:
    """Every output path declared in ``dvc_yaml`` -> the stage declaring it ({} if no file).

    ``foreach`` stages give the directory their templated outputs expand into.
    """
    outputs: dict[Path, str] = {}
    for name, stage in read_stages(dvc_yaml).items():
        for kind in OUTPUT_KINDS:
            for path in _declared_paths(_body(stage).get(kind) or []):
                outputs[dvc_yaml.parent / _untemplated(path)] = name
    return outputs


def source_dependencies(dvc_yaml: Path) -> list[str]:
    """params.yaml, dvc.yaml and every dependency the stages declare under src/ and paper/
    (their code and templates; ``${...}`` as the wildcard ``*``), sorted: the files a
    rendered document is made from."""
    patterns = ["params.yaml", "dvc.yaml"]
    for stage in read_stages(dvc_yaml).values():
        for name in _declared_paths(_body(stage).get("deps") or []):
            if name.startswith(("src/", "paper/")):
                patterns.append(re.sub(r"\$\{[^}]*\}", "*", name))
    return sorted(set(patterns))


def foreach_keys(value: object, params: dict[str, Any]) -> list[str]:
    """The names a ``foreach`` expands into: a list's items, a mapping's keys, or those of
    the params entry a ``${dotted.name}`` refers to (as DVC resolves it)."""
    if isinstance(value, str) and value.startswith(TEMPLATE_START) and value.endswith("}"):
        for key in value[2:-1].split("."):
            if not isinstance(params, dict) or key not in params:
                raise InputError(f"dvc.yaml: foreach {value} names no entry of params.yaml")
            params = params[key]
        value = params
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [str(item) for item in value]
    raise InputError(f"dvc.yaml: foreach must be a list or a mapping, got {value!r}")


def stage_names(dvc_yaml: Path, params: dict[str, Any]) -> list[str]:
    """Every stage of ``dvc_yaml`` in declaration (= pipeline) order, ``foreach`` expanded."""
    names = []
    for name, stage in read_stages(dvc_yaml).items():
        if isinstance(stage, dict) and "foreach" in stage:
            names.extend(f"{name}@{key}" for key in foreach_keys(stage["foreach"], params))
        else:
            names.append(name)
    return names


def overlaps(first: Path, second: Path) -> bool:
    """True if the two paths are the same, or one lies inside the other (after resolving)."""
    a, b = first.resolve(), second.resolve()
    return a == b or a in b.parents or b in a.parents


def check_resolvable(path: Path, name: str) -> None:
    """Refuse a path param that cannot be resolved (a symbolic link loop on the way), naming
    the param: every use of the path would otherwise end in a traceback."""
    try:
        path.resolve()
    except RuntimeError:  # how Python < 3.13 reports a loop (3.13 raises OSError ELOOP)
        problem = "is a symbolic link loop"
    except OSError as error:
        problem = ("is a symbolic link loop" if error.errno == errno.ELOOP
                   else f"cannot be resolved ({error.strerror or error})")
    else:
        return
    raise InputError(f"params: {name}={str(path)!r} {problem}; set {name} to the directory "
                     "that holds the data")


def check_outside_outputs(path: Path, name: str, outputs: dict[Path, str]) -> None:
    """Refuse a user's data location that cannot be resolved, or that equals, contains or
    lies inside a stage output."""
    check_resolvable(path, name)
    for output, stage in outputs.items():
        if overlaps(path, output):
            raise InputError(
                f"params: {name}={str(path)!r} overlaps '{output}', an output of the "
                f"'{stage}' stage; DVC deletes stage outputs before rerunning a stage, so the "
                f"data there would be lost. Keep your data outside the pipeline's outputs "
                f"(e.g. data/original, the default) and set {name} to that directory"
            )
