"""Proxy scoring on an executor: local processes, a ``concurrent.futures`` pool or a Dask cluster.

:func:`archrank.proxies.compute` with ``executor=`` calls :func:`run`: the architectures still to
score are split into chunks (:class:`ChunkTask`), each scored on a worker by :func:`score_chunk`,
which builds the chunk's networks and the input batch itself from the seed and scores them through
the same code as a serial run (:func:`archrank.proxies.runner.score_groups`), so the scores agree
to float round-off. Workers only return scores (:class:`ChunkResult`); the calling process writes
them to its cache as each chunk comes back, so killing it loses only the chunks in flight, and a
rerun scores only those.

Lost workers: Dask reschedules the chunk of a worker that dies (up to its
``distributed.scheduler.allowed-failures`` times, then an :class:`ExecutorError` names the chunk).
A ``concurrent.futures`` process pool breaks when one of its processes dies; a pool archrank made
(``executor="processes"``) is then replaced once and the unfinished chunks sent again, a pool
given by the caller raises an :class:`ExecutorError` naming them. A worker that cannot import
archrank, or runs another version of it, is an :class:`ExecutorError` too.
"""

from __future__ import annotations

import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archrank import _executors
from archrank._executors import ExecutorError
from archrank._threads import limit_threads
from archrank.errors import ProxyWarning
from archrank.proxies.inputs import input_batch
from archrank.proxies.registry import Proxy
from archrank.spaces import SearchSpace

#: the most architectures in one chunk when ``chunk_size`` is not given
MAX_AUTO_CHUNK = 64
#: chunks per worker when ``chunk_size`` is not given (more balance the load and stream to the cache sooner)
CHUNKS_PER_WORKER = 4

Scores = dict[str, tuple[float, str, float]]
RERUN = "the scores of the finished chunks are cached: run again to score the rest"


@dataclass(frozen=True)
class ScoreSettings:
    """How every chunk of a run is scored: the input batch (``dataset``, ``batch_size``, ``seed``), the
    ``device`` and ``archs_per_launch`` (either may be ``"auto"``: the worker resolves it on its own
    hardware) and the torch/BLAS ``threads`` of each worker."""

    dataset: str
    batch_size: int
    seed: int
    device: str
    archs_per_launch: int | str
    threads: int


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of work for a worker: score ``archs`` (labels ``labels``) with the proxies named in
    ``needs`` (one tuple per architecture) under ``settings``. ``version``/``definitions``: the
    caller's archrank version and proxy definitions version, which the worker must match."""

    number: int
    total: int
    space: SearchSpace
    archs: tuple[Any, ...]
    labels: tuple[str, ...]
    needs: tuple[tuple[str, ...], ...]
    proxies: tuple[Proxy, ...]
    settings: ScoreSettings
    version: str
    definitions: int

    def describe(self) -> str:
        return f"chunk {self.number + 1} of {self.total} ({len(self.labels)} architectures from {self.labels[0]})"


@dataclass
class ChunkResult:
    """What a worker sends back: ``scores`` (label, proxy -> (score, device type, seconds)), the
    messages of the ProxyWarnings it raised, its wall-clock ``seconds`` and who it was (host:pid)."""

    number: int
    scores: list[tuple[str, Scores]]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""


def score_chunk(task: ChunkTask) -> ChunkResult:
    """Run on a worker: score one chunk (see :class:`ChunkTask`) with ``task.settings.threads`` torch/BLAS threads.

    Chunks in threads of one process take turns (:data:`archrank._executors.TASK_LOCK`): the networks
    are drawn from torch's global random generator, which threads share."""
    import archrank
    from archrank.proxies import runner

    start = time.perf_counter()
    here = f"{socket.gethostname()}:{os.getpid()}"
    if (archrank.__version__, runner.DEFINITIONS_VERSION) != (task.version, task.definitions):
        raise ExecutorError(
            f"worker {here} runs archrank {archrank.__version__} (proxy definitions {runner.DEFINITIONS_VERSION}) but "
            f"the caller runs {task.version} ({task.definitions}): install the same archrank on every worker"
        )
    archs = dict(zip(task.labels, task.archs, strict=True))
    needs = dict(zip(task.labels, task.needs, strict=True))
    rows: list[tuple[str, Scores]] = []
    how = task.settings
    with _executors.TASK_LOCK, warnings.catch_warnings(record=True) as caught, limit_threads(how.threads):
        warnings.simplefilter("always", ProxyWarning)
        dev = runner.resolve_device(how.device)
        per_launch = runner.resolve_archs_per_launch(how.archs_per_launch, task.space, dev)
        batch = input_batch(how.dataset, how.batch_size, how.seed, dev)
        with runner.full_float32(dev):
            for group in runner.score_groups(
                task.space, archs, list(task.labels), needs, task.proxies, batch, how.seed, per_launch
            ):
                rows.extend(group)
    messages = [str(w.message) for w in caught if issubclass(w.category, ProxyWarning)]
    return ChunkResult(task.number, rows, messages, time.perf_counter() - start, here)


