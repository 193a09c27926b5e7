"""``Optimizer``: any archrank strategy behind a public ask/tell interface, for host tools and loops.

>>> opt = ar.search.Optimizer("npenas", "nb201", seed=0)
>>> archs = opt.ask(4)                       # four new architectures
>>> opt.tell(archs, [91.2, None, 90.4, 88.0])  # None (or NaN): that evaluation failed

An optimizer can be told architectures it never proposed (evaluated by another worker or
another tool): they count as evaluated and are never proposed again. Architectures being
evaluated elsewhere can be :meth:`Optimizer.reserve`-d. :meth:`Optimizer.state_dict` /
:meth:`Optimizer.load_state_dict` (or ``pickle``) stop and resume it exactly: the resumed
optimizer proposes what the original would have.
"""

from __future__ import annotations

import copy
import math
import numbers
import pickle
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from archrank.errors import ArchrankError
from archrank.search.oracles import Evaluation
from archrank.search.registry import make_strategy
from archrank.search.result import SearchResult
from archrank.spaces import SpaceLike, resolve_space

STATE_FORMAT = "archrank.search.Optimizer/1"
#: strategy attributes that the optimizer owns and re-attaches on load (not part of a state)
_ATTACHED = ("space", "allowed", "choices")


class OptimizerStateError(ArchrankError, ValueError):
    """A saved optimizer state that does not fit this optimizer (another strategy, space, seed, ...)."""


