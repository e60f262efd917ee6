"""``models.strategies_composed``: every drawn network builds, round-trips JSON, and its factorised NTK is
the jacrev reference's; the strategy reaches every layer kind and honours its arguments."""

import json
from collections.abc import Iterator

import pytest
import torch
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from estimators.ntk import ntk_of_weights
from estimators.reference import module_per_parameter_gram
from models.base import spec_from_json
from models.layers import Conv, Dense, Layer
from models.network import Network, NetworkModule
from models.strategies import NetworkCase
from models.strategies_composed import LAYER_KINDS, composed_cases, composed_networks

RTOL = 1e-10
N_NETWORKS = 2
EXAMPLES = settings(max_examples=15, deadline=None, derandomize=True, database=None)
SEARCH = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

KIND_LAYERS = {  # strategy kind -> the layer kind it puts in the tree
    "dense": "dense",
    "conv": "conv",
    "layer_norm": "layer_norm",
    "batch_norm": "batch_norm",
    "attention": "self_attention",
    "residual": "residual",
    "concat": "concat",
}


def layers_of(layer: Layer) -> Iterator[Layer]:
    yield layer
    for child in layer.children():
        yield from layers_of(child)


def kinds_of(net: Network) -> set[str]:
    return {layer.kind for layer in layers_of(net.layers)}


def assert_relatively_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = RTOL) -> None:
    scale = expected.abs().max().item()
    error = (actual - expected).abs().max().item()
    assert error <= rtol * scale or error == 0.0, f"error {error:.3e} vs scale {scale:.3e}"


@EXAMPLES
@given(composed_cases(), st.integers(0, 2**32 - 1))
def test_drawn_network_builds_round_trips_and_matches_jacrev(case: NetworkCase, seed: int) -> None:
    """For all drawn (network, inputs): JSON text round trip is the same network, and ntk_of_weights'
    outputs and per-matrix Grams equal the nn.Module's forward and jacrev Grams (float64, relative 1e-10)."""
    net = case.spec
    assert isinstance(net, Network) and net.weight_shapes()
    assert spec_from_json(json.dumps(net.to_json())) == net
    x = net.check_inputs(case.inputs)
    assert torch.allclose(x.norm(dim=1), torch.ones(x.shape[0], dtype=torch.float64))
    generator = torch.Generator().manual_seed(seed)
    shapes = net.weight_shapes()
    normals = {n: torch.randn((N_NETWORKS, *s), generator=generator, dtype=torch.float64) for n, s in shapes.items()}
    outputs, grams = ntk_of_weights(net, normals, x)
    assert grams.shape == (N_NETWORKS, len(shapes), x.shape[0], x.shape[0])
    for b in range(N_NETWORKS):
        module = NetworkModule(net, normals={n: z[b] for n, z in normals.items()})
        for parameter in module.parameters():
            parameter.requires_grad_(True)  # every matrix's Gram, trained or not
        with torch.no_grad():
            assert_relatively_close(outputs[b], module(x), rtol=1e-12)
        reference = module_per_parameter_gram(module, x)
        for i in range(len(shapes)):
            assert_relatively_close(grams[b, i], reference[f"params.p{i}"])


def test_strategy_reaches_every_kind() -> None:
    """Over 200 derandomised draws, every layer kind appears, both with all kinds allowed and alone in ``kinds``
    (alone, layer norm needs >= 2 channels, else a dense block stands in)."""
    seen: set[str] = set()
    seen_alone: set[str] = set()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(
        composed_networks(),
        st.sampled_from(LAYER_KINDS).flatmap(lambda k: st.tuples(st.just(k), composed_networks(kinds=(k,)))),
    )
    def draw(net: Network, alone: tuple[str, Network]) -> None:
        seen.update(kinds_of(net))
        kind, only = alone
        assert kinds_of(only) <= {"serial", "activation", "global_avg_pool", "flatten", "dense", KIND_LAYERS[kind]}
        if KIND_LAYERS[kind] in kinds_of(only):
            seen_alone.add(kind)

    draw()
    assert {KIND_LAYERS[kind] for kind in LAYER_KINDS} <= seen
    assert seen_alone == set(LAYER_KINDS)


def test_strategy_shrinks_to_small_networks() -> None:
    """Found examples shrink to one block on the smallest input that has it, with a plain readout (Hypothesis
    minimises the number of choices first, so a parameter-free block beats a dense one)."""
    smallest = find(composed_networks(), lambda net: True, settings=SEARCH)
    assert len(smallest.input_shape) == 1 and smallest.input_shape[0] <= 2
    assert len(smallest.layers.children()) <= 3 and smallest.layers.children()[-1] == Dense(1)
    conv = find(composed_networks(), lambda net: "conv" in kinds_of(net), settings=SEARCH)
    assert conv.input_shape == (2, 1)
    assert [layer.kind for layer in conv.layers.children()] == ["conv", "activation", "global_avg_pool", "dense"]


@EXAMPLES
@given(composed_networks(max_depth=2, min_width=3, max_width=4, kinds=("dense", "conv"), bias=True,
                         parameterization="standard"))  # fmt: skip
def test_strategy_honours_its_arguments(net: Network) -> None:
    """Fixed bias / parameterisation apply to every linear layer; hidden widths stay in range."""
    linear = [layer for layer in layers_of(net.layers) if isinstance(layer, Dense | Conv)]
    assert all(layer.bias and layer.parameterization == "standard" for layer in linear)
    assert all(3 <= (layer.width if isinstance(layer, Dense) else layer.channels) <= 4 for layer in linear[:-1])
    assert kinds_of(net) <= {"serial", "dense", "conv", "activation", "global_avg_pool", "flatten"}
    assert len(linear) - 1 <= 2


@EXAMPLES
@given(composed_cases(composed_networks(kinds=("batch_norm",)), min_inputs=1, max_inputs=2))
def test_batch_norm_cases_have_two_inputs(case: NetworkCase) -> None:
    """A network whose inputs interact (BatchNorm) always gets k >= 2 inputs."""
    assert case.spec.couples_inputs() == ("batch_norm" in kinds_of(case.spec))
    assert not case.spec.couples_inputs() or len(case.inputs) >= 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kinds": ("pooling",)}, "kinds"),
        ({"kinds": ()}, "kinds"),
        ({"min_width": 5, "max_width": 4}, "min_width"),
        ({"max_depth": 0}, "max_depth"),
    ],
)
def test_strategy_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        find(composed_networks(**kwargs), lambda net: True, settings=SEARCH)
