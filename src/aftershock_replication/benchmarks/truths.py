"""The demo's planted effects on the generator's own scale, and the strengths that plant a
given size (a benchmark, not part of the pipeline).

The default demo's strengths follow a rule fixed before any verdict on the generator was
seen (params.yaml, ``demo``): each planted effect has the size of the smallest effect of
interest (``stats.smallest_effect``) on the generator's scale, i.e. the AUC it adds to the
best forecast (``DEMO_DATA.json``'s ``truth``): ``transferable_gain`` for
``demo.transferable`` and ``sequence_gain`` for ``demo.leakage``. This command measures
those gains over generator seeds that are not the default demo's, for a grid of strengths,
and solves for the strength whose mean gain is the target (the gain grows about as the
square of the strength, so the solution interpolates log-gain against log-strength
between the grid points that bracket it). Only labels are drawn, no layout written:

    python -m aftershock_replication.benchmarks.truths --generator-seeds 100 101 102 103 \\
        104 105 --strengths 0.25 0.5 1 --target 0.02 --out benchmarks/results/demo-truths.json
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..atomic import write_json
from ..data.demo import GENERATOR_VERSION
from ..data.demo_labels import planted_truth
from ..params import DemoParams
from ..progress import setup_logging, timed

log = logging.getLogger(__name__)

# which truth each strength parameter plants
KNOBS = {"transferable": "transferable_gain", "leakage": "sequence_gain"}


def gains(base: DemoParams, knob: str, strengths: list[float],
          generator_seeds: list[int]) -> dict[float, list[float]]:
    """The planted gain of ``knob`` (the other strength 0) per strength and generator seed."""
    other = next(k for k in KNOBS if k != knob)
    found: dict[float, list[float]] = {}
    for strength in strengths:
        values = []
        with timed(f"{knob} {strength}: truth of {len(generator_seeds)} demos"):
            for seed in generator_seeds:
                params = replace(base, seed=seed, **{knob: strength, other: 0.0})
                values.append(float(planted_truth(params)[KNOBS[knob]]))
        found[strength] = values
    return found


def strength_for(mean_gain: dict[float, float], target: float) -> float | None:
    """The strength whose mean gain is ``target``: log-log interpolation between the two
    grid strengths that bracket it; None when the grid does not bracket it."""
    points = sorted((s, g) for s, g in mean_gain.items() if s > 0 and g > 0)
    for (s0, g0), (s1, g1) in itertools.pairwise(points):
        if g0 <= target <= g1:
            slope = (math.log(g1) - math.log(g0)) / (math.log(s1) - math.log(s0))
            return float(math.exp(math.log(s0) + (math.log(target) - math.log(g0)) / slope))
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator-seeds", type=int, nargs="+", required=True)
    parser.add_argument("--strengths", type=float, nargs="+", required=True)
    parser.add_argument("--target", type=float, required=True,
                        help="the gain to plant (the shipped stats.smallest_effect)")
    parser.add_argument("--size", default="small")
    parser.add_argument("--sequence-share", type=float, default=1.0)
    parser.add_argument("--positive-rate", type=float, default=0.02)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    setup_logging(False)
    base = DemoParams(seed=0, size=int(args.size) if args.size.isdigit() else args.size,
                      leakage=0.0, sequence_share=args.sequence_share,
                      positive_rate=args.positive_rate, transferable=0.0)
    result: dict[str, object] = {
        "command": " ".join(["python -m aftershock_replication.benchmarks.truths",
                             *(argv if argv is not None else sys.argv[1:])]),
        "generator_version": GENERATOR_VERSION, "size": args.size,
        "sequence_share": args.sequence_share, "positive_rate": args.positive_rate,
        "generator_seeds": args.generator_seeds, "target": args.target, "knobs": {}}
    for knob, truth in KNOBS.items():
        found = gains(base, knob, args.strengths, args.generator_seeds)
        mean_gain = {s: float(np.mean(v)) for s, v in found.items()}
        solved = strength_for(mean_gain, args.target)
        result["knobs"][knob] = {  # type: ignore[index]
            "truth": truth,
            "per_strength": {str(s): {"mean": mean_gain[s], "sd": float(np.std(v, ddof=1)),
                                      "values": v} for s, v in found.items()},
            "strength_for_target": solved,
        }
        log.info("%s: mean %s %s; strength for %.3f: %s", knob, truth,
                 {s: round(g, 4) for s, g in mean_gain.items()}, args.target, solved)
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
