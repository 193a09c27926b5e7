"""DARTS / NAS-Bench-301 genotypes: a normal and a reduction cell over 7 operations.

Each cell has two inputs (nodes 0 and 1: the outputs of the two previous cells) and four
intermediate nodes 2..5; node ``k + 2`` sums two ops applied to two *distinct* earlier nodes,
and the cell output concatenates nodes 2..5. An edge is written ``(op, input_node)`` as in
DARTS genotypes. The operation order is NAS-Bench-301's (and NASLib's compact form's); it was
confirmed against the bundled table: parameters are exactly linear in the per-op edge counts,
ops 0-2 add none in the normal cell, op 2 alone adds a FactorizedReduce when it reads a cell
input of the reduction cell (so it is ``skip_connect``), and each separable conv adds exactly
twice what the dilated conv of the same kernel adds (it stacks two of them).

Within a node the two edges are stored sorted by input node (their sum does not depend on the
order), so every genotype has one canonical spelling.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archrank.errors import InvalidArchitectureError
from archrank.spaces.base import RandomState, SearchSpace, as_rng, choice_index
from archrank.spaces.cellgraph import CellGraph
from archrank.spaces.description import Decision, GraphSpec

OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
NUM_NODES = 4  # intermediate nodes per cell
NUM_EDGES = 2 * NUM_NODES
CELL_TYPES = ("normal", "reduce")
Cell = tuple[tuple[str, int], ...]


def _normalise_cell(edges: Any, cell_type: str) -> Cell:
    try:
        pairs = [(str(op), int(inp)) for op, inp in edges]
    except (TypeError, ValueError):
        raise InvalidArchitectureError(f"{cell_type} cell must be a list of (op, input_node) pairs") from None
    if len(pairs) != NUM_EDGES:
        raise InvalidArchitectureError(f"{cell_type} cell needs {NUM_EDGES} edges (2 per node), got {len(pairs)}")
    out: list[tuple[str, int]] = []
    for k in range(NUM_NODES):
        a, b = pairs[2 * k], pairs[2 * k + 1]
        for op, inp in (a, b):
            if op == "none":
                raise InvalidArchitectureError("'none' is not an NAS-Bench-301 op (DARTS drops it from genotypes)")
            choice_index(OPS, op, "DARTS op")
            if not 0 <= inp <= k + 1:
                raise InvalidArchitectureError(
                    f"{cell_type} cell: node {k + 2} can read nodes 0..{k + 1}, not node {inp}"
                )
        if a[1] == b[1]:
            raise InvalidArchitectureError(
                f"{cell_type} cell: the two inputs of node {k + 2} must differ, both are {a[1]}"
            )
        out.extend(sorted((a, b), key=lambda e: e[1]))
    return tuple(out)


@dataclass(frozen=True)
class DartsArch:
    """A DARTS genotype; ``normal`` and ``reduce`` hold 8 ``(op, input_node)`` edges each."""

    normal: Cell
    reduce: Cell

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", _normalise_cell(self.normal, "normal"))
        object.__setattr__(self, "reduce", _normalise_cell(self.reduce, "reduce"))

    @property
    def space_name(self) -> str:
        return "darts"

    def cell(self, cell_type: str) -> Cell:
        if cell_type not in CELL_TYPES:
            raise InvalidArchitectureError(f"cell type must be one of {CELL_TYPES}, got {cell_type!r}")
        return self.normal if cell_type == "normal" else self.reduce

    def compact(self) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """NASLib's compact form: per cell 8 ``(input_node, op_index)`` pairs."""
        return tuple(tuple((inp, OPS.index(op)) for op, inp in c) for c in (self.normal, self.reduce))  # type: ignore[return-value]

    def __str__(self) -> str:
        def fmt(cell: Cell) -> str:
            return "[" + ", ".join(f"('{op}', {inp})" for op, inp in cell) + "]"

        return (
            f"Genotype(normal={fmt(self.normal)}, normal_concat=[2, 3, 4, 5], "
            f"reduce={fmt(self.reduce)}, reduce_concat=[2, 3, 4, 5])"
        )


