"""Bad-input tests cover every spec field: each invalid value raises a ValueError naming the field.

Also: ``check_inputs`` rejects malformed input arrays, ``spec_from_json`` rejects unknown kinds, and
``sample_ntk`` rejects bad arguments with a ValueError raised by the project, never from inside torch.
"""

import contextlib
import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import models
from estimators import sample_ntk
from models import ConnectionGraph, DenseNet, HuangFFNet, HuangResNet, LittwinResNet, LZBNet, VanillaNet
from models.layers import Conv, Dense, GlobalAvgPool, Serial
from models.network import Network

PROJECT_ROOT = Path(__file__).resolve().parents[2]

VALID = {
    VanillaNet: {"input_dim": 3, "depth": 2, "widths": 4},
    LittwinResNet: {"input_dim": 3, "blocks": 2, "branch_depth": 2, "width": 4, "alphas": 0.5},
    HuangResNet: {"input_dim": 3, "depth": 2, "width": 4, "gamma": 0.5},
    HuangFFNet: {"input_dim": 3, "depth": 2, "width": 4},
    DenseNet: {"input_dim": 3, "depth": 2, "width": 4},
    LZBNet: {"input_dim": 3, "depth": 2, "width": 4},
    ConnectionGraph: {
        "input_dim": 3,
        "widths": (4, 1),
        "edges": (("W0", 0, 1, 1.0, "identity"), ("Wout", 1, 2, 0.5, "relu_he")),
    },
    Network: {"input_shape": (4, 3), "layers": Serial(Conv(2, 3), GlobalAvgPool(), Dense(1))},
}

# (class, field, invalid value): every field of every spec class appears at least once.
BAD_FIELDS = [
    # VanillaNet
    (VanillaNet, "input_dim", 0),
    (VanillaNet, "input_dim", -3),
    (VanillaNet, "input_dim", 2.5),
    (VanillaNet, "input_dim", True),
    (VanillaNet, "depth", 0),
    (VanillaNet, "depth", -1),
    (VanillaNet, "depth", "2"),
    (VanillaNet, "widths", 0),
    (VanillaNet, "widths", -4),
    (VanillaNet, "widths", 2.5),
    (VanillaNet, "widths", "8"),
    (VanillaNet, "widths", True),
    (VanillaNet, "widths", (4, 4)),
    (VanillaNet, "widths", (4, 4, 4, 4)),
    (VanillaNet, "widths", ()),
    (VanillaNet, "widths", (4, 0, 4)),
    (VanillaNet, "widths", (4, 2.5, 4)),
    (VanillaNet, "widths", (4, "8", 4)),
    (VanillaNet, "widths", (4, False, 4)),
    (VanillaNet, "widths", None),
    # LittwinResNet
    (LittwinResNet, "input_dim", 0),
    (LittwinResNet, "blocks", 0),
    (LittwinResNet, "blocks", -2),
    (LittwinResNet, "blocks", 1.0),
    (LittwinResNet, "branch_depth", 0),
    (LittwinResNet, "branch_depth", False),
    (LittwinResNet, "width", 0),
    (LittwinResNet, "width", -4),
    (LittwinResNet, "width", "8"),
    (LittwinResNet, "width", 2.5),
    (LittwinResNet, "branch_width", 0),
    (LittwinResNet, "branch_width", -1),
    (LittwinResNet, "branch_width", 2.5),
    (LittwinResNet, "branch_width", True),
    (LittwinResNet, "alphas", 0.0),
    (LittwinResNet, "alphas", -0.5),
    (LittwinResNet, "alphas", math.nan),
    (LittwinResNet, "alphas", math.inf),
    (LittwinResNet, "alphas", "0.5"),
    (LittwinResNet, "alphas", True),
    (LittwinResNet, "alphas", (0.5,)),
    (LittwinResNet, "alphas", (0.5, 0.5, 0.5)),
    (LittwinResNet, "alphas", (0.5, 0.0)),
    (LittwinResNet, "alphas", (0.5, math.nan)),
    (LittwinResNet, "alphas", (math.inf, 0.5)),
    # HuangResNet
    (HuangResNet, "input_dim", 0),
    (HuangResNet, "depth", 0),
    (HuangResNet, "depth", -1),
    (HuangResNet, "width", 0),
    (HuangResNet, "width", 2.5),
    (HuangResNet, "gamma", -0.5),
    (HuangResNet, "gamma", math.nan),
    (HuangResNet, "gamma", math.inf),
    (HuangResNet, "gamma", "0.5"),
    (HuangResNet, "gamma", True),
    (HuangResNet, "train_all", 1),
    (HuangResNet, "train_all", "yes"),
    (HuangResNet, "train_all", None),
    # HuangFFNet
    (HuangFFNet, "input_dim", 0),
    (HuangFFNet, "depth", 0),
    (HuangFFNet, "width", 0),
    (HuangFFNet, "width", "8"),
    (HuangFFNet, "train_all", 0),
    (HuangFFNet, "train_all", "False"),
    # DenseNet
    (DenseNet, "input_dim", 0),
    (DenseNet, "depth", 0),
    (DenseNet, "width", 0),
    (DenseNet, "width", -4),
    (DenseNet, "alpha", 0.0),
    (DenseNet, "alpha", -1.0),
    (DenseNet, "alpha", math.nan),
    (DenseNet, "alpha", -math.inf),
    (DenseNet, "alpha", "0.5"),
    # ConnectionGraph (more cases in tests/models/test_reduced.py)
    (ConnectionGraph, "input_dim", 0),
    (ConnectionGraph, "widths", ()),
    (ConnectionGraph, "widths", (4, 2)),
    (ConnectionGraph, "edges", ()),
    (ConnectionGraph, "edges", (("W0", 0, 1, 1.0, "identity"), ("W0", 1, 2, 1.0, "identity"))),
    # LZBNet
    (LZBNet, "input_dim", 0),
    (LZBNet, "input_dim", -1),
    (LZBNet, "depth", 0),
    (LZBNet, "width", 0),
    (LZBNet, "width", 2.5),
    (LZBNet, "activation", "gelu"),
    (LZBNet, "activation", "identity"),
    (LZBNet, "activation", "relu_he"),
    (LZBNet, "activation", None),
    (LZBNet, "output_activation", "relu"),
    (LZBNet, "output_activation", "softmax"),
    (LZBNet, "output_activation", 1),
    (LZBNet, "bottleneck_width", 0),
    (LZBNet, "bottleneck_width", -2),
    (LZBNet, "bottleneck_width", 2.5),
    (LZBNet, "bottleneck_layer", 0),
    (LZBNet, "bottleneck_layer", 3),
    (LZBNet, "bottleneck_layer", True),
    # Network (layer fields and shape errors: tests/models/test_layers.py)
    (Network, "input_shape", ()),
    (Network, "input_shape", (2, 2, 2, 3)),
    (Network, "input_shape", (4, 0)),
    (Network, "input_shape", (4, 3.0)),
    (Network, "input_shape", (4, True)),
    (Network, "input_shape", "4, 3"),
    (Network, "input_shape", None),
    (Network, "layers", None),
    (Network, "layers", "conv"),
    (Network, "layers", 3),
    (Network, "layers", Serial(Conv(2, 3), GlobalAvgPool(), Dense(2))),
    (Network, "layers", Conv(1, 3)),
    (Network, "layers", {"layer": "nope"}),
    (Network, "layers", {"layer": "dense"}),
    (Network, "layers", {"width": 1}),
    (Network, "layers", [{"layer": "dense", "width": 1, "extra": 0}]),
]


