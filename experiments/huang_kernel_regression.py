"""Huang et al. (NeurIPS 2020), the kernel-regression experiment in small: test accuracy vs depth of
kernel regression with the *analytic* (infinite-width) NTKs of FFNets and ResNets (alpha = L^-gamma),
on a 2-class task from scikit-learn's bundled digits (8x8, no download; like the paper's MNIST2).
The paper's claim: FFNet accuracy falls toward chance with depth (its normalised NTK tends to
"constant + nugget", THEOREMS.md B2), ResNet accuracy stays (B3).

    python -m experiments.huang_kernel_regression [--budget quick|paper] --out DIR [--task odd-even|AvB]
        [--depths 1,10,100,1000] [--gammas 0.5,1] [--pool N] [--train N] [--splits R] [--ridge r] [--seed S]
        [--no-center] [--scheduler tcp://HOST:PORT | --jobs N]

Data: the images of the task's classes (``odd-even``: all 1,797, label = parity; ``3v5``: digits 3 and 5),
a seeded subsample of ``--pool`` of them, centred by the pool's mean image (label-free) unless
``--no-center``, each scaled to unit norm. The NTK is computed once on the pool per (architecture,
depth) (``estimators.analytic.ntk_at_depths``, float64, A and v fixed); each of ``--splits`` seeded
splits takes ``--train`` pool points for training and the rest for testing.
Predictor: f(x) = K(x, X) (K(X, X) + lambda I)^-1 y, y = +-1, class = sign f, with the ridge
lambda = ``--ridge`` * mean diag K(X, X) (default 1e-8), solved by Cholesky (scipy ``cho_factor``).
Why the regulariser is stated: a deep FFNet's K(X, X) is nearly "constant + nugget" and its angle
information an O(1/L) remainder, so solver numerics could in principle decide the result. Here they do
not: the nugget (3/4 of the diagonal) keeps K(X, X) well conditioned (condition numbers 3e1-4e3 at
every depth), and the measured accuracies (quick budget) are identical for ridges 1e-12..1e-4, within
0.003 at 1e-2, while a ridge of 1 (= the mean diagonal) lowers the shallow accuracies by ~0.02 and leaves
the depth-1000 FFNet's unchanged: the FFNet's decline is its kernel's, not the solver's.
Reported per row: mean and SD of the test accuracy over splits, the constant (majority-class)
predictor's accuracy (the degenerate limit), the mean and SD of the normalised off-diagonal kernel
values on the pool (SD -> 0 is the degeneracy), and the largest condition number of K(X, X) + lambda I
over the splits.
Budgets: quick = pool 300, train 100, 3 splits, depths 1, 10, 100, 1000 (seconds); paper = all 1,797
images, train 500, 10 splits, depths 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 (minutes).
Dask tasks (``experiments.cells``: a LocalCluster on every core by default, ``--jobs 1`` in this process, or
``--scheduler``): the FFNet is one task (its depths are read off one walk through the layers, which splitting
would repeat), each (ResNet gamma, depth) another (one recursion per depth, as before); each task fits and
scores every split. Nothing is random past the seeded pool and splits: the same numbers on any cluster.
Writes DIR/huang_kernel_regression.json (settings + rows), .csv and .png; prints the table and time.
Measured (odd vs even, seed 0; majority class 0.50): paper budget, FFNet 0.982 (L = 1), 0.978 (10),
0.927 (100), 0.862 (500), 0.794 +- 0.091 (1000); ResNet gamma = 1/2 and 1: 0.983-0.985 at every depth.
Quick budget: FFNet 0.977, 0.970, 0.835, 0.665 +- 0.208 at L = 1, 10, 100, 1000; ResNets 0.972-0.977.
FFNet accuracy falls toward chance with depth (and its split-to-split spread grows), ResNets' stays.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from sklearn.datasets import load_digits

from estimators.analytic import normalise, ntk_at_depths
from estimators.sampling import derive_seed
from experiments.cells import add_cluster_arguments, map_cells
from experiments.outputs import pyplot, write_data
from models.resnet import HuangFFNet, HuangResNet

BUDGETS = {
    "quick": {"pool": 300, "train": 100, "splits": 3, "depths": (1, 10, 100, 1000)},
    "paper": {"pool": 1797, "train": 500, "splits": 10, "depths": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)},
}
NAME = "huang_kernel_regression"


def task_data(task: str, pool: int, seed: int, center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (pool, 64) unit rows, labels +-1) for ``task``: ``odd-even`` or ``AvB`` (digits A and B)."""
    data = load_digits()
    if task == "odd-even":
        keep, labels = np.ones(len(data.target), bool), np.where(data.target % 2 == 0, 1.0, -1.0)
    elif len(task) == 3 and task[1] == "v" and task[0].isdigit() and task[2].isdigit() and task[0] != task[2]:
        first, second = int(task[0]), int(task[2])
        keep, labels = np.isin(data.target, (first, second)), np.where(data.target == first, 1.0, -1.0)
    else:
        raise ValueError(f"--task must be 'odd-even' or 'AvB' with two different digits (e.g. 3v5), got {task!r}")
    index = np.flatnonzero(keep)
    if not 2 <= pool <= len(index):
        raise ValueError(f"--pool must be in 2..{len(index)} for task {task!r}, got {pool}")
    index = np.random.default_rng(derive_seed(seed, NAME, "pool")).permutation(index)[:pool]
    x = data.data[index].astype(np.float64)
    if center:
        x = x - x.mean(axis=0)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("an image is zero after centring; use --no-center or another --pool/--seed")
    return x / norms, labels[index]


