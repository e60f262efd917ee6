"""Littwin, Galanti & Wolf (UAI 2021) Fig. 4a: normalised variance V of the diagonal and off-diagonal
NTK entries vs branch depth m for ResNets with 4 and 10 blocks (alpha_l = 0.1/L), n = 500 (paper).

    python -m experiments.littwin_fig4a --budget quick|paper --out DIR [--depths 1,2,4] [--draws N]

``--depths`` are branch depths m. Writes DIR/littwin_fig4a.json, .csv, .png; prints total wall time.
"""

from __future__ import annotations

import time

from experiments.littwin_fig3a import BUDGETS, INPUT_DIM, parse, sweep, write
from models.resnet import LittwinResNet
from models.strategies_eta import paper_inputs

BRANCH_DEPTHS = {"quick": (1, 2, 4), "paper": tuple(range(1, 21))}


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv)
    if args.depths == BUDGETS[args.budget]["depths"]:
        args.depths = BRANCH_DEPTHS[args.budget]
    started = time.perf_counter()
    inputs = paper_inputs(args.seed, INPUT_DIM)
    jobs = ((f"resnet L={L}", m, LittwinResNet(INPUT_DIM, L, m, args.width, 0.1 / L))
            for m in args.depths for L in (4, 10))
    rows = sweep(jobs, args, inputs, "littwin_fig4a")
    meta = {"budget": args.budget, "width": args.width, "draws": args.draws, "seed": args.seed, "inputs": inputs}
    write(rows, args.out, "littwin_fig4a", "branch depth m", meta)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
