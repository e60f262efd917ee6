"""Littwin, Galanti & Wolf (UAI 2021) Fig. 4a: normalised variance V of the diagonal and off-diagonal
NTK entries vs branch depth m for ResNets with 4 and 10 blocks (alpha_l = 0.1/L), n = 500 (paper).

    python -m experiments.littwin_fig4a --budget quick|medium|paper --out DIR [--depths 1,2,4] [--draws N]
        [--width N] [--seed S] [--device auto|cpu|cuda] [--scheduler tcp://HOST:PORT | --jobs N]

``--depths`` are branch depths m. quick: n = 32, m = 1, 2, 4, 500 draws; medium: n = 100, m = 1..10,
2,000 draws; paper: n = 500, m = 1..20, 5,000 draws. Inputs as in Fig. 3a (dim n0 = n). Writes
DIR/littwin_fig4a.json, .csv, .png; prints the total wall time. Paper, Sec. 6.1: "the diagonal and
off-diagonal elements of the NTK scale exponentially with the depth of each block, as predicted in Thm. 3".
Each (L, m) is one Dask task (``littwin_fig3a.sweep``: LocalCluster on every core by default, ``--jobs``,
``--scheduler``), seeded by (seed, L, m) as before: the same numbers on any cluster.
"""

from __future__ import annotations

import time

import numpy as np

from experiments.littwin_fig3a import parse, sweep, write
from models.resnet import LittwinResNet
from models.strategies_eta import paper_inputs

BRANCH_DEPTHS = {"quick": (1, 2, 4), "medium": tuple(range(1, 11)), "paper": tuple(range(1, 21))}
BLOCKS = (4, 10)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv, depths=BRANCH_DEPTHS)
    started = time.perf_counter()
    inputs = paper_inputs(args.seed, args.width)
    jobs = ((f"resnet L={L}", m, LittwinResNet(args.width, L, m, args.width, 0.1 / L))
            for m in args.depths for L in BLOCKS)
    rows = sweep(jobs, args, inputs, "littwin_fig4a")
    meta = {"budget": args.budget, "width": args.width, "draws": args.draws, "seed": args.seed,
            "cos(x, x')": float(np.dot(*inputs)), "inputs": inputs}
    write(rows, args.out, "littwin_fig4a", "branch depth m", meta)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
