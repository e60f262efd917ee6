"""Liu, Zhu & Belkin (NeurIPS 2020), Prop. 2.1: the tangent kernel is constant iff f is linear in w.

Statement (both directions, one claim each): (i) for a model linear in w, here random features
f(x; w) = w . sigma(A x / sqrt(d)) / sqrt(m) with A fixed, K(w) is the same at every point of any path;
(ii) conversely, for a model not linear in w (an LZB net), K changes along a path.
Drawn: width 4..32, feature / hidden activation tanh/softplus/sigmoid/ReLU, input dim 1..6, three unit
inputs, path radius R in [0.5, 4]. Estimated: max_t ||K(w0 + t R u) - K(w0)||_F / ||K(w0)||_F over
8 points of the straight path (torch.func.jacrev Jacobians, float64).
Decided: the quantity is deterministic given the seed (no Monte Carlo error), so it enters as an
``Estimates`` with standard error 0: (i) is supported iff the change is <= 1e-12 (float64 round-off of a
k x k Gram of P-vectors is ~ P eps ~ 1e-14; the Jacobian of a linear model does not depend on w at all);
(ii) iff it is >= 1e-8, four orders above round-off. alpha = 0.01 is then moot (p-values are 0 or 1).
False twins: the linear model's kernel changes (i on the random-features model, >= 1e-8); the
non-linear net's kernel is constant (<= 1e-12).
"""

import torch

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, InRegion
from estimators.training import kernel_change_along_path, random_features_model, spec_model
from models.strategies_lzb import PathCase, path_cases


def linear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Relative kernel change of the random-features model (linear in w) along a random path."""
    model, size = random_features_model(case.spec.input_dim, case.spec.width, case.spec.activation, mc.seed)
    change = kernel_change_along_path(model, size, torch.tensor(case.inputs, dtype=torch.float64), case.radius, mc.seed)
    return Estimates.single("max_t |K(t)-K(0)|/|K(0)| (random features)", change, 0.0, 1.0, 1)


def nonlinear_model_change(case: PathCase, mc: MonteCarlo) -> Estimates:
    """Relative kernel change of the LZB net (non-linear in w) along a random path."""
    model, size = spec_model(case.spec)
    change = kernel_change_along_path(model, size, torch.tensor(case.inputs, dtype=torch.float64), case.radius, mc.seed)
    return Estimates.single("max_t |K(t)-K(0)|/|K(0)| (LZB net)", change, 0.0, 1.0, 1)


CONSTANT = InRegion(-float("inf"), 1e-12, quantity="relative kernel change")
CHANGES = InRegion(1e-8, float("inf"), quantity="relative kernel change")
SIZES = dict(n_draws=Sizes(quick=1, standard=1, paper=1), n_examples=Sizes(quick=4, standard=20, paper=50))

LINEAR_CONSTANT = Claim(
    id="lzb2020.prop21.linear-model-constant-kernel",
    statement="a model linear in w has the same tangent kernel at every point of any path",
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
    statement="a model not linear in w (an LZB net) has a tangent kernel that changes along a path",
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
