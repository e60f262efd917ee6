"""Residual networks: Littwin et al.'s Eq. 9 (branch depth m, per-block alpha_l) and Huang et al.'s
(alpha = L^-gamma, fixed first and last layers)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec, Tape, Weights, dense, inverse_sqrt
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

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        n, nb, m = self.width, self.branch_width, self.branch_depth
        assert nb is not None
        shapes = {"W0": (n, self.input_dim)}
        for l in range(1, self.blocks + 1):
            for h in range(1, m + 1):
                fan_in = n if h == 1 else nb
                fan_out = n if h == m else nb
                shapes[f"W{l},{h}"] = (fan_out, fan_in)
        return shapes | {"Wout": (1, n)}

    def trained(self) -> frozenset[str]:
        return frozenset(self.weight_shapes())

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        q = ACTIVATIONS["relu_he"]
        alphas = self.alphas
        assert isinstance(alphas, tuple)
        y = dense("W0", weights, x, inverse_sqrt(self.input_dim), tape)
        for l in range(1, self.blocks + 1):
            branch = dense(f"W{l},1", weights, y, inverse_sqrt(self.width), tape)
            for h in range(2, self.branch_depth + 1):
                branch = dense(f"W{l},{h}", weights, q(branch), inverse_sqrt(branch.shape[-1]), tape)
            y = y + math.sqrt(alphas[l - 1]) * branch
        return dense("Wout", weights, y, inverse_sqrt(self.width), tape)[..., 0]


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

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        n = self.width
        shapes = {"A": (n, self.input_dim)}
        for l in range(1, self.depth + 1):
            shapes |= {f"W{l}": (n, n), f"V{l}": (n, n)}
        return shapes | {"v": (1, n)}

    def trained(self) -> frozenset[str]:
        names = self.weight_shapes()
        return frozenset(names if self.train_all else (n for n in names if n not in {"A", "v"}))

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        q, scale = ACTIVATIONS["relu_he"], inverse_sqrt(self.width)
        h = dense("A", weights, x, inverse_sqrt(self.input_dim), tape)
        for l in range(1, self.depth + 1):
            inner = q(dense(f"W{l}", weights, h, scale, tape))
            h = h + self.alpha * dense(f"V{l}", weights, inner, scale, tape)
        return dense("v", weights, h, scale, tape)[..., 0]


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

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        n = self.width
        shapes = {"A": (n, self.input_dim)} | {f"W{l}": (n, n) for l in range(1, self.depth + 1)}
        return shapes | {"v": (1, n)}

    def trained(self) -> frozenset[str]:
        names = self.weight_shapes()
        return frozenset(names if self.train_all else (n for n in names if n not in {"A", "v"}))

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        q, scale = ACTIVATIONS["relu_he"], inverse_sqrt(self.width)
        h = dense("A", weights, x, inverse_sqrt(self.input_dim), tape)
        for l in range(1, self.depth + 1):
            h = q(dense(f"W{l}", weights, h, scale, tape))
        return dense("v", weights, h, scale, tape)[..., 0]
