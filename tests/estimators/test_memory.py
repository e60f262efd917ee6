"""Memory preflight: impossible sizes get a clear ValueError before anything large is allocated."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from estimators import sample_ntk
from estimators.hessian import draw_networks, hessian_spectral_norm
from estimators.memory import available_bytes, human_bytes
from estimators.training import train_square_loss
from models import LZBNet, VanillaNet
from models.layers import Conv, Dense, GlobalAvgPool, ReLU, Serial
from models.network import Network

LIMIT = 10**8  # elements: any allocation this large during a refused call fails the test
X4 = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]


@pytest.fixture
def no_large_allocations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torch.randn/empty/zeros and numpy.empty raise for more than ``LIMIT`` elements."""

    def guard(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            shape = args[0] if args and isinstance(args[0], tuple | list) else args
            on_meta = str(kwargs.get("device", "")) == "meta"  # shapes only: Network's dry run
            if not on_meta and all(isinstance(s, int) for s in shape) and math.prod(shape) > LIMIT:
                raise AssertionError(f"allocated {math.prod(shape):,} elements before refusing")
            return original(*args, **kwargs)

        return wrapped

    for name in ("randn", "empty", "zeros"):
        monkeypatch.setattr(torch, name, guard(getattr(torch, name)))
    monkeypatch.setattr(np, "empty", guard(np.empty))


WIDE = VanillaNet(input_dim=4, depth=3, widths=10**7)
DEEP = VanillaNet(input_dim=4, depth=10**3, widths=10**5)


@pytest.mark.usefixtures("no_large_allocations")
@pytest.mark.parametrize(
    ("spec", "sampler"),
    [(WIDE, "dense"), (WIDE, "exact"), (WIDE, "stats"), (DEEP, "dense"), (DEEP, "exact")],
    ids=[
        "width-1e7-dense",
        "width-1e7-exact",
        "width-1e7-stats",
        "width-1e5-depth-1e3-dense",
        "width-1e5-depth-1e3-exact",
    ],
)  # the stats sampler keeps one layer's units at a time: DEEP fits there (3.9 GB for 256 networks), it is only slow
def test_sample_ntk_refuses_impossible_sizes_with_spec_bytes_and_remedy(spec: VanillaNet, sampler: str) -> None:
    with pytest.raises(ValueError) as err:
        sample_ntk(spec, X4, 16, 0, sampler=sampler)
    message = str(err.value)
    assert "VanillaNet(input_dim=4" in message and "widths up to" in message
    assert "needs about" in message and "available on cpu" in message
    assert "smaller widths" in message
    if sampler == "dense":
        assert "sampler='exact'" in message


@pytest.mark.usefixtures("no_large_allocations")
def test_composed_conv_net_is_refused_too() -> None:
    net = Network((64, 3), Serial(Conv(10**5, 3), ReLU(), Conv(10**5, 3), GlobalAvgPool(), Dense(1)))
    with pytest.raises(ValueError, match=r"Network\(input_shape=\(64, 3\).*needs about .* TB"):
        sample_ntk(net, np.ones((2, 64 * 3)), 16, 0)


def test_max_bytes_caps_an_otherwise_possible_call_and_is_validated() -> None:
    spec = VanillaNet(input_dim=4, depth=2, widths=64)
    assert sample_ntk(spec, X4, 16, 0, sampler="dense", max_bytes=10**9).gram.shape == (16, 2, 2)
    with pytest.raises(ValueError, match=r"more than the 1 kB max_bytes.*dtype=torch.float32"):
        sample_ntk(spec, X4, 16, 0, sampler="dense", max_bytes=1000)
    with pytest.raises(ValueError, match="max_bytes must be None or an integer >= 1"):
        sample_ntk(spec, X4, 16, 0, max_bytes=0)


def test_chunk_bytes_advice_when_several_blocks_per_chunk_do_not_fit() -> None:
    spec = VanillaNet(input_dim=4, depth=3, widths=10**4)
    with pytest.raises(ValueError, match="a smaller chunk_bytes"):
        sample_ntk(spec, X4, 160, 0, sampler="dense", chunk_bytes=10**12)


@pytest.mark.usefixtures("no_large_allocations")
def test_hessian_and_training_estimators_refuse_impossible_sizes() -> None:
    huge = LZBNet(input_dim=3, depth=10**3, width=10**5)
    with pytest.raises(ValueError, match=r"draw_networks: LZBNet.*needs about .* TB"):
        draw_networks(huge, 0, 2)
    small = LZBNet(input_dim=3, depth=2, width=32)
    weights = draw_networks(small, 0, 2)
    with pytest.raises(ValueError, match=r"hessian_spectral_norm: .*max_bytes; pass fewer networks"):
        hessian_spectral_norm(small, weights, [1.0, 0.0, 0.0], max_bytes=10_000)
    with pytest.raises(ValueError, match=r"train_square_loss: .*max_bytes; train fewer networks"):
        train_square_loss(small, weights, torch.eye(3, dtype=torch.float64), torch.ones(3), 1, max_bytes=10_000)


def test_available_bytes_and_human_bytes() -> None:
    assert available_bytes("cpu") > 10**8
    assert human_bytes(999) == "999 B" and human_bytes(1.5e9) == "1.5 GB" and human_bytes(3.2e16) == "32 PB"


@pytest.mark.usefixtures("no_large_allocations")
def test_analytic_kernels_for_large_k_are_refused_before_the_k_by_k_arrays() -> None:
    from estimators.analytic import kernels_at_depths, ntk_at_depths
    from estimators.infinite_width import infinite_width_kernels
    from models import HuangFFNet

    x = np.random.default_rng(0).normal(size=(60_000, 2))
    with pytest.raises(ValueError, match=r"ntk_at_depths: HuangFFNet.*k = 60,000 inputs at 2 depth\(s\)"):
        ntk_at_depths(HuangFFNet(2, 3, 1), x, [3, 10])
    with pytest.raises(ValueError, match=r"infinite_width_kernels: VanillaNet.*parts=False"):
        infinite_width_kernels(VanillaNet(2, 2, 4), x, parts=True)
    small = x[:50]
    with pytest.raises(ValueError, match="more than the 1 kB max_bytes; use fewer inputs or depths"):
        kernels_at_depths(HuangFFNet(2, 3, 1), small, [3], max_bytes=1000)
    assert kernels_at_depths(HuangFFNet(2, 3, 1), small, [3])[3].ntk.shape == (50, 50)


def test_reused_weight_buffers_never_leak_into_results() -> None:
    """Chunks overwrite one set of dense weight buffers; a compute that returns a view of the weights still
    gets each chunk's own values (draw_in_chunks clones what aliases a buffer)."""
    from estimators.ntk import draw_in_chunks
    from estimators.sampling import draw_weights

    spec = VanillaNet(input_dim=4, depth=1, widths=3)

    def first_matrix(s: VanillaNet, draw: Any, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (draw.weights(s)["W0"][:, 0, :],)  # a view into the reused buffer

    (rows,) = draw_in_chunks(spec, X4, 48, 7, first_matrix, sampler="dense", device="cpu", dtype=torch.float64,
                             chunk_bytes=1, owner="test")  # fmt: skip  (one block per chunk: 3 chunks)
    expected = draw_weights(spec, 7, 0, 3)["W0"][:, 0, :]
    assert torch.equal(rows, expected)
