"""Composable layers and ``Network``: JSON round trips, hashing, and a ValueError for every bad field or shape.

Every field of every registered layer class has at least one invalid value in ``BAD_FIELDS`` (checked
against ``Layer.registry``), each raising a ValueError naming ``Class.field``; shape mistakes are caught when
the ``Network`` is built, naming the layer's position, class and field.
"""

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from models.base import spec_from_json
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
    layer_from_json,
)
from models.network import Network

# --- JSON round trip, hashing, equality ---------------------------------------------------------------------------

NETWORKS = [
    Network((3,), Dense(1)),
    Network((3,), Serial(Dense(4, bias=True, bias_std=0.5), ReLU(HE_GAIN), Dense(1, parameterization="standard"))),
    Network((3,), Serial(Dense(4, weight_std=1.3, trained=False, name="A"), Erf(), Dense(1, name="v"))),
    Network((3,), Serial(*(layer for fn in FUNCTIONS for layer in (Dense(3), Activation(fn, 0.7))), Dense(1))),
    Network((3,), Serial(Dense(4), Tanh(), Gelu(), Softplus(), Sigmoid(), Identity(), Dense(1))),
    Network((5, 2), Serial(Conv(3, 3), ReLU(), Conv(2, 2, padding="zero", bias=True), GlobalAvgPool(), Dense(1))),
    Network((4, 3, 2), Serial(Conv(3, (3, 2), parameterization="standard", weight_std=0.9), Flatten(), Dense(1))),
    Network((4, 3, 2), Serial(Conv(2, 2, trained=False, name="c"), LayerNorm(), GlobalAvgPool(), Dense(1))),
    Network((3,), Serial(Dense(4), BatchNorm(eps=1e-3), Dense(1))),
    Network((3,), Serial(Dense(4), BatchNorm(affine=True), LayerNorm(affine=True, name="ln"), Dense(1))),
    Network((4, 4), Serial(SelfAttention(2, scaling="linear"), LayerNorm(1e-4), Flatten(), Dense(1))),
    Network((4, 4), Serial(SelfAttention(name="att", trained=False), GlobalAvgPool(), Dense(3), Softmax(), Take(2))),
    Network((3,), Serial(Dense(4), Residual(Serial(Dense(4), ReLU(), Dense(4)), alpha=0.5), Dense(1))),
    Network((3,), Serial(Sum(Dense(4), Serial(Dense(4), Tanh())), Dense(1))),
    Network((3,), Serial(Concat(Identity(), Serial(Dense(2), ReLU())), Concat(Identity(), Dense(3)), Dense(1))),
    Network((3,), Serial(Repeat(Serial(Dense(4, name="h"), ReLU()), 3), Dense(1))),
    Network(
        (4, 2),
        Serial(
            Repeat(Residual(Sum(Conv(2, 3), Serial(Dense(2), Residual(Identity(), alpha=-0.5)))), times=2),
            Concat(Identity(), Serial(Conv(2, 1), ReLU())),
            Flatten(),
            Dense(1, bias=True),
        ),
    ),
]
NETWORK_IDS = [f"net{i}" for i in range(len(NETWORKS))]


@pytest.mark.parametrize("net", NETWORKS, ids=NETWORK_IDS)
def test_network_round_trips_through_json_text(net: Network) -> None:
    """``to_json`` -> ``json.dumps`` -> ``spec_from_json`` gives an equal, equally hashed Network."""
    text = json.dumps(net.to_json())
    back = spec_from_json(json.loads(text))
    assert isinstance(back, Network)
    assert back == net and hash(back) == hash(net)
    assert back.weight_shapes() == net.weight_shapes()
    assert back.trained() == net.trained()
    assert spec_from_json(text) == net
    assert json.dumps(back.to_json()) == text


