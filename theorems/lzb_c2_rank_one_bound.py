"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 / THEOREMS.md C2: ||H_f|| >= |s''(z)| ||grad z||^2 - O(m^-1/2).

Statement: H_f = s'(z) H_z + s''(z) grad z grad z^T (f = s(z), chain rule), so by Weyl's inequality
||H_f|| >= |s''(z)| ||grad z||^2 - |s'(z)| ||H_z||, and the correction |s'(z)| ||H_z|| is O~(m^-1/2) (C1).
Reading: s = softplus (s' = sigmoid, s'' = sigmoid (1 - sigmoid), bounded away from 0 at the pre-outputs
of random nets; see ``lzb_c2_nonlinear_output``). Two comparisons, both at most 0 (prediction 0):
(a) the worst relative violation max_b [(s''|grad z|^2 - s'||H_z||) - ||H_f||] / ||H_f|| over all networks
    and widths, minus 2e-3: the inequality is exact, the three terms come from two Lanczos runs and a
    gradient, and Lanczos' |theta| is within rtol = 1e-3 of ||H|| (|theta| <= ||H|| always), so a
    correct estimator violates it by < 2 rtol; deterministic given the seed (standard error 0);
(b) the OLS slope of log ||H_z|| on log m, plus 0.3: the correction s'(z)||H_z|| <= ||H_z|| (0 < s' < 1)
    vanishes at least like m^-0.3 (the -1/2 law of C1 with its margin 0.2, which covers the log factor).
    The bound ||H_z|| is regressed, not s'(z)||H_z||: s'(z) = sigmoid(z) does not concentrate (z is
    Theta(1) random), which adds a log-SD ~ 0.7 per network and no information about the rate.
Measured: violations never occur (the bound holds with room: ||H_f|| / (s''|grad z|^2) = 1.00-1.05
at m = 1024); slope (b) about -0.5.
Drawn: depth 1..4, hidden tanh/softplus/sigmoid/ReLU, input dim 1..8, one input of norm sqrt(d), widths 64..1024.
Decided with alpha = 0.01 family-wise; (b) has slope SE 0.01-0.04 with 3 networks x 5 widths.
False twin: the bound with twice the rank-one part, ||H_f|| >= 2 s''(z)||grad z||^2 - s'(z)||H_z||;
since ||H_f|| ~ s''|grad z|^2 its worst violation is ~ +1 and it is refuted deterministically.
"""

from functools import partial

import numpy as np

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, at_most
from engine.statistics import ols_slope
from estimators.hessian import sweep_widths
from models.activations import OUTPUT_DERIVATIVES
from models.strategies_lzb import WidthSweepCase, width_sweeps

LANCZOS_SLACK = 2e-3  # 2 * rtol of sweep_widths
CORRECTION_EXPONENT = -0.3  # -1/2 + the C1 margin


def rank_one_bound(case: WidthSweepCase, mc: MonteCarlo, factor: float = 1.0) -> Estimates:
    """(a) worst relative violation of ||H_f|| >= factor s''|grad z|^2 - s'||H_z||; (b) slope of the correction."""
    sweep = sweep_widths(case.spec, case.inputs, case.widths, mc.n_draws, mc.seed, preoutput_hessian=True)
    first, second = OUTPUT_DERIVATIVES[case.spec.output_activation]
    correction = first(sweep.preoutput).abs() * sweep.preoutput_hessian_norm
    bound = factor * second(sweep.preoutput).abs() * sweep.preoutput_gradient_norm**2 - correction
    violation = float(((bound - sweep.hessian_norm) / sweep.hessian_norm).max())
    slope = ols_slope(np.log(sweep.width.numpy()), np.log(sweep.preoutput_hessian_norm.numpy()), "")
    return Estimates.concat(
        [
            Estimates.single(f"max violation of the bound (x{factor:g}) - {LANCZOS_SLACK:g}",
                             violation - LANCZOS_SLACK, 0.0, 1.0, len(sweep.width)),
            Estimates(slope.estimate - CORRECTION_EXPONENT, slope.standard_error, slope.dof,
                      (f"slope log|H_z| - ({CORRECTION_EXPONENT:g})",), slope.n_samples),
        ]
    )


RANK_ONE_BOUND = Claim(
    id="lzb2020.c2.rank-one-lower-bound",
    statement="with a softplus output, ||H_f|| >= s''(z)||grad z||^2 - s'(z)||H_z||, the correction O(m^-1/2)",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4",
    draw=width_sweeps(output_activation="softplus"),
    measure=rank_one_bound,
    prediction=0.0,
    rule=at_most(quantity="violation / shifted slope"),
    n_draws=Sizes(quick=3, standard=8, paper=24),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

RANK_ONE_TWICE = RANK_ONE_BOUND.twin(
    id="lzb2020.c2.rank-one-lower-bound.twin-factor2",
    statement="FALSE TWIN: ||H_f|| >= 2 s''(z)||grad z||^2 - s'(z)||H_z||",
    measure=partial(rank_one_bound, factor=2.0),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
