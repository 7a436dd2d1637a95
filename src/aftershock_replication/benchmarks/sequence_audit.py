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
from ..data.layout import event_of, sequence_of
from ..events import read_mainshock_times
from ..sequences import physical_sequences, read_link_table
from .dataset import paper_split_names

GROUPINGS = ("name_prefix", "physical")


def straddling(groups: dict[str, str], roles: dict[str, str]) -> list[dict[str, Any]]:
    """Groups with slip models on both sides of the split, with their test earthquakes."""
    frame = pd.DataFrame({"group": pd.Series(groups), "role": pd.Series(roles)})
    rows = []
    for group, members in frame.groupby("group", sort=True):
        test = sorted(members.index[members["role"] == "test"])
        train = sorted(members.index[members["role"] == "train"])
        if test and train:
            rows.append({"group": group,
                         "test_earthquakes": sorted({event_of(n) for n in test}),
                         "test_slip_models": test, "train_slip_models": train})
    return rows


def audit_paper_split() -> dict[str, Any]:
    """The straddling groups and exposed test earthquakes under both groupings."""
    names_roles = paper_split_names()
    names = [name for name, _ in names_roles]
    roles = dict(names_roles)
    times = read_mainshock_times()
    by_grouping = {
        "name_prefix": {name: sequence_of(name) for name in names},
        "physical": physical_sequences(names, times, read_link_table()),
    }
    test_earthquakes = sorted({event_of(n) for n, role in names_roles if role == "test"})
    report: dict[str, Any] = {"unit": "slip model", "test_slip_models": sum(
        role == "test" for role in roles.values()), "test_earthquake_ids": len(test_earthquakes)}
    for grouping, groups in by_grouping.items():
        rows = straddling(groups, roles)
        exposed = sorted({e for row in rows for e in row["test_earthquakes"]})
        report[grouping] = {
            "sequences": len(set(groups.values())),
            "straddling": rows,
            "exposed_test_earthquakes": exposed,
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
