"""The architectures Huang et al.'s reviewers asked about (issue 18), as compositions of ``models.layers``.

Huang et al.'s families (``models.presets.huang_ffnet`` / ``huang_resnet``: x_0 = A x / sqrt(d), A and v
fixed, the hidden matrices trained, q = sqrt(2) phi) with one change each:

- ``batchnorm_ffnet``: x_l = q(BN(W_l x_{l-1} / sqrt(n))), a ``BatchNorm`` (train-mode statistics over the
  k inputs, no affine) after every hidden dense layer;
- ``batchnorm_resnet``: x_l = x_{l-1} + alpha V_l q(BN(W_l x_{l-1} / sqrt(n))) / sqrt(n), alpha = L^-gamma
  (the normalisation after the branch's first dense layer, before the ReLU);
- ``conv_ffnet``: inputs (P positions, C channels); A, W_l circular 1-d convolutions (``kernel_size``,
  stride 1), x_l = q(W_l * x_{l-1}), then ``GlobalAvgPool`` and f = v . mean_p x_L / sqrt(n);
- ``conv_resnet``: x_l = x_{l-1} + alpha V_l * q(W_l * x_{l-1}) with convolutions W_l, V_l, alpha = L^-gamma,
  the same stem and readout.
Weight names follow the Huang presets (A, W1.., V1.., v), so the trained set is W_l (and V_l).
"""

from __future__ import annotations

from models.layers import HE_GAIN, BatchNorm, Conv, Dense, GlobalAvgPool, Layer, ReLU, Residual, Serial
from models.network import Network
from models.validation import positive_int


def _alpha(depth: int, gamma: float) -> float:
    if not (isinstance(gamma, int | float) and 0.0 <= gamma <= 2.0):
        raise ValueError(f"gamma must be a number in [0, 2] (alpha = L^-gamma), got {gamma!r}")
    return float(depth) ** -float(gamma)


def batchnorm_ffnet(input_dim: int, depth: int, width: int) -> Network:
    """Huang's FFNet with a BatchNorm after every hidden dense layer W_l (before the ReLU)."""
    depth, width = positive_int("batchnorm_ffnet", "depth", depth), positive_int("batchnorm_ffnet", "width", width)
    layers: list[Layer] = [Dense(width, trained=False, name="A")]
    for l in range(1, depth + 1):
        layers += [Dense(width, name=f"W{l}"), BatchNorm(), ReLU(HE_GAIN)]
    return Network((input_dim,), Serial(*layers, Dense(1, trained=False, name="v")))


def batchnorm_resnet(input_dim: int, depth: int, width: int, gamma: float) -> Network:
    """Huang's ResNet (alpha = L^-gamma) with a BatchNorm after each branch's first dense layer W_l."""
    depth, width = positive_int("batchnorm_resnet", "depth", depth), positive_int("batchnorm_resnet", "width", width)
    alpha = _alpha(depth, gamma)
    blocks = [
        Residual(Serial(Dense(width, name=f"W{l}"), BatchNorm(), ReLU(HE_GAIN), Dense(width, name=f"V{l}")), alpha)
        for l in range(1, depth + 1)
    ]
    readout = Dense(1, trained=False, name="v")
    return Network((input_dim,), Serial(Dense(width, trained=False, name="A"), *blocks, readout))


def conv_ffnet(positions: int, channels: int, depth: int, width: int, kernel_size: int = 3) -> Network:
    """A 1-d circular-convolution FFNet: conv stem A (fixed), depth convolutions W_l + ReLU, global average pool, v."""
    depth, width = positive_int("conv_ffnet", "depth", depth), positive_int("conv_ffnet", "width", width)
    layers: list[Layer] = [Conv(width, kernel_size, trained=False, name="A")]
    for l in range(1, depth + 1):
        layers += [Conv(width, kernel_size, name=f"W{l}"), ReLU(HE_GAIN)]
    return Network((positions, channels), Serial(*layers, GlobalAvgPool(), Dense(1, trained=False, name="v")))


def conv_resnet(positions: int, channels: int, depth: int, width: int, gamma: float, kernel_size: int = 3) -> Network:
    """A 1-d circular-convolution ResNet: blocks x + alpha V_l * q(W_l * x), alpha = L^-gamma; stem and readout
    as ``conv_ffnet``."""
    depth, width = positive_int("conv_resnet", "depth", depth), positive_int("conv_resnet", "width", width)
    alpha = _alpha(depth, gamma)
    blocks = [
        Residual(Serial(Conv(width, kernel_size, name=f"W{l}"), ReLU(HE_GAIN), Conv(width, kernel_size, name=f"V{l}")),
                 alpha)
        for l in range(1, depth + 1)
    ]  # fmt: skip
    return Network(
        (positions, channels),
        Serial(Conv(width, kernel_size, trained=False, name="A"), *blocks, GlobalAvgPool(),
               Dense(1, trained=False, name="v")),
    )  # fmt: skip


FAMILIES = {
    "batchnorm-ffnet": batchnorm_ffnet,
    "batchnorm-resnet": batchnorm_resnet,
    "conv-ffnet": conv_ffnet,
    "conv-resnet": conv_resnet,
}
