"""Spectral norm of the Hessian of f w.r.t. all weights, ||grad f|| and the NTK, for B networks at once.

Liu, Zhu & Belkin (NeurIPS 2020) bound the change of the tangent kernel by ||H_f|| = ||d^2 f / dw^2||_2.
The Hessian is never formed: Lanczos (full reorthogonalisation, float64) runs on Hessian-vector products
H v = d/de grad f(w + e v) (forward-over-reverse, ``torch.func.jvp`` of ``torch.func.grad``), batched
over B independent networks (their Hessians are blocks of one block-diagonal operator).

Exact reduction for nets of dense layers y = s W h (every matrix applied once; all specs in ``models``):
at one input, grad_W f = s delta h^T (delta = df/dy), so the W-block of H v is
s (delta_dot h^T + delta h_dot^T): range(H) lies in S = {u e_h^T + e_delta w^T : w _|_ e_h} with unit
vectors e_h = h/|h|, e_delta = delta/|delta|. The map (u, w) -> u e_h^T + e_delta w^T is an isometry
onto S (|u|^2 + |w|^2 = ||.||_F^2), H maps S into itself, and every eigenvector of a non-zero eigenvalue
lies in range(H) within S: ||H|| = ||H restricted to S||. Lanczos on S stores vectors of dimension
sum_W (fan_out + fan_in) instead of sum_W fan_out * fan_in (8 K instead of 3 M numbers at L = 4,
m = 1024), so reorthogonalisation is free and each step costs one HVP, O(P).

A matrix shared over positions or tokens (convolution, attention) has grad_W f = s sum_p delta_p h_p^T,
of rank up to the number of positions: there Lanczos runs on the full weight space (P-dimensional vectors,
``range_reduction_holds`` decides), exact but with a basis of B x steps x P numbers.

Spectral norm, not the top eigenvalue: Hessians of f are indefinite (the cross blocks between
consecutive layers give eigenvalues of both signs), so the Ritz value of largest *modulus* is tracked;
``SpectralNorm.eigenvalue`` keeps its sign. Ritz values interlace the spectrum, so |theta| <= ||H||.

Convergence: Lanczos stops when the Ritz pair (theta, u) of largest |theta| has estimated residual
beta_j |s_j| <= rtol |theta| / 2 for every network; the residual ||H u - theta u|| is then recomputed
with one more HVP and reported (|theta - lambda| <= residual for some eigenvalue lambda). A network
whose recomputed residual exceeds rtol |theta| raises ``LanczosNotConverged`` (unless the caller asks
for ``allow_unconverged=True`` and reads ``SpectralNorm.converged``): no unconverged value is returned
silently. Everything runs in float64 (weights are cast): the criterion is relative (rtol down to 1e-10
in the tests against the dense Hessian) and each HVP sums O(P) terms, so float32 round-off (6e-8
relative per term) would floor the attainable residual around 1e-5.

API: ``hessian_spectral_norm`` (-> ``SpectralNorm``), ``hessian_vector_product`` (full-space H v),
``gradient`` / ``gradient_norm`` (||grad f|| = sqrt(K(x, x))), ``ntk_gram`` (K over k inputs),
``draw_networks``, ``random_direction`` / ``unit`` / ``shifted`` (ball points w0 + R u) and
``sweep_widths`` (all of these per width for the LZB claims).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from statsmodels.stats.weightstats import DescrStatsW
from torch.func import grad, jvp

from engine.budget import MonteCarlo
from engine.intervals import Estimates
from engine.statistics import ols_slope
from estimators.memory import available_bytes, check_fits, first_batched_weight
from estimators.ntk import ntk_of_weights, sample_ntk
from estimators.sampling import derive_seed, initial_values
from models.activations import OUTPUT_DERIVATIVES
from models.base import ArchitectureSpec, Tape
from models.lzb import LZBNet
from models.strategies_lzb import WidthSweepCase
from models.validation import positive_int

Operator = Callable[[torch.Tensor], torch.Tensor]
WeightDict = dict[str, torch.Tensor]


class LanczosNotConverged(RuntimeError):
    """Lanczos spent ``max_iter`` steps without reaching residual <= rtol * ||H|| for some network."""


def check_weights(spec: ArchitectureSpec, weights: object, owner: str = "weights") -> WeightDict:
    """Validate batched weights of ``spec`` (name -> (B, fan_out, fan_in), one B, finite reals) and return
    them detached in float64; a ValueError naming the matrix otherwise."""
    if not isinstance(weights, dict):
        raise ValueError(f"{owner} must be a dict name -> (B, fan_out, fan_in) tensor, got {type(weights).__name__}")
    shapes = spec.weight_shapes()
    if set(weights) != set(shapes):
        missing, extra = sorted(set(shapes) - set(weights)), sorted(set(weights) - set(shapes))
        raise ValueError(f"{owner} must name exactly the matrices {list(shapes)}; missing {missing}, unknown {extra}")
    checked, batch = {}, None
    for name, shape in shapes.items():
        value = weights[name]
        if not isinstance(value, torch.Tensor) or value.is_complex() or value.dtype == torch.bool:
            raise ValueError(f"{owner}[{name!r}] must be a real torch tensor, got {type(value).__name__}")
        if value.ndim != 3 or tuple(value.shape[1:]) != shape:
            raise ValueError(f"{owner}[{name!r}] must have shape (B, {shape[0]}, {shape[1]}), got {tuple(value.shape)}")
        if batch is None:
            batch = value.shape[0]
        if value.shape[0] != batch or batch < 1:
            raise ValueError(f"{owner} needs one batch size B >= 1 for every matrix; {name!r} has {value.shape[0]}")
        value = value.detach().to(torch.float64)
        if not torch.isfinite(value).all():
            raise ValueError(f"{owner}[{name!r}] contains NaN or inf")
        checked[name] = value
    return checked


@dataclass(frozen=True)
class SpectralNorm:
    """Lanczos result per network (B,): ``norm`` = |theta| = ||H||_2, the signed extreme Ritz value
    ``eigenvalue``, the recomputed ``residual`` ||H u - theta u|| (|u| = 1), ``converged``
    (residual <= rtol * norm) and the number of Lanczos ``iterations`` spent (shared by the batch)."""

    norm: torch.Tensor
    eigenvalue: torch.Tensor
    residual: torch.Tensor
    converged: torch.Tensor
    iterations: int


def lanczos_extreme(
    operator: Operator, start: torch.Tensor, max_iter: int = 200, rtol: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Eigenvalue of largest modulus of B symmetric operators by Lanczos with full reorthogonalisation.

    ``operator`` maps (B, D) -> (B, D) row by row; ``start`` (B, D) is any non-zero start.
    Returns (Ritz value (B,), Ritz vector (B, D) of unit norm, estimated residual (B,), iterations).
    Breakdown (beta ~ 0: an invariant subspace, exact Ritz values) ends that network's recursion.
    """
    positive_int("lanczos_extreme", "max_iter", max_iter)
    if not (rtol > 0):
        raise ValueError(f"lanczos_extreme.rtol must be > 0, got {rtol!r}")
    n_networks, dim = start.shape
    steps = min(max_iter, dim)
    basis = start.new_zeros(n_networks, steps, dim)
    norms = start.norm(dim=1, keepdim=True)
    if not (norms > 0).all():
        raise ValueError("lanczos_extreme needs a non-zero start vector for every network")
    basis[:, 0] = start / norms
    alphas = start.new_zeros(n_networks, steps)
    betas = start.new_zeros(n_networks, steps)
    alive = torch.ones(n_networks, dtype=torch.bool, device=start.device)
    for j in range(steps):
        q = basis[:, j]
        w = operator(q)
        alphas[:, j] = (w * q).sum(dim=1)
        for _ in range(2):  # classical Gram-Schmidt twice: orthogonal to working precision
            w = w - torch.einsum("bk,bkd->bd", torch.einsum("bkd,bd->bk", basis[:, : j + 1], w), basis[:, : j + 1])
        beta = w.norm(dim=1)
        scale = alphas[:, : j + 1].abs().amax(dim=1).clamp_min(torch.finfo(start.dtype).tiny)
        breakdown = beta <= 1e3 * torch.finfo(start.dtype).eps * scale
        alive &= ~breakdown
        betas[:, j] = torch.where(alive, beta, torch.zeros_like(beta))
        ritz, vectors, residual = _ritz_extreme(alphas[:, : j + 1], betas[:, : j + 1])
        done = ~alive | (residual <= 0.5 * rtol * ritz.abs())
        if bool(done.all()) or j + 1 == steps:
            break
        basis[:, j + 1] = torch.where(alive[:, None], w / beta.clamp_min(torch.finfo(start.dtype).tiny)[:, None], 0.0)
    ritz_vector = torch.einsum("bk,bkd->bd", vectors, basis[:, : j + 1])
    return ritz, ritz_vector, residual, j + 1


