"""Hypothesis strategies for architectures and inputs, shared by the claims.

A ``NetworkCase`` is what a claim's example is: a spec and the inputs it is evaluated on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models.base import ArchitectureSpec
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
    coordinates = draw(st.lists(st.floats(-1.0, 1.0), min_size=dim, max_size=dim).filter(
        lambda v: math.fsum(c * c for c in v) > 0.01
    ))
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
