"""Littwin, Galanti & Wolf (UAI 2021) Sec. 6.2 in small: kernel regression with random gradient
features, g(x) = K_T(x, X) K_T(X, X)^-1 Y (Eq. 19), K_T the average of T empirical NTK Grams, on
scikit-learn's bundled digits (8x8, 10 classes; no download), inputs normalised to ||x|| = 1,
one-hot labels; test accuracy vs depth for vanilla, ResNet (alpha_l = 0.1/L, m = 2), DenseNet (0.5).

    python -m experiments.littwin_sec62 --budget quick|paper --out DIR

Cost: one Gram over k = train + test inputs costs O(n k^2) per matrix with the exact sampler, so
sizes are small: quick k = 40 + 40, n = 8, T = 2; paper k = 200 + 200, n = 64, T = 5 (minutes on CPU).
A tiny ridge (1e-8 trace/k) keeps K_T(X, X) solvable. Writes DIR/littwin_sec62.json, .csv, .png.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from tqdm import tqdm

from estimators.ntk import sample_ntk
from estimators.sampling import derive_seed
from experiments.littwin_fig3a import architectures

BUDGETS = {"quick": {"train": 40, "test": 40, "width": 8, "draws": 2, "depths": (1, 2)},
           "paper": {"train": 200, "test": 200, "width": 64, "draws": 5, "depths": (1, 2, 4, 8, 16)}}


def digits(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit-norm digit images (dim 64) and labels, a seeded random train/test split."""
    data = load_digits()
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


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    size = BUDGETS[args.budget]
    started = time.perf_counter()
    x_train, y_train, x_test, y_test = digits(size["train"], size["test"], args.seed)
    inputs = np.concatenate([x_train, x_test])
    rows = []
    jobs = [(label, depth, spec) for depth in size["depths"]
            for label, spec in architectures(size["width"], depth, input_dim=64).items()]
    for label, depth, spec in tqdm(jobs, desc="littwin_sec62"):
        gram = sample_ntk(spec, torch.tensor(inputs), size["draws"], derive_seed(args.seed, label, depth)).gram
        rows.append({"architecture": label, "depth": depth, "accuracy": accuracy(gram.mean(0).numpy(), y_train, y_test),
                     "width": size["width"], "T": size["draws"], "train": size["train"], "test": size["test"]})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "littwin_sec62.json").write_text(json.dumps({"budget": args.budget, "rows": rows}, indent=1))
    with open(args.out / "littwin_sec62.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label in ("vanilla", "resnet", "densenet"):
        mine = [r for r in rows if r["architecture"] == label]
        axis.plot([r["depth"] for r in mine], [r["accuracy"] for r in mine], "-o", label=label)
    axis.set(xscale="log", xlabel="number of layers L", ylabel="test accuracy (digits)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.out / "littwin_sec62.png", dpi=120)
    plt.close(figure)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return rows


if __name__ == "__main__":
    main()
