"""Vanilla ReLU feed-forward net of Littwin, Galanti & Wolf (UAI 2021), Sec. 4.

    y^0 = W^0 x / sqrt(n_0),   y^l = W^l q^{l-1} / sqrt(n_{l-1})  (l = 1..L),
    q^l = sqrt(2) * phi(y^l),  f = W^out y^L / sqrt(n_L).

The output reads the last pre-activation, as in their ResNet/DenseNet (Eq. 9, 10). There are
L + 2 weight matrices W0, W1..WL, Wout, all trained. ``widths`` = (n_0, ..., n_L) may vary.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from models import presets
from models.base import ArchitectureSpec, Tape, Weights
from models.network import Network
from models.validation import normalise, positive_int, width_tuple


@dataclass(frozen=True)
class VanillaNet(ArchitectureSpec):
    """Littwin et al.'s vanilla net: ``depth`` ReLU layers; ``widths`` an int or L + 1 ints."""

    input_dim: int
    depth: int
    widths: int | tuple[int, ...]
    kind = "vanilla"

    def __post_init__(self) -> None:
        normalise(self, "input_dim", positive_int)
        normalise(self, "depth", positive_int)
        normalise(self, "widths", width_tuple, self.depth + 1)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.vanilla(self.input_dim, self.widths)  # type: ignore[arg-type]

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)
