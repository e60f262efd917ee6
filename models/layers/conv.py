"""Convolution (1-d and 2-d, stride 1, "same" output size), global average pooling, flatten.

``Conv`` is a dense layer on patches: y_p = s Z patch_p (+ bias_std b), the one matrix Z (out, in * prod
kernel) shared over positions p. Its NTK contribution therefore sums over pairs of positions (weight sharing):

    K_Z(x, x') = s^2 sum_{p, q} <df/dy_p(x), df/dy_q(x')> <patch_p(x), patch_q(x')>   (NTK parameterisation).

Padding: ``circular`` wraps around; ``zero`` pads with zeros ((size - 1) // 2 before, the rest after).
Inputs are channels-last: (B, k, P, C) for 1-d, (B, k, H, W, C) for 2-d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.layers.core import Layer, Namer, Param, Run, Shape, Stream, merged, owner
from models.layers.dense import Dense
from models.layers.fields import check_linear_fields, one_of, positive_int

PADDINGS = ("circular", "zero")


def _kernel_tuple(owner_name: str, field: str, value: object) -> tuple[int, ...]:
    if isinstance(value, tuple | list):
        if len(value) not in (1, 2):
            raise ValueError(f"{owner_name}.{field} must be an int or 1 or 2 ints (1-d or 2-d), got {value!r}")
        return tuple(positive_int(owner_name, f"{field}[{i}]", v) for i, v in enumerate(value))
    return (positive_int(owner_name, field, value),)


@dataclass(frozen=True)
class Conv(Layer):
    """``channels`` output channels, ``kernel_size`` an int (1-d) or (kh, kw) (2-d); an int kernel on a
    2-d input is square. Fields as ``Dense``."""

    channels: int
    kernel_size: int | tuple[int, ...]
    padding: str = "circular"
    bias: bool = False
    parameterization: str = "ntk"
    weight_std: float = 1.0
    bias_std: float = 1.0
    trained: bool = True
    name: str | None = None
    kind = "conv"

    def __post_init__(self) -> None:
        check_linear_fields(
            self, channels=(positive_int,), kernel_size=(_kernel_tuple,), padding=(one_of, PADDINGS)
        )

    def kernel_for(self, shape: Shape) -> tuple[int, ...]:
        size = self.kernel_size
        assert isinstance(size, tuple)
        return size * len(shape.spatial) if len(size) == 1 else size

    def out_shape(self, shape: Shape, where: str) -> Shape:
        who = owner(self, where)
        if len(shape.spatial) not in (1, 2):
            raise ValueError(
                f"{who}: a convolution needs an input with 1 or 2 spatial dimensions, got shape {shape.describe()}"
            )
        kernel = self.kernel_for(shape)
        if len(kernel) != len(shape.spatial):
            raise ValueError(f"{who}.kernel_size {kernel} has {len(kernel)} entries for a {len(shape.spatial)}-d input")
        for size, extent in zip(kernel, shape.spatial, strict=True):
            if size > extent:
                raise ValueError(
                    f"{who}.kernel_size={kernel} is larger than the input's spatial size {shape.spatial}"
                )
        return Shape(shape.spatial, (self.channels,))

    def as_dense(self) -> Dense:
        return Dense(
            self.channels, self.bias, self.parameterization, self.weight_std, self.bias_std, self.trained, self.name
        )

    def fan_in(self, shape: Shape) -> int:
        return shape.channels * math.prod(self.kernel_for(shape))

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        patch = Shape(shape.spatial, (self.fan_in(shape),))
        layer = self.as_dense()
        params = layer.params(patch, _Renamed(namer, self.kind))
        return params

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        patches = extract_patches(merged(h), self.kernel_for(shape), self.padding)
        patch = Shape(shape.spatial, (patches.shape[-1],))
        return self.as_dense().apply(run, patches, patch, _Renamed(namer, self.kind))


class _Renamed(Namer):
    """A view of a namer that numbers a conv's matrix as ``conv<i>`` rather than ``dense<i>``."""

    def __init__(self, namer: Namer, kind: str) -> None:
        self.inner, self.kind = namer, kind

    def name(self, explicit: str | None, kind: str) -> str:
        return self.inner.name(explicit, self.kind)


def extract_patches(h: torch.Tensor, kernel: tuple[int, ...], padding: str) -> torch.Tensor:
    """(B, k, *spatial, C) -> (B, k, *spatial, C * prod(kernel)): the patch around every position,
    channel-major then kernel offsets (the layout of ``torch.nn.Conv{1,2}d`` weights, flattened).

    Windows are gathered with ``index_select`` (position p, offset j reads p + j - before, wrapped or
    into zero padding), whose backward has a ``vmap`` rule, so torch.func references stay fast."""
    n_spatial = len(kernel)
    out = h
    for axis, size in enumerate(kernel):
        dim = 2 + 2 * axis  # earlier axes already carry their offset axis
        extent = out.shape[dim]
        before = (size - 1) // 2
        offsets = torch.arange(extent, device=h.device)[:, None] + torch.arange(size, device=h.device)[None, :]
        if padding == "circular":
            index = (offsets - before) % extent
        else:
            pad_shape = list(out.shape)
            pad_shape[dim] = before
            after = list(out.shape)
            after[dim] = size - 1 - before
            out = torch.cat([out.new_zeros(pad_shape), out, out.new_zeros(after)], dim=dim)
            index = offsets
        gathered = out.index_select(dim, index.reshape(-1))
        out = gathered.reshape(*out.shape[:dim], extent, size, *out.shape[dim + 1 :])
    # out: (B, k, P_1, K_1, ..., P_n, K_n, C) -> (B, k, P_1..P_n, C, K_1..K_n)
    positions = [2 + 2 * a for a in range(n_spatial)]
    windows = [3 + 2 * a for a in range(n_spatial)]
    out = out.permute(0, 1, *positions, out.ndim - 1, *windows)
    return out.reshape(*out.shape[: 2 + n_spatial], -1)


@dataclass(frozen=True)
class GlobalAvgPool(Layer):
    """Mean over all spatial positions: (B, k, *spatial, C) -> (B, k, C)."""

    kind = "global_avg_pool"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        if not shape.spatial:
            raise ValueError(f"{owner(self, where)}: input {shape.describe()} has no spatial dimensions to pool")
        return Shape((), shape.blocks, shape.split)

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        axes = tuple(range(2, 2 + len(shape.spatial)))
        return tuple(b.mean(dim=axes) for b in h) if isinstance(h, tuple) else h.mean(dim=axes)


@dataclass(frozen=True)
class Flatten(Layer):
    """(B, k, *spatial, C) -> (B, k, prod(spatial) * C), positions major, channels minor."""

    kind = "flatten"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        return Shape((), (shape.positions * shape.channels,))

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        value = merged(h)
        return value.reshape(*value.shape[:2], -1)
