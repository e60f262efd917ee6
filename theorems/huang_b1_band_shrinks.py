"""Huang et al. (NeurIPS 2020), Thms 3-4 (THEOREMS.md B1, reconstructed): the finite-width GPK and NTK
concentrate around the analytic kernels at rate width^-1/2 (|K_m - K_inf| <= eps w.p. 1 - delta once
m >= poly(L, 1/eps, log 1/delta); the fluctuations are O(m^-1/2) by the CLT).

Reading: ``HuangFFNet`` / ``HuangResNet`` as specified (A, v fixed). Drawn: kind, depth 1..4, gamma in
[1/2, 1], input dim 2..4, two unit inputs (|cos| <= 0.95; input dim 1 would allow x' = -x, where the FFNet
NTK is exactly 0 at every width). Estimated (float64, exact sampler): for widths m in {128, 256, 512, 1024},
8 disjoint groups of 200 draws each; per group the 5th-95th percentile band width of GPK(x,x), GPK(x,x'),
NTK(x,x), NTK(x,x') (``estimators.finite_width.band_widths``); the OLS slope of log band width on log m
over the 32 independent rows (statsmodels, 30 dof). Decided: slope within -1/2 +- 0.15 (TOST, family-wise
alpha = 0.01). Power: a sample quantile of 200 draws is noisy, and the measured standard error of a slope
is 0.02 at 1,600 draws per width (estimates -0.44..-0.53 over 3 seeds x 4 examples x 4 entries); with it
a margin of 0.1 would leave a true claim inconclusive in about one run in five, so the margin is 0.15:
m^-0.35 and m^-0.65 are refuted, and so is m^-1 (the twin) by 25 standard errors. Finite-size
corrections to the band are O(L / m) <= 1/32 relative, a slope bias of about 0.02 on this grid.
False twin: the band shrinks like 1/m (slope -1), the rate of the mean's finite-width bias, not of the
fluctuations.
"""

import dataclasses

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, ols_slope, within
from engine.seeding import derive_seed
from estimators import sample_ntk
from estimators.finite_width import ENTRY_LABELS, band_widths, kernel_entries
from models.strategies import NetworkCase, two_input_cases
from models.strategies_huang import huang_nets

WIDTHS = (128, 256, 512, 1024)
GROUPS = 8


def band_width_slopes(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """Per entry: OLS slope of log(q_0.95 - q_0.05) on log width, ``GROUPS`` replicate rows per width."""
    log_width, log_band = [], []
    for width in WIDTHS:
        spec = dataclasses.replace(case.spec, width=width)  # type: ignore[type-var]
        seed = derive_seed(mc.seed, "width", width)
        draws = sample_ntk(spec, case.inputs, mc.n_draws, seed, sampler=mc.sampler, device=mc.device)
        log_band.append(np.log(band_widths(kernel_entries(draws), GROUPS)))
        log_width.append(np.full(GROUPS, np.log(width)))
    x, y = np.concatenate(log_width), np.concatenate(log_band)
    return Estimates.concat([ols_slope(x, y[:, c], f"{label}: band slope") for c, label in enumerate(ENTRY_LABELS)])


SHRINKS = Claim(
    id="huang2020.b1.band-shrinks",
    statement="the 5-95% band of the finite-width GPK and NTK of Huang nets shrinks like width^-1/2",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thms 3-4; THEOREMS.md B1",
    draw=two_input_cases(huang_nets(max_depth=4, min_width=128, max_width=128, min_input_dim=2)),  # width: WIDTHS
    measure=band_width_slopes,
    prediction=-0.5,
    rule=within(0.15, quantity="slope of log band width on log width"),
    n_draws=Sizes(quick=1_600, standard=6_400, paper=25_600),
    n_examples=Sizes(quick=2, standard=8, paper=30),
)

SHRINKS_LINEAR = SHRINKS.twin(
    id="huang2020.b1.band-shrinks.twin-rate-1",
    statement="FALSE TWIN: the 5-95% band of the finite-width GPK and NTK shrinks like width^-1",
    prediction=-1.0,
)
