"""The factorised NTK of composed ``Network``s against torch.func's jacrev reference, and the samplers on them.

For every layer type (float64, relative 1e-10): the taped forward pass is the ``NetworkModule``'s, every
per-matrix Gram of ``ntk_of_weights`` (trained or not; shared conv/attention matrices, BatchNorm's coupled
inputs) is the jacrev Gram of that parameter, and ``sample_ntk(..., sampler="dense")`` returns exactly the
reference NTK and squared Jacobian norms of ``draw_weights``' networks. Then: which sampler ``auto`` picks,
``exact`` refused where it would be wrong, exact and dense in law on a dense-only net, chunking invariance.
"""

import functools
import math
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from estimators import NTKDraws, sample_ntk
from estimators.ntk import ntk_of_weights, resolve_sampler
from estimators.reference import module_ntk, module_per_parameter_gram
from estimators.sampling import BLOCK, draw_weights
from models.layers import (
    FUNCTIONS,
    HE_GAIN,
    Activation,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Erf,
    Flatten,
    Gelu,
    GlobalAvgPool,
    Identity,
    Layer,
    LayerNorm,
    ReLU,
    Repeat,
    Residual,
    SelfAttention,
    Serial,
    Sigmoid,
    Softmax,
    Softplus,
    Sum,
    Take,
    Tanh,
)
from models.network import Network, NetworkModule

RTOL = 1e-10
SEED = 11
K = 3  # inputs
N_COMPARED = 2  # networks of the first block compared with the reference

