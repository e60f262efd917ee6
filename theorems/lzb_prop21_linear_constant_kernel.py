"""Liu, Zhu & Belkin (NeurIPS 2020), Prop. 2.1: the tangent kernel is constant iff f is linear in w (this
direction: linear => constant; the converse is ``lzb_prop21_nonlinear_kernel_changes``).

Statement: a random-features model f(x; w) = w . sigma(A x / sqrt(d)) / sqrt(m) (A fixed) is affine in w, so
K(w) is the same at every point of any path.
Drawn: width 4..32, feature activation tanh/softplus/sigmoid/ReLU, input dim 1..6, three unit inputs,
radius R in [0.5, 4], a straight path w0 + t R u or a quarter circle w0 + R (sin(pi t/2) u +
(1 - cos(pi t/2)) u') (u _|_ u' uniform unit vectors).
Estimated (``estimators.training.path_change``, torch.func.jacrev Jacobians, float64, 8 points of the
path): max_t ||K(t) - K(0)||_F / ||K(0)||_F and the linearity defect
max_t ||f(t) - f(0) - J(0)(w(t) - w(0))|| / ||f(t) - f(0)||.
Decided: both deterministic given the seed (standard error 0); supported iff both are <= 1e-12 (float64
round-off of a k x k Gram of P-vectors is ~ P eps ~ 1e-14); alpha is moot.
Honestly: this direction is exact algebra for any correct Jacobian code (a linear model's Jacobian does
not involve w), so it checks that the pipeline keeps it exact along curved paths and invents no change;
the content of the "iff" is the converse and that one pipeline separates the two by >= 4 orders of
magnitude. Measured: change 0 exactly, defect ~ 1e-16.
False twin: an LZB net (non-linear in w) keeps its kernel constant along the path.
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion
from estimators.training import linear_model_change, nonlinear_model_change
from models.strategies_lzb import path_cases

LINEAR_CONSTANT = Claim(
    id="lzb2020.prop21.linear-model-constant-kernel",
    statement="a model linear in w is affine and has the same tangent kernel at every point of any path",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Prop. 2.1",
    draw=path_cases(),
    measure=linear_model_change,
    prediction=0.0,
    rule=InRegion(-float("inf"), 1e-12, quantity="relative kernel change / linearity defect"),
    n_draws=Sizes(quick=1, standard=1, paper=1),
    n_examples=Sizes(quick=4, standard=20, paper=50),
)

LINEAR_CONSTANT_TWIN = LINEAR_CONSTANT.twin(
    id="lzb2020.prop21.linear-model-constant-kernel.twin-nonlinear",
    statement="FALSE TWIN: a network non-linear in w has the same tangent kernel along any path",
    measure=nonlinear_model_change,
)
