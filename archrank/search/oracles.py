"""Oracles: what a search asks to learn how good an architecture is, and what that costs.

``BenchmarkOracle`` looks the answer up in a benchmark table; ``TrainingOracle`` calls the
user's own ``fn(arch) -> score`` (their training). Both return an :class:`Evaluation` and never
raise for a failed evaluation: an exception, NaN or a non-number becomes a failed evaluation
with its error text, so a search records it and goes on. ``KeyboardInterrupt`` is not caught.
"""

from __future__ import annotations

import math
import numbers
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archrank.datasets.benchmark import Benchmark
from archrank.errors import UnknownArchitectureError, UnknownChoiceError
from archrank.spaces import SpaceLike, resolve_space
from archrank.spaces.base import SearchSpace


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating one architecture.

    ``score``: the objective (higher is better; NaN when failed). ``cost``: seconds of training
    spent (simulated for benchmark tables). ``info``: extra numbers to report, not to search on
    (e.g. the test accuracy of a benchmark cell).
    """

    arch: str
    score: float
    cost: float
    error: str | None = None
    info: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class Oracle(ABC):
    """Evaluates architectures of one search space."""

    space: SearchSpace

    @abstractmethod
    def evaluate(self, arch: Any) -> Evaluation:
        """Score one architecture; failures come back as an Evaluation with ``error`` set."""

    def __call__(self, arch: Any) -> Evaluation:
        return self.evaluate(arch)

    def contains(self, arch: Any) -> bool:
        """Whether this oracle can evaluate ``arch`` at all (benchmarks: whether it is in the table)."""
        return True

    def describe(self) -> dict[str, Any]:
        """What this oracle answers (JSON-able); part of a stored run's identity, so that a run is
        never resumed from evaluations of another metric, table or function."""
        return {"type": type(self).__name__}

    def choices(self) -> Sequence[Any] | None:
        """Every architecture this oracle can evaluate when that is a finite list (a benchmark
        table), else None. Lets a search draw from a table that covers little of its space."""
        return None


def checked_score(value: Any) -> tuple[float, str | None]:
    """``(score, None)`` for a finite real number, else ``(nan, reason)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan, f"the oracle returned {type(value).__name__} {value!r}, not a number"
    score = float(value)
    if not math.isfinite(score):
        return math.nan, f"the oracle returned {score}"
    return score, None


#: BenchmarkOracle's default ``report``: the test accuracy, where the table has one
DEFAULT_REPORT: tuple[str, ...] = ("test_accuracy",)


class BenchmarkOracle(Oracle):
    """Answers from a benchmark table: ``metric`` is the score, ``report`` metrics go to ``info``.

    ``report``: metric names (or one name); the default reports ``test_accuracy`` where the
    table has it; None or () reports nothing; a metric the table lacks is an error naming it.
    ``cost``: the table's ``cost_metric`` in seconds when there is one (NB101's
    ``training_time@108``), else ``cost_per_query`` seconds per evaluation; the bundled NB201
    and DARTS tables record no training time, so budgets there are counted in queries.
    """

    def __init__(
        self,
        bench: Benchmark,
        metric: str = "valid_accuracy",
        epochs: int | None = None,
        report: Sequence[str] | str | None = DEFAULT_REPORT,
        cost_metric: str | None = "training_time",
        cost_per_query: float = 1.0,
    ) -> None:
        if not isinstance(bench, Benchmark):
            raise TypeError(
                f"BenchmarkOracle takes a Benchmark (e.g. ar.datasets.load('nb201', 'cifar10')), not {bench!r}"
            )
        self.bench, self.space = bench, bench.space
        self.metric, self.epochs = metric, bench.info(metric, epochs).epochs
        self._scores = bench.values(metric, self.epochs)
        available = bench.metrics()
        if report is DEFAULT_REPORT:
            self.report = [m for m in report if m in available]
        else:
            self.report = [report] if isinstance(report, str) else list(report or ())
            for m in self.report:
                if m not in available:
                    raise UnknownChoiceError(f"metric to report of the {bench.name} table", m, available)
        self._reports = {m: bench.values(m) for m in self.report}
        self.cost_metric = cost_metric if cost_metric in available else None
        self._costs = bench.values(self.cost_metric) if self.cost_metric else None
        self.cost_per_query = float(cost_per_query)

    def contains(self, arch: Any) -> bool:
        return arch in self.bench

    def choices(self) -> Sequence[Any]:
        return self.bench.archs()

    def describe(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "benchmark": f"{self.bench.name}/{self.bench.dataset}",
            "metric": f"{self.metric}@{self.epochs}",
            "cost": self.cost_metric or f"{self.cost_per_query} per query",
        }

    def evaluate(self, arch: Any) -> Evaluation:
        try:
            row = self.bench.row(arch)
        except UnknownArchitectureError as err:
            return Evaluation(str(arch), math.nan, 0.0, f"not in the {self.bench.name} table: {err}")
        score, error = checked_score(float(self._scores[row]))
        cost = float(self._costs[row]) if self._costs is not None else self.cost_per_query
        info = {m: float(v[row]) for m, v in self._reports.items()}
        return Evaluation(str(self.space.ensure(arch)), score, cost, error, info)


class TrainingOracle(Oracle):
    """Calls ``fn(arch) -> score`` (the user's training; higher is better); cost = its wall-clock seconds.

    ``fn`` gets the architecture object. To run in worker processes it must be picklable (a
    module-level function). An exception, NaN, inf or a non-number is a failed evaluation.
    """

    def __init__(self, fn: Callable[[Any], Any], space: SpaceLike = None) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.space = resolve_space(space)

    def describe(self) -> dict[str, Any]:
        # the name only, not the module: the same function run as a script (``__main__``) or
        # imported must resume the same run
        return {"type": type(self).__name__, "fn": getattr(self.fn, "__qualname__", type(self.fn).__name__)}

    def evaluate(self, arch: Any) -> Evaluation:
        arch = self.space.ensure(arch)
        start = time.perf_counter()
        try:
            value = self.fn(arch)
        except Exception as err:  # the user's training failed: record it, the search goes on
            return Evaluation(str(arch), math.nan, time.perf_counter() - start, f"{type(err).__name__}: {err}")
        score, error = checked_score(value)
        return Evaluation(str(arch), score, time.perf_counter() - start, error)
