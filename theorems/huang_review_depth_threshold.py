"""EMPIRICAL (Huang et al., NeurIPS 2020, Review 3: "shows *exactly at what point* deeper feedforward kernels
degrade and compare this to when deeper feedforward neural networks degrade"): GD-trained finite FFNets
degrade with depth before kernel regression with their analytic NTK does.

The thresholds, measured (``experiments/huang_depth_threshold``, paper budget: digits odd vs even, 200
training and 800 test images, 10 splits, width 256, 2 networks per split and depth, 100 GD steps; 920 s):
split-mean test accuracy falls 0.03 below its best at L = 23 [17, 37] for the kernel and at L = 10.8
[9.3, 16.2] for the networks (95% bootstrap over splits); the networks' threshold is log2 1.09 [0.58, 1.49]
octaves shallower. Accuracy at L = 1, 8, 16, 32, 64: kernel 0.969, 0.959, 0.947, 0.932, 0.913; networks
0.960, 0.950, 0.911, 0.767, 0.576 (near chance at 64; one of 20 depth-32 networks diverged).
The claim is that relation checked at CI cost (thresholds need many splits and depths): at L = 64, past
both thresholds, the networks have lost more accuracy since depth 1 than the kernel has.
Setting (``estimators.kernel_regression.depth_accuracies``): a seeded pool of 400 images
(``estimators.training.training_set("digits")``: pixels centred by the dataset mean, rows scaled to unit
norm), 10 seeded splits of 100 training and 300 test images; Huang's FFNet (A, v fixed, W_l trained, ReLU
with q = sqrt(2) phi) at depths 1 and 64. Kernel: ridgeless (1e-8 x mean diagonal) regression with the
infinite-width NTK, class = sign f. Networks: width 256, one per split and depth, T = 60 steps of full-batch
GD on the square loss at eta = n / (2 lambda_max(K_0)) (``train_predict``), class = sign f; a network whose
GD diverges scores the training set's majority class (counted in the ledger's example).
Estimated (float64): per split, D = (a_net(1) - a_net(64)) - (a_kernel(1) - a_kernel(64)); its mean over
splits with the t standard error (9 dof; splits independent, paired within a split).
Measured with 6 splits at three data seeds: mean D = 0.28, 0.33, 0.28 (SE 0.044, 0.017, 0.036; kernel drops
0.003-0.31, network drops 0.19-0.47); with 10 splits (quick, master seeds 0 and 1): 0.32 (SE 0.037), 0.32
(0.033), 0.27 (0.05), 0.36 (0.02); 40-55 s per example on one core.
Decided: D >= 0 (one-sided t, family-wise alpha = 0.01). Power: 6 splits left one example at SE 0.073
(predicted power 0.71); 10 give t ~ 5-18 against the critical 2.82 (predicted power 0.976-1.0).
False twin ("finite nets degrade no earlier than their kernel"): D <= 0, refuted by the same evidence.
"""

from statsmodels.stats.weightstats import DescrStatsW

from engine import Claim, Estimates, MonteCarlo, Sizes, at_least, at_most
from estimators.kernel_regression import depth_accuracies, split_indices
from estimators.training import training_set
from models.resnet import HuangFFNet
from models.strategies_review import ThresholdCase, threshold_cases

QUANTITY = "E[accuracy lost from depth 1 to L, networks minus kernel]"


def extra_accuracy_lost(case: ThresholdCase, mc: MonteCarlo) -> Estimates:
    """Mean over splits of the networks' accuracy loss from the shallowest to the deepest depth minus the
    kernel's, with its t standard error; ``mc.n_draws`` networks per split and depth."""
    x, labels = training_set("digits", case.pool, 64, case.data_seed)
    x = x / x.norm(dim=1, keepdim=True)
    splits = split_indices(case.pool, case.n_train, case.splits, case.data_seed)
    accuracies = depth_accuracies(HuangFFNet(64, 1, case.width), x, labels, splits, case.depths, case.steps,
                                  mc.n_draws, mc.seed)  # fmt: skip
    lost = {key: a[:, 0] - a[:, -1] for key, a in (("kernel", accuracies.kernel), ("networks", accuracies.networks))}
    stats = DescrStatsW(lost["networks"] - lost["kernel"])
    label = f"extra accuracy lost by the networks, L={case.depths[0]} to {case.depths[-1]}"
    diverged = int(accuracies.diverged.sum())
    return Estimates.single(f"{label} ({diverged} diverged)" if diverged else label, float(stats.mean),
                            float(stats.std_mean), float(stats.nobs - 1), int(stats.nobs))  # fmt: skip


NETWORKS_DEGRADE_FIRST = Claim(
    id="huang2020.review.depth-threshold-networks-first",
    statement="EMPIRICAL: on digits, GD-trained width-256 FFNets degrade with depth before kernel regression with "
    "their analytic NTK: from depth 1 to 64 they lose more test accuracy",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thm 5 and Review 3 (the depth threshold)",
    draw=threshold_cases(),
    measure=extra_accuracy_lost,
    prediction=0.0,
    rule=at_least(quantity=QUANTITY),
    n_draws=Sizes(quick=1, standard=1, paper=2),
    n_examples=Sizes(quick=1, standard=2, paper=5),
)

NETWORKS_DEGRADE_FIRST_NOT = NETWORKS_DEGRADE_FIRST.twin(
    id="huang2020.review.depth-threshold-networks-first.twin-kernel-first",
    statement="FALSE TWIN: finite FFNets degrade with depth no earlier than their analytic NTK",
    rule=at_most(quantity=QUANTITY),
)
