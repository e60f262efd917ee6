"""Batched Monte Carlo of the empirical NTK by the per-layer factorisation.

For a dense layer y = s W h the contribution of W to the NTK is

    K_W(x, x') = <df/dW(x), df/dW(x')> = s^2 <df/dy(x), df/dy(x')> <h(x), h(x')>,

so one forward pass and one backward pass per batch of networks give every per-matrix Gram
matrix; no per-parameter Jacobian is formed. The squared Jacobian norm of matrix W at input x
is the diagonal ||J^W(x)||^2 = K_W(x, x). Littwin et al. Eq. 11: K(x, x) = sum_W ||J^W(x)||^2.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from engine.options import SAMPLERS
from estimators import gram_stats
from estimators.densenet_exact import densenet_ntk_exact
from estimators.device import resolve_device
from estimators.lowrank import LowRankWeights
from estimators.memory import check_fits
from estimators.sampling import BLOCK, draw_weights
from models.base import ArchitectureSpec, LazyWeights, Tape
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.validation import positive_int
from models.vanilla import VanillaNet

DEFAULT_CHUNK_BYTES = 256 * 2**20
NEGATIVE_CONTROL_SAMPLER = "exact-unprojected"  # wrong law on purpose: the agreement claim's false twin
STATS_SAMPLER = "stats"  # ReLU nets only (estimators.gram_stats); sample_ntk's, not a suite-wide option
STATS_NEGATIVE_CONTROL = "stats-unprojected"  # its false twin's wrong law
NTK_SAMPLERS = (*SAMPLERS, NEGATIVE_CONTROL_SAMPLER, STATS_SAMPLER, STATS_NEGATIVE_CONTROL)


@dataclass(frozen=True)
class NTKDraws:
    """B Monte Carlo draws of a network's output and NTK on k inputs (CPU float64 tensors).

    ``outputs`` f(x_i; w_b): (B, k). ``per_matrix_gram`` K_W(x_i, x_j; w_b): (B, M, k, k) for the
    M weight matrices named in ``matrix_names`` (trained or not); ``trained`` flags the ones in K.
    """

    matrix_names: tuple[str, ...]
    trained: tuple[bool, ...]
    outputs: torch.Tensor
    per_matrix_gram: torch.Tensor

    @property
    def n_draws(self) -> int:
        return int(self.outputs.shape[0])

    @property
    def gram(self) -> torch.Tensor:
        """Empirical NTK Gram matrix over the trained matrices: (B, k, k)."""
        mask = torch.tensor(self.trained, dtype=torch.bool)
        return self.per_matrix_gram[:, mask].sum(dim=1)

    @property
    def squared_jacobian_norms(self) -> torch.Tensor:
        """||J^W(x_i)||^2 = ||df(x_i)/dW||_F^2 for every matrix W: (B, M, k)."""
        return torch.diagonal(self.per_matrix_gram, dim1=-2, dim2=-1)


def resolve_sampler(sampler: str, spec: ArchitectureSpec | None = None) -> str:
    """``dense`` draws every weight matrix; ``exact`` is the low-rank sampler (``estimators.lowrank``),
    exact in law when every matrix is applied once per input to a vector and the inputs do not interact
    (``each_weight_once``: true of every preset family; a composed ``Network`` with convolutions,
    attention or a dense layer over positions shares weights, one with BatchNorm couples its inputs), so
    ``auto`` means ``exact`` there and ``dense`` otherwise. DenseNets use the pooled-noise form
    (``estimators.densenet_exact``), O(L n k) normals per network instead of O(L^2 n k). ``stats``
    (``sample_ntk`` only) is the Gram-statistics sampler of ReLU nets (``estimators.gram_stats``)."""
    if sampler not in NTK_SAMPLERS:
        raise ValueError(f"sampler must be one of {list(SAMPLERS)}, got {sampler!r}")
    once = spec is None or spec.each_weight_once()
    if sampler == "auto":
        return "exact" if once else "dense"
    if sampler in ("exact", NEGATIVE_CONTROL_SAMPLER) and not once:
        why = exact_refusal(spec)  # type: ignore[arg-type]
        raise ValueError(
            f"sampler={sampler!r} is exact only when every weight matrix is applied once per input and the inputs "
            f"do not interact; {spec.describe()} {why}: use sampler='dense' (or 'auto')"
        )
    return sampler


def exact_refusal(spec: ArchitectureSpec) -> str:
    """Why the low-rank samplers are not exact for ``spec`` (one of ``each_weight_once``'s conditions)."""
    if spec.couples_inputs():
        return "couples its inputs (BatchNorm)"
    if any(p > 1 for p in spec.positions.values()):
        return "shares weights over positions"
    return "has matrices that start at a constant (normalisation gains and shifts)"


def network_bytes(spec: ArchitectureSpec, n_inputs: int, dtype: torch.dtype, sampler: str) -> int:
    """Peak bytes one network of a chunk needs: its weights (dense) plus 8 activation-sized buffers per
    matrix (input, output, probe and their gradients, kept by autograd) over every position it is applied
    at; the lazy samplers form no matrix (exact: activations and noise only; DenseNets per layer only;
    stats: one layer's units at a time plus k x k statistics per activation pattern)."""
    shapes = spec.weight_shapes().values()
    if sampler in (STATS_SAMPLER, STATS_NEGATIVE_CONTROL):  # one layer's units at a time, k x k statistics
        blocks = spec.blocks if isinstance(spec, LittwinResNet) else 0  # trunk coordinates kept per block
        layers = getattr(spec, "depth", blocks) + 2
        per_value = 8 * n_inputs * max(max(shape) for shape in shapes) + 16 * layers * 2**n_inputs * n_inputs**2
        per_value += 2 * blocks * ((2 * blocks + 1) * n_inputs + 1) * n_inputs
        per_value += 4 * layers**2 * n_inputs**2 if isinstance(spec, DenseNet) else 0  # pooled coefficients
    elif sampler == "exact" and isinstance(spec, DenseNet):  # per layer only: activations, noise, k x k Grams
        per_value = 8 * (spec.depth + 2) * n_inputs * spec.width + 4 * len(shapes) * n_inputs**2
    else:
        dense_matrices = sampler == "dense"  # lazy samplers never form the matrices
        positions = spec.positions
        per_value = sum(
            dense_matrices * o * i + 8 * n_inputs * positions.get(name, 1) * (o + i)
            for name, (o, i) in spec.weight_shapes().items()
        )
    return per_value * torch.finfo(dtype).bits // 8


def chunk_blocks(spec: ArchitectureSpec, n_inputs: int, dtype: torch.dtype, chunk_bytes: int, sampler: str) -> int:
    """How many blocks of BLOCK networks fit in ``chunk_bytes``, at least 1 (``network_bytes`` each); the
    stats sampler chunks whole super-blocks."""
    per_network = network_bytes(spec, n_inputs, dtype, sampler)
    if sampler in (STATS_SAMPLER, STATS_NEGATIVE_CONTROL):
        per_super = gram_stats.SUPER_BLOCK // BLOCK
        return per_super * max(1, chunk_bytes // (per_network * gram_stats.SUPER_BLOCK))
    return max(1, chunk_bytes // (per_network * BLOCK))


def preflight(
    spec: ArchitectureSpec, n_inputs: int, dtype: torch.dtype, sampler: str, blocks: int,
    device: torch.device, max_bytes: int | None, owner: str,
) -> None:  # fmt: skip
    """Refuse a chunk of ``blocks`` blocks whose peak (``network_bytes`` per network) does not fit, saying
    what to change (``estimators.memory``)."""
    smallest = gram_stats.SUPER_BLOCK // BLOCK if sampler in (STATS_SAMPLER, STATS_NEGATIVE_CONTROL) else 1
    blocks = max(blocks, smallest)  # the stats sampler draws whole super-blocks
    networks = blocks * BLOCK
    needed = networks * network_bytes(spec, n_inputs, dtype, sampler)
    options = []
    if blocks > smallest:
        options.append("a smaller chunk_bytes (fewer draws per chunk)")
    if sampler == "dense" and spec.each_weight_once():
        options.append("sampler='exact' (never forms a weight matrix: O((fan_in + fan_out) k) per matrix)")
    if dtype == torch.float64:
        options.append("dtype=torch.float32 (half the bytes)")
    options.append(f"smaller widths or fewer inputs ({smallest * BLOCK} networks is the smallest chunk)")
    check_fits(
        owner, spec, needed, f"one chunk of {networks} networks on {n_inputs} inputs ({sampler} sampler, {dtype})",
        "use " + ", or ".join(options), device=device, max_bytes=max_bytes,
    )  # fmt: skip


def ntk_of_weights(
    spec: ArchitectureSpec, weights: dict[str, torch.Tensor] | LazyWeights, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs (B, k) and per-matrix Gram matrices (B, M, k, k) for batched dense or lazy weights.

    Inputs that do not interact take one backward pass of sum_i f(x_i); a network whose inputs interact
    (BatchNorm) takes one backward pass per output, since then df(x_i)/dy(x_j) != 0 for i != j and
    K_W(x_a, x_c) = s^2 <sum_j df(x_a)/dy_j h_j^T, sum_l df(x_c)/dy_l h_l^T> (``coupled_gram``)."""
    lazy = isinstance(weights, LazyWeights)
    n_networks = weights.n_networks if lazy else next(iter(weights.values())).shape[0]  # type: ignore[union-attr]
    tape = Tape()
    coupled = spec.couples_inputs()
    with torch.enable_grad():
        outputs = spec.apply(weights, x.expand(n_networks, *x.shape), tape)
        probes = [record.probe for record in tape.records.values()]
        if coupled:
            per_output = [
                torch.autograd.grad(outputs[:, a].sum(), probes, allow_unused=True, retain_graph=True)
                for a in range(outputs.shape[1])
            ]
        else:
            grads = torch.autograd.grad(outputs.sum(), probes, allow_unused=True)
    grams = []
    for i, name in enumerate(spec.weight_shapes()):
        record = tape.records[name]
        if coupled:
            deltas = [_or_zeros(g[i], record.probe).reshape(*record.inputs.shape[:-1], -1) for g in per_output]
            gram_of = coupled_elementwise_gram if record.elementwise else coupled_gram
            grams.append(gram_of(record.inputs, torch.stack(deltas, dim=1), record.scale))
            continue
        delta = _or_zeros(grads[i], record.probe)  # None: f does not depend on this layer's output
        if record.elementwise:
            jacobian = (delta.reshape(record.inputs.shape) * record.inputs).sum(dim=2)  # (B, k, C)
            grams.append(record.scale**2 * (jacobian @ jacobian.transpose(-1, -2)))
        elif record.shared:
            grams.append(shared_gram(record.inputs, delta.reshape(*record.inputs.shape[:3], -1), record.scale))
        else:
            input_gram = record.inputs @ record.inputs.transpose(-1, -2)
            grams.append(record.scale**2 * input_gram * (delta @ delta.transpose(-1, -2)))
    return outputs.detach(), torch.stack(grams, dim=1).detach()


def _or_zeros(grad: torch.Tensor | None, probe: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(probe) if grad is None else grad


def shared_gram(inputs: torch.Tensor, delta: torch.Tensor, scale: float) -> torch.Tensor:
    """K_W for one matrix shared over P positions (conv patches, tokens): inputs h (B, k, P, in), delta
    df/dy (B, k, P, out) -> (B, k, k),

        K_W(x_a, x_c) = s^2 sum_{p, q} <delta_p(x_a), delta_q(x_c)> <h_p(x_a), h_q(x_c)>,

    as the Frobenius product of the per-input gradients J_a = sum_p delta_p h_p^T (cost B k P out in) or
    as position-pair Grams (cost B k^2 P^2 (in + out)), whichever is cheaper."""
    b, k, p, fan_in = inputs.shape
    fan_out = delta.shape[-1]
    if k * p * p * (fan_in + fan_out) < p * fan_out * fan_in + k * fan_out * fan_in:
        delta_pairs = torch.einsum("bkpo,blqo->bkplq", delta, delta)
        input_pairs = torch.einsum("bkpi,blqi->bkplq", inputs, inputs)
        return scale**2 * (delta_pairs * input_pairs).sum(dim=(2, 4))
    jacobian = torch.einsum("bkpo,bkpi->bkoi", delta, inputs).reshape(b, k, -1)
    return scale**2 * (jacobian @ jacobian.transpose(-1, -2))


def coupled_elementwise_gram(inputs: torch.Tensor, delta: torch.Tensor, scale: float) -> torch.Tensor:
    """K_w of a channel gain when inputs interact: inputs (B, k, P, C), delta[b, a, j] = df(x_a)/dy(x_j)
    (B, k, k, P, C) -> (B, k, k), K(x_a, x_c) = s^2 <J_a, J_c>, J_a = sum_{j, p} delta[a, j, p] * h[j, p]."""
    jacobian = torch.einsum("bajpc,bjpc->bac", delta, inputs)
    return scale**2 * (jacobian @ jacobian.transpose(-1, -2))


def coupled_gram(inputs: torch.Tensor, delta: torch.Tensor, scale: float) -> torch.Tensor:
    """K_W when inputs interact: inputs (B, k, [P,] in), delta[b, a, j] = df(x_a)/dy(x_j): (B, k, k, [P,] out)
    -> (B, k, k), K_W(x_a, x_c) = s^2 <J_a, J_c> with J_a = sum_{j, p} delta[a, j, p] h[j, p]^T."""
    if inputs.ndim == 3:
        inputs, delta = inputs.unsqueeze(2), delta.unsqueeze(3)
    b, k = inputs.shape[:2]
    jacobian = torch.einsum("bajpo,bjpi->baoi", delta, inputs).reshape(b, k, -1)
    return scale**2 * (jacobian @ jacobian.transpose(-1, -2))


@dataclass(frozen=True)
class ChunkDraw:
    """Networks [first_block * BLOCK, (first_block + n_blocks) * BLOCK) of one seeded stream."""

    sampler: str  # resolved: "dense", "exact" or the negative control
    seed: int
    first_block: int
    n_blocks: int
    dtype: torch.dtype
    device: torch.device
    buffers: dict[str, torch.Tensor] | None = dataclasses.field(default=None, compare=False)

    def weights(self, spec: ArchitectureSpec) -> dict[str, torch.Tensor] | LazyWeights:
        """Dense weights (name -> (B, out, in)) or lazy low-rank weights of these networks. With ``buffers``
        (``draw_in_chunks``: the chunks of one call, computed one after the other) each chunk's dense weights
        overwrite the previous chunk's."""
        if self.sampler == "dense":
            return draw_weights(
                spec, self.seed, self.first_block, self.n_blocks, self.dtype, self.device, reuse=self.buffers
            )
        project = self.sampler != NEGATIVE_CONTROL_SAMPLER
        return LowRankWeights(
            spec, self.seed, self.first_block, self.n_blocks, self.dtype, self.device, project=project
        )


ChunkCompute = Callable[[ArchitectureSpec, ChunkDraw, torch.Tensor], tuple[torch.Tensor, ...]]


def draw_in_chunks(
    spec: ArchitectureSpec,
    inputs: object,
    n_draws: int,
    seed: int,
    compute: ChunkCompute,
    *,
    sampler: str,
    device: str | torch.device,
    dtype: torch.dtype,
    chunk_bytes: int,
    owner: str,
    samplers: tuple[str, ...] = (*SAMPLERS, NEGATIVE_CONTROL_SAMPLER),
    max_bytes: int | None = None,
) -> tuple[torch.Tensor, ...]:
    """Validate the arguments, then run ``compute(spec, draw, x)`` over chunks of whole blocks of networks
    (about ``chunk_bytes`` each) and concatenate its outputs (CPU float64, first ``n_draws`` rows).
    ``owner`` names the public function in error messages; ``samplers`` are the ones it accepts."""
    if sampler not in samplers:
        raise ValueError(f"{owner}.sampler must be one of {list(samplers)}, got {sampler!r}")
    kind = resolve_sampler(sampler, spec)
    positive_int(owner, "n_draws", n_draws)
    positive_int(owner, "chunk_bytes", chunk_bytes)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"{owner}.seed must be an int, got {seed!r}")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{owner}.dtype must be torch.float32 or torch.float64, got {dtype!r}")
    target = resolve_device(device)
    x = spec.check_inputs(inputs).to(device=target, dtype=dtype)
    if kind in (STATS_SAMPLER, STATS_NEGATIVE_CONTROL):
        gram_stats.check_supported(spec, x)
    total_blocks = math.ceil(n_draws / BLOCK)
    per_chunk = chunk_blocks(spec, x.shape[0], dtype, chunk_bytes, kind)
    preflight(spec, x.shape[0], dtype, kind, min(per_chunk, total_blocks), target, max_bytes, owner)
    parts = []
    buffers: dict[str, torch.Tensor] = {}  # dense weights: one allocation for all chunks
    for first in range(0, total_blocks, per_chunk):
        draw = ChunkDraw(kind, seed, first, min(per_chunk, total_blocks - first), dtype, target, buffers)
        results = tuple(t.detach().to("cpu", torch.float64) for t in compute(spec, draw, x))
        reused = {b.untyped_storage().data_ptr() for b in buffers.values()}
        parts.append(tuple(t.clone() if t.untyped_storage().data_ptr() in reused else t for t in results))
    return tuple(torch.cat(column)[:n_draws] for column in zip(*parts, strict=True))


def ntk_of_chunk(spec: ArchitectureSpec, draw: ChunkDraw, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f and per-matrix Grams of one chunk; DenseNets under the exact sampler take the pooled-noise form
    (``estimators.densenet_exact``: O(L n k) normals per network, not O(L^2 n k))."""
    if draw.sampler in (STATS_SAMPLER, STATS_NEGATIVE_CONTROL):
        project = draw.sampler == STATS_SAMPLER
        return gram_stats.ntk_stats(spec, x, draw.seed, draw.first_block, draw.n_blocks, project)
    if draw.sampler == "exact" and isinstance(spec, DenseNet):
        return densenet_ntk_exact(spec, x, draw.seed, draw.first_block, draw.n_blocks)
    return ntk_of_weights(spec, draw.weights(spec), x)


def sample_ntk(
    spec: ArchitectureSpec,
    inputs: object,
    n_draws: int,
    seed: int,
    *,
    sampler: str = "auto",
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float64,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_bytes: int | None = None,
) -> NTKDraws:
    """Draw ``n_draws`` networks of ``spec`` (N(0, 1) weights, seeded) and return f and the NTK parts.

    ``inputs``: (k, input_dim) finite reals. ``sampler``: ``dense`` draws the weights,
    ``exact`` samples only what the k inputs see (same law, another random stream; see
    ``resolve_sampler``); ``stats`` (ReLU vanilla nets, DenseNets, Littwin ResNets with branch depth
    >= 2) only k x k statistics past each layer's forward pre-activations (``estimators.gram_stats``).
    Memory is bounded by processing whole blocks of networks in chunks of about ``chunk_bytes``; before
    anything is allocated the chunk's peak is estimated (``network_bytes``) and a chunk that exceeds
    ``max_bytes`` (default: the memory available on the device) is a ``ValueError`` saying what to change.
    Deterministic for a given seed and sampler on CPU.
    """
    outputs, grams = draw_in_chunks(
        spec, inputs, n_draws, seed, ntk_of_chunk,
        sampler=sampler, device=device, dtype=dtype, chunk_bytes=chunk_bytes, owner="sample_ntk",
        samplers=NTK_SAMPLERS, max_bytes=max_bytes,
    )  # fmt: skip
    names = tuple(spec.weight_shapes())
    trained = spec.trained()
    return NTKDraws(
        matrix_names=names,
        trained=tuple(name in trained for name in names),
        outputs=outputs,
        per_matrix_gram=grams,
    )


def sample_ntk_depths(
    spec: VanillaNet | DenseNet,
    inputs: object,
    n_draws: int,
    seed: int,
    depths: Sequence[int],
    *,
    device: str | torch.device = "auto",
    dtype: torch.dtype = torch.float64,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    per_matrix: bool = True,
) -> dict[int, NTKDraws]:
    """``sample_ntk(truncated(spec, L), ...)`` for every L in ``depths`` under the stats sampler, from one
    forward pass per network: each depth's draws have exactly its law; different depths share forward
    prefixes (dependent draws). Vanilla nets and DenseNets (their layer l does not depend on the depth).
    ``per_matrix=False`` keeps only the NTK, as one matrix named "K" (a DenseNet of depth 50 has 1,277)."""
    if not isinstance(spec, VanillaNet | DenseNet):
        raise ValueError(f"sample_ntk_depths takes a VanillaNet or DenseNet (depth-free layers); got {spec!r}")
    chosen = sorted(set(depths))

    def compute(spec: ArchitectureSpec, draw: ChunkDraw, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        rand = gram_stats.BlockRandom(draw.seed, draw.first_block, draw.n_blocks, x.dtype, x.device)
        run = gram_stats.vanilla_ntk_stats if isinstance(spec, VanillaNet) else gram_stats.densenet_ntk_stats
        parts = run(spec, x, rand, chosen, per_matrix=per_matrix)  # type: ignore[arg-type]
        return gram_stats.first_rows(tuple(t for depth in chosen for t in parts[depth]), draw.n_blocks * BLOCK)

    columns = draw_in_chunks(
        spec, inputs, n_draws, seed, compute,
        sampler=STATS_SAMPLER, device=device, dtype=dtype, chunk_bytes=chunk_bytes, owner="sample_ntk_depths",
        samplers=(STATS_SAMPLER,),
    )  # fmt: skip
    result = {}
    for i, depth in enumerate(chosen):
        part = gram_stats.truncated(spec, depth)
        names, trained = (tuple(part.weight_shapes()), part.trained()) if per_matrix else (("K",), {"K"})
        result[depth] = NTKDraws(names, tuple(n in trained for n in names), columns[2 * i], columns[2 * i + 1])
    return result
