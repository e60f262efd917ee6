"""Liu, Zhu & Belkin (NeurIPS 2020), Prop. 2.1, converse: a model not linear in w has a tangent kernel that
changes (the direction linear => constant is ``lzb_prop21_linear_constant_kernel``).

Statement: an LZB net (all weights trained; depth 1..2, width 4..32) is not affine along a path in weight
space, and its tangent kernel K(w) = J J^T changes there.
Drawn, estimated: as ``lzb_prop21_linear_constant_kernel`` (straight or quarter-circle paths of radius
0.5..4, three unit inputs; kernel change and linearity defect along 8 points, jacrev, float64).
Decided: deterministic given the seed (standard error 0); supported iff both are >= 1e-8, four orders of
magnitude above float64 round-off; alpha is moot. Measured: kernel changes 0.015-0.14 (quick, standard).
False twin: the random-features model's kernel (linear in w) changes along the path (>= 1e-8).
"""

from engine.budget import Sizes
from engine.claim import Claim
from engine.intervals import InRegion
from estimators.training import linear_model_change, nonlinear_model_change
from models.strategies_lzb import path_cases

NONLINEAR_CHANGES = Claim(
    id="lzb2020.prop21.nonlinear-model-kernel-changes",
    statement="a model not linear in w (an LZB net) is not affine and its tangent kernel changes along a path",
    citation="Liu, Zhu & Belkin, On the linearity of large non-linear models, NeurIPS 2020, Prop. 2.1 (converse)",
    draw=path_cases(),
    measure=nonlinear_model_change,
    prediction=0.0,
    rule=InRegion(1e-8, float("inf"), quantity="relative kernel change / linearity defect"),
    n_draws=Sizes(quick=1, standard=1, paper=1),
    n_examples=Sizes(quick=4, standard=20, paper=50),
)

NONLINEAR_CHANGES_TWIN = NONLINEAR_CHANGES.twin(
    id="lzb2020.prop21.nonlinear-model-kernel-changes.twin-linear",
    statement="FALSE TWIN: the tangent kernel of a model linear in w changes along a path",
    measure=linear_model_change,
)
