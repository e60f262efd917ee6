"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 and 6 / THEOREMS.md C3, C4: with a bottleneck the tangent kernel
changes by Theta(1) under gradient descent, even with a linear output.

Statement: a hidden layer of fixed width b keeps ||H|| = Theta(1) (C3); GD moves the few weights around the
bottleneck by Theta(1), so the b bottleneck features, and the kernel, change by Theta(1) at any width.
Reading: the OLS slope of log(relative change) on log m is >= -0.25 (prediction 0).
Drawn: synthetic or digits as ``lzb_c4_linear_output_kernel_change``; depth 2 (d -> b -> m or
d -> m -> b), one hidden layer (drawn) of width b in {2, 3}, linear output, hidden tanh (a ReLU
bottleneck this narrow is dead with probability up to 2^-b per network; sigmoid and softplus, see the
linear-output claim). Depth 3 behaves the same (slopes -0.13..+0.09, 16 networks, measured) but a
bottleneck at layer 1 or 3 leaves an m x m matrix: 10-17 s per example, too slow for CI.
Estimated: T = 20 GD steps, eta = n / (2 lambda_max(K_0)), n_draws networks at widths 64..1024
(measured relative changes 0.5-1.4, no trend; loss still falls to 1-40 % of L_0).
Decided: alpha = 0.01 family-wise. Power: the change depends on the b random bottleneck units, so the
residual SD of the log change is 0.3-0.7 and does not shrink with m; 32 networks x 5 widths give slope
SE <= 0.05 (24 gave SE 0.06 and p(equivalence) = 0.047 for a digits net at slope -0.15 in the standard
budget: inconclusive) and the twin (slope <= -0.3) is refuted with probability > 0.99. Depth 2 has no
m x m matrix, so these networks are cheap (~0.1 s per 16 networks and width).
False twin: with a bottleneck the kernel change still vanishes like width^-1/2 (slope <= -0.3).
The twin's networks: 32 left seed 4 of the power table inconclusive (slope 0.16, predicted power 0.44; seeds
1-4 averaged 0.86), 64 gave 0.83 there, 128 gives 1.0 at seeds 0-4 (~4 s).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion
from estimators.training import kernel_change_slope
from models.strategies_lzb import training_cases

BOTTLENECK_KERNEL = Claim(
    id="lzb2020.c4.bottleneck-kernel-change-nonvanishing",
    statement="with one hidden layer of fixed width, ||K_T - K_0||/||K_0|| under GD does not vanish with width",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4, 6",
    draw=training_cases(activations=("tanh",), min_depth=2, max_depth=2, bottleneck_widths=(2, 3)),
    measure=kernel_change_slope,
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope of log rel. kernel change on log width"),
    n_draws=Sizes(quick=32, standard=64, paper=96),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

BOTTLENECK_KERNEL_VANISHING = BOTTLENECK_KERNEL.twin(
    id="lzb2020.c4.bottleneck-kernel-change-nonvanishing.twin-vanishing",
    statement="FALSE TWIN: with a bottleneck, the kernel change under GD vanishes like width^-1/2",
    prediction=-0.5,
    rule=InRegion(-float("inf"), 0.2, quantity="slope of log rel. kernel change on log width"),
    n_draws=Sizes(quick=128, standard=128, paper=128),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
