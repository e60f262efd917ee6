"""The factorised NTK estimator against torch.func's jacrev reference, and the contract of ``sample_ntk``.

Float64 throughout: the per-layer factorisation and the materialised per-parameter Jacobian agree to
relative 1e-10 on every matrix of every architecture.
"""

import functools

import pytest
import torch

from estimators import NTKDraws, resolve_device, sample_ntk
from estimators.ntk import ntk_of_weights
from estimators.reference import jacrev_ntk, jacrev_per_matrix_gram
from estimators.sampling import BLOCK, draw_weights
from models import DenseNet, HuangFFNet, HuangResNet, LittwinResNet, LZBNet, VanillaNet

RTOL = 1e-10
N_COMPARED = 4  # networks of the first block compared with the reference

SPECS = [
    VanillaNet(input_dim=3, depth=2, widths=(4, 6, 5)),
    VanillaNet(input_dim=4, depth=1, widths=3),
    VanillaNet(input_dim=3, depth=3, widths=(7, 3, 5, 4)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=1, width=5, alphas=(0.5, 0.25)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=3, width=4, alphas=0.5, branch_width=6),
    LittwinResNet(input_dim=4, blocks=1, branch_depth=2, width=7, alphas=1.0, branch_width=3),
    HuangResNet(input_dim=3, depth=2, width=5, gamma=0.5),
    HuangResNet(input_dim=3, depth=3, width=4, gamma=1.0, train_all=True),
    HuangFFNet(input_dim=3, depth=2, width=6),
    HuangFFNet(input_dim=4, depth=1, width=5, train_all=True),
    DenseNet(input_dim=3, depth=2, width=5),
    DenseNet(input_dim=3, depth=3, width=4, alpha=1.5),
    LZBNet(input_dim=3, depth=2, width=5, activation="relu", output_activation="identity"),
    LZBNet(input_dim=3, depth=2, width=4, activation="tanh", output_activation="tanh"),
    LZBNet(input_dim=3, depth=3, width=5, activation="sigmoid", output_activation="sigmoid"),
    LZBNet(input_dim=3, depth=1, width=6, activation="softplus", output_activation="softplus"),
    LZBNet(input_dim=3, depth=3, width=6, activation="tanh", bottleneck_width=3, bottleneck_layer=2),
]
SPEC_IDS = [repr(spec) for spec in SPECS]
ONE_PER_CLASS = [SPECS[0], SPECS[4], SPECS[6], SPECS[8], SPECS[11], SPECS[14]]
ONE_PER_CLASS_IDS = [repr(spec) for spec in ONE_PER_CLASS]


