"""Gram-statistics sampler: exact-in-law Monte Carlo of f and the NTK of ReLU nets in O(n k) normals
per ReLU layer, forward only; backward passes and residual streams cost O(k^3) and O(L k^2).

``estimators.lowrank`` samples every unit of every layer, forward and backward. For ReLU nets
(q = sqrt(2) phi) on k inputs much less is needed, because the NTK factorises per matrix into
k x k Grams (``estimators.ntk``) and everything a backward step needs is a k x k statistic:

Masked layers (``backprop_into``). A ReLU layer of N units with pre-activations u_j (k-vectors,
one per unit) splits into 2^k groups p by the activation pattern m_p = 1{u_j > 0}; q_j =
c M_p u_j (M_p = diag(m_p), c = sqrt(2)). A backward step into it arrives as
(``estimators.lowrank``: D W = D Y^T Gram_q^+ q + (D Z)(I - P_q))

    dF/dq_j = A q_j + e_j - Q q_j,   e_j i.i.d. N(0, Sigma),   Q = (sum_j e_j q_j^T) Gram_q^+,

and the next step needs only Gram(delta) = sum_j delta_j delta_j^T and sum_j delta_j u_j^T,
delta_j = dF/du_j = c M_p dF/dq_j. Per group these are polynomials in S_p = sum_{j in p} u_j u_j^T,
C_p = sum_{j in p} u_j e_j^T and W_p = sum_{j in p} e_j e_j^T, whose joint law given u is exact:
with G_p (n_p x k) i.i.d. N(0, 1) and e = G_p R (R = Sigma^{1/2}), rotation invariance of G_p gives

    C_p = S_p^{1/2} F_p R,   W_p = R (F_p^T Pi_p F_p + T_p^T T_p) R,

F_p (k x k) i.i.d. N(0, 1), Pi_p the projector on range(S_p), and T_p the Bartlett factor of a
Wishart_k(n_p - rank S_p, I): upper triangular, T_ii = chi(n_p - r_p - i + 1), T_ij ~ N(0, 1)
(i < j), rows with n_p - r_p - i + 1 <= 0 zero. Groups are independent given u (disjoint units).
An unmasked layer (the read-out of y^L) is one group with M = I and c = 1.

Residual streams (``ResidualCoordinates``). The trunk of a ResNet is never masked, so its vectors
(k per family: y^0, every branch output, the read-out row, every backward noise) are kept as
coordinates in an orthonormal basis of their span: a fresh Gaussian family G R (N x k', G i.i.d.,
independent of the past) has coordinates F R on the r directions already used (F r x k' i.i.d.)
and T R on k' new ones (T the Bartlett factor of Wishart_k'(N - r, I)). Inner products of
coordinates are the unit-space inner products, so every Gram and cross term is exact.

Forward pre-activations of masked layers are still drawn unit by unit (their group statistics
have no closed law), which is what the O(n k) per layer is. Depth sweeps of vanilla nets and
DenseNets share one forward pass (``depths=``): each depth's draws have exactly that depth's law;
draws at different depths share forward prefixes and are dependent.

Randomness: one numpy PCG64 generator per super-block of ``SUPER_BLOCK`` networks, seeded by
``derive_seed("gram-stats", seed, super_block)`` and consumed in a fixed order; whole super-blocks
are always simulated (surplus networks dropped), so a network's draws do not depend on chunking;
other networks than ``lowrank``'s or ``dense``'s for the same seed. All
arithmetic in the inputs' dtype (float64 by default: Grams, projections and pseudo-inverses are
where cancellations happen); on CUDA the normals are drawn on the CPU and moved.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from estimators.sampling import BLOCK, derive_seed
from models.base import ArchitectureSpec
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.vanilla import VanillaNet

RCOND = 10.0  # eigenvalues <= RCOND * k * eps * max eigenvalue count as 0 (as estimators.lowrank)
SQRT2 = math.sqrt(2.0)
SUPER_BLOCK = 16 * BLOCK  # networks per generator: few generator calls per draw, chunks of whole super-blocks
PARALLEL_MIN_VALUES = 1 << 14  # normals per super-block below which one thread fills them all
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gram-stats")

NTKParts = tuple[torch.Tensor, torch.Tensor]  # f (B, k), per-matrix Grams (B, M, k, k)


def supports(spec: ArchitectureSpec) -> bool:
    """Whether ``spec`` is one of the ReLU architectures this sampler covers."""
    if isinstance(spec, LittwinResNet):
        return spec.branch_depth >= 2
    return isinstance(spec, VanillaNet | DenseNet)


def unsupported_message(spec: ArchitectureSpec) -> str:
    return (
        "sampler 'stats' covers VanillaNet, DenseNet and LittwinResNet with branch_depth >= 2 "
        f"(ReLU layers between every pair of matrices); got {type(spec).__name__}"
        + (f" with branch_depth {spec.branch_depth}" if isinstance(spec, LittwinResNet) else "")
        + "; use sampler 'exact' or 'dense'"
    )


class BlockRandom:
    """Normals and Bartlett factors for the networks of whole super-blocks of ``SUPER_BLOCK`` networks
    (``SUPER_BLOCK // BLOCK`` blocks), each super-block from its own generator consumed in call order.

    ``BlockRandom(seed, first_block, n_blocks)``: first_block must start a super-block; the draws cover
    ``n_networks`` >= n_blocks * BLOCK networks (whole super-blocks; callers keep the first rows), so
    network i's draws do not depend on how the networks are split into chunks."""

    def __init__(self, seed: int, first_block: int, n_blocks: int, dtype: torch.dtype, device: torch.device) -> None:
        per = SUPER_BLOCK // BLOCK
        if first_block % per:
            raise ValueError(f"first_block must be a multiple of {per} (a super-block), got {first_block}")
        first = first_block // per
        seeds = [derive_seed("gram-stats", seed, index) for index in range(first, first + math.ceil(n_blocks / per))]
        self.generators = [np.random.Generator(np.random.PCG64(s)) for s in seeds]
        # float32 normals from torch's generator (vectorised Box-Muller, ~3x numpy's ziggurat)
        self.torch_generators = [torch.Generator().manual_seed(s) for s in seeds] if dtype == torch.float32 else []
        self.dtype, self.device = dtype, device

    @property
    def n_networks(self) -> int:
        return len(self.generators) * SUPER_BLOCK

    def normal(self, *shape: int) -> torch.Tensor:
        """(B, *shape) i.i.d. N(0, 1)."""
        if self.torch_generators:
            out_t = torch.empty((len(self.generators), SUPER_BLOCK, *shape), dtype=torch.float32)
            for generator, part in zip(self.torch_generators, out_t, strict=True):
                torch.randn((SUPER_BLOCK, *shape), generator=generator, out=part)
            return out_t.reshape(self.n_networks, *shape).to(self.device)
        out = np.empty((len(self.generators), SUPER_BLOCK, *shape))

        def fill(i: int) -> None:
            self.generators[i].standard_normal((SUPER_BLOCK, *shape), out=out[i])

        if len(self.generators) > 1 and SUPER_BLOCK * math.prod(shape) >= PARALLEL_MIN_VALUES:
            list(_pool.map(fill, range(len(self.generators))))
        else:
            for i in range(len(self.generators)):
                fill(i)
        return torch.from_numpy(out.reshape(self.n_networks, *shape)).to(self.device, self.dtype)

    def bartlett(self, df: torch.Tensor, k: int) -> torch.Tensor:
        """Bartlett factors T (df.shape + (k, k)) with T^T T ~ Wishart_k(df, I): T_ii = chi(df - i),
        T_ij ~ N(0, 1) for i < j (0-based rows), rows with df - i <= 0 zero. df: (B, ...) integers >= 0."""
        rows = df.to("cpu", torch.float64).unsqueeze(-1) - torch.arange(k, dtype=torch.float64)  # (B, ..., k)
        shape = tuple(rows.shape[1:])
        shapes = rows.reshape(len(self.generators), SUPER_BLOCK, *shape).clamp_min(0.0).numpy() / 2.0
        chi2 = np.empty_like(shapes)
        for i, generator in enumerate(self.generators):
            chi2[i] = 2.0 * generator.standard_gamma(shapes[i])
        diagonal = torch.from_numpy(chi2.reshape(rows.shape)).sqrt().to(self.device, self.dtype)
        upper = self.normal(*shape[:-1], k, k).triu(1)
        live = (rows > 0).to(self.device, self.dtype).unsqueeze(-1)
        return (upper * live) + torch.diag_embed(diagonal)


def symmetric_eigh(gram: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.linalg.eigh`` of symmetric (..., k, k); closed form for k <= 2 (batched LAPACK calls on
    millions of 2 x 2 matrices dominate otherwise): for [[a, b], [b, d]], lambda = m -+ r with
    m = (a + d) / 2, r = hypot((a - d) / 2, b); the top eigenvector is the longer of (b, lambda - a)
    and (lambda - d, b), normalised, so a diagonal matrix gets exact axes (an input that is dead,
    K = 0, stays exactly 0 downstream) and 0 gets the identity."""
    k = gram.shape[-1]
    if k == 1:
        return gram[..., 0], torch.ones_like(gram)
    if k != 2:
        return torch.linalg.eigh(gram)
    a, b, d = gram[..., 0, 0], gram[..., 0, 1], gram[..., 1, 1]
    mean, radius = 0.5 * (a + d), torch.hypot(0.5 * (a - d), b)
    top = mean + radius
    first = torch.stack([b, top - a], dim=-1)
    second = torch.stack([top - d, b], dim=-1)
    vector = torch.where((first.norm(dim=-1) >= second.norm(dim=-1)).unsqueeze(-1), first, second)
    length = vector.norm(dim=-1, keepdim=True)
    axis = torch.zeros_like(vector)
    axis[..., 1] = 1.0
    vector = torch.where(length > 0, vector / length.clamp_min(torch.finfo(gram.dtype).tiny), axis)
    low = torch.stack([-vector[..., 1], vector[..., 0]], dim=-1)
    return torch.stack([mean - radius, top], dim=-1), torch.stack([low, vector], dim=-1)


def psd_factors(gram: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Root, pseudo-inverse, range projector and rank of batched PSD matrices (..., k, k), by ``eigh``;
    eigenvalues <= RCOND * k * eps * max count as exact zeros (never 1/0)."""
    gram = 0.5 * (gram + gram.transpose(-1, -2))
    evals, evecs = symmetric_eigh(gram)
    k = gram.shape[-1]
    top = evals.amax(dim=-1, keepdim=True).clamp_min(0.0)
    keep = evals > RCOND * k * torch.finfo(gram.dtype).eps * top
    safe = torch.where(keep, evals, torch.ones_like(evals))
    evecs_t = evecs.transpose(-1, -2)

    def spectral(values: torch.Tensor) -> torch.Tensor:
        return (evecs * values.unsqueeze(-2)) @ evecs_t

    zero = torch.zeros_like(evals)
    return (
        spectral(torch.where(keep, safe.sqrt(), zero)),
        spectral(torch.where(keep, safe.reciprocal(), zero)),
        spectral(keep.to(evals.dtype)),
        keep.sum(dim=-1),
    )


def psd_root(gram: torch.Tensor) -> torch.Tensor:
    return psd_factors(gram)[0]


def transpose(m: torch.Tensor) -> torch.Tensor:
    return m.transpose(-1, -2)


@dataclass(frozen=True)
class LayerStats:
    """Group statistics of one layer's pre-activations u (B, k, N): ``second`` S_p (B, P, k, k),
    ``counts`` n_p (B, P), ``masks`` m_p (P, k) (P = 2^k patterns, bit i = 1{u(x_i) > 0})."""

    second: torch.Tensor
    counts: torch.Tensor
    masks: torch.Tensor

    @staticmethod
    def of(u: torch.Tensor) -> LayerStats:
        """Counts and S_p from one batched product: [u_a u_b]_{ab} (B, k^2, N) @ indicators (B, N, P)."""
        batch, k, n = u.shape
        patterns = 1 << k
        bits = (torch.arange(patterns, device=u.device).unsqueeze(-1) >> torch.arange(k, device=u.device)) & 1
        masks = bits.to(u.dtype)  # (P, k)
        positive = (u > 0).to(u.dtype).transpose(1, 2).unsqueeze(-1)  # (B, N, k, 1)
        indicator = torch.where(bits.T.bool(), positive, 1.0 - positive).prod(dim=2)  # (B, N, P)
        outer = (u.unsqueeze(2) * u.unsqueeze(1)).reshape(batch, k * k, n)
        second = transpose(outer @ indicator).reshape(batch, patterns, k, k)
        return LayerStats(second, indicator.sum(dim=1), masks)

    @property
    def mask_outer(self) -> torch.Tensor:
        return self.masks.unsqueeze(-1) * self.masks.unsqueeze(-2)  # (P, k, k)

    def gram_u(self) -> torch.Tensor:
        """sum_j u_j u_j^T (B, k, k)."""
        return self.second.sum(dim=-3)

    def gram_q(self) -> torch.Tensor:
        """sum_j q_j q_j^T, q = sqrt(2) relu(u): 2 sum_p M_p S_p M_p (B, k, k)."""
        return 2.0 * (self.second * self.mask_outer).sum(dim=-3)

    def unmasked(self) -> LayerStats:
        """The same units as one group with M = I (for a layer read without a non-linearity)."""
        k = self.masks.shape[-1]
        return LayerStats(self.gram_u().unsqueeze(1), self.counts.sum(dim=1, keepdim=True), self.masks.new_ones(1, k))


def backprop_into(
    stats: LayerStats, gain: float, a: torch.Tensor, sigma: torch.Tensor, rand: BlockRandom, project: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Gram(delta), sum_j delta_j u_j^T), both (B, *E, k, k), for dF/dq_j = A q_j + e_j - Q q_j (module
    docstring), q_j = gain * M_p u_j, delta_j = dF/du_j = gain * M_p dF/dq_j. a: A (B, *E, k, k);
    sigma: the covariance of e_j, same shape; E: extra batch dimensions (several read-outs of one
    forward pass, each with its own independent noise). ``project=False`` drops Q (the false twin)."""
    k, extra = a.shape[-1], tuple(a.shape[1:-2])
    view = (a.shape[0],) + (1,) * len(extra)
    if stats.second.ndim == a.ndim + 1:  # statistics with the extra dimensions already (one layer per read-out)
        second, counts = stats.second, stats.counts
    else:
        second = stats.second.view(*view, *stats.second.shape[1:])  # (B, 1.., P, k, k)
        counts = stats.counts.view(*view, -1)
    masks, mask_outer = stats.masks, stats.mask_outer
    s_root, _, s_proj, s_rank = psd_factors(second)
    r = psd_root(sigma).unsqueeze(-3)
    f = rand.normal(*extra, masks.shape[0], k, k)
    t = rand.bartlett((counts.round().long() - s_rank).clamp_min(0).expand(*a.shape[:-2], -1), k)
    c = s_root @ f @ r  # sum_{j in p} u_j e_j^T
    w = r @ (transpose(f) @ s_proj @ f + transpose(t) @ t) @ r  # sum_{j in p} e_j e_j^T
    mc = masks.unsqueeze(-1) * c  # M_p C_p
    masked_second = second * mask_outer  # M_p S_p M_p
    a_eff = a
    if project:
        _, q_pinv, _, _ = psd_factors(gain**2 * masked_second.sum(dim=-3))
        a_eff = a - gain * transpose(mc).sum(dim=-3) @ q_pinv
    a_eff = a_eff.unsqueeze(-3)
    cross_term = gain * a_eff @ mc
    inner = gain**2 * a_eff @ masked_second @ transpose(a_eff) + cross_term + transpose(cross_term) + w
    delta_gram = gain**2 * (inner * mask_outer).sum(dim=-3)
    # a sum of squares: symmetric with a non-negative diagonal (rounding of the terms above can leave -1e-34)
    delta_gram = 0.5 * (delta_gram + transpose(delta_gram))
    delta_gram = delta_gram - torch.diag_embed(torch.diagonal(delta_gram, dim1=-2, dim2=-1).clamp_max(0.0))
    delta_cross = gain * (masks.unsqueeze(-1) * (gain * a_eff @ (masks.unsqueeze(-1) * second) + transpose(c)))
    return delta_gram, delta_cross.sum(dim=-3)


def forward_layer(gram_in: torch.Tensor, width: int, rand: BlockRandom) -> tuple[torch.Tensor, LayerStats]:
    """u (B, k, width) with i.i.d. N(0, gram_in) columns (one per unit), and its group statistics."""
    u = psd_root(gram_in) @ rand.normal(gram_in.shape[-1], width)
    return u, LayerStats.of(u)


def readout(top: LayerStats, rand: BlockRandom, project: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """f = W^out y / sqrt(N) read from an unmasked layer y: (f (B, k), Gram(d), sum_j d_j y_j^T), d = dF/dy."""
    whole = top.unmasked()
    width = float(whole.counts[0, 0])
    gram_y = whole.second[:, 0]
    k = gram_y.shape[-1]
    f = (psd_root(gram_y) @ rand.normal(k, 1))[..., 0] / math.sqrt(width)
    # D = 1_k / sqrt(N) (k x 1), Y = sqrt(N) f^T: D Y^T = 1_k f^T
    ones = torch.ones_like(f)
    _, y_pinv, _, _ = psd_factors(gram_y)
    a = (ones.unsqueeze(-1) * f.unsqueeze(-2)) @ y_pinv
    sigma = ones.unsqueeze(-1) * ones.unsqueeze(-2) / width
    d_gram, d_cross = backprop_into(whole, 1.0, a, sigma, rand, project)
    return f, d_gram, d_cross


def check_supported(spec: ArchitectureSpec, x: torch.Tensor) -> None:
    """Raise ValueError unless the stats sampler covers ``spec`` on inputs x (k, input_dim), k <= 8."""
    if not supports(spec):
        raise ValueError(unsupported_message(spec))
    if x.ndim != 2 or x.shape[0] > 8:
        raise ValueError(f"the stats sampler takes k <= 8 inputs (2^k activation patterns), got {tuple(x.shape)}")


def truncated(spec: VanillaNet | DenseNet, depth: int) -> VanillaNet | DenseNet:
    """The first ``depth`` layers of ``spec`` with their own read-out: what ``depths=`` results describe."""
    if isinstance(spec, VanillaNet):
        assert isinstance(spec.widths, tuple)
        return VanillaNet(spec.input_dim, depth, spec.widths[: depth + 1])
    return DenseNet(spec.input_dim, depth, spec.width, spec.alpha)


def _depths(depths: Sequence[int] | None, depth: int) -> list[int]:
    chosen = [depth] if depths is None else sorted(set(depths))
    if not chosen or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= depth for d in chosen):
        raise ValueError(f"depths must be ints in 1..{depth}, got {depths!r}")
    return chosen


class DepthGrams:
    """Per-matrix Grams (or their sum, the NTK, when ``per_matrix`` is False) of several depths, collected
    in backward order: ``add(first, grams)`` files grams (B, D', [M',] k, k) under depths first.."""

    def __init__(self, depths: list[int], per_matrix: bool) -> None:
        self.depths, self.per_matrix = depths, per_matrix
        self.parts: list[list[torch.Tensor]] = [[] for _ in depths]

    def add(self, first: int, grams: torch.Tensor) -> None:
        for i in range(grams.shape[1]):
            part = grams[:, i]
            self.parts[first + i].append(part if part.ndim == 4 else part.unsqueeze(1))

    def result(self, outputs: torch.Tensor) -> dict[int, NTKParts]:
        """{L: (f (B, k), Grams (B, M, k, k) in forward order, or the NTK (B, 1, k, k))}."""
        out = {}
        for i, depth in enumerate(self.depths):
            grams = torch.cat(self.parts[i][::-1], dim=1)
            out[depth] = (outputs[:, i], grams if self.per_matrix else grams.sum(dim=1, keepdim=True))
        return out


def vanilla_ntk_stats(
    spec: VanillaNet,
    x: torch.Tensor,
    rand: BlockRandom,
    depths: Sequence[int] | None = None,
    project: bool = True,
    per_matrix: bool = True,
) -> dict[int, NTKParts]:
    """{L: (f, Grams in ``truncated(spec, L).weight_shapes()`` order)} for every L in ``depths`` (default:
    spec.depth), from one forward pass; the backward passes of all depths run together, layer by layer
    (each with its own noise). Littwin et al. Sec. 4 parameterisation. ``per_matrix=False``: the NTK only."""
    check_supported(spec, x)
    widths = spec.widths
    assert isinstance(widths, tuple)
    chosen = _depths(depths, spec.depth)
    batch, k, count = rand.n_networks, x.shape[0], len(chosen)
    input_gram = (x @ x.T).expand(batch, -1, -1)
    gram_in = input_gram / spec.input_dim
    layers, q_grams = [], []
    for l in range(max(chosen) + 1):  # y^l = W^l q^{l-1} / sqrt(n_{l-1})
        _, stats = forward_layer(gram_in, widths[l], rand)
        layers.append(stats)
        q_grams.append(stats.gram_q())
        gram_in = q_grams[-1] / widths[l]
    collected = DepthGrams(chosen, per_matrix)
    outputs = x.new_zeros(batch, count, k)
    d_gram, d_cross = x.new_zeros(batch, count, k, k), x.new_zeros(batch, count, k, k)  # d^l = dF/dy^l
    for l in range(max(chosen), -1, -1):
        if l in chosen:  # this depth's read-out of y^l
            i = chosen.index(l)
            outputs[:, i], d_gram[:, i], d_cross[:, i] = readout(layers[l], rand, project)
            collected.add(i, (layers[l].gram_u() / widths[l]).unsqueeze(1))  # W^out
        first = bisect.bisect_left(chosen, l)
        if l == 0 or first == count:
            continue
        live, fan_in = slice(first, count), widths[l - 1]  # depths >= l: d^l -> d^{l-1} through W^l
        collected.add(first, q_grams[l - 1].unsqueeze(1) / fan_in * d_gram[:, live])
        _, q_pinv, _, _ = psd_factors(q_grams[l - 1])
        a, sigma = d_cross[:, live] @ q_pinv.unsqueeze(1), d_gram[:, live] / fan_in
        d_gram[:, live], d_cross[:, live] = backprop_into(layers[l - 1], SQRT2, a, sigma, rand, project)
    collected.add(0, input_gram.unsqueeze(1) / spec.input_dim * d_gram)  # W^0
    return collected.result(outputs)


def densenet_ntk_stats(
    spec: DenseNet,
    x: torch.Tensor,
    rand: BlockRandom,
    depths: Sequence[int] | None = None,
    project: bool = True,
    per_matrix: bool = True,
) -> dict[int, NTKParts]:
    """As ``vanilla_ntk_stats`` for Littwin et al.'s DenseNet (Eq. 10), with the pooled backward of
    ``estimators.densenet_exact``: dF/dq^h = coefficient_h q^h + e (I - P_h), e ~ N(0, S_h) per unit,
    S_h = sum_{l > h} D_l D_l^T, coefficient_h = sum_{l > h} (D_l Y_l^T - T_l) Gram_l^+ + M_{l,h} G_h^+.
    The NTK part of layer l is sum_{h<l} (D_l D_l^T) o G_h = (D_l D_l^T) o Gram_l."""
    check_supported(spec, x)
    chosen = _depths(depths, spec.depth)
    n, k, batch, count, top = spec.width, x.shape[0], rand.n_networks, len(chosen), max(chosen)
    input_gram = (x @ x.T).expand(batch, -1, -1)
    scales = [0.0] + [math.sqrt(spec.alpha / (l * n)) for l in range(1, top + 1)]
    _, stats0 = forward_layer(input_gram / spec.input_dim, n, rand)
    layers, q_grams, concat_grams = [stats0], [stats0.gram_q()], [input_gram]
    for l in range(1, top + 1):  # y^l = s_l H_l W_l^T, rows of H_l W_l^T ~ N(0, sum_{h<l} G_h)
        concat_grams.append(concat_grams[-1] + q_grams[-1] if l > 1 else q_grams[0])
        _, stats = forward_layer(scales[l] ** 2 * concat_grams[l], n, rand)
        layers.append(stats)
        q_grams.append(stats.gram_q())
    q_all = torch.stack(q_grams, dim=1)  # (B, L + 1, k, k)
    q_roots, q_pinvs, _, _ = psd_factors(q_all)
    collected = DepthGrams(chosen, per_matrix)
    outputs = x.new_zeros(batch, count, k)
    coefficient = x.new_zeros(batch, count, top, k, k)  # k x k factor of q^h in dF/dq^h, per depth
    pooled = x.new_zeros(batch, count, top, k, k)  # S_h = sum_{l>h} D_l D_l^T
    delta_gram, delta_cross = x.new_zeros(batch, count, k, k), x.new_zeros(batch, count, k, k)  # dF/dy^l
    for l in range(top, 0, -1):
        first, deeper = bisect.bisect_left(chosen, l), bisect.bisect_right(chosen, l)
        if deeper < count:  # depths > l: delta_l from the pooled backward into q^l
            below = slice(deeper, count)
            delta_gram[:, below], delta_cross[:, below] = backprop_into(
                layers[l], SQRT2, coefficient[:, below, l], pooled[:, below, l], rand, project
            )
        if first < deeper:  # depth l: its read-out of y^l
            outputs[:, first], delta_gram[:, first], delta_cross[:, first] = readout(layers[l], rand, project)
            collected.add(first, (layers[l].gram_u() / n).unsqueeze(1))  # W^out
        if first == count:
            continue
        live = slice(first, count)
        dd = scales[l] ** 2 * delta_gram[:, live]  # D_l D_l^T, D_l = s_l delta_l
        if per_matrix:
            collected.add(first, dd.unsqueeze(2) * q_all[:, None, :l])  # K_{W^{l,h}}, h < l
        else:
            collected.add(first, dd * concat_grams[l].unsqueeze(1))
        m = psd_root(dd).unsqueeze(2) @ rand.normal(count - first, l, k, k) @ q_roots[:, None, :l]  # M_{l,h}
        _, concat_pinv, _, _ = psd_factors(concat_grams[l])
        shared = (delta_cross[:, live] - m.sum(dim=2)) @ concat_pinv.unsqueeze(1)  # D_l Y_l^T = delta_l y^l^T
        coefficient[:, live, :l] += shared.unsqueeze(2) + m @ q_pinvs[:, None, :l]
        pooled[:, live, :l] += dd.unsqueeze(2)
    delta_gram, _ = backprop_into(layers[0], SQRT2, coefficient[:, :, 0], pooled[:, :, 0], rand, project)
    collected.add(0, input_gram.unsqueeze(1) / spec.input_dim * delta_gram)  # W^0
    return collected.result(outputs)


class ResidualCoordinates:
    """Coordinates (B, capacity, k') of residual-stream vector families in an orthonormal basis of
    their span inside R^width (module docstring); ``fresh`` appends a new Gaussian family."""

    def __init__(self, width: int, capacity: int, rand: BlockRandom) -> None:
        self.width, self.capacity, self.rand = width, capacity, rand
        self.rows = 0  # basis rows handed out
        self.dims = 0  # directions of R^width actually used, <= width
        self.live = torch.zeros(capacity, dtype=torch.bool)  # rows that are directions (not past width)

    def fresh(self, covariance: torch.Tensor) -> torch.Tensor:
        """Coordinates of N x k' = G R, G i.i.d. N(0, 1) independent of every earlier family, R R = covariance."""
        batch, kk = covariance.shape[0], covariance.shape[-1]
        root = psd_root(covariance)
        coords = covariance.new_zeros(batch, self.capacity, kk)
        if self.rows:
            live = self.live[: self.rows].to(coords.device, coords.dtype).unsqueeze(-1)
            coords[:, : self.rows] = (self.rand.normal(self.rows, kk) * live) @ root
        df = torch.full((batch,), self.width - self.dims, dtype=torch.long)
        coords[:, self.rows : self.rows + kk] = self.rand.bartlett(df, kk) @ root
        self.live[self.rows : self.rows + kk] = torch.arange(kk) < self.width - self.dims
        self.rows += kk
        self.dims = min(self.width, self.dims + kk)
        return coords


def project_off(vectors: torch.Tensor, basis: torch.Tensor, basis_pinv: torch.Tensor) -> torch.Tensor:
    """Coordinates of v (I - P) for the span of ``basis`` (B, R, k), basis_pinv its Gram's pseudo-inverse."""
    return vectors - basis @ basis_pinv @ (transpose(basis) @ vectors)


def resnet_ntk_stats(spec: LittwinResNet, x: torch.Tensor, rand: BlockRandom, project: bool = True) -> NTKParts:
    """f and Grams (``spec.weight_shapes()`` order) of Littwin et al.'s ResNet (Eq. 9, branch depth m >= 2):
    trunk vectors as coordinates, branch hidden layers as group statistics."""
    check_supported(spec, x)
    n, nb, m, depth = spec.width, spec.branch_width, spec.branch_depth, spec.blocks
    assert nb is not None and isinstance(spec.alphas, tuple)
    k, batch = x.shape[0], rand.n_networks
    input_gram = (x @ x.T).expand(batch, -1, -1)
    trunk = ResidualCoordinates(n, (2 * depth + 1) * k + 1, rand)
    y = trunk.fresh(input_gram / spec.input_dim)  # y^0 = W^0 x / sqrt(n0)
    blocks = []  # per block: y^{l-1} coords, hidden stats, hidden q Grams, branch output coords
    for l in range(depth):
        gram_y = transpose(y) @ y
        hidden, q_grams = [], []
        gram_in = gram_y / n
        for _ in range(m - 1):
            _, stats = forward_layer(gram_in, nb, rand)
            hidden.append(stats)
            q_grams.append(stats.gram_q())
            gram_in = q_grams[-1] / nb
        out = trunk.fresh(gram_in)  # W^{l,m} q / sqrt(nb)
        blocks.append((y, hidden, q_grams, out))
        y = y + math.sqrt(spec.alphas[l]) * out
    w = trunk.fresh(x.new_ones(batch, 1, 1))  # the read-out row of W^out
    f = (transpose(w) @ y)[:, 0] / math.sqrt(n)
    g = (w / math.sqrt(n)).expand(-1, -1, k)  # dF/dy^L: column i = W^out / sqrt(n)
    grams = [(transpose(y) @ y) / n]  # W^out
    for l in range(depth, 0, -1):
        y_in, hidden, q_grams, out = blocks[l - 1]
        alpha = spec.alphas[l - 1]
        gram_g = transpose(g) @ g
        grams.append(alpha / nb * q_grams[-1] * gram_g)  # W^{l,m}
        _, q_pinv, _, _ = psd_factors(q_grams[-1])
        a = math.sqrt(alpha) * (transpose(g) @ out) @ q_pinv  # D Y^T Gram_q^+, D = sqrt(alpha) g / sqrt(nb)
        d_gram, d_cross = backprop_into(hidden[-1], SQRT2, a, alpha / nb * gram_g, rand, project)
        for h in range(m - 1, 1, -1):  # W^{l,h}: hidden h-1 -> h
            grams.append(q_grams[h - 2] / nb * d_gram)
            _, q_pinv, _, _ = psd_factors(q_grams[h - 2])
            d_gram, d_cross = backprop_into(hidden[h - 2], SQRT2, d_cross @ q_pinv, d_gram / nb, rand, project)
        gram_y = transpose(y_in) @ y_in
        grams.append(gram_y / n * d_gram)  # W^{l,1}
        _, y_pinv, _, _ = psd_factors(gram_y)
        mean = y_in @ y_pinv @ transpose(d_cross)  # (D Y^T Gram^+ y) as columns, D Y^T = delta u^T
        noise = trunk.fresh(d_gram / n)
        g = g + mean + (project_off(noise, y_in, y_pinv) if project else noise)
    grams.append(input_gram / spec.input_dim * (transpose(g) @ g))  # W^0
    return f, torch.stack(grams[::-1], dim=1)


def ntk_stats(
    spec: ArchitectureSpec, x: torch.Tensor, seed: int, first_block: int, n_blocks: int, project: bool = True
) -> NTKParts:
    """f (B, k) and per-matrix Grams (B, M, k, k) of networks [first_block * BLOCK, (first_block +
    n_blocks) * BLOCK) of ``spec`` on x (k, input_dim), exactly in law (``estimators.ntk`` sampler 'stats')."""
    check_supported(spec, x)
    rand = BlockRandom(seed, first_block, n_blocks, x.dtype, x.device)
    if isinstance(spec, LittwinResNet):
        parts = resnet_ntk_stats(spec, x, rand, project)
    elif isinstance(spec, DenseNet):
        parts = densenet_ntk_stats(spec, x, rand, None, project)[spec.depth]
    else:
        assert isinstance(spec, VanillaNet)
        parts = vanilla_ntk_stats(spec, x, rand, None, project)[spec.depth]
    return first_rows(parts, n_blocks * BLOCK)


def first_rows(parts: tuple[torch.Tensor, ...], rows: int) -> tuple[torch.Tensor, ...]:
    """The first ``rows`` networks of each tensor (the rest of the last super-block is dropped)."""
    return tuple(t[:rows] for t in parts)


@dataclass(frozen=True)
class SharedHidden:
    """One block's hidden draws z (B, 2, N) i.i.d. N(0, 1), sorted by angle, for k = 2 inputs: the group
    statistics of u = R z for any root R (B, D, 2, 2) follow from prefix sums over the sorted angles in
    O(log N): u_i > 0 iff theta lies in the half-circle around phi_i = angle(row i of R), so the four
    activation patterns are four arcs between the angles phi_i -+ pi/2, and S_p = R (sum_{arc} z z^T) R^T."""

    theta: torch.Tensor  # (B, N) ascending, in (-pi, pi]
    prefix: torch.Tensor  # (B, N + 1, 4): cumulative [z0^2, z0 z1, z1^2, 1]

    @staticmethod
    def draw(rand: BlockRandom, width: int) -> SharedHidden:
        z = rand.normal(2, width)
        theta, order = torch.atan2(z[:, 1], z[:, 0]).sort(dim=-1)
        z = torch.gather(z, 2, order.unsqueeze(1).expand(-1, 2, -1))
        parts = torch.stack([z[:, 0] ** 2, z[:, 0] * z[:, 1], z[:, 1] ** 2, torch.ones_like(z[:, 0])], dim=-1)
        prefix = torch.cat([parts.new_zeros(parts.shape[0], 1, 4), parts.cumsum(dim=1)], dim=1)
        return SharedHidden(theta, prefix)

    def stats(self, root: torch.Tensor) -> LayerStats:
        """Group statistics (B, D, 4, 2, 2) and counts (B, D, 4) of u = root z, root (B, D, 2, 2)."""
        batch, depths = root.shape[:2]
        phi = torch.atan2(root[..., 1], root[..., 0])  # (B, D, 2)
        bounds = torch.cat([phi - math.pi / 2, phi + math.pi / 2], dim=-1)
        bounds = torch.remainder(bounds + math.pi, 2 * math.pi) - math.pi  # in [-pi, pi)
        bounds, _ = bounds.sort(dim=-1)  # (B, D, 4)
        following = torch.cat([bounds[..., 1:], bounds[..., :1] + 2 * math.pi], dim=-1)
        middle = 0.5 * (bounds + following)
        direction = torch.stack([middle.cos(), middle.sin()], dim=-1)  # (B, D, 4 arcs, 2)
        active = (direction @ transpose(root)) > 0  # (B, D, arcs, k): root row i . direction > 0
        pattern = (active.long() * torch.tensor([1, 2], device=root.device)).sum(dim=-1)  # (B, D, arcs)
        index = torch.searchsorted(self.theta, bounds.reshape(batch, -1)).reshape(batch, depths, 4)
        at = torch.gather(self.prefix, 1, index.reshape(batch, -1, 1).expand(-1, -1, 4)).reshape(batch, depths, 4, 4)
        total = self.prefix[:, -1].reshape(batch, 1, 1, 4)
        arcs = torch.cat([at[:, :, 1:] - at[:, :, :-1], total - at[:, :, -1:] + at[:, :, :1]], dim=2)
        onehot = torch.nn.functional.one_hot(pattern, 4).to(root.dtype)  # (B, D, arcs, P)
        sums = transpose(onehot) @ arcs  # (B, D, P, 4)
        z_outer = torch.stack([sums[..., 0], sums[..., 1], sums[..., 1], sums[..., 2]], dim=-1).reshape(
            batch, depths, 4, 2, 2
        )
        root_p = root.unsqueeze(2)
        masks = ((torch.arange(4, device=root.device).unsqueeze(-1) >> torch.arange(2, device=root.device)) & 1).to(
            root.dtype
        )
        return LayerStats(root_p @ z_outer @ transpose(root_p), sums[..., 3], masks)


def resnet_depth_sweep_stats(
    input_dim: int, width: int, alphas: Sequence[float], depths: Sequence[int], x: torch.Tensor,
    rand: BlockRandom, project: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """f (B, D, k) and the NTK (B, D, k, k) of Littwin ResNets (Eq. 9, branch depth 2, branch width =
    width) of every depth L in ``depths`` with alpha_l = alphas[i] for the i-th depth, k = 2 inputs.

    All depths run together and share, at block j, the hidden draws z (``SharedHidden``): each depth's
    networks are exactly in law, depths are dependent. The trunk keeps forward vectors as coordinates
    on k (L + 1) rows and the backward family g as those coordinates plus a k x k factor T of its part
    outside the forward span (g_perp = U T, U orthonormal): a fresh family adds F R on U, Bartlett
    rows on k new directions, and [T + F R; T_B R] is re-factored by QR (only span(g_perp) matters)."""
    chosen = [int(d) for d in depths]
    k, batch, count, top = x.shape[0], rand.n_networks, len(chosen), max(chosen)
    if k != 2 or chosen != sorted(set(chosen)) or len(alphas) != count:
        raise ValueError("resnet_depth_sweep_stats needs k = 2 inputs, ascending distinct depths, one alpha each")
    rows = k * (top + 1)
    if width < rows + 2 * k:
        raise ValueError(f"resnet_depth_sweep_stats needs width >= k (L + 3) = {rows + 2 * k}, got {width}")
    alpha = torch.tensor(list(alphas), dtype=x.dtype, device=x.device).sqrt().view(1, -1, 1, 1)
    depth_of = torch.tensor(chosen, device=x.device)
    input_gram = (x @ x.T).expand(batch, -1, -1)
    y = x.new_zeros(batch, count, rows, k)
    y[:, :, :k] = (rand.bartlett(torch.full((batch,), width), k) @ psd_root(input_gram / input_dim)).unsqueeze(1)
    saved = []
    for j in range(1, top + 1):  # forward, block j: every depth L >= j
        first = bisect.bisect_left(chosen, j)
        y_in = y[:, first:, : k * j]
        hidden = SharedHidden.draw(rand, width)
        stats = hidden.stats(psd_root(transpose(y_in) @ y_in / width))
        q_gram = stats.gram_q()
        out = rand.normal(count - first, k * (j + 1), k)
        out[:, :, k * j :] = rand.bartlett(torch.full((batch, count - first), width - k * j), k)
        out = out @ psd_root(q_gram / width)
        y[:, first:, : k * (j + 1)] += alpha[:, first:] * out
        saved.append((first, stats, q_gram, out))
    live = torch.arange(rows, device=x.device) < k * (depth_of.unsqueeze(-1) + 1)  # (D, rows): depth L's rows
    g = x.new_zeros(batch, count, rows, k)
    perp = x.new_zeros(batch, count, k, k)  # T: g outside the forward span is U T
    outputs = x.new_zeros(batch, count, k)
    ntk = x.new_zeros(batch, count, k, k)
    ones = x.new_ones(1, 1, k)
    for j in range(top, 0, -1):
        if j in chosen:  # read-out W^out of depth j: w = forward part + chi(width - k (j + 1)) outside
            i = chosen.index(j)
            top_y = y[:, i, : k * (j + 1)]
            w = rand.normal(k * (j + 1), 1)
            chi = rand.bartlett(torch.full((batch,), width - k * (j + 1)), 1)[..., 0, 0]
            outputs[:, i] = (transpose(w) @ top_y)[:, 0] / math.sqrt(width)
            g[:, i, : k * (j + 1)] = w * ones / math.sqrt(width)
            perp[:, i, 0] = chi.unsqueeze(-1) * ones[0] / math.sqrt(width)
            ntk[:, i] += transpose(top_y) @ top_y / width
        first, stats, q_gram, out = saved[j - 1]
        span, block_alpha = slice(0, k * (j + 1)), alpha[:, first:]
        y[:, first:, span] -= block_alpha * out  # back to y^{j-1}
        y_in = y[:, first:, : k * j]
        g_live = g[:, first:]
        gram_g = transpose(g_live) @ g_live + transpose(perp[:, first:]) @ perp[:, first:]
        ntk[:, first:] += block_alpha**2 / width * q_gram * gram_g  # W^{j,2}
        _, q_pinv, _, _ = psd_factors(q_gram)
        a = block_alpha * (transpose(g_live[:, :, span]) @ out) @ q_pinv
        d_gram, d_cross = backprop_into(stats, SQRT2, a, block_alpha**2 / width * gram_g, rand, project)
        gram_y = transpose(y_in) @ y_in
        ntk[:, first:] += gram_y / width * d_gram  # W^{j,1}
        _, y_pinv, _, _ = psd_factors(gram_y)
        root = psd_root(d_gram / width)
        noise = x.new_zeros(batch, count - first, rows, k)
        noise[:, live[first:]] = rand.normal(int(live[first:].sum()), k)  # each depth's own rows only
        noise = noise @ root
        if project:
            noise[:, :, : k * j] -= y_in @ y_pinv @ (transpose(y_in) @ noise[:, :, : k * j])
        g[:, first:, : k * j] += y_in @ y_pinv @ transpose(d_cross)  # conditional mean D Y^T Gram^+ y
        g[:, first:] += noise
        outside = width - k * (depth_of[first:] + 1) - k  # free directions beyond the forward span and U
        stacked = torch.cat(
            [perp[:, first:] + rand.normal(count - first, k, k) @ root,
             rand.bartlett(outside.expand(batch, -1), k) @ root], dim=-2,
        )  # fmt: skip
        perp[:, first:] = torch.linalg.qr(stacked, mode="r")[1]
    gram_g = transpose(g) @ g + transpose(perp) @ perp
    ntk += (input_gram / input_dim).unsqueeze(1) * gram_g  # W^0
    return outputs, ntk
