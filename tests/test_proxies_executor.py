"""Proxy scoring on executors (local processes, concurrent.futures, Dask): the serial scores, the cache
written by the caller as chunks return, resuming after the client is killed, lost workers, clear errors,
and the progress bar of a run with nothing to compute."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import archrank as ar
from archrank import _executors
from archrank import proxies as P
from archrank.proxies import distributed as D

distributed = pytest.importorskip("distributed")
HELPERS = Path(__file__).with_name("executor_helpers.py")
NAMES = ["nwot", "params"]


def cached_archs(path: Path) -> int:
    """Distinct architectures with a score in the cache file (0 before it exists)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            return int(conn.execute("SELECT COUNT(DISTINCT arch) FROM scores").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def H():  # type: ignore[no-untyped-def]
    """The helper module (tests/ is on the path); imported here, not at collection, as it registers a space."""
    import executor_helpers

    return executor_helpers


def local_cluster(**kwargs: object) -> distributed.LocalCluster:
    options: dict[str, object] = {"n_workers": 2, "threads_per_worker": 1, "processes": False}
    return distributed.LocalCluster(dashboard_address=None, **{**options, **kwargs})


def test_processes_and_a_given_executor_give_the_serial_scores_and_fill_the_callers_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in ar.spaces.get("nb201").sample(14, seed=4)]
    kwargs = dict(space="nb201", batch_size=8, progress=False)
    serial = P.compute(archs, NAMES, cache=None, **kwargs)
    cache = tmp_path / "procs.sqlite"
    procs = P.compute(archs, NAMES, cache=cache, executor="processes", workers=2, chunk_size=3, **kwargs)
    pd.testing.assert_frame_equal(procs, serial)  # same networks, same batch, one thread each: the same floats
    assert procs.attrs["executor"]["chunks"] == 5 and procs.attrs["executor"]["kind"] == "processes"
    assert len(procs.attrs["executor"]["worker_seconds"]) == 5
    assert procs.attrs["sources"] == {"shipped_table": 0, "cache": 0, "computed": 14}
    assert cached_archs(cache) == 14  # written by this process as the chunks came back
    # a caller's own executor, used as given and left open; threads of one process take turns (torch's
    # random generator is global), so their networks are the serial run's too
    with cf.ThreadPoolExecutor(2) as pool:
        threads = P.compute(archs, NAMES, cache=tmp_path / "threads.sqlite", executor=pool, chunk_size=2, **kwargs)
        again = P.compute(archs + archs[:2], NAMES, cache=cache, executor=pool, **kwargs)
        assert pool.submit(len, "open").result() == 4
    pd.testing.assert_frame_equal(threads, serial)
    pd.testing.assert_frame_equal(again.iloc[:14], serial)
    assert again.attrs["sources"] == {"shipped_table": 0, "cache": 14, "computed": 0}


def test_a_dask_run_equals_the_serial_run_and_resumes_after_the_client_is_killed(tmp_path, H) -> None:  # type: ignore[no-untyped-def]
    n, chunk = 200, 10
    cache = tmp_path / "killed.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HELPERS.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(HELPERS), str(cache), str(n), str(chunk)], env=env)
    try:
        deadline = time.monotonic() + 120
        while cached_archs(cache) < 3 * chunk and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # the client dies mid-run, chunks in flight
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    kept = cached_archs(cache)
    assert 3 * chunk <= kept < n and kept % chunk == 0  # whole chunks only: one transaction per chunk
    serial = P.compute(H.cells(n), **H.score_settings(), cache=None, progress=False)
    with local_cluster() as cluster:
        # the resumed run connects by the scheduler's address, as `--scheduler tcp://...` does
        resumed = P.compute(
            H.cells(n), **H.score_settings(), cache=cache, progress=False, executor=cluster.scheduler_address
        )
    assert resumed.attrs["sources"] == {"shipped_table": 0, "cache": kept, "computed": n - kept}
    assert resumed.attrs["executor"]["kind"] == "dask"
    columns = H.score_settings()["proxies"]
    np.testing.assert_allclose(resumed[columns].to_numpy(), serial[columns].to_numpy(), rtol=1e-6, atol=0)
    assert resumed["arch"].tolist() == serial["arch"].tolist()
    assert cached_archs(cache) == n


