"""Hanin & Nica (ICLR 2020, arXiv 1909.05989), Thm 1, mean: E[K_N(x, x)] is linear in the depth d and free of
the widths, each layer adding a weight term ||x||^2 / n_0 and a bias term (their d (1/2 + ||x||^2 / n_0)).

Setting (``models.strategies_hanin_nica``): ReLU net, He initialisation, every weight and bias trained (first
and last layers included), biases starting at zero; NTK parameterisation of the weights. Our bias term is 1 per
layer (the NTK of the bias parameter itself); Hanin & Nica's 1/2 is a normalisation of b (see SOURCES.md).
Drawn: 1..4 hidden layers of per-layer widths 24..48 (beta <= 1/6), n_0 in 4..16, one input with
||x||^2 / n_0 in [0.5, 2].
Estimated: per parameter group (each W^j and each b^j), mean over draws of its NTK term divided by its
prediction (||x||^2 / n_0 for a weight layer, 1 for a bias), SE = sd / sqrt(B) / prediction.
Decided: each ratio within 1 +- 0.05 (``within``; refuted by Holm over all groups, supported when every
TOST is), alpha = 0.01. W^1's and b^1's ratios are the same number (the input is fixed): |delta^1|^2.
Power: with 16,000 draws each ratio's SE is <= 0.009 (the terms' relative sd is <= 1.1 at beta <= 1/6); the
deep terms are right-skewed, so their sample means fall 2 SE low now and then (10,000 draws and a 0.04 margin
left 2 of 5 seeds inconclusive at 0.979, 0.981; 200,000 draws of such a net: every ratio 1.000 +- 0.003):
a true ratio 3 SE off still passes (0.027 + 2.33 x 0.009 < 0.05); a 5% error is refuted with power ~0.5,
a 7% one with power > 0.99.
False twin: the standard-parameterisation reading (derivative in W = s Z, not Z): weight layer j's term
n_{j-1} ||x||^2 / n_0, growing with the width; off by a factor n_{j-1} >= 4.
"""

from functools import partial

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, within
from estimators import sample_ntk
from models.strategies_hanin_nica import BIAS_STD, HaninNicaCase, hanin_nica_nets, hidden_widths


def group_means_over_prediction(case: HaninNicaCase, mc: MonteCarlo, reading: str = "ntk") -> Estimates:
    """mean(K_A) / E K_A predicted, for every weight and bias group A (one comparison each)."""
    (spec,) = case.specs
    draws = sample_ntk(spec, case.inputs, mc.n_draws, mc.seed, sampler=mc.sampler, device=mc.device)
    terms = draws.per_matrix_gram[:, :, 0, 0].numpy()
    fan_ins = (spec.input_shape[0], *hidden_widths(spec))
    predictions = []
    for name in draws.matrix_names:
        if name.endswith(".b"):
            predictions.append(BIAS_STD**2)
        else:
            layer = int(name[1:]) - 1
            predictions.append(case.ratio * (fan_ins[layer] if reading == "standard" else 1.0))
    scaled = terms / np.asarray(predictions)
    se = scaled.std(axis=0, ddof=1) / np.sqrt(len(scaled))
    return Estimates(scaled.mean(axis=0), se, float(len(scaled) - 1), draws.matrix_names, len(scaled))


MEAN = Claim(
    id="hanin-nica2020.thm1.mean",
    statement="E[K_N(x,x)] = sum over layers of ||x||^2/n_0 (weights) + 1 (bias): linear in depth, width-free",
    citation="Hanin & Nica, Finite Depth and Width Corrections to the Neural Tangent Kernel, ICLR 2020, Thm 1",
    draw=hanin_nica_nets(max_hidden=4),
    measure=group_means_over_prediction,
    prediction=1.0,
    rule=within(0.05, quantity="E K_A / predicted"),
    n_draws=Sizes(quick=16_000, standard=40_000, paper=100_000),
    n_examples=Sizes(quick=3, standard=10, paper=30),
)

MEAN_STANDARD = MEAN.twin(
    id="hanin-nica2020.thm1.mean.twin-standard-parameterization",
    statement="FALSE TWIN: weight layer j's NTK term has mean n_{j-1} ||x||^2/n_0 (standard-parameterisation reading)",
    measure=partial(group_means_over_prediction, reading="standard"),
)
