"""Seeded N(0, 1) weight draws for B independent networks, reproducible under any chunking.

Networks are drawn in blocks of ``BLOCK`` networks; block b uses a generator seeded by
``block_seed(seed, b)``. A chunk is a run of whole blocks, so the weights of network i do not
depend on how B is split into chunks (on a given device).
"""

from __future__ import annotations

import hashlib

import torch

from models.base import ArchitectureSpec

BLOCK = 16  # small: bounds a chunk's memory (16 nets of n = 500, L = 10 are 320 MB in float64)


def block_seed(seed: int, block: int) -> int:
    """A 63-bit seed for block ``block`` of the draws seeded by ``seed``."""
    digest = hashlib.sha256(f"{seed}:{block}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def draw_weights(
    spec: ArchitectureSpec,
    seed: int,
    first_block: int,
    n_blocks: int,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> dict[str, torch.Tensor]:
    """Weights of networks [first_block * BLOCK, (first_block + n_blocks) * BLOCK): name -> (B, out, in)."""
    shapes = spec.weight_shapes()
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in shapes}
    for block in range(first_block, first_block + n_blocks):
        generator = torch.Generator(device=device).manual_seed(block_seed(seed, block))
        for name, shape in shapes.items():
            parts[name].append(torch.randn((BLOCK, *shape), generator=generator, dtype=dtype, device=device))
    return {name: torch.cat(chunks) for name, chunks in parts.items()}
