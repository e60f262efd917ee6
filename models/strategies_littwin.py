"""Hypothesis strategies for Littwin et al.'s architectures with one weight matrix singled out.

A ``MatrixCase`` is an example of a per-matrix claim (Thm 1, Thm 2): an architecture, its inputs and
the matrix W^k the statement is about. Drawing k with the architecture makes "for every k" a
for-all that Hypothesis explores, at one reduced network per example.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.reduced import dense_graph, residual_graph
from models.resnet import LittwinResNet
from models.strategies import unit_vectors, vanilla_nets


@dataclass(frozen=True)
class MatrixCase:
    """An architecture, k inputs (tuple of k tuples) and the name of one of its weight matrices."""

    spec: ArchitectureSpec
    inputs: tuple[tuple[float, ...], ...]
    matrix: str

    def __post_init__(self) -> None:
        self.spec.check_inputs(self.inputs)
        if self.matrix not in self.spec.weight_shapes():
            raise ValueError(f"MatrixCase.matrix {self.matrix!r} is not a weight of {type(self.spec).__name__}")

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_json(), "inputs": [list(x) for x in self.inputs], "matrix": self.matrix}


@st.composite
def littwin_resnets(
    draw: st.DrawFn,
    max_blocks: int = 3,
    max_branch_depth: int = 3,
    min_width: int = 32,
    max_width: int = 96,
    alpha_range: tuple[float, float] = (0.05, 1.0),
    max_depth_over_width: float = 0.15,
) -> ArchitectureSpec:
    """Eq. 9 ResNets: L blocks, branch depth m, one alpha_l per block, trunk width n; the branch widths
    are either one n_b (a ``LittwinResNet``) or drawn per layer n_{l-1,h} (a ``residual_graph``).
    L m / (smallest width) <= ``max_depth_over_width`` (light enough tails for fourth moments: Monte
    Carlo intervals of f^4 under-cover when sum 1/n is large)."""
    blocks = draw(st.integers(1, max_blocks))
    branch_depth = draw(st.integers(1, max_branch_depth))
    smallest = math.ceil(blocks * branch_depth / max_depth_over_width)
    widths = st.integers(max(min_width, smallest), max(max_width, smallest))
    width, input_dim = draw(widths), draw(st.integers(1, 8))
    alphas = tuple(draw(st.lists(st.floats(*alpha_range), min_size=blocks, max_size=blocks)))
    if draw(st.booleans()):
        return LittwinResNet(input_dim, blocks, branch_depth, width, alphas, draw(widths))
    hidden = [tuple(draw(st.lists(widths, min_size=branch_depth - 1, max_size=branch_depth - 1))) for _ in alphas]
    return residual_graph(input_dim, width, hidden, alphas)


@st.composite
def littwin_densenets(
    draw: st.DrawFn,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 32,
    max_width: int = 96,
    alpha_range: tuple[float, float] = (0.1, 1.0),
) -> ArchitectureSpec:
    """Eq. 10 DenseNets with scale alpha: constant width (a ``DenseNet``) or per-layer widths n_0..n_L
    (a ``dense_graph``, fan-in of layer l the concatenation's n_0 + ... + n_{l-1})."""
    depth, input_dim, alpha = draw(st.integers(min_depth, max_depth)), draw(st.integers(1, 8)), draw(
        st.floats(*alpha_range))
    widths = st.integers(min_width, max_width)
    if draw(st.booleans()):
        return DenseNet(input_dim, depth, draw(widths), alpha)
    return dense_graph(input_dim, draw(st.lists(widths, min_size=depth + 1, max_size=depth + 1)), alpha)


def littwin_architectures(kinds: tuple[str, ...] = ("vanilla", "resnet", "densenet")) -> st.SearchStrategy:
    """Any of Littwin et al.'s three architectures at modest size (sum of 1/width over layers <= 0.15),
    per-layer widths drawn wherever the architecture allows them (not the ResNet trunk: skips)."""
    options = {
        "vanilla": vanilla_nets(max_depth=4, min_width=32, max_width=96, max_depth_over_width=0.15),
        "resnet": littwin_resnets(),
        "densenet": littwin_densenets(),
    }
    unknown = sorted(set(kinds) - set(options))
    if unknown or not kinds:
        raise ValueError(f"littwin_architectures.kinds must be a non-empty subset of {sorted(options)}, got {kinds!r}")
    return st.one_of(*(options[k] for k in kinds))


@st.composite
def matrix_cases(
    draw: st.DrawFn,
    specs: st.SearchStrategy[ArchitectureSpec],
    matrices: Callable[[ArchitectureSpec], tuple[str, ...]] = lambda spec: tuple(spec.weight_shapes()),
) -> MatrixCase:
    """A spec, one unit-norm input and one of ``matrices(spec)`` (specs with none are rejected)."""
    spec = draw(specs.filter(lambda s: len(matrices(s)) > 0))
    inputs = (draw(unit_vectors(spec.input_dim)),)
    return MatrixCase(spec, inputs, draw(st.sampled_from(matrices(spec))))