def inputs(spec, k=3, seed=0):
    """k inputs of the spec's dimension, unit norm."""
    x = torch.randn(k, spec.input_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


@functools.cache
def factorised(spec):
    """Weights of the first block (seed 11), inputs, and ntk_of_weights on them."""
    weights = draw_weights(spec, 11, 0, 1)
    x = inputs(spec)
    outputs, grams = ntk_of_weights(spec, weights, x)
    return weights, x, outputs, grams


def network(weights, b):
    return {name: w[b] for name, w in weights.items()}


def assert_relatively_close(actual, expected, rtol=RTOL):
    """max |actual - expected| <= rtol * max |expected| (entry-wise relative is too strict near 0)."""
    scale = expected.abs().max().item()
    error = (actual - expected).abs().max().item()
    assert error <= rtol * scale or error == 0.0, f"error {error:.3e} vs scale {scale:.3e}"


# --- factorisation vs jacrev ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("b", range(N_COMPARED))
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_per_matrix_gram_matches_jacrev(spec, b):
    """K_W(x_i, x_j) of every matrix (trained or not) equals the jacrev Gram of dF/dW."""
    weights, x, _, grams = factorised(spec)
    reference = jacrev_per_matrix_gram(spec, network(weights, b), x)
    assert list(reference) == list(spec.weight_shapes())
    assert grams.shape == (BLOCK, len(reference), 3, 3)
    for m, name in enumerate(reference):
        assert_relatively_close(grams[b, m], reference[name])


@pytest.mark.parametrize("b", range(N_COMPARED))
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_trained_gram_matches_jacrev_ntk(spec, b):
    """The sum of per-matrix Grams over trained matrices is jacrev's empirical NTK."""
    weights, x, outputs, grams = factorised(spec)
    names = tuple(spec.weight_shapes())
    draws = NTKDraws(names, tuple(n in spec.trained() for n in names), outputs, grams)
    assert_relatively_close(draws.gram[b], jacrev_ntk(spec, network(weights, b), x))


@pytest.mark.parametrize("b", range(N_COMPARED))
@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_outputs_match_the_module_forward(spec, b):
    """f from the taped batched pass equals the nn.Module of network b."""
    weights, x, outputs, _ = factorised(spec)
    module = spec.module()
    with torch.no_grad():
        for name, parameter in module.weights.items():
            parameter.copy_(weights[name][b])
        expected = module(x)
    assert_relatively_close(outputs[b], expected, rtol=1e-13)


@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
def test_sample_ntk_gram_is_jacrev_ntk_of_the_drawn_networks(spec):
    """sample_ntk's networks are draw_weights' networks: its gram is jacrev's NTK of those weights."""
    x = inputs(spec)
    draws = sample_ntk(spec, x, N_COMPARED, seed=11, device="cpu", sampler="dense")
    weights = draw_weights(spec, 11, 0, 1)
    expected = torch.stack([jacrev_ntk(spec, network(weights, b), x) for b in range(N_COMPARED)])
    assert_relatively_close(draws.gram, expected)


# --- sample_ntk's contract -----------------------------------------------------------------------------------------


@functools.cache
def sampled(spec, n_draws=10, seed=3, dtype=torch.float64):
    return sample_ntk(spec, inputs(spec, k=4), n_draws, seed, device="cpu", dtype=dtype, sampler="dense")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
def test_sample_ntk_returns_cpu_float64_tensors_of_documented_shapes(spec, dtype):
    """outputs (B, k), per_matrix_gram (B, M, k, k), gram (B, k, k), squared norms (B, M, k); CPU float64."""
    draws = sampled(spec, dtype=dtype)
    n_matrices = len(spec.weight_shapes())
    assert draws.n_draws == 10
    assert draws.matrix_names == tuple(spec.weight_shapes())
    assert draws.trained == tuple(n in spec.trained() for n in draws.matrix_names)
    expected_shapes = {
        "outputs": (10, 4),
        "per_matrix_gram": (10, n_matrices, 4, 4),
        "gram": (10, 4, 4),
        "squared_jacobian_norms": (10, n_matrices, 4),
    }
    for attribute, shape in expected_shapes.items():
        tensor = getattr(draws, attribute)
        assert tensor.shape == shape, attribute
        assert tensor.dtype == torch.float64 and tensor.device.type == "cpu", attribute
        assert torch.isfinite(tensor).all(), attribute


@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
def test_gram_is_symmetric_positive_semidefinite(spec):
    """Each draw's NTK Gram is symmetric with eigenvalues >= -1e-10 * the largest."""
    gram = sampled(spec).gram
    torch.testing.assert_close(gram, gram.transpose(-1, -2), rtol=1e-14, atol=1e-14)
    eigenvalues = torch.linalg.eigvalsh(gram)
    assert (eigenvalues >= -1e-10 * eigenvalues.abs().amax(dim=-1, keepdim=True)).all()


@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
def test_gram_diagonal_is_the_sum_of_trained_squared_jacobian_norms(spec):
    """Littwin et al. Eq. 11: K(x, x) = sum over trained W of ||J^W(x)||^2."""
    draws = sampled(spec)
    mask = torch.tensor(draws.trained)
    torch.testing.assert_close(
        torch.diagonal(draws.gram, dim1=-2, dim2=-1),
        draws.squared_jacobian_norms[:, mask].sum(dim=1),
        rtol=1e-14,
        atol=0.0,
    )
    assert (draws.squared_jacobian_norms >= 0).all()


# --- determinism and chunking --------------------------------------------------------------------------------------

CHUNK_SPEC = VanillaNet(input_dim=3, depth=2, widths=5)
CHUNK_X = inputs(CHUNK_SPEC)


def assert_bitwise_equal(a, b):
    assert a.matrix_names == b.matrix_names and a.trained == b.trained
    assert torch.equal(a.outputs, b.outputs)
    assert torch.equal(a.per_matrix_gram, b.per_matrix_gram)


def test_same_seed_is_bitwise_reproducible():
    """Two calls with the same seed return identical tensors."""
    assert_bitwise_equal(
        sample_ntk(CHUNK_SPEC, CHUNK_X, 200, 5, sampler="dense"),
        sample_ntk(CHUNK_SPEC, CHUNK_X, 200, 5, sampler="dense"),
    )


def test_chunking_does_not_change_the_draws():
    """One block per chunk and all blocks in one chunk give bitwise identical results."""
    tiny = sample_ntk(CHUNK_SPEC, CHUNK_X, 3 * BLOCK, 5, chunk_bytes=1, sampler="dense")
    huge = sample_ntk(CHUNK_SPEC, CHUNK_X, 3 * BLOCK, 5, chunk_bytes=2**40, sampler="dense")
    assert_bitwise_equal(tiny, huge)


def test_different_seeds_give_different_draws():
    """Seeds 5 and 6 give different networks in every row."""
    a, b = (
        sample_ntk(CHUNK_SPEC, CHUNK_X, 20, 5, sampler="dense"),
        sample_ntk(CHUNK_SPEC, CHUNK_X, 20, 6, sampler="dense"),
    )
    assert (a.outputs != b.outputs).any(dim=1).all()


@pytest.mark.parametrize("n_draws", [1, 5, BLOCK - 1, BLOCK + 2])
def test_n_draws_rows_are_a_prefix_of_a_larger_call(n_draws):
    """n_draws (not a multiple of BLOCK) gives exactly n_draws rows: the first rows of a larger call."""
    small = sample_ntk(CHUNK_SPEC, CHUNK_X, n_draws, 5, sampler="dense")
    large = sample_ntk(CHUNK_SPEC, CHUNK_X, 2 * BLOCK + 7, 5, sampler="dense")
    assert small.outputs.shape[0] == small.per_matrix_gram.shape[0] == small.n_draws == n_draws
    assert torch.equal(small.outputs, large.outputs[:n_draws])
    assert torch.equal(small.per_matrix_gram, large.per_matrix_gram[:n_draws])


# --- degenerate inputs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
@pytest.mark.parametrize(("sampler", "rtol"), [("dense", 1e-13), ("exact", 1e-10)])
def test_repeated_inputs_give_finite_equal_rows(spec, sampler, rtol):
    """k = 3 with two equal rows: a rank-deficient Gram, still finite, with equal rows and columns
    (the exact sampler's eigh-based roots agree to rounding, not bitwise: eigh is norm-wise backward
    stable, so rows are compared relative to each draw's largest |K| entry — a small entry can differ
    by more, relatively: 1.6e-10 on one CPU for the pooled-noise DenseNet, whose dF/dq^h sums one
    eigh-based term per later layer)."""
    x = inputs(spec)
    x[1] = x[0]
    draws = sample_ntk(spec, x, 16, 2, sampler=sampler)
    assert torch.isfinite(draws.per_matrix_gram).all() and torch.isfinite(draws.outputs).all()
    torch.testing.assert_close(draws.outputs[:, 0], draws.outputs[:, 1], rtol=rtol, atol=1e-15)
    scale = draws.gram.abs().amax(dim=(1, 2)).unsqueeze(-1)
    assert ((draws.gram[:, 0] - draws.gram[:, 1]).abs() <= rtol * scale + 1e-15).all()
    assert (torch.linalg.det(draws.gram).abs() <= 1e-10 * draws.gram.abs().amax(dim=(1, 2)) ** 3).all()


ZERO_MAPS_TO_ZERO = [
    *ONE_PER_CLASS[:5],
    LZBNet(input_dim=3, depth=2, width=5, activation="relu"),
    LZBNet(input_dim=3, depth=2, width=5, activation="tanh", output_activation="tanh"),
]
ZERO_MAPS_TO_NONZERO = [
    LZBNet(input_dim=3, depth=2, width=5, activation="sigmoid"),
    LZBNet(input_dim=3, depth=2, width=5, activation="softplus"),
    LZBNet(input_dim=3, depth=2, width=5, activation="tanh", output_activation="sigmoid"),
]


@pytest.mark.parametrize("spec", ZERO_MAPS_TO_ZERO, ids=[repr(s) for s in ZERO_MAPS_TO_ZERO])
def test_zero_input_gives_zero_output_and_finite_ntk(spec):
    """The all-zeros input is valid; bias-free nets with phi(0) = 0 give f = 0 and a finite NTK."""
    draws = sample_ntk(spec, torch.zeros(1, spec.input_dim), 16, 2, sampler="dense")
    assert torch.equal(draws.outputs, torch.zeros(16, 1, dtype=torch.float64))
    assert torch.isfinite(draws.per_matrix_gram).all()
    assert (draws.gram >= 0).all()


@pytest.mark.parametrize("spec", ZERO_MAPS_TO_NONZERO, ids=[repr(s) for s in ZERO_MAPS_TO_NONZERO])
def test_zero_input_with_nonzero_activation_at_zero_is_finite(spec):
    """Sigmoid/softplus layers do not map 0 to 0; f and the NTK at x = 0 are still finite (no NaN)."""
    draws = sample_ntk(spec, torch.zeros(2, spec.input_dim), 16, 2, sampler="dense")
    assert torch.isfinite(draws.outputs).all() and torch.isfinite(draws.per_matrix_gram).all()
    assert (draws.gram >= 0).all()


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[14]], ids=[repr(SPECS[0]), repr(SPECS[14])])
def test_zero_and_nonzero_inputs_mixed_match_jacrev(spec):
    """A batch with an all-zeros row still matches the jacrev reference."""
    x = inputs(spec)
    x[2] = 0.0
    weights = draw_weights(spec, 4, 0, 1)
    _, grams = ntk_of_weights(spec, weights, x)
    names = tuple(spec.weight_shapes())
    gram = grams[:, [n in spec.trained() for n in names]].sum(dim=1)
    assert_relatively_close(gram[0], jacrev_ntk(spec, network(weights, 0), x))


