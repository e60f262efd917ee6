"""Benchmark rows for composed networks (``models.network.Network``), timed in the same run as the rest.

* ``composed-vanilla``: the vanilla ReLU net written as a composition by a user,
  ``Network((d,), Serial(Dense(n), [ReLU(sqrt 2), Dense(n)] * L, Dense(1)))``, through the factorised
  estimator, against the hand-built forward pass the suite had before composition (``HandBuiltVanilla``,
  kept here verbatim as the reference: ``ratio_vs_hand_built``) and torch.func jacrev (``ratio_vs_torch_func``),
  all three on the same weights;
* ``conv``: a 1-d conv net ``Network((P, C_in), Serial([Conv(C, 3), ReLU(sqrt 2)] * depth, GlobalAvgPool(),
  Dense(1)))``, factorised (weight sharing: sum over position pairs, ``estimators.ntk.shared_gram``) against
  torch.func jacrev on the same weights.

Only the NTK computation is timed (weights drawn once beforehand), as in ``estimators.bench``.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from estimators.bench_timing import (
    DTYPES,
    Method,
    bench_inputs,
    bench_weights,
    factorised_gram,
    jacrev_gram,
    max_relative_difference,
    time_methods,
)
from estimators.ntk import ntk_of_weights
from estimators.reference import jacrev_ntk
from models.base import Tape, Weights, dense, inverse_sqrt
from models.layers import HE_GAIN, Conv, Dense, GlobalAvgPool, ReLU, Serial
from models.network import Network

CONV_KERNEL = 3


class HandBuiltVanilla:
    """The pre-composition ``VanillaNet.apply`` (a fixed loop of ``dense`` calls), as a benchmark reference."""

    def __init__(self, input_dim: int, depth: int, width: int) -> None:
        self.input_dim, self.depth, self.width = input_dim, depth, width

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        n = self.width
        shapes = {"W0": (n, self.input_dim)} | {f"W{l}": (n, n) for l in range(1, self.depth + 1)}
        return shapes | {"Wout": (1, n)}

    def trained(self) -> frozenset[str]:
        return frozenset(self.weight_shapes())

    def couples_inputs(self) -> bool:  # the one capability ``ntk_of_weights`` asks of a spec
        return False

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        y = dense("W0", weights, x, inverse_sqrt(self.input_dim), tape)
        for l in range(1, self.depth + 1):
            y = dense(f"W{l}", weights, HE_GAIN * torch.relu(y), inverse_sqrt(y.shape[-1]), tape)
        return dense("Wout", weights, y, inverse_sqrt(y.shape[-1]), tape)[..., 0]


def composed_vanilla(input_dim: int, depth: int, width: int) -> Network:
    """The vanilla net as one expression of layers (auto-named dense0 .. dense{L+1})."""
    hidden = [layer for _ in range(depth) for layer in (ReLU(HE_GAIN), Dense(width))]
    return Network((input_dim,), Serial(Dense(width), *hidden, Dense(1)))


def conv_net(positions: int, in_channels: int, channels: int, depth: int) -> Network:
    """``depth`` circular 1-d convolutions of ``channels`` channels with ReLU, pooled, read out by Dense(1)."""
    body = [layer for _ in range(depth) for layer in (Conv(channels, CONV_KERNEL), ReLU(HE_GAIN))]
    return Network((positions, in_channels), Serial(*body, GlobalAvgPool(), Dense(1)))


def run_composed_rows(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    """The ``composed-vanilla`` and ``conv`` rows (see the module docstring)."""
    dtype = DTYPES[args.dtype]
    batch = min(args.batch, args.networks)
    rows: list[dict[str, Any]] = []

    hand = HandBuiltVanilla(args.input_dim, args.depth, args.width)
    composed = composed_vanilla(args.input_dim, args.depth, args.width)
    weights = bench_weights(composed, args.networks, dtype, device)
    hand_weights = dict(zip(hand.weight_shapes(), weights.values(), strict=True))  # the same matrices
    x = bench_inputs(args.inputs, args.input_dim, dtype, device)
    timings = time_methods(
        [
            _factorised("composed-vanilla", composed, weights, x, batch),
            _factorised("hand-built-vanilla", hand, hand_weights, x, batch),
            _jacrev("composed-vanilla-torch-func", composed, weights, x),
        ],
        args.networks, args.seconds, device,
    )  # fmt: skip
    ours, hand_timing, reference = timings
    rows.append({
        "name": "composed-vanilla", "nets_per_s": ours.nets_per_s,
        "ratio_vs_hand_built": ours.nets_per_s / hand_timing.nets_per_s,
        "ratio_vs_torch_func": ours.nets_per_s / reference.nets_per_s,
        "hand_built_nets_per_s": hand_timing.nets_per_s, "torch_func_nets_per_s": reference.nets_per_s,
        "max_rel_diff": max(max_relative_difference(ours.gram, reference.gram),
                            max_relative_difference(hand_timing.gram, reference.gram)),
        "width": args.width, "depth": args.depth, "inputs": args.inputs, "dtype": args.dtype,
        "device": str(device), "networks": args.networks, "batch": batch, "weight_drawing_timed": False,
    })  # fmt: skip

    net = conv_net(args.conv_positions, args.conv_in_channels, args.conv_channels, args.conv_depth)
    conv_weights = bench_weights(net, args.networks, dtype, device)
    x_conv = bench_inputs(args.inputs, net.input_dim, dtype, device)
    ours, reference = time_methods(
        [_factorised("conv", net, conv_weights, x_conv, batch), _jacrev("conv-torch-func", net, conv_weights, x_conv)],
        args.networks, args.seconds, device,
    )  # fmt: skip
    rows.append({
        "name": "conv", "nets_per_s": ours.nets_per_s, "ratio_vs_torch_func": ours.nets_per_s / reference.nets_per_s,
        "torch_func_nets_per_s": reference.nets_per_s,
        "max_rel_diff": max_relative_difference(ours.gram, reference.gram),
        "channels": args.conv_channels, "positions": args.conv_positions, "depth": args.conv_depth,
        "kernel_size": CONV_KERNEL, "inputs": args.inputs, "dtype": args.dtype, "device": str(device),
        "networks": args.networks, "batch": batch, "weight_drawing_timed": False,
    })  # fmt: skip
    return rows


def _factorised(name: str, spec: Any, weights: dict[str, torch.Tensor], x: torch.Tensor, batch: int) -> Method:
    first = {n: w[:batch] for n, w in weights.items()}
    return Method(
        name, lambda: factorised_gram(spec, weights, x, batch), lambda: ntk_of_weights(spec, first, x)
    )


def _jacrev(name: str, spec: Any, weights: dict[str, torch.Tensor], x: torch.Tensor) -> Method:
    first = {n: w[0] for n, w in weights.items()}
    return Method(name, lambda: jacrev_gram(spec, weights, x), lambda: jacrev_ntk(spec, first, x))
