"""Connection graphs and the reduced network f_(k) (Littwin et al., Definition 1).

The graph of a spec computes the spec's f on the same weights; the reduced network of a vanilla
matrix is the net itself; small ResNets and DenseNets are checked against reduced nets written out
by hand (float64, 1e-12).
"""

import math

import pytest
import torch
from hypothesis import given, settings

from estimators.sampling import draw_weights
from models import DenseNet, HuangFFNet, LittwinResNet, VanillaNet
from models.activations import ACTIVATIONS
from models.base import spec_from_json
from models.reduced import (
    ConnectionGraph,
    bypassing_edges,
    connection_graph,
    dense_graph,
    reduced_network,
    residual_graph,
)
from models.strategies_littwin import MatrixCase, littwin_architectures

SPECS = [
    VanillaNet(input_dim=3, depth=2, widths=(4, 6, 5)),
    VanillaNet(input_dim=2, depth=1, widths=3),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=1, width=5, alphas=(0.5, 0.25)),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=3, width=4, alphas=0.5, branch_width=6),
    LittwinResNet(input_dim=4, blocks=3, branch_depth=2, width=5, alphas=(0.1, 2.0, 0.7), branch_width=3),
    DenseNet(input_dim=3, depth=1, width=5),
    DenseNet(input_dim=3, depth=3, width=4, alpha=1.5),
]
IDS = [repr(s) for s in SPECS]
q = ACTIVATIONS["relu_he"]


