"""Batched Monte Carlo of Littwin et al.'s path sums f_k, Jacobian norms ||J^k||^2 and reduced outputs f_(k).

Path sum (UAI 2021, Eq. 12): f_k is the part of f made of the paths through W^k, with the full net's
activation pattern. Every architecture here applies each matrix once and, at a fixed pattern, f is
linear in W^k (ReLU is positively homogeneous; paths cross W^k at most once), so by Euler's theorem

    f_k = <W^k, df/dW^k> = s delta_k^T W^k h_k = <df/dy_k, y_k>,        y_k = s W^k h_k,

the inner product of a dense layer's output with the gradient of f with respect to it (the tape's
probe gradient). Both factors come from the one forward and one backward pass that also give
||J^k||^2 = s^2 ||delta_k||^2 ||h_k||^2 (``estimators.ntk``), for dense weights and under the exact
low-rank sampler alike: y_k is the sampled Y and delta_k the sampled D, whose joint law with every
other layer's (h, D) is the dense network's (``estimators.lowrank``), so f_k is exact in law too.
The layer outputs are captured by wrapping the weights (``RecordingWeights``), so neither the models
nor ``estimators.ntk`` change.

Rao-Blackwellised moments: the output row w_out ~ N(0, I) is applied last, so given every other weight
f = s_out w_out . h_out ~ N(0, sigma^2) with sigma^2 = s_out^2 ||h_out||^2 (``sample_output_variances``),
and f_k = s_out w_out . v_k ~ N(0, sigma_k^2) with v_k the W^k-path part of h_out, obtained by
forward-mode differentiation along W^k -> (1 + e) W^k (``sample_path_sum_variances``; the tangent
rows go through each matrix together with the primal rows, so the exact sampler draws them jointly).
Then E[g^p] = (p - 1)!! E[sigma^p] for even p: the same expectation as g^p with far lighter tails.
Reduced networks (``models.reduced.reduced_network``) are drawn with ``reduced_seed(seed, k)``,
independent of the full net's networks. ``moment_ratio`` turns two samples into a ratio of moments
with a delta-method standard error. Float64 throughout: fourth powers are formed, and the Euler
identity is checked to 1e-10.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import factorial2
from statsmodels.stats.weightstats import DescrStatsW

from engine.intervals import Estimates
from estimators.ntk import SAMPLERS, draw_in_chunks
from estimators.sampling import derive_seed
from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec, LazyWeights, Tape, dense
from models.reduced import bypassing_edges, connection_graph


class RecordingWeights:
    """Dense or lazy weights that remember each layer's ``h W^T`` (B, k, fan_out) under its name."""

    def __init__(self, weights: dict[str, torch.Tensor] | LazyWeights) -> None:
        self.inner = weights
        self.products: dict[str, torch.Tensor] = {}

    @property
    def n_networks(self) -> int:
        """The batch size B."""
        return n_networks(self.inner)

    def apply_dense(self, name: str, h: torch.Tensor) -> torch.Tensor:
        if isinstance(self.inner, LazyWeights):
            product = self.inner.apply_dense(name, h)
        else:
            product = torch.matmul(h, self.inner[name].transpose(-1, -2))
        self.products[name] = product
        return product


def path_sums_of_weights(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor] | LazyWeights, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """f (B, k), path sums f_k = <df/dy_k, y_k> (B, M, k) and ||J^k||^2 (B, M, k) for every matrix k.

    Matrices in ``spec.weight_shapes()`` order. One forward and one backward pass.
    """
    recording = RecordingWeights(weights)
    tape = Tape()
    with torch.enable_grad():
        outputs = spec.apply(recording, x.expand(recording.n_networks, *x.shape), tape)  # type: ignore[arg-type]
        probes = [record.probe for record in tape.records.values()]
        grads = torch.autograd.grad(outputs.sum(), probes, allow_unused=True)
    deltas = dict(zip(tape.records, grads, strict=True))
    path_sums, norms = [], []
    for name in spec.weight_shapes():
        record = tape.records[name]
        delta = deltas[name]
        if delta is None:  # f does not depend on this layer's output
            delta = torch.zeros_like(record.probe)
        layer_output = record.scale * recording.products[name]
        path_sums.append((delta * layer_output).sum(-1))
        norms.append(record.scale**2 * (delta * delta).sum(-1) * (record.inputs * record.inputs).sum(-1))
    return outputs.detach(), torch.stack(path_sums, 1).detach(), torch.stack(norms, 1).detach()


