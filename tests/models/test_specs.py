"""Architecture specs: frozen, hashable, JSON round-trips, chained weight shapes, trained sets, forward passes."""

import dataclasses
import json

import numpy as np
import pytest
import torch

import models
from models import DenseNet, HuangFFNet, HuangResNet, LittwinResNet, LZBNet, Tape, VanillaNet

SPECS = [
    VanillaNet(input_dim=3, depth=2, widths=(4, 5, 6)),
    VanillaNet(input_dim=2, depth=1, widths=4),
    LittwinResNet(input_dim=3, blocks=2, branch_depth=3, width=4, alphas=(0.5, 0.25), branch_width=6),
    LittwinResNet(input_dim=2, blocks=1, branch_depth=1, width=5, alphas=1.0),
    HuangResNet(input_dim=3, depth=2, width=4, gamma=0.5),
    HuangResNet(input_dim=3, depth=3, width=5, gamma=0.0, train_all=True),
    HuangFFNet(input_dim=3, depth=2, width=4),
    HuangFFNet(input_dim=2, depth=1, width=6, train_all=True),
    DenseNet(input_dim=3, depth=3, width=4),
    DenseNet(input_dim=2, depth=1, width=5, alpha=2.0),
    LZBNet(input_dim=3, depth=3, width=5, activation="relu", output_activation="sigmoid"),
    LZBNet(input_dim=3, depth=2, width=5, bottleneck_width=2, bottleneck_layer=2),
]
SPEC_IDS = [repr(spec) for spec in SPECS]


def first_field(spec):
    return dataclasses.fields(spec)[0].name


