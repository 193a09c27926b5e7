"""Strategy names -> classes, and construction with a seed."""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from archrank.errors import UnknownChoiceError
from archrank.search.guided import GuidedSearch  # noqa: F401  (importing it registers the guided strategies)
from archrank.search.strategies import STRATEGIES, SearchWarning, Strategy
from archrank.spaces.base import SearchSpace


def names() -> list[str]:
    """Names accepted by :func:`archrank.search.run`."""
    return list(STRATEGIES)


#: a table of allowed architectures is "sparse" when fewer than this share of random draws from the space hit it
SPARSE_HIT_RATE = 0.01
PROBE_DRAWS = 1000


def _hit_rate(space: SearchSpace, seed: int, allowed: Callable[[Any], bool]) -> tuple[int, int]:
    """(hits, draws): how many of up to PROBE_DRAWS random architectures ``allowed`` accepts, from a
    generator of its own (the strategy's is left untouched); stops once the rate is clearly not sparse."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    enough = int(SPARSE_HIT_RATE * PROBE_DRAWS)
    hits = 0
    for draws in range(1, PROBE_DRAWS + 1):
        hits += bool(allowed(space.random_arch(rng)))
        if hits >= enough:
            return hits, draws
    return hits, PROBE_DRAWS


def hyperparameters(name: str) -> dict[str, Any]:
    """The hyperparameters of strategy ``name`` and their defaults (its own and its base classes')."""
    if name not in STRATEGIES:
        raise UnknownChoiceError("search strategy", name, names())
    found: dict[str, Any] = {}
    for klass in STRATEGIES[name].__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("self", "space", "rng", "allowed"):
                continue
            found.setdefault(p.name, p.default)
    return found


def _check_hyperparameters(name: str, hp: dict[str, Any]) -> None:
    """Unknown names and values of the wrong kind (a number where the default is a number) are errors."""
    defaults = hyperparameters(name)
    for key, value in hp.items():
        if key not in defaults:
            raise UnknownChoiceError(f"hyperparameter of the {name!r} strategy", key, list(defaults))
        default = defaults[key]
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if isinstance(default, numbers.Real) and not isinstance(default, bool) and not number:
            raise ValueError(f"hyperparameter {key!r} of the {name!r} strategy must be a number, got {value!r}")
        if isinstance(default, numbers.Integral) and not isinstance(default, bool) and number and value != int(value):
            raise ValueError(f"hyperparameter {key!r} of the {name!r} strategy must be a whole number, got {value!r}")


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int,
    allowed: Callable[[Any], bool],
    choices: Sequence[Any] | None = None,
    **hp: Any,
) -> Strategy:
    """Strategy ``name`` with its own generator seeded by ``seed``; ``hp`` are its hyperparameters.

    ``choices``: every architecture ``allowed`` accepts, when that is a finite table (see
    ``Oracle.choices``). If random draws from ``space`` hit it less than SPARSE_HIT_RATE of the
    time (e.g. the 725 DARTS cells of a space of about 1e18), the strategy draws its random
    proposals from ``choices`` instead, with a :class:`SearchWarning`.
    """
    if name not in STRATEGIES:
        raise UnknownChoiceError("search strategy", name, names())
    _check_hyperparameters(name, hp)
    strategy = STRATEGIES[name](space, np.random.default_rng(seed), allowed, **hp)
    if choices is not None and len(choices):
        hits, draws = _hit_rate(space, seed, allowed)
        if hits < SPARSE_HIT_RATE * draws:
            strategy.choices = list(choices)
            warnings.warn(
                f"random {space.name} architectures hit the oracle's {len(choices):,} allowed ones {hits} times in "
                f"{draws:,} draws: random proposals are drawn from those instead, and mutations, which rarely land "
                "among them, fall back to such draws",
                SearchWarning,
                stacklevel=2,
            )
    return strategy