@dataclass(frozen=True)
class PathSumDraws:
    """B draws on k inputs: ``outputs`` f (B, k); ``path_sums`` f_k and ``squared_jacobian_norms``
    ||J^k||^2, both (B, M, k) for the M matrices ``matrix_names`` (CPU float64)."""

    matrix_names: tuple[str, ...]
    outputs: torch.Tensor
    path_sums: torch.Tensor
    squared_jacobian_norms: torch.Tensor


def _batched(
    spec: ArchitectureSpec,
    inputs: object,
    n_draws: int,
    seed: int,
    sampler: str,
    device: str | torch.device,
    dtype: torch.dtype,
    chunk_bytes: int,
    compute: Callable[[ArchitectureSpec, object, torch.Tensor], tuple[torch.Tensor, ...]],
    owner: str,
) -> tuple[torch.Tensor, ...]:
    """Run ``compute(spec, weights, x)`` over chunks of whole blocks of networks (``estimators.ntk.draw_in_chunks``,
    the driver of ``sample_ntk``: same networks for one seed and sampler); dense or exact sampler only."""
    return draw_in_chunks(
        spec, inputs, n_draws, seed, lambda s, draw, x: compute(s, draw.weights(s), x),
        sampler=sampler, device=device, dtype=dtype, chunk_bytes=chunk_bytes, owner=owner, samplers=SAMPLERS,
    )  # fmt: skip


def sample_path_sums(
    spec: ArchitectureSpec,
    inputs: object,
    n_draws: int,
    seed: int,
    *,
    sampler: str = "auto",
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float64,
    chunk_bytes: int = 64 * 2**20,
) -> PathSumDraws:
    """Draw ``n_draws`` networks of ``spec`` (seeded as ``sample_ntk``: the same networks for one seed
    and sampler) and return f, every f_k and every ||J^k||^2 on the (k, input_dim) ``inputs``."""
    outputs, path_sums, norms = _batched(
        spec,
        inputs,
        n_draws,
        seed,
        sampler,
        device,
        dtype,
        chunk_bytes,
        path_sums_of_weights,  # type: ignore[arg-type]
        "sample_path_sums",
    )
    return PathSumDraws(tuple(spec.weight_shapes()), outputs, path_sums, norms)


def output_variance_of_weights(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor] | LazyWeights, x: torch.Tensor
) -> tuple[torch.Tensor]:
    """sigma^2(x_i) = s_out^2 ||h_out(x_i)||^2 (B, k): the variance of f given every weight but the output row.

    ``spec`` is a ``ConnectionGraph`` (see ``sample_output_variances``) whose output is one dense edge
    f = s_out w_out . h_out; w_out ~ N(0, I) is applied last, independent of h_out, so
    f | (all other weights) ~ N(0, sigma^2). Returned as a 1-tuple (the chunk loop's shape).
    """
    output = spec.output_matrix  # type: ignore[attr-defined]
    tape = Tape()
    spec.apply(weights, x.expand(n_networks(weights), *x.shape), tape)  # type: ignore[arg-type]
    record = tape.records[output]
    return ((record.scale**2 * (record.inputs * record.inputs).sum(-1)).detach(),)


