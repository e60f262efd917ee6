"""Littwin, Galanti & Wolf (UAI 2021), Eq. 4 (after Hanin & Nica 2020): vanilla ReLU nets have
V = eta - 1 ~ exp(C L/n) - 1 with C > 0, and log eta is linear in L/n near 0.

Reading: log eta = a + C L/n + q (L/n)^2 on 0 < L/n <= 0.12 (eta is heavy-tailed beyond: finite
samples underestimate E[K^2]); C is fitted, not asserted (our Monte Carlo gives ~3.7-3.9, not 5).
Drawn: width n in 50..100, depth L = round(t n) for t = 0.02..0.12 (6 points), one unit input.
Estimated: log eta per depth (exact sampler, float64: V is a difference of O(1) moments;
delta-method SE); WLS line (exponent claim), and for the linearity claim the quadratic through three
depths t = 0.02, 0.06, 0.10 (engine.moments.interpolating_polynomial: known variances, no residual
dof to inflate; a WLS quadratic through 5-6 points had t(2-3) intervals too wide to decide).
Exponent claim: C > 0 (at_least), the estimate and its interval are the fitted C. Power: se(C) ~ 0.15
with 8,000 draws at C ~ 3.8: any C > 0.5 is shown positive with power > 0.99.
Linearity claim: the intercept a (log eta at L = 0, ~2/n from the input and output layers) and the
quadratic's contribution q t_max^2 at t_max = 0.10 are each within +-0.06 of 0 in log eta (vs the
linear part C t_max ~ 0.38: 16%). Power: se ~ 0.01-0.02 with 16,000 draws.
False twins: C <= 0 (eta does not grow with depth); V itself (not log eta) linear in L/n (its
curvature C^2 t_max^2 / 2 ~ 0.07-0.1 is refuted).
"""

from functools import partial

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, at_most, within
from engine.moments import interpolating_polynomial, kernel_entries, log_eta_points, normalised_variance, slope
from models.strategies_eta import SpecSweep, vanilla_ratio_sweeps


def exponent(sweep: SpecSweep, mc: MonteCarlo) -> Estimates:
    """C = d log eta / d(L/n) by a WLS line through the sweep (one comparison)."""
    points = log_eta_points(kernel_entries(sweep.specs, sweep.inputs, mc), [f"L={s.depth}" for s in sweep.specs])
    return slope(sweep.design, points, f"C n={sweep.specs[0].widths[0]}")


def nonlinearity(sweep: SpecSweep, mc: MonteCarlo, of: str = "log eta") -> Estimates:
    """Intercept a and curvature q t_max^2 of the quadratic of ``of`` (log eta or V) through 3 depths."""
    kernels = kernel_entries(sweep.specs, sweep.inputs, mc)
    labels = [f"L={s.depth}" for s in sweep.specs]
    measure = log_eta_points if of == "log eta" else lambda k, names: Estimates.concat(
        [normalised_variance(x, (name,)) for x, name in zip(k, names, strict=True)])
    fit = interpolating_polynomial(sweep.design, measure(kernels, labels))
    t_max = max(sweep.design)
    scale = np.array([1.0, t_max**2])
    return Estimates(fit.estimate[[0, 2]] * scale, fit.standard_error[[0, 2]] * scale, fit.dof[[0, 2]],
                     (f"{of} intercept", f"{of} curvature q t_max^2"), fit.n_samples)


CITATION = "Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Eq. 4 (Hanin & Nica 2020)"

EXPONENT = Claim(
    id="littwin2021.eq4.exponent.vanilla",
    statement="vanilla ReLU nets: log eta = C L/n + o(L/n) with C > 0 (C fitted and reported)",
    citation=CITATION,
    draw=vanilla_ratio_sweeps(),
    measure=exponent,
    prediction=0.0,
    rule=at_least(quantity="C"),
    n_draws=Sizes(quick=4_000, standard=20_000, paper=60_000),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

EXPONENT_NONPOSITIVE = EXPONENT.twin(
    id="littwin2021.eq4.exponent.vanilla.twin-nonpositive",
    statement="FALSE TWIN: vanilla ReLU nets have C <= 0 (eta does not grow with L/n)",
    rule=at_most(quantity="C"),
)

LINEAR = Claim(
    id="littwin2021.eq4.log-linear.vanilla",
    statement="vanilla ReLU nets: log eta is linear in L/n with intercept ~0 for L/n <= 0.10 (margin 0.06)",
    citation=CITATION,
    draw=vanilla_ratio_sweeps(ratios=(0.02, 0.06, 0.10)),
    measure=nonlinearity,
    prediction=0.0,
    rule=within(0.06, quantity="log eta deviation from C L/n"),
    n_draws=Sizes(quick=16_000, standard=40_000, paper=100_000),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

LINEAR_IN_V = LINEAR.twin(
    id="littwin2021.eq4.log-linear.vanilla.twin-linear-v",
    statement="FALSE TWIN: V = eta - 1 (not log eta) is linear in L/n with intercept ~0",
    measure=partial(nonlinearity, of="V"),
)
