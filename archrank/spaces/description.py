"""What a search space says about itself, for encodings, predictors, search and host tools.

* :class:`Decision`: one choice that makes up an architecture (an op, whether an edge exists,
  which node feeds another), with its options. ``None`` as the last option means "absent" (a
  vertex a pruned cell does not have): categorical encodes it as ``len(options) - 1``, one-hot
  as all zeros.
* :class:`GraphSpec`: how the space's cell graphs are labelled (op vocabulary, input/output and
  join vertices) and how long their input-to-output paths can be, for the ``graph`` and path
  encodings.

Encodings read only these, so any space that describes itself gets them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archrank.errors import InvalidArchitectureError

ROLES = ("op", "edge", "input")


@dataclass(frozen=True)
class Decision:
    """One decision of a space.

    ``role``: ``"op"`` (pick one option; one-hot), ``"edge"`` (0/1: does ``source -> target`` exist;
    one adjacency bit), ``"input"`` (which earlier node feeds node ``target``; adjacency bits per
    (target, source), shared by every input decision of the same target). ``group`` names the cell
    the decision belongs to (adjacency bits come before the op one-hots within a group).
    ``label``: the column name in the categorical encoding (default ``name``); ``stem``: the prefix
    of its one-hot columns (default ``label``).
    """

    name: str
    options: tuple[Any, ...]
    role: str = "op"
    source: int | None = None
    target: int | None = None
    group: str = ""
    label: str = ""
    stem: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if self.role not in ROLES:
            raise ValueError(f"decision {self.name!r}: role must be one of {ROLES}, got {self.role!r}")
        if len(self.options) < 1:
            raise ValueError(f"decision {self.name!r} has no options")
        if None in self.options[:-1]:
            raise ValueError(f"decision {self.name!r}: None (absent) may only be the last option")
        if len(set(map(repr, self.options))) != len(self.options):
            raise ValueError(f"decision {self.name!r} lists an option twice: {list(self.options)}")
        if self.role == "edge" and (self.source is None or self.target is None):
            raise ValueError(f"edge decision {self.name!r} needs source and target nodes")
        if self.role == "input" and self.target is None:
            raise ValueError(f"input decision {self.name!r} needs its target node")
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if not self.stem:
            object.__setattr__(self, "stem", self.label)

    @property
    def present_options(self) -> tuple[Any, ...]:
        """The options without the trailing ``None`` (absent)."""
        return self.options[:-1] if self.options[-1] is None else self.options

    def index(self, value: Any) -> int:
        """Position of ``value`` among the options; InvalidArchitectureError naming the valid ones otherwise."""
        for i, option in enumerate(self.options):
            if (option is None) == (value is None) and (option is None or option == value):
                return i
        raise InvalidArchitectureError(
            f"decision {self.name!r}: {value!r} is not one of its options {list(self.options)}"
        )


def check_decisions(decisions: Sequence[Decision], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` as a dict in decision order, its values replaced by the matching options.

    Raises InvalidArchitectureError naming a missing or unknown decision or a value outside its options.
    """
    if not isinstance(mapping, Mapping):
        raise InvalidArchitectureError(f"decisions must be a mapping name -> option, got {type(mapping).__name__}")
    names = [d.name for d in decisions]
    missing = [n for n in names if n not in mapping]
    extra = [k for k in mapping if k not in set(names)]
    if missing or extra:
        parts = ([f"decision(s) missing: {missing}"] if missing else []) + (
            [f"unknown decision(s) {extra}"] if extra else []
        )
        raise InvalidArchitectureError(f"{'; '.join(parts)}; this space decides {names}")
    return {d.name: d.options[d.index(mapping[d.name])] for d in decisions}


@dataclass(frozen=True)
class GraphSpec:
    """How a space's cell graphs are labelled.

    ``ops``: the op labels (the path alphabet and the ``graph`` one-hot); ``cells``: the names of
    the cell graphs one architecture has (``space.cell_graphs(arch)`` returns them in this order;
    ``to_cell_graph`` joins several with labels prefixed ``cell/``); ``inputs``/``output``: the
    labels of each cell's input vertices and of its output vertex; ``joins``: labels of vertices
    that combine inputs without being ops (DARTS's per-node ``sum``), passed through by paths.
    ``path_lengths``: (fewest, most) ops on an input-to-output path (``None``: no path encoding);
    ``path_truncation``: default width of ``path_truncated``; ``path_reference``: how many seeded
    random architectures (seed 0) count path frequencies (``None``: every architecture, ``all()``).
    """

    ops: tuple[str, ...]
    cells: tuple[str, ...] = ("cell",)
    inputs: tuple[str, ...] = ("input",)
    output: str = "output"
    joins: tuple[str, ...] = ()
    path_lengths: tuple[int, int] | None = None
    path_truncation: int | None = None
    path_reference: int | None = 10_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        labels = [*self.inputs, *self.ops, *self.joins, self.output]
        if len(set(labels)) != len(labels):
            raise ValueError(f"graph labels must be distinct, got {labels}")

    def cell_vocabulary(self) -> tuple[str, ...]:
        """Vertex labels of one cell graph: inputs, ops, joins, output."""
        return (*self.inputs, *self.ops, *self.joins, self.output)

    def vocabulary(self) -> tuple[str, ...]:
        """Vertex labels of ``to_cell_graph`` (prefixed ``cell/`` when an architecture has several cells)."""
        if len(self.cells) == 1:
            return self.cell_vocabulary()
        return tuple(f"{c}/{lab}" for c in self.cells for lab in self.cell_vocabulary())

    def path_blocks(self) -> tuple[str, ...]:
        """One path block per (cell, input vertex)."""
        if len(self.cells) == 1:
            return tuple(self.inputs)
        return tuple(f"{c}/{i}" for c in self.cells for i in self.inputs)