def unit_inputs(spec, k=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(k, spec.input_dim, generator=generator, dtype=torch.float64)


def batched_weights(spec, n_networks, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return {
        name: torch.randn((n_networks, *shape), generator=generator, dtype=torch.float64)
        for name, shape in spec.weight_shapes().items()
    }


# --- frozen, hashable, JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_spec_is_frozen(spec):
    """Assigning any field raises FrozenInstanceError."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(spec, first_field(spec), 7)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_spec_is_hashable_and_equal_specs_hash_equal(spec):
    """An equal copy hashes equal and collapses with the original in a set."""
    copy = dataclasses.replace(spec)
    assert copy == spec and copy is not spec
    assert hash(copy) == hash(spec)
    assert len({spec, copy}) == 1


def test_all_specs_are_distinct_in_a_set():
    """Different specs are different set members."""
    assert len(set(SPECS)) == len(SPECS)


@pytest.mark.parametrize(
    ("short", "long"),
    [
        (VanillaNet(3, 2, 4), VanillaNet(3, 2, (4, 4, 4))),
        (LittwinResNet(3, 2, 2, 4, 0.5), LittwinResNet(3, 2, 2, 4, (0.5, 0.5), branch_width=4)),
    ],
    ids=["vanilla-widths", "littwin-alphas-branch-width"],
)
def test_shorthand_fields_normalise_to_the_explicit_spec(short, long):
    """A constant width / alpha / default branch width is the same spec as its spelled-out form."""
    assert short == long and hash(short) == hash(long)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_json_round_trip_gives_an_equal_spec(spec):
    """to_json -> json.dumps -> spec_from_json returns an equal spec of the same class."""
    text = json.dumps(spec.to_json())
    rebuilt = models.spec_from_json(json.loads(text))
    assert type(rebuilt) is type(spec) and rebuilt == spec and hash(rebuilt) == hash(spec)
    assert models.spec_from_json(text) == spec


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_json_carries_the_kind_tag_and_every_field(spec):
    """The JSON dict names the class by ``kind`` and holds every dataclass field."""
    payload = spec.to_json()
    assert payload["kind"] == spec.kind
    assert set(payload) == {"kind"} | {f.name for f in dataclasses.fields(spec)}


def test_numpy_integer_fields_still_serialise_to_json():
    """A spec accepted with a numpy integer field must still give JSON-serialisable output."""
    spec = VanillaNet(input_dim=np.int64(3), depth=2, widths=4)
    assert models.spec_from_json(json.dumps(spec.to_json())) == spec


# --- weight shapes -------------------------------------------------------------------------------------------------

EXPECTED_SHAPES = [
    (
        VanillaNet(3, 2, (4, 5, 6)),
        {"W0": (4, 3), "W1": (5, 4), "W2": (6, 5), "Wout": (1, 6)},
    ),
    (
        LittwinResNet(input_dim=3, blocks=2, branch_depth=3, width=4, alphas=0.5, branch_width=6),
        {
            "W0": (4, 3),
            "W1,1": (6, 4), "W1,2": (6, 6), "W1,3": (4, 6),
            "W2,1": (6, 4), "W2,2": (6, 6), "W2,3": (4, 6),
            "Wout": (1, 4),
        },
    ),
    (
        LittwinResNet(input_dim=2, blocks=2, branch_depth=1, width=5, alphas=0.5, branch_width=3),
        {"W0": (5, 2), "W1,1": (5, 5), "W2,1": (5, 5), "Wout": (1, 5)},
    ),
    (
        HuangResNet(input_dim=3, depth=2, width=4, gamma=0.5),
        {"A": (4, 3), "W1": (4, 4), "V1": (4, 4), "W2": (4, 4), "V2": (4, 4), "v": (1, 4)},
    ),
    (
        HuangFFNet(input_dim=3, depth=2, width=4),
        {"A": (4, 3), "W1": (4, 4), "W2": (4, 4), "v": (1, 4)},
    ),
    (
        DenseNet(input_dim=3, depth=2, width=4),
        {"W0": (4, 3), "W1,0": (4, 4), "W2,0": (4, 4), "W2,1": (4, 4), "Wout": (1, 4)},
    ),
    (
        LZBNet(input_dim=3, depth=3, width=5, bottleneck_width=2, bottleneck_layer=2),
        {"W1": (5, 3), "W2": (2, 5), "W3": (5, 2), "v": (1, 5)},
    ),
    (
        LZBNet(input_dim=3, depth=2, width=5, bottleneck_width=2, bottleneck_layer=2),
        {"W1": (5, 3), "W2": (2, 5), "v": (1, 2)},
    ),
    (
        LZBNet(input_dim=3, depth=2, width=5, bottleneck_width=7, bottleneck_layer=1),
        {"W1": (7, 3), "W2": (5, 7), "v": (1, 5)},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), EXPECTED_SHAPES, ids=[repr(s) for s, _ in EXPECTED_SHAPES])
def test_weight_shapes_match_hand_computed_chain(spec, expected):
    """Each (fan_out, fan_in) is as computed by hand, in forward order."""
    assert list(spec.weight_shapes().items()) == list(expected.items())


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_densenet_has_a_triangle_of_inner_matrices(depth):
    """DenseNet layer l reads all l earlier activations: depth (depth + 1) / 2 inner matrices."""
    names = DenseNet(input_dim=2, depth=depth, width=3).weight_shapes()
    inner = [n for n in names if n not in {"W0", "Wout"}]
    assert len(inner) == depth * (depth + 1) // 2
    assert set(inner) == {f"W{l},{h}" for l in range(1, depth + 1) for h in range(l)}


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_forward_pass_reads_each_matrix_at_its_declared_fan_in(spec):
    """The taped forward pass visits the matrices in ``weight_shapes`` order, each reading fan_in
    features and writing fan_out; the output layer writes one unit."""
    tape = Tape()
    spec.apply(batched_weights(spec, 2), unit_inputs(spec).expand(2, -1, -1), tape)
    shapes = spec.weight_shapes()
    assert list(tape.records) == list(shapes)
    for name, (fan_out, fan_in) in shapes.items():
        assert tape.records[name].inputs.shape == (2, 3, fan_in)
        assert tape.records[name].probe.shape == (2, 3, fan_out)
    assert list(shapes.values())[-1][0] == 1


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_n_parameters_counts_scalar_weights(spec):
    """n_parameters sums out * in over trained (default) or all matrices."""
    shapes = spec.weight_shapes()
    assert spec.n_parameters(trained_only=False) == sum(o * i for o, i in shapes.values())
    assert spec.n_parameters() == sum(o * i for n, (o, i) in shapes.items() if n in spec.trained())


# --- trained matrices ----------------------------------------------------------------------------------------------

ALL_TRAINED = [
    VanillaNet(3, 2, (4, 5, 6)),
    LittwinResNet(3, 2, 3, 4, 0.5, branch_width=6),
    DenseNet(3, 2, 4),
    LZBNet(3, 2, 5),
    LZBNet(3, 3, 5, bottleneck_width=2, bottleneck_layer=3),
    HuangResNet(3, 2, 4, 0.5, train_all=True),
    HuangFFNet(3, 2, 4, train_all=True),
]


@pytest.mark.parametrize("spec", ALL_TRAINED, ids=[repr(s) for s in ALL_TRAINED])
def test_every_matrix_is_trained(spec):
    """Littwin specs, LZB nets and Huang nets with train_all train every matrix."""
    assert spec.trained() == frozenset(spec.weight_shapes())


@pytest.mark.parametrize(
    ("spec", "trained"),
    [
        (HuangResNet(3, 2, 4, 0.5), {"W1", "V1", "W2", "V2"}),
        (HuangFFNet(3, 3, 4), {"W1", "W2", "W3"}),
    ],
    ids=["huang-resnet", "huang-ffnet"],
)
def test_huang_nets_fix_first_and_last_layer_by_default(spec, trained):
    """Without train_all, Huang et al.'s A and v are fixed."""
    assert spec.trained() == frozenset(trained)
    assert not {"A", "v"} & spec.trained()


# --- forward passes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_module_forward_matches_apply_with_batch_of_one(spec):
    """spec.module(generator) is an nn.Module mapping (k, d) -> (k,), equal to apply on its own weights."""
    module = spec.module(torch.Generator().manual_seed(3))
    assert isinstance(module, torch.nn.Module)
    x = unit_inputs(spec, k=4)
    out = module(x)
    assert out.shape == (4,) and out.dtype == torch.float64
    weights = {name: w.detach().unsqueeze(0) for name, w in module.weights.items()}
    expected = spec.apply(weights, x.unsqueeze(0))
    assert expected.shape == (1, 4)
    assert torch.equal(out.detach(), expected[0])


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_module_parameters_are_the_weight_matrices_with_grad_on_trained_only(spec):
    """The module holds one parameter per matrix, of its declared shape; only trained ones require grad."""
    module = spec.module(torch.Generator().manual_seed(4))
    assert {n: tuple(p.shape) for n, p in module.weights.items()} == spec.weight_shapes()
    assert {n for n, p in module.weights.items() if p.requires_grad} == spec.trained()


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_module_generator_makes_weights_reproducible(spec):
    """Two modules from equally seeded generators have identical weights."""
    a, b = spec.module(torch.Generator().manual_seed(5)), spec.module(torch.Generator().manual_seed(5))
    assert all(torch.equal(a.weights[n], b.weights[n]) for n in spec.weight_shapes())


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_batched_apply_equals_separate_networks(spec):
    """Network b of a batch of B gives the same outputs as network b applied alone."""
    n_networks, x = 5, unit_inputs(spec, k=3)
    weights = batched_weights(spec, n_networks)
    together = spec.apply(weights, x.expand(n_networks, -1, -1))
    alone = torch.cat(
        [spec.apply({n: w[b : b + 1] for n, w in weights.items()}, x.unsqueeze(0)) for b in range(n_networks)]
    )
    assert together.shape == (n_networks, 3)
    torch.testing.assert_close(together, alone, rtol=1e-13, atol=1e-13)
