"""Named activations. ``relu_he`` is Littwin et al.'s q = sqrt(2) * phi(y) (He gain folded in)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Activation = Callable[[torch.Tensor], torch.Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "identity": lambda u: u,
    "relu": torch.relu,
    "relu_he": lambda u: math.sqrt(2.0) * torch.relu(u),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": torch.nn.functional.softplus,
}


def _sigmoid_slope(u: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(u)
    return s * (1 - s)


# (s', s'') of the output activations f = s(z) (Liu, Zhu & Belkin Sec. 4: H_f = s' H_z + s'' grad z grad z^T)
OUTPUT_DERIVATIVES: dict[str, tuple[Activation, Activation]] = {
    "identity": (torch.ones_like, torch.zeros_like),
    "tanh": (lambda u: 1 - torch.tanh(u) ** 2, lambda u: -2 * torch.tanh(u) * (1 - torch.tanh(u) ** 2)),
    "sigmoid": (_sigmoid_slope, lambda u: _sigmoid_slope(u) * (1 - 2 * torch.sigmoid(u))),
    "softplus": (torch.sigmoid, _sigmoid_slope),
}
