"""The bundled DARTS table (725 NAS-Bench-301 cells, CIFAR-10) as a Benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archrank._datafiles import load_npz
from archrank.datasets.benchmark import Benchmark
from archrank.datasets.bundled import split_columns
from archrank.spaces.darts.space import OPS, DartsArch, DartsSpace


def load_table(space: DartsSpace, dataset: str, data_dir: Path | None) -> Benchmark:
    """``space``'s table of ``dataset``; rows in the bundled file's order, cells found by their genotype."""
    arrays = load_npz("darts.npz", data_dir)
    columns, info = split_columns("darts", dataset, arrays, data_dir)
    compact = arrays["compact"]

    def decode(rows: np.ndarray) -> list[DartsArch]:
        return [
            DartsArch(*(tuple((OPS[int(op)], int(inp)) for inp, op in compact[r, c]) for c in range(2)))
            for r in np.asarray(rows, dtype=np.int64)
        ]

    all_archs = decode(np.arange(len(compact)))
    row = {a: i for i, a in enumerate(all_archs)}
    return Benchmark("darts", dataset, space, columns, info, row.get, decode)
