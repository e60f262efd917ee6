"""DenseNet of Littwin et al. (UAI 2021), Eq. 10, constant width n:

    y^0 = W^0 x / sqrt(n_0);  y^l = sqrt(alpha / (l n)) * sum_{h=0}^{l-1} W^{l,h} q^h  (l = 1..L)
    q^h = sqrt(2) phi(y^h);   f = W^out y^L / sqrt(n).

The fan-in of the concatenation, n^l_{l-1}, is read as l * n. All weights trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from models import presets
from models.base import ArchitectureSpec, Tape, Weights
from models.network import Network
from models.validation import finite_float, normalise, positive_int


@dataclass(frozen=True)
class DenseNet(ArchitectureSpec):
    """Littwin et al.'s DenseNet with ``depth`` dense layers and scale ``alpha`` (default 0.5)."""

    input_dim: int
    depth: int
    width: int
    alpha: float = 0.5
    kind = "densenet"

    def __post_init__(self) -> None:
        normalise(self, "input_dim", positive_int)
        normalise(self, "depth", positive_int)
        normalise(self, "width", positive_int)
        normalise(self, "alpha", finite_float, positive=True)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.densenet(self.input_dim, self.depth, self.width, self.alpha)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)
