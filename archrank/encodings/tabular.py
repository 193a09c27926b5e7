"""Fixed-width encodings: ``adjacency_onehot`` (BANANAS/NASLib layout) and ``categorical``.

Both are injective on canonical cells. NB101 specs are first replaced by the shipped
representative of their module hash, so isomorphic specs get the same row; pruned cells with
fewer than 7 vertices keep the output in slot 6 and leave the missing vertices empty.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from archrank.encodings.base import ArchEncoder, unknown_space
from archrank.spaces import darts as darts_mod
from archrank.spaces import nb101 as nb101_mod
from archrank.spaces import nb201 as nb201_mod
from archrank.spaces.base import SearchSpace

_TRIU7 = nb101_mod.TRIU7
_NB101_INNER = nb101_mod.MAX_VERTICES - 2  # 5 op slots
#: categorical NB101 op code of an empty slot (a vertex the pruned cell does not have)
NB101_NO_VERTEX = len(nb101_mod.OPS)
#: DARTS: possible inputs of intermediate node k are 0..k+1 (2+3+4+5 = 14 input bits per cell)
_DARTS_INPUT_SLOTS = [(k, i) for k in range(darts_mod.NUM_NODES) for i in range(k + 2)]


def nb101_padded(reps: list[nb101_mod.NB101Arch]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 7, 7) adjacency and (n, 5) op codes (3 = no vertex) with the output moved to slot 6."""
    n = len(reps)
    adj = np.zeros((n, 7, 7), dtype=np.uint8)
    ops = np.full((n, _NB101_INNER), NB101_NO_VERTEX, dtype=np.int64)
    op_index = {op: i for i, op in enumerate(nb101_mod.OPS)}
    for r, arch in enumerate(reps):
        m = arch.adjacency
        v = m.shape[0]
        slot = np.r_[np.arange(v - 1), 6]
        adj[r][np.ix_(slot, slot)] = m
        for j, op in enumerate(arch.ops[1:-1]):
            ops[r, j] = op_index[op]
    return adj, ops


def _nb201_op_indices(archs: list[Any]) -> np.ndarray:
    index = {op: i for i, op in enumerate(nb201_mod.OPS)}
    return np.array([[index[o] for o in a.ops] for a in archs], dtype=np.int64).reshape(len(archs), 6)


