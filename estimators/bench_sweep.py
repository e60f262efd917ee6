"""Timing of a Fig. 3a-scale sweep (Littwin et al. 2021, Sec. 6.1) with ``sample_ntk``.

``python -m estimators.bench --fig3a-sweep [--sweep-depths 50] [--sweep-draws 5000] [--width 500]
[--dtype float64|float32]``

For each architecture — vanilla, ResNet (branch depth m = 2, alpha_l = 0.1 / L) and DenseNet
(alpha = 0.5) — and each number of layers L = 1..``--sweep-depths``, draw ``--sweep-draws``
networks of width n on x = x^/||x^||, x' = x^'/||x^'||, x^ ~ N(+0.5, 1)^n, x^' ~ N(-0.5, 1)^n
(input dimension n), and compute the normalised variances V = Var(K) / E[K]^2 of the diagonal
K(x, x) and the off-diagonal K(x, x'). Prints seconds per architecture, the total, and V at a few
depths (the curves themselves are ``experiments``' business). Sampling included; the exact sampler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from estimators.ntk import sample_ntk
from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.vanilla import VanillaNet

INPUT_SEED = 3
BRANCH_DEPTH = 2

ARCHITECTURES: dict[str, Callable[[int, int], ArchitectureSpec]] = {
    "vanilla": lambda depth, n: VanillaNet(input_dim=n, depth=depth, widths=n),
    "resnet": lambda depth, n: LittwinResNet(n, depth, BRANCH_DEPTH, n, (0.1 / depth,) * depth),
    "densenet": lambda depth, n: DenseNet(input_dim=n, depth=depth, width=n, alpha=0.5),
}


def fig3a_inputs(width: int) -> torch.Tensor:
    """x, x' (2, width): normalised N(+0.5, 1) and N(-0.5, 1) vectors (fixed seed)."""
    generator = torch.Generator().manual_seed(INPUT_SEED)
    raw = torch.randn((2, width), generator=generator, dtype=torch.float64) + torch.tensor([[0.5], [-0.5]])
    return raw / raw.norm(dim=1, keepdim=True)


def normalised_variance(values: torch.Tensor) -> float:
    """V = Var / mean^2 of a 1-d sample (float64)."""
    values = values.to(torch.float64)
    return float(values.var() / values.mean() ** 2)


def run_sweep(max_depth: int, n_draws: int, width: int, dtype: torch.dtype, device: torch.device) -> dict[str, Any]:
    """{architecture: {"seconds", "v_diagonal", "v_off_diagonal"}} plus "total_seconds"."""
    x = fig3a_inputs(width)
    result: dict[str, Any] = {}
    started_all = time.perf_counter()
    for name, build in ARCHITECTURES.items():
        started = time.perf_counter()
        v_diagonal, v_off = [], []
        for depth in range(1, max_depth + 1):
            gram = sample_ntk(build(depth, width), x, n_draws, depth, device=device, dtype=dtype).gram
            v_diagonal.append(normalised_variance(gram[:, 0, 0]))
            v_off.append(normalised_variance(gram[:, 0, 1]))
        result[name] = {"seconds": time.perf_counter() - started, "v_diagonal": v_diagonal, "v_off_diagonal": v_off}
    result["total_seconds"] = time.perf_counter() - started_all
    return result


def format_sweep(result: dict[str, Any], max_depth: int, n_draws: int, width: int, dtype: str) -> str:
    """Table of seconds and V at a few depths."""
    shown = sorted({1, min(10, max_depth), min(25, max_depth), max_depth})
    lines = [
        f"Fig. 3a-scale sweep: depths 1..{max_depth}, n = {width}, {n_draws} draws per point, {dtype}, "
        f"{torch.get_num_threads()} torch threads",
        f"{'architecture':<12}{'seconds':>10}  " + "  ".join(f"V_diag(L={d}) / V_off" for d in shown),
    ]
    for name in ARCHITECTURES:
        row = result[name]
        cells = "  ".join(f"{row['v_diagonal'][d - 1]:>9.3f} / {row['v_off_diagonal'][d - 1]:<6.3f}" for d in shown)
        lines.append(f"{name:<12}{row['seconds']:>10.1f}  {cells}")
    lines.append(f"total {result['total_seconds']:.1f} s")
    return "\n".join(lines)
