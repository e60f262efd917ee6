"""Parameter-free normalisation layers at initialisation (as neural-tangents' ``stax.LayerNorm``).

``LayerNorm``: each input and position on its own, over the channels:
    y = (h - mean_c h) / sqrt(var_c h + eps)      (population variance, eps = 1e-5 as torch).
``BatchNorm``: train-mode statistics, per channel, over the k inputs of one network (and its spatial
positions):  y = (h - mean_{k, p} h) / sqrt(var_{k, p} h + eps).  It COUPLES THE INPUTS: f(x_i) depends on
every x_j of the batch, so the NTK needs d f(x_i) / d y(x_j) for all pairs (``estimators.ntk`` then runs
one backward pass per output), the low-rank samplers do not apply, and it needs k >= 2 inputs (with one
input every channel is h - h = 0). A learned gain and shift are a following ``Dense``/``Conv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.layers.core import Layer, Namer, Run, Shape, Stream, merged, owner
from models.layers.fields import check_fields, positive


@dataclass(frozen=True)
class LayerNorm(Layer):
    eps: float = 1e-5
    kind = "layer_norm"

    def __post_init__(self) -> None:
        check_fields(self, eps=(positive,))

    def out_shape(self, shape: Shape, where: str) -> Shape:
        if shape.channels < 2:
            raise ValueError(f"{owner(self, where)}: a layer norm over {shape.channels} channel is constant 0")
        return shape.merged()

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        value = merged(h)
        mean = value.mean(dim=-1, keepdim=True)
        var = value.var(dim=-1, unbiased=False, keepdim=True)
        return (value - mean) / torch.sqrt(var + self.eps)


@dataclass(frozen=True)
class BatchNorm(Layer):
    eps: float = 1e-5
    kind = "batch_norm"

    def __post_init__(self) -> None:
        check_fields(self, eps=(positive,))

    def out_shape(self, shape: Shape, where: str) -> Shape:
        return shape.merged()

    def couples_inputs(self) -> bool:
        return True

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        value = merged(h)
        axes = (1, *range(2, 2 + len(shape.spatial)))  # the k inputs and the positions
        mean = value.mean(dim=axes, keepdim=True)
        var = value.var(dim=axes, unbiased=False, keepdim=True)
        return (value - mean) / torch.sqrt(var + self.eps)