@pytest.mark.parametrize("net", NETWORKS, ids=NETWORK_IDS)
def test_network_is_frozen_and_hashable(net: Network) -> None:
    """An equal copy hashes equal and collapses with the original in a set; fields cannot be assigned."""
    copy = dataclasses.replace(net)
    assert copy == net and copy is not net
    assert len({net, copy}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.input_shape = (7,)  # type: ignore[misc]


def test_networks_are_distinct() -> None:
    """Different networks are different set members."""
    assert len(set(NETWORKS)) == len(NETWORKS)


def every_layer(layer: Layer) -> Iterator[Layer]:
    yield layer
    for child in layer.children():
        yield from every_layer(child)


def test_json_table_uses_every_layer_class() -> None:
    """The round-trip table exercises every registered layer class."""
    used = {type(layer) for net in NETWORKS for layer in every_layer(net.layers)}
    assert used == set(Layer.registry.values())


@pytest.mark.parametrize(
    "layer",
    [layer for net in NETWORKS for layer in every_layer(net.layers)],
    ids=lambda layer: layer.kind,
)
def test_every_layer_round_trips_on_its_own(layer: Layer) -> None:
    """Each layer (combinators with their children) rebuilds from its JSON text to an equal, equal-hash value."""
    back = layer_from_json(json.loads(json.dumps(layer.to_json())))
    assert back == layer and hash(back) == hash(layer) and type(back) is type(layer)


@pytest.mark.parametrize(
    ("short", "long"),
    [
        (ReLU(), Activation("relu")),
        (Conv(2, 3), Conv(2, (3,))),
        (Conv(2, [3, 2]), Conv(2, (3, 2))),
        (Dense(3, weight_std=2), Dense(3, weight_std=2.0)),
        (Serial(Dense(1)), Serial(layers=[Dense(1)])),
        (Network([3], [Dense(4), Dense(1)]), Network((3,), Serial(Dense(4), Dense(1)))),
        (Network(3, Dense(1)), Network((3,), Dense(1))),
        (Network((np.int64(3),), Dense(np.int64(1))), Network((3,), Dense(1))),
    ],
    ids=["relu", "conv-int-kernel", "conv-list-kernel", "int-std", "serial-layers-kw", "layer-list", "int-shape", "np"],
)
def test_shorthands_normalise_to_the_same_value(short: object, long: object) -> None:
    """Equivalent spellings are equal and hash equal."""
    assert short == long and hash(short) == hash(long)


def test_network_accepts_a_list_of_json_layers() -> None:
    """``layers`` may be a list of layer JSON objects (a hand-written spec): read as a Serial."""
    net = spec_from_json({"kind": "network", "input_shape": [3], "layers": [{"layer": "dense", "width": 1}]})
    assert net == Network((3,), Serial(Dense(1)))


def test_describe_lists_nested_layers() -> None:
    """``describe`` shows the whole tree with non-default fields (used in error messages)."""
    text = NETWORKS[12].describe()
    assert text == (
        "Network(input_shape=(3,), Serial(Dense(width=4), Residual(Serial(Dense(width=4), "
        "Activation(fn='relu'), Dense(width=4)), alpha=0.5), Dense(width=1)))"
    )


# --- invalid field values ---------------------------------------------------------------------------------------

VALID = {
    Dense: {"width": 3},
    Conv: {"channels": 2, "kernel_size": 3},
    Activation: {"fn": "relu"},
    LayerNorm: {},
    BatchNorm: {},
    SelfAttention: {},
    Softmax: {},
    Take: {},
    GlobalAvgPool: {},
    Flatten: {},
    Serial: {"layers": (Dense(1),)},
    Sum: {"layers": (Dense(1), Dense(1))},
    Concat: {"layers": (Identity(), Dense(1))},
    Residual: {"branch": Dense(3)},
    Repeat: {"block": Dense(3), "times": 2},
}

# (class, field, invalid value): every field of every layer class appears at least once.
BAD_FIELDS = [
    # Dense
    (Dense, "width", 0),
    (Dense, "width", -2),
    (Dense, "width", 2.5),
    (Dense, "width", "3"),
    (Dense, "width", True),
    (Dense, "width", None),
    (Dense, "bias", 1),
    (Dense, "bias", "yes"),
    (Dense, "bias", None),
    (Dense, "parameterization", "mup"),
    (Dense, "parameterization", "NTK"),
    (Dense, "parameterization", None),
    (Dense, "weight_std", 0.0),
    (Dense, "weight_std", -1.0),
    (Dense, "weight_std", math.nan),
    (Dense, "weight_std", math.inf),
    (Dense, "weight_std", "1"),
    (Dense, "weight_std", True),
    (Dense, "bias_std", -0.5),
    (Dense, "bias_std", math.nan),
    (Dense, "bias_std", "0.5"),
    (Dense, "bias_std", None),
    (Dense, "trained", 1),
    (Dense, "trained", "False"),
    (Dense, "name", ""),
    (Dense, "name", "a b"),
    (Dense, "name", 3),
    # Conv
    (Conv, "channels", 0),
    (Conv, "channels", 1.5),
    (Conv, "channels", False),
    (Conv, "kernel_size", 0),
    (Conv, "kernel_size", -1),
    (Conv, "kernel_size", 3.0),
    (Conv, "kernel_size", "3"),
    (Conv, "kernel_size", None),
    (Conv, "kernel_size", True),
    (Conv, "kernel_size", ()),
    (Conv, "kernel_size", (3, 3, 3)),
    (Conv, "kernel_size", (3, 0)),
    (Conv, "kernel_size", (3, "2")),
    (Conv, "padding", "same"),
    (Conv, "padding", None),
    (Conv, "bias", 0),
    (Conv, "parameterization", "mf"),
    (Conv, "weight_std", 0.0),
    (Conv, "weight_std", math.inf),
    (Conv, "bias_std", -1.0),
    (Conv, "bias_std", math.nan),
    (Conv, "trained", None),
    (Conv, "name", "a\tb"),
    (Conv, "name", ""),
    # Activation
    (Activation, "fn", "swish"),
    (Activation, "fn", "ReLU"),
    (Activation, "fn", None),
    (Activation, "fn", torch.relu),
    (Activation, "gain", 0.0),
    (Activation, "gain", math.nan),
    (Activation, "gain", -math.inf),
    (Activation, "gain", "1"),
    (Activation, "gain", True),
    # LayerNorm, BatchNorm
    (LayerNorm, "eps", 0.0),
    (LayerNorm, "eps", -1e-5),
    (LayerNorm, "eps", math.nan),
    (LayerNorm, "eps", "1e-5"),
    (BatchNorm, "eps", 0.0),
    (BatchNorm, "eps", math.inf),
    (BatchNorm, "eps", None),
    (LayerNorm, "affine", 1),
    (LayerNorm, "name", "has space"),
    (BatchNorm, "affine", "yes"),
    (BatchNorm, "name", ""),
    # SelfAttention
    (SelfAttention, "heads", 0),
    (SelfAttention, "heads", 1.5),
    (SelfAttention, "heads", True),
    (SelfAttention, "scaling", "cube"),
    (SelfAttention, "scaling", None),
    (SelfAttention, "trained", 1),
    (SelfAttention, "name", ""),
    (SelfAttention, "name", 0),
    # Take
    (Take, "index", -1),
    (Take, "index", 0.5),
    (Take, "index", "0"),
    (Take, "index", True),
    # Serial, Sum, Concat
    (Serial, "layers", ()),
    (Serial, "layers", (3,)),
    (Serial, "layers", (Dense(1), "dense")),
    (Serial, "layers", 5),
    (Serial, "layers", None),
    (Serial, "layers", ({"layer": "dense", "width": 1},)),
    (Sum, "layers", ()),
    (Sum, "layers", (Dense(1), None)),
    (Sum, "layers", Dense(1)),
    (Concat, "layers", ()),
    (Concat, "layers", (torch.nn.Linear(1, 1),)),
    # Residual
    (Residual, "branch", None),
    (Residual, "branch", 3),
    (Residual, "branch", {"layer": "dense", "width": 3}),
    (Residual, "alpha", math.nan),
    (Residual, "alpha", math.inf),
    (Residual, "alpha", "1"),
    (Residual, "alpha", True),
    # Repeat
    (Repeat, "block", None),
    (Repeat, "block", "dense"),
    (Repeat, "times", 0),
    (Repeat, "times", -1),
    (Repeat, "times", 2.0),
    (Repeat, "times", True),
]


def bad_id(case: tuple[type[Layer], str, object]) -> str:
    cls, field, value = case
    shown = repr(value) if not callable(value) else getattr(value, "__name__", type(value).__name__)
    return f"{cls.__name__}.{field}={shown}"  # no memory addresses: xdist workers must collect the same ids


@pytest.mark.parametrize("case", BAD_FIELDS, ids=[bad_id(c) for c in BAD_FIELDS])
def test_invalid_layer_field_raises_value_error_naming_it(case: tuple[type[Layer], str, object]) -> None:
    """Constructing a layer with one invalid field raises exactly ValueError naming ``Class.field``."""
    cls, field, value = case
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}.{field}")) as excinfo:
        cls(**VALID[cls] | {field: value})
    assert excinfo.type is ValueError


