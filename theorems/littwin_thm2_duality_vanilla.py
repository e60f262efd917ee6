"""Littwin, Galanti & Wolf (UAI 2021), Thm 2 part 1, for the vanilla ReLU net.

Statement: for every weight matrix W^k, E_w ||J^k(x)||^2 = E_w[f_(k)(x; w)^2], exact at any
finite width and depth. For a vanilla net the reduced net is the net itself (their remark after
Definition 1), so E ||df/dW^k||_F^2 = E[f^2] for all L + 2 matrices.

Drawn: depth L in 1..6, input dim 1..8, per-layer widths 8..48 with sum 1/n_l <= 0.3, one
unit-norm input. Estimated: per draw, ||J^k||^2 for every k (factorised NTK, float64) and f^2.
Decided: ratio E||J^k||^2 / E f^2 == 1 per matrix; equivalence margin +-10%; family-wise
alpha = 0.01 over all (example, matrix) pairs (about 46 in quick). Power: with 40,000 draws per
example the measured standard error of each ratio is 0.008-0.012 (quick, seed 0), so a 10%
discrepancy in any single comparison is refuted (Holm) with probability > 0.99, and a true claim
passes every TOST unless its estimate strays by more than about 0.07.
False twin: E||J^k||^2 = 2 E[f^2].
ResNets, DenseNets and the reduced net f_(k): ``littwin2021.thm2.duality`` (theorems/littwin_thm2_duality.py).
"""

from engine import Claim, MonteCarlo, PairedSample, RatioOfMeans, Sizes
from estimators import sample_ntk
from models.strategies import NetworkCase, single_input_cases, vanilla_nets


def squared_jacobian_norms_vs_output(case: NetworkCase, mc: MonteCarlo) -> PairedSample:
    """Per draw: ||J^k(x)||^2 for every matrix k (numerator) and f(x)^2 (denominator)."""
    draws = sample_ntk(case.spec, case.inputs, mc.n_draws, mc.seed, sampler=mc.sampler, device=mc.device)
    jacobian_norms = draws.squared_jacobian_norms[:, :, 0].numpy()
    output_squared = (draws.outputs[:, :1] ** 2).expand(-1, jacobian_norms.shape[1]).numpy()
    return PairedSample(jacobian_norms, output_squared, draws.matrix_names)


DUALITY = Claim(
    id="littwin2021.thm2.duality.vanilla",
    statement="E||J^k||^2 = E[f^2] for every weight matrix k of a vanilla ReLU net (exact, any width/depth)",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 2.1",
    draw=single_input_cases(vanilla_nets()),
    measure=squared_jacobian_norms_vs_output,
    prediction=1.0,
    rule=RatioOfMeans(margin=0.10),
    n_draws=Sizes(quick=40_000, standard=100_000, paper=400_000),
)

DUALITY_TWICE = DUALITY.twin(
    id="littwin2021.thm2.duality.vanilla.twin-factor2",
    statement="FALSE TWIN: E||J^k||^2 = 2 E[f^2] for every weight matrix k of a vanilla ReLU net",
    prediction=2.0,
)
