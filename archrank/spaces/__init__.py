"""Search spaces: ``get("nb201" | "nb101" | "darts")`` returns the space object.

Every space parses and prints its architectures (``space.parse(str(arch)) == arch``), samples,
mutates, lists neighbours, gives an isomorphism-aware ``canonical`` key and converts to the
shared :class:`CellGraph`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from archrank._names import space_key
from archrank.errors import UnknownChoiceError
from archrank.spaces.base import SearchSpace, as_rng
from archrank.spaces.cellgraph import CellGraph, wl_hash
from archrank.spaces.darts import DartsArch, DartsSpace
from archrank.spaces.nb101 import NB101Arch, NB101Space, make_nb101
from archrank.spaces.nb201 import NB201Arch, NB201Space

_SPACES: dict[str, type[SearchSpace]] = {"nb201": NB201Space, "nb101": NB101Space, "darts": DartsSpace}


def names() -> list[str]:
    """Names of the built-in search spaces."""
    return list(_SPACES)


@cache
def get(name: str) -> SearchSpace:
    """The search space called ``name`` (one shared instance per name; spaces hold no user state)."""
    key = space_key(name) if isinstance(name, str) else name
    if key not in _SPACES:
        raise UnknownChoiceError("search space", name, names())
    return _SPACES[key]()


SpaceLike = str | SearchSpace | None


def resolve_space(space: SpaceLike, archs: Sequence[Any] = ()) -> SearchSpace:
    """The search space named by ``space``, or the one the architecture objects in ``archs`` belong to."""
    if isinstance(space, SearchSpace):
        return space
    if space is not None:
        return get(space)
    for arch in archs:
        name = getattr(arch, "space_name", None)
        if name is not None:
            return get(name)
        break
    raise ValueError(
        "cannot tell the search space of these architectures: pass space='nb201', 'nb101' or 'darts' "
        "(strings and plain arrays carry no space)"
    )


def as_archs(X: Any, space: SpaceLike) -> tuple[list[Any], SearchSpace]:
    """Architecture objects of one space from architectures or their strings; the space they belong to."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(f"expected a sequence of architectures, got {type(X).__name__}")
    items = list(X)
    if not items:
        raise ValueError("no architectures given (empty input)")
    sp = resolve_space(space, items)
    return [sp.ensure(a) for a in items], sp


__all__ = [
    "CellGraph",
    "DartsArch",
    "DartsSpace",
    "NB101Arch",
    "NB101Space",
    "NB201Arch",
    "NB201Space",
    "SearchSpace",
    "SpaceLike",
    "as_archs",
    "as_rng",
    "get",
    "make_nb101",
    "names",
    "resolve_space",
    "wl_hash",
]