def fit_predict(kernel: np.ndarray, labels: np.ndarray, train: np.ndarray, ridge: float) -> tuple[np.ndarray, float]:
    """Signs of f(x) = K(x, X) (K(X, X) + lambda I)^-1 y on the non-train rows; lambda = ridge * mean diag.
    Also returns the condition number of K(X, X) + lambda I."""
    test = np.setdiff1d(np.arange(len(labels)), train)
    gram = kernel[np.ix_(train, train)]
    regularised = gram + ridge * float(np.mean(np.diag(gram))) * np.eye(len(train))
    try:
        factor = cho_factor(regularised, lower=True)
    except LinAlgError:
        message = f"K(X, X) + lambda I is not numerically positive definite; raise --ridge (now {ridge:g})"
        raise ValueError(message) from None
    coefficients = cho_solve(factor, labels[train])
    return np.sign(kernel[np.ix_(test, train)] @ coefficients), float(np.linalg.cond(regularised))


def splits(n_pool: int, n_train: int, n_splits: int, seed: int) -> list[np.ndarray]:
    """``n_splits`` seeded random training index sets of size ``n_train`` (the rest is the test set)."""
    return [np.sort(np.random.default_rng(derive_seed(seed, NAME, "split", r)).permutation(n_pool)[:n_train])
            for r in range(n_splits)]  # fmt: skip


def evaluate(kernel: np.ndarray, labels: np.ndarray, train_sets: list[np.ndarray], ridge: float) -> dict:
    """Accuracy over the splits, the majority-class baseline, and degeneracy diagnostics of ``kernel``."""
    accuracies, baselines, conditions = [], [], []
    for train in train_sets:
        test = np.setdiff1d(np.arange(len(labels)), train)
        predicted, condition = fit_predict(kernel, labels, train, ridge)
        accuracies.append(float((predicted == labels[test]).mean()))
        majority = 1.0 if labels[train].sum() >= 0 else -1.0
        baselines.append(float((labels[test] == majority).mean()))
        conditions.append(condition)
    off = normalise(kernel)[np.triu_indices(len(labels), 1)]
    spread = float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else 0.0
    return {"accuracy": float(np.mean(accuracies)), "accuracy_sd": spread,
            "majority_baseline": float(np.mean(baselines)), "offdiag_mean": float(off.mean()),
            "offdiag_sd": float(off.std()), "max_condition": float(max(conditions))}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class KernelCell:
    """One Dask task: the analytic NTK of one architecture (an FFNet, or a ResNet if ``gamma`` is set) at
    ``depths``, each scored on every split."""

    label: str
    gamma: float | None
    depths: tuple[int, ...]
    inputs: np.ndarray
    labels: np.ndarray
    train_sets: tuple[np.ndarray, ...]
    ridge: float


