"""Which test earthquakes of the paper's published split share a sequence with training
slip models, under the critique's name-prefix sequences and under physical sequences
(``sequences.py``: prefixes merged by shared origin times and the reviewed link table).

    python -m aftershock_replication.benchmarks.sequence_audit \\
        --out benchmarks/results/paper-split-sequences.json

Needs no data: the published names and their side are shipped (``paper_split_names.csv``),
so are the origin times. Unit: slip model (the published split's row counts need the data).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import write_json
from ..events import read_mainshock_times
from ..names import event_of, sequence_of
from ..sequences import LINK_WINDOW_DAYS, physical_sequences, reviewed_links
from ..splits import audit
from .dataset import paper_split_names

GROUPINGS = {"name_prefix": "sequence", "physical": "physical"}  # report key: audit level


def audit_paper_split(cluster_days: float = LINK_WINDOW_DAYS) -> dict[str, Any]:
    """The straddling groups and exposed test earthquakes under both groupings, by the
    split stage's own audit (``splits.audit``; every slip model counts one row) and
    physical grouping (``sequences.reviewed_links``)."""
    names_roles = paper_split_names()
    names = [name for name, _ in names_roles]
    test = sorted(name for name, role in names_roles if role == "test")
    levels = pd.DataFrame({
        "rows": 1, "sequence": [sequence_of(name) for name in names],
        "physical": pd.Series(physical_sequences(names, read_mainshock_times(),
                                                 reviewed_links(cluster_days))),
    }, index=names)
    found = audit(levels, test)
    report: dict[str, Any] = {"unit": "slip model", "cluster_days": cluster_days,
                              "test_slip_models": len(test),
                              "test_earthquake_ids": len({event_of(n) for n in test})}
    for grouping, level in GROUPINGS.items():
        rows = [{**row, "test_earthquakes": sorted({event_of(n)
                                                    for n in row["test_slip_models"]})}
                for row in found[level]]
        report[grouping] = {
            "sequences": int(levels[level].nunique()),
            "straddling": rows,
            "exposed_test_earthquakes": sorted({e for row in rows
                                                for e in row["test_earthquakes"]}),
            "exposed_test_slip_models": sum(len(row["test_slip_models"]) for row in rows),
        }
    prefix, physical = (set(report[g]["exposed_test_earthquakes"]) for g in GROUPINGS)
    report["exposed_only_under_physical"] = sorted(physical - prefix)
    report["exposed_only_under_name_prefix"] = sorted(prefix - physical)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = audit_paper_split()
    write_json(args.out, report)
    for grouping in GROUPINGS:
        part = report[grouping]
        print(f"{grouping}: {part['sequences']} sequences, "
              f"{len(part['exposed_test_earthquakes'])} exposed test earthquakes "
              f"({part['exposed_test_slip_models']} test slip models)")
        for row in part["straddling"]:
            print(f"  {row['group']}: test {' '.join(row['test_slip_models'])} | "
                  f"train {' '.join(row['train_slip_models'])}")
    print("exposed only under physical:", " ".join(report["exposed_only_under_physical"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