def _described(hyperparameters: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((k, repr(v)) for k, v in hyperparameters.items())


def _always(arch: Any) -> bool:
    return True


def as_evaluation(arch: Any, score: Any, position: int, info: dict[str, float] | None = None) -> Evaluation:
    """``score`` as an :class:`Evaluation` of ``arch``: a finite real number succeeds; None or NaN is a
    failed evaluation; an Evaluation is taken as it is; anything else (a string, a bool, inf) is an error."""
    if isinstance(score, Evaluation):
        return score
    if score is None or (isinstance(score, numbers.Real) and not isinstance(score, bool) and math.isnan(score)):
        return Evaluation(str(arch), math.nan, 0.0, "failed (told as None/NaN)", dict(info or {}))
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        raise TypeError(
            f"score {position} is {type(score).__name__} {score!r}: tell() takes real numbers, None or NaN (failed)"
        )
    if not math.isfinite(float(score)):
        raise ValueError(f"score {position} is {score}: pass None or NaN for a failed evaluation")
    return Evaluation(str(arch), float(score), 0.0, None, dict(info or {}))


class Optimizer:
    """Strategy ``strategy`` (a name of :func:`archrank.search.names`) over ``space`` with ask/tell.

    ``allowed(arch) -> bool``: only such architectures are proposed (default: all of the space);
    ``choices``: every allowed architecture when that is a finite table (see
    :func:`archrank.search.make_strategy`). ``hyperparameters`` are the strategy's own (unknown
    names are errors). Scores are maximised.
    """

    def __init__(
        self,
        strategy: str,
        space: SpaceLike,
        seed: int = 0,
        allowed: Callable[[Any], bool] | None = None,
        choices: Sequence[Any] | None = None,
        **hyperparameters: Any,
    ) -> None:
        self.space = resolve_space(space)
        self.strategy_name, self.seed = strategy, int(seed)
        self.hyperparameters = dict(hyperparameters)
        self._allowed, self._choices = allowed, choices
        self.strategy = make_strategy(
            strategy, self.space, self.seed, allowed or _always, choices=choices, **self.hyperparameters
        )
        self._pending: dict[Hashable, Any] = {}  # asked, not told yet
        self._reserved: set[Hashable] = set()
        self._told: dict[Hashable, int] = {}  # key -> position in rows
        self._rows: list[tuple[int, Evaluation]] = []
        self._asks = 0

    # --- ask / tell ---------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Any]:
        """``n`` new architectures to evaluate (fewer only when the allowed space runs out;
        :class:`archrank.search.SearchExhausted` when nothing new is left)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"ask(n) needs a whole number n >= 1, got {n!r}")
        archs = self.strategy.ask(int(n))
        for arch in archs:
            self._pending[self.space.canonical(arch)] = arch
        self._asks += 1
        return archs

    def tell(
        self,
        archs: Sequence[Any],
        scores: Sequence[Any],
        metrics: Sequence[dict[str, float] | None] | None = None,
    ) -> None:
        """Record the scores of ``archs`` (architectures or their strings): a real number (higher is
        better), None or NaN for a failed evaluation (recorded, not learned from), or an
        :class:`Evaluation`. ``metrics``: other numbers per architecture to keep with it (reported by
        :meth:`result`). Architectures the optimizer did not propose are learned from too."""
        if not self._is_sequence(archs) or not self._is_sequence(scores):
            raise TypeError("tell(archs, scores) takes sequences: wrap a single architecture and score in lists")
        archs, scores = list(archs), list(scores)
        if len(archs) != len(scores):
            raise ValueError(f"tell() got {len(archs)} architectures but {len(scores)} scores")
        if metrics is not None and len(metrics) != len(archs):
            raise ValueError(f"tell() got {len(archs)} architectures but {len(metrics)} metrics")
        parsed = [self.space.ensure(a) for a in archs]
        evaluations = [
            as_evaluation(a, s, i, None if metrics is None else metrics[i])
            for i, (a, s) in enumerate(zip(parsed, scores, strict=True))
        ]
        keys = [self.space.canonical(a) for a in parsed]
        for i, key in enumerate(keys):
            if key in self._told or key in keys[:i]:
                raise ValueError(f"architecture {parsed[i]} was told already; each architecture is told once")
        for arch, key in zip(parsed, keys, strict=True):
            if self._pending.pop(key, None) is None:
                self._reserved.discard(key)
                self.strategy.observe(arch)
        iteration = max(self._asks - 1, 0)
        for key, ev in zip(keys, evaluations, strict=True):
            self._told[key] = len(self._rows)
            self._rows.append((iteration, ev))
        self.strategy.tell(parsed, evaluations)

    def _is_sequence(self, value: Any) -> bool:
        arch_type = self.space.arch_type if self.space.arch_type is not object else str
        one = isinstance(value, (str, bytes, arch_type, numbers.Real)) or value is None
        return not one and hasattr(value, "__len__") and hasattr(value, "__iter__")

    def reserve(self, archs: Sequence[Any]) -> None:
        """Architectures being evaluated elsewhere: never proposed; tell their scores when known."""
        for arch in archs:
            arch = self.space.ensure(arch)
            key = self.space.canonical(arch)
            if key not in self._told and key not in self._pending and key not in self._reserved:
                self._reserved.add(key)
                self.strategy.seen.add(key)

    # --- what it knows ------------------------------------------------------------------------
    @property
    def pending(self) -> list[Any]:
        """Architectures asked for and not told yet."""
        return list(self._pending.values())

    def told(self, arch: Any) -> bool:
        """Whether ``arch`` (or an equivalent architecture) was told."""
        return self.space.canonical(self.space.ensure(arch)) in self._told

    def __len__(self) -> int:
        """How many evaluations were told."""
        return len(self._rows)

    def result(self) -> SearchResult:
        """Everything told so far, in order, with ``.frame()``, ``.best()`` and ``.curve()``."""
        return SearchResult(self.space, tuple(self._rows), self.config())

    def best(self) -> Any:
        """The best told evaluation (see :meth:`SearchResult.best`)."""
        return self.result().best()

    def config(self) -> dict[str, Any]:
        return {"strategy": self.strategy_name, "space": self.space.name, "seed": self.seed, **self.hyperparameters}

    # --- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume (strategy, space and seed named; the strategy's state pickled)."""
        inner = {k: v for k, v in vars(self.strategy).items() if k not in _ATTACHED}
        return {
            "format": STATE_FORMAT,
            "strategy": self.strategy_name,
            "space": self.space.name,
            "seed": self.seed,
            "hyperparameters": _described(self.hyperparameters),
            "strategy_state": pickle.dumps(inner),
            "pending": list(self._pending.items()),
            "reserved": sorted(self._reserved, key=repr),
            "rows": list(self._rows),
            "asks": self._asks,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (from :meth:`state_dict` of an optimizer with the same strategy,
        space, seed and hyperparameters); :class:`OptimizerStateError` names what differs."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise OptimizerStateError(f"not an archrank optimizer state (expected format {STATE_FORMAT!r})")
        for what, mine in (
            ("strategy", self.strategy_name),
            ("space", self.space.name),
            ("seed", self.seed),
            ("hyperparameters", _described(self.hyperparameters)),
        ):
            if state[what] != mine:
                raise OptimizerStateError(
                    f"this state is of an optimizer with {what} {state[what]!r}, not {mine!r}; "
                    f"build Optimizer with {what}={state[what]!r} to load it"
                )
        inner = pickle.loads(state["strategy_state"])
        missing = set(vars(self.strategy)) - set(_ATTACHED) - set(inner)
        if missing:
            raise OptimizerStateError(f"the state lacks strategy fields {sorted(missing)} (saved by another version?)")
        vars(self.strategy).update(inner)
        self._pending = dict(state["pending"])
        self._reserved = set(state["reserved"])
        self._rows = list(state["rows"])
        self._told = {self.space.canonical(self.space.parse(ev.arch)): i for i, (_, ev) in enumerate(self._rows)}
        self._asks = int(state["asks"])

    def __getstate__(self) -> dict[str, Any]:
        return {
            "init": (self.strategy_name, self.space, self.seed, self._allowed, self._choices, self.hyperparameters),
            "state": self.state_dict(),
        }

    def __setstate__(self, saved: dict[str, Any]) -> None:
        name, space, seed, allowed, choices, hp = saved["init"]
        self.__init__(name, space, seed, allowed, choices, **hp)  # type: ignore[misc]
        self.load_state_dict(saved["state"])

    def __deepcopy__(self, memo: dict[int, Any]) -> Optimizer:
        return pickle.loads(pickle.dumps(self))

    def __copy__(self) -> Optimizer:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return (
            f"Optimizer({self.strategy_name!r}, {self.space.name!r}, seed={self.seed}: {len(self._rows)} told, "
            f"{len(self._pending)} pending)"
        )