def case_id(case):
    cls, field, value = case
    return f"{cls.__name__}.{field}={value!r}"


@pytest.mark.parametrize("case", BAD_FIELDS, ids=[case_id(c) for c in BAD_FIELDS])
def test_invalid_field_raises_value_error_naming_the_field(case):
    """Constructing a spec with one invalid field raises ValueError naming ``Class.field``."""
    cls, field, value = case
    kwargs = VALID[cls] | {field: value}
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}.{field}")):
        cls(**kwargs)


@pytest.mark.parametrize("cls", list(VALID), ids=lambda c: c.__name__)
def test_bad_input_table_covers_every_field(cls):
    """Every dataclass field of every spec class has at least one bad-value case, and the base is valid."""
    covered = {field for c, field, _ in BAD_FIELDS if c is cls}
    assert covered == {f.name for f in dataclasses.fields(cls)}
    cls(**VALID[cls])


def test_bad_input_table_covers_every_spec_class():
    """The table names every registered architecture."""
    assert set(VALID) == set(models.ArchitectureSpec.registry.values())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bottleneck_width": 2, "bottleneck_layer": 3}, "bottleneck_layer"),
        ({"depth": 1, "bottleneck_layer": 2}, "bottleneck_layer"),
    ],
)
def test_lzb_bottleneck_layer_must_be_a_hidden_layer(kwargs, field):
    """The bottleneck must replace one of the ``depth`` hidden layers."""
    with pytest.raises(ValueError, match=rf"LZBNet\.{field}.*depth"):
        LZBNet(**VALID[LZBNet] | kwargs)


# --- check_inputs --------------------------------------------------------------------------------------------------

SPEC = VanillaNet(input_dim=3, depth=1, widths=4)


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (np.ones((2, 4)), "shape"),
        (np.ones((2, 2)), "shape"),
        (np.ones(2), "shape"),
        (np.ones((2, 3, 1)), "shape"),
        (np.ones((1, 2, 3)), "shape"),
        (np.ones((0, 3)), "shape"),
        (np.float64(1.0), "shape"),
        ([[0.0, math.nan, 1.0]], "NaN"),
        ([[0.0, 1.0, 1.0], [math.inf, 0.0, 0.0]], "inf"),
        ([[0.0, 1.0, -math.inf]], "inf"),
        ([["a", "b", "c"]], "real numbers"),
        ("abc", "real numbers"),
        ([[1.0, 2.0], [3.0]], "real numbers"),
    ],
    ids=[
        "dim-too-large",
        "dim-too-small",
        "1d-wrong-length",
        "3d",
        "3d-leading-one",
        "empty",
        "scalar",
        "nan",
        "inf",
        "minus-inf",
        "strings",
        "string",
        "ragged",
    ],
)
def test_check_inputs_rejects_malformed_inputs(inputs, problem):
    """Inputs must be a finite real (k >= 1, input_dim) array; errors name the problem."""
    with pytest.raises(ValueError, match=re.escape(problem)):
        SPEC.check_inputs(inputs)


