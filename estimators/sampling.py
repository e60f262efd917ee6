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
) -> dict[str, torch.Tensor]:
    """Weights of networks [first_block * BLOCK, (first_block + n_blocks) * BLOCK): name -> (B, out, in)."""
    shapes = spec.weight_shapes()
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in shapes}
    for block in range(first_block, first_block + n_blocks):
        generator = torch.Generator(device=device).manual_seed(block_seed(seed, block))
        for name, shape in shapes.items():
            parts[name].append(torch.randn((BLOCK, *shape), generator=generator, dtype=dtype, device=device))
    return {name: torch.cat(chunks) for name, chunks in parts.items()}
