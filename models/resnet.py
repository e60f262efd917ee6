"""Residual networks: Littwin et al.'s Eq. 9 (branch depth m, per-block alpha_l) and Huang et al.'s
(alpha = L^-gamma, fixed first and last layers)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from models import presets
from models.base import ArchitectureSpec, Tape, Weights
from models.network import Network
from models.validation import boolean, finite_float, normalise, positive_float_tuple, positive_int


@dataclass(frozen=True)
class LittwinResNet(ArchitectureSpec):
    """Littwin et al. (UAI 2021) Eq. 9, constant trunk width n, branch width n_b:

        y^0 = W^0 x / sqrt(n_0);   y^l = y^{l-1} + sqrt(alpha_l) * y^{l-1,m}   (l = 1..L)
        y^{l-1,1} = W^{l,1} y^{l-1} / sqrt(n);  y^{l-1,h} = W^{l,h} q^{l-1,h-1} / sqrt(n_b) (1 < h <= m)
        q = sqrt(2) phi(.);  f = W^out y^L / sqrt(n).

    Weights ``W0``, ``W{l},{h}``, ``Wout``; all trained (their K counts every matrix).
    ``alphas`` is one positive float (all blocks) or L of them.
    """

    input_dim: int
    blocks: int
    branch_depth: int
    width: int
    alphas: float | tuple[float, ...]
    branch_width: int | None = None
    kind = "littwin_resnet"

    def __post_init__(self) -> None:
        normalise(self, "input_dim", positive_int)
        normalise(self, "blocks", positive_int)
        normalise(self, "branch_depth", positive_int)
        normalise(self, "width", positive_int)
        if self.branch_width is None:
            object.__setattr__(self, "branch_width", self.width)
        normalise(self, "branch_width", positive_int)
        normalise(self, "alphas", positive_float_tuple, self.blocks)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.littwin_resnet(
            self.input_dim, self.width, self.branch_width, self.branch_depth, self.alphas  # type: ignore[arg-type]
        )

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)


@dataclass(frozen=True)
class HuangResNet(ArchitectureSpec):
    """Huang et al. (NeurIPS 2020) ResNet, our reading (THEOREMS.md B, reconstructed):

        x_0 = A x / sqrt(d);  x_l = x_{l-1} + alpha * V_l q(W_l x_{l-1} / sqrt(n)) / sqrt(n)  (l = 1..L)
        q = sqrt(2) phi(.);   alpha = L^-gamma;   f = v . x_L / sqrt(n).

    A and v are fixed (not trained) unless ``train_all``; W_l and V_l are trained. The global
    1/sqrt(n) on f scales the NTK only and cancels in the normalised kernel.
    """

    input_dim: int
    depth: int
    width: int
    gamma: float
    train_all: bool = False
    kind = "huang_resnet"

    def __post_init__(self) -> None:
        normalise(self, "input_dim", positive_int)
        normalise(self, "depth", positive_int)
        normalise(self, "width", positive_int)
        normalise(self, "gamma", finite_float, minimum=0.0)
        normalise(self, "train_all", boolean)

    @property
    def alpha(self) -> float:
        """Residual scale alpha = L^-gamma."""
        return float(self.depth) ** (-self.gamma)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.huang_resnet(self.input_dim, self.depth, self.width, self.alpha, self.train_all)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)


@dataclass(frozen=True)
class HuangFFNet(ArchitectureSpec):
    """Huang et al.'s feed-forward net (THEOREMS.md B): x_0 = A x / sqrt(d),
    x_l = sqrt(2) phi(W_l x_{l-1} / sqrt(n)) (l = 1..L), f = v . x_L / sqrt(n).
    A and v fixed unless ``train_all``; W_1..W_L trained."""

    input_dim: int
    depth: int
    width: int
    train_all: bool = False
    kind = "huang_ffnet"

    def __post_init__(self) -> None:
        normalise(self, "input_dim", positive_int)
        normalise(self, "depth", positive_int)
        normalise(self, "width", positive_int)
        normalise(self, "train_all", boolean)

    @cached_property
    def network(self) -> Network:
        """This spec as a composition of ``models.layers`` (``models.presets``)."""
        return presets.huang_ffnet(self.input_dim, self.depth, self.width, self.train_all)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        return self.network.weight_shapes()

    def trained(self) -> frozenset[str]:
        return self.network.trained()

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        return self.network.apply(weights, x, tape)
