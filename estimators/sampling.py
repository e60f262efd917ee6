"""Seeded N(0, 1) weight draws for B independent networks, reproducible under any chunking.

Networks are drawn in blocks of ``BLOCK`` networks; block b uses a generator seeded by
``block_seed(seed, b)``. A chunk is a run of whole blocks, so the weights of network i do not
depend on how B is split into chunks (on a given device).

Normals are drawn in float32 (``NORMALS_DTYPE``) whatever the compute dtype and widened exactly to
float64 where that is asked: torch draws float32 normals about 3.5-4.5x faster than float64 ones on a
CPU (208 vs 61 M/s measured on the 2-core CI machine), and the dense sampler of a float64 estimator is
bound by drawing (``python -m estimators.bench --json``, rows ``end-to-end``). What it changes: each
normal has float32 resolution (24-bit mantissa, relative spacing 6e-8, tails as far as torch's float32
generator reaches, |z| < 6.7 in 2^31 draws) instead of float64's; every arithmetic step after the draw is
still float64, so the cancellations that need float64 (kernel ratios, Hessians) are unaffected, and the
law differs from N(0, 1) by far less than any Monte Carlo error here. Reproducibility: a seed gives the
same weights on a device under any chunking, as before; they differ from the float64 draws of releases
before 2026-12-04 (the committed baseline was refreshed then, every verdict unchanged).
"""

from __future__ import annotations

import hashlib

import torch

from models.base import ArchitectureSpec

BLOCK = 16  # small: bounds a chunk's memory (16 nets of n = 500, L = 10 are 320 MB in float64)
NORMALS_DTYPE = torch.float32  # weights are drawn at this precision, then widened (module docstring)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from the string forms of ``parts`` (SHA-256, first 8 bytes). Every seed in the
    project comes from here: claims, examples, blocks of networks, low-rank noise."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def block_seed(seed: int, block: int) -> int:
    """The seed of block ``block`` of the dense draws seeded by ``seed``."""
    return derive_seed(seed, block)


def draw_weights(
    spec: ArchitectureSpec,
    seed: int,
    first_block: int,
    n_blocks: int,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    reuse: dict[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Weights of networks [first_block * BLOCK, (first_block + n_blocks) * BLOCK): name -> (B, out, in).

    Each block's normals are drawn in ``NORMALS_DTYPE`` straight into (a float32 buffer widened into) its
    slice of the preallocated output: no concatenation pass over the weights. ``reuse``: a dict of output
    buffers kept between calls (the chunks of one ``sample_ntk``): a chunk overwrites the previous chunk's
    weights instead of allocating (and page-faulting) hundreds of MB again; the caller must be done with them."""
    inits = initial_values(spec)
    shapes = {name: shape for name, shape in spec.weight_shapes().items() if name not in inits}
    total = n_blocks * BLOCK
    out = {}
    for name, shape in shapes.items():
        kept = reuse.get(name) if reuse is not None else None
        if kept is None or kept.shape[0] < total or kept.shape[1:] != shape or kept.dtype != dtype:
            kept = torch.empty((total, *shape), dtype=dtype, device=device)
            if reuse is not None:
                reuse[name] = kept
        out[name] = kept[:total]
    buffers: dict[tuple[int, ...], torch.Tensor] = {}
    for i, block in enumerate(range(first_block, first_block + n_blocks)):
        generator = torch.Generator(device=device).manual_seed(block_seed(seed, block))
        for name, shape in shapes.items():
            target = out[name][i * BLOCK : (i + 1) * BLOCK]
            if dtype == NORMALS_DTYPE:
                torch.randn((BLOCK, *shape), generator=generator, dtype=dtype, device=device, out=target)
                continue
            key = (BLOCK, *shape)
            if key not in buffers:
                buffers[key] = torch.empty(key, dtype=NORMALS_DTYPE, device=device)
            torch.randn(key, generator=generator, dtype=NORMALS_DTYPE, device=device, out=buffers[key])
            target.copy_(buffers[key])
    deterministic = {
        name: torch.full((total, *spec.weight_shapes()[name]), value, dtype=dtype, device=device)
        for name, value in inits.items()
    }
    return {name: out[name] if name in out else deterministic[name] for name in spec.weight_shapes()}


def initial_values(spec: ArchitectureSpec) -> dict[str, float]:
    """The matrices that start at a constant (normalisation gains 1, shifts 0): name -> value. They consume
    no random numbers, so every N(0, 1) matrix is drawn as if they were absent."""
    inits = spec.parameter_inits()
    return {name: 1.0 if init == "ones" else 0.0 for name, init in inits.items() if init != "normal"}