def inputs(spec, k=2, seed=0):
    x = torch.randn(k, spec.input_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (x / x.norm(dim=1, keepdim=True)).expand(16, k, spec.input_dim)


def close(a, b, rtol=1e-12):
    scale = max(b.abs().max().item(), 1e-300)
    assert (a - b).abs().max().item() <= rtol * scale


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_graph_computes_the_spec(spec):
    graph = connection_graph(spec)
    assert graph.weight_shapes() == spec.weight_shapes()
    assert graph.trained() == spec.trained()
    weights = draw_weights(spec, 3, 0, 1)
    close(graph.apply(weights, inputs(spec)), spec.apply(weights, inputs(spec)))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_reduced_networks_round_trip_and_keep_names(spec):
    for name in spec.weight_shapes():
        reduced = reduced_network(spec, name)
        assert spec_from_json(reduced.to_json()) == reduced
        assert hash(spec_from_json(reduced.to_json())) == hash(reduced)
        assert name in reduced.weight_shapes()
        shapes = spec.weight_shapes()
        assert all(shapes[n] == s for n, s in reduced.weight_shapes().items())


@pytest.mark.parametrize("spec", [s for s in SPECS if isinstance(s, VanillaNet)], ids=repr)
def test_vanilla_reduced_network_is_the_network(spec):
    for name in spec.weight_shapes():
        assert bypassing_edges(spec, name) == ()
        assert reduced_network(spec, name) == connection_graph(spec)


@pytest.mark.parametrize("spec", [s for s in SPECS if not isinstance(s, VanillaNet)], ids=repr)
def test_first_and_last_matrices_are_never_bypassed(spec):
    for name in ("W0", "Wout"):
        assert reduced_network(spec, name) == connection_graph(spec)


def test_resnet_reduced_network_drops_only_its_blocks_skip():
    """f_(W^{2,h}) of a 3-block ResNet: y^2 = sqrt(alpha_2) y^{1,m}, blocks 1 and 3 keep their skips."""
    spec = SPECS[4]
    weights = draw_weights(spec, 5, 0, 1)
    x = inputs(spec)
    n, nb, alphas = spec.width, spec.branch_width, spec.alphas

    def branch(l, y):
        inner = torch.matmul(y, weights[f"W{l},1"].transpose(-1, -2)) / math.sqrt(n)
        return torch.matmul(q(inner), weights[f"W{l},2"].transpose(-1, -2)) / math.sqrt(nb)

    y0 = torch.matmul(x, weights["W0"].transpose(-1, -2)) / math.sqrt(spec.input_dim)
    y1 = y0 + math.sqrt(alphas[0]) * branch(1, y0)
    y2 = math.sqrt(alphas[1]) * branch(2, y1)  # no skip around block 2
    y3 = y2 + math.sqrt(alphas[2]) * branch(3, y2)
    expected = torch.matmul(y3, weights["Wout"].transpose(-1, -2))[..., 0] / math.sqrt(n)
    for h in (1, 2):
        assert [e[0] for e in bypassing_edges(spec, f"W2,{h}")] == [""]
        close(reduced_network(spec, f"W2,{h}").apply(weights, x), expected)


def test_densenet_reduced_network_keeps_only_paths_through_the_matrix():
    """f_(W^{2,1}) of a depth-3 DenseNet: y^1 from y^0 only, y^2 = c_2 W^{2,1} q^1, y^3 = c_3 W^{3,2} q^2."""
    spec = SPECS[6]
    weights = draw_weights(spec, 7, 0, 1)
    x = inputs(spec)

    def layer(l, h, y):
        return math.sqrt(spec.alpha / (l * spec.width)) * torch.matmul(q(y), weights[f"W{l},{h}"].transpose(-1, -2))

    y0 = torch.matmul(x, weights["W0"].transpose(-1, -2)) / math.sqrt(spec.input_dim)
    y1 = layer(1, 0, y0)
    y2 = layer(2, 1, y1)
    y3 = layer(3, 2, y2)
    expected = torch.matmul(y3, weights["Wout"].transpose(-1, -2))[..., 0] / math.sqrt(spec.width)
    reduced = reduced_network(spec, "W2,1")
    assert sorted(reduced.weight_shapes()) == ["W0", "W1,0", "W2,1", "W3,2", "Wout"]
    close(reduced.apply(weights, x), expected)
    # W^{3,0}: the intermediate layers y^1, y^2 are cut off and dropped
    skipping = reduced_network(spec, "W3,0")
    assert sorted(skipping.weight_shapes()) == ["W0", "W3,0", "Wout"]
    assert len(skipping.widths) == 3  # y^0, y^3, f
    close(skipping.apply(weights, x), torch.matmul(layer(3, 0, y0), weights["Wout"].transpose(-1, -2))[..., 0] / 2.0)


@settings(max_examples=25, deadline=None)
@given(littwin_architectures())
def test_every_path_of_a_reduced_network_crosses_its_matrix(spec):
    """Zeroing W^k zeroes f_(k) (every input-output path crosses W^k), for any drawn architecture."""
    x = inputs(spec, k=1)
    weights = draw_weights(spec, 1, 0, 1)
    for name in spec.weight_shapes():
        reduced = reduced_network(spec, name)
        assert reduced.apply(weights, x).abs().max() > 0
        zeroed = dict(weights) | {name: torch.zeros_like(weights[name])}
        assert reduced.apply(zeroed, x).abs().max() == 0


def test_output_matrix():
    assert connection_graph(SPECS[3]).output_matrix == "Wout"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"input_dim": 0}, "input_dim"),
        ({"widths": (3, 2)}, "output node"),
        ({"widths": ()}, "widths"),
        ({"edges": ()}, "edges"),
        ({"edges": (("W0", 0, 1, 1.0, "identity"), ("Wout", 1, 2, float("nan"), "identity"))}, "edges.1.*scale"),
        ({"edges": (("W0", 0, 1, 1.0, "tanh"), ("Wout", 1, 2, 1.0, "identity"))}, "activation"),
        ({"edges": (("W0", 0, 1, 1.0, "identity"), ("W0", 1, 2, 1.0, "identity"))}, "unique"),
        ({"edges": (("W0", 0, 1, 1.0, "identity"), ("Wout", 2, 1, 1.0, "identity"))}, "forward"),
        ({"edges": (("Wout", 1, 2, 1.0, "identity"), ("W0", 0, 1, 1.0, "identity"))}, "sorted"),
        ({"edges": (("", 0, 1, 1.0, "identity"), ("Wout", 1, 2, 1.0, "identity"))}, "skip"),
        ({"edges": (("W0", 0, 1, 1.0, "identity"), ("Wout", 0, 2, 1.0, "identity"))}, "outgoing"),
        ({"edges": (("W0", 0, 1, 1.0, "identity", 3),)}, r"edges\[0\]"),
    ],
)
def test_bad_graphs_name_the_field(change, message):
    fields = {
        "input_dim": 2,
        "widths": (3, 1),
        "edges": (("W0", 0, 1, 1.0, "identity"), ("Wout", 1, 2, 1.0, "identity")),
    }
    with pytest.raises(ValueError, match=message):
        ConnectionGraph(**(fields | change))


