"""NAS-Bench-201 cells: a 4-node DAG with one of five ops on each of its 6 edges.

String form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node ``j`` (1..3) sums ``op(node i)`` over
its inputs ``i < j``; node 3 is the cell output. 5^6 = 15,625 cells.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from archrank._datafiles import load_npz
from archrank.errors import InvalidArchitectureError
from archrank.spaces.base import RandomState, SearchSpace, as_rng, choice_index
from archrank.spaces.cellgraph import CellGraph
from archrank.spaces.description import Decision, GraphSpec

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (source node, target node) of the six edges, in string order.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_ARCHS = len(OPS) ** len(EDGES)
_EDGE_RE = re.compile(r"^([A-Za-z0-9_]+)~(\d+)$")


@dataclass(frozen=True)
class NB201Arch:
    """A NAS-Bench-201 cell: ``ops[k]`` is the op on edge ``EDGES[k]``."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != len(EDGES):
            raise InvalidArchitectureError(f"an NB201 cell has 6 edges, got {len(self.ops)} ops")
        for op in self.ops:
            choice_index(OPS, op, "NB201 op")

    @property
    def space_name(self) -> str:
        return "nb201"

    @property
    def code(self) -> int:
        """Integer 0..15624 with op index of edge k as base-5 digit k (not the official index)."""
        return sum(OPS.index(op) * len(OPS) ** k for k, op in enumerate(self.ops))

    @classmethod
    def from_code(cls, code: int) -> NB201Arch:
        return cls(tuple(OPS[(int(code) // len(OPS) ** k) % len(OPS)] for k in range(len(EDGES))))

    def __str__(self) -> str:
        o = self.ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def parse_nb201(text: str) -> NB201Arch:
    """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; raises InvalidArchitectureError naming the fault."""
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"an NB201 architecture string is a str, got {type(text).__name__}")
    s = text.strip()
    nodes = s.split("+")
    if len(nodes) != 3:
        raise InvalidArchitectureError(f"NB201 string must have 3 nodes separated by '+', got {len(nodes)}: {text!r}")
    ops: list[str] = []
    for j, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
            raise InvalidArchitectureError(f"node {j} of {text!r} must look like |op~i|...|, got {node!r}")
        parts = node[1:-1].split("|")
        if len(parts) != j:
            raise InvalidArchitectureError(f"node {j} of {text!r} must have {j} incoming edges, got {len(parts)}")
        for i, part in enumerate(parts):
            m = _EDGE_RE.match(part)
            if m is None:
                raise InvalidArchitectureError(f"edge {part!r} of {text!r} is not of the form op~input")
            op, src = m.group(1), int(m.group(2))
            if src != i:
                raise InvalidArchitectureError(f"edge {part!r} of node {j} must read from node {i}, not {src}")
            choice_index(OPS, op, "NB201 op")
            ops.append(op)
    return NB201Arch(tuple(ops))


def nb201_unique_string(arch: NB201Arch) -> str:
    """NAS-Bench-201's own isomorphism key (its ``UniqueString``; 6,466 classes over the space).

    Node values are written symbolically: ``none`` or an input already known to be zero gives
    ``#``, ``skip_connect`` passes its input's string through, any other op gives
    ``(input)@op``; a node is the ``+``-join of its sorted terms. Cells with the same key
    compute the same function up to the order of summation.
    """
    values = {0: "0"}
    for j in (1, 2, 3):
        terms = []
        for (src, dst), op in zip(EDGES, arch.ops, strict=True):
            if dst != j:
                continue
            if op == "none" or values[src] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(values[src])
            else:
                terms.append(f"({values[src]})@{op}")
        values[j] = "+".join(sorted(terms))
    return values[3]


class NB201Space(SearchSpace):
    """The NAS-Bench-201 search space (15,625 cells, official index order from the benchmark)."""

    tables = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")

    name = "nb201"
    size_note = "15,625 cells"
    arch_type = NB201Arch
    ops = OPS
    edges = EDGES
    stacked_proxies = True
    #: one decision per edge, named "i->j" (0-based nodes) in string order
    decision_specs = tuple(Decision(f"{i}->{j}", OPS, label=f"edge{i}->{j}") for i, j in EDGES)
    graph_spec = GraphSpec(ops=OPS, path_lengths=(1, 3), path_truncation=30, path_reference=None)

    def to_decisions(self, arch: NB201Arch) -> dict[str, str]:
        self._check_arch_type(arch)
        return {d.name: op for d, op in zip(self.decision_specs, arch.ops, strict=True)}

    def _from_checked_decisions(self, values: dict[str, Any]) -> NB201Arch:
        return NB201Arch(tuple(values[d.name] for d in self.decision_specs))

    def parse(self, text: str) -> NB201Arch:
        return parse_nb201(text)

    @cached_property
    def _official_codes(self) -> np.ndarray:
        codes = load_npz("nb201_order.npz")["code"]
        if codes.shape != (NUM_ARCHS,) or len(np.unique(codes)) != NUM_ARCHS:
            raise InvalidArchitectureError("nb201_order.npz does not hold a permutation of the 15,625 cells")
        return codes

    @cached_property
    def _index_of_code(self) -> np.ndarray:
        inverse = np.empty(NUM_ARCHS, dtype=np.int64)
        inverse[self._official_codes] = np.arange(NUM_ARCHS)
        return inverse

    def all(self) -> list[NB201Arch]:
        """All 15,625 cells in the official NAS-Bench-201 index order."""
        return [NB201Arch.from_code(c) for c in self._official_codes]

    def identifiers(self, arch: NB201Arch) -> dict[str, Any]:
        return {"index": self.index(arch)}

    def lookup(self, text: str) -> NB201Arch:
        """A cell string, or its official index (``"6111"``, a whole number in 0..15,624)."""
        text = text.strip()
        if text.isdigit():
            if not int(text) < NUM_ARCHS:
                raise InvalidArchitectureError(f"NB201 index must be in 0..{NUM_ARCHS - 1}, got {text}")
            return self.from_index(int(text))
        return self.parse(text)

    def index(self, arch: NB201Arch | str) -> int:
        """Official NAS-Bench-201 index (0..15624) of a cell."""
        return int(self._index_of_code[self.ensure(arch).code])

    def from_index(self, index: int) -> NB201Arch:
        """The cell at an official NAS-Bench-201 index (a whole number in 0..15,624)."""
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"an NB201 index must be a whole number, got {index!r}")
        if not 0 <= int(index) < NUM_ARCHS:
            raise IndexError(f"NB201 index must be in 0..{NUM_ARCHS - 1}, got {index}")
        return NB201Arch.from_code(int(self._official_codes[int(index)]))

    def random_arch(self, rng: np.random.Generator) -> NB201Arch:
        return NB201Arch(tuple(OPS[i] for i in rng.integers(len(OPS), size=len(EDGES))))

    def sample(self, n: int, seed: RandomState = None) -> list[NB201Arch]:
        """``n`` distinct cells, uniformly without replacement."""
        if not 0 <= n <= NUM_ARCHS:
            raise ValueError(f"n must be in 0..{NUM_ARCHS} for NB201, got {n}")
        codes = as_rng(seed).choice(NUM_ARCHS, size=n, replace=False)
        return [NB201Arch.from_code(c) for c in codes]

    def mutate(self, arch: NB201Arch, rng: RandomState = None) -> NB201Arch:
        """Change the op of one random edge to a different op."""
        self._check_arch_type(arch)
        gen = as_rng(rng)
        k = int(gen.integers(len(EDGES)))
        choices = [op for op in OPS if op != arch.ops[k]]
        ops = list(arch.ops)
        ops[k] = choices[int(gen.integers(len(choices)))]
        return NB201Arch(tuple(ops))

    def neighbors(self, arch: NB201Arch) -> list[NB201Arch]:
        """The 24 cells that differ from ``arch`` in exactly one edge's op."""
        self._check_arch_type(arch)
        out = []
        for k in range(len(EDGES)):
            for op in OPS:
                if op != arch.ops[k]:
                    out.append(NB201Arch((*arch.ops[:k], op, *arch.ops[k + 1 :])))
        return out

    def canonical(self, arch: NB201Arch) -> str:
        """NAS-Bench-201's isomorphism key; see :func:`nb201_unique_string`."""
        self._check_arch_type(arch)
        return nb201_unique_string(arch)

    def load_table(self, dataset: str, data_dir: Any = None) -> Any:
        """The bundled table of ``dataset`` (see :mod:`archrank.spaces.nb201.table`)."""
        from archrank.spaces.nb201.table import load_table

        return load_table(self, dataset, data_dir)

    def stack_networks(self, models: Sequence[Any]) -> Any:
        """K NB201 networks as one (see :mod:`archrank.spaces.nb201.stacked`)."""
        from archrank.spaces.nb201.stacked import StackedNB201

        return StackedNB201(list(models))

    def build_model(self, arch: NB201Arch | str, num_classes: int = 10) -> Any:
        """The NAS-Bench-201 network of ``arch`` (see :mod:`archrank.spaces.nb201.model`)."""
        from archrank.spaces.nb201.model import build_nb201

        return build_nb201(self.ensure(arch), num_classes)

    def to_cell_graph(self, arch: NB201Arch) -> CellGraph:
        """8-node DAG with the ops moved onto nodes: input, the 6 edge-ops in string order, output."""
        self._check_arch_type(arch)
        n = len(EDGES) + 2
        adj = np.zeros((n, n), dtype=np.uint8)
        for a, (src_a, dst_a) in enumerate(EDGES, start=1):
            if src_a == 0:
                adj[0, a] = 1
            if dst_a == 3:
                adj[a, n - 1] = 1
            for b, (src_b, _) in enumerate(EDGES, start=1):
                if src_b == dst_a:
                    adj[a, b] = 1
        return CellGraph(adj, ("input", *arch.ops, "output"))