DENSE_ONLY = {
    "dense-ntk": Network((3,), Serial(Dense(5), ReLU(), Dense(4), ReLU(), Dense(1))),
    "dense-ntk-bias-stds": Network(
        (3,),
        Serial(Dense(5, bias=True, weight_std=1.3, bias_std=0.4), Erf(), Dense(1, True, weight_std=0.7, bias_std=1.6)),
    ),
    "dense-standard-bias-stds": Network(
        (3,),
        Serial(
            Dense(5, bias=True, parameterization="standard", weight_std=1.4, bias_std=0.3),
            Tanh(),
            Dense(4, parameterization="standard", weight_std=0.6),
            Gelu(),
            Dense(1, bias=True, parameterization="standard", bias_std=2.0),
        ),
    ),
    "dense-mixed-parameterizations": Network(
        (4,),
        Serial(
            Dense(4, parameterization="standard"),
            ReLU(HE_GAIN),
            Dense(4, bias=True),
            Dense(1, parameterization="standard"),
        ),
    ),
    **{
        f"activation-{fn}": Network(
            (3,), Serial(Dense(5, bias=True), Activation(fn, gain=1.3), Dense(4), Activation(fn), Dense(1))
        )
        for fn in FUNCTIONS
    },
    "layer-norm": Network(
        (3,), Serial(Dense(5), LayerNorm(), ReLU(), Dense(4, bias=True), LayerNorm(eps=1e-3), Dense(1))
    ),
    "softmax-take": Network((3,), Serial(Dense(4), Tanh(), Dense(3, bias=True), Softmax(), Take(1))),
    "serial-nested": Network((3,), Serial(Serial(Dense(4), ReLU()), Serial(Serial(Dense(3), Tanh())), Dense(1))),
    "residual": Network(
        (3,),
        Serial(Dense(4), Residual(Serial(Dense(5), ReLU(), Dense(4)), alpha=0.5), Residual(Erf(), -1.5), Dense(1)),
    ),
    "sum": Network(
        (3,),
        Serial(Sum(Dense(4), Serial(Dense(4, bias=True), Sigmoid()), Serial(Dense(2), Dense(4))), Softplus(), Dense(1)),
    ),
    "concat": Network(
        (3,),
        Serial(
            Dense(3),
            Concat(Identity(), Serial(Dense(2), ReLU())),
            Concat(Identity(), Dense(2, bias=True, parameterization="standard")),
            Dense(4, bias=True),
            ReLU(),
            Dense(1),
        ),
    ),
    "repeat": Network(
        (3,),
        Serial(
            Dense(4),
            Repeat(Serial(Dense(4, name="h"), ReLU()), 3),
            Repeat(Residual(Serial(Dense(4), Tanh())), 2),
            Dense(1),
        ),
    ),
    "untrained-dense": Network(
        (3,),
        Serial(
            Dense(5, bias=True, trained=False, name="A"),
            ReLU(),
            Dense(4, parameterization="standard"),
            ReLU(),
            Dense(1, trained=False, name="v"),
        ),
    ),
}
SHARED_OR_COUPLED = {
    "conv1d-circular-odd": Network(
        (5, 2), Serial(Conv(3, 3), ReLU(), Conv(3, 3, bias=True), GlobalAvgPool(), Dense(1))
    ),
    "conv1d-zero-even": Network(
        (5, 2),
        Serial(
            Conv(3, 2, padding="zero", bias=True, bias_std=0.5),
            Tanh(),
            Conv(2, 4, padding="zero", parameterization="standard"),
            Flatten(),
            Dense(1),
        ),
    ),
    "conv1d-circular-even": Network(
        (6, 1),
        Serial(
            Conv(3, 4, weight_std=1.5),
            Erf(),
            Conv(2, 2, bias=True, parameterization="standard"),
            GlobalAvgPool(),
            Dense(1, bias=True),
        ),
    ),
    "conv1d-kernel-is-input": Network(
        (3, 2), Serial(Conv(2, 3, padding="zero"), Sigmoid(), Conv(2, 3), Flatten(), Dense(1))
    ),
    "conv2d-zero": Network(
        (4, 3, 2),
        Serial(
            Conv(3, (3, 2), padding="zero", bias=True), ReLU(), Conv(2, 2, padding="zero"), GlobalAvgPool(), Dense(1)
        ),
    ),
    "conv2d-circular": Network(
        (3, 4, 2),
        Serial(
            Conv(3, (2, 3), bias=True, parameterization="standard", weight_std=0.8),
            Gelu(),
            Conv(2, 3),
            Flatten(),
            Dense(1),
        ),
    ),
    "conv-kernel-1": Network((4, 2), Serial(Conv(3, 1), Softplus(), GlobalAvgPool(), Dense(1))),
    "dense-per-position": Network((4, 2), Serial(Dense(3, bias=True), ReLU(), Flatten(), Dense(1))),
    "conv-layer-norm": Network((4, 2), Serial(Conv(3, 3), LayerNorm(), Tanh(), GlobalAvgPool(), Dense(1))),
    "batch-norm": Network(
        (3,), Serial(Dense(5, bias=True), BatchNorm(), ReLU(), Dense(4), BatchNorm(eps=1e-3), Dense(1))
    ),
    "conv-batch-norm": Network((4, 2), Serial(Conv(3, 3, bias=True), BatchNorm(), ReLU(), GlobalAvgPool(), Dense(1))),
    "affine-layer-norm": Network((3,), Serial(Dense(5), LayerNorm(affine=True), Tanh(), Dense(1))),
    "affine-batch-norm-conv": Network(
        (4, 2),
        Serial(Conv(3, 3), BatchNorm(affine=True, name="bn"), ReLU(), LayerNorm(affine=True), Flatten(), Dense(1)),
    ),
    "attention-1-head-sqrt": Network((4, 4), Serial(SelfAttention(1), GlobalAvgPool(), Dense(1))),
    "attention-2-heads-linear": Network(
        (3, 4), Serial(Dense(4), SelfAttention(2, scaling="linear"), ReLU(), Flatten(), Dense(1))
    ),
    "attention-2-heads-sqrt-residual": Network(
        (4, 4),
        Serial(
            Residual(SelfAttention(2)),
            LayerNorm(),
            Residual(Serial(Dense(4), Gelu(), Dense(4))),
            GlobalAvgPool(),
            Dense(1),
        ),
    ),
    "attention-softmax-take": Network((3, 2), Serial(SelfAttention(1), Flatten(), Dense(3), Softmax(), Take(0))),
    "concat-conv": Network(
        (4, 2),
        Serial(
            Concat(Identity(), Serial(Conv(2, 3), ReLU())),
            Conv(2, 2),
            Concat(Dense(2), Dense(1)),
            GlobalAvgPool(),
            Dense(1),
        ),
    ),
    "untrained-conv-attention": Network(
        (4, 2),
        Serial(
            Conv(4, 3, trained=False),
            ReLU(),
            SelfAttention(2, trained=False),
            Conv(2, 2, bias=True),
            GlobalAvgPool(),
            Dense(1, trained=False),
        ),
    ),
    "everything": Network(
        (6, 2),
        Serial(
            Conv(4, 3),
            ReLU(),
            Residual(Serial(LayerNorm(), Conv(4, 2, bias=True, padding="zero"), Tanh())),
            SelfAttention(2),
            BatchNorm(),
            Sum(Dense(4), Serial(Dense(4, bias=True), Sigmoid())),
            Repeat(Serial(Dense(4, name="r"), Erf()), 2),
            Concat(Identity(), Dense(2)),
            GlobalAvgPool(),
            Dense(3),
            Softmax(),
            Take(2),
        ),
    ),
}
NETWORKS = DENSE_ONLY | SHARED_OR_COUPLED


