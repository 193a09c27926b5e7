"""Declarative search spaces for a user's own space, no subclassing needed.

* :class:`Choices`: named categorical decisions (macro, chain, per-layer width/kernel and
  transformer spaces), with an optional ``constraint(arch) -> bool``.
* :class:`Cell`: a DAG cell with ops on its edges (NB201, TransNAS-Bench-101 micro) or on its
  nodes (NB101-like, with a limit on edges), with the semantics a sound canonical key needs.

Both give every encoding that applies, sampling, mutation, neighbours, canonical keys, ``all()``
where finite, cell graphs and, through ``model_fn(arch, num_classes) -> nn.Module``, networks
for the zero-cost proxies. An architecture is a :class:`DecisionArch`; its string form
``name=option,name=option,...`` parses back to it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archrank.errors import InvalidArchitectureError
from archrank.spaces.base import RandomState, SearchSpace, as_rng
from archrank.spaces.cellgraph import CellGraph, wl_hash
from archrank.spaces.description import Decision, GraphSpec

#: spaces up to this many architectures enumerate with ``all()`` (and count path frequencies over all)
ENUMERABLE = 1_000_000


@dataclass(frozen=True)
class DecisionArch:
    """An architecture of a declarative space: the chosen option of each decision, in decision order."""

    space_name: str
    names: tuple[str, ...]
    values: tuple[Any, ...]
    #: the space object (not compared, not pickled: a pickled architecture finds its space by name)
    space: Any = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return DecisionArch, (self.space_name, self.names, self.values)

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self.names, self.values, strict=True))

    def __getitem__(self, decision: str) -> Any:
        try:
            return self.values[self.names.index(decision)]
        except ValueError:
            raise KeyError(f"no decision {decision!r}; decisions: {list(self.names)}") from None

    def __str__(self) -> str:
        return ",".join(f"{n}={v}" for n, v in zip(self.names, self.values, strict=True))


class DeclarativeSpace(SearchSpace):
    """Shared machinery of :class:`Choices` and :class:`Cell`: a space defined by its decisions."""

    arch_type = DecisionArch

    def __init__(
        self,
        name: str,
        decisions: Sequence[Decision],
        constraint: Callable[[Any], bool] | None = None,
        model_fn: Callable[..., Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name or any(c in name for c in ":,="):
            raise ValueError(f"a space name is a non-empty string without ':', ',' or '=', got {name!r}")
        if not decisions:
            raise ValueError(f"space {name!r} has no decisions")
        self.name = name
        self._specs = tuple(decisions)
        names = [d.name for d in self._specs]
        if len(set(names)) != len(names):
            raise ValueError(f"space {name!r} names a decision twice: {names}")
        for d in self._specs:
            if any(c in d.name for c in ",="):
                raise ValueError(f"decision name {d.name!r} may not contain ',' or '='")
            shown = [str(o) for o in d.options]
            if len(set(shown)) != len(shown) or any(c in s for s in shown for c in ",="):
                raise ValueError(f"decision {d.name!r}: options must print distinctly and without ',' or '=': {shown}")
        if constraint is not None and not callable(constraint):
            raise TypeError("constraint must be a callable arch -> bool")
        if model_fn is not None and not callable(model_fn):
            raise TypeError("model_fn must be a callable (arch, num_classes) -> torch.nn.Module")
        self.constraint, self.model_fn = constraint, model_fn
        self._graph_spec: GraphSpec | None = None
        self._names = tuple(names)
        self._by_text = [{str(o): o for o in d.options} for d in self._specs]
        self.size = math.prod(len(d.options) for d in self._specs)
        self.size_note = f"{self.size:,} combinations"

    # --- description -------------------------------------------------------------------------
    @property
    def decision_specs(self) -> tuple[Decision, ...]:
        return self._specs

    @property
    def graph_spec(self) -> GraphSpec | None:
        return self._graph_spec

    def to_decisions(self, arch: Any) -> dict[str, Any]:
        return self.ensure(arch).as_dict()

    def _from_checked_decisions(self, values: dict[str, Any]) -> DecisionArch:
        arch = DecisionArch(self.name, self._names, tuple(values[n] for n in self._names), self)
        self._validate(arch)
        return arch

    # --- validity (subclasses add structural rules) ------------------------------------------
    def _problem(self, arch: DecisionArch) -> str | None:
        """Why ``arch`` is not a valid architecture of this space, or None."""
        if self.constraint is not None:
            try:
                ok = self.constraint(arch)
            except Exception as err:
                return f"the constraint raised {type(err).__name__}: {err}"
            if not ok:
                return "the space's constraint rejects it"
        return None

    def _validate(self, arch: DecisionArch) -> None:
        problem = self._problem(arch)
        if problem is not None:
            raise InvalidArchitectureError(f"{arch} is not a valid {self.name} architecture: {problem}")

    def is_valid(self, arch: Any) -> bool:
        try:
            self.ensure(arch)
        except InvalidArchitectureError:
            return False
        return True

    # --- parsing -----------------------------------------------------------------------------
    def ensure(self, arch: Any) -> DecisionArch:
        if isinstance(arch, DecisionArch):
            if arch.space_name != self.name or arch.names != self._names:
                raise InvalidArchitectureError(
                    f"an architecture of the {arch.space_name} space was given to the {self.name} space"
                )
            return arch
        return self.parse(arch)

    def parse(self, text: Any) -> DecisionArch:
        """Read ``name=option,...`` (every decision once), a mapping name -> option, or an architecture."""
        if isinstance(text, DecisionArch):
            return self.ensure(text)
        if isinstance(text, Mapping):
            return self.from_decisions(text)
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"a {self.name} architecture is a 'name=option,...' string or a mapping, got {type(text).__name__}"
            )
        values: dict[str, Any] = {}
        for part in text.strip().split(","):
            key, eq, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not eq:
                raise InvalidArchitectureError(f"{part!r} in {text!r} is not of the form decision=option")
            if key in values:
                raise InvalidArchitectureError(f"decision {key!r} is given twice in {text!r}")
            if key not in self._names:
                raise InvalidArchitectureError(f"unknown decision {key!r} in {text!r}; decisions: {list(self._names)}")
            k = self._names.index(key)
            if value not in self._by_text[k]:
                options = list(self._by_text[k])
                raise InvalidArchitectureError(f"decision {key!r}: {value!r} is not one of its options {options}")
            values[key] = self._by_text[k][value]
        return self.from_decisions(values)

    # --- sampling and moves ------------------------------------------------------------------
    def _raw(self, indices: Sequence[int]) -> DecisionArch:
        return DecisionArch(
            self.name, self._names, tuple(d.options[i] for d, i in zip(self._specs, indices, strict=True)), self
        )

    def random_arch(self, rng: np.random.Generator) -> DecisionArch:
        """Each decision drawn uniformly; combinations that break the rules are redrawn."""
        for _ in range(10_000):
            arch = self._raw([int(rng.integers(len(d.options))) for d in self._specs])
            if self._problem(arch) is None:
                return arch
        raise InvalidArchitectureError(f"10,000 random draws found no valid {self.name} architecture")

    def _changes(self, arch: DecisionArch) -> list[DecisionArch]:
        out = []
        for k, d in enumerate(self._specs):
            for option in d.options:
                if option != arch.values[k] or (option is None) != (arch.values[k] is None):
                    values = (*arch.values[:k], option, *arch.values[k + 1 :])
                    out.append(DecisionArch(self.name, self._names, values, self))
        return out

    def neighbors(self, arch: Any) -> list[DecisionArch]:
        """Every valid architecture that differs in one decision and is not the same cell (canonical key)."""
        arch = self.ensure(arch)
        own = self.canonical(arch)
        return [a for a in self._changes(arch) if self._problem(a) is None and self.canonical(a) != own]

    def mutate(self, arch: Any, rng: RandomState = None) -> DecisionArch:
        """One random valid single-decision change that gives another cell (canonical key).

        Where no single change does (e.g. a cell whose only live edge is input -> output and whose
        other decisions are all dead), it walks through valid changes that keep the cell, up to
        100 steps, until one does.
        """
        start = self.ensure(arch)
        gen = as_rng(rng)
        own = self.canonical(start)
        current = start
        for _ in range(100):
            valid = [c for c in self._changes(current) if self._problem(c) is None]
            if not valid:
                break
            for k in gen.permutation(len(valid)):
                if self.canonical(valid[int(k)]) != own:
                    return valid[int(k)]
            current = valid[int(gen.integers(len(valid)))]
        raise InvalidArchitectureError(f"{start} has no valid change that gives another cell in the {self.name} space")

    def all(self) -> list[DecisionArch]:
        """Every valid architecture (decisions varied last-first), where there are at most 1,000,000 combinations."""
        if self.size > ENUMERABLE:
            raise NotImplementedError(f"the {self.name} space has {self.size:,} combinations, too many to enumerate")
        combos = itertools.product(*(range(len(d.options)) for d in self._specs))
        return [a for a in map(self._raw, combos) if self._problem(a) is None]

    def canonical(self, arch: Any) -> Hashable:
        return self.ensure(arch).values

    # --- networks ----------------------------------------------------------------------------
    @property
    def can_build_models(self) -> bool:
        return self.model_fn is not None

    @property
    def cache_key(self) -> str:
        if self.model_fn is None:
            return self.name
        from archrank._fingerprint import code_fingerprint

        return f"{self.name}#model_fn={code_fingerprint(self.model_fn)}"

    def build_model(self, arch: Any, num_classes: int = 10) -> Any:
        """``model_fn(arch, num_classes)``: the user's network for ``arch`` (a ``torch.nn.Module``)."""
        import torch

        if self.model_fn is None:
            raise NotImplementedError(f"the {self.name} space has no model_fn: pass model_fn= to build networks")
        arch = self.ensure(arch)
        try:
            model = self.model_fn(arch, num_classes)
        except Exception as err:
            raise InvalidArchitectureError(
                f"model_fn of the {self.name} space raised {type(err).__name__} for {arch}: {err}"
            ) from err
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"model_fn of the {self.name} space returned a {type(model).__name__}, not a torch.nn.Module"
            )
        return model


