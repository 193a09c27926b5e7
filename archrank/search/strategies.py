"""Search strategies with an ask/tell interface, deterministic under a seed.

A strategy proposes architectures (``ask(n)``) and learns their evaluations (``tell``). Given
the same seed and the same evaluations in the same order it proposes the same architectures,
which is what lets :func:`archrank.search.run` resume a killed run by replaying its history.
Proposals are never repeated (architectures are compared by ``space.canonical``), and only
architectures the oracle ``allows`` are proposed (e.g. cells in a benchmark table; others are
drawn again).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

import numpy as np

from archrank.errors import ArchrankError
from archrank.search.oracles import Evaluation
from archrank.spaces.base import SearchSpace

MAX_DRAWS = 10_000


class SearchExhausted(ArchrankError, RuntimeError):
    """No new allowed architecture could be found (the space, or the allowed part, is used up)."""


class SearchWarning(UserWarning):
    """Something about a search that the user should know, which does not stop it."""


#: strategy name -> class, filled by :func:`register_strategy` where each strategy is defined
STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make strategy ``cls`` (by its ``name``) available to ``run``, ``Optimizer`` and the adapters."""
    if cls.name in STRATEGIES and STRATEGIES[cls.name] is not cls:
        raise ValueError(
            f"a search strategy named {cls.name!r} is registered already ({STRATEGIES[cls.name].__name__})"
        )
    STRATEGIES[cls.name] = cls
    return cls


class Strategy(ABC):
    """Base class: bookkeeping of what was proposed and what scored how."""

    name: ClassVar[str]

    def __init__(self, space: SearchSpace, rng: np.random.Generator, allowed: Callable[[Any], bool]) -> None:
        self.space, self.rng, self.allowed = space, rng, allowed
        self.seen: set[Hashable] = set()
        self.results: list[tuple[Any, float]] = []  # successful evaluations, in order
        # the allowed architectures, when they are a table that random draws from the space
        # rarely hit (set by make_strategy): random proposals are then drawn from it
        self.choices: Sequence[Any] | None = None

    # --- helpers --------------------------------------------------------------------------
    def draw(self) -> Any:
        """One random architecture: uniform over ``choices`` when set, else ``space.random_arch``."""
        if self.choices is not None:
            return self.choices[int(self.rng.integers(len(self.choices)))]
        return self.space.random_arch(self.rng)

    def _claim(self, arch: Any) -> bool:
        """Mark ``arch`` as proposed if it is new and allowed; whether it was."""
        key = self.space.canonical(arch)
        if key in self.seen or not self.allowed(arch):
            return False
        self.seen.add(key)
        return True

    def random_new(self) -> Any:
        for _ in range(MAX_DRAWS):
            arch = self.draw()
            if self._claim(arch):
                return arch
        if self.choices is not None:  # draws with replacement may miss the last few: take them in order
            for arch in self.choices:
                if self._claim(arch):
                    return arch
            raise SearchExhausted(f"every one of the {len(self.choices)} architectures the oracle allows was proposed")
        raise SearchExhausted(f"no new allowed architecture in {MAX_DRAWS} random draws")

    def mutate_new(self, parent: Any, tries: int = 50) -> Any:
        """A new allowed mutation of ``parent`` (a random new architecture if none is found)."""
        for _ in range(tries):
            child = self.space.mutate(parent, self.rng)
            if self._claim(child):
                return child
        return self.random_new()

    def ranked(self) -> list[tuple[Any, float]]:
        """Successful evaluations, best first (ties: earliest first)."""
        return sorted(self.results, key=lambda r: -r[1])

    # --- interface ------------------------------------------------------------------------
    def observe(self, arch: Any) -> None:
        """``arch`` was evaluated without being proposed here (told from outside, e.g. by a host tool's
        other workers): it is never proposed, and its evaluation follows through :meth:`tell`."""
        self.seen.add(self.space.canonical(arch))

    @abstractmethod
    def ask(self, n: int) -> list[Any]:
        """``n`` new architectures to evaluate next."""

    def tell(self, archs: Sequence[Any], evaluations: Sequence[Evaluation]) -> None:
        """The evaluations of the last proposals (failed ones carry NaN and are not learned from)."""
        for arch, ev in zip(archs, evaluations, strict=True):
            if ev.ok:
                self.results.append((arch, ev.score))


