"""The pooled-noise DenseNet sampler (estimators/densenet_exact.py) has the dense network's law for every
weight matrix, not only for the totals the agreement claim looks at."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import ttest_ind

from estimators import sample_ntk
from estimators.densenet_exact import densenet_ntk_exact
from models.densenet import DenseNet

X = ((0.6, 0.8, 0.0), (0.0, 0.6, 0.8))


def test_every_per_matrix_gram_moment_matches_dense_weights() -> None:
    """Welch tests of E[K_W] and E[K_W^2] (diagonal and off-diagonal) for all 12 matrices of a depth-3
    DenseNet, 60,000 draws per sampler, Bonferroni at family-wise 0.001 (fixed seeds: deterministic)."""
    spec = DenseNet(3, 3, 5, alpha=1.5)
    exact = sample_ntk(spec, X, 60_000, 1, sampler="exact").per_matrix_gram.numpy()
    dense = sample_ntk(spec, X, 60_000, 2, sampler="dense").per_matrix_gram.numpy()
    p_values = [
        ttest_ind(exact[:, m, 0, j] ** power, dense[:, m, 0, j] ** power, equal_var=False).pvalue
        for m in range(exact.shape[1])
        for j in (0, 1)
        for power in (1, 2)
    ]
    assert min(p_values) > 0.001 / len(p_values)


def test_chunking_and_seed_reproducibility() -> None:
    spec = DenseNet(3, 4, 6)
    one = sample_ntk(spec, X, 48, 9, sampler="exact")
    chunked = sample_ntk(spec, X, 48, 9, sampler="exact", chunk_bytes=1)
    assert torch.equal(one.per_matrix_gram, chunked.per_matrix_gram) and torch.equal(one.outputs, chunked.outputs)
    assert not torch.equal(one.outputs, sample_ntk(spec, X, 48, 10, sampler="exact").outputs)


@pytest.mark.parametrize("x", [((1.0, 0, 0), (1.0, 0, 0)), ((0.0, 0, 0), (1.0, 0, 0)), ((1.0, 0, 0), (-1.0, 0, 0))])
def test_rank_deficient_inputs_and_width_one_stay_finite(x: tuple) -> None:
    f, grams = densenet_ntk_exact(DenseNet(3, 3, 1), torch.tensor(x, dtype=torch.float64), 0, 0, 4)
    assert torch.isfinite(f).all() and torch.isfinite(grams).all()
    assert np.allclose(grams.sum(1)[:, 0, 1].numpy(), grams.sum(1)[:, 1, 0].numpy())