@pytest.mark.parametrize("cls", list(VALID), ids=lambda c: c.__name__)
def test_layer_table_covers_every_field(cls: type[Layer]) -> None:
    """Every dataclass field of every layer class has at least one bad-value case, and the base is valid."""
    covered = {field for c, field, _ in BAD_FIELDS if c is cls}
    assert covered == {f.name for f in dataclasses.fields(cls)}
    cls(**VALID[cls])


def test_layer_table_covers_every_layer_class() -> None:
    """The table names every registered layer class."""
    assert set(VALID) == set(Layer.registry.values())


@pytest.mark.parametrize("cls", [Dense, Conv], ids=lambda c: c.__name__)
def test_bias_needs_a_positive_bias_std(cls: type[Layer]) -> None:
    """bias=True with bias_std=0 is rejected (bias=False is the way to say no bias); bias=False allows 0."""
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.bias_std.*bias=True"):
        cls(**VALID[cls], bias=True, bias_std=0.0)
    assert cls(**VALID[cls], bias_std=0.0).bias_std == 0.0


def test_combinator_takes_layers_positionally_or_by_keyword_not_both() -> None:
    with pytest.raises(ValueError, match="Serial takes its layers positionally or as layers="):
        Serial(Dense(1), layers=(Dense(1),))
    with pytest.raises(ValueError, match=r"Serial got unknown fields \['depth'\]"):
        Serial(Dense(1), depth=2)


