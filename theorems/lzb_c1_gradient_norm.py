"""Liu, Zhu & Belkin (NeurIPS 2020), THEOREMS.md C1: ||grad f|| = Theta(1) while ||H|| = O~(m^-1/2).

Statement: in NTK parameterisation ||grad_w f(x)||^2 = K(x, x) converges to the limiting NTK, so
||grad f|| neither grows nor vanishes with width; this is why R ||H|| / ||grad f|| -> 0 bounds the
relative kernel change. Reading: log ||grad f|| vs log m has slope 0.

Drawn: as for the Hessian claim (depth 1..4, tanh/softplus/sigmoid/ReLU, input dim 1..8, one input of norm sqrt(d)).
Estimated: ||grad f|| = sqrt(K(x, x)) of n_draws networks per width 64..1024 (exact low-rank sampler,
float64, ``estimators.sample_ntk``). Decided: OLS slope within 0 +- 0.1, alpha = 0.01.
Power: sqrt(K) has relative SD ~ c / sqrt(m) (c < 2 at depth 4), so with 200 networks per width the
slope SE is < 0.01; the twin (slope -1/2) is refuted with probability > 0.99.
False twin: ||grad f|| vanishes like the Hessian, width^-1/2.
"""

import dataclasses

import numpy as np

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, within
from engine.seeding import derive_seed
from engine.statistics import ols_slope
from estimators import sample_ntk
from models.strategies_lzb import WidthSweepCase, width_sweeps


def gradient_norm_slope(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """Slope of log ||grad f|| vs log width over n_draws networks per width."""
    log_width, log_norm = [], []
    for width in case.widths:
        spec = dataclasses.replace(case.spec, width=width)
        draws = sample_ntk(
            spec, case.inputs, mc.n_draws, derive_seed(mc.seed, width), sampler=mc.sampler, device=mc.device
        )
        log_norm.append(0.5 * np.log(draws.gram[:, 0, 0].numpy()))
        log_width.append(np.full(mc.n_draws, np.log(width)))
    return ols_slope(np.concatenate(log_width), np.concatenate(log_norm), "slope log|grad f|")


GRADIENT_CONSTANT = Claim(
    id="lzb2020.c1.gradient-norm-constant",
    statement="with a linear output, ||grad_w f|| stays Theta(1) in width (slope of log||grad f|| is 0)",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 3",
    draw=width_sweeps(),
    measure=gradient_norm_slope,
    prediction=0.0,
    rule=within(0.1, quantity="slope of log||grad f|| on log width"),
    n_draws=Sizes(quick=200, standard=1_000, paper=4_000),
    n_examples=Sizes(quick=3, standard=10, paper=30),
)

GRADIENT_VANISHING = GRADIENT_CONSTANT.twin(
    id="lzb2020.c1.gradient-norm-constant.twin-vanishing",
    statement="FALSE TWIN: ||grad_w f|| vanishes like width^-1/2",
    prediction=-0.5,
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
