"""Search runs: determinism, budgets, restricted spaces and resuming from the SQLite history."""

from __future__ import annotations

import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import archrank as ar
from archrank.search import BenchmarkOracle, ResumeMismatchError, SearchHistory
from archrank.search import run as search_run


def run(*args, **kwargs):  # type: ignore[no-untyped-def]
    """These tests read the evaluations as a table: ``search.run(...).frame()``."""
    return search_run(*args, **kwargs).frame()


@pytest.fixture(scope="module")
def nb201_oracle() -> BenchmarkOracle:
    return BenchmarkOracle(ar.datasets.load("nb201", "cifar10-valid"), metric="valid_accuracy")


@pytest.mark.parametrize("strategy", ["random", "evolution", "local"])
def test_runs_are_seeded_and_never_repeat(strategy: str, nb201_oracle: BenchmarkOracle) -> None:
    a = run(strategy, "nb201", nb201_oracle, budget=40, seed=3, progress=False)
    b = run(strategy, "nb201", nb201_oracle, budget=40, seed=3, progress=False)
    c = run(strategy, "nb201", nb201_oracle, budget=40, seed=4, progress=False)
    assert len(a) == 40 and a["arch"].tolist() == b["arch"].tolist() and a["arch"].tolist() != c["arch"].tolist()
    space = ar.spaces.get("nb201")
    assert len({space.canonical(space.parse(s)) for s in a["arch"]}) == 40  # no cell evaluated twice
    assert a["best_so_far"].is_monotonic_increasing and a["best_so_far"].iloc[-1] == a["score"].max()
    assert "test_accuracy" in a.columns  # reported, not searched on


def test_restricted_space_and_seconds_budget() -> None:
    bench = ar.datasets.load("nb101", "cifar10")
    oracle = BenchmarkOracle(bench, metric="valid_accuracy", epochs=108)
    table = run("evolution", "nb101", oracle, budget=30, seed=0, progress=False, population_size=10, sample_size=3)
    assert table["error"].isna().all() and all(s in bench for s in table["arch"])  # proposals stay in the table
    by_time = run("random", "nb101", oracle, seconds=20_000, seed=0, progress=False)
    assert by_time["cost"].sum() >= 20_000 and by_time["cost"].iloc[:-1].sum() < 20_000


@pytest.mark.parametrize("strategy", ["random", "evolution"])
def test_a_sparse_table_is_searched_through_its_cells(strategy: str) -> None:
    # 725 DARTS cells of a space of about 1e18: random draws from the space never hit the table
    bench = ar.datasets.load("darts", "cifar10")
    oracle = BenchmarkOracle(bench, metric="valid_accuracy")
    with pytest.warns(ar.search.SearchWarning, match="hit the oracle's 725 allowed ones 0 times in 1,000 draws"):
        a = run(strategy, "darts", oracle, budget=15, seed=1, progress=False)
    b = run(strategy, "darts", oracle, budget=15, seed=1, progress=False)
    assert a["arch"].tolist() == b["arch"].tolist() and a["error"].isna().all()
    assert len(set(a["arch"])) == 15 and all(s in bench for s in a["arch"])


class FewCells(BenchmarkOracle):
    """The NB201 table, but only five of its cells may be evaluated."""

    def __init__(self) -> None:
        super().__init__(ar.datasets.load("nb201", "cifar10-valid"), metric="valid_accuracy")
        self.few = ar.spaces.get("nb201").sample(5, seed=0)

    def contains(self, arch) -> bool:  # type: ignore[no-untyped-def]
        return arch in self.few

    def choices(self) -> list:  # type: ignore[type-arg]
        return self.few


def test_an_exhausted_space_stops_the_search_with_what_it_evaluated() -> None:
    with pytest.warns(ar.search.SearchWarning, match="every one of the 5 .* the search stops after 5 evaluations"):
        table = run("random", "nb201", FewCells(), budget=8, batch_size=3, progress=False)
    assert sorted(table["arch"]) == sorted(str(a) for a in FewCells().few) and table["error"].isna().all()


class Flaky:
    """An oracle wrapper whose ``n``-th call is interrupted, like a killed process."""

    def __init__(self, oracle: BenchmarkOracle, fail_at: int | None) -> None:
        self.oracle, self.fail_at, self.calls = oracle, fail_at, []
        self.space = oracle.space

    def contains(self, arch):  # type: ignore[no-untyped-def]
        return self.oracle.contains(arch)

    def evaluate(self, arch):  # type: ignore[no-untyped-def]
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise KeyboardInterrupt
        self.calls.append(str(arch))
        return self.oracle.evaluate(arch)


