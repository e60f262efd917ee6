"""EMPIRICAL (Huang et al., NeurIPS 2020, Review 1 on BatchNorm; Thm 5 / THEOREMS.md B3 without it): with a
BatchNorm in every residual branch, the normalised NTK of a finite ResNet (alpha = 1/L) still approaches the
ResNet-1 kernel as depth grows, but far more slowly than without BatchNorm.

Reading: ``models.presets_review.batchnorm_resnet`` (gamma = 1; x_l = x_{l-1} + alpha V_l q(BN(W_l x_{l-1} /
sqrt n)) / sqrt n, A and v fixed), the inputs of ``theorems/huang_review_batchnorm_degenerates.py`` (k = 8).
Why slowly: a BatchNorm branch outputs O(1) per coordinate whatever the trunk's scale, while the trunk
x_0 = A x / sqrt(d) of a unit input has |x_0|^2 / n = 1/d (d = 10 here); the trunk's relative drift is
then ~ d alpha^2 L = d / L instead of Huang's alpha^2 L, and the branch kernels, which see the drifted
trunk, approach ResNet-1's only once L >> d. No theorem covers it, hence EMPIRICAL.
Drawn: width 128..160, the inputs as above. Estimated (float64, dense sampler): the mean of each network's
normalised NTK over the 28 pairs (``estimators.finite_width.normalised_offdiagonals``) at L = 1 (ResNet-1,
alpha = 1), 16 and 64; the RMS over pairs of the distance to ResNet-1's, d_L; the ratio d_64 / d_16 with a
bootstrap standard error (draws resampled within each depth).
Decided: d_64 / d_16 <= 3/4 (one-sided, family-wise alpha = 0.01): the distance to ResNet-1 shrinks.
Measured (width 128, 40 draws; max over pairs): 0.27, 0.20, 0.092, 0.034 at L = 4, 16, 64, 256 (about
L^-0.7 from 64 to 256), the non-monotone start (0.19 at L = 2) included; without BatchNorm the distance is
<= 0.01 already at L = 2. Ratio d_64 / d_16 measured 0.45-0.5, standard error ~0.05.
False twin ("the BatchNorm FFNet approaches its depth-1 kernel too"): the same measure on
``batchnorm_ffnet``: it degenerates to a constant plus nugget by L = 4, so its distance to depth 1 stays
at ~0.3 and the ratio is ~1 (measured 0.89, SE 0.085 at 32 draws; 96 draws are spent to refute it).
Monte Carlo size by predicted power (``engine.power``, quick, seed 0): the twin's 0.80 at 96 draws became 0.999
at 192.
"""

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, at_most
from engine.moments import bootstrap_statistic
from models.strategies_review import DepthSweepCase, batchnorm_cases
from theorems.huang_review_batchnorm_degenerates import normalised_draws

DEPTHS = (1, 16, 64)


def rms_distance(reference: np.ndarray, draws: np.ndarray) -> float:
    """RMS over pairs of the difference of the mean normalised NTKs of two draw sets (B, pairs)."""
    return float(np.sqrt(np.mean((draws.mean(axis=0) - reference.mean(axis=0)) ** 2)))


def distance_ratio(case: DepthSweepCase, mc: MonteCarlo) -> Estimates:
    """d_deep / d_mid: RMS distances of the normalised NTK at the case's last two depths to the first depth's."""
    first, mid, deep = (normalised_draws(case, depth, mc) for depth in case.depths)
    label = f"distance to depth {case.depths[0]}: d_{case.depths[2]} / d_{case.depths[1]}"
    return bootstrap_statistic(
        [first, mid, deep], lambda a, b, c: rms_distance(a, c) / rms_distance(a, b), mc.seed, label
    )


TOWARD_RESNET1 = Claim(
    id="huang2020.review.batchnorm-resnet-approaches-resnet1",
    statement="EMPIRICAL: with BatchNorm in every branch, the normalised NTK of a finite ResNet (alpha = 1/L) "
    "approaches ResNet-1's: its RMS distance at depth 64 is <= 3/4 of that at depth 16",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Review 1 (BatchNorm); Thm 5 (ResNet) without it",
    draw=batchnorm_cases("batchnorm-resnet", DEPTHS, min_width=128, max_width=160),
    measure=distance_ratio,
    prediction=0.75,
    rule=at_most(quantity="distance to the depth-1 normalised NTK, depth 64 over depth 16"),
    n_draws=Sizes(quick=32, standard=100, paper=400),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)

TOWARD_RESNET1_FFNET = TOWARD_RESNET1.twin(
    id="huang2020.review.batchnorm-resnet-approaches-resnet1.twin-ffnet",
    statement="FALSE TWIN: the BatchNorm FFNet's normalised NTK approaches its depth-1 kernel as depth grows",
    draw=batchnorm_cases("batchnorm-ffnet", DEPTHS, min_width=128, max_width=160),
    n_draws=Sizes(quick=192, standard=200, paper=400),  # deep BatchNorm FFNets fluctuate more: SE ~0.05 at 96
)