@register_strategy
class RandomSearch(Strategy):
    """Uniform random sampling without repetition."""

    name = "random"

    def ask(self, n: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(n):
            try:
                out.append(self.random_new())
            except SearchExhausted:
                if not out:
                    raise
                break  # the last new ones: evaluate them, the next ask says the space is used up
        return out


@register_strategy
class RegularizedEvolution(Strategy):
    """Regularised (ageing) evolution, Real et al., AAAI 2019.

    The first ``population_size`` proposals are random; afterwards each proposal mutates the
    best of ``sample_size`` members drawn from the population, and each evaluated child
    replaces the oldest member.
    """

    name = "evolution"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        allowed: Callable[[Any], bool],
        population_size: int = 20,
        sample_size: int = 5,
    ) -> None:
        super().__init__(space, rng, allowed)
        if not 1 <= sample_size <= population_size:
            raise ValueError(f"need 1 <= sample_size <= population_size, got {sample_size}, {population_size}")
        self.population_size, self.sample_size = population_size, sample_size
        self.population: deque[tuple[Any, float]] = deque()
        self.started = 0

    def ask(self, n: int) -> list[Any]:
        out = []
        for _ in range(n):
            if self.started < self.population_size or not self.population:
                out.append(self.random_new())
            else:
                members = list(self.population)
                picks = self.rng.choice(len(members), size=min(self.sample_size, len(members)), replace=False)
                parent = max((members[i] for i in sorted(picks)), key=lambda m: m[1])[0]
                out.append(self.mutate_new(parent))
            self.started += 1
        return out

    def observe(self, arch: Any) -> None:
        super().observe(arch)
        self.started += 1

    def tell(self, archs: Sequence[Any], evaluations: Sequence[Evaluation]) -> None:
        super().tell(archs, evaluations)
        for arch, ev in zip(archs, evaluations, strict=True):
            if ev.ok:
                self.population.append((arch, ev.score))
                if len(self.population) > self.population_size:
                    self.population.popleft()


@register_strategy
class LocalSearch(Strategy):
    """Hill climbing over ``space.neighbors`` (White et al., "Local search is state of the art for NAS", 2021).

    Starts from the best of ``initial`` random architectures, evaluates the neighbours of the
    current architecture in a random order and moves to the first one that scores higher; at a
    local optimum (every neighbour seen) it restarts from the best of new random architectures.
    """

    name = "local"

    def __init__(
        self, space: SearchSpace, rng: np.random.Generator, allowed: Callable[[Any], bool], initial: int = 10
    ) -> None:
        super().__init__(space, rng, allowed)
        if initial < 1:
            raise ValueError(f"initial must be >= 1, got {initial}")
        self.initial = initial
        self.current: tuple[Any, float] | None = None
        self.queue: list[Any] = []
        self.starts: list[Any] = []  # starting points proposed since the last (re)start
        self.start_scores: dict[Hashable, float] = {}

    def _start_from_best(self) -> bool:
        """Pick the current point once the starting points are evaluated; whether one was picked."""
        told = [a for a in self.starts if self.space.canonical(a) in self.start_scores]
        if len(self.starts) < self.initial or len(told) < len(self.starts):
            return False
        scored = [(a, self.start_scores[self.space.canonical(a)]) for a in told]
        scored = [(a, v) for a, v in scored if not np.isnan(v)]
        if not scored:  # every start failed: start again
            self.starts = []
            return False
        self.current = max(scored, key=lambda r: r[1])
        neighbours = self.space.neighbors(self.current[0])
        self.queue = [neighbours[i] for i in self.rng.permutation(len(neighbours))]
        self.starts = []
        return True

    def ask(self, n: int) -> list[Any]:
        out = []
        while len(out) < n:
            if self.current is None and not self._start_from_best():
                arch = self.random_new()
                self.starts.append(arch)
                out.append(arch)
                continue
            while self.queue and not self._claim(self.queue[0]):
                self.queue.pop(0)
            if self.queue:
                out.append(self.queue.pop(0))
            else:  # local optimum: restart
                self.current = None
        return out

    def tell(self, archs: Sequence[Any], evaluations: Sequence[Evaluation]) -> None:
        super().tell(archs, evaluations)
        for arch, ev in zip(archs, evaluations, strict=True):
            key = self.space.canonical(arch)
            if any(self.space.canonical(a) == key for a in self.starts):
                self.start_scores[key] = ev.score
            elif ev.ok and self.current is not None and ev.score > self.current[1]:
                self.current = (arch, ev.score)
                neighbours = self.space.neighbors(arch)
                self.queue = [neighbours[i] for i in self.rng.permutation(len(neighbours))]
