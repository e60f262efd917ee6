"""Hypothesis strategies for the normalised-variance (eta) claims: sweeps of one architecture family.

A ``SpecSweep`` is a list of specs of one family evaluated on the same inputs, with one design value
per spec (depth over width L/n, branch depth m, ...): the example of a scaling claim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from estimators.sampling import derive_seed
from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.strategies import unit_vectors
from models.vanilla import VanillaNet

INPUT_DIM = 8


@dataclass(frozen=True)
class SpecSweep:
    """Specs of one family, their design values (one per spec) and k shared inputs."""

    specs: tuple[ArchitectureSpec, ...]
    design: tuple[float, ...]
    inputs: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if len(self.specs) != len(self.design) or not self.specs:
            raise ValueError(f"SpecSweep needs one design value per spec, got {len(self.specs)} and {len(self.design)}")
        for spec in self.specs:
            spec.check_inputs(self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {"specs": [s.to_json() for s in self.specs], "design": list(self.design),
                "inputs": [list(x) for x in self.inputs]}


def paper_inputs(seed: int, dim: int = INPUT_DIM) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Littwin et al. Sec. 6.1 inputs: x = normalised N(+0.5, 1)^dim, x' = normalised N(-0.5, 1)^dim."""
    rng = np.random.default_rng(derive_seed(seed, "paper-inputs"))
    x, x_prime = rng.normal(0.5, 1.0, dim), rng.normal(-0.5, 1.0, dim)
    return tuple((x / np.linalg.norm(x)).tolist()), tuple((x_prime / np.linalg.norm(x_prime)).tolist())


@st.composite
def resnet_depth_sweeps(draw: st.DrawFn, constant_alpha: bool, depths: tuple[int, ...] = (1, 2, 4, 8)) -> SpecSweep:
    """ResNets (Eq. 9) of width 32..64, branch depth 1..2, L in ``depths`` blocks; alpha_l = 0.1 / L
    (the paper's default, sum alpha = 0.1) or one constant alpha in [0.5, 1]. Design: L / n."""
    width, m = draw(st.integers(32, 64)), draw(st.integers(1, 2))
    alpha = draw(st.floats(0.5, 1.0)) if constant_alpha else None
    specs = tuple(LittwinResNet(INPUT_DIM, L, m, width, alpha if alpha else 0.1 / L) for L in depths)
    return SpecSweep(specs, tuple(L / width for L in depths), (draw(unit_vectors(INPUT_DIM)),))


@st.composite
def resnet_branch_sweeps(draw: st.DrawFn, branch_depths: tuple[int, ...] = (1, 2, 3, 4)) -> SpecSweep:
    """ResNets of width 32..64 with L in 2..6 blocks, alpha_l = 1 / L (Remark 1), branch depth m in
    ``branch_depths``. Design: m."""
    width, blocks = draw(st.integers(32, 64)), draw(st.integers(2, 6))
    specs = tuple(LittwinResNet(INPUT_DIM, blocks, m, width, 1.0 / blocks) for m in branch_depths)
    return SpecSweep(specs, tuple(float(m) for m in branch_depths), (draw(unit_vectors(INPUT_DIM)),))


@st.composite
def densenet_depth_sweeps(
    draw: st.DrawFn, depths: tuple[int, ...] = (2, 4, 6, 8), alphas: tuple[float, float] = (0.25, 4.0)
) -> SpecSweep:
    """DenseNets (Eq. 10) of width 32..64, one alpha in ``alphas``, depth L in ``depths``. Design: L / n."""
    width, alpha = draw(st.integers(32, 64)), draw(st.floats(*alphas))
    specs = tuple(DenseNet(INPUT_DIM, L, width, alpha) for L in depths)
    return SpecSweep(specs, tuple(L / width for L in depths), (draw(unit_vectors(INPUT_DIM)),))


@st.composite
def densenet_alpha_sweeps(
    draw: st.DrawFn, depth: int = 64, low: tuple[float, float] = (0.25, 0.5), high: tuple[float, float] = (2.0, 4.0)
) -> SpecSweep:
    """Two DenseNets of width 32..64 and depth ``depth``, alpha drawn in ``low`` and in ``high``. Design: log alpha."""
    width, alphas = draw(st.integers(32, 64)), (draw(st.floats(*low)), draw(st.floats(*high)))
    specs = tuple(DenseNet(INPUT_DIM, depth, width, a) for a in alphas)
    return SpecSweep(specs, tuple(math.log(a) for a in alphas), (draw(unit_vectors(INPUT_DIM)),))


