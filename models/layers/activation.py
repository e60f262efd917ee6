"""Elementwise activations as layers: one value carries phi and, where it exists, its kernel map.

``Activation(fn, gain)`` computes gain * phi(u) for phi one of ``FUNCTIONS``. ``ReLU(gain=sqrt 2)`` is
Littwin et al.'s q = sqrt(2) phi (the He gain). Closed-form infinite-width maps (``kernel``, for
u ~ N(0, Sigma)): ReLU (arc-cosine kernels of order 0 and 1, Cho & Saul 2009), erf (Williams 1997),
identity; the others raise (``estimators.infinite_width``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from models.layers.core import Layer, Namer, Run, Shape, Stream
from models.layers.fields import check_fields, finite_float, one_of
from models.layers.kernels import (
    KernelBlock,
    KernelState,
    erf_terms,
    relu_terms,
    square,
    unsupported,
)

FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda u: u,
    "relu": torch.relu,
    "erf": torch.erf,
    "tanh": torch.tanh,
    "gelu": torch.nn.functional.gelu,
    "softplus": torch.nn.functional.softplus,
    "sigmoid": torch.sigmoid,
}


@dataclass(frozen=True)
class Activation(Layer):
    """gain * fn(u), elementwise; ``fn`` one of ``FUNCTIONS``."""

    fn: str
    gain: float = 1.0
    kind = "activation"

    def __post_init__(self) -> None:
        check_fields(self, fn=(one_of, tuple(FUNCTIONS)), gain=(_nonzero,))

    def out_shape(self, shape: Shape, where: str) -> Shape:
        return shape

    def __call__(self, u: torch.Tensor) -> torch.Tensor:
        value = FUNCTIONS[self.fn](u)
        return value if self.gain == 1.0 else self.gain * value

    def apply(self, run: Run, h: Stream, shape: Shape, namer: Namer) -> Stream:
        return tuple(self(block) for block in h) if isinstance(h, tuple) else self(h)

    # --- infinite-width kernel (models.layers.kernels) -------------------------------------
    def kernel(self, state: KernelState, where: str) -> KernelState:
        """Per block, for u ~ N(0, Sigma), g = ``gain``: Sigma_dot = g^2 E[phi'(u) phi'(u')], Theta' = Sigma_dot Theta;

            identity: Sigma' = g^2 Sigma, Sigma_dot = g^2 (any input, Gaussian or not);
            relu:     Sigma' = g^2 sqrt(Sigma_xx Sigma_yy) k1(rho), Sigma_dot = g^2 k0(rho)  (Cho & Saul 2009),
                      in the (1 - rho, 1 + rho) form of ``relu_terms``: rho' = 2 k1, Sigma'(x, x) = g^2 Sigma(x, x) / 2;
            erf:      Williams (1997), ``erf_terms``.

        relu and erf need a Gaussian input (a Dense before them); other functions have no closed form here."""
        if self.fn not in ("identity", "relu", "erf"):
            raise unsupported(self.describe(), where)
        if self.fn != "identity" and not all(block.gaussian for block in state.blocks):
            raise unsupported(self.describe(), where, "its input is not Gaussian (put a Dense layer before it)")
        return state.evolve(tuple(self._block_kernel(block) for block in state.blocks))

    def _block_kernel(self, block: KernelBlock) -> KernelBlock:
        gain2 = square(self.gain)
        if self.fn == "identity":
            variance, nngp, minus, plus = gain2 * block.variance, gain2 * block.nngp, block.minus, block.plus
            derivative: np.ndarray | float = gain2
        elif self.fn == "relu":
            two_k0, two_k1, minus = relu_terms(block.minus, block.plus)
            half = gain2 / 2.0
            variance = block.variance if half == 1.0 else half * block.variance
            plus, derivative = 1.0 + two_k1, two_k0 if half == 1.0 else half * two_k0
            nngp = two_k1 * np.sqrt(np.outer(variance, variance))  # rho' = 2 k1, to relative precision
        else:
            unit_variance, unit_nngp, unit_derivative = erf_terms(block.variance, block.nngp, block.minus, block.plus)
            variance, nngp, derivative = gain2 * unit_variance, gain2 * unit_nngp, gain2 * unit_derivative
            root = np.sqrt(np.outer(variance, variance))
            rho = np.clip(np.divide(nngp, root, out=np.zeros_like(nngp), where=root > 0), -1.0, 1.0)
            minus, plus = 1.0 - rho, 1.0 + rho
            np.fill_diagonal(minus, 0.0)
            np.fill_diagonal(plus, 2.0)
        parts = {key: derivative * part for key, part in block.parts.items()}
        gaussian = block.gaussian and self.fn == "identity"
        ntk = derivative * block.ntk
        return KernelBlock(block.width, block.matrix, variance, nngp, minus, plus, ntk, parts, gaussian)


def _nonzero(owner: str, field: str, value: object) -> float:
    number = finite_float(owner, field, value)
    if number == 0:
        raise ValueError(f"{owner}.{field} must be nonzero, got 0")
    return number


HE_GAIN = math.sqrt(2.0)


def ReLU(gain: float = 1.0) -> Activation:
    """max(u, 0) times ``gain`` (``HE_GAIN`` = sqrt 2 keeps E q^2 = E u^2)."""
    return Activation("relu", gain)


def Erf(gain: float = 1.0) -> Activation:
    return Activation("erf", gain)


def Tanh() -> Activation:
    return Activation("tanh")


def Gelu() -> Activation:
    return Activation("gelu")


def Softplus() -> Activation:
    return Activation("softplus")


def Sigmoid() -> Activation:
    return Activation("sigmoid")


def Identity() -> Activation:
    return Activation("identity")