_GENOTYPE_RE = re.compile(
    r"^Genotype\(\s*normal\s*=\s*(\[.*?\])\s*,\s*normal_concat\s*=\s*(\[[^\]]*\]|range\(\s*2\s*,\s*6\s*\))\s*,"
    r"\s*reduce\s*=\s*(\[.*?\])\s*,\s*reduce_concat\s*=\s*(\[[^\]]*\]|range\(\s*2\s*,\s*6\s*\))\s*\)$",
    re.S,
)


def _from_compact(obj: Sequence[Any]) -> DartsArch:
    if len(obj) != 2:
        raise InvalidArchitectureError(f"compact DARTS form has 2 cells, got {len(obj)}")
    cells = []
    for cell_type, cell in zip(CELL_TYPES, obj, strict=True):
        try:
            pairs = [(int(inp), int(op)) for inp, op in cell]
        except (TypeError, ValueError):
            raise InvalidArchitectureError(f"compact {cell_type} cell must hold (input_node, op_index) pairs") from None
        for _, op in pairs:
            if not 0 <= op < len(OPS):
                raise InvalidArchitectureError(f"op index {op} out of range 0..{len(OPS) - 1}")
        cells.append([(OPS[op], inp) for inp, op in pairs])
    return DartsArch(tuple(cells[0]), tuple(cells[1]))


def parse_darts(text: Any) -> DartsArch:
    """Read a genotype string, NASLib's compact form (string or nested sequence) or a dict."""
    if isinstance(text, DartsArch):
        return text
    if isinstance(text, dict):
        try:
            return DartsArch(tuple(text["normal"]), tuple(text["reduce"]))
        except KeyError:
            raise InvalidArchitectureError("a DARTS dict needs the keys 'normal' and 'reduce'") from None
    if isinstance(text, (list, tuple)):
        return _from_compact(text)
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"cannot read a DARTS genotype from {type(text).__name__}")
    s = text.strip()
    m = _GENOTYPE_RE.match(s)
    try:
        if m:
            for concat in (m.group(2), m.group(4)):
                if concat.startswith("[") and [int(v) for v in ast.literal_eval(concat)] != [2, 3, 4, 5]:
                    raise InvalidArchitectureError(f"NAS-Bench-301 cells concatenate nodes [2, 3, 4, 5], got {concat}")
            return DartsArch(tuple(ast.literal_eval(m.group(1))), tuple(ast.literal_eval(m.group(3))))
        if s.startswith("[") or s.startswith("("):
            return _from_compact(ast.literal_eval(s))
    except InvalidArchitectureError:
        raise
    except (ValueError, SyntaxError, TypeError) as err:
        raise InvalidArchitectureError(f"malformed DARTS genotype {text!r}: {err}") from None
    raise InvalidArchitectureError(
        f"not a DARTS genotype: {text!r}; expected 'Genotype(normal=[...], normal_concat=[2, 3, 4, 5], "
        "reduce=[...], reduce_concat=[2, 3, 4, 5])' or NASLib's compact '[[(input, op), ...], [...]]'"
    )


SUM = "sum"  # label of the vertex that adds an intermediate node's two op outputs
NUM_GRAPH_NODES = 2 + 3 * NUM_NODES + 1  # per cell: 2 inputs, per node 2 ops + 1 sum, the concat output


