"""The torch.func fallback for any nn.Module factory, against the factorised path of composed networks."""

from __future__ import annotations

import math

import pytest
import torch

from estimators.module_ntk import sample_module_ntk
from estimators.ntk import ntk_of_weights
from models.layers import BatchNorm, Conv, Dense, GlobalAvgPool, ReLU, Serial
from models.network import Network, NetworkModule

NET = Network((6, 2), Serial(Conv(4, 3, bias=True), ReLU(), BatchNorm(), GlobalAvgPool(), Dense(1)))
X = torch.linspace(-1, 1, 3 * 12, dtype=torch.float64).reshape(3, 12).sin()


def test_network_module_factory_matches_the_factorised_path() -> None:
    draws = sample_module_ntk(lambda g: NetworkModule(NET, generator=g), X, 3, seed=5)
    for b in range(3):
        generator = torch.Generator().manual_seed(0)  # recover the same normals as the factory drew
        from estimators.sampling import derive_seed

        generator.manual_seed(derive_seed(5, "module", b))
        normals = {n: torch.randn(s, generator=generator, dtype=torch.float64) for n, s in NET.weight_shapes().items()}
        outputs, grams = ntk_of_weights(NET, {n: z.unsqueeze(0) for n, z in normals.items()}, X)
        assert torch.allclose(draws.outputs[b], outputs[0], rtol=1e-12, atol=1e-14)
        assert torch.allclose(draws.gram[b], grams[0].sum(0), rtol=1e-10, atol=1e-14)


def test_torch_batchnorm_module_equals_the_composed_standard_parameterisation() -> None:
    """torch.nn.Linear + BatchNorm1d (train mode, no affine) is our Dense(standard) + BatchNorm."""
    net = Network(
        (3,), Serial(Dense(5, parameterization="standard"), BatchNorm(), ReLU(), Dense(1, parameterization="standard"))
    )
    generator = torch.Generator().manual_seed(1)
    normals = {n: torch.randn(s, generator=generator, dtype=torch.float64) for n, s in net.weight_shapes().items()}

    def factory(_: torch.Generator) -> torch.nn.Module:
        first, last = (
            torch.nn.Linear(3, 5, bias=False, dtype=torch.float64),
            torch.nn.Linear(5, 1, bias=False, dtype=torch.float64),
        )
        with torch.no_grad():
            first.weight.copy_(normals["dense0"] / math.sqrt(3))
            last.weight.copy_(normals["dense1"] / math.sqrt(5))
        bn = torch.nn.BatchNorm1d(5, affine=False, eps=1e-5)
        return torch.nn.Sequential(first, bn, torch.nn.ReLU(), last, torch.nn.Flatten(0))

    x = torch.tensor([[1.0, 0.0, 0.5], [0.2, -1.0, 0.3], [-0.4, 0.6, 0.9], [0.1, 0.1, -0.8]], dtype=torch.float64)
    draws = sample_module_ntk(factory, x, 1, seed=0)
    outputs, grams = ntk_of_weights(net, {n: z.unsqueeze(0) for n, z in normals.items()}, x)
    assert torch.allclose(draws.outputs[0], outputs[0], rtol=1e-12)
    assert torch.allclose(draws.gram[0], grams[0].sum(0), rtol=1e-10)
    assert (draws.gram[0] - torch.diag(torch.diagonal(draws.gram[0]))).abs().max() > 0


@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        ("not callable", "callable"),
        (lambda g: 3, "torch.nn.Module"),
        (lambda g: torch.nn.Linear(12, 2), "one scalar per input"),
        (
            lambda g: torch.nn.Sequential(
                torch.nn.Flatten(), torch.nn.Linear(12, 1).requires_grad_(False), torch.nn.Flatten(0)
            ),
            "no parameter",
        ),
    ],
)
def test_bad_factories_get_clear_errors(factory: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        sample_module_ntk(factory, X, 1, seed=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("inputs", "problem"), [([[float("nan")] * 12], "finite"), ("abc", "real numbers")])
def test_bad_inputs_get_clear_errors(inputs: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        sample_module_ntk(lambda g: NetworkModule(NET, generator=g), inputs, 1, seed=0)
