"""Littwin, Galanti & Wolf (UAI 2021), Thm 4 (Eq. 17-18) and Fig. 3a: DenseNet eta does not grow with depth.

Statement: max[1, C1 xi / (L log(L)^2)] <= eta <= xi = exp(C2/n)(1 + O(1/n)), with neither L nor
alpha in xi. Reading: log eta has an L-free bound C2/n, so its slope in L/n is ~0; tested for every
alpha drawn. (At finite n, log eta is *not* constant in alpha: measured n = 48, L = 4: 0.089, 0.128,
0.206, 0.294 at alpha = 0.05, 1, 4, 64 - it saturates, consistent with an alpha-free bound, so no
equivalence on the alpha slope is claimed.) L = 1 has no skip connection and is left out.
Drawn: width n in 32..64, alpha in [0.25, 4], depth L = 2 and 8, one unit input. Estimated: log eta
per L (exact sampler, float64, delta-method SE); the average rate n (log eta(8) - log eta(2)) / 6
(engine.moments.chord_slope; log eta saturates in L, so a WLS line's lack of fit would blur it).
Decided: rate within +-0.5 (13% of the vanilla rate ~3.8), alpha = 0.01. Power: 6,000 draws give
se(rate) ~ 0.03-0.05 (measured 0.0-0.2), so support holds with power > 0.99 and a rate of 1 is refuted.
False twin: DenseNet eta grows with depth at rate >= 1 in L/n.
"""

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, within
from engine.moments import chord_slope, kernel_entries, log_eta_points
from models.strategies_eta import SpecSweep, densenet_depth_sweeps


def densenet_depth_slope(sweep: SpecSweep, mc: MonteCarlo) -> Estimates:
    """Average rate of log eta in L/n from L = 2 to L = 8 (one comparison)."""
    points = log_eta_points(kernel_entries(sweep.specs, sweep.inputs, mc), [f"L={s.depth}" for s in sweep.specs])
    first = sweep.specs[0]
    return chord_slope(sweep.design, points, f"dlog eta/d(L/n) n={first.width} alpha={first.alpha:.2f}")


DEPTH_FREE = Claim(
    id="littwin2021.thm4.depth-invariance.densenet",
    statement="log eta of a DenseNet does not grow with depth L (slope in L/n within +-0.5), for any alpha",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 4 Eq. 17-18",
    draw=densenet_depth_sweeps(depths=(2, 8)),
    measure=densenet_depth_slope,
    prediction=0.0,
    rule=within(0.5, quantity="dlog eta/d(L/n)"),
    n_draws=Sizes(quick=6_000, standard=20_000, paper=60_000),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

DEPTH_FREE_GROWS = DEPTH_FREE.twin(
    id="littwin2021.thm4.depth-invariance.densenet.twin-grows",
    statement="FALSE TWIN: log eta of a DenseNet grows with depth at rate >= 1 in L/n",
    prediction=1.0,
    rule=at_least(quantity="dlog eta/d(L/n)"),
)