def sample_output_variances(
    spec: ArchitectureSpec,
    inputs: object,
    n_draws: int,
    seed: int,
    *,
    sampler: str = "auto",
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float64,
    chunk_bytes: int = 64 * 2**20,
) -> torch.Tensor:
    """Conditional output variances sigma^2 (B, k) of ``n_draws`` networks of ``spec`` (any spec
    ``connection_graph`` knows, a reduced network included), seeded as ``sample_path_sums``.

    Rao-Blackwellised moments of f: E[f^p] = (p - 1)!! E[sigma^p] for even p (``gaussian_moment``),
    since f | rest ~ N(0, sigma^2); same expectation as f^p, far lighter tails (f^4 of a Gaussian
    alone has relative variance 32/3)."""
    graph = connection_graph(spec)
    (variances,) = _batched(
        graph,
        inputs,
        n_draws,
        seed,
        sampler,
        device,
        dtype,
        chunk_bytes,
        output_variance_of_weights,  # type: ignore[arg-type]
        "sample_output_variances",
    )
    return variances


def path_sum_variance_of_weights(
    spec: ArchitectureSpec, matrix: str, weights: dict[str, torch.Tensor] | LazyWeights, x: torch.Tensor
) -> tuple[torch.Tensor]:
    """sigma_k^2(x_i) = s_out^2 ||v_k(x_i)||^2 (B, k): the variance of f_k given every weight but the output row.

    ``spec`` is a ``ConnectionGraph``. At a fixed activation pattern f_k = s_out w_out . v_k, with v_k
    the part of the output layer's input h_out made of paths through W^k:

        v_k = d/de h_out(W^k -> (1 + e) W^k) at e = 0     (forward-mode, Euler for the layers after W^k),

    so f_k | rest ~ N(0, sigma_k^2). The tangent rows ride along with the primal rows through every
    matrix after W^k, ``[a; da] W^T`` in one call, so the exact low-rank sampler draws them jointly with
    the dense law; ReLU passes the tangent where its primal input is > 0. Forward pass only.
    """
    graph = spec  # a ConnectionGraph: edges in evaluation order
    values: dict[int, torch.Tensor] = {0: x.expand(n_networks(weights), *x.shape)}
    tangents: dict[int, torch.Tensor] = {}
    output = graph.output_matrix  # type: ignore[attr-defined]
    gain = {"identity": lambda y: torch.ones_like(y), "relu_he": lambda y: math.sqrt(2.0) * (y > 0).to(y.dtype)}
    for name, source, target, scale, activation in graph.edges:  # type: ignore[attr-defined]
        a = ACTIVATIONS[activation](values[source])
        da = gain[activation](values[source]) * tangents[source] if source in tangents else None
        if name == output:  # W^k = W^out: every path crosses it, v = h_out
            tangent = a if name == matrix else (torch.zeros_like(a) if da is None else da)
            return ((scale**2 * (tangent * tangent).sum(-1)).detach(),)
        if name and da is not None:
            both = dense(name, weights, torch.cat([a, da], dim=-2), scale)
            y, dy = both[..., : a.shape[-2], :], both[..., a.shape[-2] :, :]
        else:
            y = dense(name, weights, a, scale) if name else scale * a
            dy = y if name == matrix else (None if da is None else scale * da)
        values[target] = y if target not in values else values[target] + y
        if dy is not None:
            tangents[target] = dy if target not in tangents else tangents[target] + dy
    raise ValueError(f"{type(spec).__name__} has no output matrix edge")  # unreachable for a valid graph


def sample_path_sum_variances(
    spec: ArchitectureSpec,
    matrix: str,
    inputs: object,
    n_draws: int,
    seed: int,
    *,
    sampler: str = "auto",
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float64,
    chunk_bytes: int = 64 * 2**20,
) -> torch.Tensor:
    """Conditional path-sum variances sigma_k^2 (B, k) of ``n_draws`` networks of ``spec`` for W^k =
    ``matrix`` (``path_sum_variance_of_weights``), seeded as ``sample_path_sums``.

    Rao-Blackwellised moments of the path sum: E[f_k^p] = (p - 1)!! E[sigma_k^p] for even p."""
    graph = connection_graph(spec)
    if matrix not in graph.weight_shapes():
        raise ValueError(f"{type(spec).__name__} has no weight matrix {matrix!r}; has {list(graph.weight_shapes())}")
    (variances,) = _batched(
        graph,
        inputs,
        n_draws,
        seed,
        sampler,
        device,
        dtype,
        chunk_bytes,
        lambda s, w, x: path_sum_variance_of_weights(s, matrix, w, x),  # type: ignore[arg-type]
        "sample_path_sum_variances",
    )
    return variances