@pytest.mark.parametrize(
    ("inputs", "shape"),
    [([1, 2, 3], (1, 3)), ([[1, 2, 3], [4, 5, 6]], (2, 3)), (torch.ones(4, 3, dtype=torch.float32), (4, 3))],
    ids=["1d-is-one-input", "list-of-lists", "float32-tensor"],
)
def test_check_inputs_accepts_finite_reals_as_float64(inputs, shape):
    """Valid inputs come back as a float64 (k, input_dim) tensor; a single vector is one input."""
    x = SPEC.check_inputs(inputs)
    assert x.dtype == torch.float64 and x.shape == shape


@pytest.mark.parametrize("payload", [{"kind": "nope"}, {}, {"kind": None, "input_dim": 3}, '{"kind": "nope"}'])
def test_spec_from_json_rejects_unknown_kind(payload):
    """An unknown or missing ``kind`` is a ValueError listing the known kinds."""
    with pytest.raises(ValueError, match="unknown architecture kind"):
        models.spec_from_json(payload)


@pytest.mark.parametrize("payload", [{"kind": "vanilla", "input_dim": 0, "depth": 1, "widths": [4, 4]}])
def test_spec_from_json_validates_fields_again(payload):
    """JSON input goes through the same field validation as the constructor."""
    with pytest.raises(ValueError, match=r"VanillaNet\.input_dim"):
        models.spec_from_json(payload)


@pytest.mark.parametrize(
    "payload",
    [{"kind": "vanilla", "input_dim": 3}, {"kind": "vanilla", "input_dim": 3, "depth": 1, "widths": 4, "extra": 1}],
    ids=["missing-field", "extra-field"],
)
def test_spec_from_json_rejects_wrong_field_set_with_value_error(payload):
    """Missing or unknown fields in JSON are a ValueError, like every other malformed spec."""
    with pytest.raises(ValueError):
        models.spec_from_json(payload)


# --- sample_ntk arguments ------------------------------------------------------------------------------------------

GOOD_X = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"n_draws": 0}, "n_draws"),
        ({"n_draws": -1}, "n_draws"),
        ({"n_draws": 2.0}, "n_draws"),
        ({"n_draws": True}, "n_draws"),
        ({"seed": 1.5}, "seed"),
        ({"seed": "1"}, "seed"),
        ({"seed": None}, "seed"),
        ({"seed": True}, "seed"),
        ({"dtype": torch.int64}, "dtype"),
        ({"dtype": torch.float16}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"device": "gpu"}, "device"),
        ({"inputs": [[1.0, math.nan, 0.0]]}, "NaN"),
        ({"inputs": [[1.0, 0.0]]}, "shape"),
    ],
    ids=lambda v: repr(v) if not isinstance(v, str) else v,
)
def test_sample_ntk_rejects_bad_arguments_with_its_own_value_error(overrides, problem):
    """Bad arguments raise exactly ValueError, naming the problem, from project code (not inside torch)."""
    arguments = {"inputs": GOOD_X, "n_draws": 4, "seed": 0, "device": "cpu"} | overrides
    with pytest.raises(ValueError, match=re.escape(problem)) as excinfo:
        sample_ntk(SPEC, **arguments)
    assert excinfo.type is ValueError
    last = Path(str(excinfo.traceback[-1].path)).resolve()
    assert "site-packages" not in str(last)
    assert last.is_relative_to(PROJECT_ROOT)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_sample_ntk_rejects_cuda_without_cuda():
    """Asking for CUDA where there is none is a ValueError naming cuda."""
    with pytest.raises(ValueError, match="cuda") as excinfo:
        sample_ntk(SPEC, GOOD_X, 4, 0, device="cuda")
    assert excinfo.type is ValueError


@pytest.mark.parametrize(
    "overrides",
    [{"chunk_bytes": "big"}, {"chunk_bytes": None}, {"inputs": torch.ones(2, 3, requires_grad=True)}],
    ids=["chunk-bytes-str", "chunk-bytes-none", "inputs-requiring-grad"],
)
def test_sample_ntk_never_leaks_torch_or_type_errors(overrides):
    """Every argument is either accepted or rejected with a ValueError."""
    arguments = {"inputs": GOOD_X, "n_draws": 4, "seed": 0, "device": "cpu"} | overrides
    with contextlib.suppress(ValueError):
        sample_ntk(SPEC, **arguments)
