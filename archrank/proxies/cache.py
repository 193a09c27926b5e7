"""On-disk cache of proxy scores: one SQLite file, one row per (context, architecture, proxy).

A context is (space, dataset, batch size, seed, definitions version). Scores are committed
after every architecture (a run on an executor: after every chunk a worker returns; only the
caller writes the file), so an interrupted run loses at most what was in flight and a rerun
computes only what is missing. Failed scores are not cached (they are retried).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archrank.errors import DataFileError

CACHE_ENV = "ARCHRANK_CACHE_DIR"
CACHE_NAME = "proxies.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    space TEXT NOT NULL, dataset TEXT NOT NULL, batch_size INTEGER NOT NULL, seed INTEGER NOT NULL,
    version INTEGER NOT NULL, arch TEXT NOT NULL, proxy TEXT NOT NULL, value REAL NOT NULL,
    device TEXT NOT NULL, seconds REAL NOT NULL,
    PRIMARY KEY (space, dataset, batch_size, seed, version, arch, proxy)
)
"""


@dataclass(frozen=True)
class CacheContext:
    space: str
    dataset: str
    batch_size: int
    seed: int
    version: int

    def key(self) -> tuple[str, str, int, int, int]:
        return (self.space, self.dataset, self.batch_size, self.seed, self.version)


def default_cache_path() -> Path:
    """``$ARCHRANK_CACHE_DIR/proxies.sqlite``, else ``~/.cache/archrank/proxies.sqlite``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / CACHE_NAME if root else Path.home() / ".cache" / "archrank" / CACHE_NAME


class ProxyCache:
    """Scores stored in a SQLite file; raises DataFileError if the file is not a usable cache.

    A file that does not exist yet is created at the first write, so that a run whose every score
    came from the shipped table (or from nowhere) leaves no empty cache behind."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"proxy cache {self.path} is a directory; give a file path, e.g. {self.path / CACHE_NAME}")
        self._conn: sqlite3.Connection | None = None
        if self.path.exists():
            self._open()

    def _open(self) -> sqlite3.Connection:
        """The connection, opening (and creating) the file and checking its schema the first time."""
        if self._conn is not None:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60)
            conn.execute(_SCHEMA)
            conn.commit()
            conn.execute("SELECT space, arch, proxy, value, device, seconds FROM scores LIMIT 1").fetchall()
        except (sqlite3.DatabaseError, OSError) as err:
            raise DataFileError(
                f"proxy cache {self.path} is unusable ({err}); delete the file or pass another cache= path"
            ) from err
        self._conn = conn
        return conn

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows of a query; none while the file does not exist (nothing was ever stored)."""
        if self._conn is None and not self.path.exists():
            return []
        return self._open().execute(sql, args).fetchall()

    def lookup(self, context: CacheContext, proxies: Iterable[str]) -> dict[tuple[str, str], float]:
        """(arch, proxy) -> score for everything cached under ``context`` for these proxies."""
        wanted = list(proxies)
        marks = ",".join("?" * len(wanted))
        rows = self._rows(
            "SELECT arch, proxy, value FROM scores WHERE space=? AND dataset=? AND batch_size=? AND seed=? "
            f"AND version=? AND proxy IN ({marks})",
            (*context.key(), *wanted),
        )
        return {(arch, proxy): float(value) for arch, proxy, value in rows}

    def store(self, context: CacheContext, arch: str, scores: dict[str, tuple[float, str, float]]) -> None:
        """Save ``proxy -> (score, device, seconds)`` for one architecture in one transaction."""
        with self._open() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(*context.key(), arch, proxy, value, device, sec) for proxy, (value, device, sec) in scores.items()],
            )

    def store_many(
        self, context: CacheContext, rows: Iterable[tuple[str, dict[str, tuple[float, str, float]]]]
    ) -> None:
        """Save ``(arch, proxy -> (score, device, seconds))`` rows in one transaction (a chunk from a worker)."""
        rows = list(rows)
        if not any(scores for _, scores in rows):
            return
        with self._open() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (*context.key(), arch, proxy, value, device, sec)
                    for arch, scores in rows
                    for proxy, (value, device, sec) in scores.items()
                ],
            )

    def devices(self, context: CacheContext) -> dict[str, int]:
        """How many scores under ``context`` each device type computed."""
        rows = self._rows(
            "SELECT device, COUNT(*) FROM scores WHERE space=? AND dataset=? AND batch_size=? AND seed=? "
            "AND version=? GROUP BY device",
            context.key(),
        )
        return {device: int(count) for device, count in rows}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ProxyCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
