"""Finite-width kernel draws against the analytic (infinite-width) kernels of ``estimators.analytic``.

- ``kernel_entries``: per draw, the GPK entries <x_L(x_i), x_L(x_j)>/n and the NTK entries K(x_i, x_j) of a
  Huang net (the GPK is the Gram matrix of the output layer v: K_v = (1/n) <x_L, x_L'> since df/d(v x_L) = 1);
- ``mean_error``: (mean of draws - analytic value) / scale with its t standard error;
- ``fraction_below``: p = P(K_m < K_inf) + P(K_m = K_inf)/2, estimated by the fraction of B i.i.d.
  draws below the value with ties counted half (mid-rank: an entry equal to K_inf in every draw, e.g. the
  FFNet NTK of x' = -x, sits in the middle of its degenerate band); standard error sqrt(p (1 - p) / B)
  (binomial, normal approximation; coverage checked in ``tests/estimators/test_finite_width.py``).
  K_inf lies inside the 5th-95th percentile band of K_m iff 0.05 <= p <= 0.95.
- ``band_widths``: the 5th-95th percentile width q_0.95 - q_0.05 (``np.quantile``) of each of R
  disjoint replicate groups of draws, so that a scaling law fitted by OLS to log band width has
  independent rows (``engine.statistics.ols_slope``);
- ``grouped_normalised_spread``: per replicate group, max_j - min_j of Theta(x_0, x_j) / Theta(x_0, x_0);
- ``normalised_offdiagonals``: per draw, K(x_i, x_j) / sqrt(K(x_i, x_i) K(x_j, x_j)) for every pair i < j (each
  network's own normalised NTK: bounded in [-1, 1], so its mean over draws has light tails even where K
  itself is heavy-tailed, e.g. the exploding gradients of deep BatchNorm FFNets).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.intervals import Estimates
from estimators.analytic import AnalyticKernels
from estimators.ntk import NTKDraws

ENTRY_LABELS = ("GPK(x,x)", "GPK(x,x')", "NTK(x,x)", "NTK(x,x')")


def kernel_entries(draws: NTKDraws) -> np.ndarray:
    """Per draw (B, 4): GPK(x1,x1), GPK(x1,x2), NTK(x1,x1), NTK(x1,x2) (``ENTRY_LABELS``) of the first two
    inputs; the GPK is the output matrix v's Gram matrix (trained or not)."""
    if "v" not in draws.matrix_names or draws.outputs.shape[1] < 2:
        raise ValueError("kernel_entries needs draws of a Huang net (a matrix 'v') on at least two inputs")
    gpk = draws.per_matrix_gram[:, draws.matrix_names.index("v")]
    ntk = draws.gram
    return torch.stack([gpk[:, 0, 0], gpk[:, 0, 1], ntk[:, 0, 0], ntk[:, 0, 1]], dim=1).numpy()


def analytic_entries(kernels: AnalyticKernels) -> tuple[np.ndarray, np.ndarray]:
    """The analytic values of ``ENTRY_LABELS`` and their natural scales (the diagonal: GPK(x,x), NTK(x,x))."""
    gpk, ntk = kernels.gpk, kernels.ntk
    values = np.array([gpk[0, 0], gpk[0, 1], ntk[0, 0], ntk[0, 1]])
    return values, np.array([gpk[0, 0], gpk[0, 0], ntk[0, 0], ntk[0, 0]])


