"""The bundled NAS-Bench-201 table (all 15,625 cells; four datasets) as a Benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from archrank._datafiles import load_npz
from archrank.datasets.benchmark import Benchmark
from archrank.datasets.bundled import split_columns
from archrank.spaces.nb201.space import NB201Arch, NB201Space


def load_table(space: NB201Space, dataset: str, data_dir: Path | None) -> Benchmark:
    """``space``'s table of ``dataset``: row ``i`` is the cell of NB201 index ``i``."""
    columns, info = split_columns("nb201", dataset, load_npz("nb201.npz", data_dir), data_dir)
    index_of_code = space._index_of_code

    def row_of(arch: NB201Arch) -> int:
        return int(index_of_code[arch.code])

    def ids() -> dict[str, Sequence[object]]:
        archs = space.all()
        return {"index": np.arange(len(archs)), "arch": [str(a) for a in archs]}

    return Benchmark(
        "nb201", dataset, space, columns, info, row_of, lambda rows: [space.from_index(int(r)) for r in rows], ids
    )
