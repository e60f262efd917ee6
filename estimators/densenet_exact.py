"""Exact low-rank Monte Carlo of Littwin et al.'s DenseNet (Eq. 10) in O(L n k) normals per network.

The generic sampler (``estimators.lowrank``) treats each of the L(L+1)/2 matrices W^{l,h} on its
own: O(L^2 n k) normals per network. Here layer l's matrices are one N(0, 1) matrix
W_l = [W^{l,0} ... W^{l,l-1}] (n x l n) acting on the concatenation H_l = [q^0 ... q^{l-1}]
(k x l n), y^l = s_l H_l W_l^T, s_l = sqrt(alpha / (l n)), and the backward noise aimed at each
q^h is pooled over the layers l > h that read it. With D_l = dF/dY_l (k x n, Y_l = H_l W_l^T),
Gram_l = H_l H_l^T = sum_{h<l} q^h q^h^T and A_l = D_l Z_l (Z_l independent N(0, 1)):

    dF/dH_l = D_l Y_l^T Gram_l^+ H_l + A_l (I - P_{H_l})                      (estimators.lowrank)

Write A_{l,h} for block h of A_l and M_{l,h} = A_{l,h} q^h^T (k x k). Then, exactly in law,
A_{l,h} = M_{l,h} G_h^+ q^h + A_{l,h} (I - P_h) (G_h = q^h q^h^T, P_h its projector), the two
parts independent, M_{l,h} = R(D_l D_l^T) E_{l,h} R(G_h) with E_{l,h} k x k i.i.d. N(0, 1), and
sum_l A_{l,h} (I - P_h) = R(S_h) E_h (I - P_h), S_h = sum_{l>h} D_l D_l^T, E_h k x n i.i.d.
N(0, 1). Collecting block h of every layer l > h:

    dF/dq^h = [sum_{l>h} (D_l Y_l^T - T_l) Gram_l^+ + M_{l,h} G_h^+] q^h + R(S_h) E_h (I - P_h),
    T_l = sum_{h'<l} M_{l,h'}.

Per network: O(n k) normals per layer (forward Y_l and E_h) plus O(L^2 k^3) for the M's. The
per-matrix NTK Grams follow the factorisation K_{W^{l,h}} = s_l^2 (delta_l delta_l^T) o (q^h q^h^T)
(o: entrywise product of k x k matrices, delta_l = df/dy^l). Noise comes from
``estimators.lowrank.block_noise`` under names of its own: other networks of the same law as the
generic sampler's, reproducible per seed and independent of chunking.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from estimators.lowrank import block_noise, psd_sqrt_and_pinv
from models.densenet import DenseNet

SQRT2 = math.sqrt(2.0)


def _project_out(m: torch.Tensor, h: torch.Tensor, gram_pinv: torch.Tensor) -> torch.Tensor:
    """``m (I - P_h)``: m (B, k, n), h (B, k, n), gram_pinv (B, k, k)."""
    return m - ((m @ h.transpose(-1, -2)) @ gram_pinv) @ h


def _grad_q(
    h: int,
    coefficient: torch.Tensor,
    pooled: torch.Tensor,
    q: list[torch.Tensor],
    q_pinvs: torch.Tensor,
    noise: Callable[..., torch.Tensor],
) -> torch.Tensor:
    """dF/dq^h = coefficient_h q^h + R(S_h) E_h (I - P_h), once every layer l > h has been processed."""
    s_root, _ = psd_sqrt_and_pinv(pooled[:, h])
    k, n = q[h].shape[-2:]
    return coefficient[:, h] @ q[h] + _project_out(s_root @ noise(f"q{h}", "backward", k, n), q[h], q_pinvs[:, h])


def densenet_ntk_exact(
    spec: DenseNet, x: torch.Tensor, seed: int, first_block: int, n_blocks: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """f (B, k) and per-matrix Grams (B, M, k, k) (``spec.weight_shapes()`` order) of B = n_blocks * BLOCK
    DenseNets on inputs x (k, input_dim), drawn exactly in law without forming any weight matrix."""
    dtype, device = x.dtype, x.device
    n, depth, k = spec.width, spec.depth, x.shape[0]

    def noise(name: str, phase: str, *shape: int) -> torch.Tensor:
        return block_noise(seed, first_block, n_blocks, f"densenet:{name}", phase, shape, dtype, device)

    # forward: y^0 = W^0 x / sqrt(n0); y^l = s_l H_l W_l^T; f = W^out y^L / sqrt(n)
    input_gram = x @ x.T
    input_root, _ = psd_sqrt_and_pinv(input_gram)
    y = [(input_root @ noise("W0", "forward", k, n)) / math.sqrt(spec.input_dim)]
    q = [SQRT2 * torch.relu(y[0])]
    q_gram = [q[0] @ q[0].transpose(-1, -2)]
    layer_raw, layer_pinv = [None], [None]
    concat_gram = torch.zeros_like(q_gram[0])
    for l in range(1, depth + 1):
        concat_gram = concat_gram + q_gram[l - 1]
        root, pinv = psd_sqrt_and_pinv(concat_gram)
        raw = root @ noise(f"W{l}", "forward", k, n)
        layer_raw.append(raw)
        layer_pinv.append(pinv)
        y.append(math.sqrt(spec.alpha / (l * n)) * raw)
        if l < depth:
            q.append(SQRT2 * torch.relu(y[l]))
            q_gram.append(q[l] @ q[l].transpose(-1, -2))
    top = y[depth]
    top_gram = top @ top.transpose(-1, -2)
    top_root, top_pinv = psd_sqrt_and_pinv(top_gram)
    out_raw = top_root @ noise("Wout", "forward", k, 1)
    outputs = out_raw[..., 0] / math.sqrt(n)

    # backward: delta_L = dF/dy^L through W^out (generic formula), then layer by layer
    d_out = torch.full_like(out_raw, 1.0 / math.sqrt(n))
    d_root, _ = psd_sqrt_and_pinv(d_out @ d_out.transpose(-1, -2))
    out_noise = _project_out(d_root @ noise("Wout", "backward", k, n), top, top_pinv)
    delta = [None] * (depth + 1)
    delta[depth] = (d_out @ out_raw.transpose(-1, -2)) @ top_pinv @ top + out_noise
    batch = q_gram[0].shape[0]
    coefficient = x.new_zeros(batch, depth, k, k)  # k x k factor of q^h in dF/dq^h
    pooled = x.new_zeros(batch, depth, k, k)  # S_h = sum_{l>h} D_l D_l^T
    q_grams = torch.stack(q_gram, dim=1)  # (B, depth, k, k)
    q_roots, q_pinvs = psd_sqrt_and_pinv(q_grams)
    delta_grams = [None] * (depth + 1)
    for l in range(depth, 0, -1):
        if l < depth:
            delta[l] = _grad_q(l, coefficient, pooled, q, q_pinvs, noise) * SQRT2 * (y[l] > 0)
        d = math.sqrt(spec.alpha / (l * n)) * delta[l]
        dd = d @ d.transpose(-1, -2)
        delta_grams[l] = dd
        d_root, _ = psd_sqrt_and_pinv(dd)
        e = noise(f"W{l}", "backward-blocks", l, k, k)  # E_{l,h}, h = 0..l-1: (B, l, k, k)
        m = d_root.unsqueeze(1) @ e @ q_roots[:, :l]  # M_{l,h}
        shared = (d @ layer_raw[l].transpose(-1, -2) - m.sum(dim=1)) @ layer_pinv[l]
        coefficient[:, :l] += shared.unsqueeze(1) + m @ q_pinvs[:, :l]
        pooled[:, :l] += dd.unsqueeze(1)
    delta[0] = _grad_q(0, coefficient, pooled, q, q_pinvs, noise) * SQRT2 * (y[0] > 0)

    # K_{W^{l,h}} = s_l^2 (delta_l delta_l^T) o (q^h q^h^T) = (D_l D_l^T) o G_h
    d0 = delta[0] / math.sqrt(spec.input_dim)
    grams = [((d0 @ d0.transpose(-1, -2)) * input_gram).unsqueeze(1)]
    grams.extend(delta_grams[l].unsqueeze(1) * q_grams[:, :l] for l in range(1, depth + 1))
    grams.append((top_gram / n).unsqueeze(1))  # W^out: delta = 1, scale 1/sqrt(n)
    return outputs, torch.cat(grams, dim=1)
