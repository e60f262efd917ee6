"""Littwin, Galanti & Wolf (UAI 2021), Thm 2.1 at the output layer, for any composed architecture.

Statement: for the readout f = W^out h / sqrt(n) (+ bias_std b) of any network at initialisation, with
W^out, b i.i.d. N(0, 1) and independent of h, E||J^out(x)||^2 = E[f(x)^2], exactly at any width: the
reduced network of the output matrix is the network itself (their Definition 1), and
E[f^2] = E||h||^2 / n + bias_std^2 = E||df/dW^out||^2 + E||df/db||^2. The theorem is stated for their
vanilla/ResNet/DenseNet; at k = out its proof uses only the readout's independence, so we check it on
convolutions, LayerNorm, BatchNorm (inputs coupled), attention, residual and concatenation blocks.
A new architecture here is one strategy argument: no estimator code (``sample_ntk``'s dense path).

Drawn: ``composed_networks`` (1..3 blocks of dense / conv / layer norm / batch norm (each with or without
its affine gain and shift) / attention / residual / concat, widths 2..6, either parameterisation and bias
inside), readout Dense(1) under the
NTK parameterisation with or without bias; 1..3 unit inputs (2..3 with BatchNorm). Estimated: per draw
and input, the readout's squared Jacobian norm (weight plus bias) and f^2; 200,000 draws (float64).
Decided: RatioOfMeans == 1 per input, margin +-10%, Holm / TOST family-wise alpha = 0.01.
Power: at 40,000 draws the simultaneous intervals were +-0.023..0.026 (SE about 0.007; quick, seed 0: 8
examples with BatchNorm, conv, concat and residual blocks, estimates 0.992-1.008), but f^2 and ||J||^2 are
heavy-tailed for some drawn blocks: the power table's seeds 1-20 averaged a predicted power of 0.92 (seed
14 inconclusive at 0.948, SE 0.026; seed 5 at 0.51). At 200,000 draws those seeds predict 0.99 (SE 0.014-
0.016; seeds 1-20: 0.99 averaged, 20/20), and a 10% departure is refuted with probability > 0.99. Before
the measure summed a concatenation readout's blocks it read 0.71.
False twin: E||J^out||^2 = 2 E[f^2].
"""

import numpy as np

from engine import Claim, MonteCarlo, PairedSample, RatioOfMeans, Sizes
from estimators import sample_ntk
from estimators.infinite_width import readout_matrices
from models.strategies import NetworkCase
from models.strategies_composed import composed_cases, composed_networks


def readout_jacobian_norm_vs_output(case: NetworkCase, mc: MonteCarlo) -> PairedSample:
    """Per draw and input: ||df/dW^out||^2 + ||df/db^out||^2 (numerator) and f^2 (denominator)."""
    draws = sample_ntk(case.spec, case.inputs, mc.n_draws, mc.seed, device=mc.device)
    readout = [draws.matrix_names.index(name) for name in readout_matrices(case.spec)]  # weight blocks and bias
    norms = draws.squared_jacobian_norms[:, readout].sum(dim=1).numpy()
    labels = tuple(f"x{i + 1}" for i in range(norms.shape[1]))
    return PairedSample(norms, np.asarray(draws.outputs.numpy() ** 2), labels)


READOUT_DUALITY = Claim(
    id="littwin2021.thm2.duality.readout.composed",
    statement="E||J^out(x)||^2 = E[f(x)^2] for the readout of any composed network (exact at any width)",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 2.1 (k = out)",
    draw=composed_cases(composed_networks(readout_parameterization="ntk")),
    measure=readout_jacobian_norm_vs_output,
    prediction=1.0,
    rule=RatioOfMeans(margin=0.10),
    n_draws=Sizes(quick=200_000, standard=400_000, paper=1_000_000),
)

READOUT_DUALITY_TWICE = READOUT_DUALITY.twin(
    id="littwin2021.thm2.duality.readout.composed.twin-factor2",
    statement="FALSE TWIN: E||J^out(x)||^2 = 2 E[f(x)^2] for the readout of any composed network",
    prediction=2.0,
)
