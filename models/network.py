"""A composed network: an input shape and a layer tree (``models.layers``) as one architecture spec.

``Network(input_shape, layers)`` is frozen, hashable and round-trips through JSON
(``spec_from_json``); construction validates every layer against the shape it receives (a ``ValueError``
naming the layer's position, e.g. ``Serial[2] (Conv).kernel_size``), and the output must be one scalar
per input. It lists its weights (``weight_shapes``, ``trained``), applies batched over B networks
(``apply(weights, x, tape)``, x (B, k, prod(input_shape))), builds a ``torch.nn.Module`` (``module``), and
declares what the samplers need (``each_weight_once``, ``couples_inputs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from models.base import ArchitectureSpec, Tape, Weights
from models.layers.core import Layer, Namer, Param, Run, Shape, layer_from_json, merged
from models.layers.fields import positive_int


def _input_shape(value: object) -> tuple[int, ...]:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        raise ValueError(
            f"Network.input_shape must be (channels,), (positions, channels) or (height, width, channels), "
            f"got {value!r}"
        )
    return tuple(positive_int("Network", f"input_shape[{i}]", v) for i, v in enumerate(value))


@dataclass(frozen=True)
class Network(ArchitectureSpec):
    """``layers`` applied to inputs of shape ``input_shape`` (channels last); f is the single output."""

    input_shape: tuple[int, ...]
    layers: Layer
    kind = "network"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", _input_shape(self.input_shape))
        layers = self.layers
        if isinstance(layers, Mapping):
            layers = layer_from_json(layers, "Network.layers")
        if isinstance(layers, tuple | list):
            from models.layers.combinators import Serial

            layers = Serial(
                *(
                    layer_from_json(layer, f"Network.layers[{i}]") if isinstance(layer, Mapping) else layer
                    for i, layer in enumerate(layers)
                )
            )
        if not isinstance(layers, Layer):
            raise ValueError(f"Network.layers must be a layer (models.layers), got {layers!r}")
        object.__setattr__(self, "layers", layers)
        out = layers.out_shape(self.input_layout, "")
        if out.spatial or out.channels != 1:
            raise ValueError(
                f"Network.layers must give one scalar per input, got output shape {out.describe()}: end with a "
                "pooling/Flatten and Dense(1) (or Take)"
            )
        names = [p.name for p in self.param_list]
        if len(set(names)) != len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"Network has duplicate weight names {duplicates}: give the layers distinct names")

    # --- the spec protocol ----------------------------------------------------------------
    @property
    def input_dim(self) -> int:  # type: ignore[override]
        return math.prod(self.input_shape)

    @property
    def input_layout(self) -> Shape:
        return Shape(tuple(self.input_shape[:-1]), (self.input_shape[-1],))

    @cached_property
    def param_list(self) -> tuple[Param, ...]:
        return tuple(self.layers.params(self.input_layout, Namer()))

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return {p.name: p.shape for p in self.param_list}

    def trained(self) -> frozenset[str]:
        return frozenset(p.name for p in self.param_list if p.trained)

    def parameter_scales(self) -> dict[str, float]:
        """c per matrix: the trained parameter is c * Z (1 under the NTK parameterisation)."""
        return {p.name: p.parameter_scale for p in self.param_list}

    def parameter_inits(self) -> dict[str, str]:
        """Per matrix, how it starts: "normal" (N(0, 1) entries), "ones" or "zeros" (normalisation gains, shifts)."""
        return {p.name: p.init for p in self.param_list}

    def couples_inputs(self) -> bool:
        """Whether one input's output depends on the other inputs (BatchNorm)."""
        return self.layers.couples_inputs()

    def each_weight_once(self) -> bool:
        """Whether every matrix is N(0, 1) and applied once per input to a vector (no sharing over positions,
        no inputs coupled), as the exact low-rank and statistics samplers need."""
        normal = all(p.init == "normal" for p in self.param_list)
        return normal and self.shares_no_weights and not self.couples_inputs()

    @property
    def shares_no_weights(self) -> bool:
        return all(p == 1 for p in self.positions.values())

    @cached_property
    def positions(self) -> dict[str, int]:  # type: ignore[override]
        """Per matrix, the number of positions it is applied at per input (1 unless shared). A dry run on
        torch's ``meta`` device: shapes only, nothing allocated, whatever the widths."""
        meta = torch.device("meta")
        x = torch.zeros((1, 2, self.input_dim), dtype=torch.float64, device=meta)
        tape = Tape()
        weights = {n: torch.zeros((1, *s), dtype=torch.float64, device=meta) for n, s in self.weight_shapes().items()}
        self.apply(weights, x, tape)
        return {name: int(r.inputs.shape[2]) if r.shared else 1 for name, r in tape.records.items()}

    def check_inputs(self, x: object) -> torch.Tensor:
        """Inputs of shape (k, *input_shape) or (k, prod(input_shape)), finite; returns (k, input_dim) float64.
        A network with BatchNorm needs k >= 2 (its statistics are over the k inputs)."""
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu()
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Network inputs must be an array of real numbers: {err}") from None
        if array.ndim == len(self.input_shape) + 1 and array.shape[1:] == self.input_shape:
            array = array.reshape(array.shape[0], self.input_dim)
        elif array.ndim == len(self.input_shape) and array.shape == self.input_shape and len(self.input_shape) > 1:
            array = array.reshape(1, -1)
        tensor = super().check_inputs(array)
        if self.couples_inputs() and tensor.shape[0] < 2:
            raise ValueError(
                "Network has a BatchNorm layer, whose statistics are over the k inputs of one network: it needs "
                f"k >= 2 inputs, got {tensor.shape[0]}"
            )
        return tensor

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        """Batched forward pass: x (B, k, input_dim) -> f (B, k)."""
        h = x.reshape(*x.shape[:2], *self.input_shape)
        out = merged(self.layers.apply(Run(weights, tape), h, self.input_layout, Namer()))
        return out[..., 0]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "input_shape": list(self.input_shape), "layers": self.layers.to_json()}

    def module(self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> NetworkModule:
        """One network as a ``torch.nn.Module`` whose parameters are the trained parameters c * Z."""
        return NetworkModule(self, generator=generator, dtype=dtype)

    def describe(self) -> str:
        return f"Network(input_shape={self.input_shape}, {self.layers.describe()})"


class NetworkModule(torch.nn.Module):
    """A ``Network`` as an ``nn.Module``: ``forward(x)`` maps (k, *input_shape) or (k, input_dim) -> (k,).

    Parameters are the trained quantities (c * Z: Z itself under the NTK parameterisation, the scaled
    matrix under the standard one), so ``torch.func.jacrev`` over them gives the network's NTK."""

    def __init__(
        self,
        network: Network,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
        normals: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.network = network
        self.scales = network.parameter_scales()
        trained = network.trained()
        params = {}
        inits = network.parameter_inits()
        for i, (name, shape) in enumerate(network.weight_shapes().items()):
            if inits[name] != "normal":
                z = (torch.ones if inits[name] == "ones" else torch.zeros)(shape, dtype=dtype)
            elif normals is not None:
                z = normals[name]
            else:
                z = torch.randn(shape, generator=generator, dtype=dtype)
            params[f"p{i}"] = torch.nn.Parameter(self.scales[name] * z.to(dtype), requires_grad=name in trained)
        self.names = list(network.weight_shapes())
        self.params = torch.nn.ParameterDict(params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = {
            name: (self.params[f"p{i}"] / self.scales[name]).unsqueeze(0) for i, name in enumerate(self.names)
        }
        flat = x.reshape(x.shape[0], -1).unsqueeze(0)
        return self.network.apply(weights, flat)[0]