class Choices(DeclarativeSpace):
    """Named categorical decisions: ``Choices("mine", {"layer0": ["conv3", "conv5", "skip"], ...})``.

    Its cell graph is a chain (input, one vertex per decision labelled ``decision=option``,
    output), so the ``graph`` encoding and GNN predictors apply as well as ``adjacency_onehot``
    (one-hot of every decision) and ``categorical``; path encodings do not.
    """

    def __init__(
        self,
        name: str,
        decisions: Mapping[str, Sequence[Any]],
        constraint: Callable[[DecisionArch], bool] | None = None,
        model_fn: Callable[[DecisionArch, int], Any] | None = None,
    ) -> None:
        if not isinstance(decisions, Mapping) or not decisions:
            raise ValueError("decisions must be a non-empty mapping decision name -> list of options")
        specs = []
        for key, options in decisions.items():
            if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or len(options) < 1:
                raise ValueError(f"decision {key!r}: options must be a non-empty list, got {options!r}")
            specs.append(Decision(str(key), tuple(options)))
        super().__init__(name, specs, constraint, model_fn)
        labels = tuple(f"{d.name}={o}" for d in self._specs for o in d.options)
        self._graph_spec = GraphSpec(ops=labels, path_lengths=None)

    def to_cell_graph(self, arch: Any) -> CellGraph:
        arch = self.ensure(arch)
        n = len(self._specs) + 2
        adj = np.eye(n, k=1, dtype=np.uint8)
        return CellGraph(adj, ["input", *(f"{k}={v}" for k, v in zip(self._names, arch.values, strict=True)), "output"])


