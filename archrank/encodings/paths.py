"""Path encodings (BANANAS): one binary feature per input-to-output sequence of ops.

A path is the sequence of op labels met on a directed walk from a source of the cell graph to
its output. Features are laid out by path length, and within one length by the ops' indices
in ``space.ops`` read as base-k digits (first op most significant):

* NB201 (ops on the 8-node cell graph, ``none`` counted like any op): lengths 1..3 over 5 ops,
  5 + 25 + 125 = 155.
* NB101: lengths 0..5 over 3 ops (length 0 is the direct input-to-output edge), 1 + 3 + ... +
  243 = 364.
* DARTS: one block per (cell, input): normal/input0, normal/input1, reduce/input0,
  reduce/input1, each over lengths 0..4 and 7 ops (2,801; the length-0 slot is always 0 because
  a DARTS output never reads an input directly): 4 x 2,801 = 11,204, BANANAS's layout.

Path encodings are not injective (different cells can share every path), but they are
invariant to how a cell's vertices are numbered. ``path_truncated`` keeps the ``length`` most
frequent paths of the space (defaults: NB201 30, NB101 40, DARTS 100); frequencies are counted
over a fixed reference set (all NB201 cells; 10,000 NB101 cells and 5,000 DARTS genotypes drawn
with seed 0), ties broken by the layout order above. For NB201 and NB101 this gives exactly the
BANANAS cut-offs (all paths of length <= 2, resp. <= 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from archrank.encodings.base import ArchEncoder, cached, not_applicable, register_encoding
from archrank.spaces.base import SearchSpace
from archrank.spaces.cellgraph import CellGraph
from archrank.spaces.description import GraphSpec


@dataclass(frozen=True)
class PathLayout:
    """Where each path of a space goes: ``blocks`` sources, op alphabet, allowed lengths."""

    blocks: tuple[str, ...]
    ops: tuple[str, ...]
    min_len: int
    max_len: int

    @property
    def block_size(self) -> int:
        k = len(self.ops)
        return sum(k**n for n in range(self.min_len, self.max_len + 1))

    @property
    def length(self) -> int:
        return len(self.blocks) * self.block_size

    def index(self, block: int, path: tuple[int, ...]) -> int:
        """Column of ``path`` (op indices) read from source ``block``."""
        k = len(self.ops)
        offset = sum(k**n for n in range(self.min_len, len(path)))
        digits = 0
        for op in path:
            digits = digits * k + op
        return block * self.block_size + offset + digits

    def names(self) -> list[str]:
        out = []
        for block in self.blocks:
            for n in range(self.min_len, self.max_len + 1):
                for code in range(len(self.ops) ** n):
                    ops = []
                    for _ in range(n):
                        code, d = divmod(code, len(self.ops))
                        ops.append(self.ops[d])
                    out.append(">".join([block, *reversed(ops), "output"]))
        return out


def _path_spec(space: SearchSpace, encoding: str = "path") -> GraphSpec:
    spec = space.graph_spec
    if spec is None:
        raise not_applicable(encoding, space, "it has no cell graph")
    if spec.path_lengths is None:
        raise not_applicable(encoding, space, "its graph_spec gives no path_lengths")
    return spec


def layout(space: SearchSpace) -> PathLayout:
    """The path layout of ``space``: one block per (cell, input vertex), its ops, its path lengths."""
    spec = _path_spec(space)
    lo, hi = spec.path_lengths  # type: ignore[misc]
    return PathLayout(spec.path_blocks(), spec.ops, lo, hi)


def graph_paths(
    graph: CellGraph, source: int, op_index: dict[str, int], joins: frozenset[str] = frozenset()
) -> list[tuple[int, ...]]:
    """Op-index sequences of every directed path from node ``source`` to the last node (its output).

    Vertices labelled with one of ``joins`` (e.g. DARTS's ``sum``) are passed through without adding an op.
    """
    adj = graph.adjacency
    sink = graph.num_nodes - 1
    succ = [np.flatnonzero(adj[v]).tolist() for v in range(graph.num_nodes)]
    out: list[tuple[int, ...]] = []
    stack: list[tuple[int, tuple[int, ...]]] = [(source, ())]
    while stack:
        node, path = stack.pop()
        for nxt in succ[node]:
            if nxt == sink:
                out.append(path)
            elif graph.ops[nxt] in joins:  # joins inputs without being an op: adds nothing to the path
                stack.append((nxt, path))
            else:
                stack.append((nxt, (*path, op_index[graph.ops[nxt]])))
    return out


def path_columns(archs: list[Any], space: SearchSpace) -> list[set[int]]:
    """For each architecture, the set of path columns it contains."""
    spec, lay = _path_spec(space), layout(space)
    op_index = {op: i for i, op in enumerate(lay.ops)}
    joins = frozenset(spec.joins)
    out = []
    for arch in space.representatives(archs):
        cols: set[int] = set()
        block = 0
        for g in space.cell_graphs(arch):
            for label in spec.inputs:
                sources = [v for v, op in enumerate(g.ops) if op == label]
                for source in sources:
                    cols.update(lay.index(block, p) for p in graph_paths(g, source, op_index, joins))
                block += 1
        out.append(cols)
    return out


def path_matrix(archs: list[Any], space: SearchSpace, columns: np.ndarray | None = None) -> np.ndarray:
    """(n, layout length) 0/1 float64 matrix of the paths each architecture contains (or just ``columns``)."""
    full = layout(space).length
    where = np.arange(full) if columns is None else np.asarray(columns)
    position = np.full(full, -1)
    position[where] = np.arange(len(where))
    out = np.zeros((len(archs), len(where)))
    for r, cols in enumerate(path_columns(archs, space)):
        hits = position[list(cols)]
        out[r, hits[hits >= 0]] = 1.0
    return out


@register_encoding
class PathEncoder(ArchEncoder):
    """BANANAS path encoding: 155 (NB201), 364 (NB101) or 11,204 (DARTS) binary features."""

    name: ClassVar[str] = "path"
    requirement: ClassVar[str] = "a space with cell graphs and path lengths (graph_spec.path_lengths)"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.graph_spec is not None and space.graph_spec.path_lengths is not None

    def _length(self, space: SearchSpace) -> int:
        return layout(space).length

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        return path_matrix(archs, space)

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return layout(space).names()


def frequency_order(space: SearchSpace) -> np.ndarray:
    """Path columns of a space sorted from most to least frequent over its reference set (stable; cached)."""

    def make() -> np.ndarray:
        ref_size = _path_spec(space, "path_truncated").path_reference
        ref = space.all() if ref_size is None else space.sample(ref_size, seed=0)
        counts = np.zeros(layout(space).length)
        for cols in path_columns(ref, space):
            counts[list(cols)] += 1
        order = np.argsort(-counts, kind="stable")
        order.setflags(write=False)
        return order

    return cached(space, "path_frequency_order", make)


@register_encoding
class PathTruncated(ArchEncoder):
    """The ``length`` most frequent paths of the space (default ``graph_spec.path_truncation``: 30 NB201,
    40 NB101, 100 DARTS; else 40 or all paths if fewer)."""

    name: ClassVar[str] = "path_truncated"
    requirement: ClassVar[str] = "a space with cell graphs and path lengths (graph_spec.path_lengths)"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.graph_spec is not None and space.graph_spec.path_lengths is not None

    def __init__(self, space: Any = None, length: int | None = None) -> None:
        super().__init__(space)
        self.length = length

    def _cutoff(self, space: SearchSpace) -> int:
        full = layout(space).length
        default = _path_spec(space, self.name).path_truncation
        cut = (default or min(full, 40)) if self.length is None else self.length
        if not isinstance(cut, (int, np.integer)) or not 1 <= cut <= full:
            raise ValueError(f"path_truncated length must be an int in 1..{full} for {space.name}, got {cut!r}")
        return int(cut)

    def _length(self, space: SearchSpace) -> int:
        layout(space)
        return self._cutoff(space)

    def _columns(self, space: SearchSpace) -> np.ndarray:
        # the most frequent paths, kept in layout order (so NB201/NB101 match BANANAS column for column)
        return np.sort(frequency_order(space)[: self._cutoff(space)])

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        return path_matrix(archs, space, self._columns(space))

    def _feature_names(self, space: SearchSpace) -> list[str]:
        names = layout(space).names()
        return [names[i] for i in self._columns(space)]
