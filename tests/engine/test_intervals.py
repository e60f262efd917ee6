"""Region claims on estimates (engine/intervals.py) and the OLS slope statistic: verdicts and error rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Estimates, InRegion, Verdict, at_least, at_most, ols_slope, within
from engine.rules import decide


def verdict_of(rule: InRegion, estimate: float, se: float, prediction: float, dof: float = math.inf) -> Verdict:
    return decide(rule.compare(Estimates.single("q", estimate, se, dof, 100), prediction, 0.99), 0.01)[0]


@pytest.mark.parametrize(
    ("estimate", "verdict"),
    [(-0.5, Verdict.SUPPORTED), (-0.595, Verdict.INCONCLUSIVE), (-0.7, Verdict.REFUTED), (-0.3, Verdict.REFUTED)],
)
def test_within_margin_three_outcomes(estimate: float, verdict: Verdict) -> None:
    """Inside by many SEs: supported; on the margin's edge: inconclusive; outside by many SEs: refuted."""
    assert verdict_of(within(0.1), estimate, 0.01, -0.5) == verdict


def test_inequalities_refute_only_the_wrong_side() -> None:
    assert verdict_of(at_least(), 2.0, 0.1, 1.0) == Verdict.SUPPORTED
    assert verdict_of(at_least(), 0.5, 0.1, 1.0) == Verdict.REFUTED
    assert verdict_of(at_most(), 0.5, 0.1, 1.0) == Verdict.SUPPORTED
    assert verdict_of(at_most(), 2.0, 0.1, 1.0) == Verdict.REFUTED
    assert verdict_of(at_least(), 1.0, 0.1, 1.0) == Verdict.INCONCLUSIVE  # tight bound: cannot decide
    assert verdict_of(at_least(tolerance=0.5), 1.0, 0.1, 1.0) == Verdict.SUPPORTED


def test_zero_standard_error_decides_exactly() -> None:
    assert verdict_of(within(0.1), 1.05, 0.0, 1.0) == Verdict.SUPPORTED
    assert verdict_of(within(0.1), 1.2, 0.0, 1.0) == Verdict.REFUTED


def test_error_rates_at_the_region_boundary() -> None:
    """At the boundary of the region a true claim is refuted <= alpha; just outside the margin a false one is
    supported <= alpha (2,000 normal estimates each, binomial slack)."""
    rng = np.random.default_rng(3)
    draws = rng.standard_normal(2_000) * 0.05  # one comparison: Holm at alpha is p < alpha

    def p_values(estimate: float) -> tuple[float, float]:
        (c,) = within(0.1).compare(Estimates.single("q", estimate, 0.05, math.inf, 100), 0.0, None)
        return c.p_refute, c.p_equivalence

    refuted = sum(p_values(0.1 + z)[0] < 0.01 for z in draws)
    supported = sum(p_values(0.1001 + z)[1] < 0.01 for z in draws)
    assert refuted / 2_000 < 0.01 + 0.006
    assert supported / 2_000 < 0.01 + 0.006


def test_ols_slope_covers_the_true_slope() -> None:
    rng = np.random.default_rng(4)
    x = np.repeat(np.log([64.0, 128, 256, 512]), 20)
    hits = 0
    for _ in range(400):
        y = 1.0 - 0.5 * x + rng.normal(0, 0.2, len(x))
        (c,) = within(0.05).compare(ols_slope(x, y, "slope"), -0.5, 0.95)
        hits += c.ci[0] <= -0.5 <= c.ci[1]
    assert 0.92 <= hits / 400 <= 0.98


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimate": [math.nan]}, "non-finite estimate"),
        ({"standard_error": [-1.0]}, "standard errors"),
        ({"dof": [0.0]}, "degrees of freedom"),
        ({"n_samples": 0}, "n_samples"),
    ],
)
def test_estimates_reject_bad_values_by_name(kwargs: dict, message: str) -> None:
    fields = {"estimate": [1.0], "standard_error": [0.1], "dof": [5.0], "labels": ("q",), "n_samples": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        Estimates(**fields)


def test_region_and_slope_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="low <= high"):
        InRegion(1.0, 0.0)
    with pytest.raises(ValueError, match="both sides"):
        InRegion(-math.inf, math.inf)
    with pytest.raises(ValueError, match="margin"):
        within(0.0)
    with pytest.raises(ValueError, match="distinct x"):
        ols_slope(np.ones(5), np.arange(5.0), "s")
    with pytest.raises(ValueError, match="NaN or inf"):
        ols_slope(np.arange(5.0), np.array([-np.inf, 0, 1, 2, 3]), "s")
