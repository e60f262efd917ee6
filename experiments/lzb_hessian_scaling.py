"""Liu, Zhu & Belkin (NeurIPS 2020) Secs. 3, 4, 6 in small: the Hessian spectral norm ||d^2 f/dw^2|| at
initialisation and the relative change of the tangent kernel under gradient descent,
||K_T - K_0||_F / ||K_0||_F, against width m, for a linear output, non-linear outputs (softplus, tanh) and a
bottleneck (one hidden layer of fixed width b).

    python -m experiments.lzb_hessian_scaling --budget quick|paper --out DIR [--widths 64,128,...]
        [--draws N] [--depth L] [--activation tanh] [--dataset synthetic|digits] [--steps T] [--seed S]
        [--scheduler tcp://HOST:PORT | --jobs N]

||H||: Lanczos on Hessian-vector products at one point of the data set (norm sqrt(d), so the first
pre-activations are N(0, 1); ``estimators.hessian``, float64, relative residual <= 1e-3). Kernel
change: T full-batch GD steps on the square loss over n = 16 points with eta = n / (2 lambda_max(K_0)),
targets s(+-1) (``estimators.training``). Each curve is the geometric mean
over ``draws`` networks per width; the OLS slope of log quantity on log m (all networks) with its
standard error is printed and stored. Writes DIR/lzb_hessian_scaling.json (settings, rows, slopes),
.csv and .png (two log-log panels with reference slopes -1/2 and -1); prints the total wall time.
Each (architecture, width, Hessian or training) is one Dask task (``experiments.cells``: a LocalCluster on
every core by default, ``--jobs 1`` in this process, or ``--scheduler``), widest first. ``sweep_widths`` and
``training_sweep`` seed every width on its own (``derive_seed(seed, width)``), so one width per task draws the
networks of the serial sweep: the same numbers on any cluster. Memory: each worker holds one width's
networks at a time (``--jobs`` fewer workers than cores if the widest do not fit side by side).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from engine.statistics import ols_slope
from estimators.hessian import sweep_widths
from estimators.sampling import derive_seed
from estimators.training import training_set, training_sweep
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.lzb import DATASETS, HIDDEN_ACTIVATIONS, LZBNet

BUDGETS = {
    "quick": {"widths": (64, 128, 256, 512, 1024), "draws": 4, "steps": 20},
    "paper": {"widths": (64, 128, 256, 512, 1024, 2048, 4096), "draws": 16, "steps": 50},
}
N_POINTS = 16
BOTTLENECK_WIDTH = 2
NAME = "lzb_hessian_scaling"


def cases(input_dim: int, depth: int, activation: str) -> dict[str, LZBNet]:
    """The four architectures (width is replaced by the sweep)."""
    return {
        "linear output": LZBNet(input_dim, depth, 64, activation),
        "softplus output": LZBNet(input_dim, depth, 64, activation, "softplus"),
        "tanh output": LZBNet(input_dim, depth, 64, activation, "tanh"),
        f"bottleneck b={BOTTLENECK_WIDTH}": LZBNet(input_dim, max(depth, 2), 64, activation, "identity",
                                                   BOTTLENECK_WIDTH, 1),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default="tanh")
    parser.add_argument("--dataset", choices=DATASETS, default="synthetic")
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("widths", "draws", "steps"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if args.draws < 2 or args.steps < 1 or args.depth < 1 or len(set(args.widths)) < 2 or min(args.widths) < 1:
        raise ValueError(
            f"need --draws >= 2, --steps >= 1, --depth >= 1 and two distinct widths >= 1: "
            f"{args.draws}, {args.steps}, {args.depth}, {args.widths}"
        )
    return args


@dataclasses.dataclass(frozen=True)
class WidthCell:
    """One Dask task: ``part`` ("hessian" or "training") of one architecture at one width."""

    label: str
    spec: LZBNet
    width: int
    part: str
    x: torch.Tensor
    dataset: str
    draws: int
    steps: int
    seed: int


def width_cell(cell: WidthCell) -> dict[str, np.ndarray]:
    """||H|| at w0 (part "hessian"), or the kernel change and L_T / L_0 after GD (part "training"), per network."""
    if cell.part == "hessian":
        seed = derive_seed(cell.seed, NAME, cell.label, "hessian")
        return {"hessian_norm": sweep_widths(cell.spec, cell.x, (cell.width,), cell.draws, seed).hessian_norm.numpy()}
    trained = training_sweep(cell.spec, cell.dataset, N_POINTS, (cell.width,), cell.steps, cell.draws,
                             derive_seed(cell.seed, NAME, cell.label, "training"))  # fmt: skip
    return {"kernel_change": trained.kernel_change.numpy(), "loss_ratio": trained.loss_ratio.numpy()}


def measure(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Per (case, width) rows of geometric means and per (case, quantity) OLS slopes."""
    input_dim = 64 if args.dataset == "digits" else 4
    x = training_set(args.dataset, N_POINTS, input_dim, derive_seed(args.seed, NAME, "hessian-input"))[0][:1]
    specs = cases(input_dim, args.depth, args.activation)
    cells = [WidthCell(label, spec, m, part, x, args.dataset, args.draws, args.steps, args.seed)
             for label, spec in specs.items() for part in ("hessian", "training") for m in args.widths]  # fmt: skip
    found: dict[tuple[str, str], list[dict[str, np.ndarray]]] = {}
    for cell, result in zip(cells, map_cells(width_cell, cells, args.scheduler, args.jobs, desc=NAME,
                                             cost=lambda c: c.width), strict=True):  # fmt: skip
        found.setdefault((cell.label, cell.part), []).append(result)
    rows, slopes = [], []
    for label in specs:
        width = np.concatenate([np.full(args.draws, float(m)) for m in args.widths])
        hessian, trained = found[(label, "hessian")], found[(label, "training")]
        columns = {"hessian_norm": np.concatenate([r["hessian_norm"] for r in hessian]),
                   "kernel_change": np.concatenate([r["kernel_change"] for r in trained]),
                   "loss_ratio": np.concatenate([r["loss_ratio"] for r in trained])}  # fmt: skip
        for quantity, value in columns.items():
            log_width, log_value = np.log(width), np.log(value)
            fit = ols_slope(log_width, log_value, quantity)
            slopes.append({"case": label, "quantity": quantity, "slope": float(fit.estimate[0]),
                           "se": float(fit.standard_error[0])})
            for m in args.widths:
                at = log_value[width == m]
                rows.append({"case": label, "quantity": quantity, "width": m,
                             "geometric_mean": float(np.exp(at.mean())), "log_sd": float(at.std(ddof=1)),
                             "draws": len(at)})
    return rows, slopes


