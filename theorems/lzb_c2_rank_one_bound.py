"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 / THEOREMS.md C2: ||H_f|| >= |s''(z)| ||grad z||^2 - O(m^-1/2).

Statement: H_f = s'(z) H_z + s''(z) grad z grad z^T (f = s(z), chain rule), so by Weyl's inequality
||H_f|| >= |s''(z)| ||grad z||^2 - |s'(z)| ||H_z||, and the correction |s'(z)| ||H_z|| is O~(m^-1/2) (C1).
Reading: s = softplus (s' = sigmoid in (0, 1), s'' bounded away from 0: ``lzb_c2_nonlinear_output``).
Two comparisons, both at most 0 (prediction 0), ``estimators.hessian.rank_one_bound``:
(a) the worst relative violation max [(s''|grad z|^2 - s'||H_z||) - ||H_f||] / ||H_f|| over all networks and
    widths, minus 2e-3: the three terms come from two Lanczos runs and a gradient, and |theta| is within
    rtol = 1e-3 of ||H|| (never above it), so a correct estimator misses the exact inequality by < 2 rtol;
    deterministic given the seed (standard error 0). It also catches a Lanczos that stops at a
    non-dominant eigenvalue of H_f;
(b) the OLS slope of log ||H_z|| on log m, plus 0.3: the correction s'||H_z|| <= ||H_z|| vanishes at least
    like m^-0.3 (-1/2 with the C1 margin). ||H_z||, not s'||H_z||: s'(z) does not concentrate (z is
    Theta(1) random), which adds a log-SD ~ 0.7 and no information about the rate.
Measured (quick seeds 0, 1, standard): worst violation -0.03..-0.3 (the bound holds with room);
slope of log ||H_z|| -0.40..-0.51.
Drawn: depth 1..4, hidden tanh/softplus/sigmoid/ReLU, input dim 1..8, one input of norm sqrt(d), widths
64..1024; 3 networks per width (float64 Lanczos, residual <= 1e-3). Decided with alpha = 0.01
family-wise; (b) has slope SE 0.01-0.04.
False twin: the bound with twice the rank-one part, ||H_f|| >= 2 s''(z)||grad z||^2 - s'(z)||H_z||; since
||H_f|| ~ s''|grad z|^2 its worst violation is ~ +1 and it is refuted deterministically.
"""

from functools import partial

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import at_most
from estimators.hessian import rank_one_bound
from models.strategies_lzb import width_sweeps

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