def _darts_arrays(archs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, 8) op indices and (n, 2, 8) input nodes of the normal and reduction cells."""
    index = {op: i for i, op in enumerate(darts_mod.OPS)}
    ops = np.array([[[index[o] for o, _ in c] for c in (a.normal, a.reduce)] for a in archs], dtype=np.int64)
    inputs = np.array([[[i for _, i in c] for c in (a.normal, a.reduce)] for a in archs], dtype=np.int64)
    return ops.reshape(len(archs), 2, 8), inputs.reshape(len(archs), 2, 8)


def _one_hot(indices: np.ndarray, depth: int) -> np.ndarray:
    """(..., k) integer indices to (..., k * depth) one-hot; indices equal to ``depth`` give all zeros."""
    eye = np.vstack([np.eye(depth), np.zeros((1, depth))])
    return eye[indices].reshape(*indices.shape[:-1], indices.shape[-1] * depth)


class AdjacencyOneHot(ArchEncoder):
    """Adjacency bits plus one-hot ops.

    * NB201: 6 edges x 5 ops one-hot = 30 (the edge carries the op; the DAG itself is fixed).
    * NB101: 21 upper-triangle adjacency bits of the 7-slot matrix + 5 op slots x 3 one-hot = 36.
    * DARTS: per cell, 14 bits saying which inputs each intermediate node reads, then 8 edges x 7
      ops one-hot = 70; normal then reduction cell, 140 in all. (NASLib's "adjacency_one_hot" of
      length 114 flattens two 7x7 matrices and appends the 16 op *indices*; ours is one-hot and
      drops the 70 matrix entries that are constant or impossible.)
    """

    name: ClassVar[str] = "adjacency_onehot"
    injective: ClassVar[bool] = True

    def _length(self, space: SearchSpace) -> int:
        lengths = {"nb201": 30, "nb101": 36, "darts": 140}
        if space.name not in lengths:
            raise unknown_space(self.name, space)
        return lengths[space.name]

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        if space.name == "nb201":
            return _one_hot(_nb201_op_indices(archs), len(nb201_mod.OPS))
        if space.name == "nb101":
            adj, ops = nb101_padded(space.representatives(archs))
            return np.hstack([adj[:, _TRIU7[0], _TRIU7[1]], _one_hot(ops, len(nb101_mod.OPS))])
        if space.name == "darts":
            ops, inputs = _darts_arrays(archs)
            blocks = []
            for c in range(2):
                bits = np.zeros((len(archs), len(_DARTS_INPUT_SLOTS)))
                for s, (k, i) in enumerate(_DARTS_INPUT_SLOTS):
                    bits[:, s] = ((inputs[:, c, 2 * k] == i) | (inputs[:, c, 2 * k + 1] == i)).astype(float)
                blocks += [bits, _one_hot(ops[:, c, :], len(darts_mod.OPS))]
            return np.hstack(blocks)
        raise unknown_space(self.name, space)

    def _feature_names(self, space: SearchSpace) -> list[str]:
        if space.name == "nb201":
            return [f"edge{a}->{b}:{op}" for a, b in nb201_mod.EDGES for op in nb201_mod.OPS]
        if space.name == "nb101":
            edges = [f"edge{i}->{j}" for i, j in zip(*_TRIU7, strict=True)]
            return edges + [f"vertex{v}:{op}" for v in range(1, 6) for op in nb101_mod.OPS]
        if space.name == "darts":
            names = []
            for cell in darts_mod.CELL_TYPES:
                names += [f"{cell}/node{k + 2}<-{i}" for k, i in _DARTS_INPUT_SLOTS]
                names += [f"{cell}/edge{e}:{op}" for e in range(8) for op in darts_mod.OPS]
            return names
        raise unknown_space(self.name, space)


class Categorical(ArchEncoder):
    """One integer per decision (for Hamming kernels and tree models).

    * NB201: the op index (0..4, in ``space.ops`` order) of each of the 6 edges = 6.
    * NB101: the 21 adjacency bits, then the op index of the 5 inner slots (3 = no vertex) = 26.
    * DARTS: for each cell and each of its 8 edges, the op index then the input node = 32.
    """

    name: ClassVar[str] = "categorical"
    injective: ClassVar[bool] = True

    def _length(self, space: SearchSpace) -> int:
        lengths = {"nb201": 6, "nb101": 26, "darts": 32}
        if space.name not in lengths:
            raise unknown_space(self.name, space)
        return lengths[space.name]

    def _encode(self, archs: list[Any], space: SearchSpace) -> np.ndarray:
        if space.name == "nb201":
            return _nb201_op_indices(archs)
        if space.name == "nb101":
            adj, ops = nb101_padded(space.representatives(archs))
            return np.hstack([adj[:, _TRIU7[0], _TRIU7[1]], ops])
        if space.name == "darts":
            ops, inputs = _darts_arrays(archs)
            return np.stack([ops, inputs], axis=-1).reshape(len(archs), 32)
        raise unknown_space(self.name, space)

    def _feature_names(self, space: SearchSpace) -> list[str]:
        if space.name == "nb201":
            return [f"edge{a}->{b}" for a, b in nb201_mod.EDGES]
        if space.name == "nb101":
            return [f"edge{i}->{j}" for i, j in zip(*_TRIU7, strict=True)] + [f"vertex{v}" for v in range(1, 6)]
        if space.name == "darts":
            return [f"{c}/edge{e}:{part}" for c in darts_mod.CELL_TYPES for e in range(8) for part in ("op", "input")]
        raise unknown_space(self.name, space)