def op_vertex(edge: int) -> int:
    """Vertex of edge ``edge``'s op in :func:`cell_to_graph` (node ``k``'s ops come right before its sum)."""
    return 2 + 3 * (edge // 2) + edge % 2


def sum_vertex(node: int) -> int:
    """Vertex of intermediate node ``node`` (2..5) in :func:`cell_to_graph`; cell inputs 0 and 1 are vertices 0, 1."""
    return node if node < 2 else 2 + 3 * (node - 2) + 2


def cell_to_graph(cell: Cell, prefix: str = "") -> CellGraph:
    """One cell with ops moved onto vertices (15 vertices, 20 edges).

    Vertices, in topological order: ``input0``, ``input1``, then per intermediate node ``k + 2``
    its two op vertices (edges ``2k``, ``2k + 1``) followed by a ``sum`` vertex that adds them,
    and last the ``output`` that concatenates the four sums. An op vertex reads a cell input or
    the sum vertex of an earlier node. The sum vertices keep which two ops are added into the
    same node (without them, two ops of a node that nothing else reads would both go straight to
    the output, and ``sep(x0) + max(x1), skip(x0) + avg(x1)`` would look like
    ``sep(x0) + avg(x1), skip(x0) + max(x1)``).
    """
    n = NUM_GRAPH_NODES
    adj = np.zeros((n, n), dtype=np.uint8)
    labels = ["input0", "input1"] + [""] * (n - 3) + ["output"]
    for e, (op, inp) in enumerate(cell):
        v = op_vertex(e)
        adj[sum_vertex(inp), v] = 1
        adj[v, sum_vertex(2 + e // 2)] = 1
        labels[v] = op
    for node in range(2, 2 + NUM_NODES):
        labels[sum_vertex(node)] = SUM
        adj[sum_vertex(node), n - 1] = 1
    return CellGraph(adj, [prefix + lab for lab in labels])


class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 space (about 10^18 genotypes; no enumeration)."""

    tables = ("cifar10",)

    name = "darts"
    size_note = "~10^18 genotypes"
    arch_type = DartsArch
    ops = OPS
    #: per cell and edge e (node e // 2 + 2): its op, then the node it reads (0..e // 2 + 1)
    decision_specs = tuple(
        d
        for c in CELL_TYPES
        for e in range(NUM_EDGES)
        for d in (
            Decision(f"{c}/edge{e}:op", OPS, group=c, stem=f"{c}/edge{e}"),
            Decision(f"{c}/edge{e}:input", tuple(range(e // 2 + 2)), role="input", target=e // 2 + 2, group=c),
        )
    )
    graph_spec = GraphSpec(
        ops=OPS,
        cells=CELL_TYPES,
        inputs=("input0", "input1"),
        joins=(SUM,),
        path_lengths=(0, 4),
        path_truncation=100,
        path_reference=5_000,
    )

    def to_decisions(self, arch: DartsArch) -> dict[str, Any]:
        self._check_arch_type(arch)
        out: dict[str, Any] = {}
        for c in CELL_TYPES:
            for e, (op, inp) in enumerate(arch.cell(c)):
                out[f"{c}/edge{e}:op"], out[f"{c}/edge{e}:input"] = op, inp
        return out

    def _from_checked_decisions(self, values: dict[str, Any]) -> DartsArch:
        cells = [
            tuple((values[f"{c}/edge{e}:op"], values[f"{c}/edge{e}:input"]) for e in range(NUM_EDGES))
            for c in CELL_TYPES
        ]
        return DartsArch(cells[0], cells[1])

    def parse(self, text: Any) -> DartsArch:
        return parse_darts(text)

    def random_arch(self, rng: np.random.Generator) -> DartsArch:
        cells = []
        for _ in CELL_TYPES:
            edges = []
            for k in range(NUM_NODES):
                inputs = rng.choice(k + 2, size=2, replace=False)
                ops = rng.integers(len(OPS), size=2)
                edges += [(OPS[int(o)], int(i)) for o, i in zip(ops, inputs, strict=True)]
            cells.append(tuple(edges))
        return DartsArch(cells[0], cells[1])

    def _replace(self, arch: DartsArch, cell_type: str, edge: int, new: tuple[str, int]) -> DartsArch:
        cell = list(arch.cell(cell_type))
        cell[edge] = new
        return DartsArch(tuple(cell), arch.reduce) if cell_type == "normal" else DartsArch(arch.normal, tuple(cell))

    def _input_choices(self, cell: Cell, edge: int) -> list[int]:
        k = edge // 2
        sibling = cell[edge ^ 1][1]
        return [i for i in range(k + 2) if i not in (cell[edge][1], sibling)]

    def mutate(self, arch: DartsArch, rng: RandomState = None) -> DartsArch:
        """Change one edge of one random cell: its op (to another op) or its input node (to another valid one)."""
        self._check_arch_type(arch)
        gen = as_rng(rng)
        cell_type = CELL_TYPES[int(gen.integers(2))]
        cell = arch.cell(cell_type)
        edge = int(gen.integers(NUM_EDGES))
        op, inp = cell[edge]
        inputs = self._input_choices(cell, edge)
        if inputs and gen.random() < 0.5:
            return self._replace(arch, cell_type, edge, (op, inputs[int(gen.integers(len(inputs)))]))
        ops = [o for o in OPS if o != op]
        return self._replace(arch, cell_type, edge, (ops[int(gen.integers(len(ops)))], inp))

    def neighbors(self, arch: DartsArch) -> list[DartsArch]:
        """All genotypes one op change or one input change away (120 for every genotype)."""
        self._check_arch_type(arch)
        out: dict[DartsArch, None] = {}
        for cell_type in CELL_TYPES:
            cell = arch.cell(cell_type)
            for edge, (op, inp) in enumerate(cell):
                for new_op in OPS:
                    if new_op != op:
                        out[self._replace(arch, cell_type, edge, (new_op, inp))] = None
                for new_inp in self._input_choices(cell, edge):
                    out[self._replace(arch, cell_type, edge, (op, new_inp))] = None
        out.pop(arch, None)
        return list(out)

    def canonical(self, arch: DartsArch) -> str:
        """Hash shared by genotypes whose cells are isomorphic (e.g. independent nodes listed in another order).

        Built from the WL fingerprints (:func:`~archrank.spaces.cellgraph.wl_hash`) of both cell graphs
        (:func:`cell_to_graph`, with one ``sum`` vertex per intermediate node). Renumbering the
        intermediate nodes (and the inputs that read them) keeps the key: the output concatenates all
        four and the next cell's 1x1 preprocessing conv makes their order irrelevant. Which ops are
        summed into the same node, and what each op reads, are kept.
        """
        self._check_arch_type(arch)
        fps = "".join(cell_to_graph(arch.cell(c)).fingerprint() for c in CELL_TYPES)
        return hashlib.md5(fps.encode()).hexdigest()

    def cell_graphs(self, arch: DartsArch) -> tuple[CellGraph, CellGraph]:
        """The normal and the reduction cell as separate 15-vertex graphs (see :func:`cell_to_graph`)."""
        self._check_arch_type(arch)
        return cell_to_graph(arch.normal), cell_to_graph(arch.reduce)

    def load_table(self, dataset: str, data_dir: Any = None) -> Any:
        """The bundled table of ``dataset`` (see :mod:`archrank.spaces.darts.table`)."""
        from archrank.spaces.darts.table import load_table

        return load_table(self, dataset, data_dir)

    def build_model(self, arch: DartsArch | str, num_classes: int = 10) -> Any:
        """The NAS-Bench-301 evaluation network of ``arch`` (see :mod:`archrank.spaces.darts.model`)."""
        from archrank.spaces.darts.model import build_darts

        return build_darts(self.ensure(arch), num_classes)

    def to_cell_graph(self, arch: DartsArch) -> CellGraph:
        """Both cells as one 30-vertex graph (disjoint union); labels are prefixed ``normal/`` and ``reduce/``."""
        self._check_arch_type(arch)
        g1, g2 = cell_to_graph(arch.normal, "normal/"), cell_to_graph(arch.reduce, "reduce/")
        n1, n2 = g1.num_nodes, g2.num_nodes
        adj = np.zeros((n1 + n2, n1 + n2), dtype=np.uint8)
        adj[:n1, :n1] = g1.adjacency
        adj[n1:, n1:] = g2.adjacency
        return CellGraph(adj, g1.ops + g2.ops)
