"""``gnn_embedding``: the pooled hidden layer of a trained GIN predictor, as features for other models.

It belongs to the predictors (it trains one) and registers itself as an encoding, so
``archrank.encodings.make_encoder("gnn_embedding")`` finds it without the encodings importing
the predictors.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from archrank.encodings.base import ArchEncoder, as_archs, register_encoding
from archrank.spaces.base import SearchSpace


@register_encoding
class GNNEmbedding(ArchEncoder):
    """Learned encoding: ``fit(archs, y)`` trains a GIN predictor, ``transform`` returns its embedding.

    ``predictor`` may be an already fitted :class:`~archrank.predictors.gnn.GNNPredictor` (used as
    is, ``y`` not needed) or an unfitted one to clone and train; by default a single-member GIN
    (hidden 32, MSE) is trained. Output: (n, hidden) float64. Unlike the fixed encodings it must be
    fitted, and it is as good as the data it was trained on.
    """

    name: ClassVar[str] = "gnn_embedding"
    learned: ClassVar[bool] = True
    requirement: ClassVar[str] = "a space with cell graphs (graph_spec), which the GIN reads"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        return space.graph_spec is not None  # the GIN reads the cell graphs

    def __init__(self, space: Any = None, predictor: Any = None, random_state: int | None = None) -> None:
        super().__init__(space)
        self.predictor = predictor
        self.random_state = random_state

    def _length(self, space: SearchSpace) -> int:
        pred = getattr(self, "predictor_", None) or self.predictor
        return int(getattr(pred, "hidden", 32))

    def fit(self, X: Any, y: Any = None) -> GNNEmbedding:
        from archrank.predictors.gnn import GNNPredictor  # torch and torch-geometric: only when it trains

        archs, sp = self._checked_space(X, self.space)
        if self.predictor is not None and hasattr(self.predictor, "members_"):
            self.predictor_ = self.predictor
        else:
            if y is None:
                raise ValueError("the gnn_embedding encoding trains a GNN: fit it with targets y (or pass predictor=)")
            base = self.predictor if self.predictor is not None else GNNPredictor(n_members=1)
            self.predictor_ = clone(base).set_params(space=sp)
            if self.random_state is not None:
                self.predictor_.set_params(random_state=self.random_state)
            self.predictor_.fit(archs, y)
        self.space_ = sp
        self.n_features_out_ = int(self.predictor_.hidden)
        return self

    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "predictor_"):
            raise ValueError("gnn_embedding must be fitted (with targets) before transform")
        archs, _ = as_archs(X, self.space_)
        return self.predictor_.embed(archs)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
