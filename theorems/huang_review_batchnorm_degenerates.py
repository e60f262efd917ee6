"""EMPIRICAL (Huang et al., NeurIPS 2020, Review 1: "study whether [batchnorms] alter the predictions of the
theorems"; Thm 5 / THEOREMS.md B2 is about FFNets without it): with a BatchNorm after every hidden dense
layer, the normalised NTK of a finite FFNet still loses its dependence on the inputs with depth.

Reading: ``models.presets_review.batchnorm_ffnet`` (Huang's FFNet, A and v fixed, x_l = q(BN(W_l x_{l-1} /
sqrt n)), train-mode statistics over the k = 8 inputs of one network, no affine), unit inputs
``models.strategies_review.nugget_circle_inputs`` (angles spanning >= 2 of the half circle, nugget 0.4-0.7).
No theorem covers BatchNorm (its kernel couples the batch; Yang et al. 2019 find its forward Gram
attracted to a point where all pairs are alike), hence EMPIRICAL.
Drawn: width 160..256. Estimated (float64, dense sampler: BatchNorm couples the inputs): at depths 1 and
4, per draw each network's normalised NTK N_ij = K_ij / sqrt(K_ii K_jj) over the 28 pairs
(``estimators.finite_width.normalised_offdiagonals``); the spread D_L = SD over pairs of the mean N_ij;
the ratio D_4 / D_1 with a bootstrap standard error (draws resampled within each depth;
``engine.moments.bootstrap_statistic``). Monte Carlo noise adds to D_4 (upward: against the claim).
Decided: D_4 / D_1 <= 1/4 (one-sided, family-wise alpha = 0.01): three quarters of the spread is gone by
depth 4. Measured (width 256, 100 draws): D = 0.159, 0.062, 0.017, 0.011 at L = 1, 2, 4, 8 (ratio 0.11 at
L = 4, SE ~0.03); the off-diagonal values gather near -0.12, i.e. toward -1/(k - 1): a "constant plus
nugget" kernel as without BatchNorm (there the constant is 1/4), reached far faster (D_4 / D_1 = 0.58
without BatchNorm on circle inputs), while the NTK itself grows ~4x per layer (gradient explosion:
K(x, x) 1.5, 4.4, 18.5, 201 at L = 1, 2, 4, 8).
False twin ("BatchNorm ResNets degenerate too"): the same measure on ``batchnorm_resnet`` (gamma = 1):
measured D_4 / D_1 = 0.48 (SE ~0.04), so "<= 1/4" is refuted; the ResNet keeps its input dependence
(``theorems/huang_review_batchnorm_resnet1.py``: it approaches its ResNet-1 kernel).
"""

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, at_most
from engine.moments import bootstrap_statistic
from engine.seeding import derive_seed
from estimators import sample_ntk
from estimators.finite_width import normalised_offdiagonals
from models.strategies_review import DepthSweepCase, batchnorm_cases

DEPTHS = (1, 4)


def normalised_draws(case: DepthSweepCase, depth: int, mc: MonteCarlo) -> np.ndarray:
    """(B, pairs): each drawn network's normalised NTK over the input pairs, at ``depth`` (seeded per depth)."""
    draws = sample_ntk(case.spec(depth), case.inputs, mc.n_draws, derive_seed(mc.seed, "depth", depth),
                       sampler=mc.sampler, device=mc.device)  # fmt: skip
    return normalised_offdiagonals(draws.gram.numpy())


def spread(draws: np.ndarray) -> float:
    """SD over pairs of the mean (over draws) normalised NTK."""
    return float(np.std(draws.mean(axis=0)))


def spread_ratio(case: DepthSweepCase, mc: MonteCarlo) -> Estimates:
    """D_deep / D_shallow for the case's two depths, bootstrap standard error."""
    shallow, deep = (normalised_draws(case, depth, mc) for depth in case.depths)
    label = f"spread ratio D_{case.depths[1]} / D_{case.depths[0]}"
    return bootstrap_statistic([shallow, deep], lambda a, b: spread(b) / spread(a), mc.seed, label)


DEGENERATES = Claim(
    id="huang2020.review.batchnorm-ffnet-degenerates",
    statement="EMPIRICAL: with BatchNorm after every hidden dense layer, the normalised NTK of a finite FFNet "
    "loses >= 3/4 of its spread over input pairs from depth 1 to depth 4",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Review 1 (BatchNorm); Thm 5 (FFNet) without it",
    draw=batchnorm_cases("batchnorm-ffnet", DEPTHS, min_width=160, max_width=256),
    measure=spread_ratio,
    prediction=0.25,
    rule=at_most(quantity="spread of the normalised NTK, depth 4 over depth 1"),
    n_draws=Sizes(quick=64, standard=200, paper=800),
    n_examples=Sizes(quick=2, standard=5, paper=20),
)

DEGENERATES_RESNET = DEGENERATES.twin(
    id="huang2020.review.batchnorm-ffnet-degenerates.twin-resnet",
    statement="FALSE TWIN: BatchNorm ResNets (alpha = 1/L) lose >= 3/4 of their normalised NTK's spread by depth 4",
    draw=batchnorm_cases("batchnorm-resnet", DEPTHS, min_width=160, max_width=256),
    n_examples=Sizes(quick=1, standard=4, paper=10),
)
