"""Huang et al. (NeurIPS 2020), Thms 3-4 (THEOREMS.md B1, reconstructed) as a cross-check of
``estimators.analytic``: the empirical GPK and NTK of wide FFNets and ResNets (alpha = L^-gamma)
converge to the analytic kernels of the same parameterisation.

Reading: ``HuangFFNet`` / ``HuangResNet`` exactly as specified (N(0, 1) weights, 1/sqrt(fan_in) in the
forward pass, q = sqrt(2) ReLU); the NTK counts the matrices the spec trains (A and v fixed, or all if
``train_all``, drawn). Drawn: kind, depth 1..5, width 256..1024, gamma in [1/2, 1], input dim 1..4, two
unit inputs (|cos| <= 0.95). Estimated (float64, exact low-rank sampler): per draw GPK(x,x), GPK(x,x') =
<x_L, x_L'>/n and NTK(x,x), NTK(x,x'); per entry (mean - analytic) / analytic diagonal, with its t standard
error. Decided: every relative error within +-0.03 (TOST, family-wise alpha = 0.01 over 4 entries x
examples). Power: at 6,000 draws the relative standard deviation of K is <= sqrt(5 L / n) ~ 0.3, so the
standard error is <= 0.005 (measured 0.004) and the finite-width bias O(L / n) is <= 0.02 (measured:
all |errors| <= 0.008 over three seeds); a true claim passes, an error of 0.06 is refuted. At 1,500 draws
(SE up to 0.0085) the power table's seeds 1-20 averaged a predicted power of 0.86 (seed 12 inconclusive at
-0.010 with SE 0.0085; seeds 10 and 14 at 0.45 and 0.32); at 6,000 those seeds predict 0.99.
False twin: the analytic NTK of the other reading of which layers are trained (A and v counted when they
are fixed, and vice versa; THEOREMS.md's textbook recursion Theta_l = Sigma_l + Theta_{l-1} Sigma_dot_l is
the all-trained one). The NTK then differs by Sigma_0 P_0 + Sigma_L, i.e. >= 2/L relatively for the FFNet.
"""

import dataclasses

from engine import Claim, Estimates, MonteCarlo, Sizes, within
from estimators import sample_ntk
from estimators.analytic import analytic_kernels
from estimators.finite_width import ENTRY_LABELS, analytic_entries, kernel_entries, mean_error
from models.strategies import NetworkCase, two_input_cases
from models.strategies_huang import huang_nets


def relative_errors(case: NetworkCase, mc: MonteCarlo, swap_trained: bool = False) -> Estimates:
    """(mean finite-width entry - analytic entry) / analytic diagonal for ``ENTRY_LABELS``."""
    draws = sample_ntk(case.spec, case.inputs, mc.n_draws, mc.seed, sampler=mc.sampler, device=mc.device)
    reading = dataclasses.replace(case.spec, train_all=not case.spec.train_all) if swap_trained else case.spec  # type: ignore[attr-defined]
    values, scales = analytic_entries(analytic_kernels(reading, case.inputs))
    return mean_error(kernel_entries(draws), values, scales, ENTRY_LABELS)


def other_reading_errors(case: NetworkCase, mc: MonteCarlo) -> Estimates:
    """The false twin's measure: against the analytic NTK of the other trained-layers reading."""
    return relative_errors(case, mc, swap_trained=True)


AGREEMENT = Claim(
    id="huang2020.b1.wide-mc-agreement",
    statement="the mean empirical GPK and NTK of wide Huang FFNets/ResNets equal the analytic kernels within 3%",
    citation="Huang, Wang, Tao & Zhao, NeurIPS 2020, Thms 3-4; THEOREMS.md B1",
    draw=two_input_cases(huang_nets(max_depth=5, min_width=256, max_width=1024, train_all=None)),
    measure=relative_errors,
    prediction=0.0,
    rule=within(0.03, quantity="(mean K_m - K_inf) / K_inf(x,x)"),
    n_draws=Sizes(quick=6_000, standard=10_000, paper=40_000),
    n_examples=Sizes(quick=3, standard=12, paper=40),
)

AGREEMENT_OTHER_READING = AGREEMENT.twin(
    id="huang2020.b1.wide-mc-agreement.twin-other-trained",
    statement="FALSE TWIN: the empirical NTK converges to the analytic NTK with the other set of trained layers",
    measure=other_reading_errors,
)
