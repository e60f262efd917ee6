"""Liu, Zhu & Belkin (NeurIPS 2020), Prop. 2.1: the tangent kernel is constant iff f is linear in w.

Statement (both directions, one claim each): (i) for a model linear in w, here random features
f(x; w) = w . sigma(A x / sqrt(d)) / sqrt(m) with A fixed, f is affine and K(w) is the same at every point
of any path; (ii) conversely, for a model not linear in w (an LZB net, all weights trained), f is not
affine along a path and K changes there.
Drawn: width 4..32, feature / hidden activation tanh/softplus/sigmoid/ReLU, input dim 1..6, three unit
inputs, radius R in [0.5, 4], a straight path w0 + t R u or a quarter circle w0 + R (sin(pi t/2) u +
(1 - cos(pi t/2)) u') (u _|_ u' uniform unit vectors). Estimated (``estimators.training.path_change``,
torch.func.jacrev Jacobians, float64, 8 points of the path): max_t ||K(t) - K(0)||_F / ||K(0)||_F and the
linearity defect max_t ||f(t) - f(0) - J(0)(w(t) - w(0))|| / ||f(t) - f(0)||.
Decided: both are deterministic given the seed (no Monte Carlo error), so they enter as ``Estimates``
with standard error 0: (i) is supported iff both are <= 1e-12 (float64 round-off of a k x k Gram of
P-vectors is ~ P eps ~ 1e-14); (ii) iff both are >= 1e-8, four orders above round-off; alpha is moot.
What this tests, honestly: (i) is exact algebra for any correct Jacobian code (a linear model's
Jacobian does not involve w), so it checks that the kernel pipeline keeps it exact along curved paths
and does not invent a change; the content is (ii) and the separation of (i) and (ii) by the same
pipeline, i.e. the "iff". Measured: (i) 0 exactly, defect ~ 1e-16; (ii) changes 1e-3..1e-1.
False twins: the linear model's kernel changes (>= 1e-8); the non-linear net's kernel is constant.
"""

import torch

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, InRegion
from estimators.training import path_change, random_features_model, spec_model
from models.strategies_lzb import PathCase, path_cases


def _as_estimates(case: PathCase, mc: MonteCarlo, model: str) -> Estimates:
    if model == "random features":
        flat, size = random_features_model(case.spec.input_dim, case.spec.width, case.spec.activation, mc.seed)
    else:
        flat, size = spec_model(case.spec)
    x = torch.tensor(case.inputs, dtype=torch.float64)
    change = path_change(flat, size, x, case.radius, mc.seed, case.path)
    return Estimates(
        [change.kernel_change, change.linearity_defect], 0.0, 1.0,
        (f"max_t |K(t)-K(0)|/|K(0)| ({model})", f"linearity defect ({model})"), 1,
    )


def linear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Kernel change and linearity defect of the random-features model (linear in w) along the path."""
    return _as_estimates(case, mc, "random features")


def nonlinear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Kernel change and linearity defect of the LZB net (non-linear in w) along the path."""
    return _as_estimates(case, mc, "LZB net")


CONSTANT = InRegion(-float("inf"), 1e-12, quantity="relative kernel change / linearity defect")
CHANGES = InRegion(1e-8, float("inf"), quantity="relative kernel change / linearity defect")
SIZES = dict(n_draws=Sizes(quick=1, standard=1, paper=1), n_examples=Sizes(quick=4, standard=20, paper=50))

LINEAR_CONSTANT = Claim(
    id="lzb2020.prop21.linear-model-constant-kernel",
    statement="a model linear in w is affine and has the same tangent kernel at every point of any path",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Prop. 2.1",
    draw=path_cases(),
    measure=linear_model_change,
    prediction=0.0,
    rule=CONSTANT,
    **SIZES,
)

LINEAR_CONSTANT_TWIN = LINEAR_CONSTANT.twin(
    id="lzb2020.prop21.linear-model-constant-kernel.twin-nonlinear",
    statement="FALSE TWIN: a network non-linear in w has the same tangent kernel along any path",
    measure=nonlinear_model_change,
)

NONLINEAR_CHANGES = Claim(
    id="lzb2020.prop21.nonlinear-model-kernel-changes",
    statement="a model not linear in w (an LZB net) is not affine and its tangent kernel changes along a path",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Prop. 2.1 (converse)",
    draw=path_cases(),
    measure=nonlinear_model_change,
    prediction=0.0,
    rule=CHANGES,
    **SIZES,
)

NONLINEAR_CHANGES_TWIN = NONLINEAR_CHANGES.twin(
    id="lzb2020.prop21.nonlinear-model-kernel-changes.twin-linear",
    statement="FALSE TWIN: the tangent kernel of a model linear in w changes along a path",
    measure=linear_model_change,
)