# --- shape errors, caught when the Network is built ------------------------------------------------------------

SHAPE_ERRORS = [
    ("zero-input-width", lambda: Network((0,), Dense(1)), r"Network\.input_shape\[0\] must be an integer >= 1"),
    ("zero-positions", lambda: Network((0, 3), Dense(1)), r"Network\.input_shape\[0\]"),
    ("zero-dense-width", lambda: Network((3,), Serial(Dense(0), Dense(1))), r"Dense\.width must be an integer >= 1"),
    ("zero-conv-channels", lambda: Conv(0, 3), r"Conv\.channels must be an integer >= 1"),
    (
        "kernel-larger-than-input-1d",
        lambda: Network((4, 3), Serial(Conv(2, 5), GlobalAvgPool(), Dense(1))),
        r"Serial\[0\] \(Conv\)\.kernel_size=\(5,\) is larger than the input's spatial size \(4,\)",
    ),
    (
        "kernel-larger-than-input-2d",
        lambda: Network((4, 3, 2), Serial(Conv(2, 3), ReLU(), Conv(2, (2, 4)), GlobalAvgPool(), Dense(1))),
        r"Serial\[2\] \(Conv\)\.kernel_size=\(2, 4\) is larger than the input's spatial size \(4, 3\)",
    ),
    (
        "square-kernel-larger-than-one-side",
        lambda: Network((5, 2, 2), Serial(Conv(2, 3), Flatten(), Dense(1))),
        r"\(Conv\)\.kernel_size=\(3, 3\) is larger",
    ),
    (
        "2d-kernel-on-1d-input",
        lambda: Network((5, 2), Serial(Conv(2, (3, 3)), Flatten(), Dense(1))),
        r"\(Conv\)\.kernel_size \(3, 3\) has 2 entries for a 1-d input",
    ),
    (
        "heads-do-not-divide-width",
        lambda: Network((4, 6), Serial(SelfAttention(4), Flatten(), Dense(1))),
        r"Serial\[0\] \(SelfAttention\)\.heads=4 does not divide the width 6",
    ),
    (
        "heads-do-not-divide-concat-width",
        lambda: Network((4, 2), Serial(Concat(Identity(), Dense(1)), SelfAttention(2), Flatten(), Dense(1))),
        r"\(SelfAttention\)\.heads=2 does not divide the width 3",
    ),
    (
        "attention-on-vector",
        lambda: Network((6,), Serial(SelfAttention(2), Dense(1))),
        r"\(SelfAttention\): attention needs \(tokens, channels\) inputs, got shape \(6,\)",
    ),
    (
        "attention-on-image",
        lambda: Network((3, 3, 2), Serial(SelfAttention(), GlobalAvgPool(), Dense(1))),
        r"\(SelfAttention\): attention needs \(tokens, channels\) inputs, got shape \(3, 3, 2\)",
    ),
    (
        "attention-after-pooling",
        lambda: Network((4, 2), Serial(GlobalAvgPool(), SelfAttention(), Dense(1))),
        r"Serial\[1\] \(SelfAttention\): attention needs \(tokens, channels\)",
    ),
    (
        "conv-on-vector",
        lambda: Network((6,), Serial(Conv(2, 3), Dense(1))),
        r"Serial\[0\] \(Conv\): a convolution needs an input with 1 or 2 spatial dimensions, got shape \(6,\)",
    ),
    (
        "conv-after-flatten",
        lambda: Network((4, 2), Serial(Flatten(), Conv(2, 3), Dense(1))),
        r"Serial\[1\] \(Conv\): a convolution needs",
    ),
    (
        "pool-on-vector",
        lambda: Network((3,), Serial(GlobalAvgPool(), Dense(1))),
        r"\(GlobalAvgPool\): input \(3,\) has no spatial dimensions to pool",
    ),
    (
        "residual-changes-width",
        lambda: Network((3,), Serial(Residual(Dense(4)), Dense(1))),
        r"Serial\[0\] \(Residual\): the branch maps shape \(3,\) to \(4,\); x \+ alpha \* branch\(x\) needs the same",
    ),
    (
        "residual-drops-positions",
        lambda: Network((4, 2), Serial(Residual(Serial(Flatten(), Dense(2))), Flatten(), Dense(1))),
        r"\(Residual\): the branch maps shape \(4, 2\) to \(2,\)",
    ),
    (
        "sum-branch-widths-differ",
        lambda: Network((3,), Serial(Sum(Dense(4), Dense(5)), Dense(1))),
        r"Serial\[0\] \(Sum\): branches give different shapes \['\(4,\)', '\(5,\)'\]",
    ),
    (
        "sum-branch-spatial-differs",
        lambda: Network((4, 2), Serial(Sum(Identity(), GlobalAvgPool()), Flatten(), Dense(1))),
        r"\(Sum\): branches give different shapes \['\(4, 2\)', '\(2,\)'\]",
    ),
    (
        "concat-branch-spatial-differs",
        lambda: Network((4, 2), Serial(Concat(Identity(), Flatten()), Flatten(), Dense(1))),
        r"\(Concat\): branches give different spatial shapes",
    ),
    (
        "output-not-scalar",
        lambda: Network((3,), Serial(Dense(4), Dense(2))),
        r"Network\.layers must give one scalar per input, got output shape \(2,\)",
    ),
    (
        "output-has-positions",
        lambda: Network((4, 3), Dense(1)),
        r"Network\.layers must give one scalar per input, got output shape \(4, 1\)",
    ),
    (
        "take-out-of-range",
        lambda: Network((3,), Serial(Dense(2), Take(2))),
        r"Serial\[1\] \(Take\)\.index=2 is out of range for 2 channels",
    ),
    (
        "softmax-over-one-channel",
        lambda: Network((3,), Serial(Dense(1), Softmax(), Take())),
        r"\(Softmax\): a softmax over 1 channel is constant 1",
    ),
    (
        "layer-norm-over-one-channel",
        lambda: Network((3,), Serial(Dense(1), LayerNorm(), Dense(1))),
        r"Serial\[1\] \(LayerNorm\): a layer norm over 1 channel is constant 0",
    ),
    (
        "nested-position-in-message",
        lambda: Network((4, 2), Serial(Dense(2), Residual(Serial(Conv(2, 3), Conv(2, 5))), Flatten(), Dense(1))),
        r"Serial\[1\]\.Residual\.branch\.Serial\[1\] \(Conv\)\.kernel_size=\(5,\) is larger",
    ),
    (
        "inside-repeat",
        lambda: Network((3,), Serial(Repeat(Residual(Dense(4)), 2), Dense(1))),
        r"Serial\[0\]\.Repeat\[1\] \(Residual\): the branch maps shape \(3,\) to \(4,\)",
    ),
    (
        "duplicate-explicit-names",
        lambda: Network((3,), Serial(Dense(4, name="W"), ReLU(), Dense(1, name="W"))),
        r"Network has duplicate weight names \['W'\]",
    ),
    (
        "explicit-name-equals-automatic-name",
        lambda: Network((3,), Serial(Dense(4), Dense(1, name="dense0"))),
        r"duplicate weight names \['dense0'\]",
    ),
    (
        "explicit-name-equals-attention-matrix",
        lambda: Network((4, 2), Serial(Dense(2, name="a.q"), SelfAttention(name="a"), Flatten(), Dense(1))),
        r"duplicate weight names \['a\.q'\]",
    ),
    (
        "input-shape-rank-4",
        lambda: Network((2, 2, 2, 2), Dense(1)),
        r"Network\.input_shape must be \(channels,\), \(positions, channels\) or \(height, width, channels\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in SHAPE_ERRORS], ids=[c[0] for c in SHAPE_ERRORS])
def test_shape_errors_are_value_errors_with_clear_messages(build: Callable[[], object], message: str) -> None:
    """An architecture that cannot be applied fails at construction, naming the layer, its position and field."""
    with pytest.raises(ValueError, match=message) as excinfo:
        build()
    assert excinfo.type is ValueError


def test_repeated_explicit_names_get_repetition_suffixes() -> None:
    """An explicit name inside Repeat is not a duplicate: each repetition gets ``@r``."""
    net = Network((3,), Serial(Repeat(Serial(Dense(3, name="W"), ReLU()), 2), Dense(1, name="v")))
    assert list(net.weight_shapes()) == ["W@1", "W@2", "v"]


# --- inputs -----------------------------------------------------------------------------------------------------

CONV_NET = Network((4, 3), Serial(Conv(2, 3), GlobalAvgPool(), Dense(1)))
BATCH_NORM_NET = Network((3,), Serial(Dense(4), BatchNorm(), Dense(1)))


@pytest.mark.parametrize(
    ("net", "inputs", "message"),
    [
        (CONV_NET, np.full((2, 4, 3), math.nan), "NaN or inf"),
        (CONV_NET, np.full((2, 12), math.inf), "NaN or inf"),
        (CONV_NET, [[0.0] * 11 + [-math.inf]], "NaN or inf"),
        (CONV_NET, np.ones((2, 3, 4)), r"shape \(k, input_dim=12\)"),
        (CONV_NET, np.ones((2, 11)), r"shape \(k, input_dim=12\)"),
        (CONV_NET, np.ones((2, 4, 3, 1)), r"shape \(k, input_dim=12\)"),
        (CONV_NET, np.ones((0, 4, 3)), r"k >= 1, got \(0, 12\)"),
        (CONV_NET, np.ones((0, 12)), r"k >= 1, got \(0, 12\)"),
        (CONV_NET, "abc", "real numbers"),
        (CONV_NET, [[1.0] * 12, [1.0] * 11], "real numbers"),
        (BATCH_NORM_NET, [[1.0, 0.0, 0.0]], "BatchNorm.*k >= 2 inputs, got 1"),
        (BATCH_NORM_NET, [1.0, 0.0, 0.0], "BatchNorm.*k >= 2 inputs, got 1"),
        (BATCH_NORM_NET, [[1.0, 0.0, math.nan], [0.0, 1.0, 0.0]], "NaN or inf"),
    ],
    ids=[
        "nan-shaped",
        "inf-flat",
        "minus-inf",
        "transposed",
        "flat-too-short",
        "extra-axis",
        "no-inputs-shaped",
        "no-inputs-flat",
        "string",
        "ragged",
        "batch-norm-one-input",
        "batch-norm-one-vector",
        "batch-norm-nan",
    ],
)
def test_check_inputs_rejects_bad_inputs(net: Network, inputs: object, message: str) -> None:
    """Inputs must be finite reals of shape (k, *input_shape) or (k, input_dim); BatchNorm needs k >= 2."""
    with pytest.raises(ValueError, match=message) as excinfo:
        net.check_inputs(inputs)
    assert excinfo.type is ValueError


@pytest.mark.parametrize(
    ("inputs", "k"),
    [(np.ones((2, 4, 3)), 2), (np.ones((2, 12)), 2), (np.ones((4, 3)), 1), (torch.ones(3, 12, requires_grad=True), 3)],
    ids=["shaped", "flat", "one-shaped-input", "tensor-requiring-grad"],
)
def test_check_inputs_accepts_shaped_or_flat_inputs(inputs: object, k: int) -> None:
    x = CONV_NET.check_inputs(inputs)
    assert x.shape == (k, 12) and x.dtype == torch.float64 and not x.requires_grad


def test_batch_norm_network_accepts_two_inputs() -> None:
    assert BATCH_NORM_NET.check_inputs([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).shape == (2, 3)


# --- malformed JSON ----------------------------------------------------------------------------------------------


def network_json(layers: object) -> dict[str, Any]:
    return {"kind": "network", "input_shape": [3], "layers": layers}


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ({"layer": "nope"}, r"Network\.layers: unknown layer kind 'nope'; known: \['activation'"),
        ({"layer": ["dense"]}, r"Network\.layers: unknown layer kind \['dense'\]"),
        ({"layer": None}, r"Network\.layers: unknown layer kind None"),
        ({"layer": "dense", "width": 1, "depth": 2}, r"Dense JSON has unknown fields \['depth'\]; fields are"),
        ({"layer": "dense"}, r"Network\.layers: Dense JSON lacks required fields \['width'\]"),
        ({"layer": "residual"}, r"Residual JSON lacks required fields \['branch'\]"),
        ({"layer": "serial"}, r"Serial JSON lacks required fields \['layers'\]"),
        ({"layer": "serial", "layers": 3}, r"Serial\.layers must be a tuple of layers, got 3"),
        ({"layer": "serial", "layers": []}, r"Serial\.layers needs at least 1 layer"),
        ({"layer": "serial", "layers": [1]}, r"Serial\.layers\[0\] must be a layer"),
        (
            {"layer": "serial", "layers": [{"layer": "dense", "width": 1, "zz": 0}]},
            r"Network\.layers\.layers\[0\]: Dense JSON has unknown fields \['zz'\]",
        ),
        ({"layer": "serial", "layers": [{"width": 1}]}, r"Network\.layers\.layers\[0\]: a layer must be a JSON object"),
        ({"layer": "residual", "branch": {"width": 3}}, r"Residual\.branch must be a layer"),
        ({"layer": "dense", "width": 0}, r"Dense\.width must be an integer >= 1"),
        ({"layer": "conv", "channels": 1, "kernel_size": [3, 3, 3]}, r"Conv\.kernel_size must be an int or 1 or 2"),
        ({"layer": "dense", "width": 2}, r"Network\.layers must give one scalar per input"),
        ({"width": 1}, r"Network\.layers: a layer must be a JSON object with a 'layer' kind"),
        ("dense", r"Network\.layers must be a layer"),
        (None, r"Network\.layers must be a layer"),
        ([{"layer": "dense"}], r"Network\.layers\[0\]: Dense JSON lacks required fields \['width'\]"),
    ],
    ids=[
        "unknown-kind",
        "kind-not-a-string",
        "kind-null",
        "unknown-field",
        "missing-field",
        "residual-without-branch",
        "serial-without-layers",
        "serial-layers-not-a-list",
        "serial-layers-empty",
        "serial-layer-not-an-object",
        "nested-unknown-field",
        "nested-without-kind",
        "residual-branch-without-kind",
        "invalid-field-value",
        "invalid-kernel",
        "not-scalar",
        "object-without-kind",
        "string",
        "null",
        "list-with-missing-field",
    ],
)
def test_malformed_layer_json_is_a_value_error(layers: object, message: str) -> None:
    """Unknown kinds, unknown or missing fields and bad values in layer JSON are ValueErrors saying which."""
    with pytest.raises(ValueError, match=message) as excinfo:
        spec_from_json(network_json(layers))
    assert excinfo.type is ValueError


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "network", "input_shape": [3]}, r"Network JSON lacks required fields \['layers'\]"),
        ({"kind": "network", "layers": {"layer": "dense", "width": 1}}, r"lacks required fields \['input_shape'\]"),
        (network_json({"layer": "dense", "width": 1}) | {"depth": 1}, r"Network JSON has unknown fields \['depth'\]"),
        (network_json({"layer": "dense", "width": 1}) | {"input_shape": []}, r"Network\.input_shape must be"),
        (network_json({"layer": "dense", "width": 1}) | {"input_shape": [3.5]}, r"Network\.input_shape\[0\]"),
    ],
    ids=["no-layers", "no-input-shape", "unknown-field", "empty-shape", "float-shape"],
)
def test_malformed_network_json_is_a_value_error(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec_from_json(payload)