def _ritz_extreme(alphas: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ritz value of largest modulus of the tridiagonal T_j, its eigenvector s (B, j), beta_j |s_j|."""
    size = alphas.shape[1]
    tridiagonal = torch.diag_embed(alphas)
    if size > 1:
        off = torch.diag_embed(betas[:, :-1], offset=1)
        tridiagonal = tridiagonal + off + off.transpose(-1, -2)
    values, vectors = torch.linalg.eigh(tridiagonal)
    pick = values.abs().argmax(dim=1)
    rows = torch.arange(values.shape[0], device=values.device)
    chosen = vectors[rows, :, pick]
    return values[rows, pick], chosen, betas[:, -1] * chosen[:, -1].abs()


# --- networks of dense layers ---------------------------------------------------------------


def _check_trained(spec: ArchitectureSpec) -> None:
    untrained = set(spec.weight_shapes()) - spec.trained()
    if untrained:
        raise ValueError(f"the Hessian estimator needs every matrix trained; {sorted(untrained)} are not")


def _single_input(spec: ArchitectureSpec, x: object, n_networks: int) -> torch.Tensor:
    inputs = spec.check_inputs(x)
    if inputs.shape[0] != 1:
        raise ValueError(f"the Hessian of f is taken at one input; got {inputs.shape[0]} inputs")
    return inputs.expand(n_networks, 1, spec.input_dim)


def output_sum(spec: ArchitectureSpec, x: torch.Tensor) -> Callable[[WeightDict], torch.Tensor]:
    """w -> sum_b f(x; w_b): its gradient is the batch of per-network gradients (networks independent)."""
    return lambda weights: spec.apply(weights, x.to(next(iter(weights.values())).dtype))[:, 0].sum()


def hessian_vector_product(spec: ArchitectureSpec, weights: WeightDict, x: object, tangent: WeightDict) -> WeightDict:
    """H_b v_b for every network b: weights and tangent name -> (B, out, in); forward-over-reverse, float64.
    The full-space product (matrix-sized tangents); ``hessian_spectral_norm`` uses the compressed one."""
    weights = check_weights(spec, weights)
    tangent = check_weights(spec, tangent, "tangent")
    first = next(iter(weights.values()))
    if next(iter(tangent.values())).shape[0] != first.shape[0]:
        raise ValueError("tangent and weights must hold the same number B of networks")
    return _hvp(spec, weights, _single_input(spec, x, first.shape[0]).to(first.device, first.dtype), tangent)


def _hvp(spec: ArchitectureSpec, weights: WeightDict, inputs: torch.Tensor, tangent: WeightDict) -> WeightDict:
    """H v for prepared inputs (B, 1, input_dim)."""
    _, product = jvp(grad(output_sum(spec, inputs)), (weights,), (tangent,))
    return product


@dataclass(frozen=True)
class _Subspace:
    """The isometry (u, w) -> u e_h^T + e_delta w^T of every matrix (the range of H at one input)."""

    names: tuple[str, ...]
    e_h: dict[str, torch.Tensor]  # (B, fan_in), zero where h = 0
    e_delta: dict[str, torch.Tensor]  # (B, fan_out), zero where delta = 0

    def split(self, c: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        parts, start = {}, 0
        for name in self.names:
            fan_out, fan_in = self.e_delta[name].shape[1], self.e_h[name].shape[1]
            parts[name] = (c[:, start : start + fan_out], c[:, start + fan_out : start + fan_out + fan_in])
            start += fan_out + fan_in
        return parts

    def project(self, c: torch.Tensor) -> torch.Tensor:
        """Zero u where h = 0, w where delta = 0, and the e_h component of w."""
        pieces = []
        for name, (u, w) in self.split(c).items():
            e_h, e_delta = self.e_h[name], self.e_delta[name]
            has_h = (e_h.abs().sum(dim=1, keepdim=True) > 0).to(u.dtype)
            has_delta = (e_delta.abs().sum(dim=1, keepdim=True) > 0).to(u.dtype)
            w = (w - e_h * (w * e_h).sum(dim=1, keepdim=True)) * has_delta
            pieces += [u * has_h, w]
        return torch.cat(pieces, dim=1)

    def expand(self, c: torch.Tensor) -> WeightDict:
        return {
            name: u[:, :, None] * self.e_h[name][:, None, :] + self.e_delta[name][:, :, None] * w[:, None, :]
            for name, (u, w) in self.split(c).items()
        }

    def compress(self, full: WeightDict) -> torch.Tensor:
        pieces = []
        for name in self.names:
            matrix = full[name]
            pieces += [
                torch.einsum("boi,bi->bo", matrix, self.e_h[name]),
                torch.einsum("boi,bo->bi", matrix, self.e_delta[name]),
            ]
        return self.project(torch.cat(pieces, dim=1))


def _range_subspace(spec: ArchitectureSpec, weights: WeightDict, x: torch.Tensor) -> tuple[_Subspace, torch.Tensor]:
    """The subspace S at (weights, x) and the squared gradient norms sum_W s^2 |delta|^2 |h|^2 (B,)."""
    tape = Tape()
    with torch.enable_grad():
        detached = {k: v.detach() for k, v in weights.items()}
        outputs = spec.apply(detached, x.to(next(iter(weights.values())).dtype), tape)
        probes = [record.probe for record in tape.records.values()]
        deltas = torch.autograd.grad(outputs.sum(), probes, allow_unused=True)
    e_h, e_delta, gradient_sq = {}, {}, 0.0
    for (name, record), delta in zip(tape.records.items(), deltas, strict=True):
        h = record.inputs[:, 0].detach()
        d = torch.zeros_like(record.probe[:, 0]) if delta is None else delta[:, 0]
        h_norm, d_norm = h.norm(dim=1, keepdim=True), d.norm(dim=1, keepdim=True)
        e_h[name] = torch.where(h_norm > 0, h / h_norm.clamp_min(torch.finfo(h.dtype).tiny), 0.0)
        e_delta[name] = torch.where(d_norm > 0, d / d_norm.clamp_min(torch.finfo(d.dtype).tiny), 0.0)
        gradient_sq = gradient_sq + record.scale**2 * (h_norm * d_norm)[:, 0] ** 2
    return _Subspace(tuple(tape.records), e_h, e_delta), gradient_sq  # type: ignore[return-value]


class _ShiftedWeights:
    """Lazy weights W + (u e_h^T + e_delta w^T) plus an additive probe on every layer output: applies the
    rank-2 shift without forming it (``models.base.dense`` calls ``apply_dense``) and records each input."""

    def __init__(self, weights: WeightDict, subspace: _Subspace, c: torch.Tensor, probes: WeightDict) -> None:
        self.weights, self.subspace, self.probes = weights, subspace, probes
        self.parts = subspace.split(c)
        self.inputs: WeightDict = {}

    @property
    def n_networks(self) -> int:
        return int(next(iter(self.weights.values())).shape[0])

    def apply_dense(self, name: str, h: torch.Tensor) -> torch.Tensor:
        if name in self.inputs:  # the range-subspace reduction needs grad_W f = s delta h^T (one use)
            raise ValueError(f"the Hessian estimator needs every matrix applied once; {name!r} is applied twice")
        self.inputs[name] = h
        u, w = self.parts[name]
        e_h, e_delta = self.subspace.e_h[name], self.subspace.e_delta[name]
        shift = (h @ e_h[:, :, None]) * u[:, None, :] + (h @ w[:, :, None]) * e_delta[:, None, :]
        return torch.matmul(h, self.weights[name].transpose(-1, -2)) + shift + self.probes[name]


def _compressed_hvp(spec: ArchitectureSpec, weights: WeightDict, inputs: torch.Tensor, subspace: _Subspace) -> Operator:
    """c -> coordinates of H expand(c) in S, without forming any matrix-sized tangent.

    With y = s (W h + p), g = df/dp and grad_W f = g h^T, whose coordinates are
    (g (h . e_h), h (g . e_delta)); their derivative along W + e expand(c) (forward mode over reverse
    mode, ``torch.func.jvp`` of ``torch.func.grad``) is the compressed H v. Cost: about 3 forward passes."""
    shapes = spec.weight_shapes()
    probes = {n: inputs.new_zeros(inputs.shape[0], inputs.shape[1], shapes[n][0]) for n in subspace.names}

    def coordinates(c: torch.Tensor) -> torch.Tensor:
        def output(p: WeightDict) -> tuple[torch.Tensor, WeightDict]:
            lazy = _ShiftedWeights(weights, subspace, c, p)
            return spec.apply(lazy, inputs)[:, 0].sum(), lazy.inputs  # type: ignore[arg-type]

        g, seen = grad(output, has_aux=True)(probes)
        pieces = []
        for name in subspace.names:
            gn, hn = g[name][:, 0], seen[name][:, 0]
            pieces += [
                gn * (hn * subspace.e_h[name]).sum(dim=1, keepdim=True),
                hn * (gn * subspace.e_delta[name]).sum(dim=1, keepdim=True),
            ]
        return torch.cat(pieces, dim=1)

    def operator(c: torch.Tensor) -> torch.Tensor:
        return subspace.project(jvp(coordinates, (torch.zeros_like(c),), (c,))[1])

    return operator


def range_reduction_holds(spec: ArchitectureSpec) -> bool:
    """Whether the range-subspace reduction is exact for ``spec``: every matrix applied once per input to a
    vector (no sharing over positions or tokens), so grad_W f = s delta h^T at one input."""
    return all(p == 1 for p in spec.positions.values())


def _full_space_hvp(spec: ArchitectureSpec, weights: WeightDict, inputs: torch.Tensor) -> Operator:
    """v -> H v on the flattened weight space (B, P) (any network: shared matrices, attention); one
    forward-over-reverse product, O(P) per call."""
    names = list(weights)
    shapes = [tuple(weights[n].shape[1:]) for n in names]
    sizes = [math.prod(shape) for shape in shapes]

    def operator(v: torch.Tensor) -> torch.Tensor:
        parts = torch.split(v, sizes, dim=1)
        tangent = {n: p.reshape(v.shape[0], *shape) for n, p, shape in zip(names, parts, shapes, strict=True)}
        product = _hvp(spec, weights, inputs, tangent)
        return torch.cat([product[n].reshape(v.shape[0], -1) for n in names], dim=1)

    return operator


def lanczos_bytes_per_network(spec: ArchitectureSpec, max_iter: int) -> int:
    """Peak float64 bytes of ``hessian_spectral_norm`` per network: 6 P (HVP buffers) + (max_iter + 2) dim."""
    full_space = spec.n_parameters()
    dim = sum(o + i for o, i in spec.weight_shapes().values()) if range_reduction_holds(spec) else full_space
    return 8 * (6 * spec.n_parameters(trained_only=False) + (max_iter + 2) * dim)


def hessian_spectral_norm(
    spec: ArchitectureSpec,
    weights: WeightDict,
    x: object,
    *,
    seed: int = 0,
    max_iter: int = 200,
    rtol: float = 1e-6,
    allow_unconverged: bool = False,
    max_bytes: int | None = None,
) -> SpectralNorm:
    """||d^2 f(x; w_b) / dw^2||_2 = max |eigenvalue| for B networks (weights name -> (B, out, in), cast to
    float64), at one input x.

    Lanczos on the exact range subspace S (module docstring) where ``range_reduction_holds``, else on the
    full weight space (shared matrices: convolutions, attention; basis B x steps x P), start vector seeded by
    ``derive_seed(seed, "lanczos-start")``; the reported residual ||H u - theta u|| is recomputed from a
    fresh HVP. Raises ``LanczosNotConverged`` if it exceeds ``rtol * ||H||`` for some network after
    ``max_iter`` steps, unless ``allow_unconverged`` (then read ``SpectralNorm.converged``).
    Preflight (before the subspace is built): 6 weight-sized buffers per network for the HVP (weights,
    tangents, the gradient and its JVP, shifted copies) plus the Lanczos basis, B (max_iter + 2) dim values
    with dim = sum over matrices of (fan_out + fan_in) (P on the full space), must fit in ``max_bytes``
    (default: available memory); ``lanczos_bytes_per_network``.
    """
    _check_trained(spec)
    positive_int("hessian_spectral_norm", "max_iter", max_iter)
    compressed = range_reduction_holds(spec)
    if (first_weight := first_batched_weight(weights)) is not None:
        batch = first_weight.shape[0]
        check_fits(
            "hessian_spectral_norm", spec, batch * lanczos_bytes_per_network(spec, max_iter),
            f"the Hessian-vector products and Lanczos basis of {batch} networks",
            "pass fewer networks per call, a smaller max_iter, or smaller widths", device=first_weight.device,
            max_bytes=max_bytes,
        )  # fmt: skip
    if not (isinstance(rtol, int | float) and 0 < rtol < 1):
        raise ValueError(f"hessian_spectral_norm.rtol must be in (0, 1), got {rtol!r}")
    weights = check_weights(spec, weights)
    first = next(iter(weights.values()))
    batch, dtype = first.shape[0], first.dtype
    inputs = _single_input(spec, x, batch).to(first.device, dtype)
    generator = torch.Generator(device=first.device).manual_seed(derive_seed(seed, "lanczos-start"))
    if compressed:
        subspace, _ = _range_subspace(spec, weights, inputs)
        operator = _compressed_hvp(spec, weights, inputs, subspace)
        dim = sum(subspace.e_delta[n].shape[1] + subspace.e_h[n].shape[1] for n in subspace.names)
        start = subspace.project(torch.randn(batch, dim, generator=generator, dtype=dtype, device=first.device))
    else:
        operator = _full_space_hvp(spec, weights, inputs)
        start = torch.randn(batch, spec.n_parameters(), generator=generator, dtype=dtype, device=first.device)
    ritz, vector, _, iterations = lanczos_extreme(operator, start, max_iter=max_iter, rtol=rtol)
    residual = (operator(vector) - ritz[:, None] * vector).norm(dim=1) / vector.norm(dim=1)
    norm = ritz.abs()
    result = SpectralNorm(norm, ritz, residual, residual <= rtol * norm, iterations)
    if not allow_unconverged and not bool(result.converged.all()):
        bad = (~result.converged).nonzero().flatten().tolist()
        raise LanczosNotConverged(
            f"Lanczos did not reach residual <= {rtol:g} * ||H|| in {iterations} steps for networks {bad}: "
            f"||H|| ~ {norm[bad].tolist()}, residuals {residual[bad].tolist()}; raise max_iter or rtol"
        )
    return result


def gradient_norm(spec: ArchitectureSpec, weights: WeightDict, x: object) -> torch.Tensor:
    """||grad_w f(x; w_b)|| over all weights for B networks (B,): sqrt(sum_W s^2 |delta|^2 |h|^2) = sqrt(K(x, x))."""
    weights = check_weights(spec, weights)
    first = next(iter(weights.values()))
    inputs = _single_input(spec, x, first.shape[0]).to(first.device, first.dtype)
    return _range_subspace(spec, weights, inputs)[1].sqrt()


def gradient(spec: ArchitectureSpec, weights: WeightDict, x: object) -> WeightDict:
    """grad_w f(x; w_b) of B networks at one input: name -> (B, fan_out, fan_in), float64 (reverse mode)."""
    weights = check_weights(spec, weights)
    first = next(iter(weights.values()))
    return grad(output_sum(spec, _single_input(spec, x, first.shape[0]).to(first.device, first.dtype)))(weights)


def ntk_gram(spec: ArchitectureSpec, weights: WeightDict, inputs: object) -> torch.Tensor:
    """Empirical NTK Gram matrix K(x_i, x_j; w_b) over all trained matrices: (B, k, k) for k inputs, float64
    (per-layer factorisation, ``estimators.ntk.ntk_of_weights``)."""
    weights = check_weights(spec, weights)
    first = next(iter(weights.values()))
    x = spec.check_inputs(inputs).to(first.device, first.dtype)
    trained = spec.trained()
    _, grams = ntk_of_weights(spec, weights, x)
    mask = torch.tensor([name in trained for name in spec.weight_shapes()], device=grams.device)
    return grams[:, mask].sum(dim=1)


def draw_networks(
    spec: ArchitectureSpec,
    seed: int,
    n_networks: int,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    max_bytes: int | None = None,
) -> WeightDict:
    """N(0, 1) weights of ``n_networks`` networks; network b from ``derive_seed(seed, "network", b)``,
    so network b does not depend on how many are drawn. name -> (B, out, in). Preflight: the per-network
    parts and their stack, 2 B P values, must fit in ``max_bytes`` (default: available memory)."""
    positive_int("draw_networks", "n_networks", n_networks)
    needed = 2 * n_networks * spec.n_parameters(trained_only=False) * torch.finfo(dtype).bits // 8
    check_fits(
        "draw_networks", spec, needed, f"the weights of {n_networks} networks ({dtype})",
        "draw fewer networks per call, or use smaller widths", device=device, max_bytes=max_bytes,
    )  # fmt: skip
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in spec.weight_shapes()}
    constants = initial_values(spec)  # normalisation gains and shifts start at 1 and 0
    for b in range(n_networks):
        generator = torch.Generator(device=device).manual_seed(derive_seed(seed, "network", b))
        for name, shape in spec.weight_shapes().items():
            if name in constants:
                parts[name].append(torch.full(shape, constants[name], dtype=dtype, device=device))
            else:
                parts[name].append(torch.randn(shape, generator=generator, dtype=dtype, device=device))
    return {name: torch.stack(p) for name, p in parts.items()}


def unit(direction: WeightDict) -> WeightDict:
    """direction / ||direction|| per network (norm over all matrices); a ValueError for a zero direction."""
    total = sum(r.pow(2).sum(dim=(1, 2)) for r in direction.values()).sqrt()  # type: ignore[union-attr]
    if not bool((total > 0).all()):
        raise ValueError("cannot normalise a zero direction (a network with grad f = 0?)")
    return {k: r / total[:, None, None] for k, r in direction.items()}


def random_direction(weights: WeightDict, seed: int) -> WeightDict:
    """A uniformly random unit vector u in the full weight space of each network (sum_W ||u_W||_F^2 = 1)."""
    first = next(iter(weights.values()))
    generator = torch.Generator(device=first.device).manual_seed(derive_seed(seed, "direction"))
    draws = {k: torch.randn(v.shape, generator=generator, dtype=v.dtype, device=v.device) for k, v in weights.items()}
    return unit(draws)


def shifted(weights: WeightDict, direction: WeightDict, radius: float) -> WeightDict:
    """w + radius * u, per network."""
    return {k: v + radius * direction[k] for k, v in weights.items()}


BALL_POINTS = ("random", "gradient")


@dataclass(frozen=True)
class WidthSweep:
    """Per network (N rows, ``n_networks`` per width), float64 (N,) each: ``width``; ||H_f|| at w0
    (``hessian_norm``), at w0 + R u for a uniformly random unit u (``hessian_norm_random``) and for
    u = grad f / ||grad f|| (``hessian_norm_gradient``; NaN without a ball); ||grad f||; and for the
    pre-output z (the spec with a linear output, same weights): z, ||grad z|| and ||H_z|| (NaN unless
    asked). ``max_relative_residual``: the largest Lanczos residual / ||H|| of the sweep."""

    width: torch.Tensor
    hessian_norm: torch.Tensor
    hessian_norm_random: torch.Tensor
    hessian_norm_gradient: torch.Tensor
    gradient_norm: torch.Tensor
    preoutput: torch.Tensor
    preoutput_gradient_norm: torch.Tensor
    preoutput_hessian_norm: torch.Tensor
    max_relative_residual: float


def sweep_widths(
    spec: LZBNet,
    x: object,
    widths: tuple[int, ...],
    n_networks: int,
    seed: int,
    *,
    radius: float = 0.0,
    preoutput_hessian: bool = False,
    rtol: float = 1e-3,
    max_iter: int = 300,
) -> WidthSweep:
    """Hessian and gradient norms of ``n_networks`` fresh networks at each width (``spec`` with its
    ``width`` field replaced; weights from ``derive_seed(seed, width)``). ``radius`` > 0 adds the two ball
    points w0 + R u (``BALL_POINTS``); ``preoutput_hessian`` adds ||H_z||. Lanczos must reach
    residual <= rtol * ||H|| (rtol = 1e-3 bounds the relative error of ||H|| by 1e-3), else
    ``LanczosNotConverged``."""
    if not isinstance(spec, LZBNet):
        raise ValueError(f"sweep_widths needs an LZBNet spec (it replaces the width), got {type(spec).__name__}")
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius >= 0):
        raise ValueError(f"sweep_widths.radius must be finite and >= 0, got {radius!r}")
    if len(widths) < 1:
        raise ValueError("sweep_widths needs at least one width")
    for width in widths:
        positive_int("sweep_widths", "widths[i]", width)
    positive_int("sweep_widths", "n_networks", n_networks)
    nan = torch.full((n_networks,), math.nan, dtype=torch.float64)
    rows: dict[str, list[torch.Tensor]] = {f.name: [] for f in dataclasses.fields(WidthSweep)[:-1]}
    worst = 0.0

    def norm_at(at: LZBNet, point: WeightDict, key: str) -> torch.Tensor:
        nonlocal worst
        key_seed = derive_seed(seed, at.width, key)
        result = hessian_spectral_norm(at, point, x, seed=key_seed, rtol=rtol, max_iter=max_iter)
        worst = max(worst, float((result.residual / result.norm.clamp_min(torch.finfo(torch.float64).tiny)).max()))
        return result.norm

    for width in widths:
        at_width = dataclasses.replace(spec, width=width)
        linear = dataclasses.replace(at_width, output_activation="identity")
        weights = draw_networks(at_width, derive_seed(seed, width), n_networks)
        rows["width"].append(torch.full((n_networks,), float(width), dtype=torch.float64))
        rows["hessian_norm"].append(norm_at(at_width, weights, "hessian_norm"))
        for point in BALL_POINTS:
            if radius == 0:
                rows[f"hessian_norm_{point}"].append(nan)
                continue
            if point == "random":
                direction = random_direction(weights, derive_seed(seed, width))
            else:
                direction = unit(gradient(at_width, weights, x))
            rows[f"hessian_norm_{point}"].append(norm_at(at_width, shifted(weights, direction, radius), point))
        rows["gradient_norm"].append(gradient_norm(at_width, weights, x))
        inputs = linear.check_inputs(x).expand(n_networks, -1, -1)
        rows["preoutput"].append(linear.apply(weights, inputs)[:, 0])
        rows["preoutput_gradient_norm"].append(gradient_norm(linear, weights, x))
        rows["preoutput_hessian_norm"].append(norm_at(linear, weights, "preoutput") if preoutput_hessian else nan)
    return WidthSweep(**{k: torch.cat(v) for k, v in rows.items()}, max_relative_residual=worst)


def hessian_norms(
    specs: tuple[ArchitectureSpec, ...],
    x: object,
    n_networks: int,
    seed: int,
    *,
    rtol: float = 1e-3,
    max_iter: int = 300,
) -> torch.Tensor:
    """||H_f|| at w0 of ``n_networks`` fresh networks of each spec (any composition; weights of spec i from
    ``derive_seed(seed, i)``), at one input: (len(specs), n_networks), float64, relative residual <= rtol.
    The networks of one spec go to Lanczos in chunks that fit in half the available memory."""
    positive_int("hessian_norms", "n_networks", n_networks)
    rows = []
    for i, spec in enumerate(specs):
        weights = draw_networks(spec, derive_seed(seed, i), n_networks)
        chunk = max(1, min(n_networks, available_bytes() // (2 * lanczos_bytes_per_network(spec, max_iter))))
        norms = []
        for start in range(0, n_networks, chunk):
            part = {name: w[start : start + chunk] for name, w in weights.items()}
            lanczos_seed = derive_seed(seed, i, "lanczos", start)
            norms.append(hessian_spectral_norm(spec, part, x, seed=lanczos_seed, rtol=rtol, max_iter=max_iter).norm)
        rows.append(torch.cat(norms))
    return torch.stack(rows)


# --- measures of the LZB claims (theorems/lzb_c2_*, lzb_c3_*): sweeps -> Estimates -----------------

RANK_ONE_DRAWS = 50  # sampler networks per Lanczos network for the rank-one slope
LANCZOS_SLACK = 2e-3  # 2 * rtol of sweep_widths: the most a correct Lanczos can miss an exact inequality by
CORRECTION_EXPONENT = -0.3  # -1/2 + the C1 margin


def ball_hessian_slopes(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """Slopes of log ||H|| on log width at w0, at w0 + R u (u uniform unit) and at w0 + R g/|g| (R = case.radius)."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed, radius=case.radius)
    log_width = np.log(sweep.width.numpy())
    columns = {"w0": sweep.hessian_norm, "w0+Ru": sweep.hessian_norm_random, "w0+Rg/|g|": sweep.hessian_norm_gradient}
    return Estimates.concat(
        [ols_slope(log_width, np.log(norm.numpy()), f"slope log|H| at {point}") for point, norm in columns.items()]
    )


def hessian_norm_slope(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """OLS slope of log ||H_f|| at w0 on log width, ``mc.n_draws`` Lanczos networks per width."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed)
    return ols_slope(np.log(sweep.width.numpy()), np.log(sweep.hessian_norm.numpy()), "slope log|H|")


def rank_one_nonvanishing(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """(a) slope of log R1, R1 = |s''(z)| ||grad z||^2, on log width (z, ||grad z||^2 = K_z(x, x) from the exact
    sampler, RANK_ONE_DRAWS * n_draws networks per width); (b) E ||H_f|| / R1 - 1 at the largest width (Lanczos)."""
    second = OUTPUT_DERIVATIVES[case.spec.output_activation][1]
    log_width, log_rank_one = [], []
    for width in case.widths:
        linear = dataclasses.replace(case.spec, width=width, output_activation="identity")
        n = RANK_ONE_DRAWS * mc.n_draws
        draws = sample_ntk(linear, case.inputs, n, derive_seed(mc.seed, "rank-one", width), sampler=mc.sampler,
                           device=mc.device)
        log_rank_one.append(np.log((second(draws.outputs[:, 0]).abs() * draws.gram[:, 0, 0]).numpy()))
        log_width.append(np.full(n, np.log(width)))
    sweep = sweep_widths(case.spec, case.inputs, (max(case.widths),), mc.n_draws, mc.seed)
    rank_one = second(sweep.preoutput).abs() * sweep.preoutput_gradient_norm**2
    ratio = DescrStatsW((sweep.hessian_norm / rank_one - 1.0).numpy())
    return Estimates.concat(
        [
            ols_slope(np.concatenate(log_width), np.concatenate(log_rank_one), "slope log s''(z)|grad z|^2"),
            Estimates.single(f"E|H_f|/(s''|grad z|^2) - 1 at m={max(case.widths)}", float(ratio.mean),
                             float(ratio.std_mean), float(ratio.nobs - 1), int(ratio.nobs)),
        ]
    )


def rank_one_bound(case: WidthSweepCase, mc: MonteCarlo, factor: float = 1.0) -> Estimates:
    """(a) worst relative violation of ||H_f|| >= factor |s''| ||grad z||^2 - |s'| ||H_z|| over all networks
    and widths, minus LANCZOS_SLACK (deterministic: standard error 0); (b) slope of log ||H_z|| minus
    CORRECTION_EXPONENT."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed, preoutput_hessian=True)
    first, second = OUTPUT_DERIVATIVES[case.spec.output_activation]
    correction = first(sweep.preoutput).abs() * sweep.preoutput_hessian_norm
    bound = factor * second(sweep.preoutput).abs() * sweep.preoutput_gradient_norm**2 - correction
    violation = float(((bound - sweep.hessian_norm) / sweep.hessian_norm).max())
    slope = ols_slope(np.log(sweep.width.numpy()), np.log(sweep.preoutput_hessian_norm.numpy()), "")
    return Estimates.concat(
        [
            Estimates.single(f"max violation of the bound (x{factor:g}) - {LANCZOS_SLACK:g}",
                             violation - LANCZOS_SLACK, 0.0, 1.0, len(sweep.width)),
            Estimates(slope.estimate - CORRECTION_EXPONENT, slope.standard_error, slope.dof,
                      (f"slope log|H_z| - ({CORRECTION_EXPONENT:g})",), slope.n_samples),
        ]
    )
