"""Bundled NAS benchmark tables: ``load("nb201" | "nb101" | "darts", dataset=...)``.

All data ships inside the package (converted by ``scripts/convert_data.py``; sources credited
in the README and NOTICE) and is checked against its SHA-256 on load. The user's own results and
candidate lists are read by ``read_results`` and ``read_architectures``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from archrank._datafiles import load_json, load_npz
from archrank._names import dataset_name, space_key
from archrank.datasets.benchmark import Benchmark, MetricInfo
from archrank.datasets.results_file import read_architectures, read_results
from archrank.errors import UnknownChoiceError
from archrank.spaces import get as get_space
from archrank.spaces.darts import OPS as DARTS_OPS
from archrank.spaces.darts import DartsArch
from archrank.spaces.nb101 import NB101Arch, NB101Space
from archrank.spaces.nb201 import NB201Arch, NB201Space

DATASETS: dict[str, tuple[str, ...]] = {
    "nb201": ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120"),
    "nb101": ("cifar10",),
    "darts": ("cifar10",),
}


def names() -> dict[str, tuple[str, ...]]:
    """Benchmark name -> its datasets."""
    return dict(DATASETS)


def _split_columns(
    name: str, dataset: str, arrays: dict[str, np.ndarray], data_dir: Path | None
) -> tuple[dict[tuple[str, int | None], np.ndarray], dict[tuple[str, int | None], MetricInfo]]:
    columns: dict[tuple[str, int | None], np.ndarray] = {}
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


def _load_nb201(dataset: str, data_dir: Path | None) -> Benchmark:
    space = get_space("nb201")
    assert isinstance(space, NB201Space)
    columns, info = _split_columns("nb201", dataset, load_npz("nb201.npz", data_dir), data_dir)
    index_of_code = space._index_of_code

    def row_of(arch: NB201Arch) -> int:
        return int(index_of_code[arch.code])

    def ids() -> dict[str, Sequence[object]]:
        archs = space.all()
        return {"index": np.arange(len(archs)), "arch": [str(a) for a in archs]}

    return Benchmark(
        "nb201", dataset, space, columns, info, row_of, lambda rows: [space.from_index(int(r)) for r in rows], ids
    )


def _load_nb101(dataset: str, data_dir: Path | None) -> Benchmark:
    space = get_space("nb101")
    assert isinstance(space, NB101Space)
    arrays = load_npz("nb101.npz", data_dir)
    columns, info = _split_columns("nb101", dataset, arrays, data_dir)
    cell_rows = arrays["row"].astype(np.int64)
    table_row = {int(c): i for i, c in enumerate(cell_rows)}

    def row_of(arch: NB101Arch) -> int | None:
        return table_row.get(int(space.cell_rows([arch.module_hash])[0]))

    def ids() -> dict[str, Sequence[object]]:
        archs = space._decode(cell_rows)
        return {"module_hash": [a.module_hash for a in archs], "arch": [str(a) for a in archs]}

    return Benchmark(
        "nb101",
        dataset,
        space,
        columns,
        info,
        row_of,
        lambda rows: space._decode(cell_rows[np.asarray(rows, dtype=np.int64)]),
        ids,
    )


def _load_darts(dataset: str, data_dir: Path | None) -> Benchmark:
    space = get_space("darts")
    arrays = load_npz("darts.npz", data_dir)
    columns, info = _split_columns("darts", dataset, arrays, data_dir)
    compact = arrays["compact"]

    def decode(rows: np.ndarray) -> list[DartsArch]:
        return [
            DartsArch(*(tuple((DARTS_OPS[int(op)], int(inp)) for inp, op in compact[r, c]) for c in range(2)))
            for r in np.asarray(rows, dtype=np.int64)
        ]

    all_archs = decode(np.arange(len(compact)))
    row = {a: i for i, a in enumerate(all_archs)}
    return Benchmark("darts", dataset, space, columns, info, row.get, decode)


def load(name: str, dataset: str = "cifar10", data_dir: str | Path | None = None) -> Benchmark:
    """Load a bundled benchmark table.

    ``name``: ``nb201`` (datasets ``cifar10``, ``cifar10-valid``, ``cifar100``, ``ImageNet16-120``),
    ``nb101`` (``cifar10``; the 20,001 cells of the bundled table) or ``darts`` (``cifar10``; 725
    NAS-Bench-301 cells). ``data_dir`` overrides the bundled data folder (for tests and converters).
    """
    key = space_key(name) if isinstance(name, str) else name
    if key not in DATASETS:
        raise UnknownChoiceError("benchmark", name, list(DATASETS))
    ds = dataset_name(dataset, DATASETS[key]) if isinstance(dataset, str) else None
    if ds is None:
        raise UnknownChoiceError(f"dataset of {key}", dataset, DATASETS[key])
    root = Path(data_dir) if data_dir is not None else None
    loader = {"nb201": _load_nb201, "nb101": _load_nb101, "darts": _load_darts}[key]
    return loader(ds, root)


__all__ = ["DATASETS", "Benchmark", "MetricInfo", "load", "names", "read_architectures", "read_results"]
