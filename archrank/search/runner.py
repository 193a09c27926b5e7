"""``run``: drive a strategy against an oracle within a budget, recording every evaluation.

Resuming works by replay. Strategies are deterministic given their seed and the evaluations
they are told, so a run started again with the same arguments re-creates the strategy, feeds
it the recorded evaluations in their recorded order (checking that it proposes the same
architectures) and calls the oracle only for what the history lacks. Nothing recorded is
evaluated again. What was being evaluated when the run was killed is lost with it (its worker
processes exit when the run's process dies); the store notes each evaluation as it starts, so
the resumed run evaluates those again with a :class:`SearchWarning` that names them.

A search whose first evaluations all fail warns (a :class:`SearchWarning` with the first error),
and one whose every evaluation failed raises :class:`archrank.errors.SearchFailedError` when it
ends; the failed evaluations stay in the store.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import pickle
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from archrank import _executors
from archrank.errors import SearchFailedError
from archrank.search.history import InFlight, SearchHistory
from archrank.search.optimizer import Optimizer
from archrank.search.oracles import BenchmarkOracle, Evaluation, Oracle
from archrank.search.result import SearchResult
from archrank.search.strategies import SearchExhausted, SearchWarning
from archrank.spaces import SpaceLike, resolve_space


class ResumeMismatchError(RuntimeError):
    """The history of a run does not match what the strategy proposes on replay."""


ExecutorLike = cf.Executor | str | Any

#: ``run`` warns when this many evaluations have failed and none has succeeded (checked after each batch)
WARN_AFTER_FAILURES = 5


def resolve_executor(executor: ExecutorLike, oracle: Oracle, workers: int | None) -> tuple[Any, int, bool]:
    """``(executor or None for inline, number of workers, whether we own and must shut it down)``.

    ``"auto"``: inline for a :class:`BenchmarkOracle` (a table look-up), else local processes. The
    other values are those of :func:`archrank._executors.resolve`: ``"processes"`` (a
    ``ProcessPoolExecutor`` of ``workers``, default: CPU count, spawned processes), ``"inline"`` or
    None (no executor), a ``concurrent.futures.Executor`` (used as given), a Dask
    ``distributed.Client`` (workers: its worker threads) or a scheduler address ``"tcp://host:8786"``
    (connected with a timeout; the connection is closed with the executor).
    """
    if executor == "auto":
        executor = "inline" if isinstance(oracle, BenchmarkOracle) else "processes"
    if executor == "processes":
        _check_picklable(oracle)
    found = _executors.resolve(
        executor,
        workers,
        initializer=_executors.exit_with_parent,  # the workers of a pool we make exit with this process
        initargs=(os.getpid(),),
        choices="'auto', " + _executors.CHOICES,
    )
    return found.executor, found.workers, found.owned


def _check_picklable(oracle: Oracle) -> None:
    """Fail before any worker process starts if the oracle cannot be sent to one.

    (Letting the pool find out leaves the error to its feeder thread, and shutting a pool down
    after such a failure can hang on some Python versions.)"""
    try:
        pickle.dumps(oracle)
    except Exception as err:
        raise RuntimeError(
            f"the oracle cannot be sent to worker processes ({type(err).__name__}: {err}); its function must be "
            "picklable (define fn at module level) or pass executor='inline'"
        ) from err


def _evaluate_in_worker(oracle: Oracle, arch: Any, parent_pid: int) -> Evaluation:
    """``oracle.evaluate(arch)`` in a worker; a worker process of the search process ``parent_pid``
    first arranges to exit when that process dies (:func:`archrank._executors.exit_with_parent`)."""
    _executors.exit_with_parent(parent_pid, direct=False)
    return oracle.evaluate(arch)


def _evaluate_batch(
    oracle: Oracle, archs: list[Any], executor: Any, on_result: Callable[[int, Evaluation], None]
) -> list[Evaluation]:
    """Evaluations in proposal order. ``on_result(i, evaluation)`` is called as each one finishes
    (in completion order with an executor), so a result is saved even if the run dies before
    the rest of the batch is back."""
    if executor is None or len(archs) == 1:
        out = []
        for i, arch in enumerate(archs):
            out.append(oracle.evaluate(arch))
            on_result(i, out[-1])
        return out
    parent = os.getpid()
    futures = {executor.submit(_evaluate_in_worker, oracle, arch, parent): i for i, arch in enumerate(archs)}
    results: dict[int, Evaluation] = {}
    for future in cf.as_completed(futures):
        try:
            ev = future.result()
        except Exception as err:  # the oracle itself catches evaluation errors: this is the executor failing
            raise RuntimeError(
                f"the executor could not run the oracle ({type(err).__name__}: {err}); with processes the oracle "
                "and its function must be picklable (define fn at module level) or pass executor='inline'"
            ) from err
        results[futures[future]] = ev
        on_result(futures[future], ev)
    return [results[i] for i in range(len(archs))]


def _replay_or_evaluate(
    proposals: list[Any],
    start: int,
    iteration: int,
    past: dict[int, Evaluation],
    oracle: Oracle,
    pool: Any,
    history: SearchHistory | None,
    key: str | None,
    lost: dict[int, InFlight],
) -> list[Evaluation]:
    """Recorded evaluations for proposals the history has (checked to match), the oracle's for the rest.

    ``lost``: the evaluations a killed earlier try of this run left in flight (by number); those
    evaluated again here are named in a warning. The others are noted in the store as in flight
    until their results are recorded."""
    out: list[Evaluation | None] = []
    for offset, arch in enumerate(proposals):
        ev = past.get(start + offset)
        if ev is not None and ev.arch != str(arch):
            raise ResumeMismatchError(
                f"evaluation {start + offset} of this run was {ev.arch}, but the strategy now proposes {arch}; "
                "the code or the arguments changed since it was recorded"
            )
        out.append(ev)
    todo = [i for i, ev in enumerate(out) if ev is None]
    again = [lost[start + i] for i in todo if start + i in lost and lost[start + i].arch == str(proposals[i])]
    if again:
        warnings.warn(_lost_message(again), SearchWarning, stacklevel=3)
    if history is not None and todo:
        history.start(key, iteration, [(start + i, str(proposals[i])) for i in todo])  # type: ignore[arg-type]

    def save(i: int, ev: Evaluation) -> None:
        if history is not None:
            history.record(key, start + todo[i], iteration, ev)  # type: ignore[arg-type]

    for i, ev in zip(todo, _evaluate_batch(oracle, [proposals[i] for i in todo], pool, save), strict=True):
        out[i] = ev
    return out  # type: ignore[return-value]


def _lost_message(again: list[InFlight]) -> str:
    """The warning for evaluations that died with a killed run and are evaluated again."""
    n = len(again)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(min(p.started for p in again)))
    pids = ", ".join(str(pid) for pid in sorted({p.pid for p in again}))
    cells = "; ".join(f"#{p.seq} {p.arch}" for p in again)
    return (
        f"{n} evaluation{'s' if n != 1 else ''} of this run {'were' if n != 1 else 'was'} under way when it "
        f"stopped (sent to be evaluated at {when} by process {pids}, killed or interrupted before recording "
        f"{'them' if n != 1 else 'it'}); {'their results are' if n != 1 else 'its result is'} lost, so "
        f"{'they are' if n != 1 else 'it is'} evaluated again: {cells}"
    )


def _failures_message(n_failed: int, first: Evaluation) -> str:
    return (
        f"the first {n_failed} evaluations of this search all failed; the first error: {first.error} "
        f"(for {first.arch}). Check the oracle (a TrainingOracle's function must return a finite number); "
        "the run fails if none succeeds"
    )


def _failed_error(result: SearchResult, first: Evaluation, history: SearchHistory | None, key: str | None) -> str:
    kept = (
        f"The failed evaluations are kept in {history.path} (run {key}) and a resumed run replays them: after fixing "
        f"the oracle, use another store or remove them with SearchHistory({str(history.path)!r}).delete({key!r})."
        if history is not None
        else "Nothing was stored."
    )
    head = f"all {len(result)} evaluations of this search failed; the first error: {first.error} (for {first.arch})"
    return f"{head}. {kept}"


def run_config(
    strategy: str, space: SpaceLike, oracle: Oracle, seed: int, batch_size: int, hyperparameters: dict[str, Any]
) -> dict[str, Any]:
    """The arguments that identify a stored run; ``archrank.search.history.run_key`` of it is the
    run's key in the store, e.g. to read a run back with ``SearchHistory.frame`` without running it.
    The budget is not part of it: the same run with a larger budget continues it."""
    return {
        "strategy": strategy,
        "space": resolve_space(space).name,
        "seed": int(seed),
        "batch_size": int(batch_size),
        "oracle": oracle.describe() if hasattr(oracle, "describe") else type(oracle).__name__,
        "hyperparameters": hyperparameters,
    }


def run(
    strategy: str,
    space: SpaceLike,
    oracle: Oracle,
    budget: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    store: str | Path | SearchHistory | None = None,
    executor: ExecutorLike = "auto",
    workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    **hyperparameters: Any,
) -> SearchResult:
    """Search ``space`` with ``strategy`` until ``budget`` evaluations or ``seconds`` of oracle cost.

    ``store``: a SQLite file (or open :class:`SearchHistory`) that keeps every evaluation; with
    one, starting the same run again (same strategy, space, seed, batch size, oracle as given by
    its ``describe()`` (table and metric, or function) and hyperparameters) resumes it, and a
    larger budget extends it. Recorded evaluations are never evaluated again; those that were
    running when the run was killed are lost with it and evaluated again, with a
    :class:`SearchWarning` that names them (worker processes exit when the run's process
    dies). ``executor`` runs the oracle calls (see :func:`resolve_executor`; a Dask ``Client``
    spreads them over a cluster); ``batch_size`` proposals (default: one per worker) are
    evaluated at once, and their results are told to the strategy in proposal order, so the run
    does not depend on which worker finishes first. Returns a
    :class:`SearchResult`: ``.best()`` (arch, score, reported metrics), ``.frame()`` (one row per
    evaluation: iteration, arch, score, cost, error, reported metrics, best score so far) and
    ``.curve()``. The strategy is driven through :class:`archrank.search.Optimizer`.

    A failed evaluation is recorded and the search goes on, but after ``WARN_AFTER_FAILURES`` (5)
    failures without a success it warns with the first error, and a run that ends with every
    evaluation failed raises :class:`archrank.errors.SearchFailedError` (naming the first error and
    the number of failures; the evaluations stay in the store, the result is ``err.result``).
    """
    sp = resolve_space(space)
    if budget is None and seconds is None:
        raise ValueError("give a budget (evaluations) or seconds (oracle cost)")
    if not (hasattr(oracle, "evaluate") and hasattr(oracle, "contains")):
        raise TypeError(
            "oracle must be an archrank Oracle (evaluate and contains), e.g. BenchmarkOracle(bench) or "
            f"TrainingOracle(fn) for a function of yours, not {oracle!r}"
        )
    if budget is not None and (isinstance(budget, bool) or not float(budget).is_integer()):
        raise ValueError(f"budget must be a whole number of evaluations, got {budget!r}")
    if budget is not None and budget < 1:
        raise ValueError(f"budget must be at least 1 evaluation, got {budget}")
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    oracle_space = getattr(oracle, "space", None)
    if oracle_space is not None and resolve_space(oracle_space) is not sp:
        raise ValueError(f"the oracle evaluates {oracle_space.name} architectures, but the search space is {sp.name}")
    # built before any worker starts: an unknown strategy or hyperparameter fails at once
    choices = oracle.choices() if hasattr(oracle, "choices") else None
    opt = Optimizer(strategy, sp, int(seed), allowed=oracle.contains, choices=choices, **hyperparameters)
    pool, n_workers, own_pool = resolve_executor(executor, oracle, workers)
    batch_size = n_workers if batch_size is None else batch_size
    config = run_config(strategy, sp, oracle, seed, batch_size, hyperparameters)
    owned = store is not None and not isinstance(store, SearchHistory)
    history = SearchHistory(store) if owned else store  # type: ignore[arg-type]
    try:
        key = history.open_run(config) if history is not None else None
        past = history.by_position(key) if history is not None else {}  # type: ignore[arg-type]
        lost = history.in_flight(key) if history is not None else {}  # type: ignore[arg-type]
        spent, best, iteration = 0.0, -math.inf, 0
        n_ok, n_failed, warned = 0, 0, False
        first_failure: Evaluation | None = None
        bar = tqdm(total=budget, disable=not progress, desc=f"{strategy} on {sp.name}", unit="eval")

        def done() -> bool:
            return (budget is not None and len(opt) >= budget) or (seconds is not None and spent >= seconds)

        while not done():
            n = batch_size if budget is None else min(batch_size, budget - len(opt))
            try:
                proposals = opt.ask(n)
            except SearchExhausted as err:
                if not len(opt):
                    raise
                warnings.warn(f"{err}; the search stops after {len(opt)} evaluations", SearchWarning, stacklevel=2)
                break
            start = len(opt)
            evaluations = _replay_or_evaluate(
                proposals,
                start,
                iteration,
                past,
                oracle,
                pool,
                history,
                key,  # type: ignore[arg-type]
                lost,
            )
            opt.tell(proposals, evaluations)  # the optimizer keeps them, numbered by this iteration
            spent += sum(ev.cost for ev in evaluations)
            best = max([best, *(ev.score for ev in evaluations if ev.ok)])
            for ev in evaluations:
                n_ok, n_failed = n_ok + ev.ok, n_failed + (not ev.ok)
                if not ev.ok and first_failure is None:
                    first_failure = ev
            if not warned and n_ok == 0 and n_failed >= WARN_AFTER_FAILURES:
                warnings.warn(_failures_message(n_failed, first_failure), SearchWarning, stacklevel=2)  # type: ignore[arg-type]
                warned = True
            bar.update(len(evaluations))
            bar.set_postfix_str(f"best {best:.3f}" if best > -math.inf else "none succeeded yet")
            iteration += 1
        bar.close()
    finally:
        if owned and history is not None:
            history.close()
        if own_pool:
            pool.shutdown(cancel_futures=True)
    result = SearchResult(sp, opt.result().rows, config)
    if n_failed and not n_ok:
        raise SearchFailedError(_failed_error(result, first_failure, history, key), result)  # type: ignore[arg-type]
    return result