def test_a_broken_process_pool_is_replaced_once_and_a_given_one_names_its_lost_chunks(tmp_path, monkeypatch, H) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in H.dying.sample(8, seed=0)]
    kwargs = dict(space="executor_helpers:dying", batch_size=4, progress=False)
    serial = P.compute(archs, NAMES, cache=None, **kwargs)
    monkeypatch.setenv(H.DIE_ONCE_ENV, str(tmp_path / "died-once"))
    with pytest.warns(RuntimeWarning, match=r"a worker process died and broke the process pool; sending \d+ unfin"):
        table = P.compute(archs, NAMES, cache=None, executor="processes", workers=2, chunk_size=2, **kwargs)
    assert (tmp_path / "died-once").exists() and table.attrs["executor"]["resent"] >= 1
    pd.testing.assert_frame_equal(table, serial)
    # the caller's own pool is not replaced: a clear error naming what was lost; the finished chunks stay cached
    monkeypatch.setenv(H.DIE_ONCE_ENV, str(tmp_path / "died-twice"))
    cache = tmp_path / "given.sqlite"
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(_executors.ExecutorError, match=r"broke the process pool, which lost chunk 1 of 4 \(2 arch"):
            P.compute(archs, NAMES, cache=cache, executor=pool, chunk_size=2, **kwargs)
    rerun = P.compute(archs, NAMES, cache=cache, **kwargs)
    pd.testing.assert_frame_equal(rerun, serial)


def test_dask_reschedules_the_chunk_of_a_worker_that_dies(tmp_path, monkeypatch, H) -> None:  # type: ignore[no-untyped-def]
    archs = [str(a) for a in H.dying.sample(6, seed=1)]
    kwargs = dict(space="executor_helpers:dying", batch_size=4, progress=False)
    serial = P.compute(archs, NAMES, cache=None, **kwargs)
    monkeypatch.setenv(H.DIE_ONCE_ENV, str(tmp_path / "died"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HELPERS.parent), os.environ.get("PYTHONPATH", "")]))
    with local_cluster(n_workers=1, processes=True) as cluster, distributed.Client(cluster) as client:
        table = P.compute(archs, NAMES, cache=None, executor=client, chunk_size=3, **kwargs)
    assert (tmp_path / "died").exists()  # a worker died on the first chunk; the nanny restarted it
    pd.testing.assert_frame_equal(table, serial)


def test_a_scheduler_that_does_not_answer_is_a_clear_error_within_the_timeout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    address = f"tcp://127.0.0.1:{free_port()}"
    archs = ar.spaces.get("nb201").sample(2, seed=0)
    start = time.monotonic()
    with pytest.raises(_executors.ExecutorError, match=rf"no Dask scheduler answered at {address} within 1 s"):
        P.compute(archs, ["params"], space="nb201", batch_size=8, cache=None, executor=address, connect_timeout=1)
    assert time.monotonic() - start < 10
    monkeypatch.setattr(_executors, "CONNECT_TIMEOUT_S", 1.0)  # the default of every caller
    oracle = ar.search.TrainingOracle(conv_count, space="nb201")
    with pytest.raises(_executors.ExecutorError, match="no Dask scheduler answered"):  # the search shares the logic
        ar.search.run("random", "nb201", oracle, budget=2, executor=address, progress=False)


def conv_count(arch: object) -> float:
    return float(str(arch).count("conv"))


