"""Strategy names -> classes, and construction with a seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from archrank.errors import UnknownChoiceError
from archrank.search.guided import BANANAS, NPENAS, BayesOpt
from archrank.search.strategies import LocalSearch, RandomSearch, RegularizedEvolution, Strategy
from archrank.spaces.base import SearchSpace

STRATEGIES: dict[str, type[Strategy]] = {
    s.name: s for s in (RandomSearch, RegularizedEvolution, LocalSearch, NPENAS, BANANAS, BayesOpt)
}


def names() -> list[str]:
    """Names accepted by :func:`archrank.search.run`."""
    return list(STRATEGIES)


def make_strategy(name: str, space: SearchSpace, seed: int, allowed: Callable[[Any], bool], **hp: Any) -> Strategy:
    """Strategy ``name`` with its own generator seeded by ``seed``; ``hp`` are its hyperparameters."""
    if name not in STRATEGIES:
        raise UnknownChoiceError("search strategy", name, names())
    try:
        return STRATEGIES[name](space, np.random.default_rng(seed), allowed, **hp)
    except TypeError as err:
        raise UnknownChoiceError(f"hyperparameter of the {name!r} strategy", str(err), []) from err