class Cell(DeclarativeSpace):
    """A DAG cell: ``nodes`` nodes in topological order, node 0 the input and the last the output.

    ``op_on="edge"`` (NB201-like): every edge ``i -> j`` (``i < j``) carries one of ``ops``; node
    ``j`` sums its inputs. ``zero_ops`` mean "no edge" (e.g. ``"none"``), ``identity_ops`` pass
    their input through (e.g. ``"skip_connect"``). The canonical key evaluates the cell
    symbolically (NB201's own algorithm, generalised): cells that compute the same sum of op
    chains share it, and parts that do not reach the output do not count.

    ``op_on="node"`` (NB101-like): each edge ``i -> j`` exists or not, inner nodes carry one of
    ``ops``; ``max_edges`` limits the edges. Nodes off every input-to-output path are pruned, a cell
    whose output is cut off from its input is invalid, and the canonical key is the WL hash of the
    pruned graph (NAS-Bench-101's module hash algorithm).

    Decisions are named ``"i->j"`` (0-based nodes, edges ordered by target then source, as NB201
    orders them) and, for ops on nodes, ``"node{v}"``.
    """

    def __init__(
        self,
        name: str,
        nodes: int,
        ops: Sequence[str],
        op_on: str = "edge",
        zero_ops: Sequence[str] = (),
        identity_ops: Sequence[str] = (),
        max_edges: int | None = None,
        constraint: Callable[[DecisionArch], bool] | None = None,
        model_fn: Callable[[DecisionArch, int], Any] | None = None,
    ) -> None:
        if op_on not in ("edge", "node"):
            raise ValueError(f"op_on must be 'edge' or 'node', got {op_on!r}")
        if not isinstance(nodes, int) or nodes < 2:
            raise ValueError(f"a cell needs at least 2 nodes (input and output), got {nodes!r}")
        ops = tuple(str(o) for o in ops)
        if not ops or len(set(ops)) != len(ops):
            raise ValueError(f"ops must be distinct names, got {list(ops)}")
        for label, group in (("zero_ops", zero_ops), ("identity_ops", identity_ops)):
            unknown = [o for o in group if o not in ops]
            if unknown:
                raise ValueError(f"{label} {unknown} are not among the ops {list(ops)}")
        if op_on == "node" and (zero_ops or identity_ops):
            raise ValueError("zero_ops and identity_ops describe ops on edges (op_on='edge')")
        self.nodes, self.ops, self.op_on = nodes, ops, op_on
        self.zero_ops, self.identity_ops = frozenset(zero_ops), frozenset(identity_ops)
        self.max_edges = max_edges
        self.edges = tuple((i, j) for j in range(1, nodes) for i in range(j))
        if op_on == "edge":
            specs = [Decision(f"{i}->{j}", ops) for i, j in self.edges]
        else:
            specs = [Decision(f"{i}->{j}", (0, 1), role="edge", source=i, target=j) for i, j in self.edges]
            specs += [Decision(f"node{v}", ops) for v in range(1, nodes - 1)]
        super().__init__(name, specs, constraint, model_fn)
        if op_on == "edge":
            lengths = (1, nodes - 1)
        else:
            lengths = (0 if max_edges is None or max_edges >= 1 else 1, nodes - 2)
        self._graph_spec = GraphSpec(
            ops=ops, path_lengths=lengths, path_reference=None if self.size <= 20_000 else 10_000
        )

    def parse(self, text: Any) -> DecisionArch:
        if isinstance(text, str):
            self._check_edge_names(part.partition("=")[0].strip() for part in text.split(","))
        return super().parse(text)

    def from_decisions(self, mapping: Any) -> DecisionArch:
        if isinstance(mapping, Mapping):
            self._check_edge_names(mapping)
        return super().from_decisions(mapping)

    def _check_edge_names(self, keys: Any) -> None:
        for key in keys:
            src, arrow, dst = str(key).partition("->")
            if arrow and src.isdigit() and dst.isdigit() and int(src) >= int(dst):
                raise InvalidArchitectureError(
                    f"edge {key!r} goes backwards: a cell's edges run from a lower to a higher node, so that it has "
                    "no cycle"
                )

    # --- structure ---------------------------------------------------------------------------
    def _edge_values(self, arch: DecisionArch) -> list[Any]:
        return list(arch.values[: len(self.edges)])

    def _node_graph(self, arch: DecisionArch) -> tuple[np.ndarray, list[str]]:
        """Ops on nodes: the pruned (adjacency, labels); raises InvalidArchitectureError if the output is cut off."""
        n = self.nodes
        adj = np.zeros((n, n), dtype=np.uint8)
        for (i, j), bit in zip(self.edges, self._edge_values(arch), strict=True):
            adj[i, j] = int(bit)
        labels = ["input", *arch.values[len(self.edges) :], "output"]
        reach = np.zeros(n, bool)
        reach[0] = True
        for v in range(1, n):
            reach[v] = bool((adj[:v, v].astype(bool) & reach[:v]).any())
        back = np.zeros(n, bool)
        back[n - 1] = True
        for v in range(n - 2, -1, -1):
            back[v] = bool((adj[v, v + 1 :].astype(bool) & back[v + 1 :]).any())
        if not reach[n - 1]:
            raise InvalidArchitectureError("the output node is not reachable from the input node")
        keep = np.flatnonzero(reach & back)
        return adj[np.ix_(keep, keep)], [labels[v] for v in keep]

    def _problem(self, arch: DecisionArch) -> str | None:
        if self.op_on == "node":
            try:
                adj, _ = self._node_graph(arch)
            except InvalidArchitectureError as err:
                return str(err)
            if self.max_edges is not None and int(adj.sum()) > self.max_edges:
                return f"{int(adj.sum())} edges after pruning, more than max_edges={self.max_edges}"
        return super()._problem(arch)

    def symbolic_value(self, arch: Any) -> str:
        """Ops on edges: the output node as a symbolic sum of op chains (``#``: zero)."""
        arch = self.ensure(arch)
        values = {0: "0"}
        for j in range(1, self.nodes):
            terms = []
            for (i, t), op in zip(self.edges, self._edge_values(arch), strict=True):
                if t != j:
                    continue
                if op in self.zero_ops or values[i] == "#":
                    continue
                terms.append(values[i] if op in self.identity_ops else f"({values[i]})@{op}")
            values[j] = "+".join(sorted(terms)) if terms else "#"
        return values[self.nodes - 1]

    def canonical(self, arch: Any) -> Hashable:
        arch = self.ensure(arch)
        if self.op_on == "edge":
            return hashlib.md5(self.symbolic_value(arch).encode()).hexdigest()
        adj, labels = self._node_graph(arch)
        return wl_hash(adj, labels)

    def representatives(self, archs: Sequence[Any]) -> list[DecisionArch]:
        """Ops on nodes: pruned-away nodes lose their edges and take the first op, so they do not change encodings."""
        archs = [self.ensure(a) for a in archs]
        if self.op_on == "edge":
            return archs
        out = []
        for arch in archs:
            self._node_graph(arch)  # an invalid cell raises here
            kept = set(self._kept_nodes(arch))
            values = [
                int(b) if i in kept and j in kept else 0
                for (i, j), b in zip(self.edges, self._edge_values(arch), strict=True)
            ]
            ops = [op if v in kept else self.ops[0] for v, op in enumerate(arch.values[len(self.edges) :], start=1)]
            out.append(DecisionArch(self.name, self._names, (*values, *ops), self))
        return out

    def _kept_nodes(self, arch: DecisionArch) -> list[int]:
        n = self.nodes
        bits = dict(zip(self.edges, self._edge_values(arch), strict=True))
        reach, back = {0}, {n - 1}
        for v in range(1, n):
            if any(bits[(u, v)] and u in reach for u in range(v)):
                reach.add(v)
        for v in range(n - 2, -1, -1):
            if any(bits[(v, w)] and w in back for w in range(v + 1, n)):
                back.add(v)
        return sorted(reach & back)

    def to_cell_graph(self, arch: Any) -> CellGraph:
        """Ops on edges: input, one vertex per edge (in decision order) carrying its op, output (NB201's form).
        Ops on nodes: the pruned cell."""
        arch = self.ensure(arch)
        if self.op_on == "node":
            adj, labels = self._node_graph(arch)
            return CellGraph(adj, labels)
        m = len(self.edges)
        adj = np.zeros((m + 2, m + 2), dtype=np.uint8)
        for a, (src_a, dst_a) in enumerate(self.edges, start=1):
            if src_a == 0:
                adj[0, a] = 1
            if dst_a == self.nodes - 1:
                adj[a, m + 1] = 1
            for b, (src_b, _) in enumerate(self.edges, start=1):
                if src_b == dst_a:
                    adj[a, b] = 1
        return CellGraph(adj, ["input", *self._edge_values(arch), "output"])
