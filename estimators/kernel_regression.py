"""Kernel-regression predictors and the gradient-descent-trained networks they describe (Huang et al.,
NeurIPS 2020, Thm 2: a wide network trained by gradient descent predicts like kernel regression with its NTK).

- ``kernel_regression``: f(x) = K(x, X) (K(X, X) + lambda I)^-1 y, lambda = ridge * mean diag K(X, X),
  by Cholesky (scipy ``cho_factor``); also the condition number of K(X, X) + lambda I.
- ``linearised_gd``: the predictor of T steps of full-batch GD on (1/2n) sum_i (f(x_i) - y_i)^2 of the
  model linear in its weights with tangent kernel K, from the initial residual r_0 = f_0(X) - y:
      f_T(x) = f_0(x) - K(x, X) K(X, X)^+ (I - (I - c K(X, X))^T) r_0,   c = eta / n,
  computed in K(X, X)'s eigenbasis, where the factor (1 - (1 - c lambda)^T) / lambda tends to c T as
  lambda -> 0 (so a singular K is no problem). As T -> infinity with 0 < c lambda_max < 2 it is kernel
  regression of y - f_0 added to f_0 (Jacot et al. 2018; Lee et al. 2019, Eq. 9-11).
- ``depth_accuracies``: test accuracy of class = sign f over seeded train/test splits of one pool, at each
  depth of a Huang FFNet, for kernel regression with the analytic NTK and for GD-trained finite networks;
  ``threshold_depth``: where an accuracy curve first falls a stated drop below its best.
- ``train_predict``: that GD on the real network, B networks at once, updating only the matrices the spec
  trains (``spec.trained()``; Huang's A and v stay at their draws), with eta_b = lr_fraction n / lambda_max(K_0,b)
  as ``estimators.training`` (width-independent in the NTK parameterisation, a quarter of the stability
  limit at lr_fraction = 1/2); returns the outputs at evaluation points before and after training.
Everything is float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from estimators.analytic import ntk_at_depths
from estimators.hessian import check_weights, draw_networks, ntk_gram
from estimators.memory import check_fits, first_batched_weight
from estimators.sampling import derive_seed
from estimators.training import LOSSES, descend
from models.base import ArchitectureSpec
from models.resnet import HuangFFNet
from models.validation import positive_int


def _grams(train_gram: object, test_train_gram: object, owner: str) -> tuple[np.ndarray, np.ndarray]:
    train = np.asarray(train_gram, dtype=np.float64)
    cross = np.asarray(test_train_gram, dtype=np.float64)
    if train.ndim != 2 or train.shape[0] != train.shape[1] or cross.ndim != 2 or cross.shape[1] != train.shape[0]:
        raise ValueError(
            f"{owner} needs K(X, X) (n, n) and K(x, X) (m, n), got {train.shape} and {cross.shape}"
        )
    if not (np.isfinite(train).all() and np.isfinite(cross).all()):
        raise ValueError(f"{owner}: the kernel contains NaN or inf")
    return train, cross


def kernel_regression(
    train_gram: object, test_train_gram: object, targets: object, ridge: float = 1e-8
) -> tuple[np.ndarray, float]:
    """(K(x, X) (K(X, X) + lambda I)^-1 y (m,), cond(K(X, X) + lambda I)), lambda = ridge * mean diag K(X, X)."""
    train, cross = _grams(train_gram, test_train_gram, "kernel_regression")
    y = np.asarray(targets, dtype=np.float64)
    if y.shape != (train.shape[0],) or not np.isfinite(y).all():
        raise ValueError(f"kernel_regression.targets must be {train.shape[0]} finite values, got shape {y.shape}")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"kernel_regression.ridge must be finite and >= 0, got {ridge!r}")
    regularised = train + ridge * float(np.mean(np.diag(train))) * np.eye(len(train))
    try:
        factor = cho_factor(regularised, lower=True)
    except LinAlgError:
        raise ValueError(
            f"K(X, X) + lambda I is not numerically positive definite; raise the ridge (now {ridge:g})"
        ) from None
    return cross @ cho_solve(factor, y), float(np.linalg.cond(regularised))


def linearised_gd(
    train_gram: object, test_train_gram: object, residual: object, step_over_n: object, steps: int
) -> np.ndarray:
    """f_T(x) - f_0(x) = -K(x, X) K^+ (I - (I - c K)^T) r_0 (module docstring) for B runs at once: residuals r_0
    (B, n) or (n,), steps c = eta / n (B,) or a number; returns (B, m) (or (m,) for one run). One
    eigendecomposition of K(X, X) serves every run."""
    train, cross = _grams(train_gram, test_train_gram, "linearised_gd")
    r0 = np.asarray(residual, dtype=np.float64)
    single = r0.ndim == 1
    r0 = np.atleast_2d(r0)
    if r0.ndim != 2 or r0.shape[1] != train.shape[0] or not np.isfinite(r0).all():
        raise ValueError(f"linearised_gd.residual must be (B, {train.shape[0]}) finite values, got shape {r0.shape}")
    c = np.broadcast_to(np.asarray(step_over_n, dtype=np.float64), (r0.shape[0],))
    if not (np.isfinite(c).all() and (c > 0).all()):
        raise ValueError(f"linearised_gd.step_over_n must be finite and > 0, got {step_over_n!r}")
    positive_int("linearised_gd", "steps", steps)
    values, vectors = np.linalg.eigh((train + train.T) / 2)
    scaled = c[:, None] * values[None, :]  # (B, n)
    if scaled.max() >= 2.0:
        raise ValueError(f"linearised_gd: eta / n = {c.max():g} is past the stability limit 2 / lambda_max")
    small = np.abs(scaled) < 1e-8
    safe = np.where(small, 1.0, values[None, :])
    factor = np.where(small, c[:, None] * steps, (1.0 - (1.0 - scaled) ** steps) / safe)
    change = -((r0 @ vectors) * factor) @ vectors.T @ cross.T
    return change[0] if single else change


@dataclass(frozen=True)
class TrainedPredictions:
    """B networks trained by ``train_predict``: ``initial`` and ``final`` outputs at the evaluation points
    (B, m), ``learning_rate`` eta_b (B,), ``loss`` (B, steps + 1) on the training set, and ``diverged`` (B,):
    whose loss became non-finite (their ``final`` is then not finite either)."""

    initial: torch.Tensor
    final: torch.Tensor
    learning_rate: torch.Tensor
    loss: torch.Tensor
    diverged: torch.Tensor


def train_predict(
    spec: ArchitectureSpec,
    weights: dict[str, torch.Tensor],
    x: object,
    y: object,
    x_eval: object,
    steps: int,
    lr_fraction: float = 0.5,
    max_bytes: int | None = None,
    allow_divergence: bool = False,
    max_learning_rate: float | None = None,
) -> TrainedPredictions:
    """Full-batch GD on (1/2n) sum_i (f(x_i) - y_i)^2 over the trained matrices of ``spec`` only, for B networks
    (``weights`` name -> (B, out, in)); eta_b = lr_fraction n / lambda_max(K_0,b), capped at ``max_learning_rate``
    (e.g. a step that must also be stable for another kernel run beside it). Returns the outputs at
    ``x_eval`` (m, d) before and after ``steps`` steps. A diverged run (non-finite loss) is a ValueError naming
    eta unless ``allow_divergence`` (then read ``diverged``; the networks are independent). Preflight:
    4 weight-sized buffers per network plus activations and their gradients on the n + m points."""
    positive_int("train_predict", "steps", steps)
    if not (isinstance(lr_fraction, int | float) and 0 < lr_fraction < 2):
        raise ValueError(f"train_predict.lr_fraction must be in (0, 2) (the stability limit), got {lr_fraction!r}")
    if max_learning_rate is not None and not (
        isinstance(max_learning_rate, int | float) and not isinstance(max_learning_rate, bool)
        and np.isfinite(max_learning_rate) and max_learning_rate > 0
    ):  # fmt: skip
        raise ValueError(f"train_predict.max_learning_rate must be a finite number > 0, got {max_learning_rate!r}")
    start = check_weights(spec, weights, "train_predict.weights")
    inputs, evaluation = spec.check_inputs(x), spec.check_inputs(x_eval)
    targets = torch.as_tensor(np.asarray(y, dtype=np.float64))
    if targets.shape != (inputs.shape[0],) or not torch.isfinite(targets).all():
        raise ValueError(f"train_predict.y must be {inputs.shape[0]} finite targets, got shape {tuple(targets.shape)}")
    if (first := first_batched_weight(start)) is not None:
        points = inputs.shape[0] + evaluation.shape[0]
        fan_outs = sum(o for o, _ in spec.weight_shapes().values())
        values = first.shape[0] * (4 * spec.n_parameters(trained_only=False) + 8 * points * fan_outs)
        check_fits(
            "train_predict", spec, values * 8, f"gradient descent on {first.shape[0]} networks and {points} points",
            "train fewer networks per call, on fewer points, or smaller widths", device=first.device,
            max_bytes=max_bytes,
        )  # fmt: skip
    n_networks, n = next(iter(start.values())).shape[0], inputs.shape[0]
    top = torch.linalg.eigvalsh(ntk_gram(spec, start, inputs))[:, -1]
    if not bool((top > 0).all()):
        raise ValueError("train_predict got a network with K_0 = 0 (f constant near w0: a dead ReLU net?)")
    eta = lr_fraction * n / top
    if max_learning_rate is not None:
        eta = eta.clamp(max=float(max_learning_rate))
    with torch.no_grad():
        initial = spec.apply(start, evaluation.expand(n_networks, -1, -1))
    current, loss_path = descend(spec, start, inputs, targets, steps, LOSSES["square"], eta)
    diverged = ~torch.isfinite(loss_path).all(dim=1)
    if diverged.any() and not allow_divergence:
        raise ValueError(f"gradient descent diverged at lr_fraction={lr_fraction} (eta = {eta.tolist()})")
    with torch.no_grad():
        final = spec.apply(current, evaluation.expand(n_networks, -1, -1))
    return TrainedPredictions(initial.detach(), final.detach(), eta, loss_path, diverged)


def split_indices(n_pool: int, n_train: int, n_splits: int, seed: int) -> list[np.ndarray]:
    """``n_splits`` seeded random training index sets of size ``n_train`` (sorted); the rest is the test set."""
    positive_int("split_indices", "n_splits", n_splits)
    if not 2 <= n_train < n_pool:
        raise ValueError(f"split_indices.n_train must be in 2..{n_pool - 1} (a test point left), got {n_train}")
    return [np.sort(np.random.default_rng(derive_seed(seed, "split", r)).permutation(n_pool)[:n_train])
            for r in range(n_splits)]  # fmt: skip


@dataclass(frozen=True)
class DepthAccuracies:
    """Test accuracies (R splits, D depths) of NTK kernel regression (``kernel``) and of GD-trained networks
    (``networks``, the mean over the networks of a split), at ``depths``; ``diverged`` (R, D): networks whose
    GD diverged (``network_accuracy``)."""

    depths: tuple[int, ...]
    kernel: np.ndarray
    networks: np.ndarray
    diverged: np.ndarray


def kernel_accuracies(
    spec: HuangFFNet, x: object, labels: object, splits: Sequence[np.ndarray], depths: Sequence[int],
    ridge: float = 1e-8,
) -> np.ndarray:
    """(R, D): accuracy of class = sign f on each split's test points (the rows not in the split) of ridge(-less)
    regression ``kernel_regression`` with the analytic NTK of ``spec`` at each depth (A, v fixed, W_l trained;
    ``estimators.analytic.ntk_at_depths``), float64."""
    y = np.asarray(labels, dtype=np.float64)
    kernels = ntk_at_depths(spec, np.asarray(x, dtype=np.float64), depths)
    accuracy = np.zeros((len(splits), len(depths)))
    for r, train in enumerate(splits):
        test = np.setdiff1d(np.arange(len(y)), train)
        for j, depth in enumerate(depths):
            gram = kernels[depth]
            predicted, _ = kernel_regression(gram[np.ix_(train, train)], gram[np.ix_(test, train)], y[train], ridge)
            accuracy[r, j] = float(np.mean(np.sign(predicted) == y[test]))
    return accuracy


def network_accuracy(
    spec: ArchitectureSpec, x: object, labels: object, train: np.ndarray, steps: int, n_networks: int, seed: int
) -> tuple[float, int]:
    """(mean accuracy, number diverged) of ``n_networks`` networks of ``spec`` (drawn from ``seed``) trained by
    ``train_predict`` for ``steps`` steps on the rows ``train`` (targets the labels +-1), class = sign f on the
    other rows. A network whose GD diverged (the step eta = n / (2 lambda_max(K_0)) is too large for its
    kernel's growth: deep, narrow nets) has learned nothing; it scores the majority class of the training
    labels, the best constant guess, and is counted."""
    inputs, y = np.asarray(x, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    test = np.setdiff1d(np.arange(len(y)), train)
    weights = draw_networks(spec, seed, n_networks)
    run = train_predict(spec, weights, inputs[train], y[train], inputs[test], steps, allow_divergence=True)
    majority = 1.0 if y[train].sum() >= 0 else -1.0
    predicted = np.where(run.diverged.numpy()[:, None], majority, np.sign(run.final.numpy()))
    return float(np.mean(predicted == y[test])), int(run.diverged.sum())


def depth_accuracies(
    spec: HuangFFNet,
    x: object,
    labels: object,
    splits: Sequence[np.ndarray],
    depths: Sequence[int],
    steps: int,
    n_networks: int,
    seed: int,
    ridge: float = 1e-8,
) -> DepthAccuracies:
    """``kernel_accuracies`` and, per split r and depth L, ``network_accuracy`` of ``spec`` at depth L (its width)
    with networks from ``derive_seed(seed, r, L)``."""
    if not isinstance(spec, HuangFFNet):
        raise ValueError(f"depth_accuracies takes a HuangFFNet (its depth is replaced), got {type(spec).__name__}")
    cells = [
        [network_accuracy(dataclasses.replace(spec, depth=depth), x, labels, train, steps, n_networks,
                          derive_seed(seed, r, depth)) for depth in depths]
        for r, train in enumerate(splits)
    ]  # fmt: skip
    networks, diverged = np.array(cells, dtype=float)[..., 0], np.array(cells, dtype=float)[..., 1].astype(int)
    kernel = kernel_accuracies(spec, x, labels, splits, depths, ridge)
    return DepthAccuracies(tuple(depths), kernel, networks, diverged)


def threshold_depth(depths: Sequence[int], accuracy: object, drop: float) -> float:
    """log2 of the depth where the accuracy curve (D,) first falls ``drop`` below its best (over ``depths``),
    linearly interpolated in log2 depth between the grid depths around the crossing; +inf if it never does
    (the threshold lies beyond the grid). The curve is read from its best depth on."""
    curve = np.asarray(accuracy, dtype=np.float64)
    grid = np.log2(np.asarray(depths, dtype=np.float64))
    if curve.shape != grid.shape or len(grid) < 2 or not np.all(np.diff(grid) > 0):
        raise ValueError(f"threshold_depth needs an accuracy per depth on increasing depths, got {curve.shape}")
    if not (np.isfinite(curve).all() and 0 < drop < 1):
        raise ValueError(f"threshold_depth needs finite accuracies and a drop in (0, 1), got drop={drop!r}")
    best = int(np.argmax(curve))
    level = curve[best] - drop
    for j in range(best + 1, len(curve)):
        if curve[j] <= level:
            fraction = (curve[j - 1] - level) / (curve[j - 1] - curve[j])
            return float(grid[j - 1] + fraction * (grid[j] - grid[j - 1]))
    return float("inf")
