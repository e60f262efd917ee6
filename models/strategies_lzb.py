"""Hypothesis strategies for Liu, Zhu & Belkin's width sweeps (claims ``theorems/lzb_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models.lzb import HIDDEN_ACTIVATIONS, LZBNet
from models.strategies import unit_vectors

WIDTHS = (64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class WidthSweepCase:
    """An LZB net whose ``width`` is swept over ``widths`` (the spec's own width is the first), one
    input, and the radius R of the ball point w0 + R u (0: no ball point)."""

    spec: LZBNet
    inputs: tuple[tuple[float, ...], ...]
    widths: tuple[int, ...]
    radius: float = 0.0

    def __post_init__(self) -> None:
        self.spec.check_inputs(self.inputs)
        if len(self.widths) < 2 or len(set(self.widths)) < 2:
            raise ValueError(f"WidthSweepCase.widths needs two distinct widths, got {self.widths!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_json(),
            "inputs": [list(x) for x in self.inputs],
            "widths": list(self.widths),
            "radius": self.radius,
        }


@st.composite
def width_sweeps(
    draw: st.DrawFn,
    output_activation: str = "identity",
    activations: tuple[str, ...] = HIDDEN_ACTIVATIONS,
    min_depth: int = 1,
    max_depth: int = 4,
    bottleneck_widths: tuple[int, ...] = (),
    radii: tuple[float, ...] = (0.0,),
    widths: tuple[int, ...] = WIDTHS,
    max_input_dim: int = 8,
) -> WidthSweepCase:
    """LZB nets of depth ``min_depth``..``max_depth``, a hidden activation from ``activations``, the given
    output; with ``bottleneck_widths`` one hidden layer (drawn) keeps a drawn fixed width; a unit input."""
    depth = draw(st.integers(min_depth, max_depth))
    input_dim = draw(st.integers(1, max_input_dim))
    bottleneck, layer = None, 1
    if bottleneck_widths:
        bottleneck, layer = draw(st.sampled_from(bottleneck_widths)), draw(st.integers(1, depth))
    spec = LZBNet(input_dim, depth, widths[0], draw(st.sampled_from(activations)), output_activation, bottleneck, layer)
    return WidthSweepCase(spec, (draw(unit_vectors(input_dim)),), widths, draw(st.sampled_from(radii)))


@dataclass(frozen=True)
class PathCase:
    """A small LZB net (its input dim, width and activation also define a random-features model), k unit
    inputs and the radius of a straight path in weight space."""

    spec: LZBNet
    inputs: tuple[tuple[float, ...], ...]
    radius: float

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_json(), "inputs": [list(x) for x in self.inputs], "radius": self.radius}


@st.composite
def path_cases(draw: st.DrawFn, max_width: int = 32, n_inputs: int = 3) -> PathCase:
    """Width 4..``max_width``, depth 1..2, any hidden activation, ``n_inputs`` unit inputs, R in [0.5, 4]."""
    input_dim = draw(st.integers(1, 6))
    spec = LZBNet(
        input_dim, draw(st.integers(1, 2)), draw(st.integers(4, max_width)), draw(st.sampled_from(HIDDEN_ACTIVATIONS))
    )
    inputs = tuple(draw(unit_vectors(input_dim)) for _ in range(n_inputs))
    return PathCase(spec, inputs, draw(st.floats(0.5, 4.0)))
