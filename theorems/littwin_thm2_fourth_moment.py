"""Littwin, Galanti & Wolf (UAI 2021), Thm 2 part 2: E[f_(k)^4]/3 <= E||J^k||^4 <= E[f_(k)^4] for every k.

J^k = df/dW^k of the full net; f_(k) the reduced network (``models.reduced``). The lower bound is
attained: for W^out, ||J^out||^2 = sigma^2 and f = N(0, sigma^2) given the rest, so E f^4 = 3 E||J||^4
exactly; at large width every k approaches it. Read as r = E||J^k||^4 / E[f_(k)^4] in [1/3, 1].
Drawn: as ``littwin2021.thm2.duality``: vanilla nets, Eq. 9 ResNets, Eq. 10 DenseNets (widths 32..96,
per-layer / trunk-vs-branch widths, alpha_l per block), input dim 1..8, one unit input, any matrix k.
Estimated: ||J^k||^4 from the full net; E[f_(k)^4] = 3 E[sigma_(k)^4] from independent draws of the
reduced net, Rao-Blackwellised over its output row (``estimators.pathsum``); float64.
Decided: region [1/3, 1] (``InRegion``): refuted if a one-sided t-test (delta-method SE, Bonferroni over
the two sides, Holm over examples) shows r < 1/3 or r > 1; supported if every r is shown > 1/3 - 0.02
and < 1 + 0.02 (tolerance 0.02, 6% of the lower bound, needed because r sits on the bound for W^out).
alpha = 0.01 family-wise. Power: ||J^k||^4 has a relative variance of a few times 4 sum 1/n (not the
32/3 of a Gaussian f^4, avoided on the f_(k) side by the Rao-Blackwellisation), so with 40,000 draws
se(r) is 0.001-0.003 (quick, seed 0): a true r at the bound 1/3 misses support only if its estimate
strays by 0.014 (> 5 SE), and a lower bound violated by 0.02 is refuted with power > 0.99.
False twin: the bound tightened to E[f_(k)^4]/2 <= E||J^k||^4 (region [1/2, 1]).
"""

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, InRegion
from estimators.pathsum import gaussian_moment, moment_ratio, reduced_seed, sample_output_variances, sample_path_sums
from models.reduced import reduced_network
from models.strategies_littwin import MatrixCase, littwin_architectures, matrix_cases

TOLERANCE = 0.02


def fourth_moment_ratio(case: MatrixCase, mc: MonteCarlo) -> Estimates:
    """E||J^k||^4 (full net) over E[f_(k)^4] = 3 E[sigma_(k)^4] (independent reduced nets)."""
    options = {"sampler": mc.sampler, "device": mc.device}
    full = sample_path_sums(case.spec, case.inputs, mc.n_draws, mc.seed, **options)
    norms = full.squared_jacobian_norms[:, full.matrix_names.index(case.matrix), 0].numpy()
    reduced, seed = reduced_network(case.spec, case.matrix), reduced_seed(mc.seed, case.matrix)
    variance = sample_output_variances(reduced, case.inputs, mc.n_draws, seed, **options)[:, 0].numpy()
    return moment_ratio(norms**2, gaussian_moment(4) * variance**2, (case.matrix,))


SANDWICH = Claim(
    id="littwin2021.thm2.fourth-moment-sandwich",
    statement="E[f_(k)^4]/3 <= E||J^k||^4 <= E[f_(k)^4] for every weight matrix k of vanilla nets, ResNets, DenseNets",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 2.2",
    draw=matrix_cases(littwin_architectures()),
    measure=fourth_moment_ratio,
    prediction=1 / 3,
    rule=InRegion(0.0, 2 / 3, TOLERANCE, quantity="E||J^k||^4 / E[f_(k)^4]"),
    n_draws=Sizes(quick=40_000, standard=100_000, paper=400_000),
    n_examples=Sizes(quick=8, standard=25, paper=100),
)

SANDWICH_HALF = SANDWICH.twin(
    id="littwin2021.thm2.fourth-moment-sandwich.twin-half",
    statement="FALSE TWIN: E[f_(k)^4]/2 <= E||J^k||^4 <= E[f_(k)^4] (lower bound tightened from 1/3 to 1/2)",
    prediction=1 / 2,
    rule=InRegion(0.0, 1 / 2, TOLERANCE, quantity="E||J^k||^4 / E[f_(k)^4]"),
    n_draws=Sizes(quick=10_000, standard=40_000, paper=100_000),
    n_examples=Sizes(quick=3, standard=10, paper=30),
)
