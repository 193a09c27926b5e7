"""The predictor registry: each predictor class registers its name where it is defined.

``@register_predictor("xgb")`` on an :class:`~archrank.predictors.base.ArchPredictor` subclass
adds it. The built-in predictors' modules are listed in ``_BUILTIN_MODULES`` and imported on
first use, so ``import archrank.predictors`` does not pay for torch, gpytorch or torch-geometric
until a predictor that needs them is made.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from archrank.errors import UnknownChoiceError

#: built-in predictor name -> the module that defines it (this order is the order of names())
_BUILTIN_MODULES: dict[str, str] = {
    "gp": "archrank.predictors.gp",
    "xgb": "archrank.predictors.trees",
    "rf": "archrank.predictors.trees",
    "mlp_ensemble": "archrank.predictors.neural",
    "gnn": "archrank.predictors.gnn",
    "ensemble": "archrank.predictors.ensemble",
    "tuned": "archrank.predictors.tuning",
    "proxy_features": "archrank.predictors.proxy_features",
    "latency_lut": "archrank.predictors.latency",
    "latency_transfer": "archrank.predictors.latency",
}
#: predictors that wrap others
WRAPPERS = ("ensemble", "tuned", "proxy_features")

_REGISTRY: dict[str, type] = {}


def register_predictor(name: str) -> Callable[[type], type]:
    """Class decorator: make the predictor class available to ``make(name)`` (a name can be taken once)."""

    def add(cls: type) -> type:
        current = _REGISTRY.get(name)
        if current is not None and current is not cls:
            raise ValueError(f"a predictor called {name!r} is already registered ({current.__name__})")
        _REGISTRY[name] = cls
        return cls

    return add


def predictor_names(wrappers: bool = True) -> list[str]:
    """Names accepted by ``make``; ``wrappers=False`` leaves out those that wrap others (:data:`WRAPPERS`)."""
    every = [*_BUILTIN_MODULES, *(n for n in _REGISTRY if n not in _BUILTIN_MODULES)]
    return [n for n in every if wrappers or n not in WRAPPERS]


def predictor_class(name: str) -> Any:
    """The predictor class called ``name`` (importing its module on first use)."""
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    if name not in _REGISTRY:
        raise UnknownChoiceError("predictor", name, predictor_names())
    return _REGISTRY[name]


def registered_name(cls: type) -> str:
    """The name ``cls`` is registered under (its lower-cased class name if it is not registered)."""
    return next((name for name, c in _REGISTRY.items() if c is cls), cls.__name__.lower())
