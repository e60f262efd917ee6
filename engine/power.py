"""Predicted power by design: the probability of a claim's required verdict, from its own evidence.

Every comparison records the estimate theta^ of its quantity, its standard error s and degrees of
freedom nu (``engine.evidence.Comparison``), the bounds its support tests show it inside and the
region its refutation test rejects outside of. Plugging theta^ in for the true value (the power of the
design at the effect it measured; Hoenig & Heisey 2001 call this observed power), each one-sided
t-test "theta > b" at level a rejects with probability

    P(T > t_{1-a}(nu)),  T ~ noncentral t(nu, delta = (theta^ - b) / s)

(``scipy.stats.nct``; Phi(delta - z_{1-a}) for nu = inf; this is statsmodels'
``ttest_power(delta, nobs=1, alpha=a, df=nu, alternative="larger")``, whose ``special.nctdtr`` path
returns NaN at some large noncentralities, e.g. delta = 39.5 with nu = 3999).
Per comparison, at the claim's alpha with C comparisons in all:

- support (TOST, every one-sided test at alpha): s_i = P(T_low > t_{1-alpha}) + P(T_high < -t_{1-alpha}) - 1
  (the usual lower bound P(A and B) >= P(A) + P(B) - 1; one term for a one-sided region);
- refutation, first step of Holm (it rejects anything iff the smallest p-value is < alpha / C): with
  the region's k finite ends tested at alpha / (C k) each (Bonferroni over the sides, as
  ``engine.intervals`` does; a point null is the two-sided test), r_i = P(T_low < -c) + P(T_high > c),
  c = t_{1 - alpha/(C k)}.

A comparison without a standard error (KS, Anderson-Darling) has its observed power from its p-value
alone: Phi(Phi^-1(1 - p) - Phi^-1(1 - level)) (a one-sided z statistic at its observed value); a
refute-only comparison (``support_bounds`` None, p_equivalence 0) never blocks support (s_i = 1).
Deterministic comparisons (s = 0) are decided exactly: s_i, r_i are 0 or 1 from their p-values.

Claim level. Comparisons of one example share its draws (dependence unknown: dependence-free bounds);
examples are independent (each has its own derived seed):
- P(supported) >= prod_e max(0, 1 - sum_{i in e} (1 - s_i)) - alpha  (Bonferroni within an example; the
  alpha is Holm's bound on refuting a true claim, so the plug-in is not asked about the point null);
- P(refuted) >= 1 - prod_e (1 - max_{i in e} r_i)  (within an example, the strongest comparison alone).
The predicted power of a claim is that of its required verdict: supported for a true claim, refuted for
a false twin; below ``POWER_TARGET`` it is flagged and its Monte Carlo size should grow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import nct, norm
from scipy.stats import t as student_t

from engine.evidence import ClaimResult, Comparison, ExampleEvidence

POWER_TARGET = 0.95


def one_sided_power(
    estimate: float, standard_error: float, dof: float, bound: float, level: float, above: bool
) -> float:
    """P(the one-sided test of "theta > bound" (``above``) or "theta < bound" rejects at ``level``),
    with theta = ``estimate``: noncentral t (dof) or normal (dof inf). An infinite bound: no test (0)."""
    if math.isinf(bound) or not 0 < level < 1:
        return 0.0
    delta = (estimate - bound) / standard_error if above else (bound - estimate) / standard_error
    normal = float(norm.sf(norm.isf(level) - delta))
    if math.isinf(dof) or dof > 1e7:
        return normal
    value = float(nct.sf(student_t.isf(level, dof), dof, delta))
    return min(1.0, max(0.0, value)) if math.isfinite(value) else normal


def p_value_power(p_value: float, level: float) -> float:
    """Observed power of a test from its p-value alone: Phi(Phi^-1(1 - p) - Phi^-1(1 - level))."""
    if not 0 < level < 1:
        return 0.0
    return float(norm.cdf(norm.isf(min(max(p_value, 0.0), 1.0)) - norm.isf(level)))


def _has_error(comparison: Comparison) -> bool:
    se, dof = comparison.standard_error, comparison.dof
    return math.isfinite(se) and se >= 0 and not math.isnan(dof) and dof > 0


def support_power(comparison: Comparison, alpha: float) -> float:
    """s_i: the probability that every support test of this comparison rejects at ``alpha``."""
    if comparison.support_bounds is None and comparison.p_equivalence == 0:
        return 1.0  # refute-only
    if not _has_error(comparison) or comparison.support_bounds is None:
        return p_value_power(comparison.p_equivalence, alpha)
    if comparison.standard_error == 0:
        return float(comparison.p_equivalence < alpha)
    low, high = comparison.support_bounds
    est, se, dof = comparison.estimate, comparison.standard_error, comparison.dof
    sides = []
    if math.isfinite(low):
        sides.append(one_sided_power(est, se, dof, low, alpha, above=True))
    if math.isfinite(high):
        sides.append(one_sided_power(est, se, dof, high, alpha, above=False))
    return max(0.0, min(1.0, sum(sides) - (len(sides) - 1)))


def refute_power(comparison: Comparison, level: float) -> float:
    """r_i: the probability that this comparison's refutation test rejects at ``level``."""
    if not _has_error(comparison) or comparison.refute_bounds is None:
        return p_value_power(comparison.p_refute, level)
    if comparison.standard_error == 0:
        return float(comparison.p_refute < level)
    low, high = comparison.refute_bounds
    sides = int(math.isfinite(low)) + int(math.isfinite(high))
    est, se, dof = comparison.estimate, comparison.standard_error, comparison.dof
    return min(
        1.0,
        one_sided_power(est, se, dof, low, level / sides, above=False)
        + one_sided_power(est, se, dof, high, level / sides, above=True),
    )


