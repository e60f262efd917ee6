"""Huang et al.'s FFNet and ResNet specs compute exactly the documented formulas (THEOREMS.md B):
x_0 = A x / sqrt(d); FFNet x_l = sqrt(2) phi(W_l x_{l-1} / sqrt(n)); ResNet x_l = x_{l-1} +
alpha V_l sqrt(2) phi(W_l x_{l-1} / sqrt(n)) / sqrt(n), alpha = L^-gamma; f = v . x_L / sqrt(n)."""

import math

import numpy as np
import torch

from models.resnet import HuangFFNet, HuangResNet


def random_weights(spec, seed):
    generator = np.random.default_rng(seed)
    return {name: generator.normal(size=(1, *shape)) for name, shape in spec.weight_shapes().items()}


def relu2(u):
    return math.sqrt(2.0) * np.maximum(u, 0.0)


def test_resnet_forward_is_the_documented_formula():
    spec = HuangResNet(input_dim=3, depth=4, width=5, gamma=0.7)
    weights = random_weights(spec, 0)
    x = np.array([[0.3, -1.0, 2.0], [1.0, 0.5, 0.0]])
    n, alpha = 5, 4**-0.7
    assert spec.alpha == alpha
    h = x @ weights["A"][0].T / math.sqrt(3)
    for l in range(1, 5):
        h = h + alpha * relu2(h @ weights[f"W{l}"][0].T / math.sqrt(n)) @ weights[f"V{l}"][0].T / math.sqrt(n)
    expected = h @ weights["v"][0].T[:, 0] / math.sqrt(n)
    f = spec.apply({k: torch.tensor(v) for k, v in weights.items()}, torch.tensor(x)[None])
    np.testing.assert_allclose(f[0].numpy(), expected, rtol=1e-12)


def test_ffnet_forward_is_the_documented_formula():
    spec = HuangFFNet(input_dim=3, depth=3, width=6)
    weights = random_weights(spec, 1)
    x = np.array([[0.3, -1.0, 2.0]])
    h = x @ weights["A"][0].T / math.sqrt(3)
    for l in range(1, 4):
        h = relu2(h @ weights[f"W{l}"][0].T / math.sqrt(6))
    expected = h @ weights["v"][0].T[:, 0] / math.sqrt(6)
    f = spec.apply({k: torch.tensor(v) for k, v in weights.items()}, torch.tensor(x)[None])
    np.testing.assert_allclose(f[0].numpy(), expected, rtol=1e-12)


def test_only_branch_and_hidden_matrices_are_trained_unless_train_all():
    resnet, ffnet = HuangResNet(2, 3, 4, 1.0), HuangFFNet(2, 3, 4)
    assert resnet.trained() == {"W1", "V1", "W2", "V2", "W3", "V3"}
    assert ffnet.trained() == {"W1", "W2", "W3"}
    assert HuangResNet(2, 3, 4, 1.0, train_all=True).trained() == set(resnet.weight_shapes())
    assert HuangFFNet(2, 3, 4, train_all=True).trained() == set(ffnet.weight_shapes())
    assert resnet.weight_shapes()["A"] == (4, 2) and resnet.weight_shapes()["v"] == (1, 4)
