"""EMPIRICAL (a numerical result of the paper, not a theorem): Huang et al. (NeurIPS 2020) at gamma = 1/2
(THEOREMS.md B3, reconstructed): with alpha = L^-1/2 the normalised infinite-width ResNet NTK converges to a
non-degenerate kernel that differs from ResNet-1's. Thm 5 covers 1/2 < gamma <= 1; Review 4 of the paper:
"A related result (with gamma=0.5) is also numerically tested, though not proven" (theorems/SOURCES.md).

Reading: ``HuangResNet`` at infinite width, gamma = 1/2, A and v fixed (``estimators.analytic``,
float64). alpha^2 L = 1, so the blocks' total drift does not vanish (an ODE limit), unlike gamma > 1/2.
Drawn: three angles t in [0.1, pi], 0.2 apart. Estimated, at L in {1000, 2000, 5000, 10^4}: the distance
D_L = max_j |N_L(t_j) - N_1(t_j)| to ResNet-1 and the spread S_L = max_j N_L(t_j) - min_j N_L(t_j)
(N = Theta(x_0, x_t)/Theta(x_0, x_0)); their limits as the OLS slope of L D_L (L S_L) on L, the
intercept of c + a/L (standard error: lack of fit of the extrapolation). Measured on 12 angles:
D_L = 0.0726, 0.0727, 0.0727 at L = 10^3, 3 10^3, 10^4 (a difference of -0.055 at t = 0.65 and +0.075
at t = 2.3); S ~ 1 (the limit is far from constant).
Decided: both limits > 0 (one-sided tests, family-wise alpha = 0.01).
False twin ("gamma = 1/2 also gives ResNet-1, degenerately"): both limits within 0.005 of 0.
"""

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, ols_slope, within
from estimators.analytic import analytic_kernels, kernels_at_depths
from models.strategies import NetworkCase
from models.strategies_huang import circle_cases, huang_nets

DEPTHS = (1000, 2000, 5000, 10_000)


def limits_at_half(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """Extrapolated sup distance to ResNet-1 and spread over angles of the normalised NTK (gamma = 1/2)."""
    shallow = analytic_kernels(type(case.spec)(2, 1, 1, 0.5), case.inputs).normalised_ntk[0, 1:]  # type: ignore[call-arg]
    kernels = kernels_at_depths(case.spec, case.inputs, DEPTHS)
    rows = np.array([kernels[L].normalised_ntk[0, 1:] for L in DEPTHS])
    depths = np.array(DEPTHS, dtype=float)
    distance = np.abs(rows - shallow).max(axis=1)
    spread = np.ptp(rows, axis=1)
    return Estimates.concat(
        [ols_slope(depths, depths * distance, "distance to ResNet-1"), ols_slope(depths, depths * spread, "spread")]
    )


HALF = Claim(
    id="huang2020.b3.gamma-half-nondegenerate",
    statement="at gamma = 1/2 the normalised infinite-width ResNet NTK has a non-degenerate limit, not ResNet-1's",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, numerical results at gamma = 1/2 (outside Thm 5; Review 4)",
    draw=circle_cases(
        huang_nets(kinds=("resnet",), min_width=1, max_width=1, min_gamma=0.5, max_gamma=0.5, input_dim=2), n_angles=3
    ),
    measure=limits_at_half,
    prediction=0.0,
    rule=at_least(quantity="limit distance / spread"),
    n_draws=Sizes(quick=1, standard=1, paper=1),  # deterministic recursion: no Monte Carlo
    n_examples=Sizes(quick=1, standard=4, paper=10),
)

HALF_RESNET1 = HALF.twin(
    id="huang2020.b3.gamma-half-nondegenerate.twin-resnet1",
    statement="FALSE TWIN: at gamma = 1/2 the normalised ResNet NTK tends to ResNet-1's and to a constant",
    rule=within(0.005, quantity="limit distance / spread"),
)
