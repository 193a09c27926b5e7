"""The transformer base class shared by every encoding, and the encoding registry.

Each encoding registers its class where it is defined (``@register_encoding``); an encoding
defined outside this package (the learned ``gnn_embedding`` of :mod:`archrank.predictors`) is
named in ``_DEFINED_ELSEWHERE`` and imported on first use, so this package never imports it.
"""

from __future__ import annotations

import importlib
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

    A new encoding subclasses this with a class attribute ``name`` and two methods,
    ``_length(space) -> int`` (the number of columns) and ``_encode(archs, space) -> (n, length)
    array`` (``archs``: architecture objects of ``space``), optionally ``applies(space)`` (and
    ``requirement``, the words the error uses when it is False), and registers itself with
    ``@register_encoding``; every predictor that reads a matrix then takes it as ``encoding=``.
    """

    name: ClassVar[str] = ""
    #: True where distinct canonical cells always get distinct rows.
    injective: ClassVar[bool] = False
    #: True for an encoding that is trained on targets (``fit(archs, y)``), not fixed by the space
    learned: ClassVar[bool] = False
    #: what ``transform`` returns: "matrix" ((n, length) float64) or "graphs" (torch-geometric Data)
    output: ClassVar[str] = "matrix"
    #: what a space must give for :meth:`applies` to hold, in words (for the error when it does not)
    requirement: ClassVar[str] = "what the encoding's applies(space) test asks for"

    @classmethod
    def applies(cls, space: SearchSpace) -> bool:
        """Whether ``space``'s self-description gives what this encoding reads."""
        return True

    def __init__(self, space: SpaceLike = None) -> None:
        self.space = space

    def n_features(self, space: SpaceLike = None) -> int:
        """Number of features this encoding produces for ``space`` (default: the encoder's own)."""
        return self._length(resolve_space(space if space is not None else self.space))

    def _length(self, space: SearchSpace) -> int:
        raise NotImplementedError(f"the {type(self).__name__} encoding must define _length(space) -> int")

    def _checked_space(self, X: Sequence[Any], space: SpaceLike) -> tuple[list[Any], SearchSpace]:
        archs, sp = as_archs(X, space)
        if not type(self).applies(sp):
            raise not_applicable(self.name, sp, f"it needs {self.requirement}")
        return archs, sp

    def fit(self, X: Sequence[Any], y: Any = None) -> ArchEncoder:
        _archs, sp = self._checked_space(X, self.space)
        self.space_ = sp
        self.n_features_out_ = self._length(sp)
        return self

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        """Encode ``X`` (n architectures or strings) as an (n, length) float64 matrix."""
        archs, sp = self._checked_space(X, getattr(self, "space_", None) or self.space)
        out = self._encode(archs, sp)
        return np.asarray(out, dtype=np.float64)

    def _encode(self, archs: list[Any], space: SearchSpace) -> Any:
        raise NotImplementedError(f"the {type(self).__name__} encoding must define _encode(archs, space)")

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


_REGISTRY: dict[str, type[ArchEncoder]] = {}
#: encoding name -> the module that defines (and registers) it, for encodings outside this package
_DEFINED_ELSEWHERE: dict[str, str] = {"gnn_embedding": "archrank.predictors.gnn_embedding"}


def register_encoding(cls: type[ArchEncoder]) -> type[ArchEncoder]:
    """Class decorator: make the encoder class available by its ``name`` (a name can be taken once)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a class attribute 'name' to be registered")
    current = _REGISTRY.get(cls.name)
    if current is not None and current is not cls:
        raise ValueError(f"an encoding called {cls.name!r} is already registered ({current.__name__})")
    _REGISTRY[cls.name] = cls
    return cls


def encoding_names() -> list[str]:
    """Names of every encoding: the registered ones, then those defined elsewhere and not yet imported."""
    return [*_REGISTRY, *(n for n in _DEFINED_ELSEWHERE if n not in _REGISTRY)]


def encoder_class(name: str) -> type[ArchEncoder]:
    """The encoder class registered as ``name``; UnknownChoiceError lists the encodings."""
    if name not in _REGISTRY and name in _DEFINED_ELSEWHERE:
        importlib.import_module(_DEFINED_ELSEWHERE[name])
    if name not in _REGISTRY:
        raise UnknownChoiceError("encoding", name, encoding_names())
    return _REGISTRY[name]


def applicable_encodings(space: SearchSpace) -> list[str]:
    """The fixed (not learned) encodings that ``space``'s self-description supports, in registry order."""
    return [n for n, cls in _REGISTRY.items() if not cls.learned and cls.applies(space)]


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