def mean_error(draws: object, values: object, scales: object, labels: tuple[str, ...]) -> Estimates:
    """Per column c: (mean(draws[:, c]) - values[c]) / scales[c], standard error sd / sqrt(B) / scales[c],
    B - 1 degrees of freedom (one-sample t; the draws are i.i.d.)."""
    array = _draws(draws, "mean_error")
    target = np.asarray(values, dtype=np.float64).reshape(-1)
    scale = np.asarray(scales, dtype=np.float64).reshape(-1)
    if target.shape != (array.shape[1],) or scale.shape != target.shape or len(labels) != array.shape[1]:
        raise ValueError(f"mean_error: values, scales and labels must match the draws' C = {array.shape[1]}")
    if not (np.isfinite(target).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError("mean_error: values must be finite and scales finite and > 0")
    n = array.shape[0]
    error = (array.mean(axis=0) - target) / scale
    se = array.std(axis=0, ddof=1) / np.sqrt(n) / scale
    return Estimates(error, se, np.full(len(error), n - 1.0), tuple(labels), n)


def _draws(values: object, owner: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"{owner}: draws must have shape (B, C) with B >= 2, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{owner}: draws contain NaN or inf")
    return array


def fraction_below(draws: object, values: object, labels: tuple[str, ...]) -> Estimates:
    """Per column c: the fraction of draws[:, c] below values[c] (ties count 1/2), with its binomial
    standard error.

    ``draws`` (B, C), ``values`` (C,). A fraction of exactly 0 or 1 has standard error 0 and so decides
    exactly (the value is then outside every draw, a fortiori outside the band)."""
    array = _draws(draws, "fraction_below")
    target = np.asarray(values, dtype=np.float64).reshape(-1)
    if target.shape != (array.shape[1],) or len(labels) != array.shape[1]:
        raise ValueError(
            f"fraction_below: values {target.shape} and labels ({len(labels)}) must match the draws' "
            f"C = {array.shape[1]}"
        )
    if not np.isfinite(target).all():
        raise ValueError("fraction_below: values contain NaN or inf")
    n = array.shape[0]
    p = (array < target).mean(axis=0) + 0.5 * (array == target).mean(axis=0)
    return Estimates(p, np.sqrt(p * (1 - p) / n), np.full(len(p), np.inf), tuple(labels), n)


def band_widths(draws: object, groups: int, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """Percentile band widths q_high - q_low of ``groups`` disjoint, equal groups of the rows of
    ``draws`` (B, C): shape (groups, C). Rows beyond groups * (B // groups) are dropped."""
    array = _draws(draws, "band_widths")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"band_widths: groups must be an int >= 1, got {groups!r}")
    if not (0 <= low < high <= 1) or math.isnan(low) or math.isnan(high):
        raise ValueError(f"band_widths: need 0 <= low < high <= 1, got low={low!r}, high={high!r}")
    size = array.shape[0] // groups
    if size < 2:
        raise ValueError(f"band_widths: {array.shape[0]} draws cannot make {groups} groups of >= 2")
    split = array[: size * groups].reshape(groups, size, -1)
    quantiles = np.quantile(split, [low, high], axis=1)
    return quantiles[1] - quantiles[0]


def grouped_normalised_spread(gram: object, groups: int) -> np.ndarray:
    """Spread over j of the normalised NTK row N_j = mean K(x_0, x_j) / mean K(x_0, x_0), j >= 1, in each of
    ``groups`` disjoint groups of draws of ``gram`` (B, k, k), k >= 3: shape (groups,). Ratios of group
    means, so the normalisation is that of the mean kernel, as for the analytic one."""
    array = np.asarray(gram, dtype=np.float64)
    if array.ndim != 3 or array.shape[1] != array.shape[2] or array.shape[1] < 3:
        raise ValueError(f"grouped_normalised_spread: gram must have shape (B, k, k) with k >= 3, got {array.shape}")
    row = _draws(array[:, 0, :], "grouped_normalised_spread")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or row.shape[0] // groups < 2:
        raise ValueError(f"grouped_normalised_spread: cannot split {row.shape[0]} draws into {groups!r} groups of >= 2")
    size = row.shape[0] // groups
    means = row[: size * groups].reshape(groups, size, -1).mean(axis=1)
    normalised = means[:, 1:] / means[:, :1]
    return normalised.max(axis=1) - normalised.min(axis=1)


def normalised_offdiagonals(gram: object) -> np.ndarray:
    """(B, k (k - 1) / 2): K_ij / sqrt(K_ii K_jj) of each draw of ``gram`` (B, k, k), pairs i < j in
    ``np.triu_indices`` order. A draw with a zero diagonal entry is a ValueError (0/0)."""
    array = np.asarray(gram, dtype=np.float64)
    if array.ndim != 3 or array.shape[1] != array.shape[2] or array.shape[1] < 2:
        raise ValueError(f"normalised_offdiagonals: gram must have shape (B, k, k) with k >= 2, got {array.shape}")
    diagonal = np.einsum("bii->bi", array)
    if not (np.isfinite(array).all() and (diagonal > 0).all()):
        raise ValueError("normalised_offdiagonals: gram needs finite entries and a positive diagonal")
    rows, cols = np.triu_indices(array.shape[1], 1)
    return array[:, rows, cols] / np.sqrt(diagonal[:, rows] * diagonal[:, cols])
