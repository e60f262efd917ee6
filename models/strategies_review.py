"""Hypothesis strategies for the reviewers' claims on Huang et al. (``theorems/huang_review_*``, issue 18).

- ``DepthSweepCase``: a family of ``models.presets_review`` (BatchNorm or convolutional FFNet / ResNet) at
  a width, a few depths, and k inputs. ``batchnorm_cases`` draw k = 8 unit inputs
  x_i = (cos t_i e_1 + sin t_i e_2 + s e_{i+2}) / sqrt(1 + s^2) in R^(k+2): angles t_i spanning the half
  circle (pairwise correlations cos(t_i - t_j) / (1 + s^2)) plus a private direction per input, so the
  centred batch has full rank k - 1 and each channel's batch variance has k - 1 = 7 degrees of freedom.
  (On 2-d circle inputs the first BatchNorm divides by a chi-square with 2 degrees of freedom, whose
  inverse has infinite mean: E K is infinite.) ``conv_cases`` draw k = 4 signals
  x_i = cos t_i u + sin t_i w of P positions x C channels, u _|_ w unit signals.
- ``TrainingCase``: a Huang FFNet / ResNet, the widths of a sweep, and a seeded synthetic regression set
  (``estimators.training.training_set("synthetic")`` rows scaled to unit norm, labels sign x_1) split into
  training and test points.
- ``ThresholdCase``: the digits task of ``experiments/huang_depth_threshold`` in small (pool, training
  points, depths, width, GD steps, drop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from models.network import Network
from models.presets_review import FAMILIES
from models.resnet import HuangFFNet, HuangResNet
from models.strategies import unit_vectors
from models.strategies_huang import angle_sets


@dataclass(frozen=True)
class DepthSweepCase:
    """``family`` (a key of ``models.presets_review.FAMILIES``) at ``width`` and each of ``depths``; ``gamma``
    for the ResNets (alpha = L^-gamma); ``inputs`` (k, input_dim) with input_dim = prod(input_shape)."""

    family: str
    width: int
    depths: tuple[int, ...]
    inputs: tuple[tuple[float, ...], ...]
    input_shape: tuple[int, ...]
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"DepthSweepCase.family must be one of {sorted(FAMILIES)}, got {self.family!r}")
        if len(self.depths) < 2 or len(set(self.depths)) != len(self.depths) or min(self.depths) < 1:
            raise ValueError(f"DepthSweepCase.depths needs two or more distinct depths >= 1, got {self.depths!r}")
        if len(self.inputs) < 3:
            raise ValueError(f"DepthSweepCase needs k >= 3 inputs (pairs to compare), got {len(self.inputs)}")
        self.spec(self.depths[0]).check_inputs(self.inputs)

    def spec(self, depth: int) -> Network:
        """The family's network at ``depth``."""
        build = FAMILIES[self.family]
        resnet = self.family.endswith("resnet")
        if self.family.startswith("conv"):
            positions, channels = self.input_shape
            return build(positions, channels, depth, self.width, *((self.gamma,) if resnet else ()))  # type: ignore[operator]
        return build(self.input_shape[0], depth, self.width, *((self.gamma,) if resnet else ()))  # type: ignore[operator]

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family, "width": self.width, "depths": list(self.depths), "gamma": self.gamma,
                "input_shape": list(self.input_shape), "inputs": [list(x) for x in self.inputs]}  # fmt: skip


def nugget_circle_inputs(angles: tuple[float, ...], nugget: float) -> tuple[tuple[float, ...], ...]:
    """k unit inputs (cos t_i e_1 + sin t_i e_2 + s e_{i+2}) / sqrt(1 + s^2) in R^(k+2) (module docstring)."""
    k, scale = len(angles), 1.0 / math.sqrt(1.0 + nugget * nugget)
    rows = []
    for i, t in enumerate(angles):
        row = [0.0] * (k + 2)
        row[0], row[1], row[i + 2] = math.cos(t) * scale, math.sin(t) * scale, nugget * scale
        rows.append(tuple(row))
    return tuple(rows)


@st.composite
def batchnorm_cases(
    draw: st.DrawFn, family: str, depths: tuple[int, ...], min_width: int, max_width: int, k: int = 8
) -> DepthSweepCase:
    """A BatchNorm family (gamma = 1 for the ResNet) on ``nugget_circle_inputs``: x_0 at angle 0, k - 1 angles
    in [0.2, pi] 0.2 apart spanning >= 2, nugget s in [0.4, 0.7]."""
    angles = (0.0, *draw(angle_sets(k - 1, min_angle=0.2, min_gap=0.2, min_span=2.0)))
    nugget = draw(st.floats(0.4, 0.7))
    width = draw(st.integers(min_width, max_width))
    inputs = nugget_circle_inputs(angles, nugget)
    return DepthSweepCase(family, width, depths, inputs, (k + 2,), 1.0)


