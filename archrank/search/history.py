"""The search history: every evaluation written to an embedded SQLite file as it happens.

One file can hold many runs. A run is keyed by its arguments (strategy, space, seed, batch
size, oracle, hyperparameters; see :func:`archrank.search.run_config`), so starting a run again
with the same arguments finds its evaluations and continues; each evaluation is committed on
its own, so a run killed at any moment loses nothing it had recorded. Evaluations that were
started but not recorded are kept in an ``in_flight`` table (run, evaluation number,
architecture, start time, process id), so a resumed run can say which ones died with the killed
run and are evaluated again. The store uses SQLite's write-ahead log, which keeps the file
consistent when a process dies mid-write; files written before the ``in_flight`` table existed
are read as they are (the table is added).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from archrank.errors import DataFileError
from archrank.search.oracles import Evaluation

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        run_key TEXT PRIMARY KEY, config TEXT NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS evaluations (
        run_key TEXT NOT NULL, seq INTEGER NOT NULL, iteration INTEGER NOT NULL, arch TEXT NOT NULL,
        score REAL, cost REAL NOT NULL, error TEXT, info TEXT NOT NULL, recorded REAL NOT NULL,
        PRIMARY KEY (run_key, seq))""",
    """CREATE TABLE IF NOT EXISTS in_flight (
        run_key TEXT NOT NULL, seq INTEGER NOT NULL, iteration INTEGER NOT NULL, arch TEXT NOT NULL,
        started REAL NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY (run_key, seq))""",
)


@dataclass(frozen=True)
class InFlight:
    """An evaluation that was started but has no recorded result: evaluation number ``seq`` of its
    run, its ``iteration`` and ``arch``, when it was started (``started``, seconds since the epoch)
    and the id of the process that ran the search (``pid``)."""

    seq: int
    iteration: int
    arch: str
    started: float
    pid: int


def run_key(config: dict[str, Any]) -> str:
    """A stable key of a run's arguments (JSON-serialisable values, order-independent)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _evaluation(arch: str, score: float | None, cost: float, error: str | None, info: str) -> Evaluation:
    return Evaluation(arch, math.nan if score is None else float(score), float(cost), error, json.loads(info))


class SearchHistory:
    """SQLite store of search runs and their evaluations (raises DataFileError for a bad file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=60)
            self._conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self._conn.commit()
        except (sqlite3.DatabaseError, OSError) as err:
            raise DataFileError(f"search history {self.path} is unusable ({err}); pass another path") from err

    def open_run(self, config: dict[str, Any]) -> str:
        """The key of the run with these arguments, created if new."""
        key = run_key(config)
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?)", (key, json.dumps(config, sort_keys=True), time.time())
            )
        return key

    def start(self, key: str, iteration: int, started: Sequence[tuple[int, str]]) -> None:
        """Note ``(seq, arch)`` evaluations of run ``key`` as in flight (one commit for them all), with
        this process's id and the time; :meth:`record` clears each one. A row left from an earlier
        try of the same evaluation is replaced."""
        now, pid = time.time(), os.getpid()
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO in_flight VALUES (?, ?, ?, ?, ?, ?)",
                [(key, int(seq), int(iteration), str(arch), now, pid) for seq, arch in started],
            )

    def in_flight(self, key: str) -> dict[int, InFlight]:
        """Evaluation number -> :class:`InFlight` for the evaluations of run ``key`` that were started
        and never recorded: a run killed or interrupted while they ran (their results are lost)."""
        rows = self._conn.execute(
            "SELECT seq, iteration, arch, started, pid FROM in_flight WHERE run_key=? ORDER BY seq", (key,)
        )
        return {int(seq): InFlight(int(seq), int(it), arch, float(t), int(pid)) for seq, it, arch, t, pid in rows}

    def delete(self, key: str) -> int:
        """Remove run ``key`` with its evaluations and in-flight notes (e.g. to evaluate a failed run
        afresh after fixing the training function); returns how many evaluations were removed."""
        with self._conn:
            removed = self._conn.execute("DELETE FROM evaluations WHERE run_key=?", (key,)).rowcount
            self._conn.execute("DELETE FROM in_flight WHERE run_key=?", (key,))
            self._conn.execute("DELETE FROM runs WHERE run_key=?", (key,))
        return int(removed)

    def record(self, key: str, seq: int, iteration: int, evaluation: Evaluation) -> None:
        """Write evaluation number ``seq`` of run ``key`` and clear its in-flight note, in one commit."""
        score = None if math.isnan(evaluation.score) else evaluation.score
        with self._conn:
            self._conn.execute("DELETE FROM in_flight WHERE run_key=? AND seq=?", (key, seq))
            self._conn.execute(
                "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    seq,
                    iteration,
                    evaluation.arch,
                    score,
                    evaluation.cost,
                    evaluation.error,
                    json.dumps(evaluation.info),
                    time.time(),
                ),
            )

    def evaluations(self, key: str) -> list[tuple[int, Evaluation]]:
        """``(iteration, evaluation)`` of run ``key`` in the order they were recorded."""
        rows = self._conn.execute(
            "SELECT iteration, arch, score, cost, error, info FROM evaluations WHERE run_key=? ORDER BY seq", (key,)
        )
        return [(int(it), _evaluation(*rest)) for it, *rest in rows]

    def by_position(self, key: str) -> dict[int, Evaluation]:
        """Evaluation number -> evaluation of run ``key`` (a killed batch can leave gaps)."""
        rows = self._conn.execute("SELECT seq, arch, score, cost, error, info FROM evaluations WHERE run_key=?", (key,))
        return {int(seq): _evaluation(*rest) for seq, *rest in rows}

    def frame(self, key: str) -> pd.DataFrame:
        """One row per evaluation of run ``key`` (see :func:`archrank.search.result.evaluations_frame`)."""
        from archrank.search.result import evaluations_frame

        return evaluations_frame(self.evaluations(key))

    def elapsed(self, key: str) -> float:
        """Wall seconds from the creation of run ``key`` to its last recorded evaluation (NaN if none);
        for a run that was interrupted and resumed this includes the time it was stopped."""
        row = self._conn.execute(
            "SELECT MAX(e.recorded) - r.created FROM runs r JOIN evaluations e USING (run_key) WHERE r.run_key=?",
            (key,),
        ).fetchone()
        return math.nan if row is None or row[0] is None else float(row[0])

    def runs(self) -> pd.DataFrame:
        """Every run in the file: key, arguments and number of evaluations."""
        rows = self._conn.execute(
            "SELECT r.run_key, r.config, COUNT(e.seq) FROM runs r LEFT JOIN evaluations e USING (run_key) "
            "GROUP BY r.run_key ORDER BY r.created"
        )
        return pd.DataFrame([{"run_key": k, **json.loads(c), "evaluations": int(n)} for k, c, n in rows])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SearchHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