def inputs(net: Network, k: int = K, seed: int = 0) -> torch.Tensor:
    """k unit-norm inputs of the network's (flattened) input dimension."""
    x = torch.randn(k, net.input_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


@functools.cache
def computed(name: str) -> dict[str, Any]:
    """ntk_of_weights and sample_ntk (dense) on ``draw_weights``' first block, and jacrev references of the
    first N_COMPARED networks: outputs (N, k), per-matrix Grams (N, M, k, k), NTK (N, k, k)."""
    net = NETWORKS[name]
    x = inputs(net)
    weights = draw_weights(net, SEED, 0, 1)
    outputs, grams = ntk_of_weights(net, weights, x)
    draws = sample_ntk(net, x, N_COMPARED, SEED, sampler="dense", device="cpu")
    ref_outputs, ref_grams, ref_ntk = [], [], []
    for b in range(N_COMPARED):
        normals = {n: w[b] for n, w in weights.items()}
        module = NetworkModule(net, normals=normals)
        ref_ntk.append(module_ntk(module, x))  # over the trained parameters only
        for parameter in module.parameters():
            parameter.requires_grad_(True)  # every matrix's Gram, trained or not
        per_parameter = module_per_parameter_gram(module, x)
        ref_grams.append(torch.stack([per_parameter[f"params.p{i}"] for i in range(len(net.weight_shapes()))]))
        with torch.no_grad():
            ref_outputs.append(module(x))
    return {
        "outputs": outputs,
        "grams": grams,
        "draws": draws,
        "ref_outputs": torch.stack(ref_outputs),
        "ref_grams": torch.stack(ref_grams),
        "ref_ntk": torch.stack(ref_ntk),
    }


def assert_relatively_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = RTOL) -> None:
    """max |actual - expected| <= rtol * max |expected| (entry-wise relative is too strict near 0)."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = expected.abs().max().item()
    error = (actual - expected).abs().max().item()
    assert error <= rtol * scale or error == 0.0, f"error {error:.3e} vs scale {scale:.3e}"


def test_table_has_every_layer_type() -> None:
    """The cross-check table exercises every registered layer class, untrained matrices and both paddings."""

    def layers_of(layer: Layer) -> Iterator[Layer]:
        yield layer
        for child in layer.children():
            yield from layers_of(child)

    used = [layer for net in NETWORKS.values() for layer in layers_of(net.layers)]
    assert {type(layer) for layer in used} == set(Layer.registry.values())
    assert {layer.fn for layer in used if isinstance(layer, Activation)} == set(FUNCTIONS)
    assert {layer.padding for layer in used if isinstance(layer, Conv)} == {"circular", "zero"}
    assert {layer.heads for layer in used if isinstance(layer, SelfAttention)} == {1, 2}
    assert {layer.scaling for layer in used if isinstance(layer, SelfAttention)} == {"sqrt", "linear"}
    assert any(not net.trained() >= set(net.weight_shapes()) for net in NETWORKS.values())


@pytest.mark.parametrize("name", NETWORKS)
def test_outputs_match_the_module_forward(name: str) -> None:
    """f from the taped batched pass (and from sample_ntk) is the NetworkModule's forward of the same weights."""
    c = computed(name)
    assert_relatively_close(c["outputs"][:N_COMPARED], c["ref_outputs"], rtol=1e-12)
    assert_relatively_close(c["draws"].outputs, c["ref_outputs"], rtol=1e-12)


@pytest.mark.parametrize("name", NETWORKS)
def test_every_per_matrix_gram_matches_jacrev(name: str) -> None:
    """K_W(x_i, x_j) of every matrix, trained or not, is the jacrev Gram of dF/dW (ntk_of_weights and sample_ntk)."""
    c = computed(name)
    n_matrices = len(NETWORKS[name].weight_shapes())
    assert c["grams"].shape == (BLOCK, n_matrices, K, K)
    for b in range(N_COMPARED):
        for m in range(n_matrices):
            assert_relatively_close(c["grams"][b, m], c["ref_grams"][b, m])
            assert_relatively_close(c["draws"].per_matrix_gram[b, m], c["ref_grams"][b, m])


@pytest.mark.parametrize("name", NETWORKS)
def test_sample_ntk_gram_and_squared_norms_are_the_references(name: str) -> None:
    """sample_ntk's gram is jacrev's NTK over the trained parameters; its squared Jacobian norms are the
    diagonals of the reference per-matrix Grams."""
    c = computed(name)
    draws = c["draws"]
    assert draws.matrix_names == tuple(NETWORKS[name].weight_shapes())
    assert draws.trained == tuple(n in NETWORKS[name].trained() for n in draws.matrix_names)
    assert_relatively_close(draws.gram, c["ref_ntk"])
    norms = torch.diagonal(c["ref_grams"], dim1=-2, dim2=-1)
    for m in range(norms.shape[1]):
        assert_relatively_close(draws.squared_jacobian_norms[:, m], norms[:, m])