def test_unknown_spec_and_matrix():
    with pytest.raises(ValueError, match="connection_graph knows"):
        connection_graph(HuangFFNet(input_dim=2, depth=1, width=3))
    with pytest.raises(ValueError, match="no weight matrix 'W9'"):
        reduced_network(SPECS[0], "W9")


def test_matrix_case_validates_and_serialises():
    case = MatrixCase(SPECS[3], ((0.6, 0.8, 0.0),), "W2,3")
    assert case.to_json()["matrix"] == "W2,3"
    assert spec_from_json(case.to_json()["spec"]) == SPECS[3]
    with pytest.raises(ValueError, match=r"MatrixCase\.matrix 'W3,1'"):
        MatrixCase(SPECS[3], ((0.6, 0.8, 0.0),), "W3,1")
    with pytest.raises(ValueError, match="inputs"):
        MatrixCase(SPECS[3], ((0.6, 0.8),), "W2,3")


def test_residual_graph_with_per_layer_branch_widths_computes_eq9():
    """Block l: y^l = y^{l-1} + sqrt(alpha_l) W^{l,m} q(... W^{l,1} y^{l-1} / sqrt(n)) / sqrt(n_{l-1,m-1})."""
    n, hidden, alphas = 5, ((3, 7), (4, 2)), (0.3, 1.7)
    spec = residual_graph(3, n, hidden, alphas)
    assert spec.weight_shapes()["W1,2"] == (7, 3) and spec.weight_shapes()["W2,3"] == (5, 2)
    weights = draw_weights(spec, 4, 0, 1)
    x = inputs(spec)

    def mm(h, name, fan_in):
        return torch.matmul(h, weights[name].transpose(-1, -2)) / math.sqrt(fan_in)

    y = mm(x, "W0", spec.input_dim)
    for l, (widths, alpha) in enumerate(zip(hidden, alphas, strict=True), start=1):
        z = mm(y, f"W{l},1", n)
        z = mm(q(z), f"W{l},2", widths[0])
        z = mm(q(z), f"W{l},3", widths[1])
        y = y + math.sqrt(alpha) * z
    close(spec.apply(weights, x), mm(y, "Wout", n)[..., 0])
    assert [e[0] for e in bypassing_edges(spec, "W2,2")] == [""]


def test_dense_graph_with_per_layer_widths_uses_the_concatenations_fan_in():
    """y^l = sqrt(alpha / (n_0 + ... + n_{l-1})) sum_h W^{l,h} q^h (Eq. 10 with per-layer widths)."""
    widths, alpha = (4, 6, 3), 0.7
    spec = dense_graph(2, widths, alpha)
    assert spec.weight_shapes()["W2,1"] == (3, 6)
    weights = draw_weights(spec, 5, 0, 1)
    x = inputs(spec)
    ys = [torch.matmul(x, weights["W0"].transpose(-1, -2)) / math.sqrt(2)]
    for l in (1, 2):
        total = sum(torch.matmul(q(ys[h]), weights[f"W{l},{h}"].transpose(-1, -2)) for h in range(l))
        ys.append(math.sqrt(alpha / sum(widths[:l])) * total)
    close(spec.apply(weights, x), torch.matmul(ys[-1], weights["Wout"].transpose(-1, -2))[..., 0] / math.sqrt(3))
    assert dense_graph(3, (4,) * 4, 1.5) == connection_graph(SPECS[6])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: residual_graph(2, 3, ((3,),), (0.5, 0.5)), "one branch"),
        (lambda: dense_graph(2, (3,), 0.5), "L >= 1"),
    ],
)
def test_graph_builders_reject_bad_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
