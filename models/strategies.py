"""Hypothesis strategies for architectures and inputs, shared by the claims.

A ``NetworkCase`` is what a claim's example is: a spec and the inputs it is evaluated on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.lzb import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, LZBNet
from models.resnet import HuangFFNet, HuangResNet, LittwinResNet
from models.vanilla import VanillaNet


@dataclass(frozen=True)
class NetworkCase:
    """An architecture and k inputs (tuple of k tuples of input_dim floats)."""

    spec: ArchitectureSpec
    inputs: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        self.spec.check_inputs(self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_json(), "inputs": [list(x) for x in self.inputs]}


@st.composite
def unit_vectors(draw: st.DrawFn, dim: int) -> tuple[float, ...]:
    """A point on the unit sphere in R^dim (||x|| = 1)."""
    coordinates = draw(
        st.lists(st.floats(-1.0, 1.0), min_size=dim, max_size=dim).filter(lambda v: math.fsum(c * c for c in v) > 0.01)
    )
    norm = math.sqrt(math.fsum(c * c for c in coordinates))
    return tuple(c / norm for c in coordinates)


@st.composite
def vanilla_nets(
    draw: st.DrawFn,
    max_depth: int = 6,
    min_width: int = 8,
    max_width: int = 48,
    max_input_dim: int = 8,
    max_depth_over_width: float = 0.3,
) -> VanillaNet:
    """Vanilla ReLU nets with per-layer widths and sum_l 1/n_l <= ``max_depth_over_width``
    (keeps the Monte Carlo moments light-tailed; Hanin & Nica's beta)."""
    depth = draw(st.integers(1, max_depth))
    input_dim = draw(st.integers(1, max_input_dim))
    widths = draw(
        st.lists(st.integers(min_width, max_width), min_size=depth + 1, max_size=depth + 1).filter(
            lambda ws: sum(1.0 / w for w in ws) <= max_depth_over_width
        )
    )
    return VanillaNet(input_dim=input_dim, depth=depth, widths=tuple(widths))


@st.composite
def single_input_cases(draw: st.DrawFn, specs: st.SearchStrategy[ArchitectureSpec]) -> NetworkCase:
    """A spec with one unit-norm input."""
    spec = draw(specs)
    return NetworkCase(spec=spec, inputs=(draw(unit_vectors(spec.input_dim)),))


@st.composite
def small_architectures(
    draw: st.DrawFn, min_width: int = 8, max_width: int = 16, max_depth: int = 3
) -> ArchitectureSpec:
    """Any spec kind at small sizes (cheap for the dense sampler): vanilla with per-layer widths,
    both ResNets, DenseNet, Huang's FFNet and Liu-Zhu-Belkin nets with any activations."""
    input_dim = draw(st.integers(1, 6))
    depth = draw(st.integers(1, max_depth))
    widths = st.integers(min_width, max_width)
    kind = draw(st.sampled_from(["vanilla", "littwin_resnet", "densenet", "huang_resnet", "huang_ffnet", "lzb"]))
    if kind == "vanilla":
        return VanillaNet(input_dim, depth, tuple(draw(st.lists(widths, min_size=depth + 1, max_size=depth + 1))))
    if kind == "littwin_resnet":
        alphas = draw(st.lists(st.floats(0.05, 1.0), min_size=depth, max_size=depth))
        return LittwinResNet(input_dim, depth, draw(st.integers(1, 3)), draw(widths), tuple(alphas), draw(widths))
    if kind == "densenet":
        return DenseNet(input_dim, depth, draw(widths), draw(st.floats(0.1, 1.0)))
    if kind == "huang_resnet":
        return HuangResNet(input_dim, depth, draw(widths), draw(st.floats(0.5, 1.0)), draw(st.booleans()))
    if kind == "huang_ffnet":
        return HuangFFNet(input_dim, depth, draw(widths), draw(st.booleans()))
    return LZBNet(
        input_dim,
        depth,
        draw(widths),
        draw(st.sampled_from(HIDDEN_ACTIVATIONS)),
        draw(st.sampled_from(OUTPUT_ACTIVATIONS)),
    )


@st.composite
def relu_architectures(
    draw: st.DrawFn, min_width: int = 8, max_width: int = 16, max_depth: int = 3
) -> ArchitectureSpec:
    """The ReLU specs of the Gram-statistics sampler (``estimators.gram_stats``): vanilla nets with
    per-layer widths, Littwin ResNets with branch depth 2..3 and their own branch width, DenseNets,
    at the sizes of ``small_architectures``: narrower nets have such heavy-tailed K that 160,000
    draws cannot bound a variance ratio within 15%."""
    input_dim = draw(st.integers(1, 6))
    depth = draw(st.integers(1, max_depth))
    widths = st.integers(min_width, max_width)
    kind = draw(st.sampled_from(["vanilla", "littwin_resnet", "densenet"]))
    if kind == "vanilla":
        return VanillaNet(input_dim, depth, tuple(draw(st.lists(widths, min_size=depth + 1, max_size=depth + 1))))
    if kind == "littwin_resnet":
        alphas = draw(st.lists(st.floats(0.05, 1.0), min_size=depth, max_size=depth))
        return LittwinResNet(input_dim, depth, draw(st.integers(2, 3)), draw(widths), tuple(alphas), draw(widths))
    return DenseNet(input_dim, depth, draw(widths), draw(st.floats(0.1, 1.0)))


@st.composite
def two_input_cases(draw: st.DrawFn, specs: st.SearchStrategy[ArchitectureSpec]) -> NetworkCase:
    """A spec with two unit-norm inputs, not parallel (|cos| <= 0.95)."""
    spec = draw(specs)
    first = draw(unit_vectors(spec.input_dim))
    if spec.input_dim == 1:
        return NetworkCase(spec=spec, inputs=(first, (-first[0],)))
    second = draw(unit_vectors(spec.input_dim).filter(lambda v: abs(math.fsum(map(float.__mul__, first, v))) <= 0.95))
    return NetworkCase(spec=spec, inputs=(first, second))
