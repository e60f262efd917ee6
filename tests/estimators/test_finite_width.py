"""Finite-width kernel statistics: fraction below (with its binomial standard error's coverage), band
widths, grouped normalised spreads, mean errors, and their bad-input errors."""

import numpy as np
import pytest
from scipy.stats import norm

from estimators import sample_ntk
from estimators.finite_width import (
    ENTRY_LABELS,
    band_widths,
    fraction_below,
    grouped_normalised_spread,
    kernel_entries,
    mean_error,
)
from models.resnet import HuangFFNet
from models.vanilla import VanillaNet


def test_fraction_below_standard_error_covers_at_the_nominal_rate():
    """2,000 replicates of 1,000 normal draws against the 0.3 and 0.9 quantiles: the 95% intervals
    p +- 1.96 se cover the true p in 95% of replicates (binomial SE of the coverage: 0.5%)."""
    rng = np.random.default_rng(1)
    values = norm.ppf([0.3, 0.9])
    covered = []
    for _ in range(2000):
        est = fraction_below(rng.normal(size=(1000, 2)), values, ("a", "b"))
        covered.append(np.abs(est.estimate - [0.3, 0.9]) <= 1.96 * est.standard_error)
    assert np.mean(covered, axis=0) == pytest.approx([0.95, 0.95], abs=0.02)


def test_fraction_below_counts_ties_half_and_decides_exactly_outside_the_draws():
    est = fraction_below(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]]), [2.0, 5.0], ("x", "y"))
    assert est.estimate.tolist() == [0.375, 1.0]  # (1 below + 1/2 tie) / 4; all below
    assert est.standard_error[1] == 0.0


def test_band_widths_of_normal_draws_are_two_z95_sigma():
    rng = np.random.default_rng(2)
    widths = band_widths(rng.normal(0.0, [1.0, 3.0], size=(40_000, 2)), groups=4)
    assert widths.shape == (4, 2)
    np.testing.assert_allclose(widths, np.broadcast_to([2 * 1.6449, 6 * 1.6449], (4, 2)), rtol=0.03)


def test_grouped_normalised_spread_is_max_minus_min_of_mean_ratios():
    gram = np.zeros((6, 3, 3))
    gram[:, 0] = [2.0, 1.0, 0.5]  # normalised row: 0.5, 0.25
    np.testing.assert_allclose(grouped_normalised_spread(gram, 3), [0.25, 0.25, 0.25])


def test_mean_error_is_a_standardised_one_sample_difference():
    draws = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    est = mean_error(draws, [2.0, 1.0], [2.0, 1.0], ("a", "b"))
    np.testing.assert_allclose(est.estimate, [0.5, 1.0])
    np.testing.assert_allclose(est.standard_error, [2.0 / np.sqrt(3) / 2.0, 0.0])
    assert est.dof.tolist() == [2.0, 2.0]


def test_kernel_entries_reads_gpk_from_v_and_ntk():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    draws = sample_ntk(HuangFFNet(2, 2, 16), x, 3, seed=0)
    entries = kernel_entries(draws)
    v = draws.matrix_names.index("v")
    assert entries.shape == (3, len(ENTRY_LABELS))
    np.testing.assert_array_equal(entries[:, 1], draws.per_matrix_gram[:, v, 0, 1].numpy())
    np.testing.assert_array_equal(entries[:, 3], draws.gram[:, 0, 1].numpy())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fraction_below(np.ones((1, 2)), [0, 0], ("a", "b")), "B >= 2"),
        (lambda: fraction_below(np.full((3, 1), np.nan), [0], ("a",)), "NaN"),
        (lambda: fraction_below(np.ones((3, 2)), [0], ("a", "b")), "match"),
        (lambda: fraction_below(np.ones((3, 1)), [np.inf], ("a",)), "NaN or inf"),
        (lambda: band_widths(np.ones((3, 2)), 2), "groups"),
        (lambda: band_widths(np.ones((8, 2)), 0), "groups"),
        (lambda: band_widths(np.ones((8, 2)), 2, low=0.9, high=0.1), "low"),
        (lambda: grouped_normalised_spread(np.ones((4, 2, 2)), 2), "k >= 3"),
        (lambda: grouped_normalised_spread(np.ones((4, 3, 3)), 3), "groups"),
        (lambda: mean_error(np.ones((3, 1)), [1.0], [0.0], ("a",)), "scales"),
        (lambda: mean_error(np.ones((3, 2)), [1.0], [1.0], ("a",)), "match"),
    ],
)
def test_bad_input_names_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_kernel_entries_rejects_non_huang_draws():
    draws = sample_ntk(VanillaNet(2, 1, 8), np.array([[1.0, 0.0], [0.0, 1.0]]), 2, seed=0)
    with pytest.raises(ValueError, match="Huang"):
        kernel_entries(draws)


def test_normalised_offdiagonals_are_each_draws_correlations():
    from estimators.finite_width import normalised_offdiagonals

    gram = np.array([[[4.0, 2.0, -1.0], [2.0, 1.0, 0.5], [-1.0, 0.5, 9.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0],
                                                                          [0.0, 1.0, 1.0]]])  # fmt: skip
    values = normalised_offdiagonals(gram)
    assert values.shape == (2, 3)
    assert np.allclose(values[0], [2 / 2, -1 / 6, 0.5 / 3]) and np.allclose(values[1], [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="positive diagonal"):
        normalised_offdiagonals(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        normalised_offdiagonals(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        normalised_offdiagonals(np.full((1, 2, 2), np.nan))
