"""Huang et al. (NeurIPS 2020), Review 4 ("Theorem 2 implies that a sufficiently wide FFNet trained by gradient
flow is similar to the kernel regression predictor via its NTK. Why? Doesn't the kernel change from the
initialization during the gradient flow?"): the RMS test gap between gradient-descent-trained FFNets and
ResNets and linearised GD with the analytic NTK, against width. The claim
``theorems/huang_review_trained_follows_kernel.py`` decides the slope on 32..256; this script runs wider.

    python -m experiments.huang_review_trained_vs_kernel [--budget quick|paper] --out DIR [--widths 32,64,...]
        [--networks N] [--steps T] [--depth L] [--input-dim d] [--gammas 0.5,1] [--seed S]
        [--scheduler tcp://HOST:PORT | --jobs N]

Setting (Huang's: A and v fixed, W_l (and V_l) trained, ReLU; ResNets alpha = L^-gamma): n = 16 training and
48 test points, synthetic unit inputs in R^d, labels sign x_1 (``models.strategies_review.TrainingCase``,
data from ``--seed``). Per network (``gaps_at_width`` of the claim module, float64): T full-batch GD steps
on the square loss with eta = n / (2 max(lambda_max(K_0), lambda_max(Theta))), and the linearised predictor
with the analytic Theta from the network's own f_0 at the same step,
    f_T^lin(x) = f_0(x) - Theta(x, X) Theta^+ (I - (I - eta Theta / n)^T) (f_0(X) - y)   (Lee et al. 2019),
and the gap = RMS over the test points of f_T^net - f_T^lin. Per width: the geometric mean of the gaps
over ``networks`` networks with a 95% t interval (on log gap). Per family: the OLS slope of log gap on
log width (rows = networks) with a 95% t interval, over all widths and over the widest three (the local
rate: Lee et al.'s O(m^-1/2) is asymptotic).
Each (family, width) is one Dask task (``experiments.cells``: a LocalCluster on every core by default,
``--jobs 1`` in this process, or ``--scheduler``), widest first; ``gaps_at_width`` seeds every width on its
own, so one width per task trains the networks of the serial sweep: the same numbers on any cluster.
Budgets: quick = widths 16, 32, 64, 3 networks, 20 steps (seconds); paper = widths 32..1024, 16 networks,
100 steps (minutes). Writes DIR/huang_review_trained_vs_kernel.json (settings, rows, slopes), .csv (rows)
and .png (log-log gap vs width with the fitted lines and a width^-1/2 reference); prints the tables and
the wall time.
Measured (paper budget, seed 0, d = 4, depth 2; 277 s on a 2-core CPU, LocalCluster of 2 workers; with
the step capped by Theta's, 2026-12-07): RMS gap at m = 32 -> 1024: FFNet 0.181 -> 0.048, ResNet
gamma = 1/2 0.141 -> 0.030, ResNet gamma = 1 0.126 -> 0.026 (the labels are +-1). OLS slopes, all widths:
FFNet -0.402 [-0.440, -0.365], ResNet gamma = 1/2 -0.434 [-0.482, -0.387], ResNet gamma = 1 -0.454
[-0.498, -0.410]; widest three (256..1024): -0.41 [-0.52, -0.31], -0.55 [-0.68, -0.42], -0.46 [-0.60,
-0.31]. (Before the cap, which changes only nets with lambda_max(K_0) < lambda_max(Theta): -0.401, -0.432,
-0.453.) Trained nets do follow GD with the analytic NTK, the gap
vanishing at about width^-0.4..-0.45 over this range (every interval excludes 0 and the claim's bound -0.2;
the ResNets' widest-three intervals contain Lee et al.'s -1/2, the FFNet's all-width interval excludes it):
the kernel does change during training, by an amount that vanishes with width.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from engine.budget import MonteCarlo
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.lzb_review_softmax_attention import power_law_fit, width_rows
from experiments.outputs import pyplot, write_data
from models.resnet import HuangFFNet, HuangResNet
from models.strategies_review import TrainingCase
from theorems.huang_review_trained_follows_kernel import gaps_at_width

NAME = "huang_review_trained_vs_kernel"
BUDGETS = {
    "quick": {"widths": (16, 32, 64), "networks": 3, "steps": 20},
    "paper": {"widths": (32, 64, 128, 256, 512, 1024), "networks": 16, "steps": 100},
}
N_TRAIN, N_TEST = 16, 48


def families(input_dim: int, depth: int, width: int, gammas: tuple[float, ...]) -> dict[str, HuangFFNet | HuangResNet]:
    """The FFNet and one ResNet per gamma (width replaced by the sweep)."""
    nets: dict[str, HuangFFNet | HuangResNet] = {f"FFNet L={depth}": HuangFFNet(input_dim, depth, width)}
    for gamma in gammas:
        nets[f"ResNet L={depth} gamma={gamma:g}"] = HuangResNet(input_dim, depth, width, gamma)
    return nets


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=None)
    parser.add_argument("--networks", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--input-dim", type=int, default=4)
    parser.add_argument("--gammas", type=lambda s: tuple(float(g) for g in s.split(",")), default=(0.5, 1.0))
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("widths", "networks", "steps"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if len(set(args.widths)) < 2 or min(args.widths) < 1 or list(args.widths) != sorted(args.widths):
        raise ValueError(f"--widths must be two or more increasing widths >= 1, got {args.widths}")
    if args.networks < 2 or args.steps < 2 or args.depth < 1 or args.input_dim < 1:
        raise ValueError(f"need --networks >= 2, --steps >= 2, --depth >= 1 and --input-dim >= 1: "
                         f"{args.networks}, {args.steps}, {args.depth}, {args.input_dim}")  # fmt: skip
    if not all(0.0 <= g <= 2.0 for g in args.gammas):
        raise ValueError(f"--gammas must lie in [0, 2] (alpha = L^-gamma), got {args.gammas}")
    return args


@dataclasses.dataclass(frozen=True)
class WidthCell:
    """One Dask task: the networks of one family at one width."""

    label: str
    case: TrainingCase
    width: int
    networks: int
    seed: int


def width_cell(cell: WidthCell) -> np.ndarray:
    """(networks,) RMS test gaps at the cell's width (the claim's ``gaps_at_width``, seeded per width)."""
    return gaps_at_width(cell.case, cell.width, MonteCarlo(cell.networks, derive_seed(cell.seed, NAME, cell.label)))


def measure(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Per (family, width) rows and per family the slopes over all widths and over the widest three."""
    data_seed = derive_seed(args.seed, NAME, "data")
    nets = families(args.input_dim, args.depth, args.widths[0], args.gammas)
    cells = [WidthCell(label, TrainingCase(spec, args.widths, N_TRAIN, N_TEST, args.steps, data_seed), m,
                       args.networks, args.seed)
             for label, spec in nets.items() for m in args.widths]  # fmt: skip
    done = iter(map_cells(width_cell, cells, args.scheduler, args.jobs, desc=NAME, cost=lambda c: c.width))
    rows, slopes = [], []
    for label in nets:
        width = np.concatenate([np.full(args.networks, float(m)) for m in args.widths])
        gap = np.concatenate([next(done) for _ in args.widths])
        rows += width_rows(label, "rms_gap", width, gap)
        slopes.append(power_law_fit(label, "rms_gap", width, gap))
        if len(args.widths) > 3:
            wide = width >= args.widths[-3]
            slopes.append(power_law_fit(label, "rms_gap", width[wide], gap[wide], "widest 3"))
    return rows, slopes


