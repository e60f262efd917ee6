"""Hypothesis strategies for Liu, Zhu & Belkin's width sweeps (claims ``theorems/lzb_*``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from models.lzb import DATASETS, HIDDEN_ACTIVATIONS, PATHS, LZBNet
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
    output; with ``bottleneck_widths`` one hidden layer (drawn) keeps a drawn fixed width; one input of
    norm sqrt(input_dim) (coordinates O(1), so the first pre-activations W x / sqrt(d) are N(0, 1) as in
    ``estimators.training``; a unit input would make them N(0, 1/d) and the kernel O(1/d))."""
    depth = draw(st.integers(min_depth, max_depth))
    input_dim = draw(st.integers(1, max_input_dim))
    bottleneck, layer = None, 1
    if bottleneck_widths:
        bottleneck, layer = draw(st.sampled_from(bottleneck_widths)), draw(st.integers(1, depth))
    spec = LZBNet(input_dim, depth, widths[0], draw(st.sampled_from(activations)), output_activation, bottleneck, layer)
    x = tuple(c * math.sqrt(input_dim) for c in draw(unit_vectors(input_dim)))
    return WidthSweepCase(spec, (x,), widths, draw(st.sampled_from(radii)))


@dataclass(frozen=True)
class PathCase:
    """A small LZB net (its input dim, width and activation also define a random-features model), k unit
    inputs, and a path in weight space: its shape (``estimators.training.PATHS``) and radius."""

    spec: LZBNet
    inputs: tuple[tuple[float, ...], ...]
    radius: float
    path: str = "line"

    def __post_init__(self) -> None:
        self.spec.check_inputs(self.inputs)
        if self.path not in PATHS:
            raise ValueError(f"PathCase.path must be one of {PATHS}, got {self.path!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_json(),
            "inputs": [list(x) for x in self.inputs],
            "radius": self.radius,
            "path": self.path,
        }


@st.composite
def path_cases(draw: st.DrawFn, max_width: int = 32, n_inputs: int = 3) -> PathCase:
    """Width 4..``max_width``, depth 1..2, any hidden activation, ``n_inputs`` unit inputs, R in [0.5, 4],
    a straight or a curved path."""
    input_dim = draw(st.integers(1, 6))
    spec = LZBNet(
        input_dim, draw(st.integers(1, 2)), draw(st.integers(4, max_width)), draw(st.sampled_from(HIDDEN_ACTIVATIONS))
    )
    inputs = tuple(draw(unit_vectors(input_dim)) for _ in range(n_inputs))
    return PathCase(spec, inputs, draw(st.floats(0.5, 4.0)), draw(st.sampled_from(PATHS)))


@dataclass(frozen=True)
class TrainingCase:
    """Gradient descent on a square loss (``estimators.training.training_sweep``): an LZB net whose width is
    swept over ``widths`` (the spec's own width is the first), a data set of ``n_points`` points, ``steps``."""

    spec: LZBNet
    dataset: str
    n_points: int
    widths: tuple[int, ...]
    steps: int

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"TrainingCase.dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.dataset == "digits" and self.spec.input_dim != 64:
            raise ValueError(f"TrainingCase digits needs input_dim=64, got {self.spec.input_dim}")
        if len(self.widths) < 1:
            raise ValueError("TrainingCase.widths needs at least one width")

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_json(),
            "dataset": self.dataset,
            "n_points": self.n_points,
            "widths": list(self.widths),
            "steps": self.steps,
        }


@st.composite
def training_cases(
    draw: st.DrawFn,
    output_activation: str = "identity",
    activations: tuple[str, ...] = ("tanh", "relu"),
    min_depth: int = 1,
    max_depth: int = 2,
    bottleneck_widths: tuple[int, ...] = (),
    widths: tuple[int, ...] = WIDTHS,
    n_points: int = 16,
    steps: int = 20,
) -> TrainingCase:
    """A data set (synthetic with input dim 2..8, or digits), depth ``min_depth``..``max_depth``, a hidden
    activation from ``activations``; with ``bottleneck_widths`` one hidden layer (drawn) keeps a drawn width."""
    dataset = draw(st.sampled_from(DATASETS))
    input_dim = 64 if dataset == "digits" else draw(st.integers(2, 8))
    depth = draw(st.integers(min_depth, max_depth))
    bottleneck, layer = None, 1
    if bottleneck_widths:
        bottleneck, layer = draw(st.sampled_from(bottleneck_widths)), draw(st.integers(1, depth))
    spec = LZBNet(input_dim, depth, widths[0], draw(st.sampled_from(activations)), output_activation, bottleneck, layer)
    return TrainingCase(spec, dataset, n_points, widths, steps)


@dataclass(frozen=True)
class LossCase:
    """The three architectures of C4 on one data set, each a ``TrainingCase``: ``labels[i]`` names ``cases[i]``."""

    labels: tuple[str, ...]
    cases: tuple[TrainingCase, ...]

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.cases) or not self.cases:
            raise ValueError("LossCase needs one label per case and at least one case")

    def to_json(self) -> dict[str, Any]:
        return {label: case.to_json() for label, case in zip(self.labels, self.cases, strict=True)}


@st.composite
def loss_cases(
    draw: st.DrawFn, widths: tuple[int, ...] = (WIDTHS[0], WIDTHS[-1]), n_points: int = 16, steps: int = 20
) -> LossCase:
    """On one drawn data set: a linear-output net and the same net with a tanh output (depth 1..2, tanh or
    ReLU hidden), and a depth-2 tanh net with a bottleneck of width 2 or 3 at a drawn layer."""
    base = draw(training_cases(widths=widths, n_points=n_points, steps=steps))
    bottleneck = LZBNet(
        base.spec.input_dim, 2, widths[0], "tanh", "identity", draw(st.sampled_from((2, 3))), draw(st.integers(1, 2))
    )
    nets = (base.spec, replace(base.spec, output_activation="tanh"), bottleneck)
    return LossCase(
        ("linear output", "tanh output", "bottleneck"),
        tuple(TrainingCase(net, base.dataset, n_points, widths, steps) for net in nets),
    )
