"""Huang, Wang, Tao & Zhao (NeurIPS 2020), Thm 5 (FFNet part; THEOREMS.md B2, reconstructed): the
normalised NTK of a deep FFNet degenerates, Theta_L(x, x') / Theta_L(x, x) -> c for every x != x'.

Reading: ``HuangFFNet`` at infinite width (A and v fixed, W_1..W_L trained; ``estimators.analytic``),
unit inputs at angle t. The constant for this parameterisation: on the diagonal Sigma_dot = 1 and
Sigma_l = Sigma_0, so Theta_L(x, x) = L Sigma_0(x, x) exactly, while Theta_L(x, x') = sum_l Sigma_{l-1}(x, x')
prod_{h=l..L} Sigma_dot_h(x, x'). The correlation map rho' = 2 k1(rho) has theta_l = arccos rho_l ~ 3 pi / l
(1 - rho_l ~ 9 pi^2 / (2 l^2)), so Sigma_dot_h = 1 - theta_{h-1} / pi ~ 1 - 3 / h, prod_{h=l..L} ~ (l / L)^3
and Sigma_{l-1}(x, x') -> Sigma_0(x, x): c = lim (1/L) sum_l (l/L)^3 = int_0^1 u^3 du = 1/4. Training A and v
too adds Sigma_0 P_0 -> 0 and Sigma_L -> Sigma_0, one term each out of L, so c = 1/4 in every reading,
the textbook recursion Theta_l = Sigma_l + Theta_{l-1} Sigma_dot_l included.
Drawn: three angles t in [0.1, pi], 0.2 apart. Estimated: N_L(t) = Theta_L(x_0, x_t)/Theta_L(x_0, x_0)
from the float64 recursion at L in {1000, 2000, 5000, 10^4} (one pass); the limit c(t) as the OLS
slope of L N_L on L, i.e. the intercept of N_L = c + a/L (statsmodels; its standard error is the
lack of fit of the 1/L extrapolation, the only uncertainty: the recursion is deterministic, and
accurate to 1e-12 against 40-digit arithmetic). Measured: c(t) = 0.2501 +- 2e-4 for every t (the
residual log(L)/L term biases the extrapolation by ~1e-4; N_L itself is 0.2503-0.2524 at L = 10^4).
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
