"""NAS-Bench-101 cells: DAGs of at most 7 vertices and 9 edges over three ops.

A spec is an upper-triangular adjacency matrix plus one op per vertex (``input`` first,
``output`` last, ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3`` between). As in the
benchmark, vertices not on an input-to-output path are pruned away, and a cell's identity in
the benchmark is its module hash (:func:`module_hash`). The 423,624 unique cells ship with the
package (``scripts/enumerate_nb101.py`` made them).

String form: adjacency rows as 0/1 strings joined by ``/``, a ``|``, then the ops joined by ``,``:
``011/001/000|input,conv3x3-bn-relu,output``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from archrank._datafiles import load_npz
from archrank.errors import InvalidArchitectureError, UnknownArchitectureError
from archrank.spaces.base import RandomState, SearchSpace, as_rng, choice_index
from archrank.spaces.cellgraph import CellGraph, wl_hash
from archrank.spaces.description import Decision, GraphSpec

INPUT, OUTPUT = "input", "output"
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
MAX_VERTICES, MAX_EDGES = 7, 9
NUM_UNIQUE_CELLS = 423_624
#: Integer labels of the benchmark's hash: -1 input, -2 output, op index otherwise.
_HASH_LABEL = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(OPS)}}
#: the 21 possible edges of a 7-vertex cell, row-major
TRIU7 = np.triu_indices(MAX_VERTICES, 1)


@dataclass(frozen=True, eq=False)
class NB101Arch:
    """A pruned, valid NAS-Bench-101 cell. Build it with :func:`make_nb101` or ``space.parse``."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    @property
    def space_name(self) -> str:
        return "nb101"

    @property
    def adjacency(self) -> np.ndarray:
        """(n, n) uint8 upper-triangular adjacency matrix (a fresh copy)."""
        return np.array(self.matrix, dtype=np.uint8)

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    @cached_property
    def module_hash(self) -> str:
        """The NAS-Bench-101 module hash (32 hex digits) that keys the benchmark's tables."""
        return wl_hash(self.adjacency, [_HASH_LABEL[op] for op in self.ops])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NB101Arch):
            return NotImplemented
        return self.matrix == other.matrix and self.ops == other.ops

    def __hash__(self) -> int:
        return hash((self.matrix, self.ops))

    def __str__(self) -> str:
        rows = "/".join("".join(str(v) for v in row) for row in self.matrix)
        return f"{rows}|{','.join(self.ops)}"


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Drop vertices not on any input-to-output path (as the benchmark's ModelSpec does).

    Raises InvalidArchitectureError when the output cannot be reached from the input.
    """
    n = matrix.shape[0]
    from_input = {0}
    for v in range(1, n):
        if any(matrix[u, v] for u in from_input):
            from_input.add(v)
    to_output = {n - 1}
    for v in range(n - 2, -1, -1):
        if any(matrix[v, w] for w in to_output):
            to_output.add(v)
    if n - 1 not in from_input:
        raise InvalidArchitectureError("the output vertex is not reachable from the input vertex")
    keep = sorted(from_input & to_output)
    return matrix[np.ix_(keep, keep)], [ops[v] for v in keep]


def make_nb101(matrix: Any, ops: Sequence[str] | Sequence[int]) -> NB101Arch:
    """Validate and prune a spec into an :class:`NB101Arch`.

    ``matrix`` is a square 0/1 upper-triangular array; ``ops`` has one entry per vertex, either
    names (``input``, ``conv3x3-bn-relu``, ..., ``output``) or the integer codes of the
    benchmark's JSON dumps (-1 input, -2 output, 0/1/2 ops, -3 padding vertex, dropped).
    """
    try:
        mat = np.array(matrix, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidArchitectureError(f"NB101 matrix is not numeric: {err}") from None
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise InvalidArchitectureError(f"NB101 matrix must be square, got shape {mat.shape}")
    if not np.isin(mat, (0, 1)).all():
        raise InvalidArchitectureError("NB101 matrix entries must be 0 or 1")
    mat = mat.astype(np.uint8)
    names = list(ops)
    if len(names) != mat.shape[0]:
        raise InvalidArchitectureError(f"NB101 spec has {mat.shape[0]} vertices but {len(names)} ops")
    if names and all(isinstance(o, (int, np.integer)) for o in names):
        code_to_name = {-1: INPUT, -2: OUTPUT, 0: OPS[0], 1: OPS[1], 2: OPS[2]}
        keep = [i for i, o in enumerate(names) if int(o) != -3]
        if any(mat[i].any() or mat[:, i].any() for i, o in enumerate(names) if int(o) == -3):
            raise InvalidArchitectureError("a padding vertex (-3) has edges")
        mat = mat[np.ix_(keep, keep)]
        try:
            names = [code_to_name[int(names[i])] for i in keep]
        except KeyError as err:
            raise InvalidArchitectureError(f"unknown NB101 op code {err.args[0]}; valid: -1, -2, 0, 1, 2, -3") from None
    n = mat.shape[0]
    if n < 2:
        raise InvalidArchitectureError(f"an NB101 cell needs at least an input and an output vertex, got {n}")
    if n > MAX_VERTICES:
        raise InvalidArchitectureError(f"an NB101 cell has at most {MAX_VERTICES} vertices, got {n}")
    if np.tril(mat).any():
        raise InvalidArchitectureError("NB101 matrix must be strictly upper-triangular")
    if names[0] != INPUT or names[-1] != OUTPUT:
        raise InvalidArchitectureError(
            f"first op must be {INPUT!r} and last {OUTPUT!r}, got {names[0]!r}, {names[-1]!r}"
        )
    for op in names[1:-1]:
        choice_index(OPS, op, "NB101 op")
    mat, names = prune(mat, names)
    if int(mat.sum()) > MAX_EDGES:
        raise InvalidArchitectureError(f"an NB101 cell has at most {MAX_EDGES} edges, got {int(mat.sum())}")
    return NB101Arch(tuple(tuple(int(v) for v in row) for row in mat), tuple(names))


def parse_nb101(text: Any) -> NB101Arch:
    """Parse the string form, or accept ``(matrix, ops)`` / ``{"matrix": ..., "ops": ...}``."""
    if isinstance(text, NB101Arch):
        return text
    if isinstance(text, dict):
        if "matrix" not in text or "ops" not in text:
            raise InvalidArchitectureError("an NB101 spec dict needs the keys 'matrix' and 'ops'")
        return make_nb101(text["matrix"], text["ops"])
    if isinstance(text, tuple) and len(text) == 2:
        return make_nb101(*text)
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"cannot read an NB101 architecture from {type(text).__name__}")
    if text.count("|") != 1:
        raise InvalidArchitectureError(f"NB101 string must be 'rows|ops' with rows joined by '/', got {text!r}")
    rows_part, ops_part = text.strip().split("|")
    rows = rows_part.split("/")
    if any(len(r) != len(rows) or set(r) - {"0", "1"} for r in rows):
        raise InvalidArchitectureError(
            f"NB101 adjacency {rows_part!r} must be {len(rows)} rows of {len(rows)} 0/1 digits"
        )
    matrix = [[int(c) for c in r] for r in rows]
    return make_nb101(matrix, [o.strip() for o in ops_part.split(",")])


def _decode_cells(
    n_vertices: np.ndarray, adj_bits: np.ndarray, op_codes: np.ndarray, rows: np.ndarray
) -> list[NB101Arch]:
    out = []
    for r in rows:
        n = int(n_vertices[r])
        full = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        full[TRIU7] = (int(adj_bits[r]) >> np.arange(len(TRIU7[0]))) & 1
        code = int(op_codes[r])
        interior = [OPS[(code // 3**k) % 3] for k in range(n - 2)]
        mat = full[:n, :n]
        out.append(NB101Arch(tuple(tuple(int(v) for v in row) for row in mat), (INPUT, *interior, OUTPUT)))
    return out


class NB101Space(SearchSpace):
    """The NAS-Bench-101 space: 423,624 unique cells, identified by their module hash."""

    tables = ("cifar10",)

    name = "nb101"
    size_note = "423,624 unique cells"
    arch_type = NB101Arch
    ops = OPS
    #: the 21 edges "i->j" of a 7-vertex cell (0/1), then the op of inner vertices 1..5 (None: no vertex);
    #: a pruned cell keeps its output in vertex 6 (see :func:`padded`)
    decision_specs = (
        *(
            Decision(f"{i}->{j}", (0, 1), role="edge", source=int(i), target=int(j), label=f"edge{i}->{j}")
            for i, j in zip(*TRIU7, strict=True)
        ),
        *(Decision(f"vertex{v}", (*OPS, None)) for v in range(1, MAX_VERTICES - 1)),
    )
    graph_spec = GraphSpec(ops=OPS, path_lengths=(0, 5), path_truncation=40, path_reference=10_000)

    def to_decisions(self, arch: NB101Arch) -> dict[str, Any]:
        """The 7-slot form of this spec (vertex order as given; use :meth:`representatives` first for a fixed one)."""
        self._check_arch_type(arch)
        adj, ops = padded(arch)
        values: list[Any] = [int(b) for b in adj[TRIU7]] + list(ops)
        return {d.name: v for d, v in zip(self.decision_specs, values, strict=True)}

    def _from_checked_decisions(self, values: dict[str, Any]) -> NB101Arch:
        mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        for d in self.decision_specs[: len(TRIU7[0])]:
            mat[d.source, d.target] = values[d.name]
        inner = [values[f"vertex{v}"] for v in range(1, MAX_VERTICES - 1)]
        for v, op in enumerate(inner, start=1):
            if op is None and (mat[v].any() or mat[:, v].any()):
                raise InvalidArchitectureError(f"vertex{v} is absent (None) but has edges")
        keep = [0, *(v for v, op in enumerate(inner, start=1) if op is not None), MAX_VERTICES - 1]
        ops = [INPUT, *(op for op in inner if op is not None), OUTPUT]
        return make_nb101(mat[np.ix_(keep, keep)], ops)

    def parse(self, text: Any) -> NB101Arch:
        return parse_nb101(text)

    @cached_property
    def _cells(self) -> dict[str, np.ndarray]:
        cells = load_npz("nb101_cells.npz")
        if len(cells["hash_prefix"]) != NUM_UNIQUE_CELLS:
            raise InvalidArchitectureError("nb101_cells.npz does not hold the 423,624 unique cells")
        return cells

    def _decode(self, rows: np.ndarray) -> list[NB101Arch]:
        c = self._cells
        return _decode_cells(c["n_vertices"], c["adjacency_bits"], c["op_codes"], rows)

    def all(self) -> list[NB101Arch]:
        """The 423,624 unique cells (one representative spec per module hash, ordered by hash)."""
        return self._decode(np.arange(NUM_UNIQUE_CELLS))

    def lookup(self, text: str) -> NB101Arch:
        """A spec string, or a 32-digit module hash of one of the 423,624 cells."""
        text = text.strip()
        if len(text) == 32 and "|" not in text:
            return self.from_hash(text)
        return self.parse(text)

    def identifiers(self, arch: NB101Arch) -> dict[str, Any]:
        return {"module_hash": arch.module_hash}

    def from_hash(self, module_hash: str) -> NB101Arch:
        """The shipped representative spec of a NAS-Bench-101 module hash."""
        return self.from_hashes([module_hash])[0]

    def cell_rows(self, hashes: Sequence[str]) -> np.ndarray:
        """Row of each module hash in the shipped enumeration (int64; -1 where no stored cell matches).

        Rows are found by the hash's first 64 bits (unique across the 423,624 cells); the hash of
        every valid cell is stored, so a valid cell's own hash always finds its own row.
        """
        bad = [h for h in hashes if not _is_hex32(h)]
        if bad:
            raise InvalidArchitectureError(f"{bad[0]!r} is not a 32-hex-digit NB101 module hash")
        prefixes = np.array([int(h[:16], 16) for h in hashes], dtype=np.uint64)
        table = self._cells["hash_prefix"]
        pos = np.minimum(np.searchsorted(table, prefixes), len(table) - 1)
        return np.where(table[pos] == prefixes, pos, -1).astype(np.int64)

    def from_hashes(self, hashes: Sequence[str]) -> list[NB101Arch]:
        """Representative specs for many module hashes (vectorised lookup)."""
        rows = self.cell_rows(hashes)
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            raise UnknownArchitectureError(f"no NB101 cell has module hash {hashes[int(missing[0])]}")
        archs = self._decode(rows)
        for h, arch in zip(hashes, archs, strict=True):
            # A made-up hash may share its 64-bit prefix with a stored one: the full hash must agree.
            if arch.module_hash != h.lower():
                raise UnknownArchitectureError(f"no NB101 cell has module hash {h}")
        return archs

    def representatives(self, archs: Sequence[NB101Arch]) -> list[NB101Arch]:
        """The shipped representative spec of each arch's module hash (one fixed vertex order per class).

        Isomorphic specs map to the same object, so encodings read from it do not depend on how a
        spec's vertices happen to be numbered.
        """
        for arch in archs:
            self._check_arch_type(arch)
        hashes = [arch.module_hash for arch in archs]
        # A valid spec's own hash is always stored (see cell_rows), so no second check is needed.
        reps = self._decode(self.cell_rows(hashes))
        for h, rep in zip(hashes, reps, strict=True):
            rep.__dict__["module_hash"] = h  # fill the cached_property: the row was found by this hash
        return reps

    def random_arch(self, rng: np.random.Generator) -> NB101Arch:
        return self._decode(np.array([rng.integers(NUM_UNIQUE_CELLS)]))[0]

    def sample(self, n: int, seed: RandomState = None) -> list[NB101Arch]:
        """``n`` distinct cells drawn uniformly from the 423,624 unique cells."""
        if not 0 <= n <= NUM_UNIQUE_CELLS:
            raise ValueError(f"n must be in 0..{NUM_UNIQUE_CELLS} for NB101, got {n}")
        return self._decode(as_rng(seed).choice(NUM_UNIQUE_CELLS, size=n, replace=False))

    def _edits(self, arch: NB101Arch) -> list[tuple[np.ndarray, list[str]]]:
        """Every single edge flip and single op change of the unpruned 7-vertex padding of ``arch``."""
        n = arch.num_vertices
        mat = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        # Pad to 7 vertices by inserting unconnected vertices before the output, so edits can grow the cell.
        mat[: n - 1, : n - 1] = arch.adjacency[: n - 1, : n - 1]
        mat[: n - 1, MAX_VERTICES - 1] = arch.adjacency[: n - 1, n - 1]
        ops = list(arch.ops[:-1]) + [OPS[0]] * (MAX_VERTICES - n) + [OUTPUT]
        edits = []
        for i, j in zip(*TRIU7, strict=True):
            m = mat.copy()
            m[i, j] ^= 1
            edits.append((m, ops))
        for v in range(1, MAX_VERTICES - 1):
            for op in OPS:
                if op != ops[v]:
                    edits.append((mat, [*ops[:v], op, *ops[v + 1 :]]))
        return edits

    def mutate(self, arch: NB101Arch, rng: RandomState = None) -> NB101Arch:
        """One random valid edge flip or op change whose result has a different module hash.

        Where no single change gives a new cell (the bare input->output cell needs two new edges
        to gain a vertex), random changes are compounded until one does.
        """
        self._check_arch_type(arch)
        gen = as_rng(rng)
        edits = self._edits(arch)
        for k in gen.permutation(len(edits)):
            child = _valid_or_none(*edits[k])
            if child is not None and child.module_hash != arch.module_hash:
                return child
        for _ in range(10_000):
            mat, ops = edits[int(gen.integers(len(edits)))]
            mat, ops = mat.copy(), list(ops)
            for _ in range(int(gen.integers(2, 5))):
                i, j = int(gen.integers(MAX_VERTICES - 1)), int(gen.integers(1, MAX_VERTICES))
                if i < j:
                    mat[i, j] ^= 1
                ops[int(gen.integers(1, MAX_VERTICES - 1))] = OPS[int(gen.integers(len(OPS)))]
            child = _valid_or_none(mat, ops)
            if child is not None and child.module_hash != arch.module_hash:
                return child
        raise InvalidArchitectureError(f"no valid mutation of {arch} found")  # pragma: no cover

    def neighbors(self, arch: NB101Arch) -> list[NB101Arch]:
        """Valid cells one edge flip or op change away, one per module hash, ``arch``'s own excluded."""
        self._check_arch_type(arch)
        seen = {arch.module_hash}
        out = []
        for mat, ops in self._edits(arch):
            child = _valid_or_none(mat, ops)
            if child is not None and child.module_hash not in seen:
                seen.add(child.module_hash)
                out.append(child)
        return out

    def canonical(self, arch: NB101Arch) -> str:
        """The NAS-Bench-101 module hash (isomorphic specs share it)."""
        self._check_arch_type(arch)
        return arch.module_hash

    def load_table(self, dataset: str, data_dir: Any = None) -> Any:
        """The bundled table of ``dataset`` (see :mod:`archrank.spaces.nb101.table`)."""
        from archrank.spaces.nb101.table import load_table

        return load_table(self, dataset, data_dir)

    def build_model(self, arch: NB101Arch | str, num_classes: int = 10) -> Any:
        """The NAS-Bench-101 network of ``arch`` (see :mod:`archrank.spaces.nb101.model`).

        Channel splitting depends on the vertex order, so isomorphic specs can differ by a few
        parameters; the benchmark's counts are those of the spec it trained.
        """
        from archrank.spaces.nb101.model import build_nb101

        return build_nb101(self.ensure(arch), num_classes)

    def to_cell_graph(self, arch: NB101Arch) -> CellGraph:
        self._check_arch_type(arch)
        return CellGraph(arch.adjacency, arch.ops)


def padded(arch: NB101Arch) -> tuple[np.ndarray, list[str | None]]:
    """(7, 7) adjacency with the output moved to slot 6, and the ops of slots 1..5 (None: no vertex)."""
    m = arch.adjacency
    v = m.shape[0]
    adj = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    slot = np.r_[np.arange(v - 1), MAX_VERTICES - 1]
    adj[np.ix_(slot, slot)] = m
    ops: list[str | None] = [*arch.ops[1:-1], *([None] * (MAX_VERTICES - v))]
    return adj, ops


def _valid_or_none(matrix: np.ndarray, ops: Sequence[str]) -> NB101Arch | None:
    try:
        return make_nb101(matrix, ops)
    except InvalidArchitectureError:
        return None


def _is_hex32(h: object) -> bool:
    return isinstance(h, str) and len(h) == 32 and all(c in "0123456789abcdefABCDEF" for c in h)
