"""Littwin, Galanti & Wolf (UAI 2021), Thm 4 (Eq. 17-18): a DenseNet with scale alpha has
max[1, C1 xi / (L log(L)^2)] <= eta <= xi = exp(C2/n)(1 + O(1/n)), with no L in xi.

Reading. The theorem fixes the DenseNet (its alpha) and then asserts C1, C2: for each alpha, eta is
bounded uniformly in L. That is claim 1: the rate of n log eta per layer over L = 16..64 (L/n up to 2)
is ~0, for alpha in [0.25, 4] (the default 0.5 inside). Below L ~ 4 alpha log eta still rises (n log
eta = 9.9, 13.4, 15.2, 17.5, 18.3 at L = 4..64 doubling, alpha = 4, n = 48; flat at alpha <= 1): a
bounded function may rise before it saturates, so the late range is the test of boundedness.
The prose's "alpha absent in the bound" (one C2 for all alpha) does not hold at finite width: the
saturated n log eta rises with alpha (5.0, 7.5, 11.0, 18.3 at alpha = 0.25, 1, 2, 4; L = 64, n = 48),
and at alpha >= 64 the net is vanilla-like up to L ~ alpha (n log eta = 7.5, 27.5, 85.7 at L = 2, 8,
32). Claim 2 records that (slope of n log eta(L = 64) in log alpha > 0); its twin is the prose reading.
Estimated: log eta per net (exact sampler, float64, delta-method SE); chord slopes (engine.moments).
Claim 1: d(n log eta)/dL = d log eta / d(L/n) within +-0.25 (a 15th of the vanilla rate 3.7: over
L/n = 1/3..4/3 a vanilla net's eta grows 40-fold, this allows 1.3-fold). Power: 6,000 draws give
se ~0.013 (measured rates 0.00-0.07), support with power > 0.99; the twin (rate >= 1) is refuted.
Claim 2: alpha in [0.25, 0.5] against [2, 4]; slope ~4.8 per e-fold, se ~0.2 at 6,000 draws. Its twin
(alpha-free: slope within +-0.5 per e-fold, i.e. at most ~1.4 in n log eta over the range, the unit
(1 + O(1/n)) slack of the Thm 3 bounds) is refuted with power > 0.99. alpha = 0.01 throughout.
"""

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, within
from engine.moments import chord_slope, kernel_entries, log_eta_points
from models.strategies_eta import SpecSweep, densenet_alpha_sweeps, densenet_depth_sweeps

CITATION = "Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 4 Eq. 17-18"
SIZES = {"n_draws": Sizes(quick=6_000, standard=20_000, paper=60_000), "n_examples": Sizes(2, 8, 25)}
TWIN_DRAWS = Sizes(quick=2_000, standard=6_000, paper=20_000)  # twins off by > 10 SE at 2,000 draws


def chord(sweep: SpecSweep, mc: MonteCarlo, scale_by_width: bool) -> Estimates:
    """Chord slope of log eta (or n log eta) over the sweep's design (L / n, or log alpha)."""
    first, last = sweep.specs[0], sweep.specs[-1]
    points = log_eta_points(kernel_entries(sweep.specs, sweep.inputs, mc), [f"L={s.depth}" for s in sweep.specs])
    label = f"n={first.width} L={first.depth}..{last.depth} alpha={first.alpha:.2f}..{last.alpha:.2f}"
    return chord_slope(sweep.design, points, label, scale=first.width if scale_by_width else 1.0)


def depth_rate(sweep: SpecSweep, mc: MonteCarlo) -> Estimates:
    return chord(sweep, mc, scale_by_width=False)


def alpha_rate(sweep: SpecSweep, mc: MonteCarlo) -> Estimates:
    return chord(sweep, mc, scale_by_width=True)


DEPTH_FREE = Claim(
    id="littwin2021.thm4.depth-invariance.densenet",
    statement="for each alpha in [0.25, 4], DenseNet log eta stops growing with L: slope in L/n over L = 16..64 "
    "within 0.25",
    citation=CITATION,
    draw=densenet_depth_sweeps(depths=(16, 64)),
    measure=depth_rate,
    prediction=0.0,
    rule=within(0.25, quantity="dlog eta/d(L/n)"),
    **SIZES,
)

DEPTH_FREE_GROWS = DEPTH_FREE.twin(
    id="littwin2021.thm4.depth-invariance.densenet.twin-grows",
    statement="FALSE TWIN: DenseNet log eta keeps growing with depth at rate >= 1 in L/n over L = 16..64",
    prediction=1.0,
    rule=at_least(quantity="dlog eta/d(L/n)"),
    n_draws=TWIN_DRAWS,
)

ALPHA_DEPENDENT = Claim(
    id="littwin2021.thm4.alpha-dependence.densenet",
    statement="EMPIRICAL reading of Thm 4: at L = 64 DenseNet n log eta rises with alpha (C2 is per-alpha, "
    "not alpha-free)",
    citation=CITATION + " (quantifiers of Thm 4; contradicts the prose's alpha-free remark at finite width)",
    draw=densenet_alpha_sweeps(),
    measure=alpha_rate,
    prediction=0.0,
    rule=at_least(quantity="d(n log eta)/d log alpha"),
    **SIZES,
)

ALPHA_FREE = ALPHA_DEPENDENT.twin(
    id="littwin2021.thm4.alpha-dependence.densenet.twin-alpha-free",
    statement="FALSE TWIN (the prose's reading): DenseNet n log eta at L = 64 is alpha-free (slope in log alpha "
    "within 0.5)",
    rule=within(0.5, quantity="d(n log eta)/d log alpha"),
    n_draws=TWIN_DRAWS,
)
