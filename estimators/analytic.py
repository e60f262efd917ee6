"""Infinite-width kernels of Huang et al.'s FFNet and ResNet (``models.resnet``): GPK (NNGP) and NTK.

Exactly the parameterisation of ``HuangFFNet`` / ``HuangResNet`` (N(0, 1) weights, 1/sqrt(fan_in) in
the forward pass, q = sqrt(2) phi, phi = ReLU), on a data matrix X of k inputs (rows). With
Sigma_l(x, x') = lim <x_l(x), x_l(x')> / n (the GPK of layer l), rho its correlation and the order-0/1
arc-cosine kernels (Cho & Saul 2009)

    k0(rho) = (pi - arccos rho) / (2 pi),   k1(rho) = (sqrt(1 - rho^2) + (pi - arccos rho) rho) / (2 pi),
    F(Sigma) = 2 sqrt(Sigma(x,x) Sigma(x',x')) k1(rho) = lim <q(g), q(g')>/n,   Sigma_dot = 2 k0(rho):

- input layer: Sigma_0 = X X^T / d (x_0 = A x / sqrt(d));
- FFNet: Sigma_l = F(Sigma_{l-1}); backward factor Sigma_dot_l (so P_l = prod_{h > l} Sigma_dot_h);
  NTK part of W_l: Sigma_{l-1} Sigma_dot_l P_l (THEOREMS.md B; with A and v trained one adds Sigma_0 P_0
  and Sigma_L, which gives the textbook recursion Theta_l = Sigma_l + Theta_{l-1} Sigma_dot_l);
- ResNet (alpha = L^-gamma): Sigma_l = Sigma_{l-1} + alpha^2 F(Sigma_{l-1}); backward factor
  1 + alpha^2 Sigma_dot_l; NTK parts alpha^2 P_l Sigma_dot_l Sigma_{l-1} (W_l) and alpha^2 P_l F(Sigma_{l-1})
  (V_l); A: Sigma_0 P_0; v: Sigma_L.
The NTK is the sum of the parts of the matrices the spec trains (``spec.trained()``). Each is
computed by a forward recursion (earlier parts are multiplied by each new layer's backward factor),
O(L k^2) time and O(k^2) memory, vectorised over all input pairs, float64.

Stability: rho is clipped to [-1, 1]; pi - arccos rho = 2 atan2(sqrt(1 + rho), sqrt(1 - rho)) keeps full
relative precision near +-1 (1 -+ rho are exact there), and k1 = J(pi - arccos rho) / (2 pi) with
J(t) = sin t - t cos t, whose
cancellation for small t (rho -> -1) is avoided by its Taylor series sum_k (-1)^(k+1) 2k t^(2k+1)/(2k+1)!.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from models.base import ArchitectureSpec
from models.resnet import HuangFFNet, HuangResNet
from models.validation import positive_int

SERIES_BELOW = 0.05  # |t| below which J(t) = sin t - t cos t is summed as a series
_SERIES_TERMS = 8  # t^17 / 17! * 16 < 1e-35 at t = 0.05: far below double precision


def sin_minus_t_cos(t: np.ndarray) -> np.ndarray:
    """J(t) = sin t - t cos t, accurate to relative precision for small t (series) and elsewhere."""
    t = np.asarray(t, dtype=np.float64)
    direct = np.sin(t) - t * np.cos(t)
    series = np.zeros_like(t)
    for k in range(_SERIES_TERMS, 0, -1):  # Horner-free sum, smallest terms first
        series += (-1) ** (k + 1) * 2 * k * t ** (2 * k + 1) / math.factorial(2 * k + 1)
    return np.where(np.abs(t) < SERIES_BELOW, series, direct)


def arccos_kernels(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order-0 and order-1 arc-cosine kernels (k0, k1) of a correlation array (any shape).

    k0 = E[1{u > 0} 1{u' > 0}], k1 = E[phi(u) phi(u')] for standard normal (u, u') with correlation rho.
    NaN raises ValueError; values are clipped to [-1, 1] (rounding in rho = Sigma_xy / sqrt(Sigma_xx Sigma_yy)).
    """
    rho = np.asarray(rho, dtype=np.float64)
    if np.isnan(rho).any():
        raise ValueError("arccos_kernels: rho contains NaN")
    rho = np.clip(rho, -1.0, 1.0)
    supplement = 2.0 * np.arctan2(np.sqrt(1.0 + rho), np.sqrt(1.0 - rho))  # pi - arccos rho, precise near +-1
    k0 = supplement / (2 * math.pi)
    k1 = sin_minus_t_cos(supplement) / (2 * math.pi)
    return k0, k1


