"""Hanin & Nica (ICLR 2020, arXiv 1909.05989), Thm 1 (and abstract: "exponential in the ratio of network depth
to width"): E[K_N^2] / E[K_N]^2 depends on the architecture through beta = sum_j 1 / n_j.

Reading: nets of equal beta have equal log eta up to O(1/n) (the theorem's 1 + O(sum 1/n_j^2) and the
finite-width factor prod (1 + 5/n_j) vs exp(5 beta)); we test depth and width doubled together, and a profile
alternating two widths. (Where the narrow layers sit matters at first order: a hidden layer near the output
adds 5 / n_j to log eta, one near the input 5 r^2 / ((r + 1)^2 n_j), r = ||x||^2 / n_0 (pair counting,
theorems/hanin_nica_setting.py), so profiles with all narrow layers at one end move log eta by up to ~3 beta
from a uniform one. "~=" allows that; not drawn.)
Drawn (their setting, ``models.strategies_hanin_nica``): n = 3k, k in 6..8, L = round(beta n) hidden layers for
beta in [0.15, 0.25] (L even); nets (n x L), (2n x 2L), and L layers alternating 2n/3 and 2n (beta = L/n again);
n_0 in 4..16, ||x||^2 / n_0 in [0.5, 2].
Estimated: log eta per net (exact sampler, float64, delta-method SE), and the differences
log eta(2n x 2L) - log eta(n x L) and log eta(alternating) - log eta(n x L).
Decided: each difference within +-0.15 (``within``), Holm, alpha = 0.01.
Power: 12,000 draws give SE 0.01-0.02 per difference at beta <= 0.25 (0.05-0.06 at beta = 0.33: why beta stops
at 0.25); measured differences +0.05 (doubling: prod (1 + 5/n) moves toward exp(5 beta)) and -0.05..-0.09
(alternating: the narrow layers' 1/n^2 terms), >= 3 SE inside the margin: power > 0.95 per example.
False twin: the fixed-depth reading "eta depends on the width alone" (corrections O(1/n) whatever the depth):
(n x L) against (n x 2L), which differ by C beta ~ 0.3-0.6 in log eta (measured 0.61, 0.96 at beta 0.22, 0.29).
"""

from functools import partial

import numpy as np

from engine import Claim, Estimates, MonteCarlo, Sizes, within
from engine.moments import delta_method, log_eta_points
from models.strategies_hanin_nica import HaninNicaCase, beta, hanin_nica_equal_beta
from theorems.hanin_nica_setting import hanin_nica_kernel


def equal_beta_differences(case: HaninNicaCase, mc: MonteCarlo, pairs: tuple[tuple[int, int], ...] = ((1, 0), (2, 0))
                           ) -> Estimates:
    """log eta(specs[i]) - log eta(specs[j]) for each (i, j) in ``pairs`` (independent draws per net)."""
    used = sorted({i for pair in pairs for i in pair})
    kernels = [hanin_nica_kernel(case.specs[i], case.inputs, mc, "equal-beta", i) for i in used]
    points = log_eta_points(kernels, [f"net {i}" for i in used])
    where = {i: k for k, i in enumerate(used)}
    labels = [f"{_name(case, i)} - {_name(case, j)}" for i, j in pairs]

    def differences(y: np.ndarray) -> np.ndarray:
        return np.array([y[where[i]] - y[where[j]] for i, j in pairs])

    return delta_method(differences, points, labels)


def _name(case: HaninNicaCase, i: int) -> str:
    spec = case.specs[i]
    widths = sorted({layer.width for layer in spec.layers.layers[:-1:2]})  # type: ignore[attr-defined]
    depth = len(spec.layers.layers) // 2  # type: ignore[attr-defined]
    return f"{'/'.join(map(str, widths))} x {depth} (beta={beta(spec):.3f})"


BETA_SCALING = Claim(
    id="hanin-nica2020.thm1.beta-scaling",
    statement="E[K_N^2]/E[K_N]^2 is a function of beta = sum 1/n_j: equal-beta nets agree in log eta within 0.15",
    citation="Hanin & Nica, Finite Depth and Width Corrections to the Neural Tangent Kernel, ICLR 2020, Thm 1",
    draw=hanin_nica_equal_beta(),
    measure=equal_beta_differences,
    prediction=0.0,
    rule=within(0.15, quantity="log eta difference at equal beta"),
    n_draws=Sizes(quick=12_000, standard=40_000, paper=150_000),
    n_examples=Sizes(quick=2, standard=8, paper=25),
)

WIDTH_ONLY = BETA_SCALING.twin(
    id="hanin-nica2020.thm1.beta-scaling.twin-width-only",
    statement="FALSE TWIN: eta depends on the width alone: (n x L) and (n x 2L) agree in log eta within 0.15",
    measure=partial(equal_beta_differences, pairs=((3, 0),)),
)
