"""The exact low-rank sampler has the law of the dense network (estimators/lowrank.py).

Statement: for every architecture spec and inputs x1, x2, the joint law of (f, NTK, per-matrix
Jacobian norms) under the low-rank sampler (Y = R_h G^T forward; D W = D Y^T Gram_h^+ h +
(D Z)(I - P_h) backward) equals the law under i.i.d. N(0, 1) dense weights. A property of our
estimator, not of a paper: the duality and eta claims rely on it (``--sampler auto`` uses it).

Drawn: any spec kind (vanilla with per-layer widths, Littwin ResNet with branch depth 1..3 and
per-block alphas, DenseNet, Huang ResNet/FFNet, LZB nets with any activations), depth 1..3,
widths 8..16, two non-parallel unit inputs. Estimated: 160,000 independent draws from each
sampler of f(x1), K(x1, x1), K(x1, x2) and ||J^first(x1)||_F (float64). Decided by SameLaw:
KS, Anderson-Darling, Welch and variance-ratio tests refute (Holm, family-wise alpha = 0.01); support needs every
mean within +-0.1 SD (TOST) and every variance within +-15%. With 160,000 draws the SE of a
standardised mean difference is 0.0035, so a 0.1 SD shift is refuted with probability > 0.99;
variances of the heavy-tailed K and ||J||^2 need these sizes (at 20,000 their SE reached 0.1; at
80,000, master seeds 1..20 gave 16 supported and 4 inconclusive, variance ratios 1.05-1.10 of K).
A column that is a point mass under both samplers (K(x, -x) = 0 in every draw of a ReLU FFNet with
one-dimensional input: x and -x switch on disjoint units; drawn at master seeds 16 and 19) is
compared exactly (``SameLaw``).
False twin: the same agreement with the backward noise not projected off span(h), a wrong law
that inflates backpropagated norms for depth >= 2.
"""

import torch

from engine import Claim, MonteCarlo, SameLaw, Sizes, TwoSamples
from engine.seeding import derive_seed
from estimators import sample_ntk
from estimators.ntk import NEGATIVE_CONTROL_SAMPLER
from models.strategies import NetworkCase, small_architectures, two_input_cases


def kernel_statistics(case: NetworkCase, n_draws: int, seed: int, sampler: str, device: str) -> list[torch.Tensor]:
    """Per draw: f(x1), K(x1, x1), K(x1, x2), ||J^first(x1)||_F; shape (B, 4).

    The norm, not its square: ||J^first||^2 can have kurtosis > 100 (softplus LZB nets), where a
    variance test would need its 8th moment; the square root is a bijection on [0, inf), so equal
    laws of the norm mean equal laws of its square, and 0 (all units dead) stays finite."""
    draws = sample_ntk(case.spec, case.inputs, n_draws, seed, sampler=sampler, device=device)
    gram, norms = draws.gram, draws.squared_jacobian_norms
    return [draws.outputs[:, 0], gram[:, 0, 0], gram[:, 0, 1], norms[:, 0, 0].sqrt()]


def exact_versus_dense(case: NetworkCase, mc: MonteCarlo, exact: str = "exact") -> TwoSamples:
    """Independent draws from the exact sampler (first) and from dense weights (second)."""
    first = torch.stack(kernel_statistics(case, mc.n_draws, mc.seed, exact, mc.device), dim=1)
    dense_seed = derive_seed(mc.seed, "dense")
    second = torch.stack(kernel_statistics(case, mc.n_draws, dense_seed, "dense", mc.device), dim=1)
    return TwoSamples(first.numpy(), second.numpy(), ("f(x1)", "K(x1,x1)", "K(x1,x2)", "|J^first(x1)|"))


def unprojected_versus_dense(case: NetworkCase, mc: MonteCarlo) -> TwoSamples:
    """The false twin's sampler (no (I - P_h) projection) against dense weights."""
    return exact_versus_dense(case, mc, exact=NEGATIVE_CONTROL_SAMPLER)


AGREEMENT = Claim(
    id="estimators.exact-sampler.same-law",
    statement="the exact low-rank sampler gives f, K(x,x), K(x,x') and ||J||^2 the law of the dense network",
    citation="ntk-claims estimators/lowrank.py (conditional Gaussian sampling of W given W h^T)",
    draw=two_input_cases(small_architectures()),
    measure=exact_versus_dense,
    prediction=0.0,
    rule=SameLaw(margin=0.1, variance_margin=0.15),
    n_draws=Sizes(quick=160_000, standard=400_000, paper=1_600_000),
    n_examples=Sizes(quick=6, standard=20, paper=60),
)

AGREEMENT_UNPROJECTED = AGREEMENT.twin(
    id="estimators.exact-sampler.same-law.twin-unprojected",
    statement="FALSE TWIN: a low-rank sampler without the (I - P_h) projection has the dense network's law",
    measure=unprojected_versus_dense,
)
