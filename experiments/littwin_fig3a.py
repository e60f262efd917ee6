"""Littwin, Galanti & Wolf (UAI 2021) Fig. 3a: normalised variance V = Var(K)/E[K]^2 (Eq. 3) of the
diagonal K(x, x) and off-diagonal K(x, x') NTK entries vs number of layers, for a vanilla net, a
ResNet (alpha_l = 0.1/L, branch depth 2) and a DenseNet (alpha = 0.5); x, x' normalised N(+-0.5, 1)
vectors of dim n0 = n (Eq. 9 takes W^0 n x n; the paper does not state the input dimension).

    python -m experiments.littwin_fig3a --budget quick|medium|paper --out DIR [--depths 1,5,10]
        [--draws N] [--width N] [--seed S] [--device auto|cpu|cuda] [--scheduler tcp://HOST:PORT | --jobs N]

quick (CI smoke): n = 32, depths 1, 2, 4, 8, 500 draws. medium: n = 100, depths 1..20, 2,000 draws.
paper: n = 500, depths 1..50, 5,000 draws per point (dominated by the DenseNet at depth 50: 1,275
matrices). Writes DIR/littwin_fig3a.json, .csv and .png (log-scale V, with 2-SE bars); prints the
total wall time. Paper, Sec. 6.1: V grows exponentially with depth for vanilla nets and stays
relatively constant for ResNets and DenseNets; diagonal and off-diagonal V are highly correlated.
Each (architecture, depth) is one Dask task (``experiments.cells``: a LocalCluster on every core by default,
``--jobs 1`` in this process, or ``--scheduler``), its draws seeded by (seed, architecture, depth) as in the
serial loop it replaces: the same numbers on any cluster. Each depth is its own ``sample_ntk`` call (no forward
pass is shared across depths), so splitting by depth changes nothing in the method.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from engine.moments import normalised_variance
from estimators.ntk import sample_ntk
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.strategies_eta import paper_inputs
from models.vanilla import VanillaNet

BUDGETS = {"quick": {"width": 32, "depths": (1, 2, 4, 8), "draws": 500},
           "medium": {"width": 100, "depths": (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20), "draws": 2000},
           "paper": {"width": 500, "depths": tuple(range(1, 51)), "draws": 5000}}


def architectures(width: int, depth: int, input_dim: int | None = None) -> dict[str, object]:
    """The three Fig. 3a nets at one depth (the paper's defaults); input dim n0 = width unless given."""
    n0 = width if input_dim is None else input_dim
    return {"vanilla": VanillaNet(n0, depth, width),
            "resnet": LittwinResNet(n0, depth, 2, width, 0.1 / depth),
            "densenet": DenseNet(n0, depth, width, 0.5)}


def parse(argv: list[str] | None = None, depths: dict[str, tuple[int, ...]] | None = None) -> argparse.Namespace:
    """Command line of the Fig. 3a/4a scripts; ``depths`` overrides the budgets' default design values."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    defaults = dict(BUDGETS[args.budget]) | ({"depths": depths[args.budget]} if depths else {})
    for name in ("depths", "draws", "width"):
        if getattr(args, name) is None:
            setattr(args, name, defaults[name])
    if args.draws < 3 or args.width < 1 or min(args.depths) < 1:
        raise ValueError(f"--draws >= 3, --width >= 1, --depths >= 1 needed: {args.draws}, {args.width}, {args.depths}")
    return args


@dataclasses.dataclass(frozen=True)
class SweepCell:
    """One Dask task: the draws of one architecture at one design value (a depth, a branch depth)."""

    name: str
    label: str
    value: int
    spec: ArchitectureSpec
    inputs: tuple
    draws: int
    seed: int
    device: str


def sweep_cell(cell: SweepCell) -> dict:
    """V of K(x,x) and K(x,x') with delta-method SEs, and the means E K, for one (architecture, value)."""
    seed = derive_seed(cell.seed, cell.name, cell.label, cell.value)
    gram = sample_ntk(cell.spec, cell.inputs, cell.draws, seed, device=cell.device).gram
    entries = np.stack([gram[:, 0, 0].numpy(), gram[:, 0, 1].numpy()], axis=1)
    v = normalised_variance(entries, ("diag", "off"))
    return {"architecture": cell.label, "x": cell.value, "V_diag": v.estimate[0], "se_diag": v.standard_error[0],
            "V_off": v.estimate[1], "se_off": v.standard_error[1], "mean_K_diag": entries[:, 0].mean(),
            "mean_K_off": entries[:, 1].mean(), "draws": cell.draws}  # fmt: skip


def sweep(rows_for, args: argparse.Namespace, inputs, name: str) -> list[dict]:
    """``sweep_cell`` for every (architecture, design value, spec) of ``rows_for``, one Dask task each (the most
    weight matrices first). V(K(x,x')) = Var / E[K]^2 is large wherever E K(x, x') is near 0."""
    cells = [SweepCell(name, label, value, spec, inputs, args.draws, args.seed, args.device)
             for label, value, spec in rows_for]  # fmt: skip
    return map_cells(sweep_cell, cells, args.scheduler, args.jobs, desc=name,
                     cost=lambda cell: len(cell.spec.weight_shapes()))  # fmt: skip


def write(rows: list[dict], out: Path, name: str, xlabel: str, meta: dict) -> None:
    """DIR/name.json (rows + settings), DIR/name.csv and a log-scale plot DIR/name.png."""
    plt = pyplot()
    rows = [{k: (float(v) if isinstance(v, np.floating) else v) for k, v in r.items()} for r in rows]
    write_data(out, name, {"settings": meta, "rows": rows}, rows)
    figure, axis = plt.subplots(figsize=(6, 4))
    for index, label in enumerate(dict.fromkeys(r["architecture"] for r in rows)):
        mine = [r for r in rows if r["architecture"] == label]
        xs, colour = [r["x"] for r in mine], f"C{index}"
        axis.errorbar(xs, [r["V_diag"] for r in mine], [2 * r["se_diag"] for r in mine], fmt="-o", ms=3,
                      color=colour, label=f"{label} diagonal")
        axis.errorbar(xs, [r["V_off"] for r in mine], [2 * r["se_off"] for r in mine], fmt="--s", ms=3,
                      color=colour, alpha=0.6, label=f"{label} off-diagonal")
    axis.set(yscale="log", xlabel=xlabel, ylabel="V(K) = Var K / (E K)^2")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / f"{name}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv)
    started = time.perf_counter()
    inputs = paper_inputs(args.seed, args.width)
    jobs = ((label, depth, spec) for depth in args.depths for label, spec in architectures(args.width, depth).items())
    rows = sweep(jobs, args, inputs, "littwin_fig3a")
    meta = {"budget": args.budget, "width": args.width, "draws": args.draws, "seed": args.seed,
            "cos(x, x')": float(np.dot(*inputs)), "inputs": inputs}
    write(rows, args.out, "littwin_fig3a", "number of layers L", meta)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
