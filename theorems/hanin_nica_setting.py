"""Hanin & Nica (ICLR 2020) Thm 1's quantities on their setting (``models.strategies_hanin_nica``): K_N(x, x)
over every weight and bias, and the leading-order pair-counting model of E[K^2] / E[K]^2.

No claim here: the claims are ``theorems/hanin_nica_thm1_*.py``; ``experiments/hanin_nica_constant.py``
uses the model.

Pair counting (our derivation, used to reconcile Eq. 4's C with Hanin & Nica's 5). K = sum_A X_A over the
parameter groups A (the weights W^j and the biases b^j of every layer). Each X_A is a product of per-layer
factors: the forward norm ratios |q^h|^2 / |q^{h-1}|^2 of the hidden layers h below it (weights only) and
the backward ratios |delta^h|^2 / |delta^{h+1}|^2 of the hidden layers h it back-propagates through. Given
the number N_h of active units, both are (2 / n_h) chi^2_{N_h} (independent chi-squares; the backward one's
rank-one part along q^h has the same law, Littwin et al. Thm 2's Euler identity f = <y, df/dy>), so with
N_h ~ Bin(n_h, 1/2):

    E[F_h^2] = E[G_h^2] = 1 + 5 / n_h,    E[F_h G_h] = (4 / n_h^2) E[N_h^2] = 1 + 1 / n_h.

E[X_A X_B] / (E X_A E X_B) is therefore prod_h of 1 + 5 / n_h over the hidden layers both groups cross in the
same direction, 1 + 1 / n_h over those one crosses forward and the other backward, 1 over the rest. This is
exact to first order in 1 / n (it gives eta = 1 + 3 / n for one hidden layer, weights only, the exact value);
it leaves out terms of order beta^2 (the normalised output f / (|q^h| |delta^{h+1}|) is shared by all layers):
Monte Carlo minus model is +0.01..+0.03 in log eta at beta = 0.25 (n = 16..96, Hanin & Nica's net; more for
Littwin's vanilla net, +0.05..+0.12, whose linear last layer adds 1 + 2/n factors the model leaves out).
First order, constant width, d -> infinity,
r = ||x||^2 / n_0 (weights' mean r per layer, biases' 1):

    log eta = C_0 beta + O(beta^2),   C_0 = (11 r^2 + 11 r + 5) / (3 (r + 1)^2)   (11/3 for weights only).

Every weight layer's term is mean r, every bias term mean 1: E K_N = d (r + 1) exactly, Hanin & Nica's
d (1/2 + ||x||^2 / n_0) with the bias term per layer taken as 1 (their 1/2 is a normalisation of b; with it,
r -> 2 r above).
"""

from __future__ import annotations

import numpy as np

from engine import MonteCarlo
from estimators import sample_ntk
from estimators.sampling import derive_seed
from models.network import Network
from models.strategies_hanin_nica import BIAS_STD


def hanin_nica_kernel(spec: Network, inputs: object, mc: MonteCarlo, tag: str = "", index: int = 0,
                      biases: bool = True) -> np.ndarray:
    """(B,) draws of K_N(x, x) over every weight and (``biases``) every bias, the bias terms divided by
    BIAS_STD^2 (the NTK of the bias parameter itself), float64; seeded by (mc.seed, tag, index)."""
    draws = sample_ntk(spec, inputs, mc.n_draws, derive_seed(mc.seed, tag, index), sampler=mc.sampler,
                       device=mc.device)
    is_bias = np.array([name.endswith(".b") for name in draws.matrix_names])
    weights = np.where(is_bias, BIAS_STD**-2 if biases else 0.0, 1.0)
    return draws.per_matrix_gram[:, :, 0, 0].numpy() @ weights


def pair_model_log_eta(widths: tuple[int, ...], ratio: float, biases: bool = True, readouts: int = 1) -> float:
    """log E[K^2] / E[K]^2 of the pair-counting model (module docstring) for hidden widths n_1..n_{d-1}.
    ``readouts``: how many weight matrices read the last ReLU layer (crossing every mask forward): 1 here, 2 for
    Littwin et al.'s vanilla net (W^L then W^out, no ReLU between)."""
    d = len(widths) + 1
    groups = [("W", j) for j in range(1, d + 1)] + [("W", d)] * (readouts - 1)
    groups += [("b", j) for j in range(1, d + 1)] if biases else []
    hidden = np.arange(1, d)
    forward = np.array([(hidden < j) if kind == "W" else np.zeros(d - 1, bool) for kind, j in groups], dtype=float)
    backward = np.array([hidden >= j for _, j in groups], dtype=float)
    log_five = np.log1p(5.0 / np.asarray(widths, dtype=np.float64))
    log_one = np.log1p(1.0 / np.asarray(widths, dtype=np.float64))
    exponent = (forward * log_five) @ forward.T + (backward * log_five) @ backward.T
    exponent += (forward * log_one) @ backward.T + (backward * log_one) @ forward.T
    means = np.array([ratio if kind == "W" else 1.0 for kind, _ in groups])
    return float(np.log(means @ np.exp(exponent) @ means / means.sum() ** 2))


def first_order_constant(ratio: float | None) -> float:
    """C_0 = d log eta / d beta at beta -> 0, d -> infinity: (11 r^2 + 11 r + 5) / (3 (r + 1)^2); ``None`` for
    weights only (11 / 3)."""
    if ratio is None:
        return 11.0 / 3.0
    return (11 * ratio**2 + 11 * ratio + 5) / (3 * (ratio + 1) ** 2)


def pair_model_limit(beta_value: float, ratio: float | None, grid: int = 400) -> float:
    """The pair-counting log eta for constant width in the limit n, d -> infinity at fixed beta: a group at
    relative depth u crosses [0, u) forward (weights) and [u, 1] backward; a pair's exponent is beta times
    (5 x the length crossed in the same direction + 1 x the length crossed in opposite ones). Groups on a
    midpoint grid of ``grid`` positions; ``ratio`` None = weights only."""
    u = (np.arange(grid) + 0.5) / grid
    a, b = u[:, None], u[None, :]
    low, high = np.minimum(a, b), np.maximum(a, b)
    weight_weight = np.exp(beta_value * (5 * (low + 1 - high) + (high - low))).mean()
    if ratio is None:
        return float(np.log(weight_weight))
    weight_bias = np.exp(beta_value * (5 * (1 - high) + np.maximum(a - b, 0.0))).mean()  # weight at a, bias at b
    bias_bias = np.exp(beta_value * 5 * (1 - high)).mean()
    second = ratio**2 * weight_weight + 2 * ratio * weight_bias + bias_bias
    return float(np.log(second / (ratio + 1) ** 2))
