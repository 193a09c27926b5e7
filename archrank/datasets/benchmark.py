"""Benchmark: a table of architecture -> metrics for one benchmark and dataset, loaded from bundled data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archrank.errors import UnknownArchitectureError, UnknownChoiceError
from archrank.spaces.base import SearchSpace


@dataclass(frozen=True)
class MetricInfo:
    """What a metric column holds: unit, where it comes from, and a note on the split."""

    metric: str
    epochs: int | None
    unit: str
    source: str
    note: str = ""


class Benchmark:
    """Known results of many architectures of one search space on one dataset.

    Rows are architectures (in the benchmark's own order); columns are (metric, epochs) pairs.
    Build one with :func:`archrank.datasets.load` (bundled tables) or from the user's own
    results with :meth:`from_frame` / :meth:`from_csv`.
    """

    def __reduce_ex__(self, protocol: Any) -> Any:
        reload = self.__dict__.get("_reload")
        if reload is None:  # a user's table: pickled as it is (fails if its row map is a local function)
            return super().__reduce_ex__(protocol)
        from archrank.datasets import load

        return load, reload

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        space: SearchSpace | str,
        arch: str = "arch",
        dataset: str = "user",
        metrics: Sequence[str] | None = None,
        units: Mapping[str, str] | None = None,
        source: str = "user table",
        on_bad: str = "raise",
        key: str = "canonical",
    ) -> Benchmark:
        """A benchmark from a table of the user's results: one row per architecture, metric columns.

        ``space``: a space object, a registered name or ``module:attribute``. ``arch``: the column
        of architecture strings (or objects). ``metrics``: the metric columns (default: every other
        column); a column named ``metric@epochs`` (``valid_accuracy@200``) records ``metric`` at
        that budget. ``units``: column or metric -> unit, shown by :meth:`info`. Rows are keyed by
        ``space.canonical``, so isomorphic cells share a row; exact duplicates are merged. A row
        whose architecture does not parse, with a missing or non-finite value, or that repeats a
        cell with different values raises :class:`~archrank.datasets.user_table.BadRowError`
        naming the row (rows count from 1), unless ``on_bad="drop"``, which drops every such row
        (both sides of a conflict) with a warning. ``key="exact"`` keys rows by the architecture
        itself instead (isomorphic cells keep their own rows and values, as in NB201's table).
        """
        from archrank.datasets.user_table import benchmark_from_frame
        from archrank.spaces import get as get_space

        return benchmark_from_frame(frame, get_space(space), arch, dataset, metrics, units, source, on_bad, key)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        space: SearchSpace | str,
        arch: str = "arch",
        dataset: str = "user",
        metrics: Sequence[str] | None = None,
        units: Mapping[str, str] | None = None,
        on_bad: str = "raise",
        key: str = "canonical",
    ) -> Benchmark:
        """:meth:`from_frame` on a CSV file; messages name the file and its line (the header is line 1).

        A missing, unreadable or empty file raises :class:`~archrank.errors.DataFileError`.
        """
        from archrank.datasets.user_table import benchmark_from_frame, read_table
        from archrank.spaces import get as get_space

        path = Path(path)
        return benchmark_from_frame(
            read_table(path),
            get_space(space),
            arch,
            dataset,
            metrics,
            units,
            str(path),
            on_bad,
            key,
            label=lambda i: f"{path}, line {i + 2}",
        )

    def __init__(
        self,
        name: str,
        dataset: str,
        space: SearchSpace,
        columns: dict[tuple[str, int | None], np.ndarray],
        info: dict[tuple[str, int | None], MetricInfo],
        row_of: Callable[[Any], int | None],
        decode_rows: Callable[[np.ndarray], list[Any]],
        id_columns: Callable[[], dict[str, Sequence[Any]]] | None = None,
    ) -> None:
        self.name, self.dataset, self.space = name, dataset, space
        self._columns, self._info = columns, info
        self._row_of, self._decode_rows = row_of, decode_rows
        self._id_columns = id_columns
        self._n = len(next(iter(columns.values())))

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"<Benchmark {self.name}/{self.dataset}: {self._n} architectures, metrics {self.metrics()}>"

    def metrics(self) -> dict[str, list[int | None]]:
        """Metric name -> the epoch budgets it is recorded at (``[None]`` for epoch-free metrics)."""
        out: dict[str, list[int | None]] = {}
        for metric, epochs in self._columns:
            out.setdefault(metric, []).append(epochs)
        return {m: sorted(e, key=lambda v: -1 if v is None else v) for m, e in out.items()}

    def info(self, metric: str, epochs: int | None = None) -> MetricInfo:
        """Unit, source and split note of a metric."""
        return self._info[self._column_key(metric, epochs)]

    def _column_key(self, metric: str, epochs: int | None) -> tuple[str, int | None]:
        available = self.metrics()
        if metric not in available:
            raise UnknownChoiceError(f"metric of {self.name}/{self.dataset}", metric, sorted(available))
        budgets = available[metric]
        if epochs is None:
            return metric, budgets[-1]
        if epochs not in budgets:
            raise UnknownChoiceError(f"epochs for {metric!r} on {self.name}/{self.dataset}", epochs, budgets)
        return metric, epochs

    def row(self, arch: Any) -> int:
        """Row of ``arch`` in this table (an architecture object or anything ``space.parse`` reads)."""
        parsed = self.space.ensure(arch)
        r = self._row_of(parsed)
        if r is None:
            raise UnknownArchitectureError(
                f"{parsed} is a valid {self.space.name} architecture but is not among the "
                f"{self._n} architectures of the {self.name}/{self.dataset} table"
            )
        return r

    def __contains__(self, arch: Any) -> bool:
        try:
            return self._row_of(self.space.ensure(arch)) is not None
        except ValueError:
            return False

    def query(self, arch: Any, metric: str, epochs: int | None = None) -> float:
        """Value of ``metric`` for one architecture; ``epochs=None`` takes the largest budget recorded.

        Accuracies are in percent, parameters in millions; :meth:`info` gives each metric's unit.
        """
        key = self._column_key(metric, epochs)
        return float(self._columns[key][self.row(arch)])

    def values(self, metric: str, epochs: int | None = None, archs: Sequence[Any] | None = None) -> np.ndarray:
        """Metric column as a float64 array: for every row, or for the given architectures in order."""
        column = self._columns[self._column_key(metric, epochs)]
        if archs is None:
            return column.copy()
        return column[np.array([self.row(a) for a in archs], dtype=np.int64)]

    def archs(self) -> list[Any]:
        """Every architecture of the table, in row order."""
        return self._decode_rows(np.arange(self._n))

    def frame(self) -> pd.DataFrame:
        """One row per architecture: identifiers (``arch`` string, ...) then ``metric@epochs`` columns."""
        ids = self._id_columns() if self._id_columns else {"arch": [str(a) for a in self.archs()]}
        data: dict[str, Any] = dict(ids)
        for (metric, epochs), values in self._columns.items():
            data[metric if epochs is None else f"{metric}@{epochs}"] = values
        return pd.DataFrame(data)

    def top(self, k: int, metric: str, epochs: int | None = None, ascending: bool = False) -> pd.DataFrame:
        """The ``k`` best rows by a metric (highest first unless ``ascending``), with the arch string."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        metric, epochs = self._column_key(metric, epochs)
        column = self._columns[(metric, epochs)]
        order = np.argsort(column if ascending else -column, kind="stable")[:k]
        name = metric if epochs is None else f"{metric}@{epochs}"
        return pd.DataFrame({"row": order, "arch": [str(a) for a in self._decode_rows(order)], name: column[order]})