def relu_step(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One ReLU layer of the kernel recursion on a (k, k) GPK: (F, Sigma_dot), both (k, k).

    F = 2 sqrt(Sigma_xx Sigma_yy) k1(rho) = lim <q(g), q(g')>/n and Sigma_dot = 2 k0(rho) for
    g ~ N(0, Sigma), q = sqrt(2) ReLU."""
    scale = np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))
    k0, k1 = arccos_kernels(sigma / scale)
    return 2.0 * scale * k1, 2.0 * k0


@dataclass(frozen=True)
class AnalyticKernels:
    """Infinite-width kernels of one spec on k inputs (float64 (k, k) arrays).

    ``gpk``: Sigma_L = lim <x_L(x), x_L(x')>/n (the last hidden layer's GPK). ``parts``: the NTK
    contribution of each group of matrices: ``A``, ``W`` (all W_l), ``V`` (all V_l, ResNet only), ``v``.
    ``trained``: the groups the spec trains; ``ntk`` sums their parts.
    """

    gpk: np.ndarray
    parts: dict[str, np.ndarray]
    trained: tuple[str, ...]

    @property
    def ntk(self) -> np.ndarray:
        """Theta(x, x') = sum of the trained groups' parts: (k, k)."""
        return sum((self.parts[name] for name in self.trained), np.zeros_like(self.gpk))

    @property
    def normalised_ntk(self) -> np.ndarray:
        """Theta(x, x') / sqrt(Theta(x, x) Theta(x', x')) (= Theta(x, x')/Theta(x, x) for equal norms)."""
        return normalise(self.ntk)


def normalise(kernel: np.ndarray) -> np.ndarray:
    """K(x, x') / sqrt(K(x, x) K(x', x')) for a (k, k) kernel with positive diagonal."""
    diagonal = np.sqrt(np.diag(kernel))
    return kernel / np.outer(diagonal, diagonal)


def check_data(spec: ArchitectureSpec, inputs: object) -> np.ndarray:
    """Inputs as a (k, input_dim) float64 array with nonzero rows (the spec's checks, plus that)."""
    data = spec.check_inputs(inputs).numpy()
    if (np.linalg.norm(data, axis=1) == 0).any():
        raise ValueError(f"{type(spec).__name__} analytic kernels need nonzero inputs; a row of inputs is zero")
    return data


def analytic_kernels(spec: ArchitectureSpec, inputs: object) -> AnalyticKernels:
    """GPK and NTK of a ``HuangFFNet`` or ``HuangResNet`` at infinite width on ``inputs`` (k, input_dim).

    The spec's ``width`` is ignored (the limit); ``depth``, ``gamma`` and ``train_all`` are used.
    """
    return kernels_at_depths(spec, inputs, (spec.depth,))[spec.depth]  # type: ignore[attr-defined]


def kernels_at_depths(spec: ArchitectureSpec, inputs: object, depths: Sequence[int]) -> dict[int, AnalyticKernels]:
    """Analytic kernels of ``spec`` with its depth replaced by each of ``depths``: {L: kernels}.

    FFNet: one recursion up to max(depths), read off at every L (layer l does not depend on L).
    ResNet: alpha = L^-gamma depends on L, so one recursion per depth. Cost O(sum L k^2) at most.
    """
    if not isinstance(spec, HuangFFNet | HuangResNet):
        raise ValueError(f"analytic kernels exist for HuangFFNet and HuangResNet, got {type(spec).__name__}")
    depths = tuple(positive_int("kernels_at_depths", "depths", L) for L in depths)
    if not depths:
        raise ValueError("kernels_at_depths: depths is empty")
    data = check_data(spec, inputs)
    groups = {name.rstrip("0123456789") for name in spec.trained()}
    if isinstance(spec, HuangFFNet):
        wanted = set(depths)
        found = {L: k for L, k in _recursion(data, max(wanted), None, groups) if L in wanted}
    else:
        found = {L: list(_recursion(data, L, float(L) ** (-2 * spec.gamma), groups))[-1][1] for L in set(depths)}
    return {L: found[L] for L in depths}


def _recursion(
    data: np.ndarray, depth: int, alpha2: float | None, groups: set[str]
) -> Iterator[tuple[int, AnalyticKernels]]:
    """Yield (l, kernels of the depth-l net) for l = 1..depth; ``alpha2`` None is the FFNet, else the
    ResNet with alpha^2 = ``alpha2`` in every block."""
    sigma = data @ data.T / data.shape[1]
    first, hidden_w, hidden_v = sigma.copy(), np.zeros_like(sigma), np.zeros_like(sigma)
    for layer in range(1, depth + 1):
        forward, derivative = relu_step(sigma)
        if alpha2 is not None:
            factor = 1.0 + alpha2 * derivative
            first = first * factor
            hidden_w = hidden_w * factor + alpha2 * derivative * sigma
            hidden_v = hidden_v * factor + alpha2 * forward
            sigma = sigma + alpha2 * forward
        else:
            first = first * derivative
            hidden_w = (hidden_w + sigma) * derivative
            sigma = forward
        parts = {"A": first, "W": hidden_w} | ({"V": hidden_v} if alpha2 is not None else {}) | {"v": sigma}
        yield layer, AnalyticKernels(gpk=sigma, parts=parts, trained=tuple(g for g in parts if g in groups))


def gpk(spec: ArchitectureSpec, inputs: object) -> np.ndarray:
    """The infinite-width GPK Sigma_L of the last hidden layer: (k, k)."""
    return analytic_kernels(spec, inputs).gpk


def ntk(spec: ArchitectureSpec, inputs: object) -> np.ndarray:
    """The infinite-width NTK over the spec's trained matrices: (k, k)."""
    return analytic_kernels(spec, inputs).ntk


def unit_circle(angles: np.ndarray) -> np.ndarray:
    """Inputs (cos t, sin t) on the unit circle, one row per angle: (k, 2)."""
    angles = np.asarray(angles, dtype=np.float64)
    if not np.isfinite(angles).all():
        raise ValueError("unit_circle: angles contain NaN or inf")
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)