def gaussian_moment(p: int) -> float:
    """E[z^p] = (p - 1)!! for z ~ N(0, 1) and even p >= 2 (``scipy.special.factorial2``)."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 2 or p % 2:
        raise ValueError(f"gaussian_moment.p must be an even integer >= 2, got {p!r}")
    return float(factorial2(p - 1, exact=True))


def reduced_seed(seed: int, matrix: str) -> int:
    """The seed of the draws of the reduced net f_(k) of ``matrix``: independent of the full net's."""
    return derive_seed(seed, "reduced", matrix)


def n_networks(weights: dict[str, torch.Tensor] | LazyWeights) -> int:
    """B of a dense weights dict or of lazy weights."""
    if isinstance(weights, LazyWeights):
        return weights.n_networks
    return int(next(iter(weights.values())).shape[0])


def bypassed_matrices(spec: ArchitectureSpec) -> tuple[str, ...]:
    """The matrices k some connection bypasses (f_(k) differs from f as a network), in forward order."""
    return tuple(name for name in spec.weight_shapes() if bypassing_edges(spec, name))


def moment_ratio(numerator: np.ndarray, denominator: np.ndarray, labels: Sequence[str], root: float = 1.0) -> Estimates:
    """(E[a] / E[b])^(1/root) per column of (B, C) draws a, b, with a delta-method standard error.

    Rows are i.i.d. pairs (a_i, b_i); a and b may be dependent (same networks) or independent (two
    samples matched by index: the pairs are then still i.i.d.). With r = mean(a) / mean(b),

        se(r) = sd(a - r b) / (sqrt(B) mean(b))   (statsmodels ``DescrStatsW.std_mean``),

    and se(r^(1/root)) = r^(1/root) se(r) / (root r); dof = B - 1. ``root = p`` turns a ratio of p-th
    moments into a ratio of L^p norms, so one margin reads alike for every p. Needs finite second
    moments of a and b (eighth moments of f for p = 4): coverage on heavy-tailed draws is checked
    in ``tests/estimators/test_pathsum.py``."""
    a, b = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    if a.ndim == 1:
        a, b = a[:, None], b[:, None]
    if a.ndim != 2 or a.shape != b.shape or a.shape[1] != len(labels):
        raise ValueError(
            f"moment_ratio needs numerator and denominator (B, C) with C = {len(labels)}, got {a.shape}, {b.shape}"
        )
    if a.shape[0] < 3:
        raise ValueError(f"moment_ratio needs at least 3 draws, got {a.shape[0]}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("moment_ratio got NaN or inf draws")
    if not (isinstance(root, int | float) and math.isfinite(root) and root > 0):
        raise ValueError(f"moment_ratio.root must be a finite number > 0, got {root!r}")
    mean_b = b.mean(axis=0)
    if not (mean_b > 0).all():
        raise ValueError(f"moment_ratio needs mean(denominator) > 0 in every column, got {mean_b.tolist()}")
    ratio = a.mean(axis=0) / mean_b
    if not (ratio > 0).all():
        raise ValueError(f"moment_ratio needs a positive ratio of means, got {ratio.tolist()}")
    se_ratio = DescrStatsW(a - ratio * b).std_mean / mean_b
    estimate = ratio ** (1.0 / root)
    return Estimates(estimate, estimate * se_ratio / (root * ratio), a.shape[0] - 1.0, tuple(labels), a.shape[0])
