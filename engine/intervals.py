"""Interval claims on asymptotically normal estimates: slopes, moment ratios, fitted constants.

A claim here says a quantity theta lies in a *region* [prediction + low, prediction + high]
(``low``/``high`` may be infinite). The sample is one estimate per comparison with its standard
error and degrees of freedom (``np.inf`` for a normal approximation), e.g. an OLS slope from
statsmodels or a delta-method moment ratio (``engine.statistics``).

Per comparison, with T = (estimate - bound) / standard_error ~ t(dof) at the bound:
- refutation tests H0: theta in the region; it is rejected when theta is shown below ``low`` or
  above ``high`` (one-sided tests, Bonferroni over the two sides when both are finite), so a true
  claim is refuted with probability <= alpha (family-wise via ``engine.rules.decide``);
- support tests H0: theta outside the region widened by ``tolerance`` (both one-sided tests must
  reject: TOST for a two-sided region, a single one-sided test for an inequality), so a claim whose
  quantity lies outside the widened region is supported with probability <= alpha.
A point-null reading (refute theta != prediction) is deliberately *not* used: scaling exponents
at finite size carry O(1/width) corrections, and a point null would refute a true asymptotic law
once enough draws are spent. The region is the stated margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from engine.evidence import Comparison


@dataclass(frozen=True)
class Estimates:
    """C estimates with standard errors and degrees of freedom (``np.inf``: normal), one per label."""

    estimate: np.ndarray
    standard_error: np.ndarray
    dof: np.ndarray
    labels: tuple[str, ...]
    n_samples: int

    def __post_init__(self) -> None:
        shape = (len(self.labels),)
        for name in ("estimate", "standard_error", "dof"):
            value = np.broadcast_to(np.asarray(getattr(self, name), float), shape).copy()
            object.__setattr__(self, name, value)
        if not np.isfinite(self.estimate).all():
            raise ValueError(f"Estimates contains a non-finite estimate: {self.estimate.tolist()}")
        if not (np.isfinite(self.standard_error).all() and (self.standard_error >= 0).all()):
            raise ValueError(f"Estimates needs finite standard errors >= 0, got {self.standard_error.tolist()}")
        if not (self.dof > 0).all():
            raise ValueError(f"Estimates needs degrees of freedom > 0, got {self.dof.tolist()}")
        if isinstance(self.n_samples, bool) or not isinstance(self.n_samples, int) or self.n_samples < 1:
            raise ValueError(f"Estimates.n_samples must be an int >= 1, got {self.n_samples!r}")

    @classmethod
    def single(cls, label: str, estimate: float, standard_error: float, dof: float, n_samples: int) -> Estimates:
        """One comparison."""
        return cls(np.array([estimate]), np.array([standard_error]), np.array([dof]), (label,), n_samples)

    @classmethod
    def concat(cls, parts: list[Estimates]) -> Estimates:
        """Several estimate sets as one sample (their comparisons are decided together)."""
        if not parts:
            raise ValueError("Estimates.concat needs at least one part")
        return cls(
            np.concatenate([p.estimate for p in parts]),
            np.concatenate([p.standard_error for p in parts]),
            np.concatenate([p.dof for p in parts]),
            tuple(label for p in parts for label in p.labels),
            sum(p.n_samples for p in parts),
        )


def _p_below(estimate: float, se: float, dof: float, bound: float) -> float:
    """p-value of H0: theta >= bound against theta < bound."""
    if math.isinf(bound):
        return 0.0 if bound > 0 else 1.0
    if se == 0:
        return float(estimate >= bound)
    return float(student_t.cdf((estimate - bound) / se, dof))


def _p_above(estimate: float, se: float, dof: float, bound: float) -> float:
    """p-value of H0: theta <= bound against theta > bound."""
    if math.isinf(bound):
        return 0.0 if bound < 0 else 1.0
    if se == 0:
        return float(estimate <= bound)
    return float(student_t.sf((estimate - bound) / se, dof))


@dataclass(frozen=True)
class InRegion:
    """Claim: theta in [prediction + low, prediction + high]; support region widened by ``tolerance``.

    Use ``within(margin)``, ``at_least()``, ``at_most()`` for the common shapes.
    """

    low: float
    high: float
    tolerance: float = 0.0
    quantity: str = "estimate"

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise ValueError(f"InRegion needs low <= high, got [{self.low}, {self.high}]")
        if self.low == -math.inf and self.high == math.inf:
            raise ValueError("InRegion with an unbounded region on both sides cannot be refuted")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"InRegion.tolerance must be finite and >= 0, got {self.tolerance!r}")

    def bounds(self, prediction: float) -> tuple[float, float]:
        return prediction + self.low, prediction + self.high

    def describe(self, prediction: float) -> str:
        low, high = self.bounds(prediction)
        region = f"[{low:g}, {high:g}]" if math.isfinite(low) and math.isfinite(high) else (
            f">= {low:g}" if math.isfinite(low) else f"<= {high:g}"
        )
        widened = f" (widened by {self.tolerance:g})" if self.tolerance else ""
        return (
            f"{self.quantity} {region}: refuted if Holm-adjusted one-sided t-tests show it outside; "
            f"supported if every one-sided test shows it inside{widened}"
        )

    def compare(self, sample: Estimates, prediction: float, interval_level: float | None) -> tuple[Comparison, ...]:
        low, high = self.bounds(prediction)
        sides = int(math.isfinite(low)) + int(math.isfinite(high))
        comparisons = []
        for c, label in enumerate(sample.labels):
            est, se, dof = float(sample.estimate[c]), float(sample.standard_error[c]), float(sample.dof[c])
            p_refute = min(1.0, sides * min(_p_below(est, se, dof, low), _p_above(est, se, dof, high)))
            p_equivalence = max(
                _p_above(est, se, dof, low - self.tolerance), _p_below(est, se, dof, high + self.tolerance)
            )
            ci = (math.nan, math.nan)
            if interval_level is not None:
                half = float(student_t.ppf(0.5 + interval_level / 2, dof)) * se
                ci = (est - half, est + half)
            centre = low if math.isfinite(low) and (not math.isfinite(high) or est < low) else high
            if math.isfinite(low) and math.isfinite(high) and low <= est <= high:
                centre = prediction
            statistic = 0.0 if se == 0 else (est - centre) / se
            comparisons.append(
                Comparison(
                    label, est, ci, prediction, float(statistic), p_refute, p_equivalence, sample.n_samples,
                    se, dof, (low - self.tolerance, high + self.tolerance), (low, high),
                )
            )  # fmt: skip
        return tuple(comparisons)


def within(margin: float, quantity: str = "estimate") -> InRegion:
    """theta in prediction +- margin (an equivalence claim with an explicit margin)."""
    if not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"within(margin) needs a finite margin > 0, got {margin!r}")
    return InRegion(-margin, margin, quantity=quantity)


def at_least(tolerance: float = 0.0, quantity: str = "estimate") -> InRegion:
    """theta >= prediction (support: shown > prediction - tolerance)."""
    return InRegion(0.0, math.inf, tolerance, quantity)


def at_most(tolerance: float = 0.0, quantity: str = "estimate") -> InRegion:
    """theta <= prediction (support: shown < prediction + tolerance)."""
    return InRegion(-math.inf, 0.0, tolerance, quantity)
