"""Huang et al. (NeurIPS 2020), Thm 5 (ResNet; THEOREMS.md B3, reconstructed): with alpha = L^-gamma,
1/2 < gamma <= 1, the normalised NTK of an infinitely wide ResNet tends to the ResNet-1 (L = 1) kernel.

Reading: ``HuangResNet`` at infinite width, A and v fixed, W_l and V_l trained (``estimators.analytic``,
float64). Each block adds alpha^2 = L^-2gamma times a term that tends to ResNet-1's, and the total drift
of Sigma_l and of the backward factors is eps = alpha^2 L = L^(1 - 2 gamma), so at a fixed pair
x' != -x the distance decays like eps (rate r = 1 in units of L^(1 - 2 gamma)). Not uniformly: near
x' = -x the rate halves (``theorems/huang_b3_antipodal_rate.py``), and the first-order coefficient
changes sign near t = 2.6, so angles are drawn in [0.1, 2.2]. Below gamma = 0.6 eps is not small at
L <= 10^4 (gamma = 0.55: eps = 0.40 at L = 10^4, r = 0.92-0.99), so gamma is drawn in [0.6, 1].
Drawn: gamma in [0.6, 1], three angles t in [0.1, 2.2], 0.2 apart. Estimated: D_L = max_j |N_L(t_j) -
N_1(t_j)|, N = Theta(x_0, x_t)/Theta(x_0, x_0), at six depths L from 10^3 to 10^4 (one recursion per L:
alpha depends on L); the OLS slope of log D_L on log L divided by 1 - 2 gamma (statsmodels; its standard
error is the lack of fit of the log-log line, the recursion being deterministic). Measured per angle:
r = 0.963-1.010 (gamma = 0.6), 0.996-1.002 (0.75), 1.000 (1), standard errors <= 0.002.
Decided: r within 1 +- 0.1 (TOST, family-wise alpha = 0.01): the distance tends to 0 like L^(1 - 2 gamma).
False twin ("B3 with all layers trained", ``train_all``): then the A term Sigma_0 P_0 ~ 1 dominates the
branch terms ~ L^(1-2gamma) and the normalised NTK tends to the linear kernel, not to ResNet-1 (r ~ 0).
"""

import numpy as np
from hypothesis.strategies import SearchStrategy

from engine import Claim, Estimates, MonteCarlo, Sizes, ols_slope, within
from estimators.analytic import analytic_kernels, kernels_at_depths
from models.strategies import NetworkCase
from models.strategies_huang import circle_cases, huang_nets

DEPTHS = (1000, 1600, 2500, 4000, 6300, 10_000)


def rate_to_resnet1(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """Slope of log max_j |N_L(t_j) - N_1(t_j)| on log L over ``DEPTHS``, divided by 1 - 2 gamma."""
    spec = case.spec
    shallow = analytic_kernels(type(spec)(2, 1, 1, spec.gamma, spec.train_all), case.inputs)  # type: ignore[call-arg, attr-defined]
    kernels = kernels_at_depths(spec, case.inputs, DEPTHS)
    distance = [np.abs(kernels[L].normalised_ntk[0, 1:] - shallow.normalised_ntk[0, 1:]).max() for L in DEPTHS]
    slope = ols_slope(np.log(DEPTHS), np.log(distance), "rate / L^(1-2 gamma)")
    scale = 1.0 - 2.0 * spec.gamma  # type: ignore[attr-defined]
    return Estimates(slope.estimate / scale, slope.standard_error / abs(scale), slope.dof, slope.labels, len(DEPTHS))


def resnets(train_all: bool) -> SearchStrategy[NetworkCase]:
    """ResNets with gamma in [0.6, 1] on x_0 = (1, 0) and three angles in [0.1, 2.2] (width unused)."""
    nets = huang_nets(kinds=("resnet",), min_width=1, max_width=1, min_gamma=0.6, input_dim=2, train_all=train_all)
    return circle_cases(nets, n_angles=3, max_angle=2.2)


LIMIT = Claim(
    id="huang2020.b3.resnet-limit-resnet1",
    statement="for 0.6 <= gamma <= 1 the normalised infinite-width ResNet NTK tends to ResNet-1's at each pair "
    "x' != -x, the distance decaying like L^(r (1 - 2 gamma)) with r = 1 +- 0.1",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 (ResNet); THEOREMS.md B3",
    draw=resnets(train_all=False),
    measure=rate_to_resnet1,
    prediction=1.0,
    rule=within(0.1, quantity="rate exponent / (1 - 2 gamma)"),
    n_draws=Sizes(quick=1, standard=1, paper=1),  # deterministic recursion: no Monte Carlo
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

LIMIT_ALL_TRAINED = LIMIT.twin(
    id="huang2020.b3.resnet-limit-resnet1.twin-all-trained",
    statement="FALSE TWIN: with A and v trained too, the normalised ResNet NTK still tends to ResNet-1's",
    draw=resnets(train_all=True),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)