@dataclass(frozen=True)
class PredictedPower:
    """The predicted probability of a claim's required verdict and the comparison that limits it."""

    power: float
    supported: float
    refuted: float
    wanted: str
    example: int
    label: str
    comparison_power: float

    @property
    def flagged(self) -> bool:
        return self.power < POWER_TARGET

    def to_json(self) -> dict[str, object]:
        return {
            "wanted": self.wanted,
            "supported": self.supported,
            "refuted": self.refuted,
            "limiting": {"example": self.example, "label": self.label, "power": self.comparison_power},
        }


def predict(examples: Sequence[ExampleEvidence], alpha: float, twin: bool) -> PredictedPower:
    """Predicted power of the claim whose evidence is ``examples`` (module docstring)."""
    n_comparisons = sum(len(e.comparisons) for e in examples)
    if n_comparisons == 0:
        raise ValueError("predicted power needs at least one comparison")
    level = alpha / n_comparisons
    supported, not_refuted = 1.0, 1.0
    weakest = (math.inf, 0, "")  # support: smallest s_i
    strongest = (-math.inf, 0, "")  # refutation: largest r_i
    for index, example in enumerate(examples):
        if not example.comparisons:
            continue
        s = [support_power(c, alpha) for c in example.comparisons]
        r = [refute_power(c, level) for c in example.comparisons]
        supported *= max(0.0, 1.0 - sum(1.0 - x for x in s))
        not_refuted *= 1.0 - max(r)
        i, j = min(range(len(s)), key=s.__getitem__), max(range(len(r)), key=r.__getitem__)
        if s[i] < weakest[0]:
            weakest = (s[i], index, example.comparisons[i].label)
        if r[j] > strongest[0]:
            strongest = (r[j], index, example.comparisons[j].label)
    p_supported, p_refuted = max(0.0, supported - alpha), 1.0 - not_refuted
    wanted, power, limit = ("refuted", p_refuted, strongest) if twin else ("supported", p_supported, weakest)
    return PredictedPower(power, p_supported, p_refuted, wanted, limit[1], limit[2], float(limit[0]))


def predicted_power(result: ClaimResult) -> PredictedPower:
    """Predicted power of a decided claim (its required verdict: refuted for a twin, else supported)."""
    return predict(result.examples, result.alpha, twin=result.twin_of is not None)
