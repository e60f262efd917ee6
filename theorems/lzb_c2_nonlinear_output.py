"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 / THEOREMS.md C2: a non-linear output keeps ||H_f|| = Theta(1).

Statement: f = s(z), z = v . h / sqrt(m): H_f = s'(z) H_z + s''(z) grad z grad z^T with ||H_z|| = O~(m^-1/2)
(C1) and R1 = |s''(z)| ||grad z||^2 = Theta(1), so ||H_f|| -> R1 does not vanish.
Reading: s = softplus, s'' = sigmoid (1 - sigmoid) > 0.045 for |z| < 3; sd(z) <= 1.0 for every drawn
architecture (measured, 2,000 nets each, m = 64 and 1024), so s''(z) is bounded away from 0:
P(s'' < 0.045) < 0.5 %, 1 % quantile >= 0.065. Not claimed for tanh or sigmoid outputs (s''(0) = 0).
Comparisons, both in [-0.25, inf) (prediction 0; -1/2 is the linear-output law):
(a) OLS slope of log R1 on log m, z and ||grad z||^2 = K_z(x, x) from the exact sampler (50 n_draws nets
    per width: s''(z) does not concentrate, log-SD ~ 0.4);
(b) E ||H_f|| / R1 - 1 at m = 1024, t interval (measured 0.00-0.12; the exact bound: lzb_c2_rank_one_bound).
Not the slope of log ||H_f|| itself: over 64..1024 it mixes R1 with the vanishing s'H_z part, comparable to
R1 at m = 64 in deep nets (measured -0.21, depth-3 ReLU, seed 1), although the limit is R1 > 0. It is the
twin's statistic, drawn at depth 1..2 where that bias is small.
Drawn: depth 1..4, hidden tanh/softplus/sigmoid/ReLU, input dim 1..8, one input of norm sqrt(d), widths
64..1024. Estimated: ``estimators.hessian.rank_one_nonvanishing`` (Lanczos, float64, residual <= 1e-3).
Decided: alpha = 0.01 family-wise. Power: (a) SE <= 0.03, (b) SE ~ 0.01; twin slope SE 0.014-0.043 with 12
nets x 5 widths, so the twin (-1/2 +- 0.2) is refuted with probability > 0.99 (with 4 nets, SE up to 0.053:
the power table's seeds 1-20 averaged 0.95, seed 12 inconclusive at -0.085; 12 nets: 0.999 there).
False twin: with a non-linear output ||H_f|| scales like width^-1/2 (the linear-output law).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion, within
from estimators.hessian import hessian_norm_slope, rank_one_nonvanishing
from models.strategies_lzb import width_sweeps

NONLINEAR_OUTPUT = Claim(
    id="lzb2020.c2.nonlinear-output-hessian-nonvanishing",
    statement="with a softplus output, ||H_f|| and its rank-one part s''(z)||grad z||^2 do not vanish with width",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4",
    draw=width_sweeps(output_activation="softplus"),
    measure=rank_one_nonvanishing,
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope on log width / relative excess"),
    n_draws=Sizes(quick=4, standard=12, paper=32),
    n_examples=Sizes(quick=2, standard=10, paper=30),
)

NONLINEAR_OUTPUT_VANISHING = NONLINEAR_OUTPUT.twin(
    id="lzb2020.c2.nonlinear-output-hessian-nonvanishing.twin-inverse-sqrt",
    statement="FALSE TWIN: with a softplus output, ||H_f|| scales like width^-1/2",
    draw=width_sweeps(output_activation="softplus", max_depth=2),
    measure=hessian_norm_slope,
    prediction=-0.5,
    rule=within(0.2, quantity="slope of log||H_f|| on log width"),
    n_draws=Sizes(quick=12, standard=12, paper=32),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
