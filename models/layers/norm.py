"""Parameter-free normalisation layers at initialisation (as neural-tangents' ``stax.LayerNorm``).

``LayerNorm``: each input and position on its own, over the channels:
    y = (h - mean_c h) / sqrt(var_c h + eps)      (population variance, eps = 1e-5 as torch).
``BatchNorm``: train-mode statistics, per channel, over the k inputs of one network (and its spatial
positions):  y = (h - mean_{k, p} h) / sqrt(var_{k, p} h + eps).  It COUPLES THE INPUTS: f(x_i) depends on
every x_j of the batch, so the NTK needs d f(x_i) / d y(x_j) for all pairs (``estimators.ntk`` then runs
one backward pass per output), the low-rank samplers do not apply, and it needs k >= 2 inputs (with one
input every channel is h - h = 0).
``affine=True`` adds torch's learned per-channel gain and shift, y = gamma * xhat + beta, at their
initialisation gamma = 1, beta = 0 (deterministic, ``Param.init``), both trained: matrices ``<name>.gain``
and ``<name>.shift`` of shape (C, 1). Their NTK terms are <sum_p delta_p * xhat_p, sum_q delta'_q * xhat'_q>
(gain) and <sum_p delta_p, sum_q delta'_q> (shift); a network with them runs on the dense path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.base import dense, elementwise
from models.layers.core import Layer, Namer, Param, Run, Shape, Stream, merged, owner
from models.layers.fields import boolean, check_fields, optional_name, positive


class _Normalisation(Layer):
    """What LayerNorm and BatchNorm share: eps, the optional affine gain and shift."""

    eps: float
    affine: bool
    name: str | None

    def __post_init__(self) -> None:
        check_fields(self, eps=(positive,), affine=(boolean,), name=(optional_name,))

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        if not self.affine:
            return []
        base, c = namer.name(self.name, self.kind), shape.channels
        return [Param(f"{base}.gain", (c, 1), True, init="ones"), Param(f"{base}.shift", (c, 1), True, init="zeros")]

    def normalised(self, value: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
        mean = value.mean(dim=axes, keepdim=True)
        var = value.var(dim=axes, unbiased=False, keepdim=True)
        return (value - mean) / torch.sqrt(var + self.eps)

    def affine_map(self, run: Run, xhat: torch.Tensor, namer: Namer) -> torch.Tensor:
        if not self.affine:
            return xhat
        base = namer.name(self.name, self.kind)
        ones = torch.ones((*xhat.shape[:-1], 1), dtype=xhat.dtype, device=xhat.device)
        return elementwise(f"{base}.gain", run.weights, xhat, run.tape) + dense(
            f"{base}.shift", run.weights, ones, 1.0, run.tape
        )


@dataclass(frozen=True)
class LayerNorm(_Normalisation):
    eps: float = 1e-5
    affine: bool = False
    name: str | None = None
    kind = "layer_norm"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        if shape.channels < 2:
            raise ValueError(f"{owner(self, where)}: a layer norm over {shape.channels} channel is constant 0")
        return shape.merged()

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        return self.affine_map(run, self.normalised(merged(h), (-1,)), namer)


@dataclass(frozen=True)
class BatchNorm(_Normalisation):
    eps: float = 1e-5
    affine: bool = False
    name: str | None = None
    kind = "batch_norm"

    def out_shape(self, shape: Shape, where: str) -> Shape:
        return shape.merged()

    def couples_inputs(self) -> bool:
        return True

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        axes = (1, *range(2, 2 + len(shape.spatial)))  # the k inputs and the positions
        return self.affine_map(run, self.normalised(merged(h), axes), namer)
