"""Littwin, Galanti & Wolf (UAI 2021) Sec. 6.2 in small: kernel regression with random gradient
features, g(x) = K_T(x, X) K_T(X, X)^-1 Y (Eq. 19), K_T the average of T empirical NTK Grams, on
scikit-learn's bundled digits (8x8, 10 classes, 1,797 images; no download), inputs normalised to
||x|| = 1, one-hot labels; test accuracy vs depth for vanilla, ResNet (alpha_l = 0.1/L, m = 2) and
DenseNet (alpha = 0.5) nets of one fixed width, averaged over ``runs`` random train/test splits and
max(1, 16 // T) independent K_T per split (networks are drawn in blocks of 16).

    python -m experiments.littwin_sec62 --budget quick|medium|paper --out DIR [--width N] [--draws T]
        [--depths 1,2,4] [--train N] [--test N] [--runs R] [--seed S] [--scheduler tcp://HOST:PORT | --jobs N]

quick (CI smoke): 60 + 60 digits, n = 16, T = 1, L = 1, 4, one split. medium: 300 + 300, n = 50, T = 1,
L = 1..32, 2 splits x 16 networks (minutes on 2 cores). paper-like: 1,000 + 797, n = 100, T = 1,
L = 1..32, 20 splits (the paper: MNIST, 2,000 training images, n = 50, 100, 500, T = 1, 20 runs).
Paper: at fixed width, deeper vanilla nets do worse, ResNets and DenseNets do not. The Gram over the
k = train + test inputs is formed without per-matrix k x k blocks (``gram_of_weights``; dense weights,
as k > n makes the low-rank sampler pointless). A ridge of 1e-8 trace/k keeps K_T(X, X) solvable.
Writes DIR/littwin_sec62.json, .csv (one row per architecture, depth, split and K_T) and .png (mean +- SD over all K_T).
Each (split, depth, architecture) is one Dask task (``experiments.cells``: a LocalCluster on every core by
default, ``--jobs 1`` in this process, or ``--scheduler``), seeded by (seed, split) for the data and (seed,
architecture, depth, split) for the networks as in the serial loop it replaces: the same numbers on any cluster.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from estimators.ntk import draw_in_chunks
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.littwin_fig3a import architectures
from experiments.outputs import pyplot, write_data
from models.base import ArchitectureSpec, Tape

BUDGETS = {
    "quick": {"train": 60, "test": 60, "width": 16, "draws": 1, "depths": (1, 4), "runs": 1},
    "medium": {"train": 300, "test": 300, "width": 50, "draws": 1, "depths": (1, 2, 4, 8, 16, 32), "runs": 2},
    "paper": {"train": 1000, "test": 797, "width": 100, "draws": 1, "depths": (1, 2, 4, 8, 16, 32), "runs": 20},
}


def gram_of_weights(spec: ArchitectureSpec, weights, x: torch.Tensor) -> tuple[torch.Tensor]:
    """K(x_i, x_j) = sum_W s_W^2 <h_W(x_i), h_W(x_j)> <delta_W(x_i), delta_W(x_j)>: (B, k, k) over the
    trained matrices, without ``estimators.ntk.ntk_of_weights``' (B, M, k, k) blocks. Matrices that share
    an input h (a DenseNet's q^h) or an output gradient delta (all W^{l,h} into y^l) share their k x k
    Gram, so a depth-L DenseNet costs O(L) Grams, not O(L^2)."""
    n_networks = next(iter(weights.values())).shape[0]
    tape, trained = Tape(), spec.trained()
    with torch.enable_grad():
        outputs = spec.apply(weights, x.expand(n_networks, *x.shape), tape)
        names = [name for name in tape.records if name in trained]
        grads = torch.autograd.grad(outputs.sum(), [tape.records[n].probe for n in names], allow_unused=True)
    input_grams: dict[int, torch.Tensor] = {}
    groups: list[tuple[torch.Tensor, torch.Tensor]] = []  # (delta, sum of s^2 <h, h> over its matrices)
    for name, delta in zip(names, grads, strict=True):
        if delta is None:
            continue
        record = tape.records[name]
        key = id(record.inputs)
        if key not in input_grams:
            input_grams[key] = record.inputs @ record.inputs.transpose(-1, -2)
        weighted = record.scale**2 * input_grams[key]
        for index, (other, total) in enumerate(groups):
            if other.shape == delta.shape and torch.equal(other, delta):
                groups[index] = (other, total + weighted)
                break
        else:
            groups.append((delta, weighted))
    gram = sum(total * (delta @ delta.transpose(-1, -2)) for delta, total in groups)
    return (torch.as_tensor(gram).detach(),)


def averaged_grams(spec: ArchitectureSpec, inputs: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """(R, k, k): R = max(1, 16 // T) independent K_T, each the NTK Gram over ``inputs`` averaged over
    T = ``draws`` dense-weight networks (float64; networks come in blocks of 16, so T = 1 gives 16 K_1)."""
    replicates = max(1, 16 // draws)
    (grams,) = draw_in_chunks(spec, torch.tensor(inputs), draws * replicates, seed, lambda s, d, x: gram_of_weights(
        s, d.weights(s), x), sampler="dense", device="cpu", dtype=torch.float64, chunk_bytes=64 * 2**20,
        owner="averaged_grams")
    return grams.reshape(replicates, draws, *grams.shape[1:]).mean(1).numpy()


def digits(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit-norm digit images (dim 64) and labels, a seeded random train/test split."""
    data = load_digits()
    if n_train + n_test > len(data.target):
        raise ValueError(f"--train + --test must be <= {len(data.target)} digits, got {n_train + n_test}")
    x = data.data / np.linalg.norm(data.data, axis=1, keepdims=True)
    order = np.random.default_rng(derive_seed(seed, "digits")).permutation(len(x))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return x[train], data.target[train], x[test], data.target[test]


def accuracy(gram: np.ndarray, y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Eq. 19 with the averaged Gram over train + test inputs (train first)."""
    k = len(y_train)
    train_gram, cross = gram[:k, :k], gram[k:, :k]
    ridge = 1e-8 * np.trace(train_gram) / k
    coefficients = np.linalg.solve(train_gram + ridge * np.eye(k), np.eye(10)[y_train])
    return float(((cross @ coefficients).argmax(axis=1) == y_test).mean())


@dataclasses.dataclass(frozen=True)
class SplitCell:
    """One Dask task: one architecture at one depth on one train/test split."""

    run: int
    depth: int
    label: str
    width: int
    draws: int
    train: int
    test: int
    seed: int


def split_cell(cell: SplitCell) -> list[dict]:
    """One row per independent K_T of the cell: Eq. 19's test accuracy."""
    x_train, y_train, x_test, y_test = digits(cell.train, cell.test, derive_seed(cell.seed, cell.run))
    spec = architectures(cell.width, cell.depth, input_dim=64)[cell.label]
    grams = averaged_grams(spec, np.concatenate([x_train, x_test]), cell.draws,
                           derive_seed(cell.seed, cell.label, cell.depth, cell.run))  # fmt: skip
    return [{"architecture": cell.label, "depth": cell.depth, "run": cell.run, "replicate": replicate,
             "accuracy": accuracy(gram, y_train, y_test), "width": cell.width, "T": cell.draws, "train": cell.train,
             "test": cell.test} for replicate, gram in enumerate(grams)]  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    for name in ("train", "test", "width", "draws", "runs"):
        parser.add_argument(f"--{name}", type=int, default=None)
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name, value in BUDGETS[args.budget].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.train, args.test, args.width, args.draws, args.runs, *args.depths) < 1:
        raise ValueError(f"--train, --test, --width, --draws, --runs and --depths must be >= 1: {vars(args)}")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv)
    started = time.perf_counter()
    digits(args.train, args.test, args.seed)  # a clear error before any task starts if the split does not fit
    jobs = [SplitCell(run, depth, label, args.width, args.draws, args.train, args.test, args.seed)
            for run in range(args.runs) for depth in args.depths
            for label in architectures(args.width, depth, input_dim=64)]  # fmt: skip
    done = map_cells(split_cell, jobs, args.scheduler, args.jobs, desc="littwin_sec62",
                     cost=lambda c: c.depth**2 if c.label == "densenet" else c.depth)  # a DenseNet: O(L^2) matrices
    rows = [row for cell_rows in done for row in cell_rows]
    summary = [{"architecture": a, "depth": d, "mean": float(np.mean(acc)), "sd": float(np.std(acc, ddof=1))
                if len(acc) > 1 else 0.0, "runs": len(acc)}
               for a in ("vanilla", "resnet", "densenet") for d in args.depths
               for acc in [[r["accuracy"] for r in rows if r["architecture"] == a and r["depth"] == d]]]
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    write_data(args.out, "littwin_sec62", {"settings": settings, "summary": summary, "rows": rows}, rows)
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label in ("vanilla", "resnet", "densenet"):
        mine = [r for r in summary if r["architecture"] == label]
        axis.errorbar([r["depth"] for r in mine], [r["mean"] for r in mine], [r["sd"] for r in mine], fmt="-o",
                      capsize=3, label=label)
    axis.set(xscale="log", xlabel="number of layers L", ylabel="test accuracy (digits)",
             title=f"n = {args.width}, T = {args.draws}, {args.train} train, "
                   f"{len(rows) // len(jobs)} x {args.runs} runs")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.out / "littwin_sec62.png", dpi=120)
    plt.close(figure)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
