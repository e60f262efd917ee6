"""Huang et al. (NeurIPS 2020), Thm 5 (FFNet; THEOREMS.md B2, reconstructed) on finite networks: the
normalised NTK of wide FFNets loses its dependence on the input angle as depth grows, at the rate of the
analytic recursion (whose limit is 1/4 for every x != x'; ``theorems/huang_b2_ffnet_limit.py``).

Reading: ``HuangFFNet`` as specified (A, v fixed), unit inputs x_0 = (1, 0), x_j at angle t_j.
Drawn: width 384..768, three angles t in [0.1, pi], 0.2 apart and spanning >= 1.5 (angles all near pi
have a spread of ~0.01 already at L = 1, too small to measure). Estimated (float64, exact sampler): at
depths L in {1, 3, 9}, 10 groups of 100 draws; per group the spread S = max_j N_j - min_j N_j of
N_j = mean K(x_0, x_j) / mean K(x_0, x_0) (``grouped_normalised_spread``); the OLS slope on log L of
log(S / S_inf), S_inf the analytic spread at the same angles and depth (30 rows, 28 dof): i.e. the
finite slope of log S on log L minus the analytic one (-0.19 to -0.77 over all admissible angle sets).
Regressing the difference removes the analytic curvature of log S in log L from the residuals.
Decided: the slope difference within +-0.1 (TOST, family-wise alpha = 0.01): finite FFNets degenerate
at the analytic rate, and since the analytic slope is <= -0.19, their spread shrinks with depth.
Power and bias: finite width widens the deep spread by O(L / n) (measured: +7% at L = 9, n = 264,
+3% at n = 512), a slope bias of +0.003..+0.044 at n = 264 (about half at n = 512); the standard error
is 0.002-0.017 at n = 264, smaller at 384..768. A slope off by 0.1 is refuted.
False twin ("the ResNet limit is degenerate too"): Huang ResNets (gamma in [1/2, 1], same draws otherwise)
lose the angle dependence at the FFNet's analytic rate; their spread stays put, so the slope difference
is the analytic FFNet slope's negative, >= 0.19 (500 draws suffice: standard error ~0.005).
"""

import dataclasses

import numpy as np
from hypothesis.strategies import SearchStrategy

from engine import Claim, MonteCarlo, Sizes, ols_slope, within
from engine.intervals import Estimates
from engine.seeding import derive_seed
from estimators import sample_ntk
from estimators.analytic import kernels_at_depths
from estimators.finite_width import grouped_normalised_spread
from models.resnet import HuangFFNet
from models.strategies import NetworkCase
from models.strategies_huang import circle_cases, huang_nets

DEPTHS = (1, 3, 9)
GROUPS = 10


def slope_versus_ffnet_analytic(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """OLS slope of log(finite spread / analytic FFNet spread) on log depth (same angles and depths)."""
    analytic = kernels_at_depths(HuangFFNet(2, 1, 1), case.inputs, DEPTHS)
    log_depth, log_ratio = [], []
    for depth in DEPTHS:
        spec = dataclasses.replace(case.spec, depth=depth)  # type: ignore[type-var]
        draws = sample_ntk(spec, case.inputs, mc.n_draws, derive_seed(mc.seed, "depth", depth), sampler=mc.sampler)
        spread = grouped_normalised_spread(draws.gram.numpy(), GROUPS)
        log_ratio.append(np.log(spread / np.ptp(analytic[depth].normalised_ntk[0, 1:])))
        log_depth.append(np.full(GROUPS, np.log(depth)))
    return ols_slope(np.concatenate(log_depth), np.concatenate(log_ratio), "finite minus analytic slope")


def cases(kind: str) -> SearchStrategy[NetworkCase]:
    """Width 384..768 nets of ``kind`` on x_0 = (1, 0) and three angles spanning >= 1.5."""
    return circle_cases(huang_nets(kinds=(kind,), min_width=384, max_width=768, input_dim=2), 3, min_span=1.5)


FINITE = Claim(
    id="huang2020.b2.ffnet-finite-degenerates",
    statement="the normalised NTK of wide finite FFNets loses its angle dependence with depth at the analytic rate",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (FFNet); THEOREMS.md B2",
    draw=cases("ffnet"),
    measure=slope_versus_ffnet_analytic,
    prediction=0.0,
    rule=within(0.1, quantity="finite minus analytic slope of log spread on log depth"),
    n_draws=Sizes(quick=1_000, standard=4_000, paper=16_000),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

FINITE_RESNET = FINITE.twin(
    id="huang2020.b2.ffnet-finite-degenerates.twin-resnet",
    statement="FALSE TWIN: wide finite ResNets (alpha = L^-gamma) lose their angle dependence at the FFNet's rate",
    draw=cases("resnet"),
    n_draws=Sizes(quick=500, standard=2_000, paper=8_000),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)
