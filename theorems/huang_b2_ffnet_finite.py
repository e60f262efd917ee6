"""Huang et al. (NeurIPS 2020), Thm 5 (FFNet; THEOREMS.md B2, reconstructed) on finite networks: the
normalised NTK of wide FFNets loses its dependence on the input angle as depth grows, as the analytic
recursion says (its limit is 1/4 for every x != x'; ``theorems/huang_b2_ffnet_limit.py``).

Reading: ``HuangFFNet`` as specified (A, v fixed), unit inputs x_0 = (1, 0), x_j at angle t_j.
Drawn: width 256..512, three angles t in [0.1, pi], 0.2 apart and spanning >= 1.5 (angles all near pi
have a spread of ~0.01 already at L = 1, too small to measure). Estimated (float64, exact sampler): at
depths L in {1, 3, 9}, 10 groups of 100 draws; per group the spread S = max_j N_j - min_j N_j of
N_j = mean K(x_0, x_j) / mean K(x_0, x_0); the OLS slope of log S on log L (30 rows, 28 dof); minus the
same slope of the analytic kernel (``estimators.analytic``) on the same angles and depths (-0.26 to
-0.56: the spread shrinks). Decided: the difference within +-0.1 (TOST, family-wise alpha = 0.01), i.e.
finite FFNets degenerate at the analytic rate. L / n <= 9/256 keeps the finite-width bias of N small (a
slope bias below 0.02); the measured standard error of the finite slope is about 0.02-0.03.
False twin ("the ResNet limit is degenerate too"): Huang ResNets (gamma in [1/2, 1], same draws otherwise)
lose the angle dependence at the FFNet's analytic rate; their spread stays put (slope ~ 0, so the
difference is >= 0.26; 500 draws suffice: the ResNet spread is ~1 and its slope's standard error ~0.005).
"""

import dataclasses

import numpy as np

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
    """Finite-width slope of log spread on log depth minus the analytic FFNet slope (same angles, depths)."""
    log_depth, log_spread = [], []
    for depth in DEPTHS:
        spec = dataclasses.replace(case.spec, depth=depth)  # type: ignore[type-var]
        draws = sample_ntk(spec, case.inputs, mc.n_draws, derive_seed(mc.seed, "depth", depth), sampler=mc.sampler)
        log_spread.append(np.log(grouped_normalised_spread(draws.gram.numpy(), GROUPS)))
        log_depth.append(np.full(GROUPS, np.log(depth)))
    finite = ols_slope(np.concatenate(log_depth), np.concatenate(log_spread), "finite minus analytic slope")
    kernels = kernels_at_depths(HuangFFNet(2, 1, 1), case.inputs, DEPTHS)
    analytic_spread = [np.ptp(kernels[L].normalised_ntk[0, 1:]) for L in DEPTHS]
    analytic = np.polyfit(np.log(DEPTHS), np.log(analytic_spread), 1)[0]
    return Estimates(finite.estimate - analytic, finite.standard_error, finite.dof, finite.labels, finite.n_samples)


FINITE = Claim(
    id="huang2020.b2.ffnet-finite-degenerates",
    statement="the normalised NTK of wide finite FFNets loses its angle dependence with depth at the analytic rate",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (FFNet); THEOREMS.md B2",
    draw=circle_cases(huang_nets(kinds=("ffnet",), min_width=256, max_width=512, input_dim=2), 3, min_span=1.5),
    measure=slope_versus_ffnet_analytic,
    prediction=0.0,
    rule=within(0.1, quantity="finite minus analytic slope of log spread on log depth"),
    n_draws=Sizes(quick=1_000, standard=4_000, paper=16_000),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

FINITE_RESNET = FINITE.twin(
    id="huang2020.b2.ffnet-finite-degenerates.twin-resnet",
    statement="FALSE TWIN: wide finite ResNets (alpha = L^-gamma) lose their angle dependence at the FFNet's rate",
    draw=circle_cases(huang_nets(kinds=("resnet",), min_width=256, max_width=512, input_dim=2), 3, min_span=1.5),
    n_draws=Sizes(quick=500, standard=2_000, paper=8_000),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)
