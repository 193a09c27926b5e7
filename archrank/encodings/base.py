"""The transformer base class shared by every encoding (architecture-list helpers live in archrank.spaces)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from archrank.errors import UnknownChoiceError
from archrank.spaces import SpaceLike, as_archs, resolve_space
from archrank.spaces.base import SearchSpace


class ArchEncoder(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer from architectures to a feature matrix (n, length) of float64.

    Stateless for the fixed encodings: ``transform`` works without ``fit`` (``fit`` only records
    the space and the output width). ``space`` may be omitted when architecture objects (not
    strings) are passed.
    """

    name: ClassVar[str] = ""
    #: True where distinct canonical cells always get distinct rows.
    injective: ClassVar[bool] = False

    def __init__(self, space: SpaceLike = None) -> None:
        self.space = space

    def n_features(self, space: SpaceLike = None) -> int:
        """Number of features this encoding produces for ``space`` (default: the encoder's own)."""
        return self._length(resolve_space(space if space is not None else self.space))

    def _length(self, space: SearchSpace) -> int:
        raise NotImplementedError

    def fit(self, X: Sequence[Any], y: Any = None) -> ArchEncoder:
        _archs, sp = as_archs(X, self.space)
        self.space_ = sp
        self.n_features_out_ = self._length(sp)
        return self

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        """Encode ``X`` (n architectures or strings) as an (n, length) float64 matrix."""
        archs, sp = as_archs(X, getattr(self, "space_", None) or self.space)
        out = self._encode(archs, sp)
        return np.asarray(out, dtype=np.float64)

    def _encode(self, archs: list[Any], space: SearchSpace) -> Any:
        raise NotImplementedError

    def feature_names(self, space: SpaceLike = None) -> list[str]:
        """A readable name for each output column."""
        return self._feature_names(resolve_space(space if space is not None else self.space))

    def _feature_names(self, space: SearchSpace) -> list[str]:
        return [f"{self.name}{i}" for i in range(self._length(space))]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names(getattr(self, "space_", None) or self.space), dtype=object)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        return tags


def applicable_encodings(space: SearchSpace) -> list[str]:
    """The fixed encodings that ``space``'s self-description supports."""
    out = []
    if space.has_decisions():
        out += ["adjacency_onehot", "categorical"]
    spec = space.graph_spec
    if spec is not None:
        if spec.path_lengths is not None:
            out += ["path", "path_truncated"]
        out.append("graph")
    return out


def not_applicable(encoding: str, space: SearchSpace, why: str) -> UnknownChoiceError:
    """The error for an encoding that does not apply to ``space``, naming those that do."""
    return UnknownChoiceError(
        f"encoding for the {space.name} space ({encoding!r} does not apply: {why})",
        encoding,
        applicable_encodings(space),
    )


def cached(space: SearchSpace, key: str, make: Callable[[], Any]) -> Any:
    """A value computed once per space object and kept on it (spaces are immutable, so it never goes stale)."""
    store = space.__dict__.setdefault("_archrank_cache", {})
    if key not in store:
        store[key] = make()
    return store[key]
