"""Reviews 2 and 3 of Liu, Zhu & Belkin (NeurIPS 2020) ask about cross-entropy ("the paper mostly focuses on
squared loss while widely applied NNs use softmax-cross entropy") and the hinge loss ("its second derivative
is zero almost everywhere"). Constancy of the tangent kernel is a property of the model, not of the loss:
Thm 3.2 bounds ||H_f|| = O~(m^-1/2) in a ball B(w0, R), so any GD path that stays in the ball changes K by
O~(m^-1/2) (their Eq. 9 ball bound, as in ``lzb_c4_linear_output_kernel_change``). A consequence of the paper,
checked on the path; how far GD moves under these losses (R) is not a theorem of theirs.

Claim 1: with a linear output, GD on the logistic (binary cross-entropy, labels +-1) loss log(1 + e^{-y f})
and on the hinge loss max(0, 1 - y f) changes the kernel by ||K_T - K_0||_F / ||K_0||_F with OLS slope on
log m <= -1/2 + 0.2 (region (-inf, -0.3], the C4 claim's reading), one comparison per loss.
Measured slopes -0.88..-1.02 (SE ~0.05), like the square loss.
Claim 2: the training loss decreases: E L_T / L_0 - 1 <= 0 at m = 64 and 1024 for both losses (a ratio, not
its log: the hinge loss reaches exactly 0 on some networks). Measured L_T/L_0 = 0.32-0.48 (logistic) and
0-0.07 (hinge).
Drawn: the C4 training cases (synthetic or digits, 16 points, depth 1..2, tanh or ReLU, linear output).
Estimated (``estimators.training.train_gradient_descent``): T = 20 full-batch GD steps with
eta = n / (2 lambda_max(K_0)) (the square-loss claims' step; the logistic loss's curvature is <= 1/4 of the
square loss's, the hinge's 0), n_draws networks per width, float64.
Decided: alpha = 0.01 family-wise. Power: slope SE ~0.05 (4 networks x 5 widths), so the twin (slope
>= -0.25) is refuted with probability > 0.99; L_T/L_0 has SD < 0.1 across networks, so 6 networks give
t < -10 for claim 2 and its twin (E L_T/L_0 >= 1) is refuted with probability > 0.99.
"""

import numpy as np
from statsmodels.stats.weightstats import DescrStatsW

from engine.budget import MonteCarlo, Sizes
from engine.claim import Claim
from engine.intervals import Estimates, InRegion, at_most
from engine.statistics import ols_slope
from estimators.sampling import derive_seed
from estimators.training import training_sweep
from models.strategies_lzb_review import LossTrainingCase, other_loss_cases


def _sweeps(case: LossTrainingCase, mc: MonteCarlo) -> dict[str, object]:
    run = case.training
    return {
        loss: training_sweep(run.spec, run.dataset, run.n_points, run.widths, run.steps, mc.n_draws,
                             derive_seed(mc.seed, loss), loss=loss)
        for loss in case.losses
    }  # fmt: skip


def kernel_change_slopes(case: LossTrainingCase, mc: MonteCarlo) -> Estimates:
    """Per loss, the OLS slope of log ||K_T - K_0||_F / ||K_0||_F on log width (``mc.n_draws`` networks per width)."""
    return Estimates.concat([
        ols_slope(np.log(s.width.numpy()), np.log(s.kernel_change.numpy()), f"slope log rel. kernel change ({loss})")
        for loss, s in _sweeps(case, mc).items()
    ])  # fmt: skip


def loss_ratios(case: LossTrainingCase, mc: MonteCarlo) -> Estimates:
    """Per loss and width, E L_T / L_0 - 1 over ``mc.n_draws`` networks with its t standard error."""
    parts = []
    for loss, sweep in _sweeps(case, mc).items():
        for width in case.training.widths:
            stats = DescrStatsW(sweep.loss_ratio.numpy()[sweep.width.numpy() == width] - 1.0)
            parts.append(Estimates.single(f"E L_T/L_0 - 1, {loss}, m={width}", float(stats.mean),
                                          float(stats.std_mean), float(stats.nobs - 1), int(stats.nobs)))
    return Estimates.concat(parts)


QUANTITY = "slope of log rel. kernel change on log width"

OTHER_LOSSES_KERNEL = Claim(
    id="lzb2020.review.other-losses-kernel-change-vanishes",
    statement="with a linear output, GD on the logistic and hinge losses changes the kernel by O(width^-1/2)",
    citation="Liu, Zhu & Belkin, NeurIPS 2020, Thm 3.2 and Eq. 9 (ball bound); Reviews 2-3 (cross-entropy, hinge)",
    draw=other_loss_cases(),
    measure=kernel_change_slopes,
    prediction=-0.5,
    rule=InRegion(-float("inf"), 0.2, quantity=QUANTITY),
    n_draws=Sizes(quick=4, standard=8, paper=16),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

OTHER_LOSSES_KERNEL_CONSTANT = OTHER_LOSSES_KERNEL.twin(
    id="lzb2020.review.other-losses-kernel-change-vanishes.twin-nonvanishing",
    statement="FALSE TWIN: under the logistic and hinge losses the kernel change does not vanish with width",
    prediction=0.0,
    rule=InRegion(-0.25, float("inf"), quantity=QUANTITY),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)

OTHER_LOSSES_DECREASE = Claim(
    id="lzb2020.review.other-losses-training-loss-decreases",
    statement="GD with the NTK step decreases the logistic and the hinge training loss (E L_T/L_0 < 1)",
    citation="Liu, Zhu & Belkin, NeurIPS 2020, Sec. 5 (PL*); Reviews 2-3 (cross-entropy, hinge): no theorem",
    draw=other_loss_cases(widths=(64, 1024)),
    measure=loss_ratios,
    prediction=0.0,
    rule=at_most(quantity="E L_T/L_0 - 1"),
    n_draws=Sizes(quick=6, standard=10, paper=20),
    n_examples=Sizes(quick=2, standard=6, paper=20),
)

OTHER_LOSSES_NO_DECREASE = OTHER_LOSSES_DECREASE.twin(
    id="lzb2020.review.other-losses-training-loss-decreases.twin-no-decrease",
    statement="FALSE TWIN: GD does not decrease the logistic and hinge losses (E L_T/L_0 >= 1)",
    rule=InRegion(0.0, float("inf"), quantity="E L_T/L_0 - 1"),
    n_examples=Sizes(quick=1, standard=2, paper=4),
)
