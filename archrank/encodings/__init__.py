"""Architecture encodings, as scikit-learn transformers and through :func:`encode`.

===================  =======  =======  ========  =================================================
name                 NB201    NB101    DARTS     what
===================  =======  =======  ========  =================================================
adjacency_onehot     30       36       140       adjacency bits + one-hot ops (injective)
path                 155      364      11,204    BANANAS paths, input to output (not injective)
path_truncated       30       40       100       the most frequent paths (length configurable)
categorical          6        26       32        one integer per decision (injective)
graph                7        5        22        torch-geometric Data; number = node-feature width
gnn_embedding        32       32       32        pooled hidden layer of a trained GIN predictor
===================  =======  =======  ========  =================================================

``encode(archs, name)`` infers the space from architecture objects; pass ``space=`` (a name or a
space object) for strings. Every encoding is computed from what the space describes: its
decisions (``adjacency_onehot``, ``categorical``) and its cell graphs (``graph``, ``path``,
``path_truncated``); one that does not apply is an error naming those that do
(:func:`applicable_encodings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archrank.encodings.base import (
    ArchEncoder,
    applicable_encodings,
    as_archs,
    encoder_class,
    register_encoding,
    resolve_space,
)
from archrank.encodings.base import encoding_names as names

# importing the encoders registers them; this order is the order of names() and applicable_encodings()
# isort: split
from archrank.encodings.tabular import AdjacencyOneHot, Categorical

# isort: split
from archrank.encodings.paths import PathEncoder, PathTruncated

# isort: split
from archrank.encodings.graph import GraphEncoder, vocabulary


def make_encoder(name: str, space: Any = None, **params: Any) -> ArchEncoder:
    """A new, unfitted encoder called ``name`` (see :func:`names`) for ``space``."""
    return encoder_class(name)(space=space, **params)


def encode(archs: Sequence[Any], name: str, space: Any = None, y: Any = None, **params: Any) -> Any:
    """Encode ``archs`` with the encoding ``name``.

    Returns an (n, d) float64 array, or a ``list[torch_geometric.data.Data]`` for ``"graph"``.
    ``"gnn_embedding"`` needs targets ``y`` to train its GNN (or ``predictor=`` a fitted one).
    """
    return make_encoder(name, space=space, **params).fit(archs, y).transform(archs)


__all__ = [
    "AdjacencyOneHot",
    "ArchEncoder",
    "Categorical",
    "GraphEncoder",
    "PathEncoder",
    "PathTruncated",
    "applicable_encodings",
    "as_archs",
    "encode",
    "encoder_class",
    "make_encoder",
    "names",
    "register_encoding",
    "resolve_space",
    "vocabulary",
]