def test_a_worker_without_archrank_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import sys; sys.modules['archrank'] = None\n"  # `import archrank` now fails, as on a worker without it
        "from distributed.cli.dask_worker import main\n"
        "sys.argv = ['dask-worker', sys.argv[1], '--no-nanny', '--nthreads', '1', '--no-dashboard']\n"
        "main()\n"
    )
    archs = ar.spaces.get("nb201").sample(2, seed=0)
    with (
        local_cluster(n_workers=0, protocol="tcp", host="127.0.0.1") as cluster,
        distributed.Client(cluster) as client,
    ):
        worker = subprocess.Popen([sys.executable, "-c", code, cluster.scheduler_address], cwd=tmp_path)
        try:
            client.wait_for_workers(1, timeout=30)
            with pytest.raises(
                _executors.ExecutorError, match=r"a Dask worker cannot import archrank .* install archrank"
            ):
                P.compute(archs, ["params"], space="nb201", batch_size=8, cache=None, executor=client, progress=False)
        finally:
            worker.kill()
            worker.wait(timeout=30)


def test_a_worker_with_another_archrank_version_refuses_the_chunk() -> None:
    sp = ar.spaces.get("nb201")
    archs = {str(a): a for a in sp.sample(1, seed=0)}
    settings = D.ScoreSettings(dataset="cifar10", batch_size=4, seed=0, device="cpu", archs_per_launch=1, threads=1)
    (task,) = D.make_tasks(sp, archs, list(archs), {k: {"params"} for k in archs}, [P.get("params")], 4, settings)
    assert D.score_chunk(task).scores[0][1]["params"][0] > 0
    old = type(task)(**{**task.__dict__, "version": "0.0.1"})
    with pytest.raises(_executors.ExecutorError, match=r"runs archrank .* but the caller runs 0\.0\.1"):
        D.score_chunk(old)


def test_bad_executor_arguments_are_clear_errors() -> None:
    archs = ar.spaces.get("nb201").sample(2, seed=0)
    kwargs = dict(space="nb201", cache=None, progress=False)
    with pytest.raises(ValueError, match="unknown executor 'threads'; give 'inline', 'processes', a Dask sched"):
        P.compute(archs, ["params"], executor="threads", **kwargs)
    with pytest.raises(TypeError, match="executor must be"):
        P.compute(archs, ["params"], executor=3, **kwargs)
    with pytest.raises(ValueError, match="workers must be a whole number >= 1, got 0"):
        P.compute(archs, ["params"], executor="processes", workers=0, **kwargs)
    with pytest.raises(ValueError, match="chunk_size must be a whole number of architectures >= 1, got 0"):
        P.compute(archs, ["params"], executor="processes", chunk_size=0, **kwargs)
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        P.compute(archs, ["params"], executor="processes", device="gpu0", **kwargs)
    assert D.auto_chunk_size(15_625, 8, "auto") == 64 and D.auto_chunk_size(100, 2, 16) == 16
    assert D.auto_chunk_size(200, 2, 1) == 25


def test_a_run_with_nothing_to_compute_shows_no_empty_bar_and_says_where_scores_came_from(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    space = ar.spaces.get("nb201")
    shipped = [str(a) for a in space.sample(3, seed=8)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = P.compute(shipped, ["synflow", "params"], space="nb201", cache=tmp_path / "c.sqlite", progress=True)
    assert table.attrs["sources"] == {"shipped_table": 3, "cache": 0, "computed": 0}
    assert "arch" not in capsys.readouterr().err  # no "0arch [00:00, ?arch/s]"
    cache = tmp_path / "b8.sqlite"
    P.compute(shipped[:2], ["params"], space="nb201", batch_size=8, cache=cache, progress=False)
    capsys.readouterr()
    part = P.compute(shipped, ["params"], space="nb201", batch_size=8, cache=cache, progress=True)
    assert part.attrs["sources"] == {"shipped_table": 0, "cache": 2, "computed": 1}
    err = capsys.readouterr().err
    assert "proxies on cpu (2 from the cache)" in err and "1/1" in err
