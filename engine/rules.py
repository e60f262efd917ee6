"""Decision rules: turn Monte Carlo draws into comparisons, and comparisons into a verdict.

Error control (declared, per claim, family-wise over all Hypothesis examples and all
comparisons within them):
- *refuted* is declared when Holm's step-down procedure (statsmodels ``multipletests``,
  ``method="holm"``) rejects some H0: quantity == prediction at level alpha, so a true claim is
  refuted with probability <= alpha;
- *supported* is declared when every comparison passes its equivalence test (TOST) at level
  alpha: an intersection-union test, so a claim that is off by more than the margin in any
  example is declared supported with probability <= alpha;
- otherwise *inconclusive*.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from math import nan
from typing import Any, Protocol

import numpy as np
from scipy.optimize import brentq
from scipy.stats import anderson_ksamp, ks_2samp
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind

from engine.evidence import Comparison, Verdict


class DecisionRule(Protocol):
    """Turns one example's sample into comparisons against a prediction (then ``decide`` pools them)."""

    def describe(self, prediction: float) -> str:
        """The rule in words, for reports."""
        ...

    def compare(self, sample: Any, prediction: float, interval_level: float | None) -> tuple[Comparison, ...]:
        """Comparisons with p-values for refutation and equivalence; intervals at ``interval_level``."""
        ...


