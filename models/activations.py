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
