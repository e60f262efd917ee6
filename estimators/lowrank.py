"""Exact-in-law low-rank Monte Carlo of f and the empirical NTK: no weight matrix is ever drawn.

Every weight matrix W (fan_out x fan_in, i.i.d. N(0, 1)) of the architectures in ``models`` is used
exactly once in the forward pass, ``Y = h W^T`` for the k inputs' activations h (k x fan_in), and
once in the backward pass, ``D W`` for D = dF/dY (k x fan_out). Per network:

* forward: the columns of Y (one per output unit) are i.i.d. N(0, Gram_h), Gram_h = h h^T, so
  ``Y = R_h G^T`` with R_h = Gram_h^{1/2} (symmetric PSD root) and G (fan_out x k) i.i.d. N(0, 1);
* backward: given Y (and h), ``W = Y^T Gram_h^+ h + Z (I - P_h)`` with Z i.i.d. N(0, 1) independent
  and P_h = h^T Gram_h^+ h the projector on the row space of h. Hence

      D W = (D Y^T - (D Z) h^T) Gram_h^+ h + D Z,   D Z = R_D G2^T,  R_D = (D D^T)^{1/2},

  G2 (fan_in x k) i.i.d. N(0, 1): the rows of D Z have the law of D Z without forming Z.

Why the joint law of (f, every layer's h, every layer's D) is that of the dense network: the
forward values are functions of x and (Y_1, ..., Y_M) (forward order), h_m a function of
Y_1..Y_{m-1}; Y_m given the past is N as above. Given all Y's, the W_m are conditionally independent,
each with the Gaussian conditional law above (the prior density factorises and the constraints
W_m h_m^T = Y_m^T are one per matrix). D_m is a function of the forward values and of D_{m'} W_{m'}
for later matrices m', so sampling D_m W_m from its conditional law given (Y's, D_m), in any order
consistent with autograd, gives the joint law. Cost per matrix and network O((fan_in + fan_out) k^2
+ k^3) instead of O(fan_out fan_in).

Numerically, Gram_h and D D^T are PSD k x k matrices that may be rank-deficient (repeated or zero
inputs, dead ReLU units, an output of width 1): both the square root and the pseudo-inverse use
``eigh`` with eigenvalues below ``RCOND * k * eps * max eigenvalue`` set to 0, never 1/0.

Randomness: the forward draw of matrix ``name`` for block b (``BLOCK`` networks, as in
``estimators.sampling``) comes from a generator seeded by ``matrix_seed(seed, b, name, "forward")``,
the backward draw from one seeded with ``"backward"`` (numpy's PCG64 + ziggurat on CPU, torch's
generator on CUDA); results are bitwise reproducible on a device
and do not depend on chunking or on autograd's execution order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from estimators.sampling import BLOCK, derive_seed
from models.base import ArchitectureSpec
from models.validation import positive_int

RCOND = 10.0  # eigenvalues <= RCOND * k * eps * max eigenvalue count as 0

Sampler = Callable[[int], torch.Tensor]  # fan -> (B, k, fan) i.i.d. N(0, 1)


def matrix_seed(seed: int, block: int, name: str, phase: str) -> int:
    """The seed of the ``phase`` ("forward" or "backward") noise of matrix ``name`` in block ``block``."""
    return derive_seed("lowrank", seed, block, name, phase)


def psd_sqrt_and_pinv(gram: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric square root and pseudo-inverse of batched PSD matrices (..., k, k), by ``eigh``.

    Eigenvalues at or below ``RCOND * k * eps * max(eigenvalue)`` (rounding noise, negative ones included)
    are treated as exact zeros in both, so rank-deficient input gives finite output and the root and
    the pseudo-inverse share one range.
    """
    gram = 0.5 * (gram + gram.transpose(-1, -2))
    evals, evecs = torch.linalg.eigh(gram)
    k = gram.shape[-1]
    top = evals.amax(dim=-1, keepdim=True).clamp_min(0.0)
    keep = evals > RCOND * k * torch.finfo(gram.dtype).eps * top
    safe = torch.where(keep, evals, torch.ones_like(evals))
    root = torch.where(keep, safe.sqrt(), torch.zeros_like(evals))
    inverse = torch.where(keep, safe.reciprocal(), torch.zeros_like(evals))
    evecs_t = evecs.transpose(-1, -2)
    return (evecs * root.unsqueeze(-2)) @ evecs_t, (evecs * inverse.unsqueeze(-2)) @ evecs_t


