"""Composable layers: a network is a tree of these small frozen values (see ``models.layers.core``).

    from models.layers import Conv, Dense, GlobalAvgPool, LayerNorm, ReLU, Residual, Serial
    from models.network import Network
    net = Network((16, 3), Serial(Conv(64, 3), ReLU(), Residual(Serial(LayerNorm(), Conv(64, 3), ReLU())),
                                  GlobalAvgPool(), Dense(1)))
"""

from models.layers.activation import (
    FUNCTIONS,
    HE_GAIN,
    Activation,
    Erf,
    Gelu,
    Identity,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
)
from models.layers.attention import SCALINGS, SelfAttention, Softmax, Take
from models.layers.combinators import Concat, Repeat, Residual, Serial, Sum
from models.layers.conv import PADDINGS, Conv, Flatten, GlobalAvgPool
from models.layers.core import Layer, Namer, Param, Run, Shape, layer_from_json
from models.layers.dense import Dense
from models.layers.fields import PARAMETERIZATIONS
from models.layers.norm import BatchNorm, LayerNorm

__all__ = [
    "FUNCTIONS",
    "HE_GAIN",
    "PADDINGS",
    "PARAMETERIZATIONS",
    "SCALINGS",
    "Activation",
    "BatchNorm",
    "Concat",
    "Conv",
    "Dense",
    "Erf",
    "Flatten",
    "Gelu",
    "GlobalAvgPool",
    "Identity",
    "Layer",
    "LayerNorm",
    "Namer",
    "Param",
    "ReLU",
    "Repeat",
    "Residual",
    "Run",
    "SelfAttention",
    "Serial",
    "Shape",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Sum",
    "Take",
    "Tanh",
    "layer_from_json",
]