def write(rows: list[dict], slopes: list[dict], out: Path, meta: dict) -> None:
    """DIR/NAME.json, DIR/NAME.csv and the two-panel log-log plot DIR/NAME.png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": meta, "rows": rows, "slopes": slopes}, rows)
    slope_of = {(s["case"], s["quantity"]): s for s in slopes}
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("hessian_norm", "||d^2 f / dw^2||_2 at init"), ("kernel_change", "||K_T - K_0||_F / ||K_0||_F"))
    for axis, (quantity, ylabel) in zip(axes, panels, strict=True):
        for label in dict.fromkeys(r["case"] for r in rows):
            mine = [r for r in rows if r["case"] == label and r["quantity"] == quantity]
            fit = slope_of[(label, quantity)]
            axis.plot([r["width"] for r in mine], [r["geometric_mean"] for r in mine], "-o", ms=4,
                      label=f"{label}: slope {fit['slope']:+.2f} ± {fit['se']:.2f}")
        widths = np.array(sorted({r["width"] for r in rows}), float)
        anchor = min(r["geometric_mean"] for r in rows if r["quantity"] == quantity and r["width"] == widths[0])
        for power, style in ((-0.5, ":"), (-1.0, "--")):
            axis.plot(widths, anchor * (widths / widths[0]) ** power, "k" + style, lw=0.8, label=f"m^{power:g}")
        axis.set(xscale="log", yscale="log", xlabel="width m", ylabel=ylabel)
        axis.legend(fontsize=7)
    axes[0].set_title("Hessian spectral norm (Lanczos)", fontsize=9)
    axes[1].set_title(f"kernel change after {meta['steps']} GD steps ({meta['dataset']})", fontsize=9)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    args = parse(argv)
    started = time.perf_counter()
    rows, slopes = measure(args)
    meta = {"budget": args.budget, "widths": list(args.widths), "draws": args.draws, "steps": args.steps,
            "depth": args.depth, "activation": args.activation, "dataset": args.dataset, "seed": args.seed,
            "n_points": N_POINTS, "bottleneck_width": BOTTLENECK_WIDTH, "lr": "n / (2 lambda_max(K_0))"}
    write(rows, slopes, args.out, meta)
    for s in slopes:
        print(f"{s['case']:>18s}  {s['quantity']:>13s}  slope {s['slope']:+.3f} ± {s['se']:.3f}")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows, slopes


if __name__ == "__main__":
    main()
