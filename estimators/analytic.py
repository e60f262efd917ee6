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

These are the generic layer kernel steps (``models.layers.kernels``, ``estimators.infinite_width``) on the
spec's layers (``models.presets``), written with the L blocks as one ``Repeat`` (``resnet_layers``; the same
numbers as ``infinite_width_kernels(spec.network)``, without building L blocks), the parts summed per group
A, W, V, v (``group_of``); an FFNet depth sweep walks the layers once and reads every depth off by applying
the output layer's step after the l-th block (layer l does not depend on L). Against the former direct
recursion (kept in ``tests/estimators/test_analytic.py``), measured: FFNet <= 2.2e-16 relative (depth 10^4
included); ResNet (depth <= 1000, gamma 1/2, 1) <= 2.3e-13 relative on entries >= 5% of the diagonal and
<= 1.1e-13 of the diagonal on all, the direct recursion being the less accurate (its growth (1 + alpha^2)^l
carries the rounding of 1 + alpha^2, and its Sigma = (epsilon - delta) / 2 loses relative precision near
rho = 0). Cost: an FFNet sweep to 10^4 takes ~1.5x, a ResNet ~2.5x the direct recursion's time.

Stability (float64 throughout). Both recursions map correlations to correlations independently of
the norms (FFNet rho' = 2 k1(rho); ResNet rho' = (rho + 2 alpha^2 k1(rho)) / (1 + alpha^2)), and a deep
FFNet drives rho to 1 (1 - rho_l ~ 9 pi^2 / (2 l^2), 5e-7 at l = 10^4), where rho itself carries only
absolute precision 1e-16. So the recursion carries delta = 1 - rho and epsilon = 1 + rho, each to full
relative precision: initially the half squared distances |u - u'|^2 / 2 and |u + u'|^2 / 2 of the unit
inputs, then (``relu_terms``; sin theta = sqrt(delta epsilon), rho = (epsilon - delta) / 2)

    theta = 2 atan2(sqrt(delta), sqrt(epsilon)),  s = pi - theta,  Sigma_dot = 2 k0 = s / pi,
    2 k1 = J(s) / pi = (sin theta + s rho) / pi,  1 - 2 k1 = delta - J(theta) / pi,  J(t) = sin t - t cos t,
    FFNet: (delta', epsilon') = (1 - 2 k1, 1 + 2 k1);
    ResNet: delta' = (delta + alpha^2 (1 - 2 k1)) / (1 + alpha^2), epsilon' likewise with 1 + 2 k1
    (``models.layers.kernels.mix``: the convex combination of proportional kernels),

with no cancellation in the delta, epsilon updates (J(theta)/pi <= delta/2; the other sums add
non-negative terms). J's own cancellation for small t (sin t - t cos t ~ t^3/3; at most ~3 digits lost
just above the switch at t = 0.05) is avoided below it by its Taylor series sum_k (-1)^(k+1) 2k t^(2k+1)/(2k+1)! (and
s = 2 atan2(sqrt(epsilon), sqrt(delta)) there); one arctan2 per layer and pair, no other transcendental
function (``relu_terms``, shared with the layers in ``models.layers.kernels``). Checked against a
40-digit mpmath recursion to 1e-12 relative at depth 10^4 (measured ~1e-13;
``tests/estimators/test_analytic.py``); the naive float64 recursion on Sigma (``relu_step``) is off by
~5e-8 there. A ResNet whose diagonal (1 + alpha^2)^L would overflow float64 (gamma < 1/2, large L) is a
ValueError; rho is clipped to [-1, 1] in ``arccos_kernels``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from estimators.infinite_width import InfiniteWidthKernels
from estimators.memory import check_fits
from models.base import ArchitectureSpec
from models.layers import HE_GAIN, Dense, Layer, ReLU, Repeat, Residual, Serial, Shape
from models.layers.kernels import (
    SERIES_BELOW,
    KernelState,
    arccos_kernels,
    correlation_complements,
    input_state,
    relu_terms,
    sin_minus_t_cos,
)
from models.resnet import HuangFFNet, HuangResNet
from models.validation import positive_int

