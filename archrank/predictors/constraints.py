"""Declarative hyperparameter constraints, in the style of scikit-learn's ``_parameter_constraints``.

A predictor class lists, for each hyperparameter, the kinds of value it accepts::

    parameter_constraints = {"max_depth": [Interval(int, 0, None)], "uncertainty": [Options("ensemble", "quantile")]}

:func:`validate_hyperparameters` checks an estimator against the lists of its class and its
bases (``make`` and ``fit`` call it), so ``make("xgb", max_depth=-3)`` fails at once with an
:class:`~archrank.errors.InvalidHyperparameterError` naming the parameter, the value and what it
accepts, not later with a raw error from deep inside XGBoost or torch.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from archrank.errors import InvalidHyperparameterError


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int`` or ``float``; a float interval takes ints too) between ``low`` and
    ``high`` (``None``: unbounded); ``closed`` says which ends are included: "both", "left", "right", "neither"."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if value != value:  # NaN passes every comparison below
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and not right)))

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        brackets = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}[self.closed]
        return f"{'an int' if self.kind is int else 'a number'} in {brackets[0]}{lo}, {hi}{brackets[1]}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (strings, usually)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (str, bool, type(None))) and value in self.values

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Kind:
    """Any instance of ``types`` (e.g. ``None`` via ``type(None)``, a DataFrame)."""

    types: tuple[type, ...]
    label: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (isinstance(value, bool) and bool not in self.types)

    def __str__(self) -> str:
        return self.label


NONE = Kind((type(None),), "None")
BOOL = Kind((bool,), "True or False")
SEED = [NONE, Interval(int, 0, None)]
THREADS = [NONE, Interval(int, 1, None)]
TARGET_TRANSFORM = [Options("rank_gauss", "none")]


def constraints_of(cls: type) -> dict[str, list[Any]]:
    """The merged ``parameter_constraints`` of ``cls`` and its bases (a subclass's entry wins)."""
    merged: dict[str, list[Any]] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("parameter_constraints", {}))
    return merged


def validate_hyperparameters(est: Any) -> None:
    """Raise InvalidHyperparameterError for the first hyperparameter of ``est`` its class does not accept."""
    params = est.get_params(deep=False)
    for name, allowed in constraints_of(type(est)).items():
        if name not in params:
            continue
        value = params[name]
        if hasattr(value, "item") and type(value).__module__ == "numpy":  # np.int64(3) -> 3
            value = value.item()
        if not any(c.accepts(value) for c in allowed):
            what = " or ".join(str(c) for c in allowed)
            raise InvalidHyperparameterError(
                f"hyperparameter {name!r} of {type(est).__name__} must be {what}, got {value!r}"
            )