def write(rows: list[dict], slopes: list[dict], out: Path, settings: dict) -> None:
    """DIR/NAME.json, .csv and the log-log plot DIR/NAME.png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "rows": rows, "slopes": slopes}, rows)
    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    widths = np.array(sorted({r["width"] for r in rows}), float)
    for label in dict.fromkeys(r["case"] for r in rows):
        mine = [r for r in rows if r["case"] == label]
        fit = next(s for s in slopes if s["case"] == label and s["widths"] == "all")
        mean = np.array([r["geometric_mean"] for r in mine])
        error = [mean - [r["ci_low"] for r in mine], [r["ci_high"] for r in mine] - mean]
        interval = f"[{fit['ci_low']:+.2f}, {fit['ci_high']:+.2f}]"
        line = axis.errorbar([r["width"] for r in mine], mean, yerr=error, fmt="o", ms=4, capsize=2,
                             label=f"{label}: slope {fit['slope']:+.2f} {interval}")  # fmt: skip
        axis.plot(widths, np.exp(fit["intercept"]) * widths ** fit["slope"], "-", lw=1, color=line[0].get_color())
    anchor = max(r["geometric_mean"] for r in rows if r["width"] == widths[0])
    axis.plot(widths, anchor * (widths / widths[0]) ** -0.5, "k:", lw=0.8, label="width^-1/2")
    axis.set(xscale="log", yscale="log", xlabel="width m", ylabel="RMS test gap, trained net vs linearised NTK GD")
    axis.set_title(f"{settings['steps']} GD steps, {settings['networks']} networks per width, 95% intervals",
                   fontsize=9)  # fmt: skip
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    args = parse(argv)
    started = time.perf_counter()
    rows, slopes = measure(args)
    settings = {"budget": args.budget, "widths": list(args.widths), "networks": args.networks, "steps": args.steps,
                "depth": args.depth, "input_dim": args.input_dim, "gammas": list(args.gammas), "seed": args.seed,
                "n_train": N_TRAIN, "n_test": N_TEST, "lr": "n / (2 lambda_max(K_0))", "interval": "95% t"}  # fmt: skip
    write(rows, slopes, args.out, settings)
    for r in rows:
        print(f"{r['case']:>24s}  m={r['width']:>5d}  RMS gap {r['geometric_mean']:.4f} "
              f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]  ({r['draws']} networks)")  # fmt: skip
    for s in slopes:
        interval = f"[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]"
        print(f"{s['case']:>24s}  slope ({s['widths']:>8s}) {s['slope']:+.3f} {interval}")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows, slopes


if __name__ == "__main__":
    main()
