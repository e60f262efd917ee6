"""Littwin, Galanti & Wolf (UAI 2021), Thm 3 (Eq. 16) and Fig. 3a: with sum_l alpha_l = O(1) the
ResNet's eta does not grow with the number of blocks L; with alpha_l constant it does.

Statement: xi = exp(5m/n + (C/n) sum_l alpha_l/(1+alpha_l)); with alpha_l = 0.1/L (their default,
sum = 0.1) the exponent is bounded in L, so log eta stays flat; with alpha_l = alpha it grows
~ C alpha/(1+alpha) L/n. Drawn: width n in 32..64, branch depth 1..2, one unit input; alpha_l = 0.1/L
at L = 1, 4, 16, 64 blocks (L/n up to 2), or alpha constant in [0.5, 1] at L = 1, 2, 4, 8 (log eta
<= 0.7: deeper, K's tail makes E[K^2] costly). Estimated: log eta per L (exact sampler, float64,
delta-method SE); slope of log eta on L/n = d(n log eta)/dL: WLS over the four depths for the flat
claim (engine.moments.slope), the chord L = 1 -> 8 for the growth claim (log eta is convex in L there, so
a line's lack of fit would leave a t(2) interval; engine.moments.chord_slope).
Flat claim: slope within +-0.1. Margin: the same first block with alpha held at 0.1 instead of
decaying grows at 0.25 (m = 1) to 0.31 (m = 2) per block (n = 32, 48, L = 1..64), a vanilla net at
3.7; the margin is a third of the former. Measured slopes are |0.00x| with se ~0.001 at 6,000 draws,
so support has power > 0.99. Growth claim: chord slope > 0 (at_least); measured 0.7-1.8, se <= 0.1.
False twins: with alpha_l = 0.1/L eta grows at rate >= 0.2 (as with alpha_l = 0.1 held constant), and
with alpha constant eta does not grow (slope <= 0). alpha = 0.01.
"""

from functools import partial

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, at_most, within
from engine.moments import chord_slope, kernel_entries, log_eta_points, slope
from models.strategies_eta import SpecSweep, resnet_depth_sweeps


def depth_slope(sweep: SpecSweep, mc: MonteCarlo, chord: bool = False) -> Estimates:
    """Slope of log eta on L/n over the sweep's block counts (one comparison): WLS, or the chord."""
    points = log_eta_points(kernel_entries(sweep.specs, sweep.inputs, mc), [f"L={s.blocks}" for s in sweep.specs])
    first = sweep.specs[0]
    label = f"dlog eta/d(L/n) n={first.width} m={first.branch_depth}"
    return (chord_slope if chord else slope)(sweep.design, points, label)


SIZES = {"n_draws": Sizes(quick=6_000, standard=20_000, paper=60_000), "n_examples": Sizes(2, 8, 25)}
CITATION = "Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 3 Eq. 16, Fig. 3a"

DEPTH_INVARIANT = Claim(
    id="littwin2021.thm3.depth-invariance.resnet",
    statement="with alpha_l = 0.1/L, log eta of a ResNet does not grow with L = 1..64 (slope in L/n within +-0.1)",
    citation=CITATION,
    draw=resnet_depth_sweeps(constant_alpha=False, depths=(1, 4, 16, 64)),
    measure=depth_slope,
    prediction=0.0,
    rule=within(0.1, quantity="dlog eta/d(L/n)"),
    **SIZES,
)

DEPTH_INVARIANT_GROWS = DEPTH_INVARIANT.twin(
    id="littwin2021.thm3.depth-invariance.resnet.twin-grows",
    statement="FALSE TWIN: with alpha_l = 0.1/L, log eta of a ResNet grows with L/n at rate >= 0.2, "
    "as with alpha_l = 0.1",
    prediction=0.2,
    rule=at_least(quantity="dlog eta/d(L/n)"),
    n_draws=Sizes(quick=2_000, standard=6_000, paper=20_000),  # off by > 50 SE at 2,000 draws
)

CONSTANT_ALPHA = Claim(
    id="littwin2021.thm3.constant-alpha.resnet",
    statement="with alpha_l = alpha constant, log eta of a ResNet grows with the number of blocks L",
    citation=CITATION,
    draw=resnet_depth_sweeps(constant_alpha=True),
    measure=partial(depth_slope, chord=True),
    prediction=0.0,
    rule=at_least(quantity="dlog eta/d(L/n)"),
    **SIZES,
)

CONSTANT_ALPHA_FLAT = CONSTANT_ALPHA.twin(
    id="littwin2021.thm3.constant-alpha.resnet.twin-flat",
    statement="FALSE TWIN: with alpha_l = alpha constant, log eta of a ResNet does not grow with L",
    rule=at_most(quantity="dlog eta/d(L/n)"),
)
