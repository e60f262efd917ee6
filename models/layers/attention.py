"""Softmax self-attention over tokens, a softmax over channels, and a readout of one channel.

``SelfAttention(heads, scaling)`` on tokens (B, k, T, C) (Vaswani et al. 2017, NTK parameterisation):

    Q = Z_q X / sqrt(C),  K = Z_k X / sqrt(C),  V = Z_v X / sqrt(C)   (one matrix each, shared over tokens),
    A_h = softmax_over_keys(Q_h K_h^T * s),  s = 1 / sqrt(d_h) ("sqrt") or 1 / d_h ("linear", the
    mean-field / Hron et al. 2020 scaling), d_h = C / heads,
    out = Z_o concat_h(A_h V_h) / sqrt(C).

The four matrices are ``<name>.q``, ``.k``, ``.v``, ``.o``. Tokens interact only within one input, so
attention does not couple inputs; but every matrix is shared over tokens (the dense path applies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.base import dense
from models.layers.core import Layer, Namer, Param, Run, Shape, Stream, merged, owner
from models.layers.fields import boolean, check_fields, one_of, optional_name, positive_int

SCALINGS = ("sqrt", "linear")


@dataclass(frozen=True)
class SelfAttention(Layer):
    heads: int = 1
    scaling: str = "sqrt"
    trained: bool = True
    name: str | None = None
    kind = "self_attention"

    def __post_init__(self) -> None:
        check_fields(
            self, heads=(positive_int,), scaling=(one_of, SCALINGS), trained=(boolean,), name=(optional_name,)
        )

    def out_shape(self, shape: Shape, where: str) -> Shape:
        who = owner(self, where)
        if len(shape.spatial) != 1:
            raise ValueError(f"{who}: attention needs (tokens, channels) inputs, got shape {shape.describe()}")
        if shape.channels % self.heads:
            raise ValueError(f"{who}.heads={self.heads} does not divide the width {shape.channels}")
        return shape.merged()

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        base = namer.name(self.name, "attention")
        c = shape.channels
        return [Param(f"{base}.{p}", (c, c), self.trained) for p in "qkvo"]

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        base = namer.name(self.name, "attention")
        x = merged(h)  # (B, k, T, C)
        c = x.shape[-1]
        scale = 1.0 / math.sqrt(c)
        q, k, v = (dense(f"{base}.{p}", run.weights, x, scale, run.tape) for p in "qkv")
        d_head = c // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, k, T, C) -> (B, k, heads, T, d_head)
            return t.reshape(*t.shape[:-1], self.heads, d_head).transpose(-2, -3)

        logits = split(q) @ split(k).transpose(-1, -2)
        logits = logits / (math.sqrt(d_head) if self.scaling == "sqrt" else d_head)
        mixed = torch.softmax(logits, dim=-1) @ split(v)  # (B, k, heads, T, d_head)
        joined = mixed.transpose(-2, -3).reshape(x.shape)
        return dense(f"{base}.o", run.weights, joined, scale, run.tape)


@dataclass(frozen=True)
class Softmax(Layer):
    """softmax over the channels at every position (a softmax output, followed by ``Take``)."""

    kind = "softmax"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        if shape.channels < 2:
            raise ValueError(f"{owner(self, where)}: a softmax over {shape.channels} channel is constant 1")
        return shape.merged()

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        return torch.softmax(merged(h), dim=-1)


@dataclass(frozen=True)
class Take(Layer):
    """Channel ``index`` of the output: (..., C) -> (..., 1) (a scalar network output from several)."""

    index: int = 0
    kind = "take"

    def __post_init__(self) -> None:
        check_fields(self, index=(_index,))

    def out_shape(self, shape: Shape, where: str) -> Shape:
        if self.index >= shape.channels:
            raise ValueError(f"{owner(self, where)}.index={self.index} is out of range for {shape.channels} channels")
        return Shape(shape.spatial, (1,))

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        return merged(h)[..., self.index : self.index + 1]


def _index(owner_name: str, field: str, value: object) -> int:
    return positive_int(owner_name, field, value, minimum=0)


__all__ = ["SCALINGS", "SelfAttention", "Softmax", "Take"]
