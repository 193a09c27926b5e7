"""The user's own files: measured results (architecture, accuracy) and lists of candidate architectures.

A results file is a CSV with an ``arch`` column of architecture strings and a numeric target
column (e.g. the accuracy the user trained to). A candidates file is either a CSV with an
``arch`` column or plain text with one architecture string per line (blank lines and lines
starting with ``#`` skipped). Every row is parsed by the space, and a bad row is an error that
names the file and the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archrank.errors import InvalidArchitectureError, UnknownChoiceError
from archrank.spaces import get as get_space

ARCH_COLUMN = "arch"


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"file {path} does not exist")
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"cannot read {path} as CSV: {err}") from None
    if ARCH_COLUMN not in table.columns:
        raise ValueError(f"{path} has no {ARCH_COLUMN!r} column (columns: {list(table.columns)})")
    if table.empty:
        raise ValueError(f"{path} has no rows")
    return table


def _parse_all(texts: list[Any], space: Any, path: Path, numbers: list[int], unit: str = "row") -> list[Any]:
    """``texts`` parsed by ``space``; a bad one raises naming ``path`` and its ``unit`` number."""
    sp = get_space(space) if isinstance(space, str) else space
    archs = []
    for number, text in zip(numbers, texts, strict=True):
        try:
            archs.append(sp.parse(str(text).strip()))
        except InvalidArchitectureError as err:
            raise InvalidArchitectureError(f"{path}, {unit} {number}: {err}") from None
    return archs


def read_results(path: str | Path, space: Any, target: str | None = None) -> tuple[list[Any], np.ndarray]:
    """Architectures and their measured targets from a CSV (``arch`` column plus ``target``).

    ``target=None`` takes the only numeric column besides ``arch``. Returns ``(archs, y)`` with
    ``y`` float64, shape (n,). Raises ValueError for a missing file, a missing or non-numeric
    column, or a NaN/infinite target (naming its row; rows count from 1 after the header).
    """
    path = Path(path)
    table = _read_csv(path)
    if target is None:
        numeric = [c for c in table.columns if c != ARCH_COLUMN and pd.api.types.is_numeric_dtype(table[c])]
        if len(numeric) != 1:
            raise ValueError(f"{path}: name the target column (numeric columns besides 'arch': {numeric})")
        target = numeric[0]
    if target not in table.columns:
        raise UnknownChoiceError(f"target column of {path}", target, [c for c in table.columns if c != ARCH_COLUMN])
    values = pd.to_numeric(table[target], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(
            f"{path}: {len(bad)} row(s) have no finite {target!r} value, the first is row {bad[0] + 1} "
            f"({table[target].iloc[bad[0]]!r})"
        )
    return _parse_all(list(table[ARCH_COLUMN]), space, path, list(range(1, len(table) + 1))), values


def read_architectures(path: str | Path, space: Any) -> list[Any]:
    """Architectures listed in ``path``: a ``.csv`` with an ``arch`` column, else one string per line."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        texts = list(_read_csv(path)[ARCH_COLUMN])
        return _parse_all(texts, space, path, list(range(1, len(texts) + 1)))
    if not path.is_file():
        raise ValueError(f"file {path} does not exist")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {path} as text: {err}") from None
    rows = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise ValueError(f"{path} lists no architectures")
    return _parse_all([line for _, line in rows], space, path, [number for number, _ in rows], unit="line")
