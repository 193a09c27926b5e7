"""The bundled NAS-Bench-101 table (20,001 cells, CIFAR-10) as a Benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from archrank._datafiles import load_npz
from archrank.datasets.benchmark import Benchmark
from archrank.datasets.bundled import split_columns
from archrank.spaces.nb101.space import NB101Arch, NB101Space


def load_table(space: NB101Space, dataset: str, data_dir: Path | None) -> Benchmark:
    """``space``'s table of ``dataset``; rows in the bundled file's order, cells found by module hash."""
    arrays = load_npz("nb101.npz", data_dir)
    columns, info = split_columns("nb101", dataset, arrays, data_dir)
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
