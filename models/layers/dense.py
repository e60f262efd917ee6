"""Dense (fully connected) layer with optional bias, in either parameterisation.

    NTK:       y = (weight_std / sqrt(fan_in)) Z h + bias_std b,   trained parameters Z, b ~ N(0, 1);
    standard:  y = W h + beta,  W = (weight_std / sqrt(fan_in)) Z,  beta = bias_std b,  trained W, beta.

Both have the same forward law; their NTKs differ by the chain rule (Jacot et al. 2018; Sohl-Dickstein et
al. 2020, "On the infinite width limit of neural networks with a standard parameterization"): the weight
term of layer l is s^2 <df/dy, df/dy'> <h, h'> (NTK, s = weight_std / sqrt(fan_in)) or <df/dy, df/dy'>
<h, h'> (standard), the bias term bias_std^2 <df/dy, df/dy'> or <df/dy, df/dy'>. The bias is stored as a
(width, 1) matrix applied to the constant input 1, so every factorised estimator treats it as a matrix.
On an input with spatial positions the one matrix is applied at every position (weight sharing).
On a concatenated input (``Concat``) the layer owns one matrix per block, named ``<name>,<h>``:
y = s sum_h Z_h h_h with s = weight_std / sqrt(total fan_in) (Littwin et al. Eq. 10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from models.base import dense
from models.layers.core import Layer, Namer, Param, Run, Shape, Stream
from models.layers.fields import check_linear_fields, positive_int
from models.layers.kernels import (
    KernelBlock,
    KernelState,
    mix,
    scaled,
    square,
    unsupported,
    weighted_parts,
    weighted_sum,
)


@dataclass(frozen=True)
class Dense(Layer):
    """``width`` output channels; ``bias`` adds b ~ N(0, bias_std^2); ``trained=False`` fixes the weights
    (Huang et al.'s first and last layers); ``name`` names the matrix (default ``dense<i>``)."""

    width: int
    bias: bool = False
    parameterization: str = "ntk"
    weight_std: float = 1.0
    bias_std: float = 1.0
    trained: bool = True
    name: str | None = None
    kind = "dense"

    def __post_init__(self) -> None:
        check_linear_fields(self, width=(positive_int,))

    def out_shape(self, shape: Shape, where: str) -> Shape:
        return Shape(shape.spatial, (self.width,))

    def weight_scale(self, shape: Shape) -> float:
        """The forward scale s = weight_std / sqrt(fan_in) of Z."""
        return self.weight_std / math.sqrt(shape.channels)

    def matrix_names(self, shape: Shape, base: str) -> list[str]:
        return [f"{base},{h}" for h in range(len(shape.blocks))] if shape.split else [base]

    def params(self, shape: Shape, namer: Namer) -> list[Param]:
        base = namer.name(self.name, self.kind)
        standard = self.parameterization == "standard"
        scale = self.weight_scale(shape)
        out = [
            Param(name, (self.width, fan_in), self.trained, scale if standard else 1.0)
            for name, fan_in in zip(self.matrix_names(shape, base), shape.blocks, strict=True)
        ]
        if self.bias:
            out.append(Param(f"{base}.b", (self.width, 1), self.trained, self.bias_std if standard else 1.0))
        return out

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        base = namer.name(self.name, self.kind)
        scale = self.weight_scale(shape)
        gradient = 1.0 if self.parameterization == "standard" else None
        tape = run.tape  # untrained matrices are recorded too: per-matrix Grams list every matrix
        names = self.matrix_names(shape, base)
        if isinstance(h, tuple):
            y = torch.stack(
                [dense(n, run.weights, block, scale, tape, gradient) for n, block in zip(names, h, strict=True)]
            ).sum(0)
        else:
            y = dense(names[0], run.weights, h, scale, tape, gradient)
        if self.bias:
            ones = torch.ones((*y.shape[:-1], 1), dtype=y.dtype, device=y.device)
            bias_gradient = 1.0 if self.parameterization == "standard" else None
            y = y + dense(f"{base}.b", run.weights, ones, self.bias_std, tape, bias_gradient)
        return y

    # --- infinite-width kernel (models.layers.kernels) -------------------------------------
    def kernel(self, state: KernelState, where: str) -> KernelState:
        """Sigma' = w^2 sum_h (n_h / N) Sigma_h + b^2 and Theta' = w^2 sum_h (n_h / N) Theta_h + (trained) T,
        over the input's blocks h of n_h coordinates (N = fan_in; one block unless a ``Concat`` made them;
        Jacot et al. 2018, Thm 1; Lee et al. 2018). T sums the terms of the layer's matrices (its ``parts``,
        kept for untrained matrices too):

            NTK parameterisation:      weight w^2 sum_{h in the matrix} (n_h / N) Sigma_h,   bias b^2;
            standard parameterisation: weight sum_{h in the matrix} n_h Sigma_h,           bias 1,

        the standard terms being fan_in / w^2 and 1 / b^2 times the NTK ones: the trained parameters are
        W = (w / sqrt(N)) Z and beta = b b0, so dy/dW = h, and E <h, h'> = N Sigma. The standard
        parameterisation's NTK has no finite limit (it grows like the widths); its "infinite-width NTK" here
        is the deterministic leading-order kernel at the spec's actual widths: E[empirical NTK] equals it
        times 1 + O(1 / width), the widths entering only through these fan_in factors (Sohl-Dickstein, Novak,
        Schoenholz & Lee 2020, "On the infinite width limit of neural networks with a standard
        parameterization"; Jacot et al. 2018). Cross terms between blocks vanish: each block has
        its own independent Z_h."""
        shape = state.shape
        if shape.spatial:
            why = f"a dense layer over positions {shape.spatial} shares its weights"
            raise unsupported(type(self).__name__, where, why)
        base = state.namer.name(self.name, self.kind)
        names = self.matrix_names(shape, base)
        fan_in, weight_variance = shape.channels, square(self.weight_std)
        blocks = state.blocks
        weights = [weight_variance * block.width / fan_in for block in blocks]
        bias_variance = square(self.bias_std) if self.bias else 0.0
        variance, nngp, minus, plus = mix(blocks, weights, bias_variance)
        standard = self.parameterization == "standard"
        terms: dict[str, np.ndarray] = {}
        for block, weight in zip(blocks, weights, strict=True):
            name = names[block.matrix] if shape.split else names[0]
            term = scaled(float(block.width) if standard else weight, block.nngp)
            terms[name] = terms[name] + term if name in terms else term
        if self.bias:
            terms[f"{base}.b"] = np.full_like(nngp, 1.0 if standard else bias_variance)
        if len(blocks) == 1:
            ntk = scaled(weights[0], blocks[0].ntk)
        else:
            ntk = weighted_sum([(w, block.ntk) for w, block in zip(weights, blocks, strict=True)])
        if self.trained:
            for term in terms.values():
                ntk = ntk + term
        parts: dict[str, np.ndarray] = {}
        if state.part_key is not None:
            parts = weighted_parts([(w, block.parts) for w, block in zip(weights, blocks, strict=True)])
            for name, term in terms.items():
                key = state.part_key(name)
                parts[key] = parts[key] + term if key in parts else term
        block = KernelBlock(self.width, 0, variance, nngp, minus, plus, ntk, parts, gaussian=True)
        return state.evolve((block,), self.out_shape(shape, where))

    def kernel_ends_in_dense(self) -> bool:
        return True
