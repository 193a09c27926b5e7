"""Search spaces: ``get("nb201" | "nb101" | "darts")`` returns the space object.

Every space parses and prints its architectures (``space.parse(str(arch)) == arch``), samples,
mutates, lists neighbours, gives an isomorphism-aware ``canonical`` key and converts to the
shared :class:`CellGraph`.
"""

from __future__ import annotations

from functools import cache

from archrank.errors import UnknownChoiceError
from archrank.spaces.base import SearchSpace, as_rng
from archrank.spaces.cellgraph import CellGraph, wl_hash
from archrank.spaces.darts import DartsArch, DartsSpace
from archrank.spaces.nb101 import NB101Arch, NB101Space, make_nb101
from archrank.spaces.nb201 import NB201Arch, NB201Space

_SPACES: dict[str, type[SearchSpace]] = {"nb201": NB201Space, "nb101": NB101Space, "darts": DartsSpace}
_ALIASES = {
    "nasbench201": "nb201",
    "nas-bench-201": "nb201",
    "nasbench101": "nb101",
    "nas-bench-101": "nb101",
    "nb301": "darts",
    "nasbench301": "darts",
    "nas-bench-301": "darts",
}


def names() -> list[str]:
    """Names of the built-in search spaces."""
    return list(_SPACES)


@cache
def get(name: str) -> SearchSpace:
    """The search space called ``name`` (one shared instance per name; spaces hold no user state)."""
    key = _ALIASES.get(name.lower(), name.lower()) if isinstance(name, str) else name
    if key not in _SPACES:
        raise UnknownChoiceError("search space", name, names())
    return _SPACES[key]()


__all__ = [
    "CellGraph",
    "DartsArch",
    "DartsSpace",
    "NB101Arch",
    "NB101Space",
    "NB201Arch",
    "NB201Space",
    "SearchSpace",
    "as_rng",
    "get",
    "make_nb101",
    "names",
    "wl_hash",
]
