"""Search spaces: ``get("nb201" | "nb101" | "darts" | a registered name | "module:attribute")``.

Every space parses and prints its architectures (``space.parse(str(arch)) == arch``), samples,
mutates, lists neighbours, gives an isomorphism-aware ``canonical`` key, converts to the shared
:class:`CellGraph` and describes its decisions. ``register(space)`` makes a user's space
available by name everywhere a name is accepted (predictors saved with it load again once it is
registered).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from archrank._names import space_key
from archrank.errors import UnknownChoiceError
from archrank.spaces.base import SearchSpace, as_rng
from archrank.spaces.cellgraph import CellGraph, wl_hash
from archrank.spaces.darts import DartsArch, DartsSpace
from archrank.spaces.declarative import Cell, Choices, DecisionArch
from archrank.spaces.description import Decision, GraphSpec
from archrank.spaces.nb101 import NB101Arch, NB101Space, make_nb101
from archrank.spaces.nb201 import NB201Arch, NB201Space

_BUILTIN: dict[str, type[SearchSpace]] = {"nb201": NB201Space, "nb101": NB101Space, "darts": DartsSpace}
#: name -> space: the built-in spaces (made on first use) and the ones users register
_REGISTRY: dict[str, SearchSpace] = {}


def names() -> list[str]:
    """Names of the built-in and the registered search spaces."""
    return [*_BUILTIN, *(n for n in _REGISTRY if n not in _BUILTIN)]


def register(space: SearchSpace, replace: bool = False) -> SearchSpace:
    """Make ``space`` available by its name to ``get`` and everything that takes ``space=``; returns it.

    Registering another space under a name already taken is an error unless ``replace=True``
    (the built-in names cannot be replaced).
    """
    if not isinstance(space, SearchSpace):
        raise TypeError(f"register takes a SearchSpace (e.g. archrank.spaces.Choices), got {type(space).__name__}")
    if not isinstance(space.name, str) or not space.name or ":" in space.name:
        raise ValueError(f"a space needs a non-empty name without ':' to be registered, got {space.name!r}")
    key = space_key(space.name)
    if key in _BUILTIN:
        raise ValueError(f"{space.name!r} is a built-in search space name; give your space another name")
    current = _REGISTRY.get(key)
    if current is not None and current is not space and not replace:
        raise ValueError(f"a different search space is already registered as {space.name!r} (pass replace=True)")
    _REGISTRY[key] = space
    return space


def _from_module(spec: str) -> SearchSpace:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UnknownChoiceError(
            f"search space (module {module_name!r} cannot be imported: {err})", spec, names()
        ) from None
    try:
        space = getattr(module, attribute)
    except AttributeError:
        raise UnknownChoiceError(f"search space (module {module_name!r} has no {attribute!r})", spec, names()) from None
    if not isinstance(space, SearchSpace):
        raise TypeError(f"{spec} is a {type(space).__name__}, not a search space")
    space.__dict__.setdefault("_archrank_origin", spec)  # pickles carry it to processes that never imported it
    current = _REGISTRY.get(space_key(space.name))
    return space if current is space else register(space)


def get(name: str | SearchSpace) -> SearchSpace:
    """The search space called ``name`` (case-insensitive, aliases such as ``"NAS-Bench-201"``).

    A space object is returned as is; ``"module:attribute"`` imports a user's space and registers it.
    """
    if isinstance(name, SearchSpace):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a search space is a name or a SearchSpace, got {type(name).__name__}")
    if ":" in name:
        return _from_module(name)
    key = space_key(name)
    if key not in _REGISTRY:
        if key not in _BUILTIN:
            raise UnknownChoiceError("search space", name, names())
        _REGISTRY[key] = _BUILTIN[key]()
    return _REGISTRY[key]


SpaceLike = str | SearchSpace | None


def resolve_space(space: SpaceLike, archs: Sequence[Any] = ()) -> SearchSpace:
    """The search space named by ``space``, or the one the architecture objects in ``archs`` belong to."""
    if space is not None:
        return get(space)
    for arch in archs:
        own = getattr(arch, "space", None)
        if isinstance(own, SearchSpace):
            return own
        name = getattr(arch, "space_name", None)
        if name is not None:
            return get(name)
        break
    raise ValueError(
        f"cannot tell the search space of these architectures: pass space= (one of {', '.join(names())}, or a space) "
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
    "Cell",
    "CellGraph",
    "Choices",
    "DartsArch",
    "DartsSpace",
    "Decision",
    "DecisionArch",
    "GraphSpec",
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
    "register",
    "resolve_space",
    "wl_hash",
]
