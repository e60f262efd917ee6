"""Littwin, Galanti & Wolf (UAI 2021), Thm 3 (Eq. 16) and Fig. 4a: eta grows with branch depth m,
at most like exp(5m/n).

Statement: log eta increases with the branch depth m (Fig. 4a) and, with S = sum alpha_l/(1+alpha_l)
held fixed, the bound's rate in m is 5/n per unit of m. Reading: alpha_l = 1/L (Remark 1, S < 1),
where the depth term cannot make up the difference; at S >= 2 the measured rate exceeds 5/n (the
constant C itself grows with m; see the Thm 3 bounds claim), so S is kept small.
Drawn: width n in 32..64, L in 2..6 blocks, m = 1 and 4, one unit input. Estimated: log eta per m
(exact sampler, float64, delta-method SE); the average rate (n log eta(4) - n log eta(1)) / 3
(engine.moments.chord_slope: log eta is convex in m, so a line's lack of fit would blur a WLS slope).
Decided: the slope in [0, 5] (InRegion, no widening): refuted if shown outside, supported if shown
inside; alpha = 0.01. Measured slopes are 1.4-2.1 (quick, seeds 0, 1) with se(rate) ~ 0.07-0.1 at
6,000 draws, so both ends are resolved with power > 0.99.
False twin: eta does not grow with m (slope <= 0).
"""

from engine import Claim, Estimates, InRegion, MonteCarlo, Sizes, at_most
from engine.moments import chord_slope, kernel_entries, log_eta_points
from models.strategies_eta import SpecSweep, resnet_branch_sweeps


def branch_depth_slope(sweep: SpecSweep, mc: MonteCarlo) -> Estimates:
    """Average rate of n log eta in the branch depth m from m = 1 to 4 (one comparison)."""
    n = sweep.specs[0].width
    points = log_eta_points(kernel_entries(sweep.specs, sweep.inputs, mc), [f"m={m:g}" for m in sweep.design])
    return chord_slope(sweep.design, points, f"d(n log eta)/dm n={n} L={sweep.specs[0].blocks}", scale=n)


BRANCH_DEPTH = Claim(
    id="littwin2021.thm3.branch-depth.resnet",
    statement="log eta of a ResNet grows with branch depth m at a rate in [0, 5/n] per unit of m (alpha_l = 1/L)",
    citation="Littwin, Galanti & Wolf, On Random Kernels of Residual Architectures, UAI 2021, Thm 3 Eq. 16, Fig. 4a",
    draw=resnet_branch_sweeps(branch_depths=(1, 4)),
    measure=branch_depth_slope,
    prediction=0.0,
    rule=InRegion(0.0, 5.0, quantity="d(n log eta)/dm"),
    n_draws=Sizes(quick=6_000, standard=20_000, paper=60_000),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)


BRANCH_DEPTH_FLAT = BRANCH_DEPTH.twin(
    id="littwin2021.thm3.branch-depth.resnet.twin-flat",
    statement="FALSE TWIN: eta of a ResNet does not grow with the branch depth m",
    rule=at_most(quantity="d(n log eta)/dm"),
)
