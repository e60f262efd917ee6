"""Connection graphs and Littwin et al.'s reduced network f_(k) (UAI 2021, Definition 1).

A ``ConnectionGraph`` is a feed-forward net written as a DAG of vector-valued nodes: node 0 is the
input x, the last node is the scalar output f, and every other node is the *sum* of its incoming
edges. An edge ``(name, source, target, scale, activation)`` contributes

    dense edge (``name`` a weight matrix):  scale * W^name act(y_source)
    skip edge  (``name`` = "")             :  scale * act(y_source)        (an identity connection)

with act one of ``models.activations`` ("identity" or Littwin's q = sqrt(2) phi, "relu_he").
``connection_graph(spec)`` writes Littwin et al.'s vanilla net, ResNet (Eq. 9; sqrt(alpha_l) folded into
the scale of W^{l,m}, same f and same per-matrix NTK) and DenseNet (Eq. 10) this way; its ``apply``
computes the same function on the same weights (tested). ``residual_graph`` and ``dense_graph`` build
the same two families with per-layer widths (Eq. 9's n_{l-1,h}, Eq. 10's n_l), which the specs lack.

Reduced network (Definition 1: "remove all connections bypassing W^k"). Our reading, one rule for
every architecture: keep exactly the edges that lie on some input-to-output path through the edge of
W^k, i.e. an edge u -> v is kept iff it is W^k, or v reaches (or is) the source of W^k, or u is (or
is reached from) the target of W^k. Every scale is kept as in the full net, so each surviving path
has the same coefficient c_gamma as in Eq. 12 and f_(k) is a sum over exactly the paths S_k (with
its own activation pattern). Consequences:

* vanilla net: nothing is removed, f_(k) = f (their remark after Definition 1);
* W^0 and W^out of any of the three nets: nothing is removed (every path crosses them);
* ResNet, W^k = W^{l,h}: only the skip connection of block l goes; y^l = sqrt(alpha_l) y^{l-1,m},
  all other blocks keep their skips (paths through their skips can still cross W^{l,h});
* DenseNet, W^k = W^{l,h}: every W^{j,i} with i < l, j > h other than W^{l,h} goes; the layers
  y^j, h < j < l, are then cut off and dropped. Layers up to y^h keep all their inputs, a later
  layer y^j (j > l) keeps only its inputs from y^l..y^{j-1}, and y^l = sqrt(alpha / (l n)) W^{l,h} q^h
  keeps the full net's fan-in scale.

Nodes no longer on an input-output path are dropped and the rest renumbered; weight names, shapes
and scales are the full net's, so the same weights (dense or lazy) can be applied to both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from models.activations import ACTIVATIONS
from models.base import ArchitectureSpec, Tape, Weights, dense, inverse_sqrt
from models.densenet import DenseNet
from models.resnet import LittwinResNet
from models.validation import normalise, one_of, positive_int, width_tuple
from models.vanilla import VanillaNet

EDGE_ACTIVATIONS = ("identity", "relu_he")
Edge = tuple[str, int, int, float, str]  # (matrix name or "" for a skip, source, target, scale, activation)


def edge_tuple(owner: str, field: str, value: object) -> tuple[Edge, ...]:
    """Normalise a sequence of 5-entry edges (lists from JSON included); a ValueError names the bad entry."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ValueError(f"{owner}.{field} must be a non-empty sequence of edges, got {value!r}")
    edges = []
    for i, edge in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(edge, Sequence) or isinstance(edge, str) or len(edge) != 5:
            raise ValueError(f"{owner}.{where} must be (name, source, target, scale, activation), got {edge!r}")
        name, source, target, scale, activation = edge
        if not isinstance(name, str):
            raise ValueError(f"{owner}.{where} name must be a string ('' for a skip), got {name!r}")
        source = positive_int(owner, f"{where}.source", source, minimum=0)
        target = positive_int(owner, f"{where}.target", target, minimum=1)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"{owner}.{where}.scale must be a finite float > 0, got {scale!r}")
        activation = one_of(owner, f"{where}.activation", activation, EDGE_ACTIVATIONS)
        edges.append((name, source, target, float(scale), activation))
    return tuple(edges)


