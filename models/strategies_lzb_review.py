"""Hypothesis strategies for the reviewers' questions to Liu, Zhu & Belkin (claims ``theorems/lzb_review_*``):
softmax outputs and softmax self-attention swept over width, GD with other losses, and PL* runs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models import presets
from models.lzb import LZBNet
from models.network import Network
from models.strategies import unit_vectors
from models.strategies_lzb import WIDTHS, TrainingCase, training_cases

# The attention Hessian runs Lanczos on the full weight space (4 m^2 weights): small widths, a wide span.
ATTENTION_WIDTHS = (16, 32, 64, 128)
ATTENTION_WIDE_SPAN = (16, 64, 256)
LOSSES = ("logistic", "hinge")  # the reviewers' other losses (``estimators.training.LOSSES``)


@dataclass(frozen=True)
class NetworkWidthCase:
    """One architecture built at each of ``widths`` (``networks[i]`` has width ``widths[i]``) and one input."""

    label: str
    widths: tuple[int, ...]
    networks: tuple[Network, ...]
    inputs: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.networks) or len(set(self.widths)) < 2:
            raise ValueError(f"NetworkWidthCase needs one network per width and two distinct widths, got {self.widths}")
        for network in self.networks:
            network.check_inputs(self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "widths": list(self.widths),
            "network": self.networks[0].to_json(),
            "inputs": [list(x) for x in self.inputs],
        }


def _input_of_norm_sqrt_dim(draw: st.DrawFn, dim: int) -> tuple[tuple[float, ...], ...]:
    return (tuple(c * math.sqrt(dim) for c in draw(unit_vectors(dim))),)


@st.composite
def softmax_output_sweeps(draw: st.DrawFn, widths: tuple[int, ...] = WIDTHS) -> NetworkWidthCase:
    """f = softmax(z)_0 over 3..5 logits of a depth 1..2 tanh or softplus net (smooth, as Thm 3.2 assumes), input
    dim 1..8, one input of norm sqrt(d)."""
    input_dim, depth = draw(st.integers(1, 8)), draw(st.integers(1, 2))
    activation, classes = draw(st.sampled_from(("tanh", "softplus"))), draw(st.integers(3, 5))
    networks = tuple(presets.softmax_output(input_dim, (m,) * depth, activation, classes) for m in widths)
    label = f"softmax over {classes} logits, depth {depth}, {activation}"
    return NetworkWidthCase(label, widths, networks, _input_of_norm_sqrt_dim(draw, input_dim))


@st.composite
def attention_sweeps(
    draw: st.DrawFn, scaling: str, widths: tuple[int, ...] = ATTENTION_WIDTHS, min_tokens: int = 2
) -> NetworkWidthCase:
    """One softmax self-attention layer (1 head, logits scaled by ``scaling``) on ``min_tokens``..4 tokens of
    dim 2..4, tanh after it, mean over tokens, linear output; one input of norm sqrt(T d)."""
    tokens, input_dim = draw(st.integers(min_tokens, 4)), draw(st.integers(2, 4))
    networks = tuple(presets.attention_net(tokens, input_dim, m, 1, scaling, "tanh") for m in widths)
    label = f"attention ({scaling} scaling), {tokens} tokens of dim {input_dim}"
    return NetworkWidthCase(label, widths, networks, _input_of_norm_sqrt_dim(draw, tokens * input_dim))


@dataclass(frozen=True)
class LossTrainingCase:
    """GD runs of one linear-output ``TrainingCase`` under each loss of ``losses``."""

    training: TrainingCase
    losses: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"training": self.training.to_json(), "losses": list(self.losses)}


@st.composite
def other_loss_cases(draw: st.DrawFn, widths: tuple[int, ...] = WIDTHS, steps: int = 20) -> LossTrainingCase:
    """A linear-output C4 training case (synthetic or digits, depth 1..2, tanh or ReLU) under both other losses."""
    return LossTrainingCase(draw(training_cases(widths=widths, steps=steps)), LOSSES)


@st.composite
def pl_star_cases(draw: st.DrawFn, width: int = 512, n_points: int = 8, steps: int = 100) -> TrainingCase:
    """A width-``width`` linear-output tanh net of depth 1..2 on ``n_points`` points: digits, or synthetic in
    dimension 12..16 (K_0 is well conditioned there, lambda_max / lambda_min ~ 5-10: measured; in dimension 8
    a depth-1 net's can reach 40)."""
    dataset = draw(st.sampled_from(("synthetic", "digits")))
    input_dim = 64 if dataset == "digits" else draw(st.integers(12, 16))
    spec = LZBNet(input_dim, draw(st.integers(1, 2)), width, "tanh", "identity")
    return TrainingCase(spec, dataset, n_points, (width,), steps)
