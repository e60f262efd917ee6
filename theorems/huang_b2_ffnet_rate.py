"""Huang et al. (NeurIPS 2020), Thm 5 (FFNet; THEOREMS.md B2, reconstructed): the gap between any two
off-diagonal values of the normalised FFNet NTK vanishes as depth grows, at rate O(1/L).

Reading: ``HuangFFNet`` at infinite width (A, v fixed; ``estimators.analytic``, float64), unit inputs.
Drawn: three angles t in [0.1, pi], 0.2 apart. Estimated: the spread S_L = max_j N_L(t_j) - min_j N_L(t_j)
of N_L(t) = Theta_L(x_0, x_t)/Theta_L(x_0, x_0) at L in {1000, 2000, 5000, 10^4}, and the OLS slope of
log S_L on log L (statsmodels; its standard error is the curvature of the log-log line, the recursion
being deterministic). Measured: slope -1.001 +- 0.001 (angles 0.1..3.1).
What the rate says (not a tautology): Theta_L(x, x) = L Sigma_0 exactly, so S_L = (Theta_L(x_0, x_i) -
Theta_L(x_0, x_j)) / (L Sigma_0), and slope -1 means the unnormalised gap tends to a finite nonzero limit.
That is a property of the recursion: every angle follows the same correlation map, shifted in depth
(theta_l(t) ~ 3 pi / (l + l_0(t))), so Theta_L(t) ~ L/4 + b log L + s(t) with the log term common to all t;
it slows N_L -> 1/4 to ~ log L / L (local slopes -0.86..-0.98, ``experiments.huang_gamma_sweep``) but cancels
in the gap. A gap ~ log L / L would read about -0.88 on this range, ~ L^-1/2 about -0.5: both refuted.
Decided: slope within -1 +- 0.1 (InRegion TOST, family-wise alpha = 0.01).
False twin ("the ResNet limit is degenerate too"): the same rate for Huang's ResNet, alpha = L^-gamma,
gamma in [1/2, 1]; its spread tends to the non-zero spread of a non-degenerate kernel (slope ~ 0).
"""

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, ols_slope, within
from estimators.analytic import kernels_at_depths
from models.strategies import NetworkCase
from models.strategies_huang import circle_cases, huang_nets

DEPTHS = (1000, 2000, 5000, 10_000)


def spread_rate(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """OLS slope of log(max_j N_L(t_j) - min_j N_L(t_j)) on log L over ``DEPTHS``."""
    kernels = kernels_at_depths(case.spec, case.inputs, DEPTHS)
    spread = [np.ptp(kernels[L].normalised_ntk[0, 1:]) for L in DEPTHS]
    return ols_slope(np.log(DEPTHS), np.log(spread), "d log spread / d log L")


RATE = Claim(
    id="huang2020.b2.ffnet-spread-rate",
    statement="off-diagonal values of the normalised infinite-width FFNet NTK merge like 1/L (depth 10^3..10^4)",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (FFNet); THEOREMS.md B2",
    draw=circle_cases(huang_nets(kinds=("ffnet",), min_width=1, max_width=1, input_dim=2), n_angles=3),  # width unused
    measure=spread_rate,
    prediction=-1.0,
    rule=within(0.1, quantity="slope of log spread on log depth"),
    n_draws=Sizes(quick=1, standard=1, paper=1),  # deterministic recursion: no Monte Carlo
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

RATE_RESNET = RATE.twin(
    id="huang2020.b2.ffnet-spread-rate.twin-resnet-degenerate",
    statement="FALSE TWIN: the normalised infinite-width ResNet NTK (alpha = L^-gamma) degenerates like 1/L too",
    draw=circle_cases(huang_nets(kinds=("resnet",), min_width=1, max_width=1, input_dim=2), n_angles=3),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)
