"""Reading the bundled tables' metric columns; each space's ``table`` module builds its Benchmark with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archrank._datafiles import load_json
from archrank.datasets.benchmark import MetricInfo

Columns = dict[tuple[str, int | None], np.ndarray]


def split_columns(
    name: str, dataset: str, arrays: dict[str, np.ndarray], data_dir: Path | None
) -> tuple[Columns, dict[tuple[str, int | None], MetricInfo]]:
    """The ``dataset|metric|epochs`` arrays of one dataset as (metric, epochs) columns, and their metadata.

    ``arrays``: the contents of a bundled ``.npz``; the metadata (unit, source, note) comes from
    ``benchmarks.json`` rows of benchmark ``name`` and ``dataset``.
    """
    columns: Columns = {}
    for key, values in arrays.items():
        if key.count("|") != 2:
            continue
        ds, metric, epochs = key.split("|")
        if ds == dataset:
            columns[(metric, int(epochs) if epochs else None)] = values
    info = {}
    for m in load_json("benchmarks.json", data_dir):
        if m["benchmark"] == name and m["dataset"] == dataset:
            k = (m["metric"], m["epochs"])
            info[k] = MetricInfo(m["metric"], m["epochs"], m["unit"], m["source"], m.get("note", ""))
    return columns, info
