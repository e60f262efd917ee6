"""The decision rule: interval coverage, error rates, and the three verdicts."""

import gc

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from engine.evidence import Verdict
from engine.rules import PairedSample, RatioOfMeans, SameLaw, TwoSamples, decide, fieller_interval


@pytest.fixture
def fast_holm(monkeypatch):
    """statsmodels' Holm branch calls gc.collect() per call; skip it in the replication loops."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


def paired(rng, ratio, n, columns=1, noise=1.0):
    """Denominators ~ Exp(1) (heavy-ish right tail), numerators = ratio * den + noise."""
    den = rng.exponential(size=(n, columns))
    num = ratio * den + noise * rng.standard_normal((n, columns))
    return PairedSample(num, den, tuple(f"c{i}" for i in range(columns)))


def test_fieller_interval_covers_known_ratio_at_its_level():
    """95% intervals for E[num]/E[den] = 1.5 cover it in about 95% of 400 replications."""
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(400):
        sample = paired(rng, 1.5, 300)
        lo, hi = fieller_interval(sample.numerator[:, 0], sample.denominator[:, 0], 0.95)
        hits += lo <= 1.5 <= hi
    lo, hi = proportion_confint(hits, 400, alpha=0.001, method="beta")
    assert lo <= 0.95 <= hi, f"coverage {hits / 400:.3f}"


def test_fieller_interval_is_unbounded_when_denominator_is_unresolved():
    rng = np.random.default_rng(2)
    num, den = rng.standard_normal(50), rng.standard_normal(50)
    lo, hi = fieller_interval(num, den, 0.99)
    assert np.isinf(lo) or np.isinf(hi)


def test_true_claims_are_refuted_at_most_at_rate_alpha(fast_holm):
    """Family-wise error: 300 true claims of 6 comparisons each are refuted at rate <= alpha = 0.05."""
    rng = np.random.default_rng(3)
    rule, refuted = RatioOfMeans(margin=0.2), 0
    for _ in range(300):
        comparisons = rule.compare(paired(rng, 1.0, 200, columns=6), 1.0, None)
        refuted += decide(comparisons, 0.05)[0] == Verdict.REFUTED
    lo, _ = proportion_confint(refuted, 300, alpha=0.01, method="beta")
    assert lo <= 0.05, f"refuted {refuted}/300"


def test_claims_off_by_more_than_the_margin_are_rarely_supported(fast_holm):
    """A true ratio of 1.25 against a prediction of 1 with margin 20% is supported at rate <= alpha."""
    rng = np.random.default_rng(4)
    rule, supported = RatioOfMeans(margin=0.2), 0
    for _ in range(300):
        comparisons = rule.compare(paired(rng, 1.25, 400), 1.0, None)
        supported += decide(comparisons, 0.05)[0] == Verdict.SUPPORTED
    lo, _ = proportion_confint(supported, 300, alpha=0.01, method="beta")
    assert lo <= 0.05, f"supported {supported}/300"


@pytest.mark.parametrize(
    ("true_ratio", "n", "verdict"),
    [(1.0, 20_000, Verdict.SUPPORTED), (2.0, 20_000, Verdict.REFUTED), (1.0, 20, Verdict.INCONCLUSIVE)],
)
def test_verdicts(true_ratio, n, verdict):
    """Enough data decides either way; too little data is inconclusive, never a silent pass."""
    rng = np.random.default_rng(5)
    comparisons = RatioOfMeans(margin=0.1).compare(paired(rng, true_ratio, n, columns=3), 1.0, 0.99)
    assert decide(comparisons, 0.01)[0] == verdict


def test_exact_agreement_with_zero_variance_is_supported():
    den = np.linspace(1, 2, 10)[:, None]
    comparisons = RatioOfMeans(margin=0.1).compare(PairedSample(den.copy(), den, ("x",)), 1.0, 0.99)
    assert decide(comparisons, 0.01)[0] == Verdict.SUPPORTED


@pytest.mark.parametrize(
    ("num", "den", "labels", "message"),
    [
        (np.ones((5, 2)), np.ones((5, 3)), ("a", "b"), "one shape"),
        (np.ones((5, 2)), np.ones((5, 2)), ("a",), "C labels"),
        (np.ones((1, 1)), np.ones((1, 1)), ("a",), "at least 2 draws"),
        (np.full((3, 1), np.nan), np.ones((3, 1)), ("a",), "NaN"),
    ],
)
def test_paired_sample_rejects_malformed_draws(num, den, labels, message):
    with pytest.raises(ValueError, match=message):
        PairedSample(num, den, labels)


def test_deciding_nothing_is_an_error():
    with pytest.raises(ValueError, match="no comparisons"):
        decide([], 0.01)


@pytest.mark.parametrize(("scale", "verdict"), [(1.0, Verdict.SUPPORTED), (1.15, Verdict.REFUTED)])
def test_same_law_supports_identical_laws_and_refutes_a_rescaled_one(scale, verdict):
    rng = np.random.default_rng(6)
    first, second = rng.exponential(size=(80_000, 2)), scale * rng.exponential(size=(80_000, 2))
    comparisons = SameLaw(margin=0.1, variance_margin=0.1).compare(TwoSamples(first, second, ("a", "b")), 0.0, 0.999)
    assert decide(comparisons, 0.01)[0] == verdict


def test_same_law_detects_a_change_of_shape_with_equal_mean_and_variance():
    """Uniform vs Gaussian with matched mean and variance: only the KS and AD comparisons can see it."""
    rng = np.random.default_rng(7)
    first = rng.standard_normal((20_000, 1))
    second = rng.uniform(-np.sqrt(3), np.sqrt(3), (20_000, 1))
    comparisons = SameLaw(margin=0.1, variance_margin=0.1).compare(TwoSamples(first, second, ("x",)), 0.0, None)
    verdict, decisive, _ = decide(comparisons, 0.01)
    assert verdict == Verdict.REFUTED and comparisons[decisive].label in ("x: KS", "x: AD")
    by_label = {c.label: c for c in comparisons}
    assert by_label["x: AD"].p_refute <= 0.001 and by_label["x: AD"].p_equivalence == 0.0


def test_same_law_anderson_darling_does_not_refute_equal_laws():
    rng = np.random.default_rng(8)
    first, second = rng.standard_normal((20_000, 1)), rng.standard_normal((20_000, 1))
    comparisons = SameLaw(margin=0.1, variance_margin=0.1).compare(TwoSamples(first, second, ("x",)), 0.0, None)
    assert [c.label for c in comparisons] == ["x: KS", "x: AD", "x: mean", "x: variance"]
    assert {c.label: c for c in comparisons}["x: AD"].p_refute > 0.01


@pytest.mark.parametrize(
    ("second_constant", "verdict"), [(0.0, Verdict.SUPPORTED), (1e-18, Verdict.REFUTED), (0.5, Verdict.REFUTED)]
)
def test_same_law_decides_a_point_mass_column_exactly(second_constant, verdict):
    """K(x, -x) = 0 in every draw of both samplers (a ReLU FFNet on 1-d inputs): one exact ``point
    mass`` comparison instead of tests that need spread (scipy's AD raises on one value). A constant
    1e-18 against exact zeros is another point mass: only rounding-level relative gaps count as equal."""
    rng = np.random.default_rng(9)
    spread = rng.standard_normal((40_000, 2))
    first = np.column_stack([spread[:, 0], np.zeros(40_000)])
    second = np.column_stack([spread[:, 1], np.full(40_000, second_constant)])
    comparisons = SameLaw(margin=0.1, variance_margin=0.1).compare(TwoSamples(first, second, ("f", "K")), 0.0, 0.99)
    point_mass = {c.label: c for c in comparisons}["K: point mass"]
    assert point_mass.estimate == -second_constant and point_mass.ci == (-second_constant, -second_constant)
    assert [c.label for c in comparisons if c.label.startswith("K")] == ["K: point mass"]
    assert decide(comparisons, 0.01)[0] == verdict


def test_two_samples_reject_non_finite_draws_by_name():
    with pytest.raises(ValueError, match="TwoSamples contains NaN"):
        TwoSamples(np.full((3, 1), np.inf), np.ones((3, 1)), ("a",))
