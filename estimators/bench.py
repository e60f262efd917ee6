"""Benchmark: networks per second for the empirical NTK Gram matrix, factorised vs torch.func.

Usage::

    python -m estimators.bench [--json] [--device auto|cpu|cuda] [--width 500] [--depth 10]
                               [--inputs 2] [--networks N] [--dtype float64|float32] [--seconds S]
                               [--batch 32] [--input-dim 8]
    python -m estimators.bench --sampler-grid [--grid-widths 100,500,2000] [--grid-inputs 1,2,8] [--json]
    python -m estimators.bench --fig3a-sweep [--sweep-depths 50] [--sweep-draws 5000] [--dtype float32]

The second form times ``sample_ntk`` with the dense vs the exact sampler (``estimators.bench_samplers``;
JSON rows carry ``ratio_vs_dense``); the third times a Fig. 3a-scale depth sweep
(``estimators.bench_sweep``). The first form is described here:

Both methods compute the Gram matrix K(x_i, x_j) = sum_W K_W(x_i, x_j) of the SAME ``--networks``
vanilla ReLU nets (``models.VanillaNet(input_dim, depth, widths=width)``, N(0, 1) weights drawn
once with ``estimators.sampling.draw_weights``) on ``--inputs`` fixed unit-norm inputs:

* ``factorised`` (ours, ``estimators.ntk.ntk_of_weights``) runs batches of ``--batch`` networks
  through one forward and one backward pass and uses, for every dense layer y = s W h,

      K_W(x, x') = <df/dW(x), df/dW(x')> = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>,

  so no per-parameter Jacobian is ever formed;
* ``torch_func_jacrev`` (``estimators.reference.jacrev_ntk``) loops over the networks and, for
  each, materialises the per-parameter Jacobian dF(x_i)/dW with ``vmap(jacrev(...))`` and
  contracts it: K(x_i, x_j) = sum_W <dF(x_i)/dW, dF(x_j)/dW>.

Only the NTK computation is timed (weight drawing is excluded). Each method gets one warm-up call,
then whole passes over all networks are repeated, the two methods taking turns (the one with less
timed time goes next) so that both see the same machine load, until each has accumulated at least
``--seconds`` of timed passes (``time.perf_counter``; ``torch.cuda.synchronize`` around every timed
pass on CUDA). The Gram
matrices of the timed networks are compared: ``max_rel_diff`` = max over networks of
max|K_ours - K_jacrev| / max|K_jacrev|. A difference above the dtype's tolerance makes the exit
status 1, since a benchmark of methods that disagree measures nothing.

Output: a human-readable table, or with ``--json`` one JSON object per method and line with keys
``name``, ``nets_per_s``, ``ratio_vs_torch_func`` (factorised / jacrev rate; 1.0 for jacrev) and
``device``, ``width``, ``depth``, ``inputs``, ``dtype``, ``max_rel_diff`` plus a few descriptive
extras (``input_dim``, ``networks``, ``batch``, ``threads``, ``elapsed_s``, ``passes``,
``weight_drawing_timed``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from estimators.bench_samplers import format_grid, run_sampler_grid
from estimators.bench_sweep import format_sweep, run_sweep
from estimators.device import DEVICE_CHOICES, resolve_device
from estimators.ntk import ntk_of_weights, sample_ntk
from estimators.reference import jacrev_ntk
from estimators.sampling import BLOCK, draw_weights
from models.base import ArchitectureSpec
from models.vanilla import VanillaNet

DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}
TOLERANCE: dict[str, float] = {"float64": 1e-9, "float32": 1e-3}
FACTORISED = "factorised"
JACREV = "torch_func_jacrev"
EXACT = "exact_lowrank"
DEFAULT_NETWORKS = 32
DEFAULT_BATCH = 32
WEIGHT_SEED = 20240601
INPUT_SEED = 7


@dataclass(frozen=True)
class Timing:
    """Result of timing one method: rate, wall time, passes, and the Gram matrices of the first pass."""

    name: str
    nets_per_s: float
    elapsed_s: float
    passes: int
    gram: torch.Tensor  # (N, k, k)


# --- argument parsing -----------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _non_negative_seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0 (0 = a single timed pass)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m estimators.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m estimators.bench",
        description=(
            "Networks per second for the NTK Gram matrix of a vanilla ReLU net: the factorised estimator "
            "(K_W(x,x') = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>) vs torch.func jacrev on the same nets. "
            "Weight drawing is excluded from the timings."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per method and line")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="auto picks CUDA when present")
    parser.add_argument("--width", type=_positive_int, default=500, help="hidden width n (default 500)")
    parser.add_argument("--depth", type=_positive_int, default=10, help="number L of ReLU layers (default 10)")
    parser.add_argument("--inputs", type=_positive_int, default=2, help="number k of inputs (default 2)")
    parser.add_argument("--input-dim", type=_positive_int, default=8, help="input dimension (default 8)")
    parser.add_argument(
        "--networks", type=_positive_int, default=DEFAULT_NETWORKS,
        help=f"networks timed by both methods (default {DEFAULT_NETWORKS})",
    )
    parser.add_argument(
        "--batch", type=_positive_int, default=DEFAULT_BATCH,
        help=f"networks per ntk_of_weights call of the factorised estimator (default {DEFAULT_BATCH})",
    )
    parser.add_argument("--dtype", choices=tuple(DTYPES), default="float64", help="default float64")
    parser.add_argument(
        "--seconds", type=_non_negative_seconds, default=3.0,
        help="minimum timed seconds per method; whole passes over all networks (default 3)",
    )
    parser.add_argument(
        "--sampler-grid", action="store_true",
        help="instead: nets/s of sample_ntk with the dense vs the exact sampler over --grid-widths x --grid-inputs",
    )
    parser.add_argument("--grid-widths", type=_int_list, default=[100, 500, 2000], help="default 100,500,2000")
    parser.add_argument("--grid-inputs", type=_int_list, default=[1, 2, 8], help="default 1,2,8")
    parser.add_argument(
        "--fig3a-sweep", action="store_true",
        help="instead: time the Fig. 3a sweep (3 architectures, depths 1..--sweep-depths, --width, --dtype)",
    )
    parser.add_argument("--sweep-depths", type=_positive_int, default=50, help="largest depth (default 50)")
    parser.add_argument("--sweep-draws", type=_positive_int, default=5000, help="draws per point (default 5000)")
    parser.add_argument(
        "--sweep-sampler", choices=["stats", "exact"], default="stats",
        help="Gram-statistics (default) or low-rank sampler for the sweep",
    )
    parser.add_argument(
        "--independent-depths", action="store_true",
        help="sweep: draw every depth apart (default: vanilla/DenseNet depths share a forward pass)",
    )
    return parser


def _int_list(text: str) -> list[int]:
    """argparse type: comma-separated integers >= 1."""
    return [_positive_int(part) for part in text.split(",")]


# --- workload -------------------------------------------------------------------------------------
def bench_weights(
    spec: ArchitectureSpec, n_networks: int, dtype: torch.dtype, device: torch.device
) -> dict[str, torch.Tensor]:
    """Weights of ``n_networks`` networks (name -> (N, out, in)), drawn block by block with ``draw_weights``.

    ``draw_weights`` draws whole blocks of ``BLOCK`` networks; only the first ``n_networks`` are kept
    (cloned), so transient memory is about two blocks (its draw and its concatenation), not N/BLOCK.
    """
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in spec.weight_shapes()}
    for block in range(math.ceil(n_networks / BLOCK)):
        keep = min(BLOCK, n_networks - block * BLOCK)
        drawn = draw_weights(spec, WEIGHT_SEED, block, 1, dtype, device)
        for name, tensor in drawn.items():
            parts[name].append(tensor[:keep].clone())
        del drawn
    return {name: torch.cat(chunks) if len(chunks) > 1 else chunks[0] for name, chunks in parts.items()}


def bench_inputs(n_inputs: int, input_dim: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``n_inputs`` fixed (seeded) unit-norm inputs in R^input_dim: (k, input_dim)."""
    generator = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn((n_inputs, input_dim), generator=generator, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    return x.to(device=device, dtype=dtype)


def factorised_gram(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor, batch: int
) -> torch.Tensor:
    """Gram matrices (N, k, k) of all networks by ``ntk_of_weights``, ``batch`` networks per call.

    Per network, K = sum over trained W of K_W, K_W(x, x') = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>.
    """
    trained = spec.trained()
    mask = torch.tensor([name in trained for name in spec.weight_shapes()], dtype=torch.bool, device=x.device)
    n_networks = next(iter(weights.values())).shape[0]
    grams = []
    for start in range(0, n_networks, batch):
        chunk = {name: w[start : start + batch] for name, w in weights.items()}
        _, per_matrix = ntk_of_weights(spec, chunk, x)
        grams.append(per_matrix[:, mask].sum(dim=1))
    return torch.cat(grams)


def jacrev_gram(spec: ArchitectureSpec, weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, k, k) by a Python loop of ``jacrev_ntk`` over the networks (one at a time).

    Per network, K(x_i, x_j) = sum_W <dF(x_i)/dW, dF(x_j)/dW> with the Jacobians materialised.
    """
    n_networks = next(iter(weights.values())).shape[0]
    return torch.stack([jacrev_ntk(spec, {name: w[i] for name, w in weights.items()}, x) for i in range(n_networks)])


# --- timing ---------------------------------------------------------------------------------------
def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class _Method:
    """A method under test: its passes over all networks and its running totals."""

    name: str
    run_pass: Callable[[], torch.Tensor]
    warm_up: Callable[[], object]
    elapsed_s: float = 0.0
    passes: int = 0
    gram: torch.Tensor | None = None


def time_methods(methods: list[_Method], n_networks: int, seconds: float, device: torch.device) -> list[Timing]:
    """Warm up every method once, then time whole passes until each method has spent at least ``seconds``
    (and done at least one pass). The next pass always goes to the pending method with the least timed
    time so far, so the methods take turns over the same wall-clock window and see the same machine
    load, which keeps their ratio robust to noisy neighbours. Returns one ``Timing`` per method.
    """
    for method in methods:
        method.warm_up()
    _synchronize(device)
    while pending := [m for m in methods if m.passes == 0 or m.elapsed_s < seconds]:
        method = min(pending, key=lambda m: m.elapsed_s)
        start = time.perf_counter()
        gram = method.run_pass()
        _synchronize(device)
        method.elapsed_s += time.perf_counter() - start
        method.passes += 1
        if method.gram is None:
            method.gram = gram
    timings = []
    for method in methods:
        assert method.gram is not None
        rate = method.passes * n_networks / method.elapsed_s
        timings.append(Timing(method.name, rate, method.elapsed_s, method.passes, method.gram))
    return timings


def max_relative_difference(gram: torch.Tensor, reference: torch.Tensor) -> float:
    """max over networks of max|gram - reference| / max|reference| (entries of the (k, k) matrices)."""
    a = gram.to("cpu", torch.float64)
    b = reference.to("cpu", torch.float64)
    scale = b.abs().amax(dim=(-2, -1)).clamp_min(torch.finfo(torch.float64).tiny)
    return float(((a - b).abs().amax(dim=(-2, -1)) / scale).max())


# --- entry point ----------------------------------------------------------------------------------
def run_benchmark(args: argparse.Namespace, device: torch.device) -> tuple[list[dict[str, Any]], float]:
    """Draw the nets and inputs, time both methods, compare their Gram matrices. Returns (rows, tolerance)."""
    dtype = DTYPES[args.dtype]
    spec = VanillaNet(input_dim=args.input_dim, depth=args.depth, widths=args.width)
    weights = bench_weights(spec, args.networks, dtype, device)  # drawn once, not timed
    x = bench_inputs(args.inputs, args.input_dim, dtype, device)
    batch = min(args.batch, args.networks)
    first_batch = {name: w[:batch] for name, w in weights.items()}
    first_net = {name: w[0] for name, w in weights.items()}

    ours, theirs = time_methods(
        [
            _Method(FACTORISED, lambda: factorised_gram(spec, weights, x, batch),
                    lambda: ntk_of_weights(spec, first_batch, x)),
            _Method(JACREV, lambda: jacrev_gram(spec, weights, x), lambda: jacrev_ntk(spec, first_net, x)),
        ],
        args.networks, args.seconds, device,
    )
    diff = max_relative_difference(ours.gram, theirs.gram)
    common = {
        "device": str(device), "width": args.width, "depth": args.depth, "inputs": args.inputs,
        "dtype": args.dtype, "max_rel_diff": diff, "input_dim": args.input_dim, "networks": args.networks,
        "threads": torch.get_num_threads(), "weight_drawing_timed": False,
    }
    rows = []
    for timing, ratio, method_batch in (
        (ours, ours.nets_per_s / theirs.nets_per_s, batch), (theirs, 1.0, 1)
    ):
        rows.append({
            "name": timing.name, "nets_per_s": timing.nets_per_s, "ratio_vs_torch_func": ratio, **common,
            "batch": method_batch, "elapsed_s": timing.elapsed_s, "passes": timing.passes,
        })
    exact_rate, exact_seconds, exact_passes = time_exact_sampler(spec, x, args.networks, args.seconds)
    rows.append({
        "name": EXACT, "nets_per_s": exact_rate, "ratio_vs_torch_func": exact_rate / theirs.nets_per_s, **common,
        "weight_drawing_timed": True, "batch": args.networks, "elapsed_s": exact_seconds, "passes": exact_passes,
    })
    return rows, TOLERANCE[args.dtype]


def time_exact_sampler(spec: VanillaNet, x: torch.Tensor, n_networks: int, seconds: float) -> tuple[float, float, int]:
    """Nets/s of ``sample_ntk(sampler="exact")`` (estimators.lowrank), sampling included: it draws
    other networks of the same law (no weight matrix exists to share), so it has no max_rel_diff."""
    run = partial(sample_ntk, spec, x.cpu(), n_networks, 0, sampler="exact", device=x.device, dtype=x.dtype)
    run()  # warm-up
    elapsed, passes = 0.0, 0
    while elapsed < seconds or passes == 0:
        started = time.perf_counter()
        run()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - started
        passes += 1
    return n_networks * passes / elapsed, elapsed, passes


def format_table(rows: list[dict[str, Any]], tolerance: float) -> str:
    """Human-readable report of ``run_benchmark`` rows."""
    head = rows[0]
    lines = [
        f"NTK Gram matrix benchmark: VanillaNet(input_dim={head['input_dim']}, depth={head['depth']}, "
        f"widths={head['width']}), {head['inputs']} inputs, {head['dtype']}, device {head['device']} "
        f"({head['threads']} torch threads), {head['networks']} networks",
        "factorised and torch_func_jacrev: the NTK computation only, on the same nets (weights drawn once beforehand);",
        "exact_lowrank: sample_ntk(sampler='exact') end to end, sampling included, on other nets of the same law.",
        "",
        f"{'method':<20}{'nets/s':>12}{'ratio vs torch.func':>22}{'batch':>8}{'passes':>8}{'seconds':>10}",
    ]
    for row in rows:
        lines.append(
            f"{row['name']:<20}{row['nets_per_s']:>12.3f}{row['ratio_vs_torch_func']:>22.2f}"
            f"{row['batch']:>8d}{row['passes']:>8d}{row['elapsed_s']:>10.2f}"
        )
    verdict = "agree" if head["max_rel_diff"] <= tolerance else "DISAGREE"
    lines += [
        "",
        f"max relative difference of the Gram matrices (same nets): {head['max_rel_diff']:.3e} "
        f"(tolerance {tolerance:.0e}: {verdict})",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 if the two methods' Gram matrices disagree; 2 on bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except ValueError as err:
        parser.error(str(err))
    if args.fig3a_sweep:
        sweep = run_sweep(
            args.sweep_depths, args.sweep_draws, args.width, DTYPES[args.dtype], device,
            args.sweep_sampler, not args.independent_depths,
        )  # fmt: skip
        text = format_sweep(sweep, args.sweep_depths, args.sweep_draws, args.width, args.dtype)
        print(json.dumps(sweep) if args.json else text)
        return 0
    if args.sampler_grid:
        x_all = bench_inputs(max(args.grid_inputs), args.input_dim, torch.float64, torch.device("cpu"))
        grid = run_sampler_grid(
            args.grid_widths, args.grid_inputs, args.depth, args.input_dim, args.seconds, device, x_all
        )
        print("\n".join(json.dumps(row) for row in grid) if args.json else format_grid(grid))
        return 0
    rows, tolerance = run_benchmark(args, device)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(format_table(rows, tolerance))
    if rows[0]["max_rel_diff"] > tolerance:
        print(
            f"error: factorised and torch.func Gram matrices differ (max relative difference "
            f"{rows[0]['max_rel_diff']:.3e} > {tolerance:.0e}); the timings compare different results",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
