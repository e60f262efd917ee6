"""Liu, Zhu & Belkin (NeurIPS 2020), Thm 3.2 / THEOREMS.md C1: ||H_f|| = O~(1/sqrt(m)) with a linear output.

Statement (Thm 3.2; the stored text of the paper stops at its introduction, see theorems/SOURCES.md): for an
L-layer fully connected net of width m (NTK parameterisation, linear output layer, a twice-differentiable
beta_sigma-smooth hidden activation, bounded input) the spectral norm of the Hessian of f w.r.t. all weights is
O~(R^{3L} / sqrt(m)) with high probability over w0, uniformly in a ball B(w0, R) of fixed radius. The
smoothness condition excludes ReLU, which this claim used to draw (dropped for issue 16: this is the theorem's
version; a ReLU net's Hessian also shrinks like m^-1/2, measured, but that is not Thm 3.2).
Reading: log ||H|| vs log m has slope -1/2 at w0 and at two points of the ball B(w0, R), R in {1, 2}
drawn: w0 + R u with u uniform on the unit sphere of the whole weight space (each weight moves by about
R / sqrt(P), so ||H|| changes by < 1e-3 relative at m = 1024: the same scaling, but a weak probe of the
sup over the ball), and w0 + R g/|g| along the gradient of f, the direction gradient descent moves in
(||H|| changes by 5-20 %, measured). The ball's constant grows with R: along g at R = 4, ||H|| is up
to 1.4x its w0 value at m = 64 and ~1.03x at m = 1024, so the finite-width slope steepens to -0.57..-0.60
(-0.50..-0.55 at R <= 2; measured, 4 networks); still inside the margin, but too close to it for a
quick budget of a few networks per width, hence R <= 2.
Drawn: depth 1..4, activation tanh/softplus/sigmoid (``SMOOTH``), input dim 1..8, one input of norm sqrt(d).
Estimated: ||H|| by Lanczos on Hessian-vector products in float64 (``estimators.hessian``,
``ball_hessian_slopes``; relative residual <= 1e-3, so ||H|| is exact to 1e-3), n_draws fresh networks
at each width 64..1024.
Decided: OLS slope (statsmodels) of log ||H|| on log m within -1/2 +- 0.2, alpha = 0.01 family-wise. The
theorem is an upper bound (slope <= -1/2 up to logs); the lower side (the norm does not vanish faster) is
our reading, a rate rather than a bound, and holds: measured -0.41..-0.60.
The margin covers the O~ log factor: at depth 1 ||H|| is a maximum over m units, ~ sqrt(2 log m / m),
whose local slope over 64..1024 is -1/2 + 1/(2 log m) ~ -0.41 (measured -0.44 for tanh).
Power: the residual SD of log ||H|| is 0.02-0.2 (largest for deep softplus nets), so with 3 networks x
5 widths the slope SE is 0.01-0.05 (2 networks gave SE 0.05 and p(equivalence) = 0.009 for a depth-4
softplus net: too close to alpha); a slope of 0 (the twin) is refuted with probability > 0.99.
False twin: the Hessian norm does not vanish (slope 0 +- 0.2); drawn at depth 1..2 only (cheaper).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import within
from estimators.hessian import ball_hessian_slopes
from models.strategies_lzb import width_sweeps

SMOOTH = ("tanh", "sigmoid", "softplus")  # Thm 3.2's beta_sigma-smooth activations (not ReLU)

HESSIAN_SCALING = Claim(
    id="lzb2020.c1.hessian-norm-inverse-sqrt-width",
    statement="with a linear output and smooth activation, ||d^2 f/dw^2|| scales like width^-1/2 at w0 and in B(w0, R)",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Thm 3.2",
    draw=width_sweeps(radii=(1.0, 2.0), activations=SMOOTH),
    measure=ball_hessian_slopes,
    prediction=-0.5,
    rule=within(0.2, quantity="slope of log||H|| on log width"),
    n_draws=Sizes(quick=3, standard=6, paper=12),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

HESSIAN_CONSTANT = HESSIAN_SCALING.twin(
    id="lzb2020.c1.hessian-norm-inverse-sqrt-width.twin-constant",
    statement="FALSE TWIN: with a linear output, ||d^2 f/dw^2|| does not vanish with width (slope 0)",
    draw=width_sweeps(max_depth=2, radii=(1.0, 2.0), activations=SMOOTH),
    prediction=0.0,
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
