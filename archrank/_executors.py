"""Where archrank's parallel work runs: inline, local processes, a ``concurrent.futures`` executor or Dask.

:func:`resolve` turns what a user passes as ``executor=`` (the search, ``archrank.proxies.compute``
and ``archrank.studies.predictor_study`` all take the same values) into a :class:`Resolved`:

* ``None`` or ``"inline"``: no executor, the work runs in this process;
* ``"processes"``: a ``ProcessPoolExecutor`` of ``workers`` (default: the CPU count) *spawned*
  processes (forking a process whose torch/OpenMP threads are running can deadlock), owned by the
  caller, which shuts it down;
* a ``concurrent.futures.Executor``: used as given (``workers``: its ``_max_workers``);
* a Dask ``distributed.Client``: used as given, through the client (``workers``: its worker threads);
* a scheduler address (``"tcp://host:8786"``, also ``tls://``, ``ws://``, ``wss://``, ``ucx://``,
  ``inproc://``): a ``distributed.Client`` connected within ``connect_timeout`` seconds and closed
  when the work is done; a scheduler that does not answer is an :class:`ExecutorError` naming it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from archrank.errors import ExecutorError

SCHEDULER_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://", "inproc://")
#: seconds to wait for a Dask scheduler given by its address
CONNECT_TIMEOUT_S = 10.0
CHOICES = (
    "'inline', 'processes', a Dask scheduler address 'tcp://host:port', a concurrent.futures Executor or a Dask Client"
)


#: Held by a task while it runs on a worker. Tasks seed torch's global random generator and set the
#: process's thread counts, so tasks in threads of one process (a ThreadPoolExecutor, Dask workers
#: with several threads, or ``processes=False``) take turns: their results stay the serial run's,
#: and the speed-up comes from worker processes.
TASK_LOCK = threading.Lock()


@dataclass
class Resolved:
    """An executor ready for work. ``executor``: a ``concurrent.futures``-style executor (``submit``
    returns a ``concurrent.futures.Future``), None for inline; ``client``: the Dask client behind it,
    if any; ``owned``: whether :meth:`close` shuts it down (we made it); ``kind``: ``"inline"``,
    ``"processes"``, ``"executor"`` or ``"dask"``; ``describe``: a few words for progress bars."""

    executor: Any
    workers: int
    owned: bool
    kind: str
    client: Any = None
    describe: str = "inline"

    def close(self, cancel: bool = True) -> None:
        """Shut down what we own (our process pool, our connection to a scheduler); leave the rest alone."""
        if not self.owned:
            return
        if self.client is not None:
            self.client.close()
        elif self.executor is not None:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)


class _OwnedClientExecutor(cf.Executor):
    """A Dask ``ClientExecutor`` whose shutdown also closes the client it was made from (ours)."""

    def __init__(self, client: Any) -> None:
        self.client, self._inner = client, client.get_executor(pure=False)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait and not cancel_futures)
        self.client.close()


def is_scheduler_address(value: object) -> bool:
    """Whether ``value`` is a string naming a Dask scheduler (``tcp://host:port`` and the other schemes)."""
    return isinstance(value, str) and value.startswith(SCHEDULER_SCHEMES)


def is_dask_client(value: object) -> bool:
    """Whether ``value`` looks like a ``distributed.Client`` (checked without importing Dask)."""
    return hasattr(value, "get_executor") and hasattr(value, "nthreads") and hasattr(value, "submit")


def connect(address: str, timeout: float | None = None) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address`` within ``timeout`` seconds
    (None: :data:`CONNECT_TIMEOUT_S`). Raises ExecutorError when Dask is not installed or the scheduler
    does not answer in time."""
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        import distributed
    except ImportError as err:
        raise ExecutorError(
            f"executor={address!r} needs Dask's distributed package: pip install 'archrank[dask]' ({err})"
        ) from err
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ExecutorError(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({type(err).__name__}: {err}); start one "
            "(dask scheduler; dask worker ADDRESS on each machine) or check the address and the firewall"
        ) from err


def check_dask_workers(client: Any) -> None:
    """Raise ExecutorError unless every worker of ``client``'s cluster imports this archrank version.

    A worker that cannot import archrank cannot even unpickle a task that names an archrank function
    (Dask then leaves the task waiting forever), so the check runs a self-contained function first."""
    import archrank

    try:
        versions = client.run(lambda: __import__("archrank").__version__)
    except ImportError as err:
        raise ExecutorError(
            f"a Dask worker cannot import archrank ({type(err).__name__}: {err}): install archrank "
            f"{archrank.__version__} (and the modules of your own spaces, proxies and predictors) in every worker's "
            "Python environment"
        ) from err
    other = {worker: v for worker, v in versions.items() if v != archrank.__version__}
    if other:
        raise ExecutorError(
            f"Dask workers run another archrank than this process ({archrank.__version__}): {other}; install the "
            "same version on every worker"
        )


def dask_threads(client: Any) -> int:
    """The number of worker threads of the cluster behind ``client`` (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def process_pool(
    workers: int | None, initializer: Any = None, initargs: tuple[Any, ...] = ()
) -> cf.ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` (default: the CPU count) spawned processes."""
    n = workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=initializer, initargs=initargs
    )


def resolve(
    executor: Any,
    workers: int | None = None,
    connect_timeout: float | None = None,
    initializer: Any = None,
    initargs: tuple[Any, ...] = (),
    choices: str = CHOICES,
) -> Resolved:
    """What ``executor=`` names, ready for work (see the module docstring). ``initializer``/``initargs``:
    given to a process pool that this function creates. ``connect_timeout``: seconds to wait for a scheduler
    given by its address (None: :data:`CONNECT_TIMEOUT_S`). ``choices``: the valid values, for the error."""
    check(executor, workers, choices)
    if executor is None or executor == "inline":
        return Resolved(None, 1, False, "inline")
    if executor == "processes":
        pool = process_pool(workers, initializer, initargs)
        n = pool._max_workers  # type: ignore[attr-defined]
        return Resolved(pool, n, True, "processes", describe=f"{n} local processes")
    if is_scheduler_address(executor):
        client = connect(executor, connect_timeout)
        try:
            check_dask_workers(client)
        except ExecutorError:
            client.close()
            raise
        n = workers or dask_threads(client)
        return Resolved(_OwnedClientExecutor(client), n, True, "dask", client, f"Dask at {executor}")
    if isinstance(executor, cf.Executor):
        n = workers or getattr(executor, "_max_workers", 1)
        return Resolved(executor, n, False, "executor", describe=f"{n} workers")
    if is_dask_client(executor):
        check_dask_workers(executor)
        n = workers or dask_threads(executor)
        return Resolved(executor.get_executor(pure=False), n, False, "dask", executor, f"Dask ({n} threads)")
    raise AssertionError("unreachable: check() accepted an executor that resolve() does not handle")


def check(executor: Any, workers: int | None = None, choices: str = CHOICES) -> None:
    """Raise ValueError/TypeError unless ``executor`` is one of :func:`resolve`'s values and ``workers``
    None or a whole number >= 1; starts and connects nothing."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    if executor is None or executor in ("inline", "processes") or is_scheduler_address(executor):
        return
    if isinstance(executor, cf.Executor) or is_dask_client(executor):
        return
    if isinstance(executor, str):
        raise ValueError(f"unknown executor {executor!r}; give {choices}")
    raise TypeError(f"executor must be {choices}, not {executor!r}")


_WATCHING: int | None = None  # in a worker process: the pid of the parent it exits with


def exit_with_parent(parent_pid: int, direct: bool = True) -> None:
    """In a worker process: exit (``os._exit``) as soon as ``parent_pid``, the process whose work it
    runs, dies (however it dies, SIGKILL included), so that the workers of a killed run do not finish
    their tasks for nobody and then wait for work forever (keeping multiprocessing's resource tracker
    alive with them).

    A daemon thread waits on ``multiprocessing.parent_process().sentinel``, ready when the parent exits.
    ``direct=True`` (a ``ProcessPoolExecutor`` initializer: this process was started by ``parent_pid``):
    a different parent means that it has died already, so exit now. ``direct=False`` (called from a
    task on an executor the user gave): nothing happens in ``parent_pid`` itself or in a process whose
    parent is another one (a Dask worker under its nanny)."""
    global _WATCHING
    parent = multiprocessing.parent_process()
    if parent is None or _WATCHING == parent_pid or os.getpid() == parent_pid:
        return
    if parent.pid != parent_pid or os.getppid() != parent_pid:
        if direct:
            os._exit(1)  # the parent has died already
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # the result has nowhere to go: stop at once

    threading.Thread(target=wait_for_parent, name="archrank-exit-with-parent", daemon=True).start()
    _WATCHING = parent_pid


def worker_error(err: BaseException, what: str, rerun: str) -> ExecutorError:
    """A clear error for the task ``what`` (e.g. "chunk 3 of 8 (...)") that failed on a worker with ``err``;
    ``rerun`` says what a rerun keeps."""
    import archrank

    if isinstance(err, ExecutorError):
        return ExecutorError(f"{what}: {err}; {rerun}")
    if isinstance(err, ImportError) and "archrank" in str(err):
        return ExecutorError(
            f"a worker cannot import archrank ({type(err).__name__}: {err}) for {what}: install archrank "
            f"{archrank.__version__} (and the modules of your own spaces, proxies and predictors) in every worker's "
            f"Python environment; {rerun}"
        )
    if type(err).__name__ == "KilledWorker":
        return ExecutorError(
            f"{what} was lost: every worker that ran it died (Dask's distributed.scheduler.allowed-failures was "
            f"reached; out of memory?): {err}; {rerun}"
        )
    return ExecutorError(f"{what} failed on a worker ({type(err).__name__}: {err}); {rerun}")


def _names(tasks: Sequence[Any], describe: Callable[[Any], str], shown: int = 3) -> str:
    """The first ``shown`` tasks described, and how many more."""
    text = "; ".join(describe(t) for t in tasks[:shown])
    return text + (f"; and {len(tasks) - shown} more" if len(tasks) > shown else "")


def _on_futures(
    executor: Any,
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    on_result: Callable[[Any, Any], None],
    describe: Callable[[Any], str],
    rerun: str,
) -> list[Any]:
    """``fn(task)`` for every task on a ``concurrent.futures`` executor, ``on_result(task, result)`` as each
    finishes; returns the tasks that a broken process pool lost, in order."""
    futures = {executor.submit(fn, task): i for i, task in enumerate(tasks)}
    lost = []
    try:
        for future in cf.as_completed(futures):
            task = tasks[futures[future]]
            err = future.exception()
            if isinstance(err, BrokenProcessPool):
                lost.append(futures[future])
            elif err is not None:
                raise worker_error(err, describe(task), rerun) from err
            else:
                on_result(task, future.result())
    finally:
        for future in futures:
            future.cancel()
    return [tasks[i] for i in sorted(lost)]


def _on_dask(
    client: Any,
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    on_result: Callable[[Any, Any], None],
    describe: Callable[[Any], str],
    prefix: str,
    rerun: str,
) -> None:
    """``fn(task)`` for every task through a Dask client (Dask reschedules the task of a worker that dies)."""
    import distributed

    token = uuid.uuid4().hex[:8]
    futures = [client.submit(fn, task, pure=False, key=f"{prefix}-{token}-{i}") for i, task in enumerate(tasks)]
    by_key = {future.key: task for future, task in zip(futures, tasks, strict=True)}
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            task = by_key[future.key]
            if future.status == "error":
                err = future.exception()
                raise worker_error(err, describe(task), rerun) from err
            if future.status == "cancelled":
                raise ExecutorError(f"{describe(task)} was cancelled on the Dask cluster; {rerun}")
            on_result(task, future.result())
    finally:
        with contextlib.suppress(Exception):  # a closing client releases what is left itself
            client.cancel([f for f in futures if not f.done()])


def run_tasks(
    resolved: Resolved,
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    on_result: Callable[[Any, Any], None],
    describe: Callable[[Any], str],
    prefix: str,
    rerun: str,
) -> int:
    """Run ``fn(task)`` for every task on ``resolved`` (not inline), calling ``on_result(task, result)`` in this
    process as each one finishes. A task that raises on a worker is an :class:`ExecutorError` naming it
    (:func:`worker_error`). Dask reschedules a dead worker's task; a process pool that breaks (a worker
    process died) is replaced once if we own it (``"processes"``), with a RuntimeWarning, and its unfinished
    tasks sent again; otherwise, or if it breaks again, an ExecutorError names the lost tasks. ``prefix``:
    the Dask task keys' prefix. Returns the number of tasks sent again."""
    if resolved.client is not None:
        _on_dask(resolved.client, fn, tasks, on_result, describe, prefix, rerun)
        return 0
    lost = _on_futures(resolved.executor, fn, tasks, on_result, describe, rerun)
    resent = 0
    if lost and resolved.kind == "processes":
        resent = len(lost)
        warnings.warn(
            f"a worker process died and broke the process pool; sending {resent} unfinished task(s) to a fresh "
            f"pool: {_names(lost, describe)}",
            RuntimeWarning,
            stacklevel=3,
        )
        old = resolved.executor
        old.shutdown(wait=False, cancel_futures=True)
        resolved.executor = process_pool(resolved.workers, old._initializer, old._initargs)  # type: ignore[attr-defined]
        lost = _on_futures(resolved.executor, fn, lost, on_result, describe, rerun)
    if lost:
        again = " (again, in the fresh pool)" if resent else ""
        raise ExecutorError(
            f"a worker process died{again} and broke the process pool, which lost {_names(lost, describe)}; "
            f"{rerun} (executor='processes' replaces a broken pool once by itself)"
        )
    return resent
