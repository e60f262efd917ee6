"""Huang, Wang, Tao & Zhao (NeurIPS 2020), Thm 5 (FFNet part; THEOREMS.md B2, reconstructed): the
normalised NTK of a deep FFNet degenerates, Theta_L(x, x') / Theta_L(x, x) -> c for every x != x'.

Reading: ``HuangFFNet`` at infinite width (A and v fixed, W_1..W_L trained; ``estimators.analytic``),
unit inputs at angle t. The A and v terms are one of L terms each, so c is that of the textbook ReLU
recursion, c = 1/4 (from 2 k1 / 2 k0 near rho = 1: 1 - rho_l ~ 9 pi^2 / (2 l^2), Sigma_dot_l ~ 1 - 3/l).
Drawn: three angles t in [0.1, pi], 0.2 apart. Estimated: N_L(t) = Theta_L(x_0, x_t)/Theta_L(x_0, x_0)
from the float64 recursion at L in {1000, 2000, 5000, 10^4} (one pass); the limit c(t) as the OLS
slope of L N_L on L, i.e. the intercept of N_L = c + a/L (statsmodels; its standard error is the
lack of fit of the 1/L extrapolation, the only uncertainty: the recursion is deterministic). Measured:
c(t) = 0.25009 +- 2e-5 for every t (the residual log(L)/L term biases it by 1e-4).
Decided: c(t) within +-0.01 of 1/4 (InRegion TOST, family-wise alpha = 0.01). The margin is 100 times
the extrapolation bias and 25 times smaller than the twin's error.
False twin: c = 1/2.
"""

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, ols_slope, within
from estimators.analytic import kernels_at_depths
from models.strategies import NetworkCase
from models.strategies_huang import circle_cases, huang_nets

DEPTHS = (1000, 2000, 5000, 10_000)


def extrapolated_limit(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """Per angle t_j: intercept c of N_L = c + a / L (slope of L N_L against L) over ``DEPTHS``."""
    kernels = kernels_at_depths(case.spec, case.inputs, DEPTHS)
    normalised = np.array([kernels[L].normalised_ntk[0, 1:] for L in DEPTHS])
    depths = np.array(DEPTHS, dtype=float)
    return Estimates.concat(
        [ols_slope(depths, depths * normalised[:, j], f"c(x0, x{j + 1})") for j in range(normalised.shape[1])]
    )


LIMIT = Claim(
    id="huang2020.b2.ffnet-limit-constant",
    statement="the normalised NTK of an infinitely wide FFNet tends to 1/4 off the diagonal as depth -> infinity",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (FFNet); THEOREMS.md B2",
    draw=circle_cases(huang_nets(kinds=("ffnet",), min_width=1, max_width=1, input_dim=2), n_angles=3),  # width unused
    measure=extrapolated_limit,
    prediction=0.25,
    rule=within(0.01, quantity="limit of Theta_L(x,x')/Theta_L(x,x)"),
    n_draws=Sizes(quick=1, standard=1, paper=1),  # deterministic recursion: no Monte Carlo
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

LIMIT_HALF = LIMIT.twin(
    id="huang2020.b2.ffnet-limit-constant.twin-half",
    statement="FALSE TWIN: the normalised NTK of an infinitely wide FFNet tends to 1/2 off the diagonal",
    prediction=0.5,
)
