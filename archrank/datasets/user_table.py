"""A :class:`Benchmark` from the user's own results table (one row per architecture, metric columns).

Column names ``metric@epochs`` (e.g. ``valid_accuracy@200``) record a metric at an epoch budget;
any other name is an epoch-free metric. Rows are keyed by the space's ``canonical`` key, so an
architecture that is isomorphic to a row finds that row (``key="exact"``: by the architecture
itself, for tables such as NB201's that trained isomorphic cells separately). Bad rows (an architecture the space
cannot parse, a missing or non-numeric value, two rows of one canonical cell with different
values) raise an error that names the row, or are dropped with a warning when ``on_bad="drop"``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archrank.datasets.benchmark import Benchmark, MetricInfo
from archrank.errors import DataFileError, InvalidArchitectureError, UnknownChoiceError
from archrank.spaces.base import SearchSpace

_EPOCHS = re.compile(r"^(?P<metric>.+)@(?P<epochs>\d+)$")
ON_BAD = ("raise", "drop")
KEYS = ("canonical", "exact")


class BadRowError(InvalidArchitectureError):
    """A row of a user's results table that cannot be used (named in the message)."""


def split_column(name: str) -> tuple[str, int | None]:
    """``"valid_accuracy@200"`` -> ``("valid_accuracy", 200)``; a name without ``@N`` has no epochs."""
    match = _EPOCHS.match(name)
    if match is None:
        return name, None
    return match["metric"], int(match["epochs"])


def _metric_columns(frame: pd.DataFrame, arch: str, metrics: Sequence[str] | None) -> list[str]:
    if arch not in frame.columns:
        raise UnknownChoiceError("architecture column", arch, [str(c) for c in frame.columns])
    if metrics is None:
        chosen = [str(c) for c in frame.columns if c != arch]
    else:
        chosen = [str(m) for m in metrics]
        absent = [m for m in chosen if m not in frame.columns]
        if absent:
            raise UnknownChoiceError("metric column", absent[0], [str(c) for c in frame.columns if c != arch])
    if not chosen:
        raise ValueError(f"the table has no metric columns besides {arch!r}")
    keys = [split_column(c) for c in chosen]
    if len(set(keys)) != len(keys):
        raise ValueError(f"two metric columns name the same metric and epochs: {chosen}")
    for metric in {m for m, e in keys if e is None}:
        budgets = [f"{metric}@{e}" for m, e in keys if m == metric and e is not None]
        if budgets:  # a plain column next to metric@N: which one a query without epochs means is ambiguous
            raise ValueError(
                f"column {metric!r} has no epoch budget but {budgets} have one: rename it {metric}@EPOCHS "
                "(its budget) or give it another name"
            )
    return chosen


def _numeric(frame: pd.DataFrame, columns: list[str], label: Callable[[int], str]) -> tuple[np.ndarray, list[str]]:
    """(n, m) float64 values and, per row, why it is bad ('' when it is fine)."""
    values = np.empty((len(frame), len(columns)), dtype=np.float64)
    problems = [""] * len(frame)
    for j, column in enumerate(columns):
        raw = frame[column]
        col = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        values[:, j] = col
        for i in np.flatnonzero(~np.isfinite(col)):
            if not problems[i]:
                shown = raw.iloc[i]
                kind = "no value" if pd.isna(shown) else f"a value that is not a finite number ({shown!r})"
                problems[i] = f"{label(i)}: column {column!r} has {kind}"
    return values, problems


def benchmark_from_frame(
    frame: pd.DataFrame,
    space: SearchSpace,
    arch: str = "arch",
    dataset: str = "user",
    metrics: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    source: str = "user table",
    on_bad: str = "raise",
    key: str = "canonical",
    label: Callable[[int], str] | None = None,
) -> Benchmark:
    """See :meth:`Benchmark.from_frame`; ``label(i)`` names the i-th row (0-based) in messages."""
    if on_bad not in ON_BAD:
        raise UnknownChoiceError("on_bad", on_bad, ON_BAD)
    if key not in KEYS:
        raise UnknownChoiceError("row key", key, KEYS)
    key_of: Callable[[Any], Hashable] = space.canonical if key == "canonical" else (lambda a: a)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"from_frame takes a pandas DataFrame, got {type(frame).__name__}")
    name_row = label or (lambda i: f"row {i + 1}")
    columns = _metric_columns(frame, arch, metrics)
    if frame.empty:
        raise ValueError("the results table has no rows")
    values, problems = _numeric(frame, columns, name_row)
    archs: list[Any] = [None] * len(frame)
    for i, text in enumerate(frame[arch]):
        try:
            archs[i] = space.ensure(text if isinstance(text, space.arch_type) else str(text).strip())
        except InvalidArchitectureError as err:
            problems[i] = f"{name_row(i)}: {err}"
    first_of: dict[Hashable, int] = {}
    group: list[int] = [-1] * len(frame)
    for i, a in enumerate(archs):
        if problems[i]:
            continue
        j = first_of.setdefault(key_of(a), i)
        group[i] = j
        if j != i and not np.array_equal(values[i], values[j]):
            c = int(np.flatnonzero(values[i] != values[j])[0])
            problems[i] = (
                f"{name_row(i)} ({a}) is the same cell as {name_row(j)} ({archs[j]}) but its "
                f"{columns[c]!r} differs ({values[i, c]} vs {values[j, c]})"
            )
            problems[j] = problems[j] or problems[i]
    bad = [p for p in problems if p]
    if bad and on_bad == "raise":
        more = f" ({len(bad) - 1} more bad row(s); on_bad='drop' drops them with a warning)" if len(bad) > 1 else ""
        raise BadRowError(f"{bad[0]}{more}")
    conflicted = {group[i] for i, p in enumerate(problems) if p and group[i] >= 0}
    keep = [i for i in range(len(frame)) if not problems[i] and group[i] == i and i not in conflicted]
    if bad:
        warnings.warn(
            f"dropped {len(bad)} bad row(s) of the results table, the first: {bad[0]}", UserWarning, stacklevel=3
        )
    if not keep:
        raise ValueError("no usable rows remain in the results table")
    kept = [archs[i] for i in keep]
    row_of_key = {key_of(a): r for r, a in enumerate(kept)}
    cols: dict[tuple[str, int | None], np.ndarray] = {}
    info: dict[tuple[str, int | None], MetricInfo] = {}
    unit_of = dict(units or {})
    for j, column in enumerate(columns):
        metric, epochs = split_column(column)
        cols[(metric, epochs)] = values[keep, j].copy()
        info[(metric, epochs)] = MetricInfo(metric, epochs, unit_of.get(column, unit_of.get(metric, "")), source)

    def row_of(a: Any) -> int | None:
        return row_of_key.get(key_of(a))

    def decode(rows: np.ndarray) -> list[Any]:
        return [kept[int(r)] for r in np.asarray(rows, dtype=np.int64)]

    return Benchmark(space.name, dataset, space, cols, info, row_of, decode)


def read_table(path: str | Path) -> pd.DataFrame:
    """A user's CSV as a DataFrame; DataFileError for a missing, unreadable or empty file."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"results file {path} does not exist")
    try:
        return pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataFileError(f"cannot read {path} as CSV: {err}") from None
