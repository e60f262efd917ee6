"""Device selection: ``auto`` picks CUDA when present, else CPU."""

from __future__ import annotations

import torch

from engine.options import DEVICE_CHOICES


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Map ``auto|cpu|cuda`` (or a ``torch.device``) to a ``torch.device``; a clear error for unknown
    or missing devices."""
    if isinstance(name, torch.device):
        if name.type not in DEVICE_CHOICES:
            raise ValueError(f"device must be a cpu or cuda device, got {name}")
        if name.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name} was requested but torch.cuda.is_available() is False")
        return name
    if name not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {list(DEVICE_CHOICES)}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but torch.cuda.is_available() is False")
    return torch.device(name)
