"""Fixed-width encodings read from a space's decisions: ``adjacency_onehot`` and ``categorical``.

Both are computed from ``space.to_decisions`` of each architecture's representative
(``space.representatives``), so isomorphic cells get the same row and both are injective on
canonical cells. See :class:`archrank.spaces.Decision` for what each decision contributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from archrank.encodings.base import ArchEncoder, cached, not_applicable, register_encoding
from archrank.spaces.base import SearchSpace
from archrank.spaces.description import Decision


def _decision_specs(space: SearchSpace, encoding: str) -> tuple[Decision, ...]:
    if not space.has_decisions():
        raise not_applicable(encoding, space, "it does not describe its decisions")
    return space.decision_specs


def option_indices(archs: list[Any], space: SearchSpace) -> np.ndarray:
    """(n, n_decisions) int64: the index of each decision's option (``None`` = absent is the last index)."""
    specs = _decision_specs(space, "categorical")
    lookup = [{o: i for i, o in enumerate(d.options)} for d in specs]
    out = np.empty((len(archs), len(specs)), dtype=np.int64)
    for r, arch in enumerate(space.representatives(archs)):
        values = space.to_decisions(arch)
        for c, d in enumerate(specs):
            try:
                out[r, c] = lookup[c][values[d.name]]
            except (KeyError, TypeError):  # an unhashable or unusual value: the checked look-up names the problem
                out[r, c] = d.index(values[d.name])
    return out


class _OneHotLayout:
    """Columns of ``adjacency_onehot``: per group, the adjacency bits (edge and input decisions), then op one-hots."""

    def __init__(self, specs: tuple[Decision, ...]) -> None:
        groups = list(dict.fromkeys(d.group for d in specs))
        self.names: list[str] = []
        #: per column block: (decision position, option index -> column or -1)
        self.blocks: list[tuple[int, np.ndarray]] = []
        width = 0
        for g in groups:
            members = [(k, d) for k, d in enumerate(specs) if d.group == g]
            prefix = f"{g}/" if g else ""
            # input decisions of the same target share the bits "target <- source" (the sorted union of options)
            sources: dict[int, list[int]] = {}
            for _, d in members:
                if d.role == "input":
                    sources.setdefault(int(d.target), [])
                    sources[int(d.target)] = sorted(set(sources[int(d.target)]) | {int(o) for o in d.present_options})
            first_input = {}
            for k, d in members:
                if d.role == "edge":
                    # option 1 sets the bit, option 0 leaves it
                    col = np.array([-1 if int(o or 0) == 0 else width for o in d.options])
                    self.blocks.append((k, col))
                    self.names.append(d.label)
                    width += 1
                elif d.role == "input":
                    t = int(d.target)
                    if t not in first_input:
                        first_input[t] = width
                        self.names += [f"{prefix}node{t}<-{s}" for s in sources[t]]
                        width += len(sources[t])
                    start, src = first_input[t], sources[t]
                    col = np.array([-1 if o is None else start + src.index(int(o)) for o in d.options])
                    self.blocks.append((k, col))
            for k, d in members:
                if d.role == "op":
                    present = d.present_options
                    col = np.array([-1 if o is None else width + i for i, o in enumerate(d.options)])
                    self.blocks.append((k, col))
                    self.names += [f"{d.stem}:{o}" for o in present]
                    width += len(present)
        self.width = width

    def encode(self, indices: np.ndarray) -> np.ndarray:
        out = np.zeros((indices.shape[0], self.width))
        rows = np.arange(indices.shape[0])
        for k, col in self.blocks:
            cols = col[indices[:, k]]
            hit = cols >= 0
            out[rows[hit], cols[hit]] = 1.0
        return out


def onehot_layout(space: SearchSpace) -> _OneHotLayout:
    """The (cached) one-hot column layout of ``space``."""
    return cached(space, "onehot_layout", lambda: _OneHotLayout(_decision_specs(space, "adjacency_onehot")))


@register_encoding
class AdjacencyOneHot(ArchEncoder):
    """Adjacency bits plus one-hot ops, read from the space's decisions.

    * NB201: 6 edges x 5 ops one-hot = 30 (the edge carries the op; the DAG itself is fixed).
    * NB101: 21 upper-triangle adjacency bits of the 7-slot matrix + 5 op slots x 3 one-hot = 36.
    * DARTS: per cell, 14 bits saying which inputs each intermediate node reads, then 8 edges x 7
      ops one-hot = 70; normal then reduction cell, 140 in all. (NASLib's "adjacency_one_hot" of
      length 114 flattens two 7x7 matrices and appends the 16 op *indices*; ours is one-hot and
      drops the 70 matrix entries that are constant or impossible.)
    * A ``Choices`` space: one-hot of every decision.
    """

    name: ClassVar[str] = "adjacency_onehot"
    requirement: ClassVar[str] = "a space that describes its decisions"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.has_decisions()

    injective: ClassVar[bool] = True

    def _length(self, space: SearchSpace) -> int:
        return onehot_layout(space).width

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        layout = onehot_layout(space)
        return layout.encode(option_indices(archs, space))

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return list(onehot_layout(space).names)


@register_encoding
class Categorical(ArchEncoder):
    """One integer per decision: the index of its option (for Hamming kernels and tree models).

    * NB201: the op index (0..4, in ``space.ops`` order) of each of the 6 edges = 6.
    * NB101: the 21 adjacency bits, then the op index of the 5 inner slots (3 = no vertex) = 26.
    * DARTS: for each cell and each of its 8 edges, the op index then the input node = 32.
    """

    name: ClassVar[str] = "categorical"
    requirement: ClassVar[str] = "a space that describes its decisions"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.has_decisions()

    injective: ClassVar[bool] = True

    def _length(self, space: SearchSpace) -> int:
        return len(_decision_specs(space, self.name))

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        return option_indices(archs, space)

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return [d.label for d in _decision_specs(space, self.name)]
