"""``run``: drive a strategy against an oracle within a budget, recording every evaluation.

Resuming works by replay. Strategies are deterministic given their seed and the evaluations
they are told, so a run started again with the same arguments re-creates the strategy, feeds
it the recorded evaluations in their recorded order (checking that it proposes the same
architectures) and calls the oracle only for what the history lacks. Nothing evaluated is lost
or evaluated twice.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from archrank.search.history import SearchHistory
from archrank.search.oracles import Evaluation, Oracle
from archrank.search.registry import make_strategy
from archrank.spaces import SpaceLike, resolve_space


class ResumeMismatchError(RuntimeError):
    """The history of a run does not match what the strategy proposes on replay."""


def _evaluate_batch(oracle: Oracle, archs: list[Any], executor: cf.Executor | None) -> list[Evaluation]:
    if executor is None or len(archs) == 1:
        return [oracle.evaluate(a) for a in archs]
    futures = [executor.submit(oracle.evaluate, a) for a in archs]
    return [f.result() for f in futures]


def run(
    strategy: str,
    space: SpaceLike,
    oracle: Oracle,
    budget: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    store: str | Path | SearchHistory | None = None,
    executor: cf.Executor | None = None,
    batch_size: int = 1,
    progress: bool = True,
    **hyperparameters: Any,
) -> pd.DataFrame:
    """Search ``space`` with ``strategy`` until ``budget`` evaluations or ``seconds`` of oracle cost.

    ``store``: a SQLite file (or open :class:`SearchHistory`) that keeps every evaluation; with
    one, starting the same run again (same strategy, space, seed, batch size, oracle type and
    hyperparameters) resumes it, and a larger budget extends it. ``executor``: a ``concurrent.futures`` executor
    for the oracle calls; ``batch_size`` proposals are evaluated at a time. Returns one row per
    evaluation (iteration, arch, score, cost, error, reported metrics, best score so far).
    """
    sp = resolve_space(space)
    if budget is None and seconds is None:
        raise ValueError("give a budget (evaluations) or seconds (oracle cost)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    # The budget is not part of a run's identity: the same run with a larger budget continues it.
    config = {
        "strategy": strategy,
        "space": sp.name,
        "seed": int(seed),
        "batch_size": batch_size,
        "oracle": type(oracle).__name__,
        "hyperparameters": hyperparameters,
    }
    owned = store is not None and not isinstance(store, SearchHistory)
    history = SearchHistory(store) if owned else store  # type: ignore[arg-type]
    try:
        key = history.open_run(config) if history is not None else None
        past = [ev for _, ev in history.evaluations(key)] if history is not None else []
        strat = make_strategy(strategy, sp, int(seed), oracle.contains, **hyperparameters)
        rows: list[tuple[int, Evaluation]] = []
        spent, iteration = 0.0, 0
        bar = tqdm(total=budget, disable=not progress, desc=f"{strategy} on {sp.name}", unit="eval")

        def done() -> bool:
            return (budget is not None and len(rows) >= budget) or (seconds is not None and spent >= seconds)

        while not done():
            n = batch_size if budget is None else min(batch_size, budget - len(rows))
            proposals = strat.ask(n)
            start = len(rows)
            replayed = past[start : start + len(proposals)]
            for arch, ev in zip(proposals, replayed, strict=False):
                if ev.arch != str(arch):
                    raise ResumeMismatchError(
                        f"evaluation {start} of this run was {ev.arch}, but the strategy now proposes {arch}; "
                        "the code or the arguments changed since it was recorded"
                    )
            fresh = (
                _evaluate_batch(oracle, proposals[len(replayed) :], executor) if len(replayed) < len(proposals) else []
            )
            for offset, ev in enumerate(fresh):
                if history is not None:
                    history.record(key, start + len(replayed) + offset, iteration, ev)  # type: ignore[arg-type]
            evaluations = list(replayed) + fresh
            strat.tell(proposals, evaluations)
            for ev in evaluations:
                rows.append((iteration, ev))
                spent += ev.cost
            best = max((e.score for _, e in rows if e.ok), default=math.nan)
            bar.update(len(evaluations))
            bar.set_postfix_str(f"best {best:.3f}")
            iteration += 1
        bar.close()
    finally:
        if owned and history is not None:
            history.close()
    table = pd.DataFrame(
        [
            {"iteration": it, "arch": e.arch, "score": e.score, "cost": e.cost, "error": e.error, **e.info}
            for it, e in rows
        ]
    )
    best = table["score"].astype(float).fillna(-math.inf).cummax()
    table["best_so_far"] = best.where(best > -math.inf)
    return table
