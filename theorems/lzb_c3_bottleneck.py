"""Liu, Zhu & Belkin (NeurIPS 2020), Sec. 4 / THEOREMS.md C3: a bottleneck keeps ||H|| from vanishing.

Statement: if one hidden layer keeps a fixed width b while the others grow, the Hessian norm of f does
not go to 0 (the Hessian w.r.t. the b bottleneck activations is a sum of m terms of size m^-1/2 with
random signs, Theta(1)), so the tangent kernel need not be constant even with a linear output.
Reading: OLS slope of log ||H|| on log m in [-0.25, inf) (prediction 0): a slope >= -0.25 is
inconsistent with the -1/2 law of non-bottleneck nets.
Drawn: depth 2..3, bottleneck width b in {2, 3, 4} at a drawn layer, hidden tanh or softplus, linear
output, input dim 1..8, one input of norm sqrt(d). Excluded, with measured reasons: ReLU (a bottleneck
of width <= 4 is dead, f constant, with probability up to 1/16 per network); sigmoid, and softplus at
depth 4: with the bottleneck near the input, the Theta(1) part is the curvature of the downstream deep
net in its b inputs, which is tiny for non-zero-mean features (their kernel flattens with depth), so
the O(m^-1/2) part of the wide layers dominates up to m >> 1024: slopes -0.48 (sigmoid, depth 4, b = 4
at layer 1; it refuted the claim in the standard budget), -0.32 (sigmoid, depth 4, layer 2), -0.17
(softplus, depth 4, layer 1), with ||H|| ~ 0.005-0.1 at m = 1024 against 0.3-1 for tanh.
Estimated: Lanczos ||H|| (``estimators.hessian.hessian_norm_slope``, float64, relative residual <= 1e-3),
n_draws networks at widths 64..1024.
Decided: alpha = 0.01 family-wise. Power: the residual SD of log ||H|| is 0.05-0.5 (b is small, so
||H|| fluctuates with the b bottleneck units, and does not concentrate as m grows); 10 networks x 5
widths gave slope SE <= 0.07 (4 networks gave a CI of +-0.22 at seed 1: inconclusive), but under
master seeds 1..20 the twin (-1/2 +- 0.2, one example) was then refuted only 16 times (inconclusive
at slopes -0.11..-0.18, CI reaching -0.3) and the claim supported 18 times: quick now uses 20
networks x 5 widths (slope SE <= 0.05).
False twin: with a bottleneck ||H|| still scales like width^-1/2.
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion, within
from estimators.hessian import hessian_norm_slope
from models.strategies_lzb import width_sweeps

BOTTLENECK = Claim(
    id="lzb2020.c3.bottleneck-hessian-nonvanishing",
    statement="with one hidden layer of fixed width b, ||d^2 f/dw^2|| does not vanish as the other widths grow",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Sec. 4",
    draw=width_sweeps(activations=("tanh", "softplus"), min_depth=2, max_depth=3, bottleneck_widths=(2, 3, 4)),
    measure=hessian_norm_slope,
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity="slope of log||H|| on log width"),
    n_draws=Sizes(quick=20, standard=24, paper=40),
    n_examples=Sizes(quick=2, standard=10, paper=30),
)

BOTTLENECK_VANISHING = BOTTLENECK.twin(
    id="lzb2020.c3.bottleneck-hessian-nonvanishing.twin-inverse-sqrt",
    statement="FALSE TWIN: with a bottleneck, ||d^2 f/dw^2|| still scales like width^-1/2",
    prediction=-0.5,
    rule=within(0.2, quantity="slope of log||H|| on log width"),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
