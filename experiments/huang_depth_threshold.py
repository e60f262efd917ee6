"""Huang et al. (NeurIPS 2020), Review 3: "*exactly at what point* deeper feedforward kernels degrade, and
compare this to when deeper feedforward neural networks degrade". On the bundled digits task (odd vs even),
test accuracy vs depth of kernel regression with the analytic NTK of Huang's FFNet and of GD-trained
finite FFNets of the same architecture, and the depth at which each falls a stated drop below its best.

    python -m experiments.huang_depth_threshold [--budget quick|paper] --out DIR [--depths 1,2,4,...]
        [--pool N] [--train N] [--splits R] [--width M] [--steps T] [--networks B] [--drop D] [--seed S]
        [--scheduler tcp://HOST:PORT | --jobs N]

Data: ``estimators.training.training_set("digits")`` (a seeded pool of the 1,797 images, pixels centred by
the dataset mean, label +1 for an even digit), rows scaled to unit norm; ``--splits`` seeded splits of
``--train`` training images, the rest of the pool for testing (``estimators.kernel_regression.split_indices``).
Kernel (``kernel_accuracies``): ridgeless (1e-8 x mean diagonal) regression with the infinite-width NTK (A, v
fixed, W_l trained), class = sign f. Networks (``network_accuracy``): Huang's FFNet at width ``--width``,
``--networks`` per split and depth, ``--steps`` steps of full-batch GD on the square loss at
eta = n / (2 lambda_max(K_0)), class = sign f (a network whose GD diverges scores the training set's majority
class, and is counted: deep finite nets outgrow the step chosen from their initial kernel); each (split, depth)
cell is one Dask task (``experiments.cells``:
a LocalCluster on every core by default, or ``--scheduler``), seeded by (seed, split, depth).
Threshold (``threshold_depth``): on the split-mean curve, the log2 depth where accuracy first falls ``--drop``
below its best, interpolated in log2 depth; "beyond" when the curve never falls that far on the grid (read
as one octave past the deepest depth in the bootstrap). Intervals: percentile bootstrap over splits (both
curves of a split resampled together, 2,000 resamples, ``scipy.stats.bootstrap``), 95%.
Writes DIR/huang_depth_threshold.json (settings, rows, thresholds), .csv (rows) and .png (accuracy vs depth
with the thresholds); prints the table and the wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import bootstrap

from estimators.kernel_regression import kernel_accuracies, network_accuracy, split_indices, threshold_depth
from estimators.sampling import derive_seed
from estimators.training import training_set
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.resnet import HuangFFNet

NAME = "huang_depth_threshold"
BUDGETS = {
    "quick": {"pool": 120, "train": 40, "splits": 3, "depths": (1, 2, 4), "width": 64, "steps": 10,
              "networks": 1},
    "paper": {"pool": 1000, "train": 200, "splits": 10, "depths": (1, 2, 4, 8, 16, 32, 64), "width": 256,
              "steps": 100, "networks": 2},
}  # fmt: skip
BEYOND_GRID = 1.0  # octaves past the deepest depth that stand for "never fell that far"


@dataclasses.dataclass(frozen=True)
class NetworkCell:
    """One Dask task: the networks of one split at one depth."""

    split: int
    depth: int
    width: int
    steps: int
    networks: int
    seed: int
    x: np.ndarray
    labels: np.ndarray
    train: np.ndarray


def network_cell(cell: NetworkCell) -> tuple[float, int]:
    spec = HuangFFNet(cell.x.shape[1], cell.depth, cell.width)
    seed = derive_seed(cell.seed, NAME, cell.split, cell.depth)
    return network_accuracy(spec, cell.x, cell.labels, cell.train, cell.steps, cell.networks, seed)


def thresholds(depths: tuple[int, ...], kernel: np.ndarray, networks: np.ndarray, drop: float) -> dict[str, Any]:
    """log2 thresholds of the split-mean curves and their difference, with 95% bootstrap intervals over splits."""
    ceiling = float(np.log2(max(depths))) + BEYOND_GRID

    def pair(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
        return (min(threshold_depth(depths, k.mean(axis=0), drop), ceiling),
                min(threshold_depth(depths, n.mean(axis=0), drop), ceiling))  # fmt: skip

    point = pair(kernel, networks)
    index = np.arange(len(kernel))
    stats = {
        "kernel": lambda i: pair(kernel[i.astype(int)], networks[i.astype(int)])[0],
        "networks": lambda i: pair(kernel[i.astype(int)], networks[i.astype(int)])[1],
        "difference": lambda i: float(np.subtract(*pair(kernel[i.astype(int)], networks[i.astype(int)]))),
    }
    values = {"kernel": point[0], "networks": point[1], "difference": point[0] - point[1]}
    out: dict[str, Any] = {"ceiling": ceiling}
    for key, statistic in stats.items():
        if len(index) >= 3:
            result = bootstrap((index,), statistic, n_resamples=2000, method="percentile", vectorized=False,
                               random_state=np.random.default_rng(0))  # fmt: skip
            low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        else:
            low = high = float("nan")
        out[key] = {"log2": values[key], "ci": [low, high], "beyond_grid": key != "difference"
                    and values[key] >= ceiling}  # fmt: skip
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    for name in ("pool", "train", "splits", "width", "steps", "networks"):
        parser.add_argument(f"--{name}", type=int, default=None)
    parser.add_argument("--drop", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name, value in BUDGETS[args.budget].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if len(args.depths) < 2 or min(args.depths) < 1 or list(args.depths) != sorted(set(args.depths)):
        parser.error(f"--depths must be two or more increasing integers >= 1, got {args.depths}")
    if not 0 < args.drop < 1:
        parser.error(f"--drop must be in (0, 1), got {args.drop}")
    for name in ("splits", "width", "steps", "networks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if not 2 <= args.train < args.pool <= 1797:
        parser.error(f"need 2 <= --train < --pool <= 1797, got {args.train}, {args.pool}")
    return args


def write(rows: list[dict], found: dict[str, Any], out: Path, settings: dict) -> None:
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "rows": rows, "thresholds": found}, rows)
    figure, axis = plt.subplots(figsize=(6, 4))
    depths = [r["depth"] for r in rows]
    for key, label, colour in (("kernel", "analytic NTK regression", "C0"),
                               ("networks", f"GD-trained, width {settings['width']}", "C3")):  # fmt: skip
        mean = np.array([r[f"{key}_accuracy"] for r in rows])
        axis.errorbar(depths, mean, yerr=[r[f"{key}_sd"] for r in rows], fmt="-o", ms=3, capsize=2, color=colour,
                      label=label)  # fmt: skip
        axis.axhline(mean.max() - settings["drop"], color=colour, ls=":", lw=0.8)
        t = found[key]
        if not t["beyond_grid"]:
            axis.axvline(2 ** t["log2"], color=colour, ls="--", lw=1)
            if np.isfinite(t["ci"]).all():
                axis.axvspan(2 ** t["ci"][0], 2 ** t["ci"][1], color=colour, alpha=0.12)
    axis.set(xscale="log", xlabel="depth L", ylabel="test accuracy",
             title=f"digits odd vs even: threshold = {settings['drop']:g} below the best")  # fmt: skip
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> tuple[list[dict], dict[str, Any]]:
    args = parse(argv)
    started = time.perf_counter()
    x, labels = training_set("digits", args.pool, 64, args.seed)
    x, labels = (x / x.norm(dim=1, keepdim=True)).numpy(), labels.numpy()
    splits = split_indices(args.pool, args.train, args.splits, args.seed)
    kernel = kernel_accuracies(HuangFFNet(64, 1, args.width), x, labels, splits, args.depths)
    cells = [NetworkCell(r, depth, args.width, args.steps, args.networks, args.seed, x, labels, train)
             for r, train in enumerate(splits) for depth in args.depths]  # fmt: skip
    results = np.array(map_cells(network_cell, cells, args.scheduler, args.jobs, desc=NAME), dtype=float)
    networks = results[:, 0].reshape(kernel.shape)
    diverged = results[:, 1].astype(int).reshape(kernel.shape)
    found = thresholds(args.depths, kernel, networks, args.drop)
    rows = [{"depth": depth, "kernel_accuracy": float(kernel[:, j].mean()), "kernel_sd": float(kernel[:, j].std()),
             "networks_accuracy": float(networks[:, j].mean()), "networks_sd": float(networks[:, j].std()),
             "networks_diverged": int(diverged[:, j].sum())}
            for j, depth in enumerate(args.depths)]  # fmt: skip
    settings = {"budget": args.budget, "pool": args.pool, "train": args.train, "test": args.pool - args.train,
                "splits": args.splits, "depths": list(args.depths), "width": args.width, "steps": args.steps,
                "networks": args.networks, "drop": args.drop, "seed": args.seed,
                "interval": "95% percentile bootstrap over splits", "kernel_per_split": kernel.tolist(),
                "networks_per_split": networks.tolist()}  # fmt: skip
    write(rows, found, args.out, settings)
    for r in rows:
        print(f"L={r['depth']:>4}: kernel {r['kernel_accuracy']:.3f} +- {r['kernel_sd']:.3f}   networks "
              f"{r['networks_accuracy']:.3f} +- {r['networks_sd']:.3f} ({r['networks_diverged']} diverged)")
    for key in ("kernel", "networks", "difference"):
        t = found[key]
        where = "beyond the grid" if t["beyond_grid"] else f"log2 {t['log2']:.2f} (L = {2 ** t['log2']:.1f})"
        print(f"threshold {key:>10}: {where}, 95% CI [{t['ci'][0]:.2f}, {t['ci'][1]:.2f}]")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows, found


if __name__ == "__main__":
    main()
