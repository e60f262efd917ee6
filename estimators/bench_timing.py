"""Timing helpers shared by the benchmarks (``estimators.bench``, ``estimators.bench_composed``): the
seeded workload (weights drawn once, fixed unit inputs), the factorised and torch.func Gram passes, and the
interleaved timer that lets methods take turns over one wall-clock window."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from estimators.ntk import ntk_of_weights
from estimators.reference import jacrev_ntk
from estimators.sampling import BLOCK, draw_weights
from models.base import ArchitectureSpec

DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}
TOLERANCE: dict[str, float] = {"float64": 1e-9, "float32": 1e-3}
WEIGHT_SEED = 20240601
INPUT_SEED = 7


@dataclass(frozen=True)
class Timing:
    """Result of timing one method: rate, wall time, passes, and the Gram matrices of the first pass."""

    name: str
    nets_per_s: float
    elapsed_s: float
    passes: int
    gram: torch.Tensor  # (N, k, k)


# --- argument parsing -----------------------------------------------------------------------------
def bench_weights(
    spec: ArchitectureSpec, n_networks: int, dtype: torch.dtype, device: torch.device
) -> dict[str, torch.Tensor]:
    """Weights of ``n_networks`` networks (name -> (N, out, in)), drawn block by block with ``draw_weights``.

    ``draw_weights`` draws whole blocks of ``BLOCK`` networks; only the first ``n_networks`` are kept
    (cloned), so transient memory is about two blocks (its draw and its concatenation), not N/BLOCK.
    """
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in spec.weight_shapes()}
    for block in range(math.ceil(n_networks / BLOCK)):
        keep = min(BLOCK, n_networks - block * BLOCK)
        drawn = draw_weights(spec, WEIGHT_SEED, block, 1, dtype, device)
        for name, tensor in drawn.items():
            parts[name].append(tensor[:keep].clone())
        del drawn
    return {name: torch.cat(chunks) if len(chunks) > 1 else chunks[0] for name, chunks in parts.items()}


def bench_inputs(n_inputs: int, input_dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``n_inputs`` fixed (seeded) unit-norm inputs in R^input_dim: (k, input_dim)."""
    generator = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn((n_inputs, input_dim), generator=generator, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    return x.to(device=device, dtype=dtype)


def factorised_gram(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor, batch: int
) -> torch.Tensor:
    """Gram matrices (N, k, k) of all networks by ``ntk_of_weights``, ``batch`` networks per call.

    Per network, K = sum over trained W of K_W, K_W(x, x') = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>.
    """
    trained = spec.trained()
    mask = torch.tensor([name in trained for name in spec.weight_shapes()], dtype=torch.bool, device=x.device)
    n_networks = next(iter(weights.values())).shape[0]
    grams = []
    for start in range(0, n_networks, batch):
        chunk = {name: w[start : start + batch] for name, w in weights.items()}
        _, per_matrix = ntk_of_weights(spec, chunk, x)
        grams.append(per_matrix[:, mask].sum(dim=1))
    return torch.cat(grams)


def jacrev_gram(spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, k, k) by a Python loop of ``jacrev_ntk`` over the networks (one at a time).

    Per network, K(x_i, x_j) = sum_W <dF(x_i)/dW, dF(x_j)/dW> with the Jacobians materialised.
    """
    n_networks = next(iter(weights.values())).shape[0]
    return torch.stack([jacrev_ntk(spec, {name: w[i] for name, w in weights.items()}, x) for i in range(n_networks)])


# --- timing ---------------------------------------------------------------------------------------
def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Method:
    """A method under test: its passes over all networks and its running totals."""

    name: str
    run_pass: Callable[[], torch.Tensor]
    warm_up: Callable[[], object]
    elapsed_s: float = 0.0
    passes: int = 0
    gram: torch.Tensor | None = None


def time_methods(methods: list[Method], n_networks: int, seconds: float, device: torch.device) -> list[Timing]:
    """Warm up every method once, then time whole passes until each method has spent at least ``seconds``
    (and done at least one pass). The next pass always goes to the pending method with the least timed
    time so far, so the methods take turns over the same wall-clock window and see the same machine
    load, which keeps their ratio robust to noisy neighbours. Returns one ``Timing`` per method.
    """
    for method in methods:
        method.warm_up()
    _synchronize(device)
    while pending := [m for m in methods if m.passes == 0 or m.elapsed_s < seconds]:
        method = min(pending, key=lambda m: m.elapsed_s)
        start = time.perf_counter()
        gram = method.run_pass()
        _synchronize(device)
        method.elapsed_s += time.perf_counter() - start
        method.passes += 1
        if method.gram is None:
            method.gram = gram
    timings = []
    for method in methods:
        assert method.gram is not None
        rate = method.passes * n_networks / method.elapsed_s
        timings.append(Timing(method.name, rate, method.elapsed_s, method.passes, method.gram))
    return timings


def max_relative_difference(gram: torch.Tensor, reference: torch.Tensor) -> float:
    """max over networks of max|gram - reference| / max|reference| (entries of the (k, k) matrices)."""
    a = gram.to("cpu", torch.float64)
    b = reference.to("cpu", torch.float64)
    scale = b.abs().amax(dim=(-2, -1)).clamp_min(torch.finfo(torch.float64).tiny)
    return float(((a - b).abs().amax(dim=(-2, -1)) / scale).max())


