"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 5 and 6 / THEOREMS.md C4: gradient descent still decreases the
square loss when the tangent kernel is not constant (constancy is not needed for optimisation).

Statement: the loss falls under GD for a linear-output net (nearly constant kernel), for the same net
with a tanh output and for a bottleneck net (kernels that change by Theta(1), ``lzb_c4_*``); their
Sec. 5 proves convergence from the PL* condition, which does not need a constant kernel.
Reading: E log(L_T / L_0) < 0 for each of the three architectures at the smallest and the largest width
(64 and 1024), prediction 0, region (-inf, 0]: six comparisons per example, t intervals over networks.
Drawn: one data set (synthetic or digits, as ``lzb_c4_linear_output_kernel_change``), a linear-output
net (depth 1..2, tanh or ReLU), the same net with a tanh output, and a depth-2 tanh net with one hidden
layer of width 2 or 3. Estimated (``estimators.training.log_loss_ratios``): T = 20 GD steps with
eta = n / (2 lambda_max(K_0)) (the kernel-change claims' step), n_draws networks each, float64.
Measured: L_T / L_0 = 0.01-0.8; in 2,304 bottleneck runs one network ended at 1.02 L_0 (none at
eta = n / (4 lambda_max)), so the mean over networks is claimed, not every network.
Decided: alpha = 0.01 family-wise. Power: log-ratio SD 0.1-1 across networks, so 8 networks give
t <= -5 against means -1..-4 (each one-sided test needs p < 0.01 at 7 dof, t < -3.0; 4 networks, 3 dof,
measured t = -2.9: inconclusive); the twin (E log(L_T/L_0) >= 0) is refuted with probability > 0.99.
False twin: the loss does not decrease (E log(L_T / L_0) >= 0).
Monte Carlo size by predicted power (``engine.power``, quick, seed 0): 0.93 at 8 networks, 0.99 at 12; the twin
keeps 8 (1.0).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion, at_most
from estimators.training import log_loss_ratios
from models.strategies_lzb import loss_cases

LOSS_DECREASES = Claim(
    id="lzb2020.c4.training-loss-decreases",
    statement="GD decreases the square loss with a linear output, a tanh output and a bottleneck alike",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 5, 6",
    draw=loss_cases(),
    measure=log_loss_ratios,
    prediction=0.0,
    rule=at_most(quantity="E log(L_T / L_0)"),
    n_draws=Sizes(quick=12, standard=12, paper=24),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

LOSS_DOES_NOT_DECREASE = LOSS_DECREASES.twin(
    id="lzb2020.c4.training-loss-decreases.twin-no-decrease",
    statement="FALSE TWIN: GD does not decrease the square loss (E log(L_T / L_0) >= 0)",
    rule=InRegion(0.0, float("inf"), quantity="E log(L_T / L_0)"),
    n_draws=Sizes(quick=8, standard=12, paper=24),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