T = TypeVar("T")
WORKING_ARRAYS = 40  # (k, k) float64 arrays a layer step holds at once (kernels, 1 -+ rho, parts, temporaries)
KEPT_ARRAYS = 5  # AnalyticKernels per depth: gpk and the parts A, W, V, v

__all__ = [
    "SERIES_BELOW",
    "AnalyticKernels",
    "analytic_kernels",
    "arccos_kernels",
    "check_data",
    "correlation_complements",
    "gpk",
    "group_of",
    "kernels_at_depths",
    "normalise",
    "ntk",
    "ntk_at_depths",
    "relu_step",
    "relu_terms",
    "resnet_layers",
    "sin_minus_t_cos",
    "unit_circle",
]


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


def group_of(name: str) -> str:
    """The matrix group of a Huang net's weight name: ``A``, ``W`` (W_l or W@l), ``V`` (V_l, V@l) or ``v``."""
    return name.split("@")[0].rstrip("0123456789")


def analytic_kernels(spec: ArchitectureSpec, inputs: object, *, max_bytes: int | None = None) -> AnalyticKernels:
    """GPK and NTK of a ``HuangFFNet`` or ``HuangResNet`` at infinite width on ``inputs`` (k, input_dim).

    The spec's ``width`` is ignored (the limit); ``depth``, ``gamma`` and ``train_all`` are used.
    """
    if not isinstance(spec, HuangFFNet | HuangResNet):
        raise ValueError(f"analytic kernels exist for HuangFFNet and HuangResNet, got {type(spec).__name__}")
    return kernels_at_depths(spec, inputs, (spec.depth,), max_bytes=max_bytes)[spec.depth]


def kernels_at_depths(
    spec: ArchitectureSpec, inputs: object, depths: Sequence[int], *, max_bytes: int | None = None
) -> dict[int, AnalyticKernels]:
    """Analytic kernels of ``spec`` with its depth replaced by each of ``depths``: {L: kernels}.

    FFNet: one walk through the layers of the deepest net, read off at every L (layer l does not depend on
    L). ResNet: alpha = L^-gamma depends on L, so one run per depth. Cost O(sum L k^2) at most.
    """
    return _at_depths(spec, inputs, depths, lambda kernels: kernels, "kernels_at_depths", KEPT_ARRAYS, max_bytes)


def ntk_at_depths(
    spec: ArchitectureSpec, inputs: object, depths: Sequence[int], *, max_bytes: int | None = None
) -> dict[int, np.ndarray]:
    """{L: the (k, k) NTK at depth L}, as ``kernels_at_depths`` but keeping only the NTKs (memory: one
    (k, k) array per depth plus the recursion's state, for large k)."""
    return _at_depths(spec, inputs, depths, lambda kernels: kernels.ntk, "ntk_at_depths", 1, max_bytes)


