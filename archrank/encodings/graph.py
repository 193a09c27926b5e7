"""``graph``: each architecture as a torch-geometric ``Data`` object for GNN predictors.

Nodes carry a one-hot label in ``x`` (float32, shape (num_nodes, vocabulary)); ``edge_index``
(int64, shape (2, num_edges)) holds the DAG's directed edges, from input towards output.

* NB201: the 8-node graph with ops moved from edges onto nodes (input, 6 op nodes, output); the
  vocabulary is input, the 5 ops, output (7).
* NB101: the 7-or-fewer-vertex cell of the module hash's shipped representative (so
  isomorphic specs give identical objects); vocabulary input, 3 ops, output (5).
* DARTS: the normal and reduction cells as one 30-node graph (per cell 2 inputs, 8 op nodes,
  4 ``sum`` nodes, one per intermediate node, adding its two ops, and the output); the
  vocabulary keeps the cell type: normal/input0, normal/input1, the 7 ops, normal/sum,
  normal/output, then the same for reduce/ (22).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from archrank.encodings.base import ArchEncoder, not_applicable, register_encoding
from archrank.errors import InvalidArchitectureError
from archrank.spaces.base import SearchSpace

if TYPE_CHECKING:  # torch and torch_geometric are imported when graphs are built (seconds at import)
    from torch_geometric.data import Data


def vocabulary(space: SearchSpace) -> tuple[str, ...]:
    """Node labels of the space's cell graphs (``space.graph_spec.vocabulary()``), in one-hot column order."""
    spec = space.graph_spec
    if spec is None:
        raise not_applicable("graph", space, "it has no cell graph")
    return spec.vocabulary()


@register_encoding
class GraphEncoder(ArchEncoder):
    """Architectures to ``list[torch_geometric.data.Data]`` (``transform`` returns a list, not a matrix)."""

    name: ClassVar[str] = "graph"
    requirement: ClassVar[str] = "a space with cell graphs (graph_spec)"
    output: ClassVar[str] = "graphs"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.graph_spec is not None

    injective: ClassVar[bool] = True

    def _length(self, space: SearchSpace) -> int:
        """Width of the node features (the vocabulary size)."""
        return len(vocabulary(space))

    def transform(self, X: Any) -> list[Data]:  # type: ignore[override]
        archs, sp = self._checked_space(X, getattr(self, "space_", None) or self.space)
        return self._encode(archs, sp)

    def _encode(self, archs: list[Any], space: SearchSpace) -> list[Data]:
        import torch
        from torch_geometric.data import Data

        vocab = {lab: i for i, lab in enumerate(vocabulary(space))}
        eye = torch.eye(len(vocab))
        out = []
        for arch in space.representatives(archs):
            g = space.to_cell_graph(arch)
            src, dst = np.nonzero(g.adjacency)
            unknown = [op for op in g.ops if op not in vocab]
            if unknown:
                raise InvalidArchitectureError(
                    f"the cell graph of {arch} has vertex label {unknown[0]!r}, not in the {space.name} space's "
                    f"graph vocabulary {list(vocab)}"
                )
            x = eye[[vocab[op] for op in g.ops]]
            edge_index = torch.from_numpy(np.vstack([src, dst]).astype(np.int64))
            out.append(Data(x=x, edge_index=edge_index, num_nodes=g.num_nodes))
        return out

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return list(vocabulary(space))