def validate_columns(sample: Any, left: str, right: str) -> None:
    """Check ``sample.left`` and ``sample.right`` are finite (B, C) float arrays of one shape, B >= 2,
    C = len(sample.labels), and store them as such on the frozen dataclass; else a clear ValueError."""
    owner = type(sample).__name__
    a, b = np.asarray(getattr(sample, left), float), np.asarray(getattr(sample, right), float)
    if a.ndim != 2 or a.shape != b.shape or a.shape[1] != len(sample.labels):
        raise ValueError(
            f"{owner} needs {left} and {right} of one shape (B, C) with C labels, "
            f"got {a.shape}, {b.shape}, {len(sample.labels)} labels"
        )
    if a.shape[0] < 2:
        raise ValueError(f"{owner} needs at least 2 draws, got {a.shape[0]}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"{owner} contains NaN or inf draws")
    object.__setattr__(sample, left, a)
    object.__setattr__(sample, right, b)


@dataclass(frozen=True)
class PairedSample:
    """Per-draw values whose *means* are compared: numerator and denominator, each (B, C).

    Column c is one comparison, named ``labels[c]``; rows are independent weight draws.
    """

    numerator: np.ndarray
    denominator: np.ndarray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        validate_columns(self, "numerator", "denominator")


def _ttest_p(values: np.ndarray, alternative: str = "two-sided") -> tuple[float, float]:
    """(t statistic, p-value) of H0: E[values] = 0 (statsmodels one-sample t-test)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat, p_value, _ = DescrStatsW(values).ttest_mean(0.0, alternative=alternative)
    if not np.isfinite(t_stat):  # zero variance: exact agreement or exact disagreement
        mean = float(values.mean())
        t_stat = 0.0 if mean == 0 else np.sign(mean) * np.inf
        p_value = {"two-sided": float(mean == 0), "larger": float(mean <= 0), "smaller": float(mean >= 0)}[alternative]
    return float(t_stat), float(p_value)


def fieller_interval(numerator: np.ndarray, denominator: np.ndarray, level: float) -> tuple[float, float]:
    """Confidence set for E[num]/E[den] by inverting the t-test of E[num - r den] = 0 (Fieller).

    Returns (-inf, inf) ends where the set is unbounded (denominator mean not resolved).
    """
    estimate = float(numerator.mean() / denominator.mean())
    alpha = 1.0 - level

    def excess(ratio: float) -> float:
        return _ttest_p(numerator - ratio * denominator)[1] - alpha

    if excess(estimate) <= 0:
        return (estimate, estimate)
    spread = float(np.std(numerator - estimate * denominator) / abs(denominator.mean()) / np.sqrt(len(numerator)))
    step = max(spread, 1e-12 * max(1.0, abs(estimate)))
    ends = []
    for direction in (-1.0, 1.0):
        inner, outer = estimate, estimate + direction * step
        for _ in range(60):
            if excess(outer) < 0:
                break
            inner, outer = outer, estimate + 2 * (outer - estimate)
        else:
            ends.append(direction * np.inf)
            continue
        ends.append(float(brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-12 * max(1.0, abs(estimate)))))
    return (ends[0], ends[1])


def ratio_standard_error(numerator: np.ndarray, denominator: np.ndarray, ratio: float) -> float:
    """Delta-method standard error of E[num]/E[den]: SD(num - ratio den) / (sqrt(B) |mean den|).

    Each paired t-test of E[num - r den] = 0 has t = (ratio - r) |mean den| sqrt(B) / SD(num - r den),
    i.e. (ratio - r) / this standard error up to SD(num - r den) / SD(num - ratio den), which is 1 to
    first order in r - ratio (the margins are a few percent). NaN when the denominator's mean is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        se = float(np.std(numerator - ratio * denominator, ddof=1) / abs(denominator.mean()) / np.sqrt(len(numerator)))
    return se if math.isfinite(se) else nan


@dataclass(frozen=True)
class RatioOfMeans:
    """Claim: E[numerator] / E[denominator] == prediction, compared column by column.

    Refutation: two-sided one-sample t-test of E[num - rho * den] = 0 (rho = prediction; exact
    for the paired design, no ratio bias). Equivalence (TOST): E[num]/E[den] lies in
    [rho (1 - margin), rho (1 + margin)], i.e. the two one-sided t-tests
    E[num - rho (1 - margin) den] > 0 and E[num - rho (1 + margin) den] < 0, valid for
    E[den] > 0. Intervals: Fieller sets at the simultaneous (Bonferroni) level 1 - alpha / C_total.
    """

    margin: float

    def describe(self, prediction: float) -> str:
        return (
            f"ratio of means == {prediction:g}: refuted if Holm-adjusted two-sided paired t-test rejects; "
            f"supported if every TOST shows the ratio within +-{self.margin:.0%} of {prediction:g}"
        )

    def compare(self, sample: PairedSample, prediction: float, interval_level: float | None) -> tuple[Comparison, ...]:
        """One comparison per column; ``interval_level`` None skips the (costlier) Fieller interval."""
        comparisons = []
        for c, label in enumerate(sample.labels):
            num, den = sample.numerator[:, c], sample.denominator[:, c]
            statistic, p_refute = _ttest_p(num - prediction * den)
            _, p_low = _ttest_p(num - prediction * (1 - self.margin) * den, "larger")
            _, p_high = _ttest_p(num - prediction * (1 + self.margin) * den, "smaller")
            ratio = float(num.mean() / den.mean())
            comparisons.append(
                Comparison(
                    label=label,
                    estimate=ratio,
                    ci=(nan, nan) if interval_level is None else fieller_interval(num, den, interval_level),
                    prediction=prediction,
                    statistic=statistic,
                    p_refute=p_refute,
                    p_equivalence=max(p_low, p_high),
                    n_samples=len(num),
                    standard_error=ratio_standard_error(num, den, ratio),
                    dof=float(len(num) - 1),
                    support_bounds=(prediction * (1 - self.margin), prediction * (1 + self.margin)),
                    refute_bounds=(prediction, prediction),
                )
            )
        return tuple(comparisons)


def decide(comparisons: Sequence[Comparison], alpha: float) -> tuple[Verdict, int, tuple[float, ...]]:
    """Verdict, index of the decisive comparison, Holm-adjusted refutation p-values (see module doc)."""
    if not comparisons:
        raise ValueError("cannot decide a claim with no comparisons")
    p_refute = np.array([c.p_refute for c in comparisons])
    rejected, adjusted, _, _ = multipletests(p_refute, alpha=alpha, method="holm")
    if rejected.any():
        return Verdict.REFUTED, int(np.argmin(adjusted)), tuple(map(float, adjusted))
    p_equivalence = np.array([c.p_equivalence for c in comparisons])
    verdict = Verdict.SUPPORTED if (p_equivalence < alpha).all() else Verdict.INCONCLUSIVE
    return verdict, int(np.argmax(p_equivalence)), tuple(map(float, adjusted))


@dataclass(frozen=True)
class TwoSamples:
    """Independent draws of the same C quantities from two samplers: ``first`` and ``second``, each (B, C)."""

    first: np.ndarray
    second: np.ndarray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        validate_columns(self, "first", "second")


POINT_MASS_RTOL = 1e-9  # two constant samples at c1, c2 are one point mass iff |c1 - c2| <= rtol * max|c|


def point_mass_comparison(label: str, first: float, second: float, n: int, interval_level: float | None) -> Comparison:
    """Both samples constant, at ``first`` and ``second``: their laws are equal iff the constants
    agree (to ``POINT_MASS_RTOL``, float rounding) — known exactly, so p_refute and p_equivalence
    are 0 or 1. Estimate: first - second."""
    same = abs(first - second) <= POINT_MASS_RTOL * max(abs(first), abs(second))
    difference = first - second
    ci = (difference, difference) if interval_level is not None else (nan, nan)
    return Comparison(
        f"{label}: point mass", difference, ci, 0.0, difference, 1.0 if same else 0.0, 0.0 if same else 1.0, n,
        standard_error=0.0, dof=math.inf,
    )  # fmt: skip


@dataclass(frozen=True)
class SameLaw:
    """Claim: every column has the same law under both samplers (prediction: no difference).

    Per column four comparisons:
    - ``KS``: two-sample Kolmogorov-Smirnov (``scipy.stats.ks_2samp``); it can only refute
      (its p_equivalence is 0, so it never blocks support);
    - ``AD``: k-sample Anderson-Darling (``scipy.stats.anderson_ksamp``), more sensitive in the
      tails; refute-only like KS. scipy caps its p-value to [0.001, 0.25], so on its own it refutes
      only where Holm's threshold alpha / (number of comparisons) is above 0.001;
    - ``mean``: standardised mean difference (m1 - m2) / s, s the pooled SD; refuted by Welch's
      t-test, supported by TOST (``statsmodels ttost_ind``, unequal variances) within +-``margin`` s;
    - ``variance``: ratio of mean squared deviations about the pooled mean, decided as
      ``RatioOfMeans(variance_margin)`` (the two samples are independent, so any pairing of
      equally many draws gives i.i.d. pairs and the paired t-tests stay valid).

    A column that is constant in both samples (a point mass, e.g. K(x, -x) = 0 in every draw of a
    ReLU FFNet on one-dimensional inputs, whose two inputs switch on disjoint units) has no spread
    to test: it is one ``point mass`` comparison, decided exactly (``point_mass_comparison``).
    """

    margin: float
    variance_margin: float

    def describe(self, prediction: float) -> str:
        return (
            "same law under both samplers: refuted if Holm-adjusted KS, Anderson-Darling, Welch or "
            "variance-ratio tests reject; "
            f"supported if means agree within +-{self.margin:g} SD and variances within +-{self.variance_margin:.0%}"
        )

    def compare(self, sample: TwoSamples, prediction: float, interval_level: float | None) -> tuple[Comparison, ...]:
        comparisons: list[Comparison] = []
        n = sample.first.shape[0]
        for c, label in enumerate(sample.labels):
            x1, x2 = sample.first[:, c], sample.second[:, c]
            if np.ptp(x1) == 0 and np.ptp(x2) == 0:
                comparisons.append(point_mass_comparison(label, float(x1[0]), float(x2[0]), n, interval_level))
                continue
            ks = ks_2samp(x1, x2)
            comparisons.append(
                Comparison(
                    f"{label}: KS", float(ks.statistic), (nan, nan), 0.0, float(ks.statistic), float(ks.pvalue), 0.0, n
                )
            )
            with warnings.catch_warnings():  # scipy warns whenever it caps the p-value
                warnings.simplefilter("ignore", UserWarning)
                ad = anderson_ksamp([x1, x2])
            comparisons.append(
                Comparison(
                    f"{label}: AD", float(ad.statistic), (nan, nan), 0.0, float(ad.statistic), float(ad.pvalue), 0.0, n
                )
            )
            scale = float(np.sqrt((x1.var(ddof=1) + x2.var(ddof=1)) / 2)) or 1.0
            welch = CompareMeans(DescrStatsW(x1), DescrStatsW(x2))
            t_stat, p_refute, _ = welch.ttest_ind(usevar="unequal")
            p_equivalence, _, _ = ttost_ind(x1, x2, -self.margin * scale, self.margin * scale, usevar="unequal")
            ci = (nan, nan)
            if interval_level is not None:
                lo, hi = welch.tconfint_diff(alpha=1 - interval_level, usevar="unequal")
                ci = (float(lo) / scale, float(hi) / scale)
            comparisons.append(
                Comparison(
                    f"{label}: mean",
                    float((x1.mean() - x2.mean()) / scale),
                    ci,
                    0.0,
                    float(t_stat),
                    float(p_refute),
                    float(p_equivalence),
                    n,
                    standard_error=float(welch.std_meandiff_separatevar) / scale,
                    dof=float(welch.dof_satt()),
                    support_bounds=(-self.margin, self.margin),
                    refute_bounds=(0.0, 0.0),
                )
            )
            centre = (x1.mean() + x2.mean()) / 2
            squared = PairedSample(
                ((x1 - centre) ** 2)[:, None], ((x2 - centre) ** 2)[:, None], (f"{label}: variance",)
            )
            comparisons.extend(RatioOfMeans(self.variance_margin).compare(squared, 1.0, interval_level))
        return tuple(comparisons)
