"""CellGraph: the labelled DAG form every search space converts its architectures into.

Nodes are in topological order (node 0 is an input, the last node the output), the adjacency
matrix is upper-triangular 0/1, and every node carries an op label. Encodings and GNNs read
this form, so a new cell-based space needs only a converter to get them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from archrank.errors import InvalidArchitectureError

if TYPE_CHECKING:
    import networkx as nx


def wl_hash(adjacency: np.ndarray, labels: Sequence[object]) -> str:
    """Weisfeiler-Lehman style graph fingerprint, the NAS-Bench-101 module hash algorithm.

    Each vertex starts from the md5 of ``str((out_degree, in_degree, label))``; then, as many
    rounds as there are vertices, its hash becomes the md5 of its sorted in-neighbour hashes,
    ``|``, its sorted out-neighbour hashes, ``|``, and its own hash. The fingerprint is the md5
    of ``str(sorted(vertex_hashes))``. With NAS-Bench-101's integer labels (-1 input, -2 output,
    0/1/2 for the ops) this reproduces the benchmark's keys exactly. Returns 32 hex digits.
    """
    adj = np.asarray(adjacency)
    n = adj.shape[0]
    out_deg = [int(v) for v in adj.sum(axis=1)]
    in_deg = [int(v) for v in adj.sum(axis=0)]
    preds = [[w for w in range(n) if adj[w, v]] for v in range(n)]
    succs = [[w for w in range(n) if adj[v, w]] for v in range(n)]
    hashes = [hashlib.md5(str((out_deg[v], in_deg[v], labels[v])).encode()).hexdigest() for v in range(n)]
    for _ in range(n):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in preds[v]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in succs[v]))
                    + "|"
                    + hashes[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode()).hexdigest()


class CellGraph:
    """A labelled DAG: ``adjacency`` (n, n) upper-triangular 0/1 uint8 and ``ops`` (n labels).

    Immutable and hashable; equality means same node order, edges and labels (use
    :meth:`fingerprint` or :meth:`is_isomorphic` for equality up to node order).
    """

    __slots__ = ("_adjacency", "_ops")

    def __init__(self, adjacency: np.ndarray | Sequence[Sequence[int]], ops: Sequence[str]) -> None:
        adj = np.array(adjacency)
        if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
            raise InvalidArchitectureError(f"adjacency must be a square matrix, got shape {adj.shape}")
        if not np.isin(adj, (0, 1)).all():
            raise InvalidArchitectureError("adjacency entries must be 0 or 1")
        adj = adj.astype(np.uint8)
        if np.tril(adj).any():
            raise InvalidArchitectureError("adjacency must be strictly upper-triangular (nodes in topological order)")
        if len(ops) != adj.shape[0]:
            raise InvalidArchitectureError(f"{len(ops)} op labels for {adj.shape[0]} nodes")
        adj.setflags(write=False)
        self._adjacency = adj
        self._ops = tuple(str(o) for o in ops)

    @property
    def adjacency(self) -> np.ndarray:
        """Read-only (n, n) uint8 upper-triangular adjacency matrix."""
        return self._adjacency

    @property
    def ops(self) -> tuple[str, ...]:
        """Op label of each node, in node order."""
        return self._ops

    @property
    def num_nodes(self) -> int:
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        return int(self._adjacency.sum())

    def edges(self) -> list[tuple[int, int]]:
        """Directed edges (source, target) in row-major order."""
        return [(int(i), int(j)) for i, j in zip(*np.nonzero(self._adjacency), strict=True)]

    def fingerprint(self) -> str:
        """Isomorphism-invariant WL hash (32 hex digits) of this graph; see :func:`wl_hash`."""
        return wl_hash(self._adjacency, self._ops)

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` with integer nodes and the op label in node attribute ``op``."""
        import networkx as nx  # imported where used: it costs 0.1 s at import time

        g = nx.DiGraph()
        g.add_nodes_from((i, {"op": op}) for i, op in enumerate(self._ops))
        g.add_edges_from(self.edges())
        return g

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph) -> CellGraph:
        """Inverse of :meth:`to_networkx`; nodes are put in a topological order first."""
        import networkx as nx

        if not nx.is_directed_acyclic_graph(graph):
            raise InvalidArchitectureError("graph has a cycle")
        order = list(nx.lexicographical_topological_sort(graph))
        pos = {node: i for i, node in enumerate(order)}
        adj = np.zeros((len(order), len(order)), dtype=np.uint8)
        for u, v in graph.edges():
            adj[pos[u], pos[v]] = 1
        try:
            ops = [graph.nodes[node]["op"] for node in order]
        except KeyError as err:
            raise InvalidArchitectureError("every node needs an 'op' attribute") from err
        return cls(adj, ops)

    def is_isomorphic(self, other: CellGraph) -> bool:
        """Exact labelled-graph isomorphism test (networkx VF2)."""
        import networkx as nx

        return nx.is_isomorphic(self.to_networkx(), other.to_networkx(), node_match=lambda a, b: a["op"] == b["op"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellGraph):
            return NotImplemented
        return self._ops == other._ops and np.array_equal(self._adjacency, other._adjacency)

    def __hash__(self) -> int:
        return hash((self._ops, self._adjacency.tobytes()))

    def __repr__(self) -> str:
        return f"CellGraph(nodes={self.num_nodes}, edges={self.num_edges}, ops={list(self._ops)})"
