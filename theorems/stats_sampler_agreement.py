"""The Gram-statistics sampler has the law of the dense network (estimators/gram_stats.py).

Statement: for every ReLU spec the sampler covers (vanilla, Littwin ResNet with branch depth >= 2,
DenseNet) and inputs x1, x2, the joint law of (f, NTK, per-matrix Jacobian norms) when only the
forward pre-activations are drawn unit by unit and every backward step and residual stream is
carried by k x k statistics (activation-pattern groups: C_p = S_p^{1/2} F R, W_p = R (F^T Pi F +
Bartlett^T Bartlett) R; trunk vectors as orthonormal-basis coordinates) equals the law under
i.i.d. N(0, 1) dense weights. A property of our estimator, not of a paper: the Fig. 3a-scale
sweep (``python -m estimators.bench --fig3a-sweep``) relies on it.

Drawn: vanilla nets with per-layer widths, Littwin ResNets (branch depth 2..3, per-block alphas,
own branch width), DenseNets; depth 1..3, widths 8..16, two non-parallel unit inputs. At widths
3..16 (and 6..16) several master seeds left K(x1, x2) variance ratios near 1 (1.03-1.18) with
intervals +-0.25 to +-0.7 wide: inconclusive, not wrong. Narrow layers, pattern groups with fewer
units than k, rank-deficient statistics and dead inputs (exact zeros) are unit tests instead
(tests/estimators/test_gram_stats.py). Estimated and decided as ``estimators.exact-sampler.same-law``:
160,000 independent draws from each sampler of f(x1), K(x1, x1), K(x1, x2) and ||J^first(x1)||_F
(float64), SameLaw (KS, Anderson-Darling, Welch, variance ratio; Holm, family-wise alpha = 0.01;
support needs every mean within +-0.1 SD and every variance within +-15%).
False twin: the same agreement with the backward noise not projected off span(q) (Q = 0 in every
masked layer, no (I - P) on the trunk), a wrong law that inflates backpropagated norms.
Monte Carlo size by predicted power (``engine.power``, quick, seed 0): 0.936 at 160,000 draws (limited by a
variance comparison), 0.972 at 200,000; the twin keeps 160,000 (predicted power 1.0).
"""

from engine import Claim, MonteCarlo, SameLaw, Sizes, TwoSamples
from estimators.ntk import STATS_NEGATIVE_CONTROL, STATS_SAMPLER
from models.strategies import NetworkCase, relu_architectures, two_input_cases
from theorems.exact_sampler_agreement import exact_versus_dense


def stats_versus_dense(case: NetworkCase, mc: MonteCarlo) -> TwoSamples:
    """Independent draws from the Gram-statistics sampler (first) and from dense weights (second)."""
    return exact_versus_dense(case, mc, exact=STATS_SAMPLER)


def unprojected_stats_versus_dense(case: NetworkCase, mc: MonteCarlo) -> TwoSamples:
    """The false twin's sampler (no projection off span(q)) against dense weights."""
    return exact_versus_dense(case, mc, exact=STATS_NEGATIVE_CONTROL)


AGREEMENT = Claim(
    id="estimators.stats-sampler.same-law",
    statement="the Gram-statistics sampler gives f, K(x,x), K(x,x') and ||J||^2 of ReLU nets the dense network's law",
    citation="ntk-claims estimators/gram_stats.py (activation-pattern statistics, Bartlett factors, trunk coordinates)",
    draw=two_input_cases(relu_architectures()),
    measure=stats_versus_dense,
    prediction=0.0,
    rule=SameLaw(margin=0.1, variance_margin=0.15),
    n_draws=Sizes(quick=200_000, standard=400_000, paper=1_600_000),
    n_examples=Sizes(quick=6, standard=20, paper=60),
)

AGREEMENT_UNPROJECTED = AGREEMENT.twin(
    id="estimators.stats-sampler.same-law.twin-unprojected",
    statement="FALSE TWIN: a Gram-statistics sampler without the projection off span(q) has the dense network's law",
    measure=unprojected_stats_versus_dense,
    n_draws=Sizes(quick=160_000, standard=400_000, paper=1_600_000),
)