@pytest.mark.parametrize("strategy", ["evolution", "local"])
def test_interrupted_run_resumes_to_the_same_history(strategy, nb201_oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "history.sqlite"
    whole = run(strategy, "nb201", nb201_oracle, budget=35, seed=1, progress=False)
    first = Flaky(nb201_oracle, fail_at=17)
    with pytest.raises(KeyboardInterrupt):
        run(strategy, "nb201", first, budget=35, seed=1, store=store, progress=False, executor="inline")
    with SearchHistory(store) as history:  # the interrupted evaluation is noted as in flight
        key = history.runs()["run_key"].iloc[0]
        assert [(p.seq, p.arch, p.pid) for p in history.in_flight(key).values()] == [
            (17, whole["arch"][17], os.getpid())
        ]
    second = Flaky(nb201_oracle, fail_at=None)
    lost = (
        r"^1 evaluation of this run was under way when it stopped .*; its result is lost, so it is evaluated "
        rf"again: #17 {re.escape(whole['arch'][17])}$"
    )
    with pytest.warns(ar.search.SearchWarning, match=lost):
        resumed = run(strategy, "nb201", second, budget=35, seed=1, store=store, progress=False, executor="inline")
    assert resumed["arch"].tolist() == whole["arch"].tolist()
    assert second.calls == whole["arch"].tolist()[17:]  # nothing evaluated twice
    with SearchHistory(store) as history:
        assert len(history.runs()) == 1 and history.runs()["evaluations"].iloc[0] == 35
        assert history.in_flight(key) == {}
    longer = run(strategy, "nb201", second, budget=40, seed=1, store=store, progress=False, executor="inline")
    assert longer["arch"].tolist()[:35] == whole["arch"].tolist() and len(second.calls) == 18 + 5


def test_changed_code_or_arguments_are_detected(nb201_oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "h.sqlite"
    run("random", "nb201", nb201_oracle, budget=5, seed=0, store=store, progress=False)
    with SearchHistory(store) as history:  # tamper with the record, as a code change would
        key = history.runs()["run_key"].iloc[0]
        history._conn.execute("UPDATE evaluations SET arch='x' WHERE run_key=? AND seq=2", (key,))
        history._conn.commit()
    with pytest.raises(ResumeMismatchError, match="evaluation 2"):
        run("random", "nb201", nb201_oracle, budget=10, seed=0, store=store, progress=False)


def test_another_metric_is_another_run(nb201_oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "h.sqlite"
    valid = run("random", "nb201", nb201_oracle, budget=5, seed=0, store=store, progress=False)
    test_oracle = BenchmarkOracle(nb201_oracle.bench, metric="test_accuracy", epochs=200)
    test = run("random", "nb201", test_oracle, budget=5, seed=0, store=store, progress=False)
    assert test["arch"].tolist() == valid["arch"].tolist()  # same seed, same proposals ...
    expected = [nb201_oracle.bench.query(a, "test_accuracy", 200) for a in test["arch"]]
    assert test["score"].tolist() == pytest.approx(expected)  # ... but not replayed from the valid-accuracy run
    assert not np.allclose(test["score"], valid["score"])
    with SearchHistory(store) as history:
        assert len(history.runs()) == 2


def test_failed_evaluations_are_recorded_and_the_search_goes_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def training(arch):  # type: ignore[no-untyped-def]
        calls.append(arch)
        if len(calls) % 3 == 0:
            raise RuntimeError("diverged")
        return float(str(arch).count("conv"))

    oracle = ar.search.TrainingOracle(training, space="nb201")
    table = run(
        "evolution", "nb201", oracle, budget=12, seed=0, store=tmp_path / "h.sqlite", progress=False, executor="inline"
    )
    with pytest.raises(RuntimeError, match="picklable"):  # a closure cannot go to worker processes
        run("random", "nb201", oracle, budget=4, seed=0, progress=False, executor="processes", workers=2)
    assert len(table) == 12 and table["error"].notna().sum() == 4
    assert table["error"].dropna().str.contains("diverged").all() and math.isnan(table["score"].iloc[2])
    with pytest.raises(ValueError, match="budget"):
        run("random", "nb201", oracle)
    with pytest.raises(ar.UnknownChoiceError, match="strategy"):
        run("annealing", "nb201", oracle, budget=3)


def train(arch):  # type: ignore[no-untyped-def]
    """The README's training function before the user fills it in."""
    ...


def test_a_search_whose_every_evaluation_fails_warns_then_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "h.sqlite"
    oracle = ar.search.TrainingOracle(train, space="nb201")
    first_error = re.escape("the oracle returned NoneType None, not a number")
    warned = rf"^the first 5 evaluations of this search all failed; the first error: {first_error} \(for \|"
    with pytest.warns(ar.search.SearchWarning, match=warned) as caught:
        with pytest.raises(
            ar.errors.SearchFailedError, match=rf"^all 8 evaluations .* first error: {first_error}"
        ) as err:
            search_run("random", "nb201", oracle, budget=8, seed=0, store=store, progress=False, executor="inline")
    assert len(caught) == 1  # warned once, after the fifth failure
    assert isinstance(err.value, ar.ArchrankError) and str(store) in str(err.value)
    assert len(err.value.result) == 8 and err.value.result.frame()["error"].notna().all()
    with SearchHistory(store) as history:  # nothing is lost
        key = history.runs()["run_key"].iloc[0]
        assert history.runs()["evaluations"].iloc[0] == 8 and f".delete({key!r})" in str(err.value)
    with pytest.warns(ar.search.SearchWarning, match=warned), pytest.raises(ar.errors.SearchFailedError):
        search_run("random", "nb201", oracle, budget=8, seed=0, store=store, progress=False, executor="inline")

    def fixed(arch):  # type: ignore[no-untyped-def]
        return float(str(arch).count("conv"))

    fixed.__qualname__ = train.__qualname__  # the same function, filled in: the same run, which replays the failures
    with SearchHistory(store) as history:
        assert history.delete(key) == 8 and history.runs().empty
    oracle = ar.search.TrainingOracle(fixed, space="nb201")
    again = run("random", "nb201", oracle, budget=8, seed=0, store=store, progress=False, executor="inline")
    assert again["error"].isna().all()


def failing_calls(*failing: int):  # type: ignore[no-untyped-def]
    """A training function whose calls number ``failing`` (1-based) raise; the others score 1."""
    calls = []

    def training(arch):  # type: ignore[no-untyped-def]
        calls.append(arch)
        if len(calls) in failing:
            raise RuntimeError(f"out of memory at call {len(calls)}")
        return 1.0

    return ar.search.TrainingOracle(training, space="nb201")


def test_failures_warn_only_before_the_first_success_and_fail_the_run_only_when_all_fail() -> None:
    with pytest.warns(ar.search.SearchWarning, match=r"first 5 evaluations .* RuntimeError: out of memory at call 1 "):
        table = run("random", "nb201", failing_calls(1, 2, 3, 4, 5, 6), budget=8, progress=False, executor="inline")
    assert table["error"].notna().sum() == 6 and table["score"].iloc[-1] == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ar.search.SearchWarning)
        table = run("random", "nb201", failing_calls(2, 3, 4, 5, 6, 7), budget=8, progress=False, executor="inline")
        assert table["error"].notna().sum() == 6  # the first succeeded: no warning
        with pytest.raises(ar.errors.SearchFailedError, match=r"all 3 evaluations .* call 1 .* Nothing was stored"):
            run("random", "nb201", failing_calls(1, 2, 3), budget=3, progress=False, executor="inline")
    with pytest.warns(ar.search.SearchWarning, match="first 8 evaluations"):  # checked after each batch of 4
        run("random", "nb201", failing_calls(*range(1, 9)), budget=12, batch_size=4, progress=False, executor="inline")


FAST_GUIDED = {
    "npenas": {"predictor_params": {"epochs": 10, "n_members": 2}},
    "bananas": {"predictor_params": {"epochs": 20, "n_members": 2}},
    "bo": {"acquisition": "qlognei"},
}


@pytest.mark.parametrize("strategy", list(FAST_GUIDED))
def test_predictor_guided_strategies_are_seeded_and_resume(strategy, nb201_oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hp = {**FAST_GUIDED[strategy], "initial": 6, "per_iteration": 4, "pool_size": 20}
    whole = run(strategy, "nb201", nb201_oracle, budget=18, seed=2, progress=False, **hp)
    again = run(strategy, "nb201", nb201_oracle, budget=18, seed=2, progress=False, **hp)
    assert whole["arch"].tolist() == again["arch"].tolist() and whole["arch"].nunique() == 18
    assert whole["iteration"].iloc[-1] > whole["iteration"].iloc[5]  # guided iterations happened
    first = Flaky(nb201_oracle, fail_at=11)
    with pytest.raises(KeyboardInterrupt):
        run(
            strategy,
            "nb201",
            first,
            budget=18,
            seed=2,
            store=tmp_path / "h.sqlite",
            progress=False,
            executor="inline",
            **hp,
        )
    second = Flaky(nb201_oracle, fail_at=None)
    resumed = run(
        strategy,
        "nb201",
        second,
        budget=18,
        seed=2,
        store=tmp_path / "h.sqlite",
        progress=False,
        executor="inline",
        **hp,
    )
    assert resumed["arch"].tolist() == whole["arch"].tolist() and second.calls == whole["arch"].tolist()[11:]


def test_guided_strategy_options_are_checked(nb201_oracle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="variant"):
        run("npenas", "nb201", nb201_oracle, budget=3, variant="xx", progress=False)
    with pytest.raises(ar.UnknownChoiceError, match="unknown acquisition 'pi'"):
        run("bo", "nb201", nb201_oracle, budget=3, acquisition="pi", progress=False)
    with pytest.raises(ar.UnknownChoiceError, match="hyperparameter"):
        run("evolution", "nb201", nb201_oracle, budget=3, temperature=1.0, progress=False)
    with pytest.raises(ar.UnknownChoiceError, match="'foo'; valid choices: none"):
        run("random", "nb201", nb201_oracle, budget=3, foo=1, progress=False)
    with pytest.raises(ValueError, match="'population_size' of the 'evolution' strategy must be a number, got 'abc'"):
        run("evolution", "nb201", nb201_oracle, budget=3, population_size="abc", progress=False)
    with pytest.raises(ValueError, match=r"must be a whole number, got 2\.5"):
        run("evolution", "nb201", nb201_oracle, budget=3, population_size=2.5, progress=False)
    for budget in (0, -1):
        with pytest.raises(ValueError, match=f"budget must be at least 1 evaluation, got {budget}"):
            run("random", "nb201", nb201_oracle, budget=budget, progress=False)
    with pytest.raises(ValueError, match="oracle evaluates nb201 architectures, but the search space is nb101"):
        run("random", "nb101", nb201_oracle, budget=3, progress=False)
    table = run(
        "bo",
        "nb201",
        nb201_oracle,
        budget=14,
        seed=0,
        progress=False,
        acquisition="ucb",
        initial=8,
        per_iteration=3,
        predictor_params={"encoding": "categorical"},  # the plain GP (Hamming kernel) instead of GIN embeddings
    )
    assert len(table) == 14


def test_guided_search_refits_every_k_iterations_or_warm(nb201_oracle, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from archrank.search.guided import GuidedSearch

    fresh = []
    original = GuidedSearch._fresh_model
    monkeypatch.setattr(GuidedSearch, "_fresh_model", lambda self, seed: fresh.append(seed) or original(self, seed))
    hp = {"initial": 6, "per_iteration": 4, "pool_size": 20, "predictor_params": {"epochs": 5, "n_members": 2}}
    table = run(
        "npenas", "nb201", nb201_oracle, budget=26, seed=3, progress=False, refit_every=2, warm_refit=None, **hp
    )
    assert table["arch"].nunique() == 26 and len(fresh) == 3  # 5 guided iterations: fits at the 1st, 3rd and 5th
    fresh.clear()
    opt = ar.search.Optimizer("npenas", "nb201", seed=3, warm_refit={"epochs": 2}, **hp)
    models = []
    for _ in range(22):
        archs = opt.ask()
        opt.tell(archs, [nb201_oracle.evaluate(a).score for a in archs])
        if opt.strategy.model is not None:
            models.append(opt.strategy.model)
    assert len(fresh) == 1 and len(models) > 4 and all(m is models[0] for m in models)
    assert models[0].warm_start and models[0].epochs == 2
    auto = ar.search.Optimizer("npenas", "nb201", seed=3, **hp).strategy  # the preset's default: a third
    assert auto.warm_refit == {"epochs": 1}
    assert ar.search.Optimizer("npenas", "nb201", seed=3, proxy_features=True).strategy.warm_refit is None
    with pytest.raises(ValueError, match="warm_refit needs a predictor with a warm_start setting"):
        run("bananas", "nb201", nb201_oracle, budget=12, seed=0, progress=False, initial=6, warm_refit={"epochs": 2})
    with pytest.raises(ValueError, match="refit_every must be a whole number >= 1"):
        run("npenas", "nb201", nb201_oracle, budget=3, refit_every=0, progress=False)


def conv_count(arch):  # type: ignore[no-untyped-def]
    """A stand-in for training, at module level so worker processes can run it."""
    return float(str(arch).count("conv"))


def test_parallel_evaluation_in_processes_and_on_dask(tmp_path) -> None:  # type: ignore[no-untyped-def]
    oracle = ar.search.TrainingOracle(conv_count, space="nb201")
    inline = run("evolution", "nb201", oracle, budget=12, seed=5, batch_size=4, executor="inline", progress=False)
    procs = run("evolution", "nb201", oracle, budget=12, seed=5, workers=4, progress=False)  # "auto": processes
    assert procs["arch"].tolist() == inline["arch"].tolist() and procs["iteration"].max() == 2
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            table = run(
                "evolution",
                "nb201",
                oracle,
                budget=12,
                seed=5,
                batch_size=4,
                executor=client,
                store=tmp_path / "dask.sqlite",
                progress=False,
            )
    assert table["arch"].tolist() == inline["arch"].tolist()
    with SearchHistory(tmp_path / "dask.sqlite") as history:
        assert history.runs()["evaluations"].iloc[0] == 12


def test_a_killed_search_process_resumes_to_the_uninterrupted_history(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import search_worker

    store = tmp_path / "killed.sqlite"
    worker = Path(search_worker.__file__)
    proc = subprocess.Popen([sys.executable, str(worker), str(store), "40"])
    try:
        deadline = time.monotonic() + 120
        count = 0
        while count < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            if store.exists():
                try:
                    with sqlite3.connect(store) as conn:
                        count = conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
                except sqlite3.OperationalError:  # tables not created yet
                    count = 0
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with SearchHistory(store) as history:
        done = int(history.runs()["evaluations"].iloc[0])
        lost = history.in_flight(history.runs()["run_key"].iloc[0])
    assert 10 <= done < 40 and len(lost) <= 1  # inline: at most the evaluation it was killed in
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = search_worker.search(str(store), 40)
    again = [str(w.message) for w in caught if "under way" in str(w.message)]
    assert [m.rsplit(": ", 1)[1] for m in again] == [f"#{seq} {p.arch}" for seq, p in lost.items()]
    whole = search_worker.search(None, 40)
    assert resumed["arch"].tolist() == whole["arch"].tolist()
    assert resumed["score"].tolist() == whole["score"].tolist()
    with SearchHistory(store) as history:
        assert history.runs()["evaluations"].iloc[0] == 40


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of every live process whose parent is ``pid`` (read from /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:  # exited meanwhile
                continue
            if f"\nPPid:\t{pid}\n" in status:
                out[int(entry.name)] = cmdline
    return out


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not reaped yet, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _calls(folder: Path) -> list[str]:
    """The architectures the oracle's function was called with, as written by tests/search_worker.py."""
    return [f.read_text() for f in sorted(folder.iterdir())]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc (Linux)")
def test_a_killed_parallel_search_leaves_no_process_and_names_what_it_evaluates_again(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import search_worker

    store, killed_calls, resumed_calls = tmp_path / "killed.sqlite", tmp_path / "killed", tmp_path / "resumed"
    killed_calls.mkdir()
    resumed_calls.mkdir()
    env = {**os.environ, "ARCHRANK_TEST_CALLS": str(killed_calls), "ARCHRANK_TEST_SLEEP": "0.5"}
    proc = subprocess.Popen([sys.executable, search_worker.__file__, str(store), "16", "2"], env=env)
    try:
        deadline, ready = time.monotonic() + 120, False
        while not ready and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:  # two evaluations recorded, and both of the next batch started by a worker
                with sqlite3.connect(store) as conn:
                    done = conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
                    running = [a for (a,) in conn.execute("SELECT arch FROM in_flight")]
                ready = done >= 2 and len(running) == 2 and set(running) <= set(_calls(killed_calls))
            except sqlite3.OperationalError:  # the store or its tables do not exist yet
                pass
        children = _children(proc.pid)  # the two workers and multiprocessing's resource tracker
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up
    finally:
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in children if _alive(pid)]
    for pid in survivors:  # leave no orphan behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert ready and proc.returncode == -signal.SIGKILL
    assert len(children) == 3 and sum("resource_tracker" in c for c in children.values()) == 1, children
    assert not survivors, f"processes outlived the killed search: {[children[pid] for pid in survivors]}"
    with SearchHistory(store) as history:
        key = history.runs()["run_key"].iloc[0]
        recorded, lost = history.by_position(key), history.in_flight(key)
    assert 2 <= len(recorded) < 16 and 1 <= len(lost) <= 2 and not set(lost) & set(recorded)
    started = [p.arch for p in lost.values() if p.arch in _calls(killed_calls)]  # their training had begun

    monkeypatch.setenv("ARCHRANK_TEST_CALLS", str(resumed_calls))  # the resumed run's workers inherit these
    monkeypatch.setenv("ARCHRANK_TEST_SLEEP", "0.05")
    with pytest.warns(ar.search.SearchWarning, match="under way when it stopped") as caught:
        resumed = search_worker.search(str(store), 16, workers=2)
    message = next(str(w.message) for w in caught if "under way" in str(w.message))
    assert message.startswith(f"{len(lost)} evaluation") and f"by process {proc.pid}," in message
    assert all(f"#{seq} {p.arch}" in message for seq, p in lost.items())
    calls = _calls(killed_calls) + _calls(resumed_calls)
    monkeypatch.delenv("ARCHRANK_TEST_CALLS")
    whole = search_worker.search(None, 16, batch_size=2)
    assert resumed["arch"].tolist() == whole["arch"].tolist() and resumed["score"].tolist() == whole["score"].tolist()
    assert sorted(_calls(resumed_calls)) == sorted(set(whole["arch"]) - {e.arch for e in recorded.values()})
    assert len(calls) == 16 + len(started)  # only the cells that were training when it died are trained again
    assert sorted(a for a in set(calls) if calls.count(a) > 1) == sorted(started)
    with SearchHistory(store) as history:
        assert history.in_flight(key) == {} and len(history.by_position(key)) == 16


IDLE_POOL = """
import os, sys, time
import archrank as ar
from archrank.search import BenchmarkOracle
from archrank.search.runner import resolve_executor

if __name__ == "__main__":
    oracle = BenchmarkOracle(ar.datasets.load("nb201", "cifar10-valid"), metric="valid_accuracy")
    pool, _, _ = resolve_executor("processes", oracle, 2)  # the pool run() makes
    pids = {f.result() for f in [pool.submit(os.getpid), pool.submit(os.getpid)]}  # two workers start
    print(len(pids), "worker(s) ran a task", flush=True)  # the other may never get one
    open(sys.argv[1], "w").close()
    time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc (Linux)")
def test_pool_workers_exit_with_the_search_process_even_without_a_task(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", IDLE_POOL, str(ready)])
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # the second worker finishes starting
        children = _children(proc.pid)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in children if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert ready.exists() and len(children) == 3, children  # two workers and the resource tracker
    assert not survivors, f"processes outlived the killed search: {[children[pid] for pid in survivors]}"


def test_cli_search_prints_summary_and_plots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from archrank.cli import app

    args = [
        "search",
        "nb201",
        "-s",
        "random",
        "-s",
        "evolution",
        "--budget",
        "15",
        "--seeds",
        "2",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--out",
        str(tmp_path / "s.csv"),
        "--plot",
        str(tmp_path / "s.png"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test_accuracy_mean" in result.output and (tmp_path / "s.png").stat().st_size > 10_000
    import pandas as pd

    table = pd.read_csv(tmp_path / "s.csv")
    assert len(table) == 2 * 2 * 15 and set(table["strategy"]) == {"random", "evolution"}
    again = CliRunner().invoke(app, args)  # every run is in the store: nothing is evaluated again
    assert again.exit_code == 0 and again.output.splitlines()[-4:] == result.output.splitlines()[-4:]
    bad = CliRunner().invoke(app, ["search", "nb201", "-s", "annealing", "--budget", "5"])
    assert bad.exit_code == 2 and "strategy" in bad.output
    tuned = ["search", "nb201", "-s", "evolution", "--budget", "12", "--set", "evolution.population_size=6"]
    assert CliRunner().invoke(app, tuned).exit_code == 0
    for wrong in ("evolution.population_size", "npenas.initial=3", "evolution.temperature=2"):
        bad = CliRunner().invoke(app, [*tuned[:-1], wrong])
        assert bad.exit_code == 2 and ("--set" in bad.output or "hyperparameter" in bad.output), bad.output


def test_zero_cost_warm_start_and_prefilter(nb201_oracle, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHRANK_CACHE_DIR", str(tmp_path / "cache"))
    hp = {"initial": 4, "per_iteration": 3, "pool_size": 6, "proxies": ["synflow"]}
    hp["predictor_params"] = {"encoding": "categorical"}
    warm = run("bo", "nb201", nb201_oracle, budget=10, seed=1, progress=False, warm_start=12, prefilter=12, **hp)
    cold = run("bo", "nb201", nb201_oracle, budget=10, seed=1, progress=False, **hp)
    again = run("bo", "nb201", nb201_oracle, budget=10, seed=1, progress=False, warm_start=12, prefilter=12, **hp)
    assert warm["arch"].tolist() == again["arch"].tolist()  # deterministic (second time from the cache)
    # the warm start is the 4 best by synflow out of 12 random cells, so better than 4 random ones
    scores = ar.proxies.compute(list(warm["arch"][:4]) + list(cold["arch"][:4]), ["synflow"], space="nb201")
    assert scores["synflow"][:4].min() >= scores["synflow"][4:].median()
    assert not (tmp_path / "cache").exists()  # synflow came from the shipped table: nothing computed or cached
    with pytest.raises(ValueError, match="warm_start"):
        run("bo", "nb201", nb201_oracle, budget=3, progress=False, warm_start=2, initial=4)
    with pytest.raises(ValueError, match="prefilter"):
        run("bo", "nb201", nb201_oracle, budget=3, progress=False, prefilter=5, pool_size=10)


@pytest.mark.parametrize("strategy", ["npenas", "bo"])
def test_proxy_features_feed_the_search_predictor(strategy, nb201_oracle, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fitted: list[object] = []
    real_fit = ar.predictors.ProxyFeaturePredictor.fit

    def recording_fit(self, X, y):  # type: ignore[no-untyped-def]
        fitted.append(self.estimator)
        return real_fit(self, X, y)

    monkeypatch.setattr(ar.predictors.ProxyFeaturePredictor, "fit", recording_fit)
    hp = {**FAST_GUIDED[strategy], "initial": 6, "per_iteration": 4, "pool_size": 20, "proxy_features": True}
    hp["proxies"] = ["nwot", "synflow"]
    table = run(strategy, "nb201", nb201_oracle, budget=14, seed=3, progress=False, **hp)
    again = run(strategy, "nb201", nb201_oracle, budget=14, seed=3, progress=False, **hp)
    assert table["arch"].tolist() == again["arch"].tolist() and table["arch"].nunique() == 14
    # every guided iteration fitted the strategy's own predictor inside the proxy-feature wrapper
    expected = {"npenas": "GNNPredictor", "bo": "GPPredictor"}[strategy]
    assert len(fitted) == 2 * 2 and {type(e).__name__ for e in fitted} == {expected}
    plain = run(strategy, "nb201", nb201_oracle, budget=14, seed=3, progress=False, **{**hp, "proxy_features": False})
    assert plain["arch"].tolist()[:6] == table["arch"].tolist()[:6]  # same random start, other guided picks
    assert plain["arch"].tolist() != table["arch"].tolist()
    with pytest.raises(ValueError, match="proxy_features need at least one zero-cost proxy"):
        run(strategy, "nb201", nb201_oracle, budget=3, progress=False, proxy_features=True, proxies=[])
    # a candidate whose proxy fails gets a neutral feature and a warning; the search goes on
    real = ar.proxies.compute

    def failing(archs, *args, **kwargs):  # type: ignore[no-untyped-def]
        table = real(archs, *args, **kwargs)
        table.loc[len(table) - 1, "nwot"] = np.nan
        return table

    monkeypatch.setattr(ar.proxies, "compute", failing)
    with pytest.warns(ar.proxies.ProxyWarning, match="NaN proxy score"):
        assert len(run(strategy, "nb201", nb201_oracle, budget=14, seed=3, progress=False, **hp)) == 14