def _at_depths(
    spec: ArchitectureSpec,
    inputs: object,
    depths: Sequence[int],
    keep: Callable[[AnalyticKernels], T],
    owner: str,
    kept_arrays: int,
    max_bytes: int | None,
) -> dict[int, T]:
    if not isinstance(spec, HuangFFNet | HuangResNet):
        raise ValueError(f"analytic kernels exist for HuangFFNet and HuangResNet, got {type(spec).__name__}")
    if isinstance(depths, str | bytes) or not isinstance(depths, Sequence):
        raise ValueError(f"{owner}: depths must be a sequence of integers >= 1, got {depths!r}")
    depths = tuple(positive_int(owner, "depths", L) for L in depths)
    if not depths:
        raise ValueError(f"{owner}: depths is empty")
    data = check_data(spec, inputs)
    k = data.shape[0]  # preflight: the recursion's working arrays plus what is kept per depth, all (k, k)
    check_fits(
        owner, spec, 8 * k * k * (WORKING_ARRAYS + kept_arrays * len(set(depths))),
        f"the (k, k) kernels of k = {k:,} inputs at {len(set(depths))} depth(s)",
        "use fewer inputs or depths per call (ntk_at_depths keeps one array per depth)", max_bytes=max_bytes,
    )  # fmt: skip
    groups = {group_of(name) for name in spec.trained()}
    if isinstance(spec, HuangFFNet):
        found = {L: keep(k) for L, k in _ffnet_sweep(spec, data, set(depths), groups)}
    else:
        found = {}
        for L in set(depths):  # the diagonal grows like (1 + alpha^2)^L: beyond ~1e260 the NTK leaves float64
            exponent = L * math.log1p(float(L) ** (-2 * spec.gamma))
            if exponent > 600:
                raise ValueError(
                    f"HuangResNet kernels at depth {L}, gamma {spec.gamma} overflow float64: Sigma_L(x, x) grows "
                    f"like (1 + L^-2gamma)^L = exp({exponent:.0f}); use gamma >= 1/2 or a smaller depth"
                )
            found[L] = keep(_huang_kernels(_resnet_kernels(spec, L, data), groups))
    return {L: found[L] for L in depths}


def _huang_kernels(kernels: InfiniteWidthKernels, groups: set[str]) -> AnalyticKernels:
    """The generic kernels as ``AnalyticKernels``: the output NNGP is Sigma_L (f = v x_L / sqrt n)."""
    parts = kernels.parts
    return AnalyticKernels(gpk=kernels.nngp, parts=parts, trained=tuple(g for g in parts if g in groups))


def resnet_layers(spec: HuangResNet, depth: int) -> Layer:
    """``HuangResNet``'s layers at ``depth`` with its L blocks as one ``Repeat`` (matrices W@l, V@l): the same
    layers and kernel steps as ``spec.network`` (``models.presets.huang_resnet``), without building L blocks.
    Width 1: NTK-parameterised kernels do not depend on the widths."""
    block = Residual(Serial(Dense(1, name="W"), ReLU(HE_GAIN), Dense(1, name="V")), alpha=float(depth) ** (-spec.gamma))
    ends = {"trained": spec.train_all}
    return Serial(Dense(1, name="A", **ends), Repeat(block, depth), Dense(1, name="v", **ends))


def _resnet_kernels(spec: HuangResNet, depth: int, data: np.ndarray) -> InfiniteWidthKernels:
    state = resnet_layers(spec, depth).kernel(input_state(data, Shape((), (spec.input_dim,)), group_of), "")
    return _kernels_of(state)


def _ffnet_sweep(
    spec: HuangFFNet, data: np.ndarray, depths: set[int], groups: set[str]
) -> list[tuple[int, AnalyticKernels]]:
    """(L, kernels of the depth-L FFNet) for L in ``depths``, in one walk: A, then the block (W, q) repeated
    (``models.presets.huang_ffnet``'s layers, as one ``Repeat``), and after the l-th block the output layer
    v's step gives the depth-l net (layer l does not depend on L)."""
    ends = {"trained": spec.train_all}
    hidden = Serial(Dense(1, name="W"), ReLU(HE_GAIN))
    output = Dense(1, name="v", **ends)
    state = Dense(1, name="A", **ends).kernel(input_state(data, Shape((), (spec.input_dim,)), group_of), "Serial[0]")
    found = []
    for depth in range(1, max(depths) + 1):
        state = hidden.kernel(state, f"Serial[1].Repeat[{depth}]")
        if depth in depths:
            found.append((depth, _huang_kernels(_read_out(output, state), groups)))
    return found


def _read_out(output: Layer, state: KernelState) -> InfiniteWidthKernels:
    """The kernels after the output layer's step from ``state`` (the state itself is left as it is)."""
    return _kernels_of(output.kernel(state, "Serial[2]"))


def _kernels_of(state: KernelState) -> InfiniteWidthKernels:
    (block,) = state.blocks
    return InfiniteWidthKernels(nngp=block.nngp, ntk=block.ntk, parts=dict(block.parts))


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
