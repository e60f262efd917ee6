"""Elementwise activations as layers: one value carries phi and, where it exists, its kernel map.

``Activation(fn, gain)`` computes gain * phi(u) for phi one of ``FUNCTIONS``. ``ReLU(gain=sqrt 2)`` is
Littwin et al.'s q = sqrt(2) phi (the He gain). Closed-form infinite-width maps (for u ~ N(0, Sigma)):
ReLU (arc-cosine kernels of order 0 and 1, Cho & Saul 2009), erf (Williams 1997), identity; see
``estimators.infinite_width``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from models.layers.core import Layer, Namer, Run, Shape, Stream
from models.layers.fields import check_fields, finite_float, one_of

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