@st.composite
def vanilla_ratio_sweeps(
    draw: st.DrawFn,
    ratios: tuple[float, ...] = (0.02, 0.04, 0.06, 0.08, 0.10, 0.12),
    two_inputs: bool = False,
    widths: tuple[int, int] = (50, 100),
) -> SpecSweep:
    """Vanilla nets of width n in ``widths`` (inclusive) at depth L = max(1, round(t n)) for t in
    ``ratios``. Design: L / n (exact). One unit input of dim 8, or, when ``two_inputs``, the paper's
    two inputs (``paper_inputs``) of dim n (their n_0 = n: W^0 is n x n in Eq. 9 and Thm 3's widths)."""
    width = draw(st.integers(*widths))
    depths = sorted({max(1, round(t * width)) for t in ratios})
    if two_inputs:
        input_dim, inputs = width, paper_inputs(draw(st.integers(0, 2**31)), width)
    else:
        input_dim, inputs = INPUT_DIM, (draw(unit_vectors(INPUT_DIM)),)
    specs = tuple(VanillaNet(input_dim, L, width) for L in depths)
    return SpecSweep(specs, tuple(L / width for L in depths), inputs)


@dataclass(frozen=True)
class BoundCase:
    """Thm 3 bound check: ResNets of one width and branch depth; C (upper bound) and D (the lower bound's
    (1 + O(1/n)) slack) are fitted on ``calibration`` (its first spec is the upper bound's extreme, L = 8
    blocks at alpha = 1; its second the lower bound's, one block at alpha = 0.05) and tested on ``fresh``."""

    calibration: tuple[LittwinResNet, ...]
    fresh: tuple[LittwinResNet, ...]
    inputs: tuple[tuple[float, ...], ...]

    def to_json(self) -> dict[str, Any]:
        return {"calibration": [s.to_json() for s in self.calibration], "fresh": [s.to_json() for s in self.fresh],
                "inputs": [list(x) for x in self.inputs]}


@st.composite
def resnet_bound_cases(draw: st.DrawFn, max_blocks: int = 8, n_random: int = 3) -> BoundCase:
    """Width 32..48, branch depth 1..2, alphas in [0.05, 1]. Calibration: the two extremes (``max_blocks``
    blocks at alpha = 1: the largest sum_l alpha_l / (1 + alpha_l); one block at alpha = 0.05: r = 1 and the
    smallest eta) and a random constant-alpha net. Fresh: one block at a drawn alpha (r = 1, where the
    lower bound bites), two blocks with drawn alphas, and ``n_random`` nets with L <= ``max_blocks`` and
    per-block alphas: inside the calibration's range (interpolation)."""
    width, m = draw(st.integers(32, 48)), draw(st.integers(1, 2))
    alpha = st.floats(0.05, 1.0)
    calibration = (
        LittwinResNet(INPUT_DIM, max_blocks, m, width, 1.0),
        LittwinResNet(INPUT_DIM, 1, m, width, 0.05),
        LittwinResNet(INPUT_DIM, draw(st.integers(1, max_blocks)), m, width, draw(alpha)),
    )
    fresh = [LittwinResNet(INPUT_DIM, 1, m, width, draw(alpha))]
    for L in [2, *(draw(st.integers(1, max_blocks)) for _ in range(n_random))]:
        fresh.append(LittwinResNet(INPUT_DIM, L, m, width, tuple(draw(st.lists(alpha, min_size=L, max_size=L)))))
    return BoundCase(calibration, tuple(fresh), (draw(unit_vectors(INPUT_DIM)),))


def alpha_sum(spec: LittwinResNet) -> float:
    """S = sum_l alpha_l / (1 + alpha_l), the depth term of Thm 3's xi (Eq. 16)."""
    return math.fsum(a / (1 + a) for a in spec.alphas)  # type: ignore[union-attr]


def alpha_ratio(spec: LittwinResNet) -> float:
    """sum_u alpha_u^2 / sum_{u,v} alpha_u alpha_v over blocks (1 / L for constant alpha; Eq. 15)."""
    alphas = spec.alphas
    return math.fsum(a * a for a in alphas) / math.fsum(alphas) ** 2  # type: ignore[union-attr,arg-type]
