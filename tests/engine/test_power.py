"""Predicted power (engine.power): the formulas against statsmodels, and the prediction against the rate at
which the real decision rules reach a verdict in replications."""

import gc
import math

import numpy as np
import pytest
from statsmodels.stats.power import ttest_power
from statsmodels.stats.proportion import proportion_confint

from engine.evidence import Comparison, ExampleEvidence, Verdict
from engine.intervals import Estimates, within
from engine.power import one_sided_power, p_value_power, predict, refute_power, support_power
from engine.rules import PairedSample, RatioOfMeans, decide


@pytest.fixture
def fast_holm(monkeypatch):
    """statsmodels' Holm branch calls gc.collect() per call; skip it in the replication loops."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


@pytest.mark.parametrize("delta", [-1.0, 0.0, 1.5, 3.0, 5.0])
@pytest.mark.parametrize("dof", [5.0, 60.0, 999.0])
def test_one_sided_power_is_statsmodels_ttest_power(delta, dof):
    ours = one_sided_power(1.0 + delta * 0.1, 0.1, dof, 1.0, 0.01, above=True)
    theirs = ttest_power(delta, nobs=1, alpha=0.01, df=dof, alternative="larger")
    assert ours == pytest.approx(theirs, abs=1e-9)
    mirrored = one_sided_power(1.0 - delta * 0.1, 0.1, dof, 1.0, 0.01, above=False)
    assert mirrored == pytest.approx(ours, abs=1e-12)


def test_one_sided_power_is_normal_at_infinite_dof_and_finite_at_large_noncentrality():
    assert one_sided_power(3.0, 1.0, math.inf, 0.0, 0.05, above=True) == pytest.approx(0.9123, abs=1e-4)
    assert one_sided_power(39.5, 1.0, 3999.0, 0.0, 0.01, above=True) == pytest.approx(1.0)  # nctdtr gives NaN
    assert one_sided_power(1.0, 1.0, 10.0, math.inf, 0.01, above=False) == 0.0  # no test on an infinite side


def test_p_value_power_is_half_at_the_level_and_grows_as_p_shrinks():
    assert p_value_power(0.01, 0.01) == pytest.approx(0.5)
    assert p_value_power(1e-6, 0.01) > 0.95 > p_value_power(0.005, 0.01)


def comparison(estimate, se, support=(0.9, 1.1), refute=(1.0, 1.0), dof=math.inf, p_equivalence=0.5, p_refute=0.5):
    return Comparison("c", estimate, (math.nan, math.nan), 1.0, 0.0, p_refute, p_equivalence, 100, se, dof,
                      support, refute)  # fmt: skip


def test_support_power_is_both_sides_of_the_tost():
    centred = support_power(comparison(1.0, 0.02), 0.01)  # 5 SE from each end
    side = one_sided_power(1.0, 0.02, math.inf, 0.9, 0.01, above=True)
    assert centred == pytest.approx(2 * side - 1) and centred > 0.99
    assert support_power(comparison(1.09, 0.02), 0.01) < 0.2  # half a margin's SE from the upper end
    assert support_power(comparison(1.0, 0.02, support=None, p_equivalence=0.0), 0.01) == 1.0  # refute-only
    assert support_power(comparison(1.0, 0.0, p_equivalence=0.0), 0.01) == 1.0  # deterministic, inside
    assert support_power(comparison(1.2, 0.0, p_equivalence=1.0), 0.01) == 0.0  # deterministic, outside


def test_refute_power_of_a_point_null_is_two_sided():
    far = refute_power(comparison(2.0, 0.1), 0.001)
    assert far == pytest.approx(1.0)
    at_null = refute_power(comparison(1.0, 0.1), 0.001)
    assert at_null == pytest.approx(0.001, rel=1e-6)  # the size of the test


def replicate_ratio_claim(rng, ratio, n, noise):
    den = rng.exponential(size=(n, 1)) + 0.5
    num = ratio * den + noise * rng.standard_normal((n, 1))
    return RatioOfMeans(margin=0.05).compare(PairedSample(num, den, ("c",)), 1.0, None)


@pytest.mark.parametrize(("true_ratio", "noise"), [(1.0, 1.2), (1.02, 0.9), (1.0, 0.7)])
def test_predicted_power_at_the_truth_matches_the_support_rate_of_ratio_of_means(fast_holm, true_ratio, noise):
    """The prediction from the true ratio and SE matches how often RatioOfMeans + Holm supports (300 reps)."""
    rng = np.random.default_rng(11)
    n, reps = 400, 300
    verdicts, predicted = [], []
    for _ in range(reps):
        comparisons = replicate_ratio_claim(rng, true_ratio, n, noise)
        verdicts.append(decide(comparisons, 0.01)[0])
        c = comparisons[0]
        at_truth = Comparison(c.label, true_ratio, c.ci, 1.0, 0.0, 0.5, 0.5, n, c.standard_error, c.dof,
                              c.support_bounds, c.refute_bounds)  # fmt: skip
        predicted.append(predict([ExampleEvidence({}, 0, (at_truth,))], 0.01, twin=False).supported)
    supported = sum(v == Verdict.SUPPORTED for v in verdicts)
    low, high = proportion_confint(supported, reps, alpha=0.001, method="beta")
    mean_predicted = float(np.mean(predicted)) + 0.01  # predict subtracts Holm's alpha as a bound
    assert low - 0.03 <= mean_predicted <= high + 0.03, f"observed {supported}/{reps}, predicted {mean_predicted:.3f}"


def test_predicted_power_matches_the_refutation_rate_of_an_in_region_claim(fast_holm):
    """A slope off by 0.25 with SE 0.1 against within(0.15): predicted refutation vs 1,000 simulated verdicts."""
    rng = np.random.default_rng(12)
    rule, reps, refuted, predicted = within(0.15), 1000, 0, []
    for _ in range(reps):
        estimate = -0.25 + 0.1 * rng.standard_normal()
        comparisons = rule.compare(Estimates.single("slope", estimate, 0.1, math.inf, 10), 0.0, None)
        refuted += decide(comparisons, 0.01)[0] == Verdict.REFUTED
        truth = Comparison("slope", -0.25, (0, 0), 0.0, 0.0, 0.5, 0.5, 10, 0.1, math.inf, comparisons[0].support_bounds,
                           comparisons[0].refute_bounds)  # fmt: skip
        predicted.append(predict([ExampleEvidence({}, 0, (truth,))], 0.01, twin=True).refuted)
    low, high = proportion_confint(refuted, reps, alpha=0.001, method="beta")
    assert low - 0.01 <= float(np.mean(predicted)) <= high + 0.01


def test_claim_level_prediction_combines_examples_and_names_the_limiting_comparison():
    strong, weak = comparison(1.0, 0.01), comparison(1.07, 0.02)
    result = predict([ExampleEvidence({}, 0, (strong,)), ExampleEvidence({}, 1, (strong, weak))], 0.01, twin=False)
    assert result.example == 1 and result.comparison_power == pytest.approx(support_power(weak, 0.01))
    assert result.power < support_power(weak, 0.01) and result.flagged
    with pytest.raises(ValueError, match="at least one comparison"):
        predict([ExampleEvidence({}, 0, ())], 0.01, twin=False)
