"""Search oracles and the SQLite history store."""

from __future__ import annotations

import math

import pytest

import archrank as ar
from archrank.errors import DataFileError
from archrank.search.history import SearchHistory
from archrank.search.oracles import BenchmarkOracle, Evaluation, TrainingOracle

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_benchmark_oracle_answers_from_the_table() -> None:
    oracle = BenchmarkOracle(ar.datasets.load("nb201", "cifar10"), metric="test_accuracy")
    ev = oracle(BEST)
    assert ev.ok and ev.score == pytest.approx(94.3733, abs=1e-4) and ev.cost == 1.0
    assert ev.info["test_accuracy"] == ev.score and ev.arch == BEST
    nb101 = BenchmarkOracle(ar.datasets.load("nb101", "cifar10"), metric="valid_accuracy")
    arch = ar.datasets.load("nb101", "cifar10").archs()[0]
    ev = nb101(arch)
    assert ev.ok and ev.cost > 100  # NB101 records its training time in seconds
    outside = next(a for a in ar.spaces.get("nb101").sample(200, seed=0) if a not in nb101.bench)
    assert not nb101.contains(outside) and not nb101(outside).ok


def user_training(arch):  # type: ignore[no-untyped-def]
    return float(len(str(arch)))


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda a: 1 / 0, "ZeroDivisionError"),
        (lambda a: math.nan, "nan"),
        (lambda a: "93.1", "str"),
        (lambda a: None, "NoneType"),
        (lambda a: math.inf, "inf"),
    ],
)
def test_a_bad_training_function_is_a_failed_evaluation(fn, message) -> None:  # type: ignore[no-untyped-def]
    ev = TrainingOracle(fn, space="nb201")(BEST)
    assert not ev.ok and math.isnan(ev.score) and message in ev.error and ev.cost >= 0


def test_training_oracle_scores_and_times() -> None:
    ev = TrainingOracle(user_training, space="nb201")(BEST)
    assert ev.ok and ev.score == len(BEST) and ev.cost >= 0
    with pytest.raises(TypeError, match="callable"):
        TrainingOracle(42, space="nb201")  # type: ignore[arg-type]


def test_history_round_trip_and_resume_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "h.sqlite"
    config = {"strategy": "random", "space": "nb201", "seed": 0, "budget": 5}
    with SearchHistory(path) as store:
        key = store.open_run(config)
        store.record(key, 0, 0, Evaluation("a", 90.0, 1.0, info={"test_accuracy": 89.0}))
        store.record(key, 1, 0, Evaluation("b", math.nan, 0.5, "ValueError: boom"))
        store.record(key, 2, 1, Evaluation("c", 91.0, 1.0))
    with SearchHistory(path) as store:  # a new process would see the same
        assert store.open_run(dict(reversed(config.items()))) == key  # same arguments, same run
        assert store.open_run({**config, "seed": 1}) != key
        evs = store.evaluations(key)
        assert [e.arch for _, e in evs] == ["a", "b", "c"] and [it for it, _ in evs] == [0, 0, 1]
        assert math.isnan(evs[1][1].score) and evs[1][1].error == "ValueError: boom"
        frame = store.frame(key)
        assert frame["best_so_far"].tolist() == [90.0, 90.0, 91.0]
        assert frame.loc[0, "test_accuracy"] == 89.0
        assert store.runs()["evaluations"].tolist() == [3, 0]
        assert 0 <= store.elapsed(key) < 60 and math.isnan(store.elapsed(store.open_run({**config, "seed": 1})))
        with pytest.raises(Exception, match="UNIQUE"):
            store.record(key, 2, 1, Evaluation("d", 1.0, 1.0))  # a slot is never overwritten
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"\x00garbage" * 200)
    with pytest.raises(DataFileError, match="junk"):
        SearchHistory(junk)


def test_in_flight_evaluations_are_noted_until_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from archrank.search.history import InFlight

    with SearchHistory(tmp_path / "h.sqlite") as store:
        key, other = store.open_run({"seed": 0}), store.open_run({"seed": 1})
        store.start(key, 0, [(0, "a"), (1, "b")])
        store.start(other, 0, [(0, "x")])
        running = store.in_flight(key)
        assert list(running) == [0, 1] and running[1].arch == "b" and running[1].iteration == 0
        assert isinstance(running[0], InFlight) and running[0].pid == os.getpid()
        store.record(key, 1, 0, Evaluation("b", 1.0, 1.0))
        assert list(store.in_flight(key)) == [0] and list(store.in_flight(other)) == [0]
        store.start(key, 3, [(0, "a")])  # tried again: replaces the old note
        assert store.in_flight(key)[0].iteration == 3
        with pytest.raises(Exception, match="UNIQUE"):
            store.record(key, 1, 0, Evaluation("b", 2.0, 1.0))
        assert list(store.in_flight(key)) == [0]  # a failed record keeps the note
        assert store.delete(key) == 1 and store.in_flight(key) == {} and list(store.in_flight(other)) == [0]
        assert store.runs()["run_key"].tolist() == [other]


def test_a_store_written_before_in_flight_notes_is_read_and_resumed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from archrank.search.history import _SCHEMA

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the two tables of the earlier format, one evaluation
        for statement in _SCHEMA[:2]:
            conn.execute(statement)
        conn.execute("INSERT INTO runs VALUES ('k', '{}', 0)")
        conn.execute("INSERT INTO evaluations VALUES ('k', 0, 0, ?, 90.0, 1.0, NULL, '{}', 1.0)", (BEST,))
    assert "in_flight" not in {name for (name,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    with SearchHistory(path) as store:
        assert store.in_flight("k") == {} and [e.arch for _, e in store.evaluations("k")] == [BEST]
        store.start("k", 1, [(1, "b")])
        assert list(store.in_flight("k")) == [1]