def auto_chunk_size(n_archs: int, workers: int, per_launch: int | str) -> int:
    """About ``CHUNKS_PER_WORKER`` chunks per worker, at most ``MAX_AUTO_CHUNK`` architectures each,
    rounded up to a whole number of stacked passes when ``per_launch`` is a number > 1."""
    size = max(1, min(MAX_AUTO_CHUNK, math.ceil(n_archs / (CHUNKS_PER_WORKER * max(1, workers)))))
    if isinstance(per_launch, int) and per_launch > 1:
        size = per_launch * math.ceil(size / per_launch)
    return size


def make_tasks(
    sp: SearchSpace,
    archs: Mapping[str, Any],
    labels: Sequence[str],
    needs: Mapping[str, Any],
    proxies: Sequence[Proxy],
    chunk_size: int,
    settings: ScoreSettings,
) -> list[ChunkTask]:
    """``labels`` cut into chunks of ``chunk_size``, in order, as tasks scored under ``settings``."""
    import archrank
    from archrank.proxies.runner import DEFINITIONS_VERSION

    starts = range(0, len(labels), chunk_size)
    return [
        ChunkTask(
            number=i,
            total=len(starts),
            space=sp,
            archs=tuple(archs[lab] for lab in labels[s : s + chunk_size]),
            labels=tuple(labels[s : s + chunk_size]),
            needs=tuple(tuple(sorted(needs[lab])) for lab in labels[s : s + chunk_size]),
            proxies=tuple(proxies),
            settings=settings,
            version=archrank.__version__,
            definitions=DEFINITIONS_VERSION,
        )
        for i, s in enumerate(starts)
    ]


def run(
    executor: Any,
    sp: SearchSpace,
    archs: Mapping[str, Any],
    labels: Sequence[str],
    needs: Mapping[str, Any],
    proxies: Sequence[Proxy],
    save: Callable[[list[tuple[str, Scores]]], None],
    settings: ScoreSettings,
    *,
    workers: int | None,
    chunk_size: int | None,
    connect_timeout: float | None,
    progress: bool,
    sources: dict[str, int],
) -> dict[str, Any]:
    """Score ``labels`` on ``executor`` in chunks, calling ``save(rows)`` in this process as each chunk
    returns (rows: label, proxy -> (score, device, seconds)); returns how it went (chunk count and size,
    the workers' seconds per chunk, the wall time, chunks sent again)."""
    from archrank.proxies.runner import _bar

    resolved = _executors.resolve(executor, workers, connect_timeout, _executors.exit_with_parent, (os.getpid(),))
    seconds: dict[int, float] = {}
    start = time.perf_counter()
    try:
        size = chunk_size or auto_chunk_size(len(labels), resolved.workers, settings.archs_per_launch)
        tasks = make_tasks(sp, archs, labels, needs, proxies, size, settings)
        with _bar(len(labels), f"on {resolved.describe}", sources, progress) as bar:

            def on_result(_task: ChunkTask, result: ChunkResult) -> None:
                save(result.scores)
                for message in result.warnings:
                    warnings.warn(f"{message} (on worker {result.worker})", ProxyWarning, stacklevel=4)
                seconds[result.number] = result.seconds
                bar.update(len(result.scores))
                bar.set_postfix_str(f"chunk {len(seconds)}/{len(tasks)}")

            resent = _executors.run_tasks(
                resolved, score_chunk, tasks, on_result, ChunkTask.describe, "archrank-proxies", RERUN
            )
    finally:
        resolved.close()
    return {
        "kind": resolved.kind,
        "workers": resolved.workers,
        "chunks": len(tasks),
        "chunk_size": size,
        "worker_seconds": [seconds[i] for i in sorted(seconds)],
        "wall_seconds": time.perf_counter() - start,
        "resent": resent,
    }
