"""Littwin, Galanti & Wolf (UAI 2021), Thm 2 part 1: E||J^k||^2 = E[f_(k)^2] for every weight matrix k.

J^k = df/dW^k of the full net; f_(k) the reduced network (every connection bypassing W^k removed,
``models.reduced``; f_(k) = f for W^0, W^out and every vanilla matrix). Exact at any width and depth.
Drawn: vanilla nets (depth <= 4, per-layer widths 32..96), Eq. 9 ResNets (L <= 3, m <= 3, trunk and
branch widths 32..96 apart, alpha_l in [0.05, 1] per block), Eq. 10 DenseNets (depth <= 3, width
32..96, alpha in [0.1, 1]), all with sum 1/width <= 0.15; input dim 1..8, one unit input, any matrix k.
Estimated: ||J^k||^2 from the factorised NTK of the full net; E[f_(k)^2] = E[sigma_(k)^2] from
independent draws of the reduced net, Rao-Blackwellised over its output row (f_(k) | rest ~ N(0,
sigma^2), ``estimators.pathsum``); float64.
Decided: E||J^k||^2 / E[f_(k)^2] within 1 +- 0.03, delta-method t-tests (``moment_ratio``), family-wise
alpha = 0.01. Power: both sides are light-tailed (relative variance a few times sum 1/n), so with
40,000 draws the ratio's standard error is 0.002-0.005 (quick, seed 0; at most 0.004 at 100,000 in
standard): an example off by 0.045 is refuted with power > 0.99, and a true one misses support only
if its estimate strays by more than 0.019 (> 4 SE).
The vanilla special case with f itself and 10% margin is ``littwin2021.thm2.duality.vanilla``.
False twin: E||J^k||^2 = 2 E[f_(k)^2].
"""

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, within
from estimators.pathsum import moment_ratio, reduced_seed, sample_output_variances, sample_path_sums
from models.reduced import reduced_network
from models.strategies_littwin import MatrixCase, littwin_architectures, matrix_cases


def jacobian_norm_vs_reduced_output(case: MatrixCase, mc: MonteCarlo) -> Estimates:
    """E||J^k||^2 (full net) over E[f_(k)^2] (independent reduced nets)."""
    options = {"sampler": mc.sampler, "device": mc.device}
    full = sample_path_sums(case.spec, case.inputs, mc.n_draws, mc.seed, **options)
    norms = full.squared_jacobian_norms[:, full.matrix_names.index(case.matrix), 0].numpy()
    reduced, seed = reduced_network(case.spec, case.matrix), reduced_seed(mc.seed, case.matrix)
    variance = sample_output_variances(reduced, case.inputs, mc.n_draws, seed, **options)[:, 0].numpy()
    return moment_ratio(norms, variance, (case.matrix,))


DUALITY = Claim(
    id="littwin2021.thm2.duality",
    statement="E||J^k||^2 = E[f_(k)^2] for every weight matrix k of vanilla nets, ResNets and DenseNets",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 2.1",
    draw=matrix_cases(littwin_architectures()),
    measure=jacobian_norm_vs_reduced_output,
    prediction=1.0,
    rule=within(0.03, quantity="E||J^k||^2 / E[f_(k)^2]"),
    n_draws=Sizes(quick=40_000, standard=100_000, paper=400_000),
    n_examples=Sizes(quick=8, standard=25, paper=100),
)

DUALITY_TWICE = DUALITY.twin(
    id="littwin2021.thm2.duality.twin-factor2",
    statement="FALSE TWIN: E||J^k||^2 = 2 E[f_(k)^2] for every weight matrix k",
    prediction=2.0,
    n_draws=Sizes(quick=10_000, standard=40_000, paper=100_000),
    n_examples=Sizes(quick=3, standard=10, paper=30),
)