# --- which sampler ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_auto_sampler_is_exact_only_for_dense_only_networks(name: str) -> None:
    """``auto`` is the exact low-rank sampler when every matrix is applied once per input to a vector and the
    inputs do not interact; dense for conv, attention, a dense layer over positions, or BatchNorm."""
    net = NETWORKS[name]
    expected = "exact" if name in DENSE_ONLY else "dense"
    assert net.each_weight_once() == (name in DENSE_ONLY)
    assert resolve_sampler("auto", net) == expected
    assert resolve_sampler("dense", net) == "dense"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("conv1d-circular-odd", "shares weights over positions"),
        ("dense-per-position", "shares weights over positions"),
        ("attention-1-head-sqrt", "shares weights over positions"),
        ("batch-norm", r"couples its inputs \(BatchNorm\)"),
        ("affine-layer-norm", r"start at a constant \(normalisation gains and shifts\)"),
    ],
)
def test_exact_sampler_is_refused_where_it_is_wrong(name: str, why: str) -> None:
    """sampler='exact' on a net that shares weights or couples its inputs is a ValueError saying so."""
    net = NETWORKS[name]
    assert SHARED_OR_COUPLED[name].couples_inputs() == (name == "batch-norm")
    with pytest.raises(ValueError, match=why):
        resolve_sampler("exact", net)
    with pytest.raises(ValueError, match=f"sampler='exact' is exact only when.*{why}.*use sampler='dense'") as excinfo:
        sample_ntk(net, inputs(net), 4, 0, sampler="exact", device="cpu")
    assert excinfo.type is ValueError


# --- exact and dense samplers in law ------------------------------------------------------------------------------

LAW_NET = Network(
    (3,),
    Serial(
        Dense(6, bias=True, bias_std=0.5),
        Erf(),
        LayerNorm(),
        Dense(5, bias=True, parameterization="standard", weight_std=1.2),
        Erf(),
        Dense(1, bias=True),
    ),
)
LAW_DRAWS = 20_000


def test_exact_and_dense_samplers_agree_in_law() -> None:
    """A dense-only Network with biases, erf and LayerNorm: E K(x1, x1), E K(x1, x2), E f(x1)^2 and each matrix's
    E ||J^W(x1)||^2 agree between the samplers (independent streams) within 4 standard errors of the difference
    at 20,000 draws each (false-fail <= 6.3e-5 per comparison; a 3% bias in E K(x1, x1) is ~5 SE at this size)."""
    x = torch.tensor([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]], dtype=torch.float64)
    assert resolve_sampler("auto", LAW_NET) == "exact"
    dense = sample_ntk(LAW_NET, x, LAW_DRAWS, 1, sampler="dense", device="cpu")
    exact = sample_ntk(LAW_NET, x, LAW_DRAWS, 2, sampler="exact", device="cpu")

    def quantities(d: NTKDraws) -> dict[str, torch.Tensor]:
        return {
            "K(x1,x1)": d.gram[:, 0, 0],
            "K(x1,x2)": d.gram[:, 0, 1],
            "f(x1)^2": d.outputs[:, 0] ** 2,
            **{f"|J^{n}(x1)|^2": d.squared_jacobian_norms[:, m, 0] for m, n in enumerate(d.matrix_names)},
        }

    for label, a in quantities(dense).items():
        b = quantities(exact)[label]
        standard_error = math.sqrt((a.var() / a.numel() + b.var() / b.numel()).item())
        difference = (a.mean() - b.mean()).item()
        assert abs(difference) <= 4 * standard_error, f"{label}: {difference:.4g} vs SE {standard_error:.3g}"


# --- chunking -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sampler"),
    [("conv2d-zero", "dense"), ("batch-norm", "dense"), ("everything", "dense"), ("layer-norm", "exact")],
)
def test_chunking_does_not_change_the_draws(name: str, sampler: str) -> None:
    """One block per chunk and every block in one chunk give bitwise identical results."""
    net = NETWORKS[name]
    x = inputs(net)
    tiny = sample_ntk(net, x, 3 * BLOCK, 5, chunk_bytes=1, sampler=sampler, device="cpu")
    huge = sample_ntk(net, x, 3 * BLOCK, 5, chunk_bytes=2**40, sampler=sampler, device="cpu")
    assert torch.equal(tiny.outputs, huge.outputs)
    assert torch.equal(tiny.per_matrix_gram, huge.per_matrix_gram)