@st.composite
def conv_cases(
    draw: st.DrawFn,
    family: str,
    depths: tuple[int, ...],
    min_width: int,
    max_width: int,
    positions: int = 8,
    channels: int = 2,
    k: int = 4,
    min_gamma: float = 0.75,
) -> DepthSweepCase:
    """A conv family on k signals cos t_i u + sin t_i w (t_0 = 0, k - 1 angles in [0.2, pi] spanning >= 1.5);
    gamma in [min_gamma, 1] for the ResNet."""
    size = positions * channels
    u = draw(unit_vectors(size))
    v = draw(unit_vectors(size).filter(lambda w: abs(sum(a * b for a, b in zip(u, w, strict=True))) < 0.9))
    dot = sum(a * b for a, b in zip(u, v, strict=True))
    w = [b - dot * a for a, b in zip(u, v, strict=True)]
    norm = math.sqrt(math.fsum(c * c for c in w))
    w = [c / norm for c in w]
    angles = (0.0, *draw(angle_sets(k - 1, min_angle=0.2, min_gap=0.2, min_span=1.5)))
    inputs = tuple(tuple(math.cos(t) * a + math.sin(t) * b for a, b in zip(u, w, strict=True)) for t in angles)
    gamma = draw(st.floats(min_gamma, 1.0)) if family.endswith("resnet") else 1.0
    return DepthSweepCase(family, draw(st.integers(min_width, max_width)), depths, inputs, (positions, channels), gamma)


@dataclass(frozen=True)
class TrainingCase:
    """A Huang FFNet or ResNet (its width is replaced by each of ``widths``) trained by full-batch GD for
    ``steps`` steps on ``n_train`` of the points of a synthetic set drawn from ``data_seed``; ``n_test`` more
    points are where predictions are compared."""

    spec: HuangFFNet | HuangResNet
    widths: tuple[int, ...]
    n_train: int
    n_test: int
    steps: int
    data_seed: int

    def __post_init__(self) -> None:
        if len(set(self.widths)) < 2 or min(self.widths) < 1:
            raise ValueError(f"TrainingCase.widths needs two distinct widths >= 1, got {self.widths!r}")
        for name in ("n_train", "n_test", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"TrainingCase.{name} must be an int >= 2, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_json(), "widths": list(self.widths), "n_train": self.n_train,
                "n_test": self.n_test, "steps": self.steps, "data_seed": self.data_seed}  # fmt: skip


@st.composite
def training_cases(
    draw: st.DrawFn,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    min_depth: int = 2,
    max_depth: int = 3,
    n_train: int = 16,
    n_test: int = 48,
    steps: int = 100,
) -> TrainingCase:
    """FFNet or ResNet (gamma in [1/2, 1]) of depth ``min_depth``..``max_depth``, input dimension 3..6, A and v
    fixed (Huang's setting), on a drawn data seed. (In dimension 2, 16 points on the circle make K(X, X) so
    ill-conditioned that the finite-width gap falls only like m^-0.2 at m <= 256: measured.)"""
    dim = draw(st.integers(3, 6))
    depth = draw(st.integers(min_depth, max_depth))
    if draw(st.sampled_from(("ffnet", "resnet"))) == "ffnet":
        spec: HuangFFNet | HuangResNet = HuangFFNet(dim, depth, widths[0])
    else:
        spec = HuangResNet(dim, depth, widths[0], draw(st.floats(0.5, 1.0)))
    return TrainingCase(spec, widths, n_train, n_test, steps, draw(st.integers(0, 2**31 - 1)))


@dataclass(frozen=True)
class ThresholdCase:
    """Digits (odd vs even) depth-threshold setting: a seeded pool of ``pool`` images, ``splits`` random splits
    with ``n_train`` training images, FFNets of each of ``depths`` (width ``width``, GD for ``steps`` steps),
    and the accuracy ``drop`` below the best that defines the threshold."""

    pool: int
    n_train: int
    splits: int
    depths: tuple[int, ...]
    width: int
    steps: int
    drop: float
    data_seed: int

    def __post_init__(self) -> None:
        for name in ("pool", "n_train", "splits", "width", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ThresholdCase.{name} must be a positive int, got {value!r}")
        if not 2 <= self.n_train < self.pool:
            raise ValueError(f"ThresholdCase.n_train must be in 2..pool - 1, got {self.n_train} (pool {self.pool})")
        if self.splits < 3:
            raise ValueError(f"ThresholdCase.splits must be >= 3 (a bootstrap over splits), got {self.splits}")
        if len(self.depths) < 2 or min(self.depths) < 1 or list(self.depths) != sorted(set(self.depths)):
            raise ValueError(f"ThresholdCase.depths must be two or more increasing depths >= 1, got {self.depths!r}")
        if not 0 < self.drop < 1:
            raise ValueError(f"ThresholdCase.drop must be in (0, 1), got {self.drop!r}")

    def to_json(self) -> dict[str, Any]:
        return {"pool": self.pool, "n_train": self.n_train, "splits": self.splits, "depths": list(self.depths),
                "width": self.width, "steps": self.steps, "drop": self.drop,
                "data_seed": self.data_seed}  # fmt: skip


@st.composite
def threshold_cases(
    draw: st.DrawFn,
    pool: int = 400,
    n_train: int = 100,
    splits: int = 10,
    depths: tuple[int, ...] = (1, 64),
    width: int = 256,
    steps: int = 60,
    drop: float = 0.03,
) -> ThresholdCase:
    """The digits depth-threshold setting at the given sizes; only the data seed (pool and splits) is drawn."""
    return ThresholdCase(pool, n_train, splits, depths, width, steps, drop, draw(st.integers(0, 2**31 - 1)))
