"""How much the network's test AUC depends on its initialisation (a benchmark, run once).

The pipeline fits one seeded network per partition (``methods.neural_network.restarts: 1``,
as the original), so the spread over partitions also holds the spread over initialisations.
This measures the latter alone: on fixed partitions of an existing features table, the
network is fitted from ``--initialisations`` seeds (the restarts' seeds), and the test AUC's
mean, standard deviation and range are reported per partition (unit: initialisation), with
the AUC that ``restarts: N`` would give (the initialisation of best validation loss).

    python -m aftershock_replication.benchmarks.initialisation \\
        --features data/features.parquet --splits data/splits.json \\
        --out benchmarks/results/initialisation.json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import read_json, write_json
from ..auc import pooled_auc
from ..cells import Cells, load_cells
from ..evaluate import partition_seed
from ..methods import create
from ..methods.neural_network import restart_seed
from ..methods.params import method_settings
from ..params import load_params
from ..progress import format_seconds, setup_logging

log = logging.getLogger(__name__)

PARTITIONS = (("paper", "paper"), ("grouped", "0"), ("grouped", "1"))


def initialisation_spread(
    cells: Cells, test_models: list[str], partition: str, initialisations: int,
    settings: Any,
) -> dict[str, Any]:
    """Test AUC of the network from each initialisation seed of one partition."""
    test = cells.slip_model.rows(test_models)
    train = cells.slip_model.rows(test_models, include=False)
    seed = partition_seed(partition)
    aucs, losses = [], []
    for restart in range(initialisations):
        network = create("neural_network", replace(settings, restarts=1))
        network.fit(cells, train, restart_seed(seed, restart))
        aucs.append(pooled_auc(cells.labels[test],
                               network.score(cells, test).astype(np.float32)))
        losses.append(network.restart_losses[0])
    values = np.array(aucs)
    return {"test_auc": [round(float(v), 5) for v in values],
            "validation_loss": [round(float(v), 5) for v in losses],
            "mean": float(values.mean()), "sd": float(values.std(ddof=1)),
            "range": [float(values.min()), float(values.max())],
            "best_validation_pick": float(values[int(np.argmin(losses))]),
            "unit": "initialisation (network seed), partition fixed"}


def main(argv: list[str] | None = None) -> None:
    """Command line: the spread per partition, printed and optionally written."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=Path, default=Path("data/features.parquet"))
    parser.add_argument("--splits", type=Path, default=Path("data/splits.json"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--initialisations", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.initialisations < 2:
        parser.error("--initialisations: at least 2 (a spread needs two fits)")
    setup_logging()
    settings = method_settings(load_params(args.params), "neural_network")
    schemes = read_json(args.splits, "the split stage")["schemes"]
    cells = load_cells(args.features)
    start = time.perf_counter()
    spread = {}
    for scheme, partition in PARTITIONS:
        if partition not in schemes.get(scheme, {}):
            continue
        spread[f"{scheme}/{partition}"] = initialisation_spread(
            cells, schemes[scheme][partition], partition, args.initialisations, settings)
        row = spread[f"{scheme}/{partition}"]
        print(f"{scheme}/{partition}: test AUC {row['mean']:.4f} ± {row['sd']:.4f} (sd over "
              f"{args.initialisations} initialisations), range {row['range'][0]:.4f} to "
              f"{row['range'][1]:.4f}; best-validation pick {row['best_validation_pick']:.4f}")
    elapsed = time.perf_counter() - start
    print(f"wall time {format_seconds(elapsed)}")
    if args.out is not None:
        write_json(args.out, {
            "command": "python -m aftershock_replication.benchmarks.initialisation "
                       + " ".join(argv if argv is not None else sys.argv[1:]),
            "features": str(args.features), "initialisations": args.initialisations,
            "settings": settings.as_dict(), "wall_seconds": round(elapsed, 1),
            "partitions": spread})


if __name__ == "__main__":
    main()
