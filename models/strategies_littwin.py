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
) -> LittwinResNet:
    """Eq. 9 ResNets: L blocks, branch depth m, trunk width n and branch width n_b drawn separately,
    one alpha_l per block; L m / min(n, n_b) <= ``max_depth_over_width`` (light enough tails for
    fourth moments: Monte Carlo intervals of f^4 under-cover when sum 1/n is large)."""
    blocks = draw(st.integers(1, max_blocks))
    branch_depth = draw(st.integers(1, max_branch_depth))
    smallest = math.ceil(blocks * branch_depth / max_depth_over_width)
    width = draw(st.integers(max(min_width, smallest), max(max_width, smallest)))
    branch_width = draw(st.integers(max(min_width, smallest), max(max_width, smallest)))
    alphas = draw(st.lists(st.floats(*alpha_range), min_size=blocks, max_size=blocks))
    return LittwinResNet(draw(st.integers(1, 8)), blocks, branch_depth, width, tuple(alphas), branch_width)


@st.composite
def littwin_densenets(
    draw: st.DrawFn,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 32,
    max_width: int = 96,
    alpha_range: tuple[float, float] = (0.1, 1.0),
) -> DenseNet:
    """Eq. 10 DenseNets (constant width, as the spec has it) with scale alpha."""
    depth = draw(st.integers(min_depth, max_depth))
    return DenseNet(
        draw(st.integers(1, 8)), depth, draw(st.integers(min_width, max_width)), draw(st.floats(*alpha_range))
    )


def littwin_architectures(kinds: tuple[str, ...] = ("vanilla", "resnet", "densenet")) -> st.SearchStrategy:
    """Any of Littwin et al.'s three architectures at modest size (sum of 1/width over layers <= 0.15)."""
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
