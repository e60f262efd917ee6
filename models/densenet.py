"""DenseNet of Littwin et al. (UAI 2021), Eq. 10, constant width n:

    y^0 = W^0 x / sqrt(n_0);  y^l = sqrt(alpha / (l n)) * sum_{h=0}^{l-1} W^{l,h} q^h  (l = 1..L)
    q^h = sqrt(2) phi(y^h);   f = W^out y^L / sqrt(n).

The fan-in of the concatenation, n^l_{l-1}, is read as l * n. All weights trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec, Tape, Weights, dense, inverse_sqrt
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

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        n = self.width
        shapes = {"W0": (n, self.input_dim)}
        shapes |= {f"W{l},{h}": (n, n) for l in range(1, self.depth + 1) for h in range(l)}
        return shapes | {"Wout": (1, n)}

    def trained(self) -> frozenset[str]:
        return frozenset(self.weight_shapes())

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        q = ACTIVATIONS["relu_he"]
        y = dense("W0", weights, x, inverse_sqrt(self.input_dim), tape)
        activations = [q(y)]
        for l in range(1, self.depth + 1):
            scale = math.sqrt(self.alpha / (l * self.width))
            y = torch.stack([dense(f"W{l},{h}", weights, activations[h], scale, tape) for h in range(l)]).sum(0)
            activations.append(q(y))
        return dense("Wout", weights, y, inverse_sqrt(self.width), tape)[..., 0]
