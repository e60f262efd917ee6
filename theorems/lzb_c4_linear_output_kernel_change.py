"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 3 and 6 / THEOREMS.md C4: with a linear output the tangent kernel
changes by O(m^-1/2) under gradient descent.

Statement: along the GD path w_t stays in a ball B(w0, R) with R = O(1), so by the ball bound
||K(w_T) - K(w0)|| <= 2 R sup_B ||H|| sup_B ||grad f|| and C1, the relative change
||K_T - K_0||_F / ||K_0||_F is O~(m^-1/2). Reading: O() is an upper bound, so the OLS slope of
log(relative change) on log m is <= -1/2 + 0.2 (the margin of C1, for the log factor): prediction -1/2,
region (-inf, -0.3]. Measured slopes are -0.6..-1.0, steeper than the bound: along GD the first-order
change has random signs across units and cancels, giving the O(1/m) of Dyer & Gur-Ari (ICLR 2020) and
Huang & Yau (ICML 2020) for smooth activations; a point reading "slope = -1/2 +- 0.2" would be refuted
for tanh (measured -0.85..-1.0), so the claim is the bound the paper proves, not a rate it does not.
Drawn: synthetic (n = 16 Gaussian points, input dim 2..8, label sign(x_1)) or scikit-learn digits
(16 images, centred pixels, label even/odd); depth 1..2; hidden tanh or ReLU (sigmoid and softplus
features have a non-zero mean, so K_0 has one dominant constant mode and the other modes barely train
in T steps: their log changes scatter with SD 1-2, too noisy for the CI budget; slopes measured
-0.8..-1.1). Inputs have norm sqrt(d), targets are the labels +-1.
Estimated (``estimators.training``): T = 20 steps of full-batch GD on (1/2n) sum (f - y)^2 with
eta = n / (2 lambda_max(K_0)) (width-independent in NTK parameterisation; a quarter of the stability
limit of the linearised dynamics), n_draws networks at each width 64..1024, float64.
Decided: alpha = 0.01 family-wise. Power: residual SD of the log change 0.15-0.5, so 4 networks x 5
widths give slope SE 0.04-0.12 and the twin (slope >= -0.25) is refuted with probability > 0.99.
False twin: with a linear output the kernel change does not vanish (slope >= -0.25).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion
from estimators.training import kernel_change_slope
from models.strategies_lzb import training_cases

LINEAR_OUTPUT_KERNEL = Claim(
    id="lzb2020.c4.linear-output-kernel-change-vanishes",
    statement="with a linear output, ||K_T - K_0||/||K_0|| under GD vanishes at least like width^-1/2",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 3, 6",
    draw=training_cases(),
    measure=kernel_change_slope,
    prediction=-0.5,
    rule=InRegion(-float("inf"), 0.2, quantity="slope of log rel. kernel change on log width"),
    n_draws=Sizes(quick=4, standard=8, paper=16),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

LINEAR_OUTPUT_KERNEL_CONSTANT = LINEAR_OUTPUT_KERNEL.twin(
    id="lzb2020.c4.linear-output-kernel-change-vanishes.twin-nonvanishing",
    statement="FALSE TWIN: with a linear output, the kernel change under GD does not vanish with width",
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope of log rel. kernel change on log width"),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
