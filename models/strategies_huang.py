"""Hypothesis strategies for Huang et al.'s FFNet and ResNet claims (``theorems/huang_*``).

Inputs live on the unit circle: for unit inputs every kernel of these nets depends only on the
angle between them, so ``circle_cases`` draws a reference x_0 = (1, 0) and a few angles instead.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from estimators.analytic import unit_circle
from models.base import ArchitectureSpec
from models.resnet import HuangFFNet, HuangResNet
from models.strategies import NetworkCase


@st.composite
def huang_nets(
    draw: st.DrawFn,
    kinds: tuple[str, ...] = ("ffnet", "resnet"),
    min_depth: int = 1,
    max_depth: int = 6,
    min_width: int = 64,
    max_width: int = 1024,
    min_gamma: float = 0.5,
    max_gamma: float = 1.0,
    train_all: bool | None = False,
    input_dim: int | None = None,
    min_input_dim: int = 1,
) -> ArchitectureSpec:
    """A ``HuangFFNet`` or ``HuangResNet`` (gamma in [min_gamma, max_gamma]); ``train_all`` None draws it,
    ``input_dim`` None draws it in min_input_dim..4."""
    kind = draw(st.sampled_from(kinds))
    dim = input_dim if input_dim is not None else draw(st.integers(min_input_dim, 4))
    depth = draw(st.integers(min_depth, max_depth))
    width = draw(st.integers(min_width, max_width))
    trained_all = draw(st.booleans()) if train_all is None else train_all
    if kind == "ffnet":
        return HuangFFNet(dim, depth, width, trained_all)
    gamma = draw(st.floats(min_gamma, max_gamma))
    return HuangResNet(dim, depth, width, gamma, trained_all)


@st.composite
def angle_sets(
    draw: st.DrawFn,
    n_angles: int,
    min_angle: float = 0.1,
    min_gap: float = 0.2,
    min_span: float = 0.0,
    max_angle: float = math.pi,
) -> tuple[float, ...]:
    """``n_angles`` sorted angles in [min_angle, max_angle], pairwise at least ``min_gap`` apart, the largest
    at least ``min_span`` above the smallest. Built directly (sorted offsets in the slack left after the
    gaps, plus i * min_gap), so only the span can reject an example."""
    slack = max_angle - min_angle - (n_angles - 1) * min_gap
    if n_angles < 1 or slack < 0 or min_span > max_angle - min_angle:
        raise ValueError(
            f"angle_sets: {n_angles} angles {min_gap} apart spanning >= {min_span} do not fit in "
            f"[{min_angle}, {max_angle}]"
        )
    gaps = (n_angles - 1) * min_gap
    offsets = draw(
        st.lists(st.floats(0.0, slack), min_size=n_angles, max_size=n_angles)
        .map(sorted)
        .filter(lambda o: o[-1] - o[0] + gaps >= min_span)
    )
    angles = [min(max_angle, min_angle + offset + i * min_gap) for i, offset in enumerate(offsets)]
    return tuple(float(a) for a in angles)


@st.composite
def circle_cases(
    draw: st.DrawFn,
    specs: st.SearchStrategy[ArchitectureSpec],
    n_angles: int,
    min_angle: float = 0.1,
    min_span: float = 0.0,
    max_angle: float = math.pi,
) -> NetworkCase:
    """A spec of input_dim 2 with inputs x_0 = (1, 0) and x_j = (cos t_j, sin t_j), t_j from ``angle_sets``."""
    spec = draw(specs)
    if spec.input_dim != 2:
        raise ValueError(f"circle_cases needs specs with input_dim 2, got {spec.input_dim}")
    angles = (0.0, *draw(angle_sets(n_angles, min_angle, min_span=min_span, max_angle=max_angle)))
    return NetworkCase(spec=spec, inputs=tuple(tuple(map(float, row)) for row in unit_circle(angles)))
