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
from functools import cache
from typing import Any, ClassVar

import numpy as np

from archrank import spaces
from archrank.encodings.base import ArchEncoder, unknown_space
from archrank.spaces import darts
from archrank.spaces.base import SearchSpace
from archrank.spaces.cellgraph import CellGraph


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


def layout(space: SearchSpace) -> PathLayout:
    if space.name == "nb201":
        return PathLayout(("input",), space.ops, 1, 3)
    if space.name == "nb101":
        return PathLayout(("input",), space.ops, 0, 5)
    if space.name == "darts":
        blocks = tuple(f"{c}/input{i}" for c in ("normal", "reduce") for i in (0, 1))
        return PathLayout(blocks, space.ops, 0, 4)
    raise unknown_space("path", space)


#: vertex labels that join op outputs without being ops themselves (DARTS's per-node ``sum``)
_JOIN_LABELS = frozenset({darts.SUM})


def graph_paths(graph: CellGraph, source: int, op_index: dict[str, int]) -> list[tuple[int, ...]]:
    """Op-index sequences of every directed path from node ``source`` to the last node (its output).

    Vertices labelled ``sum`` (DARTS's intermediate nodes) are passed through without adding an op.
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
            elif graph.ops[nxt] in _JOIN_LABELS:  # a DARTS node's sum: not an op, adds nothing to the path
                stack.append((nxt, path))
            else:
                stack.append((nxt, (*path, op_index[graph.ops[nxt]])))
    return out


def _sources(space: SearchSpace, arch: Any) -> list[tuple[CellGraph, int]]:
    if space.name == "darts":
        normal, reduce = space.cell_graphs(arch)
        return [(normal, 0), (normal, 1), (reduce, 0), (reduce, 1)]
    return [(space.to_cell_graph(arch), 0)]


def path_columns(archs: list[Any], space: SearchSpace) -> list[set[int]]:
    """For each architecture, the set of path columns it contains."""
    lay = layout(space)
    if space.name == "nb101":
        archs = space.representatives(archs)
    op_index = {op: i for i, op in enumerate(lay.ops)}
    return [
        {
            lay.index(block, path)
            for block, (g, source) in enumerate(_sources(space, a))
            for path in graph_paths(g, source, op_index)
        }
        for a in archs
    ]


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


class PathEncoder(ArchEncoder):
    """BANANAS path encoding: 155 (NB201), 364 (NB101) or 11,204 (DARTS) binary features."""

    name: ClassVar[str] = "path"

    def _length(self, space: SearchSpace) -> int:
        return layout(space).length

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        return path_matrix(archs, space)

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return layout(space).names()


_DEFAULT_TRUNCATION = {"nb201": 30, "nb101": 40, "darts": 100}
_REFERENCE_SIZE = {"nb101": 10_000, "darts": 5_000}


@cache
def frequency_order(space_name: str) -> np.ndarray:
    """Path columns of a space sorted from most to least frequent over its reference set (stable)."""
    space = spaces.get(space_name)
    ref = space.all() if space_name == "nb201" else space.sample(_REFERENCE_SIZE[space_name], seed=0)
    counts = np.zeros(layout(space).length)
    for cols in path_columns(ref, space):
        counts[list(cols)] += 1
    order = np.argsort(-counts, kind="stable")
    order.setflags(write=False)
    return order


class PathTruncated(ArchEncoder):
    """The ``length`` most frequent paths of the space (default 30 NB201, 40 NB101, 100 DARTS)."""

    name: ClassVar[str] = "path_truncated"

    def __init__(self, space: Any = None, length: int | None = None) -> None:
        super().__init__(space)
        self.length = length

    def _cutoff(self, space: SearchSpace) -> int:
        full = layout(space).length
        cut = _DEFAULT_TRUNCATION[space.name] if self.length is None else self.length
        if not isinstance(cut, (int, np.integer)) or not 1 <= cut <= full:
            raise ValueError(f"path_truncated length must be an int in 1..{full} for {space.name}, got {cut!r}")
        return int(cut)

    def _length(self, space: SearchSpace) -> int:
        layout(space)
        return self._cutoff(space)

    def _columns(self, space: SearchSpace) -> np.ndarray:
        # the most frequent paths, kept in layout order (so NB201/NB101 match BANANAS column for column)
        return np.sort(frequency_order(space.name)[: self._cutoff(space)])

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        return path_matrix(archs, space, self._columns(space))

    def _feature_names(self, space: SearchSpace) -> list[str]:
        names = layout(space).names()
        return [names[i] for i in self._columns(space)]