def project_out(m: torch.Tensor, h: torch.Tensor, gram_pinv: torch.Tensor) -> torch.Tensor:
    """``m (I - P_h)`` with P_h = h^T Gram_h^+ h, without forming the fan_in x fan_in projector.

    m: (B, k', fan_in), h: (B, k, fan_in), gram_pinv: (B, k, k).
    """
    return m - ((m @ h.transpose(-1, -2)) @ gram_pinv) @ h


def block_noise(
    seed: int,
    first_block: int,
    n_blocks: int,
    name: str,
    phase: str,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """(n_blocks * BLOCK, *shape) i.i.d. N(0, 1), each block of BLOCK networks from its own generator
    seeded by ``matrix_seed(seed, block, name, phase)`` (so independent of chunking).

    CPU float64: numpy's PCG64 ziggurat (~1.6x torch's float64 Box-Muller). float32 (any device) and
    CUDA: torch's generator. float32 normals come from float32 uniforms and never exceed |z| ~ 5.8 (an
    event of probability ~1e-8 under N(0, 1)): fine for float32 experiments; float64 is the default.
    """
    if device.type == "cpu" and dtype == torch.float64:
        out = np.empty((n_blocks, BLOCK, *shape))

        def fill(i: int) -> None:
            generator = np.random.Generator(np.random.PCG64(matrix_seed(seed, first_block + i, name, phase)))
            generator.standard_normal((BLOCK, *shape), out=out[i])

        _run_blocks(fill, n_blocks, BLOCK * math.prod(shape))
        return torch.from_numpy(out).reshape(n_blocks * BLOCK, *shape)
    if device.type == "cpu":
        out_t = torch.empty((n_blocks, BLOCK, *shape), dtype=dtype)

        def fill_t(i: int) -> None:
            generator = torch.Generator().manual_seed(matrix_seed(seed, first_block + i, name, phase))
            torch.randn((BLOCK, *shape), generator=generator, dtype=dtype, out=out_t[i])

        _run_blocks(fill_t, n_blocks, BLOCK * math.prod(shape))
        return out_t.reshape(n_blocks * BLOCK, *shape)
    parts = []
    for block in range(first_block, first_block + n_blocks):
        generator = torch.Generator(device=device).manual_seed(matrix_seed(seed, block, name, phase))
        parts.append(torch.randn((BLOCK, *shape), generator=generator, dtype=dtype, device=device))
    return torch.cat(parts)


PARALLEL_MIN_VALUES = 1 << 14  # normals per block below which threads cost more than they save
_pools: dict[int, ThreadPoolExecutor] = {}


def _run_blocks(fill: Callable[[int], None], n_blocks: int, values_per_block: int) -> None:
    """Call ``fill(i)`` for every block i, on ``torch.get_num_threads()`` threads when worthwhile (numpy
    and torch release the GIL while filling). Each block has its own generator: the schedule cannot
    change the result."""
    threads = min(torch.get_num_threads(), n_blocks)
    if threads < 2 or values_per_block < PARALLEL_MIN_VALUES:
        for i in range(n_blocks):
            fill(i)
        return
    pool = _pools.setdefault(threads, ThreadPoolExecutor(max_workers=threads, thread_name_prefix="block-noise"))
    list(pool.map(fill, range(n_blocks)))


class LowRankDense(torch.autograd.Function):
    """``Y = h W^T`` for B networks with W ~ i.i.d. N(0, 1) never formed: forward samples Y given h,
    backward samples dL/dh = D W given (h, Y, D). Gradient w.r.t. h only.

    ``apply(h, forward_noise, backward_sampler)``: h (B, k, fan_in); forward_noise (B, k, fan_out)
    i.i.d. N(0, 1) (this is G^T); backward_sampler(fan_in) returns fresh (B, k, fan_in) i.i.d. N(0, 1)
    (G2^T). The backward may run once per forward: a second call (``retain_graph``) would reuse G2
    with another D, which is not the joint law of two D's applied to one W, so it raises.
    """

    @staticmethod
    def forward(
        ctx: Any, h: torch.Tensor, forward_noise: torch.Tensor, backward_sampler: Sampler, project: bool = True
    ) -> torch.Tensor:
        gram = h @ h.transpose(-1, -2)
        root, pinv = psd_sqrt_and_pinv(gram)
        y = root @ forward_noise
        ctx.save_for_backward(h, y, pinv)
        ctx.backward_sampler = backward_sampler
        ctx.project = project
        ctx.backward_done = False
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None]:
        if ctx.backward_done:
            raise RuntimeError("LowRankDense.backward may run only once per forward pass (one W per forward)")
        ctx.backward_done = True
        h, y, pinv = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None, None, None
        d_root, _ = psd_sqrt_and_pinv(grad_y @ grad_y.transpose(-1, -2))
        dz = d_root @ ctx.backward_sampler(h.shape[-1])  # (B, k, fan_in), law of D Z
        # D W = D Y^T Gram^+ h + (D Z)(I - P_h)
        conditional_mean = ((grad_y @ y.transpose(-1, -2)) @ pinv) @ h
        noise = project_out(dz, h, pinv) if ctx.project else dz
        return conditional_mean + noise, None, None, None


