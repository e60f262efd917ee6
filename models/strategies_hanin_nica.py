"""Hanin & Nica (ICLR 2020, arXiv 1909.05989) setting, and the Hypothesis strategies of its claims.

Their network: a fully connected ReLU net of depth d (d weight layers), input dimension n_0, hidden widths
n_1..n_{d-1}, output dimension n_d = 1; He-initialised weights (variance 2 / fan-in) and biases, all
trained: the NTK K_N(x, x) sums over every weight and every bias, the first (input) and last (readout)
layers included; biases start at zero. beta = sum_{j=1}^{d-1} 1 / n_j (the hidden widths).

``hanin_nica_net`` writes it as a composition: ``Dense(n_j, bias=True)`` then ``ReLU(HE_GAIN)`` per hidden
layer, a last ``Dense(1, bias=True)``; weights in the NTK parameterisation (each weight layer's term has
mean ||x||^2 / n_0 at every width: their E K_N is linear in d and width-free). A ``Dense`` bias is
bias_std * b with b ~ N(0, 1) and NTK term bias_std^2 <df/dy, df/dy'>; ``BIAS_STD`` = 1e-6 makes the forward
bias 1e-6 (zero up to 1e-6 relative) and ``hanin_nica_kernel`` (theorems/hanin_nica_setting.py) divides the
bias terms by BIAS_STD^2: the NTK of the bias parameter itself, b' = bias_std b, which starts at ~0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from models.layers import HE_GAIN, Dense, Layer, ReLU, Serial
from models.network import Network

BIAS_STD = 1e-6


def hanin_nica_net(input_dim: int, widths: tuple[int, ...]) -> Network:
    """Hanin & Nica's ReLU net: hidden widths ``widths`` (n_1..n_{d-1}), d = len(widths) + 1 weight layers
    ``W1..Wd`` with biases ``W1.b..Wd.b``, output dimension 1."""
    if not widths:
        raise ValueError("hanin_nica_net needs at least one hidden layer (widths non-empty)")
    layers: list[Layer] = []
    for j, width in enumerate(widths, start=1):
        layers += [Dense(width, bias=True, bias_std=BIAS_STD, name=f"W{j}"), ReLU(HE_GAIN)]
    layers.append(Dense(1, bias=True, bias_std=BIAS_STD, name=f"W{len(widths) + 1}"))
    return Network((input_dim,), Serial(*layers))


def hidden_widths(spec: Network) -> tuple[int, ...]:
    """n_1..n_{d-1} of a ``hanin_nica_net``."""
    return tuple(layer.width for layer in spec.layers.layers[:-1:2])  # type: ignore[attr-defined]


def beta(spec: Network) -> float:
    """beta = sum_j 1 / n_j over the hidden layers (Hanin & Nica's depth-to-width ratio)."""
    return math.fsum(1.0 / n for n in hidden_widths(spec))


def input_with_ratio(rng: np.random.Generator, input_dim: int, ratio: float) -> tuple[float, ...]:
    """A random direction scaled so that ||x||^2 / n_0 = ``ratio`` (Hanin & Nica's weight-to-bias balance)."""
    x = rng.normal(size=input_dim)
    return tuple((x / np.linalg.norm(x) * math.sqrt(ratio * input_dim)).tolist())


@dataclass(frozen=True)
class HaninNicaCase:
    """Hanin & Nica nets evaluated on one input x (``inputs`` = (x,)); ``ratio`` = ||x||^2 / n_0."""

    specs: tuple[Network, ...]
    inputs: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if not self.specs:
            raise ValueError("HaninNicaCase needs at least one spec")
        for spec in self.specs:
            spec.check_inputs(self.inputs)

    @property
    def ratio(self) -> float:
        x = np.asarray(self.inputs[0], dtype=np.float64)
        return float(x @ x) / len(x)

    def to_json(self) -> dict[str, Any]:
        return {"specs": [s.to_json() for s in self.specs], "hidden_widths": [hidden_widths(s) for s in self.specs],
                "beta": [beta(s) for s in self.specs], "inputs": [list(x) for x in self.inputs]}


def _input(draw: st.DrawFn, input_dim: int, ratios: tuple[float, float]) -> tuple[tuple[float, ...], ...]:
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    return (input_with_ratio(rng, input_dim, draw(st.floats(*ratios))),)


@st.composite
def hanin_nica_nets(draw: st.DrawFn, max_hidden: int = 5, widths: tuple[int, int] = (24, 48),
                    ratios: tuple[float, float] = (0.5, 2.0)) -> HaninNicaCase:
    """One net: 1..``max_hidden`` hidden layers of per-layer widths in ``widths``, n_0 in 4..16, and
    ||x||^2 / n_0 in ``ratios``."""
    input_dim = draw(st.integers(4, 16))
    layers = draw(st.lists(st.integers(*widths), min_size=1, max_size=max_hidden))
    return HaninNicaCase((hanin_nica_net(input_dim, tuple(layers)),), _input(draw, input_dim, ratios))


@st.composite
def hanin_nica_beta_ladders(draw: st.DrawFn, widths: tuple[int, int] = (16, 40),
                            ratios: tuple[float, float] = (0.5, 2.0)) -> HaninNicaCase:
    """Three nets of per-layer widths in ``widths``: beta in [0.05, 0.15], [0.15, 0.3] and [0.3, 0.45] (the
    last always deep: log eta - 5 beta is most negative there), n_0 in 4..16, ||x||^2 / n_0 in ``ratios``."""
    input_dim = draw(st.integers(4, 16))
    specs = []
    for low, high in ((0.05, 0.15), (0.15, 0.3), (0.3, 0.45)):
        layers: list[int] = []
        target = draw(st.floats(low, high))
        while math.fsum(1.0 / n for n in layers) < target:
            layers.append(draw(st.integers(*widths)))
        specs.append(hanin_nica_net(input_dim, tuple(layers)))
    return HaninNicaCase(tuple(specs), _input(draw, input_dim, ratios))


@st.composite
def hanin_nica_equal_beta(draw: st.DrawFn, widths: tuple[int, int] = (6, 8), betas: tuple[float, float] = (0.15, 0.25),
                          ratios: tuple[float, float] = (0.5, 2.0)) -> HaninNicaCase:
    """Nets of equal beta: width n = 3 k (k in ``widths``) with L = round(beta n) hidden layers (L even); width
    2n with 2L; L layers alternating 2n / 3 and 2n (beta = L / n again). Fourth spec, for the false twin: width
    n with 2L layers (same width, twice the beta)."""
    n = 3 * draw(st.integers(*widths))
    hidden = max(2, 2 * round(draw(st.floats(*betas)) * n / 2))
    input_dim = draw(st.integers(4, 16))
    alternating = tuple(2 * n // 3 if j % 2 == 0 else 2 * n for j in range(hidden))
    specs = (
        hanin_nica_net(input_dim, (n,) * hidden),
        hanin_nica_net(input_dim, (2 * n,) * (2 * hidden)),
        hanin_nica_net(input_dim, alternating),
        hanin_nica_net(input_dim, (n,) * (2 * hidden)),
    )
    return HaninNicaCase(specs, _input(draw, input_dim, ratios))
