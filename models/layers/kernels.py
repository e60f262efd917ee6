"""Infinite-width kernel steps of the layers (stax's ``kernel_fn``): the state they map and the shared math.

Each layer with a closed form has ``kernel(state, where) -> KernelState`` next to its forward pass (Dense
in ``dense.py``, activations in ``activation.py``, combinators in ``combinators.py``); every other layer
inherits ``Layer.kernel``, which raises ``unsupported``. A stream of width n carries, per group of
coordinates that share one law (a ``KernelBlock``: the blocks of a ``Concat``, or a mixture made by a
residual over one), the limits as every width goes to infinity (Jacot et al. 2018, Thm 1; Lee et al. 2018)

    NNGP  Sigma(x, x') = lim E[h_i(x) h_i(x')],           NTK  Theta(x, x') = lim <dh_i(x)/dtheta, dh_i(x')/dtheta>,

for one coordinate i of the block, with theta the trained parameters seen so far (``parts`` splits Theta
by matrix). A network's input block is x itself (d coordinates, Sigma = x.x'/d, Theta = 0): it is not
Gaussian, so a nonlinearity needs a Dense first. Sigma is kept twice: as the matrix ``nngp`` and, for the
precision deep ReLU nets need (``estimators.analytic``), as its diagonal and the correlation complements
delta = 1 - rho, epsilon = 1 + rho, each to full relative precision.

Shared math: the arc-cosine kernels of ReLU (Cho & Saul 2009) in the (delta, epsilon) form (``relu_terms``),
Williams' (1997) erf kernel (``erf_terms``), and ``mix``: the Gram of a weighted sum of kernels (a dense
layer over blocks, a residual, a sum, a bias) with its delta, epsilon again to full relative precision.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.layers.core import Namer, Shape

SERIES_BELOW = 0.05  # |t| below which J(t) = sin t - t cos t is summed as a series
# J(t) = sum_{k>=1} (-1)^(k+1) 2k t^(2k+1) / (2k+1)!; 8 terms: t^17 / 17! * 16 < 1e-35 at t = 0.05
_SERIES = np.array([(-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1) for k in range(1, 9)])
CLOSED_FORMS = "Dense, Activation relu/erf/identity, Serial, Sum, Concat, Residual and Repeat on vector inputs"


# --- the arc-cosine kernels (ReLU) -----------------------------------------------------------------------
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
    """Order-0 and order-1 arc-cosine kernels (k0, k1) of a correlation array (any shape; Cho & Saul 2009).

    k0 = E[1{u > 0} 1{u' > 0}] = (pi - theta) / (2 pi), k1 = E[phi(u) phi(u')] = (sin theta + (pi - theta)
    cos theta) / (2 pi) for standard normal (u, u') with correlation rho = cos theta. NaN raises ValueError;
    values are clipped to [-1, 1] (rounding in rho = Sigma_xy / sqrt(Sigma_xx Sigma_yy)).
    """
    rho = np.asarray(rho, dtype=np.float64)
    if np.isnan(rho).any():
        raise ValueError("arccos_kernels: rho contains NaN")
    rho = np.clip(rho, -1.0, 1.0)
    supplement = 2.0 * np.arctan2(np.sqrt(1.0 + rho), np.sqrt(1.0 - rho))  # pi - arccos rho, precise near +-1
    k0 = supplement / (2 * math.pi)
    k1 = sin_minus_t_cos(supplement) / (2 * math.pi)
    return k0, k1


# --- Williams' erf kernel ----------------------------------------------------------------------------
def erf_terms(variance: np.ndarray, nngp: np.ndarray, minus: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, ...]:
    """(variance', nngp', Sigma_dot) of erf(u) for u ~ N(0, Sigma) (Williams 1997): with
    D = (1 + 2 S_xx)(1 + 2 S_yy) - 4 S_xy^2 = 1 + 2 S_xx + 2 S_yy + 4 S_xx S_yy delta epsilon (S = Sigma),

        E[erf(u) erf(u')] = (2 / pi) arcsin(2 Sigma_xy / sqrt((1 + 2 Sigma_xx)(1 + 2 Sigma_yy)))
                          = (2 / pi) atan2(2 Sigma_xy, sqrt(D)),
        E[erf'(u) erf'(u')] = (4 / pi) / sqrt(D)       (erf' = 2 exp(-u^2) / sqrt(pi)).

    D is a sum of non-negative terms (no cancellation); the new correlation is then a ratio of arctangents,
    carried with absolute (not relative) precision 1e-16 in rho."""
    outer = np.outer(variance, variance)
    det = 1.0 + 2.0 * variance[:, None] + 2.0 * variance[None, :] + 4.0 * outer * minus * plus
    new_nngp = (2.0 / math.pi) * np.arctan2(2.0 * nngp, np.sqrt(det))
    new_variance = (2.0 / math.pi) * np.arctan2(2.0 * variance, np.sqrt(1.0 + 4.0 * variance))
    return new_variance, new_nngp, (4.0 / math.pi) / np.sqrt(det)


# --- the state ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelBlock:
    """``width`` coordinates of a stream that share one infinite-width law, on k inputs.

    ``matrix``: which of the stream's shape blocks they lie in (a following Dense owns one matrix per shape
    block of a ``Concat``). ``variance`` Sigma(x, x) (k,); ``nngp`` Sigma (k, k); ``minus`` / ``plus``
    1 -+ rho (k, k); ``ntk`` Theta (k, k); ``parts`` Theta's contribution of each matrix (or group of
    matrices, by the state's ``part_key``), trained or not; ``gaussian``: whether the coordinates are a
    Gaussian process (true after a Dense; false for the raw input and after a nonlinearity). The arrays are
    never written in place, so steps share them between states (a weight of 1 returns them as they are)."""

    width: int
    matrix: int
    variance: np.ndarray
    nngp: np.ndarray
    minus: np.ndarray
    plus: np.ndarray
    ntk: np.ndarray
    parts: Mapping[str, np.ndarray]
    gaussian: bool


@dataclass(frozen=True)
class KernelState:
    """What flows through ``Layer.kernel``: the stream's blocks, its ``Shape``, the weight ``Namer`` (the
    same walk order as ``params`` and ``apply``), and ``part_key`` (matrix name -> part name, or None to
    skip the per-matrix parts)."""

    blocks: tuple[KernelBlock, ...]
    shape: Shape
    namer: Namer
    part_key: Callable[[str], str] | None = None

    def evolve(self, blocks: tuple[KernelBlock, ...], shape: Shape | None = None) -> KernelState:
        """The state with new blocks (and shape), the same namer and part key."""
        return KernelState(blocks, self.shape if shape is None else shape, self.namer, self.part_key)


def unsupported(name: str, where: str, why: str = "") -> ValueError:
    """The error of a layer without a closed-form kernel step, naming it (``name``) and its position."""
    reason = f": {why}" if why else ""
    return ValueError(
        f"no closed-form infinite-width kernel for {name} at {where or 'the top level'}{reason}; closed forms "
        f"exist for {CLOSED_FORMS}"
    )


def correlation_complements(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 - rho, 1 + rho) of the rows of ``data`` (k, d) as half squared distances of the unit rows:
    |u - u'|^2 / 2 and |u + u'|^2 / 2, both (k, k), each to full relative precision (the Gram-matrix form
    1 - u.u' loses it near rho = 1). A zero row gets rho = 0 (its kernel entries are 0 whatever rho is).
    Row blocks keep the (b, k, d) temporaries small."""
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    unit = np.divide(data, norms, out=np.zeros_like(data), where=norms > 0)
    k, d = unit.shape
    minus, plus = np.empty((k, k)), np.empty((k, k))
    step = max(1, 2**21 // max(1, k * d))
    for start in range(0, k, step):
        rows = unit[start : start + step, None, :]
        minus[start : start + step] = ((rows - unit[None]) ** 2).sum(-1) / 2
        plus[start : start + step] = ((rows + unit[None]) ** 2).sum(-1) / 2
    zero = norms[:, 0] == 0
    if zero.any():
        minus[zero, :] = minus[:, zero] = plus[zero, :] = plus[:, zero] = 1.0
    np.fill_diagonal(minus, 0.0)
    np.fill_diagonal(plus, 2.0)
    return minus, plus


def input_state(data: np.ndarray, shape: Shape, part_key: Callable[[str], str] | None = None) -> KernelState:
    """The state of a network's input x (k, d): one non-Gaussian block, Sigma = x x'^T / d, Theta = 0."""
    d = data.shape[1]
    minus, plus = correlation_complements(data)
    block = KernelBlock(
        width=d, matrix=0, variance=(data**2).sum(axis=1) / d, nngp=data @ data.T / d, minus=minus, plus=plus,
        ntk=np.zeros((len(data), len(data))), parts={}, gaussian=False,
    )  # fmt: skip
    return KernelState((block,), shape, Namer(), part_key)


def mix(
    blocks: Sequence[KernelBlock], weights: Sequence[float], bias_variance: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(variance, nngp, minus, plus) of Sigma = sum_h p_h Sigma_h + b^2 (weights p_h >= 0, b^2 = ``bias_variance``).

    The bias is a component with Sigma_h(x, x) = 1, delta = 0, epsilon = 2 and weight b^2. With
    G = sqrt(Sigma(x, x) Sigma(x', x')) and m = Sigma(x, x'), G^2 - m^2 = N is a sum of non-negative terms
    (s_h = sqrt(Sigma_h(x, x)), s_h' the same at x'):

        N = sum_h p_h^2 s_h^2 s_h'^2 delta_h epsilon_h
            + sum_{h < g} p_h p_g [(s_h s_g' - s_g s_h')^2 + s_h s_h' s_g s_g' (delta_h epsilon_g + epsilon_h delta_g)],

    so delta = 1 - m / G = N / (G (G + m)) for m >= 0 (else 1 - m / G, >= 1) and epsilon = N / (G (G - m)) for
    m < 0 (else 1 + m / G), each to full relative precision. When the components' variances are proportional
    (Sigma_h(x, x) = c_h Sigma_1(x, x) for every input: homogeneous nets, unit inputs), this is the convex
    combination delta = sum_h p_h c_h delta_h / sum_h p_h c_h (likewise epsilon), computed so. One block and no
    bias: delta, epsilon unchanged."""
    if len(blocks) == 1 and bias_variance == 0.0:
        (block,), (weight,) = blocks, weights
        if weight == 1.0:  # the arrays are never written in place, so they can be shared
            return block.variance, block.nngp, block.minus, block.plus
        return weight * block.variance, weight * block.nngp, block.minus, block.plus
    k = len(blocks[0].variance)
    components = [(w, b.variance, b.minus, b.plus) for w, b in zip(weights, blocks, strict=True) if w > 0]
    variance = weighted_sum((w, b.variance) for w, b in zip(weights, blocks, strict=True))
    nngp = weighted_sum((w, b.nngp) for w, b in zip(weights, blocks, strict=True))
    if bias_variance > 0:
        components.append((bias_variance, np.ones(k), np.zeros((k, k)), np.full((k, k), 2.0)))
        variance, nngp = variance + bias_variance, nngp + bias_variance
    ratios = _proportions([v for _, v, _, _ in components])
    if ratios is not None:
        shares = [p * c for (p, _, _, _), c in zip(components, ratios, strict=True)]
        total = math.fsum(shares)
        new_minus = weighted_sum((q, minus) for q, (_, _, minus, _) in zip(shares, components, strict=True))
        new_plus = weighted_sum((q, plus) for q, (_, _, _, plus) in zip(shares, components, strict=True))
        return variance, nngp, new_minus / total, new_plus / total
    gap = np.zeros((k, k))
    roots = [np.sqrt(v) for _, v, _, _ in components]
    for h, ((p, _, minus, plus), s) in enumerate(zip(components, roots, strict=True)):
        outer = np.outer(s, s)
        gap += p * p * outer * outer * minus * plus
        for (q, _, minus_q, plus_q), t in zip(components[h + 1 :], roots[h + 1 :], strict=True):
            cross = np.outer(s, t)
            gap += p * q * ((cross - cross.T) ** 2 + outer * np.outer(t, t) * (minus * plus_q + plus * minus_q))
    root = np.sqrt(np.outer(variance, variance))
    with np.errstate(divide="ignore", invalid="ignore"):
        new_minus = np.where(nngp >= 0, gap / (root * (root + nngp)), 1.0 - nngp / root)
        new_plus = np.where(nngp < 0, gap / (root * (root - nngp)), 1.0 + nngp / root)
    degenerate = root == 0  # a row of zero variance: its entries are 0 whatever rho is
    new_minus[degenerate], new_plus[degenerate] = 1.0, 1.0
    np.fill_diagonal(new_minus, 0.0)
    np.fill_diagonal(new_plus, 2.0)
    return variance, nngp, new_minus, new_plus


def _proportions(variances: Sequence[np.ndarray]) -> list[float] | None:
    """c_h with variances[h] = c_h variances[0] to 8 ulp in every entry (all positive), else None."""
    first = variances[0]
    if not (first > 0).all():
        return None
    ratios = [1.0]
    for variance in variances[1:]:
        if variance is first:
            ratios.append(1.0)
            continue
        ratio = variance / first
        low, high = ratio.min(), ratio.max()
        if not high - low <= 8 * np.finfo(float).eps * high:
            return None
        ratios.append(float(ratio[0]))
    return ratios


def scaled(weight: float, array: np.ndarray) -> np.ndarray:
    """weight * array (the array itself for weight 1: arrays of a state are never written in place)."""
    return array if weight == 1.0 else weight * array


def weighted_sum(pairs: Iterable[tuple[float, np.ndarray]]) -> np.ndarray:
    """sum_h w_h a_h over (w_h, a_h) pairs (at least one); a weight of 1 adds a_h itself."""
    total: np.ndarray | None = None
    for weight, array in pairs:
        term = array if weight == 1.0 else weight * array
        total = term if total is None else total + term
    if total is None:
        raise ValueError("weighted_sum of nothing")
    return total


def weighted_parts(pairs: Iterable[tuple[float, Mapping[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """sum_h w_h parts_h, key by key (a key missing from some parts_h contributes 0 there)."""
    out: dict[str, np.ndarray] = {}
    for weight, parts in pairs:
        if not out and weight == 1.0:
            out = dict(parts)
            continue
        for key, part in parts.items():
            term = part if weight == 1.0 else weight * part
            out[key] = out[key] + term if key in out else term
    return out


@functools.lru_cache(maxsize=256)
def square(gain: float) -> float:
    """gain^2, snapped to the nearest integer within 4 ulp: ``HE_GAIN`` = sqrt 2 is meant as gain^2 = 2, and
    float64's sqrt(2)^2 = 2 (1 + 2.2e-16) would compound to 2e-12 relative over 10^4 layers."""
    value = gain * gain
    nearest = float(round(value))
    return nearest if nearest != 0 and abs(value - nearest) <= 4 * np.finfo(float).eps * nearest else value


__all__ = [
    "CLOSED_FORMS",
    "SERIES_BELOW",
    "KernelBlock",
    "KernelState",
    "arccos_kernels",
        "correlation_complements",
    "erf_terms",
    "input_state",
    "mix",
    "relu_terms",
    "scaled",
    "sin_minus_t_cos",
    "square",
    "unsupported",
    "weighted_parts",
    "weighted_sum",
]