class LowRankWeights:
    """Lazy weights of networks [first_block * BLOCK, (first_block + n_blocks) * BLOCK) of ``spec``.

    A stand-in for ``estimators.sampling.draw_weights`` output that ``models.base.dense`` accepts
    (``models.base.LazyWeights``): ``spec.apply(lazy, x, tape)`` samples the forward pass, and one
    ``torch.autograd.grad`` call on it samples the backward pass, jointly with the law of N(0, 1)
    dense weights. ``project=False`` drops the (I - P_h) projection of the backward noise: a
    deliberately wrong law, used only as the sampler-agreement claim's false twin. Single use: each
    matrix may be applied once (make a new object, same seed, for the same draws again). The
    networks are independent of those of ``draw_weights`` for any seed.
    """

    def __init__(
        self,
        spec: ArchitectureSpec,
        seed: int,
        first_block: int,
        n_blocks: int,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        project: bool = True,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"LowRankWeights.seed must be an int, got {seed!r}")
        if isinstance(first_block, bool) or not isinstance(first_block, int) or first_block < 0:
            raise ValueError(f"LowRankWeights.first_block must be an int >= 0, got {first_block!r}")
        positive_int("LowRankWeights", "n_blocks", n_blocks)
        self.spec = spec
        self.seed = seed
        self.first_block = first_block
        self.n_blocks = n_blocks
        self.dtype = dtype
        self.device = torch.device(device)
        self.shapes = spec.weight_shapes()
        self.applied: set[str] = set()
        self.project = project  # False only for the false-twin negative control: a wrong law

    @property
    def n_networks(self) -> int:
        """B = n_blocks * BLOCK."""
        return self.n_blocks * BLOCK

    def keys(self) -> list[str]:
        """Matrix names, in forward order (as the dense weights dict)."""
        return list(self.shapes)

    def __getitem__(self, name: str) -> torch.Tensor:
        raise TypeError(f"LowRankWeights never forms matrix {name!r}; use apply_dense(name, h)")

    def noise(self, name: str, phase: str, k: int, fan: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """(B, k, fan) i.i.d. N(0, 1) for ``phase`` of matrix ``name``, block by block."""
        return block_noise(self.seed, self.first_block, self.n_blocks, name, phase, (k, fan), dtype, device)

    def apply_dense(self, name: str, h: torch.Tensor) -> torch.Tensor:
        """``h W^T`` for matrix ``name`` of every network: h (B, k, fan_in) (or broadcastable) -> (B, k, fan_out)."""
        if name not in self.shapes:
            raise KeyError(f"{type(self.spec).__name__} has no weight matrix {name!r}; has {list(self.shapes)}")
        if name in self.applied:
            raise RuntimeError(
                f"LowRankWeights matrix {name!r} was already applied; each matrix may be applied once "
                "(build a new LowRankWeights with the same seed for the same draws)"
            )
        fan_out, fan_in = self.shapes[name]
        if h.ndim not in (2, 3) or h.shape[-1] != fan_in:
            raise ValueError(f"matrix {name!r} expects h of shape (B, k, {fan_in}), got {tuple(h.shape)}")
        k = h.shape[-2]
        h = h.expand(self.n_networks, k, fan_in)
        self.applied.add(name)
        dtype, device = h.dtype, h.device
        forward_noise = self.noise(name, "forward", k, fan_out, dtype, device)

        def backward_sampler(fan: int) -> torch.Tensor:
            return self.noise(name, "backward", k, fan, dtype, device)

        return LowRankDense.apply(h, forward_noise, backward_sampler, self.project)
