"""The six hand-built families as compositions of ``models.layers`` (same weight names, same numbers).

Each preset spec (``VanillaNet``, ``LittwinResNet``, ``DenseNet``, ``HuangResNet``, ``HuangFFNet``,
``LZBNet``) keeps its fields, validation and JSON kind; its forward pass, weight list and trained set
come from the ``Network`` these functions build. Littwin et al.'s q = sqrt(2) phi is ``ReLU(HE_GAIN)``.
"""

from __future__ import annotations

import math

from models.layers import (
    HE_GAIN,
    Activation,
    Concat,
    Dense,
    GlobalAvgPool,
    Identity,
    Layer,
    ReLU,
    Residual,
    SelfAttention,
    Serial,
    Softmax,
    Take,
)
from models.network import Network


def vanilla(input_dim: int, widths: tuple[int, ...]) -> Network:
    """Littwin et al. Sec. 4: y^0 = W^0 x / sqrt(n_0), y^l = W^l q^{l-1} / sqrt(n_{l-1}), f = W^out y^L / sqrt(n_L)."""
    layers: list[Layer] = [Dense(widths[0], name="W0")]
    for l, width in enumerate(widths[1:], start=1):
        layers += [ReLU(HE_GAIN), Dense(width, name=f"W{l}")]
    return Network((input_dim,), Serial(*layers, Dense(1, name="Wout")))


def littwin_resnet(
    input_dim: int, width: int, branch_width: int, branch_depth: int, alphas: tuple[float, ...]
) -> Network:
    """Littwin et al. Eq. 9: y^l = y^{l-1} + sqrt(alpha_l) y^{l-1,m}, branch W^{l,1}, then q and W^{l,h}."""
    blocks: list[Layer] = []
    for l, alpha in enumerate(alphas, start=1):
        branch: list[Layer] = [Dense(width if branch_depth == 1 else branch_width, name=f"W{l},1")]
        for h in range(2, branch_depth + 1):
            branch += [ReLU(HE_GAIN), Dense(width if h == branch_depth else branch_width, name=f"W{l},{h}")]
        blocks.append(Residual(Serial(*branch), alpha=math.sqrt(alpha)))
    return Network((input_dim,), Serial(Dense(width, name="W0"), *blocks, Dense(1, name="Wout")))


def densenet(input_dim: int, depth: int, width: int, alpha: float) -> Network:
    """Littwin et al. Eq. 10: y^l = sqrt(alpha / (l n)) sum_{h<l} W^{l,h} q^h; a dense layer over the
    concatenation [q^0, ..., q^{l-1}] owns the blocks W^{l,h}."""
    std = math.sqrt(alpha)
    growth: list[Layer] = [
        Concat(Identity(), Serial(Dense(width, weight_std=std, name=f"W{l}"), ReLU(HE_GAIN))) for l in range(1, depth)
    ]
    return Network(
        (input_dim,),
        Serial(
            Dense(width, name="W0"),
            Concat(ReLU(HE_GAIN)),
            *growth,
            Dense(width, weight_std=std, name=f"W{depth}"),
            Dense(1, name="Wout"),
        ),
    )


def huang_resnet(input_dim: int, depth: int, width: int, alpha: float, train_all: bool) -> Network:
    """Huang et al.: x_0 = A x / sqrt(d), x_l = x_{l-1} + alpha V_l q(W_l x_{l-1} / sqrt n) / sqrt n,
    f = v x_L / sqrt n."""
    blocks = [
        Residual(Serial(Dense(width, name=f"W{l}"), ReLU(HE_GAIN), Dense(width, name=f"V{l}")), alpha=alpha)
        for l in range(1, depth + 1)
    ]
    return Network(
        (input_dim,),
        Serial(Dense(width, trained=train_all, name="A"), *blocks, Dense(1, trained=train_all, name="v")),
    )


def huang_ffnet(input_dim: int, depth: int, width: int, train_all: bool) -> Network:
    """Huang et al.'s FFNet: x_0 = A x / sqrt(d), x_l = q(W_l x_{l-1} / sqrt n), f = v x_L / sqrt n."""
    layers: list[Layer] = [Dense(width, trained=train_all, name="A")]
    for l in range(1, depth + 1):
        layers += [Dense(width, name=f"W{l}"), ReLU(HE_GAIN)]
    return Network((input_dim,), Serial(*layers, Dense(1, trained=train_all, name="v")))


def lzb(input_dim: int, hidden_widths: tuple[int, ...], activation: str, output_activation: str) -> Network:
    """Liu, Zhu & Belkin: h_l = sigma(W_l h_{l-1} / sqrt(n_{l-1})), f = s(v h_L / sqrt(n_L))."""
    layers: list[Layer] = []
    for l, width in enumerate(hidden_widths, start=1):
        layers += [Dense(width, name=f"W{l}"), Activation(activation)]
    return Network((input_dim,), Serial(*layers, Dense(1, name="v"), Activation(output_activation)))


def softmax_output(input_dim: int, hidden_widths: tuple[int, ...], activation: str, classes: int) -> Network:
    """A linear-output LZB net with ``classes`` logits z = v h_L / sqrt(n_L) and f = softmax(z)_0 (the probability
    of class 0): the softmax output of Liu, Zhu & Belkin's reviewers (Review 2)."""
    layers: list[Layer] = []
    for l, width in enumerate(hidden_widths, start=1):
        layers += [Dense(width, name=f"W{l}"), Activation(activation)]
    return Network((input_dim,), Serial(*layers, Dense(classes, name="v"), Softmax(), Take(0)))


def attention_net(tokens: int, input_dim: int, width: int, heads: int, scaling: str, activation: str) -> Network:
    """Tokens (T, d) -> embedding E x_t / sqrt(d) (width m) -> softmax self-attention (``heads``, logits scaled by
    1/sqrt(d_h) or 1/d_h) -> activation -> mean over tokens -> linear output v h / sqrt(m)."""
    return Network(
        (tokens, input_dim),
        Serial(
            Dense(width, name="E"), SelfAttention(heads=heads, scaling=scaling, name="A"), Activation(activation),
            GlobalAvgPool(), Dense(1, name="v"),
        ),
    )  # fmt: skip