def kernel_cell(cell: KernelCell) -> list[dict]:
    """One row per depth of the cell (``evaluate``)."""
    spec = HuangFFNet(64, 1, 1) if cell.gamma is None else HuangResNet(64, 1, 1, cell.gamma)
    return [{"architecture": cell.label, "gamma": cell.gamma, "depth": depth,
             **evaluate(kernel, cell.labels, list(cell.train_sets), cell.ridge)}
            for depth, kernel in ntk_at_depths(spec, cell.inputs, cell.depths).items()]  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--task", default="odd-even")
    parser.add_argument("--depths", type=lambda s: tuple(int(d) for d in s.split(",")), default=None)
    parser.add_argument("--gammas", type=lambda s: tuple(float(g) for g in s.split(",")), default=(0.5, 1.0))
    parser.add_argument("--pool", type=int, default=None)
    parser.add_argument("--train", type=int, default=None)
    parser.add_argument("--splits", type=int, default=None)
    parser.add_argument("--ridge", type=float, default=1e-8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-center", dest="center", action="store_false")
    add_cluster_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("depths", "pool", "train", "splits"):
        if getattr(args, name) is None:
            setattr(args, name, BUDGETS[args.budget][name])
    if not args.depths or min(args.depths) < 1:
        raise ValueError(f"--depths must be integers >= 1, got {args.depths}")
    if not args.gammas or not all(0.5 <= g <= 1.0 for g in args.gammas):
        raise ValueError(f"--gammas must lie in [0.5, 1] (Huang's range), got {args.gammas}")
    if not (np.isfinite(args.ridge) and args.ridge >= 0):
        raise ValueError(f"--ridge must be finite and >= 0, got {args.ridge}")
    if args.splits < 1 or not 2 <= args.train <= args.pool - 1:
        raise ValueError(
            f"need --splits >= 1 and 2 <= --train <= --pool - 1, got {args.splits}, {args.train}, {args.pool}"
        )
    return args


def write(rows: list[dict], out: Path, settings: dict) -> None:
    """DIR/NAME.json, .csv and the accuracy-vs-depth plot .png."""
    plt = pyplot()
    write_data(out, NAME, {"settings": settings, "rows": rows}, rows)
    figure, axis = plt.subplots(figsize=(5.5, 3.8))
    for label in dict.fromkeys(r["architecture"] for r in rows):
        mine = [r for r in rows if r["architecture"] == label]
        axis.errorbar([r["depth"] for r in mine], [r["accuracy"] for r in mine],
                      yerr=[r["accuracy_sd"] for r in mine], fmt="-o", ms=3, capsize=2, label=label)  # fmt: skip
    chance = float(np.mean([r["majority_baseline"] for r in rows]))
    axis.axhline(chance, color="grey", ls=":", label="majority class")
    axis.set(xscale="log", xlabel="depth L", ylabel="test accuracy", title=f"analytic NTK, digits {settings['task']}")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / f"{NAME}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse(argv)
    started = time.perf_counter()
    inputs, labels = task_data(args.task, args.pool, args.seed, args.center)
    train_sets = splits(args.pool, args.train, args.splits, args.seed)
    data = (inputs, labels, tuple(train_sets), args.ridge)
    cells = [KernelCell("FFNet", None, tuple(args.depths), *data)] + [
        KernelCell(f"ResNet gamma={g:g}", g, (L,), *data) for g in args.gammas for L in dict.fromkeys(args.depths)
    ]  # fmt: skip
    done = map_cells(kernel_cell, cells, args.scheduler, args.jobs, desc=NAME, cost=lambda c: max(c.depths))
    rows = [row for cell_rows in done for row in cell_rows]
    settings = {"budget": args.budget, "task": args.task, "pool": args.pool, "train": args.train,
                "test": args.pool - args.train, "splits": args.splits, "ridge": args.ridge, "center": args.center,
                "seed": args.seed, "depths": list(args.depths), "gammas": list(args.gammas)}  # fmt: skip
    write(rows, args.out, settings)
    for r in rows:
        print(f"{r['architecture']:>17} L={r['depth']:>5}: accuracy {r['accuracy']:.3f} +- {r['accuracy_sd']:.3f} "
              f"(majority {r['majority_baseline']:.3f}); normalised off-diagonal {r['offdiag_mean']:.4f} "
              f"+- {r['offdiag_sd']:.2e}; cond <= {r['max_condition']:.1e}")  # fmt: skip
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
