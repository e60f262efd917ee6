"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 / THEOREMS.md C2: a non-linear output keeps ||H_f|| = Theta(1).

Statement: for f = s(z), z = v . h / sqrt(m), H_f = s'(z) H_z + s''(z) grad z grad z^T; the rank-one part
has norm |s''(z)| ||grad z||^2 = Theta(1) while ||H_z|| = O~(m^-1/2), so
||H_f|| >= |s''(z)| ||grad z||^2 - |s'(z)| O~(m^-1/2) and ||H_f|| does not vanish with width.
Reading: s = softplus, whose s''(z) = sigmoid(z)(1 - sigmoid(z)) > 0.04 for |z| < 3 (z ~ N(0, O(1)) at
init), so the rank-one part is bounded away from 0; we do not claim this for sigmoid or tanh outputs,
whose s''(0) = 0. Two comparisons, both in the region [-0.25, inf) (prediction 0):
(a) the OLS slope of log ||H_f|| on log m (a slope >= -0.25 is inconsistent with the -1/2 law);
(b) E[rho] - 1 at the largest width, rho = ||H_f|| / (s''(z) ||grad z||^2): the lower bound holds up to
    the O~(m^-1/2) term (measured E[rho] = 1.00-1.05 at m = 1024).
Drawn: depth 1..4, hidden tanh/softplus/sigmoid/ReLU, input dim 1..8, one unit input.
Estimated: Lanczos ||H_f|| (float64, relative residual <= 1e-3), z and ||grad z|| of the same weights,
n_draws networks at each width 64..1024. Decided with alpha = 0.01 family-wise; (b) uses a t interval
(dof n_draws - 1). Power: slope SE ~ 0.03 with 4 networks x 5 widths, so the twin (-1/2 +- 0.2) is
refuted with probability > 0.99.
False twin: with a non-linear output ||H_f|| scales like width^-1/2 (the linear-output law).
"""

import numpy as np
from statsmodels.stats.weightstats import DescrStatsW

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, InRegion, within
from engine.statistics import ols_slope
from estimators.hessian import sweep_widths
from models.strategies_lzb import WidthSweepCase, width_sweeps


def nonlinear_output_hessian(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """(a) slope of log ||H_f|| on log width; (b) mean of ||H_f|| / (s''(z) ||grad z||^2) - 1 at the largest width."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed)
    log_width = np.log(sweep.width.numpy())
    sigmoid = 1.0 / (1.0 + np.exp(-sweep.preoutput.numpy()))
    rank_one = sigmoid * (1.0 - sigmoid) * sweep.preoutput_gradient_norm.numpy() ** 2
    largest = sweep.width.numpy() == max(case.widths)
    ratio = DescrStatsW(sweep.hessian_norm.numpy()[largest] / rank_one[largest] - 1.0)
    return Estimates.concat(
        [
            ols_slope(log_width, np.log(sweep.hessian_norm.numpy()), "slope log|H_f|"),
            Estimates.single(
                f"E|H_f|/(s''|grad z|^2) - 1 at m={max(case.widths)}",
                float(ratio.mean),
                float(ratio.std_mean),
                float(ratio.nobs - 1),
                int(ratio.nobs),
            ),
        ]
    )


def nonlinear_output_slope(case: WidthSweepCase, mc: MonteCarlo) -> Estimates:
    """Only comparison (a): the twin is a statement about the scaling law."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed)
    return ols_slope(np.log(sweep.width.numpy()), np.log(sweep.hessian_norm.numpy()), "slope log|H_f|")


NONLINEAR_OUTPUT = Claim(
    id="lzb2020.c2.nonlinear-output-hessian-nonvanishing",
    statement="with a softplus output, ||H_f|| >= s''(z)||grad z||^2 - O(m^-1/2) and does not vanish with width",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4",
    draw=width_sweeps(output_activation="softplus"),
    measure=nonlinear_output_hessian,
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope of log||H_f|| / relative rank-one excess"),
    n_draws=Sizes(quick=4, standard=12, paper=32),
    n_examples=Sizes(quick=2, standard=10, paper=30),
)

NONLINEAR_OUTPUT_VANISHING = NONLINEAR_OUTPUT.twin(
    id="lzb2020.c2.nonlinear-output-hessian-nonvanishing.twin-inverse-sqrt",
    statement="FALSE TWIN: with a softplus output, ||H_f|| scales like width^-1/2",
    measure=nonlinear_output_slope,
    prediction=-0.5,
    rule=within(0.2, quantity="slope of log||H_f|| on log width"),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
