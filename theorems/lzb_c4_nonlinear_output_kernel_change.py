"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 and 6 / THEOREMS.md C2, C4: with a non-linear output the tangent
kernel changes by Theta(1) under gradient descent, at any width.

Statement: f = s(z) has K_f(x, x') = s'(z(x)) s'(z(x')) K_z(x, x'); K_z is nearly constant at large width
(C4 linear output), but fitting the targets moves z by Theta(1), so s'(z) and K_f change by Theta(1).
Reading: the OLS slope of log(relative change) on log m is >= -0.25 (prediction 0; inconsistent with
the -1/2 law). s = tanh with targets tanh(+-1): z must move from ~0 to +-1, so s'(z) = 1 - tanh^2 z
falls from ~1 to 0.42 (measured relative changes 0.5-0.8 at every width, log-SD 0.04-0.3).
Softplus outputs give the same slopes (~0) but scatter 2-4x more (s' = sigmoid moves up for one class
and down for the other), so they are not used at the CI budget.
Drawn, estimated: as ``lzb_c4_linear_output_kernel_change`` (synthetic or digits, depth 1..2, tanh or
ReLU hidden, T = 20 GD steps with eta = n / (2 lambda_max(K_0)), widths 64..1024, float64).
Decided: alpha = 0.01 family-wise. Power: slope SE <= 0.08 with 4 networks x 5 widths, yet under
master seeds 1..20 that gave 17/20 supported and the twin (slope <= -0.3) 17/20 refuted (inconclusive
at slopes -0.09..-0.19): quick uses 8 networks x 5 widths.
False twin: with a non-linear output the kernel change vanishes like width^-1/2 (slope <= -0.3).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion
from estimators.training import kernel_change_slope
from models.strategies_lzb import training_cases

NONLINEAR_OUTPUT_KERNEL = Claim(
    id="lzb2020.c4.nonlinear-output-kernel-change-nonvanishing",
    statement="with a tanh output, ||K_T - K_0||/||K_0|| under GD does not vanish with width",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4, 6",
    draw=training_cases(output_activation="tanh"),
    measure=kernel_change_slope,
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope of log rel. kernel change on log width"),
    n_draws=Sizes(quick=8, standard=8, paper=16),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

NONLINEAR_OUTPUT_KERNEL_VANISHING = NONLINEAR_OUTPUT_KERNEL.twin(
    id="lzb2020.c4.nonlinear-output-kernel-change-nonvanishing.twin-vanishing",
    statement="FALSE TWIN: with a tanh output, the kernel change under GD vanishes like width^-1/2",
    prediction=-0.5,
    rule=InRegion(-float("inf"), 0.2, quantity="slope of log rel. kernel change on log width"),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
