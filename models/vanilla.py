"""Vanilla ReLU feed-forward net of Littwin, Galanti & Wolf (UAI 2021), Sec. 4.

    y^0 = W^0 x / sqrt(n_0),   y^l = W^l q^{l-1} / sqrt(n_{l-1})  (l = 1..L),
    q^l = sqrt(2) * phi(y^l),  f = W^out y^L / sqrt(n_L).

The output reads the last pre-activation, as in their ResNet/DenseNet (Eq. 9, 10). There are
L + 2 weight matrices W0, W1..WL, Wout, all trained. ``widths`` = (n_0, ..., n_L) may vary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec, Tape, Weights, dense, inverse_sqrt
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

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        widths = self.widths
        assert isinstance(widths, tuple)
        shapes = {"W0": (widths[0], self.input_dim)}
        shapes |= {f"W{l}": (widths[l], widths[l - 1]) for l in range(1, self.depth + 1)}
        return shapes | {"Wout": (1, widths[-1])}

    def trained(self) -> frozenset[str]:
        return frozenset(self.weight_shapes())

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        q = ACTIVATIONS["relu_he"]
        y = dense("W0", weights, x, inverse_sqrt(self.input_dim), tape)
        for l in range(1, self.depth + 1):
            y = dense(f"W{l}", weights, q(y), inverse_sqrt(y.shape[-1]), tape)
        return dense("Wout", weights, y, inverse_sqrt(y.shape[-1]), tape)[..., 0]
