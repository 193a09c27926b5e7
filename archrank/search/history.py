"""The search history: every evaluation written to an embedded SQLite file as it happens.

One file can hold many runs. A run is keyed by its arguments (strategy, space, seed, budget,
hyperparameters), so starting a run again with the same arguments finds its evaluations and
continues; each evaluation is committed on its own, so a run killed at any moment loses
nothing it had evaluated. The store uses SQLite's write-ahead log, which keeps the file
consistent when a process dies mid-write.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
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
)


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

    def record(self, key: str, seq: int, iteration: int, evaluation: Evaluation) -> None:
        """Write evaluation number ``seq`` of run ``key`` and commit it at once."""
        score = None if math.isnan(evaluation.score) else evaluation.score
        with self._conn:
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
