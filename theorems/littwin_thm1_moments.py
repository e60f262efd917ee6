"""Littwin, Galanti & Wolf (UAI 2021), Thm 1 (Eq. 13): E[f_(k)^p] = E[f_k^p] for even p, here p = 2 and 4.

f_k: the paths of f through W^k with the full net's activation pattern (Eq. 12), = <W^k, df/dW^k>.
f_(k): the reduced network, every connection bypassing W^k removed (``models.reduced``: a ResNet block
loses its own skip, a DenseNet layer every edge parallel to W^{l,h}), built from the spec's graph.
Drawn (``littwin_architectures``): vanilla nets (depth <= 4, per-layer widths 32..96), Eq. 9 ResNets
(L, m <= 3, trunk width and per-layer branch widths 32..96, L m / width <= 0.15, alpha_l in [0.05, 1]
per block), Eq. 10 DenseNets (depth <= 3, constant or per-layer widths 32..96, alpha in [0.1, 1]);
input dim 1..8, one unit input, any matrix k. Where nothing bypasses W^k (W^0, W^out, every vanilla
matrix) f_(k) = f and f_k = f pathwise (tested to 1e-10), but the two sides are still independent
draws through different code (forward-mode path sums vs outputs), so the comparison is not vacuous.
Estimated (float64, ``estimators.pathsum``): both sides Rao-Blackwellised over the output row: given the
rest, f_k ~ N(0, sigma_k^2) (sigma_k = s_out ||v_k||, v_k the W^k-path part of the last hidden layer, by
forward mode) and f_(k) ~ N(0, sigma_(k)^2) (independent reduced nets); E[g^p] = (p - 1)!! E[sigma^p].
Decided: the L^p-norm ratio (E f_k^p / E f_(k)^p)^(1/p) within 1 +- 0.03 (about +-6% on second, +-12.5%
on fourth moments), delta-method t-tests (``moment_ratio``; levels checked on such draws in
tests/estimators/test_pathsum.py), family-wise alpha = 0.01 over all examples and both p.
Power: with 40,000 draws the ratio's standard error is 0.001-0.003 (quick, seed 0; 0.0005-0.002 at
100,000 in standard): an example off by 0.045 is refuted with power > 0.99, and a true one misses
support only if its estimate strays by 0.02 (> 6 SE).
False twin: the full output f in place of f_(k) (bypassing paths kept), i.e. E[f^p] = E[f_k^p], drawn
only where something bypasses W^k (elsewhere f = f_(k) and the twin is the claim).
"""

from collections.abc import Callable

from hypothesis import strategies as st

from engine import Claim, Estimates, MonteCarlo, Sizes, within
from estimators import pathsum
from models.base import ArchitectureSpec
from models.reduced import reduced_network
from models.strategies_littwin import (
    MatrixCase,
    littwin_architectures,
    littwin_densenets,
    littwin_resnets,
    matrix_cases,
)


def path_sum_moments(reference: Callable[[ArchitectureSpec, str], ArchitectureSpec]) -> Callable:
    """Measure: per p in (2, 4), (E f_k^p / E g^p)^(1/p) with g the output of ``reference(spec, k)``."""

    def measure(case: MatrixCase, mc: MonteCarlo) -> Estimates:
        options, k = {"sampler": mc.sampler, "device": mc.device}, case.matrix
        a = pathsum.sample_path_sum_variances(case.spec, k, case.inputs, mc.n_draws, mc.seed, **options)[:, 0]
        seed = pathsum.reduced_seed(mc.seed, k)
        b = pathsum.sample_output_variances(reference(case.spec, k), case.inputs, mc.n_draws, seed, **options)[:, 0]
        ratios = [
            pathsum.moment_ratio(a.numpy() ** (p // 2), b.numpy() ** (p // 2), (f"{k} p={p}",), p) for p in (2, 4)
        ]
        return Estimates.concat(ratios)  # (p - 1)!! cancels in each ratio

    return measure


MOMENTS = Claim(
    id="littwin2021.thm1.reduced-moments",
    statement="E[f_(k)^p] = E[f_k^p] (p = 2, 4) for every matrix k of vanilla nets, ResNets and DenseNets",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 1 (Eq. 13)",
    draw=matrix_cases(littwin_architectures()),
    measure=path_sum_moments(reduced_network),
    prediction=1.0,
    rule=within(0.03, quantity="(E f_k^p / E f_(k)^p)^(1/p)"),
    n_draws=Sizes(quick=40_000, standard=100_000, paper=400_000),
    n_examples=Sizes(quick=10, standard=25, paper=100),
)

MOMENTS_FULL_OUTPUT = MOMENTS.twin(
    id="littwin2021.thm1.reduced-moments.twin-full-output",
    statement="FALSE TWIN: E[f^p] = E[f_k^p]: the full output, bypassing connections kept, in place of f_(k)",
    draw=matrix_cases(st.one_of(littwin_resnets(), littwin_densenets(min_depth=2)), pathsum.bypassed_matrices),
    measure=path_sum_moments(lambda spec, matrix: spec),
    n_draws=Sizes(quick=10_000, standard=40_000, paper=100_000),
    n_examples=Sizes(quick=3, standard=10, paper=30),
)