@dataclass(frozen=True)
class ConnectionGraph(ArchitectureSpec):
    """A DAG net: ``widths[i]`` is the width of node i + 1 (node 0 is x, the last node is f, width 1).

    Validated: edges go forward (source < target), every node but x has an incoming edge, every
    node but f an outgoing one, weight names are unique, skips join nodes of one width, and the
    output node has width 1. All weight matrices are trained (as in Littwin et al.).
    """

    input_dim: int
    widths: tuple[int, ...]
    edges: tuple[Edge, ...]
    kind = "connection_graph"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        normalise(self, "input_dim", positive_int)
        if not isinstance(self.widths, Sequence) or isinstance(self.widths, str) or len(self.widths) < 1:
            raise ValueError(f"{owner}.widths must be a non-empty sequence of node widths, got {self.widths!r}")
        normalise(self, "widths", width_tuple, len(self.widths))
        if self.widths[-1] != 1:
            raise ValueError(f"{owner}.widths: the output node (last) must have width 1, got {self.widths[-1]}")
        normalise(self, "edges", edge_tuple)
        sizes = self.node_widths
        names = [e[0] for e in self.edges if e[0]]
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}.edges: weight names must be unique, got {names}")
        for i, (name, source, target, _, _) in enumerate(self.edges):
            if not source < target < len(sizes):
                raise ValueError(
                    f"{owner}.edges[{i}] must go forward between nodes 0..{len(sizes) - 1}: {source}->{target}"
                )
            if not name and sizes[source] != sizes[target]:
                raise ValueError(
                    f"{owner}.edges[{i}]: a skip joins nodes of one width, got {sizes[source]}, {sizes[target]}"
                )
        if any(a[2] > b[2] for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"{owner}.edges must be sorted by target node (the evaluation order)")
        targets, sources = {e[2] for e in self.edges}, {e[1] for e in self.edges}
        if missing := sorted(set(range(1, len(sizes))) - targets):
            raise ValueError(f"{owner}.edges: nodes {missing} have no incoming edge")
        if missing := sorted(set(range(len(sizes) - 1)) - sources):
            raise ValueError(f"{owner}.edges: nodes {missing} have no outgoing edge")

    @property
    def node_widths(self) -> tuple[int, ...]:
        """Widths of all nodes, the input x (node 0) included."""
        return (self.input_dim, *self.widths)

    @property
    def output_matrix(self) -> str:
        """The weight matrix of the one dense edge into the output node (a ValueError if there is not
        exactly one edge into f, or it is a skip): f = scale * w_out . h, w_out applied last."""
        into_output = [e for e in self.edges if e[2] == len(self.widths)]
        if len(into_output) != 1 or not into_output[0][0]:
            raise ValueError(f"{type(self).__name__}: the output node needs exactly one dense edge, got {into_output}")
        return into_output[0][0]

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        sizes = self.node_widths
        return {name: (sizes[target], sizes[source]) for name, source, target, _, _ in self.edges if name}

    def trained(self) -> frozenset[str]:
        return frozenset(self.weight_shapes())

    def apply(self, weights: Weights, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        values: list[torch.Tensor | None] = [x] + [None] * len(self.widths)
        for name, source, target, scale, activation in self.edges:  # sorted by target: see ``graph``
            h = ACTIVATIONS[activation](values[source])
            term = dense(name, weights, h, scale, tape) if name else scale * h
            values[target] = term if values[target] is None else values[target] + term
        return values[-1][..., 0]  # type: ignore[index]


def graph(input_dim: int, widths: Sequence[int], edges: Sequence[Edge]) -> ConnectionGraph:
    """A ``ConnectionGraph`` with edges in evaluation order (by target, then as given)."""
    return ConnectionGraph(input_dim, tuple(widths), tuple(sorted(edges, key=lambda e: e[2])))


def vanilla_graph(spec: VanillaNet) -> ConnectionGraph:
    """Chain x -> y^0 -> ... -> y^L -> f (Littwin Sec. 4); ReLU on the input of W^1..W^L."""
    widths = spec.widths
    assert isinstance(widths, tuple)
    edges: list[Edge] = [("W0", 0, 1, inverse_sqrt(spec.input_dim), "identity")]
    edges += [(f"W{l}", l, l + 1, inverse_sqrt(widths[l - 1]), "relu_he") for l in range(1, spec.depth + 1)]
    edges.append(("Wout", spec.depth + 1, spec.depth + 2, inverse_sqrt(widths[-1]), "identity"))
    return graph(spec.input_dim, (*widths, 1), edges)


def residual_graph(
    input_dim: int, width: int, branch_widths: Sequence[Sequence[int]], alphas: Sequence[float]
) -> ConnectionGraph:
    """Eq. 9 with per-layer branch widths: trunk width n (the skips need one width), block l's branch
    y^{l-1,1..m} with hidden widths ``branch_widths[l - 1]`` (m - 1 of them; m may differ per block),
    W^{l,h} scaled by 1/sqrt(its fan-in) and sqrt(alpha_l) folded into W^{l,m}. Names W0, W{l},{h}, Wout."""
    if len(branch_widths) != len(alphas) or not alphas:
        raise ValueError(f"residual_graph needs one branch (widths) per alpha, got {len(branch_widths)}, {len(alphas)}")
    widths: list[int] = [width]
    edges: list[Edge] = [("W0", 0, 1, inverse_sqrt(input_dim), "identity")]
    trunk = 1
    for l, (hidden, alpha) in enumerate(zip(branch_widths, alphas, strict=True), start=1):
        previous, sizes = trunk, (*hidden, width)
        for h, size in enumerate(sizes, start=1):
            source = previous if h == 1 else len(widths)
            fan_in = width if h == 1 else sizes[h - 2]
            widths.append(size)
            scale = inverse_sqrt(fan_in) * (math.sqrt(alpha) if h == len(sizes) else 1.0)
            edges.append((f"W{l},{h}", source, len(widths), scale, "identity" if h == 1 else "relu_he"))
        trunk = len(widths)
        edges.append(("", previous, trunk, 1.0, "identity"))
    widths.append(1)
    edges.append(("Wout", trunk, len(widths), inverse_sqrt(width), "identity"))
    return graph(input_dim, widths, edges)


def resnet_graph(spec: LittwinResNet) -> ConnectionGraph:
    """Eq. 9: trunk nodes y^0..y^L, branch nodes y^{l-1,1..m-1}; sqrt(alpha_l) folded into W^{l,m}'s scale."""
    assert spec.branch_width is not None and isinstance(spec.alphas, tuple)
    hidden = ((spec.branch_width,) * (spec.branch_depth - 1),) * spec.blocks
    return residual_graph(spec.input_dim, spec.width, hidden, spec.alphas)


def dense_graph(input_dim: int, widths: Sequence[int], alpha: float) -> ConnectionGraph:
    """Eq. 10 with per-layer widths n_0..n_L: W^{l,h} (n_l x n_h) from q^h to y^l, scaled by
    sqrt(alpha / n^l_{l-1}) with n^l_{l-1} = n_0 + ... + n_{l-1} the fan-in of the concatenation."""
    if len(widths) < 2:
        raise ValueError(f"dense_graph needs widths n_0..n_L with L >= 1, got {list(widths)}")
    edges: list[Edge] = [("W0", 0, 1, inverse_sqrt(input_dim), "identity")]
    for l in range(1, len(widths)):
        scale = math.sqrt(alpha / sum(widths[:l]))
        edges += [(f"W{l},{h}", h + 1, l + 1, scale, "relu_he") for h in range(l)]
    edges.append(("Wout", len(widths), len(widths) + 1, inverse_sqrt(widths[-1]), "identity"))
    return graph(input_dim, (*widths, 1), edges)


def densenet_graph(spec: DenseNet) -> ConnectionGraph:
    """Eq. 10, constant width n: nodes y^0..y^L; W^{l,h} from q^h to y^l with scale sqrt(alpha / (l n))."""
    return dense_graph(spec.input_dim, (spec.width,) * (spec.depth + 1), spec.alpha)


GRAPH_BUILDERS: dict[type[ArchitectureSpec], Callable[[Any], ConnectionGraph]] = {
    VanillaNet: vanilla_graph,
    LittwinResNet: resnet_graph,
    DenseNet: densenet_graph,
    ConnectionGraph: lambda spec: spec,
}


def connection_graph(spec: ArchitectureSpec) -> ConnectionGraph:
    """The spec as a ``ConnectionGraph`` computing the same f on the same weights."""
    builder = GRAPH_BUILDERS.get(type(spec))
    if builder is None:
        raise ValueError(
            f"connection_graph knows {sorted(c.__name__ for c in GRAPH_BUILDERS)}, got {type(spec).__name__}"
        )
    return builder(spec)


def _reaches(edges: Sequence[Edge], n_nodes: int, start: int, forward: bool) -> set[int]:
    """Nodes reachable from ``start`` (``forward``) or reaching it (not ``forward``), ``start`` included."""
    step: dict[int, list[int]] = {i: [] for i in range(n_nodes)}
    for _, source, target, _, _ in edges:
        step[source if forward else target].append(target if forward else source)
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in step[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def bypassing_edges(spec: ArchitectureSpec, matrix: str) -> tuple[Edge, ...]:
    """Edges of ``connection_graph(spec)`` on no input-output path through matrix ``matrix``."""
    full = connection_graph(spec)
    if matrix not in full.weight_shapes():
        raise ValueError(f"{type(spec).__name__} has no weight matrix {matrix!r}; has {list(full.weight_shapes())}")
    ((_, source, target, _, _),) = (e for e in full.edges if e[0] == matrix)
    n_nodes = len(full.node_widths)
    upstream = _reaches(full.edges, n_nodes, source, forward=False)  # nodes that reach W^k's input
    downstream = _reaches(full.edges, n_nodes, target, forward=True)  # nodes reached from W^k's output
    return tuple(e for e in full.edges if not (e[0] == matrix or e[2] in upstream or e[1] in downstream))


def reduced_network(spec: ArchitectureSpec, matrix: str) -> ConnectionGraph:
    """Littwin et al.'s f_(k) for W^k = ``matrix``: ``spec`` without the connections bypassing W^k
    (module docstring), as a validated ``ConnectionGraph`` with the full net's names and scales."""
    full = connection_graph(spec)
    removed = set(bypassing_edges(spec, matrix))
    kept = [e for e in full.edges if e not in removed]
    n_nodes = len(full.node_widths)
    alive = _reaches(kept, n_nodes, 0, forward=True) & _reaches(kept, n_nodes, n_nodes - 1, forward=False)
    kept = [e for e in kept if e[1] in alive and e[2] in alive]
    index = {old: new for new, old in enumerate(sorted(alive))}
    widths = [full.node_widths[old] for old in sorted(alive)][1:]
    return graph(full.input_dim, widths, [(e[0], index[e[1]], index[e[2]], e[3], e[4]) for e in kept])
