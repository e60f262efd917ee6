"""Memory preflight: estimate an estimator's peak bytes before it allocates, and refuse clearly.

Every estimator that allocates by spec size calls ``check_fits`` with its own estimate (the formula is
in each caller's docstring) before the first allocation. When the estimate exceeds the limit — the
``max_bytes`` a user passes, else the memory available on the device (Linux ``MemAvailable``; CUDA's free
memory) — it raises a ``ValueError`` naming the spec, its widths, the bytes needed and what to change,
instead of torch's ``DefaultCPUAllocator: can't allocate memory`` from deep inside a forward pass.
The estimates are upper-bound-minded (autograd keeps every layer's activations), within a small factor.
"""

from __future__ import annotations

import os

import torch

from models.base import ArchitectureSpec


def available_bytes(device: torch.device | str = "cpu") -> int:
    """Bytes an allocation can use now: CUDA free memory, else Linux ``MemAvailable`` (sysconf elsewhere)."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def human_bytes(n: float) -> str:
    """``1.3 GB`` style (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.3g} EB"  # pragma: no cover


def describe_widths(spec: ArchitectureSpec) -> str:
    """The spec's size in one phrase: matrix count, largest width, weight count."""
    fan_outs = [shape[0] for shape in spec.weight_shapes().values()]
    largest = max(fan_outs)
    weights = spec.n_parameters(trained_only=False)
    return f"{len(fan_outs)} weight matrices, widths up to {largest:,}, {weights:,} weights"


def first_batched_weight(weights: object) -> torch.Tensor | None:
    """The first (B, out, in) tensor of a weights dict, or None (the caller's own validation then speaks)."""
    first = next(iter(weights.values()), None) if isinstance(weights, dict) else None
    return first if isinstance(first, torch.Tensor) and first.ndim == 3 else None


def check_max_bytes(owner: str, max_bytes: int | None) -> None:
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1):
        raise ValueError(f"{owner}.max_bytes must be None or an integer >= 1, got {max_bytes!r}")


def check_fits(
    owner: str,
    spec: ArchitectureSpec,
    needed_bytes: float,
    what: str,
    advice: str,
    *,
    device: torch.device | str = "cpu",
    max_bytes: int | None = None,
) -> None:
    """Raise a ``ValueError`` if ``needed_bytes`` (``what`` says for what) exceeds ``max_bytes`` or, when it is
    None, the memory available on ``device``; ``advice`` says what to change."""
    check_max_bytes(owner, max_bytes)
    limit = max_bytes if max_bytes is not None else available_bytes(device)
    if needed_bytes <= limit:
        return
    source = "max_bytes" if max_bytes is not None else f"available on {torch.device(device).type}"
    name = spec.describe()
    raise ValueError(
        f"{owner}: {name} ({describe_widths(spec)}) needs about {human_bytes(needed_bytes)} for {what}, more than "
        f"the {human_bytes(limit)} {source}; {advice}"
    )
