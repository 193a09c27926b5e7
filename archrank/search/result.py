"""What a search returns: every evaluation in order, the best one and the best-so-far curve.

:func:`evaluations_frame` is the one place a table of evaluations is built, shared by
:class:`SearchResult` and :meth:`archrank.search.SearchHistory.frame`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from archrank.search.oracles import Evaluation
from archrank.spaces.base import SearchSpace

COLUMNS = ("iteration", "arch", "score", "cost", "error")


def evaluations_frame(rows: Sequence[tuple[int, Evaluation]]) -> pd.DataFrame:
    """One row per ``(iteration, evaluation)``: iteration, arch, score, cost, error, the reported
    metrics (``Evaluation.info``) and ``best_so_far`` (NaN until the first successful evaluation)."""
    records = [
        {"iteration": it, "arch": e.arch, "score": e.score, "cost": e.cost, "error": e.error, **e.info}
        for it, e in rows
    ]
    table = pd.DataFrame(records, columns=None if records else list(COLUMNS))
    best = table["score"].astype(float).fillna(-math.inf).cummax()
    table["best_so_far"] = best.where(best > -math.inf)
    return table


@dataclass(frozen=True)
class Best:
    """The best successful evaluation: ``arch`` (an architecture of the space), its ``score``, the
    reported ``metrics`` (e.g. ``{"test_accuracy": 94.37}``), when it was found (``index``: 0-based
    evaluation number, ``iteration``) and what it cost (seconds)."""

    arch: Any
    score: float
    metrics: dict[str, float]
    index: int
    iteration: int
    cost: float


@dataclass(frozen=True)
class SearchResult:
    """The evaluations of one search, in the order they were made (see :func:`archrank.search.run`)."""

    space: SearchSpace
    rows: tuple[tuple[int, Evaluation], ...]
    config: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self) -> pd.DataFrame:
        """One row per evaluation (see :func:`evaluations_frame`)."""
        return evaluations_frame(self.rows)

    def best(self) -> Best:
        """The highest-scoring successful evaluation (the earliest on ties); ValueError if none succeeded."""
        found: tuple[int, int, Evaluation] | None = None
        for index, (it, ev) in enumerate(self.rows):
            if ev.ok and (found is None or ev.score > found[2].score):
                found = (index, it, ev)
        if found is None:
            raise ValueError(f"none of the {len(self.rows)} evaluations of this search succeeded")
        index, it, ev = found
        return Best(self.space.parse(ev.arch), ev.score, dict(ev.info), index, it, ev.cost)

    def curve(self) -> np.ndarray:
        """(evaluations,) the best score after each evaluation (NaN before the first success)."""
        scores = np.array([ev.score if ev.ok else -np.inf for _, ev in self.rows], dtype=float)
        best = np.maximum.accumulate(scores) if len(scores) else scores
        return np.where(np.isneginf(best), np.nan, best)

    def __repr__(self) -> str:
        ok = sum(ev.ok for _, ev in self.rows)
        head = f"SearchResult({self.config.get('strategy', '?')} on {self.space.name}: {len(self.rows)} evaluations"
        if ok:
            best = self.best()
            return f"{head}, best {best.score:.4g} at evaluation {best.index}: {best.arch})"
        return f"{head}, none succeeded)"
