"""Infinite-width kernels of Huang et al.'s FFNet and ResNet (``models.resnet``): GPK (NNGP) and NTK.

Public API (all float64 numpy, vectorised over every pair of the k inputs):

- ``analytic_kernels(spec, X)`` -> ``AnalyticKernels`` with ``gpk`` (Sigma_L), ``parts`` (NTK part of each
  matrix group), ``ntk`` (sum over the groups the spec trains) and ``normalised_ntk``, all (k, k);
- ``kernels_at_depths(spec, X, depths)`` -> {L: AnalyticKernels} (the spec with its depth replaced);
  ``ntk_at_depths(spec, X, depths)`` -> {L: (k, k) NTK}, the same keeping only the NTKs (large k);
- ``gpk(spec, X)``, ``ntk(spec, X)``: the (k, k) matrices; ``unit_circle(angles)``: 2-d unit inputs.

Exactly the parameterisation of ``HuangFFNet`` / ``HuangResNet`` (N(0, 1) weights, 1/sqrt(fan_in) in
the forward pass, q = sqrt(2) phi, phi = ReLU), on a data matrix X of k inputs (rows). With
Sigma_l(x, x') = lim <x_l(x), x_l(x')> / n (the GPK of layer l), rho its correlation, theta = arccos rho,
and the order-0/1 arc-cosine kernels (Cho & Saul 2009; THEOREMS.md B)

    k0(rho) = (pi - theta) / (2 pi),   k1(rho) = (sqrt(1 - rho^2) + (pi - theta) rho) / (2 pi),
    F(Sigma) = 2 sqrt(Sigma(x,x) Sigma(x',x')) k1(rho) = lim <q(g), q(g')>/n,   Sigma_dot = 2 k0(rho):

- input layer: Sigma_0 = X X^T / d (x_0 = A x / sqrt(d));
- FFNet: Sigma_l = F(Sigma_{l-1}); backward factor Sigma_dot_l (so P_l = prod_{h > l} Sigma_dot_h);
  NTK part of W_l: Sigma_{l-1} Sigma_dot_l P_l (THEOREMS.md B); with A and v trained one adds Sigma_0 P_0
  and Sigma_L, which gives the textbook recursion Theta_l = Sigma_l + Theta_{l-1} Sigma_dot_l from
  Theta_0 = 2 Sigma_0 (A and W_1 both see Sigma_0);
- ResNet (alpha = L^-gamma): Sigma_l = Sigma_{l-1} + alpha^2 F(Sigma_{l-1}); backward factor
  1 + alpha^2 Sigma_dot_l; NTK parts alpha^2 P_l Sigma_dot_l Sigma_{l-1} (W_l) and alpha^2 P_l F(Sigma_{l-1})
  (V_l); A: Sigma_0 P_0; v: Sigma_L.
The NTK is the sum of the parts of the matrices the spec trains (``spec.trained()``): W_l (and V_l)
unless ``train_all``, then A and v too. Each part is computed by a forward recursion (earlier parts are
multiplied by each new layer's backward factor): O(L k^2) time, O(k^2) memory.

Stability (float64 throughout). Both recursions map correlations to correlations independently of
the norms (FFNet rho' = 2 k1(rho); ResNet rho' = (rho + 2 alpha^2 k1(rho)) / (1 + alpha^2)), and a deep
FFNet drives rho to 1 (1 - rho_l ~ 9 pi^2 / (2 l^2), 5e-7 at l = 10^4), where rho itself carries only
absolute precision 1e-16. So the recursion carries delta = 1 - rho and epsilon = 1 + rho, each to full
relative precision: initially the half squared distances |u - u'|^2 / 2 and |u + u'|^2 / 2 of the unit
inputs, then (``relu_terms``; sin theta = sqrt(delta epsilon), rho = (epsilon - delta) / 2)

    theta = 2 atan2(sqrt(delta), sqrt(epsilon)),  s = pi - theta,  Sigma_dot = 2 k0 = s / pi,
    2 k1 = J(s) / pi = (sin theta + s rho) / pi,  1 - 2 k1 = delta - J(theta) / pi,  J(t) = sin t - t cos t,
    FFNet: (delta', epsilon') = (1 - 2 k1, 1 + 2 k1);
    ResNet: delta' = (delta + alpha^2 (1 - 2 k1)) / (1 + alpha^2), epsilon' likewise with 1 + 2 k1,

with no cancellation in the delta, epsilon updates (J(theta)/pi <= delta/2; the other sums add
non-negative terms). J's own cancellation for small t (sin t - t cos t ~ t^3/3; at most ~3 digits lost
just above the switch at t = 0.05) is avoided below it by its Taylor series sum_k (-1)^(k+1) 2k t^(2k+1)/(2k+1)! (and
s = 2 atan2(sqrt(epsilon), sqrt(delta)) there); one arctan2 per layer and pair, no other transcendental
function. Checked against a 40-digit mpmath recursion to 1e-12 relative at depth 10^4 (measured ~1e-13;
``tests/estimators/test_analytic.py``); the naive float64 recursion on Sigma (``relu_step``) is off by
~5e-8 there. A ResNet whose diagonal (1 + alpha^2)^L would overflow float64 (gamma < 1/2, large L) is a
ValueError; rho is clipped to [-1, 1] in ``arccos_kernels``.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from models.base import ArchitectureSpec
from models.resnet import HuangFFNet, HuangResNet
from models.validation import positive_int

T = TypeVar("T")
SERIES_BELOW = 0.05  # |t| below which J(t) = sin t - t cos t is summed as a series
# J(t) = sum_{k>=1} (-1)^(k+1) 2k t^(2k+1) / (2k+1)!; 8 terms: t^17 / 17! * 16 < 1e-35 at t = 0.05
_SERIES = np.array([(-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1) for k in range(1, 9)])


def _series(u: np.ndarray) -> np.ndarray:
    """J(u) = sin u - u cos u by its Taylor series (Horner in u^2), for |u| < ``SERIES_BELOW``."""
    square, series = u * u, np.zeros_like(u)
    for coefficient in _SERIES[::-1]:
        series = series * square + coefficient
    return series * u * square


def sin_minus_t_cos(t: np.ndarray) -> np.ndarray:
    """J(t) = sin t - t cos t, accurate to relative precision for small t (series) and elsewhere."""
    t = np.asarray(t, dtype=np.float64)
    result = np.array(np.sin(t) - t * np.cos(t))
    small = np.abs(t) < SERIES_BELOW
    if small.any():
        result[small] = _series(t[small])
    return result


def relu_terms(minus: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Sigma_dot, 2 k1, 1 - 2 k1) of correlations given as delta = 1 - rho and epsilon = 1 + rho (same shape).

    theta = 2 atan2(sqrt(delta), sqrt(epsilon)), s = pi - theta, sin theta = sqrt(delta epsilon),
    cos theta = (epsilon - delta) / 2: Sigma_dot = 2 k0 = s / pi, 2 k1 = J(s) / pi = (sin theta + s rho) / pi,
    1 - 2 k1 = delta - J(theta) / pi = delta - (sin theta - theta rho) / pi; J by its series below
    ``SERIES_BELOW`` (and s recomputed as 2 atan2(sqrt(epsilon), sqrt(delta)) there). One arctan2, no
    other transcendental function: the deep recursions call this once per layer on (k, k) arrays."""
    root_minus, root_plus = np.sqrt(minus), np.sqrt(plus)
    angle = 2.0 * np.arctan2(root_minus, root_plus)
    supplement = math.pi - angle
    sine, rho = root_minus * root_plus, (plus - minus) / 2.0
    j_angle, j_supplement = sine - angle * rho, sine + supplement * rho
    small = angle < SERIES_BELOW
    if small.any():
        j_angle[small] = _series(angle[small])
    small = supplement < SERIES_BELOW
    if small.any():
        supplement[small] = 2.0 * np.arctan2(root_plus[small], root_minus[small])
        j_supplement[small] = _series(supplement[small])
    return supplement / math.pi, j_supplement / math.pi, np.maximum(minus - j_angle / math.pi, 0.0)


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
    g ~ N(0, Sigma), q = sqrt(2) ReLU. The naive step on Sigma (rho = Sigma_xy / sqrt(Sigma_xx Sigma_yy)
    carries absolute precision only); ``analytic_kernels`` uses the precise (1 -+ rho) recursion and the
    tests check the two agree."""
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
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"normalise: kernel must be a square (k, k) array, got shape {kernel.shape}")
    if not (np.isfinite(kernel).all() and (np.diag(kernel) > 0).all()):
        raise ValueError("normalise: kernel must be finite with a positive diagonal")
    diagonal = np.sqrt(np.diag(kernel))
    return kernel / np.outer(diagonal, diagonal)


def check_data(spec: ArchitectureSpec, inputs: object) -> np.ndarray:
    """Inputs as a (k, input_dim) float64 array with nonzero rows (the spec's checks, plus that), whose
    squared norms are finite and nonzero in float64."""
    data = spec.check_inputs(inputs).numpy()
    owner = type(spec).__name__
    if (data == 0).all(axis=1).any():
        raise ValueError(f"{owner} analytic kernels need nonzero inputs; a row of inputs is zero")
    with np.errstate(over="ignore", under="ignore"):
        squared = (data**2).sum(axis=1)
    if not (np.isfinite(squared).all() and (squared > 0).all()):
        raise ValueError(f"{owner} analytic kernels: an input's squared norm overflows or underflows float64 (rescale)")
    return data


def analytic_kernels(spec: ArchitectureSpec, inputs: object) -> AnalyticKernels:
    """GPK and NTK of a ``HuangFFNet`` or ``HuangResNet`` at infinite width on ``inputs`` (k, input_dim).

    The spec's ``width`` is ignored (the limit); ``depth``, ``gamma`` and ``train_all`` are used.
    """
    if not isinstance(spec, HuangFFNet | HuangResNet):
        raise ValueError(f"analytic kernels exist for HuangFFNet and HuangResNet, got {type(spec).__name__}")
    return kernels_at_depths(spec, inputs, (spec.depth,))[spec.depth]  # type: ignore[attr-defined]


def kernels_at_depths(spec: ArchitectureSpec, inputs: object, depths: Sequence[int]) -> dict[int, AnalyticKernels]:
    """Analytic kernels of ``spec`` with its depth replaced by each of ``depths``: {L: kernels}.

    FFNet: one recursion up to max(depths), read off at every L (layer l does not depend on L).
    ResNet: alpha = L^-gamma depends on L, so one recursion per depth. Cost O(sum L k^2) at most.
    """
    return _at_depths(spec, inputs, depths, lambda kernels: kernels, "kernels_at_depths")


def ntk_at_depths(spec: ArchitectureSpec, inputs: object, depths: Sequence[int]) -> dict[int, np.ndarray]:
    """{L: the (k, k) NTK at depth L}, as ``kernels_at_depths`` but keeping only the NTKs (memory: one
    (k, k) array per depth plus the recursion's state, for large k)."""
    return _at_depths(spec, inputs, depths, lambda kernels: kernels.ntk, "ntk_at_depths")


def _at_depths(
    spec: ArchitectureSpec, inputs: object, depths: Sequence[int], keep: Callable[[AnalyticKernels], T], owner: str
) -> dict[int, T]:
    if not isinstance(spec, HuangFFNet | HuangResNet):
        raise ValueError(f"analytic kernels exist for HuangFFNet and HuangResNet, got {type(spec).__name__}")
    if isinstance(depths, str | bytes) or not isinstance(depths, Sequence):
        raise ValueError(f"{owner}: depths must be a sequence of integers >= 1, got {depths!r}")
    depths = tuple(positive_int(owner, "depths", L) for L in depths)
    if not depths:
        raise ValueError(f"{owner}: depths is empty")
    data = check_data(spec, inputs)
    groups = {name.rstrip("0123456789") for name in spec.trained()}
    if isinstance(spec, HuangFFNet):
        wanted = set(depths)
        found = {L: keep(k) for L, k in _recursion(data, max(wanted), None, groups) if L in wanted}
    else:
        for L in depths:  # the diagonal grows like (1 + alpha^2)^L: beyond ~1e260 the NTK leaves float64
            exponent = L * math.log1p(float(L) ** (-2 * spec.gamma))
            if exponent > 600:
                raise ValueError(
                    f"HuangResNet kernels at depth {L}, gamma {spec.gamma} overflow float64: Sigma_L(x, x) grows "
                    f"like (1 + L^-2gamma)^L = exp({exponent:.0f}); use gamma >= 1/2 or a smaller depth"
                )
        found = {L: keep(_last(_recursion(data, L, float(L) ** (-2 * spec.gamma), groups))) for L in set(depths)}
    return {L: found[L] for L in depths}


def _last(layers: Iterator[tuple[int, AnalyticKernels]]) -> AnalyticKernels:
    """The deepest kernels of a recursion, holding one layer's arrays at a time."""
    (_, kernels), = collections.deque(layers, maxlen=1)
    return kernels


def correlation_complements(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 - rho, 1 + rho) of the rows of ``data`` (k, d), nonzero rows, as half squared distances of the
    unit rows: |u - u'|^2 / 2 and |u + u'|^2 / 2, both (k, k), each to full relative precision (the
    Gram-matrix form 1 - u.u' loses it near rho = 1). Row blocks keep the (b, k, d) temporaries small."""
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    k, d = unit.shape
    minus, plus = np.empty((k, k)), np.empty((k, k))
    step = max(1, 2**21 // max(1, k * d))
    for start in range(0, k, step):
        rows = unit[start : start + step, None, :]
        minus[start : start + step] = ((rows - unit[None]) ** 2).sum(-1) / 2
        plus[start : start + step] = ((rows + unit[None]) ** 2).sum(-1) / 2
    np.fill_diagonal(minus, 0.0)
    np.fill_diagonal(plus, 2.0)
    return minus, plus


def _recursion(
    data: np.ndarray, depth: int, alpha2: float | None, groups: set[str]
) -> Iterator[tuple[int, AnalyticKernels]]:
    """Yield (l, kernels of the depth-l net) for l = 1..depth; ``alpha2`` None is the FFNet, else the
    ResNet with alpha^2 = ``alpha2`` in every block. Carries (1 - rho, 1 + rho) (module docstring)."""
    diagonal = (data**2).sum(axis=1) / data.shape[1]  # Sigma_0(x, x) = ||x||^2 / d
    minus, plus = correlation_complements(data)
    scale = np.sqrt(np.outer(diagonal, diagonal))  # sqrt(Sigma_l(x, x) Sigma_l(x', x')) / growth
    growth = 1.0  # (1 + alpha^2)^l for the ResNet: every diagonal grows by that factor
    sigma = data @ data.T / data.shape[1]
    first, hidden_w, hidden_v = sigma.copy(), np.zeros_like(sigma), np.zeros_like(sigma)
    for layer in range(1, depth + 1):
        derivative, two_k1, one_minus_two_k1 = relu_terms(minus, plus)
        forward = two_k1 * (scale * growth)  # F(Sigma_{l-1})
        if alpha2 is not None:
            branch = alpha2 * derivative
            factor = 1.0 + branch
            first = first * factor
            hidden_w = hidden_w * factor + branch * sigma
            hidden_v = hidden_v * factor + alpha2 * forward
            minus = (minus + alpha2 * one_minus_two_k1) / (1.0 + alpha2)
            plus = (plus + alpha2 * (1.0 + two_k1)) / (1.0 + alpha2)
            growth *= 1.0 + alpha2
        else:
            first = first * derivative
            hidden_w = (hidden_w + sigma) * derivative
            minus, plus = one_minus_two_k1, 1.0 + two_k1
        sigma = (plus - minus) * (scale * (growth / 2.0))  # rho sqrt(Sigma_l(x, x) Sigma_l(x', x'))
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
