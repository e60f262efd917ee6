"""Fully connected nets of Liu, Zhu & Belkin (NeurIPS 2020), our reading (THEOREMS.md C):

    h_0 = x;  h_l = sigma(W_l h_{l-1} / sqrt(n_{l-1}))  (l = 1..L);
    z = v . h_L / sqrt(n_L);  f = s(z)   (s = identity: linear output).

All weights trained. An optional bottleneck fixes the width of one hidden layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from models import presets
from models.base import ArchitectureSpec, Tape, Weights
from models.network import Network
from models.validation import normalise, one_of, positive_int

HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "softplus")
OUTPUT_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softplus")
DATASETS = ("synthetic", "digits")  # training sets of ``estimators.training.training_set``
PATHS = ("line", "arc")  # paths in weight space of ``estimators.training.path_change``


@dataclass(frozen=True)
class LZBNet(ArchitectureSpec):
    """``depth`` hidden layers of ``width`` units; ``bottleneck_width`` replaces the width of hidden
    layer ``bottleneck_layer`` (1-based) when given."""

    input_dim: int
    depth: int
    width: int
    activation: str = "tanh"
    output_activation: str = "identity"
    bottleneck_width: int | None = None
    bottleneck_layer: int = 1
    kind = "lzb"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        normalise(self, "input_dim", positive_int)
        normalise(self, "depth", positive_int)
        normalise(self, "width", positive_int)
        normalise(self, "activation", one_of, HIDDEN_ACTIVATIONS)
        normalise(self, "output_activation", one_of, OUTPUT_ACTIVATIONS)
        if self.bottleneck_width is not None:
            normalise(self, "bottleneck_width", positive_int)
        layer = normalise(self, "bottleneck_layer", positive_int)
        if layer > self.depth:
            raise ValueError(f"{owner}.bottleneck_layer must be <= depth={self.depth}, got {layer}")

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths n_1..n_L of the hidden layers, bottleneck included."""
        widths = [self.width] * self.depth
        if self.bottleneck_width is not None:
            widths[self.bottleneck_layer - 1] = self.bottleneck_width
        return tuple(widths)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.lzb(self.input_dim, self.hidden_widths, self.activation, self.output_activation)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)