# --- devices -------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_auto_device_is_cpu_without_cuda():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_device_is_cuda_with_cuda():
    assert resolve_device("auto").type == "cuda"


@pytest.mark.parametrize("name", ["cpu", torch.device("cpu")], ids=["str", "device"])
def test_cpu_resolves_to_cpu(name):
    assert resolve_device(name) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("name", ["cuda", torch.device("cuda")], ids=["str", "device"])
def test_cuda_without_cuda_is_a_value_error(name):
    """Requesting CUDA where torch has none is a ValueError mentioning cuda."""
    with pytest.raises(ValueError, match="cuda"):
        resolve_device(name)


@pytest.mark.parametrize("name", ["tpu", "mps", "", "CPU"])
def test_unknown_device_is_a_value_error(name):
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("spec", ONE_PER_CLASS, ids=ONE_PER_CLASS_IDS)
def test_cuda_matches_cpu_on_the_same_weights(spec):
    """The same CPU-drawn weights give the same NTK on CUDA as on CPU (relative 1e-8 on the Gram mean)."""
    weights, x, cpu_outputs, cpu_grams = factorised(spec)
    cuda_outputs, cuda_grams = ntk_of_weights(spec, {n: w.cuda() for n, w in weights.items()}, x.cuda())
    assert cuda_grams.device.type == "cuda"
    assert_relatively_close(cuda_outputs.cpu(), cpu_outputs, rtol=1e-8)
    assert_relatively_close(cuda_grams.cpu().mean(dim=0), cpu_grams.mean(dim=0), rtol=1e-8)
    assert_relatively_close(cuda_grams.cpu(), cpu_grams, rtol=1e-8)
