"""The kinds of a stage function's path arguments, declared once in its signature.

A stage function (``features_stage(params, raw: Input, out: Output, report: Output)``)
says which of its paths it reads and which it writes; the CLI makes each one a required
option and checks the outputs are writable before the stage starts, and a test checks that
``dvc.yaml`` passes every output option a path it declares as an output, and every input
option one of its dependencies. The aliases are plain ``Path`` to the type checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

Input: TypeAlias = Path  # a file or directory the stage reads
Output: TypeAlias = Path  # a file the stage writes (through a temporary, renamed into place)
OutputDir: TypeAlias = Path  # a directory the stage writes (replaced as a whole)
# the project's dvc.yaml, beside the params file: passed by the CLI, not an option
Pipeline: TypeAlias = Path

# annotation name -> kind, as the CLI reads it from the source (without importing the stage)
PATH_KINDS = {"Input": "input", "Output": "output", "OutputDir": "output directory",
              "Pipeline": "pipeline"}
# the arguments of every stage function that are not paths: the parsed params.yaml and, for
# a stage that runs one method, its name (``--method``)
OTHER_ARGUMENTS = ("params", "method")
