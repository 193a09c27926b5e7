"""Bundled NAS benchmark tables: ``load("nb201" | "nb101" | "darts", dataset=...)``.

All data ships inside the package (converted by ``scripts/convert_data.py``; sources credited
in the README and NOTICE) and is checked against its SHA-256 on load. The user's own results and
candidate lists are read by ``read_results`` and ``read_architectures``.
"""

from __future__ import annotations

from pathlib import Path

from archrank._names import dataset_name
from archrank.datasets.benchmark import Benchmark, MetricInfo
from archrank.datasets.results_file import read_architectures, read_results
from archrank.errors import UnknownChoiceError
from archrank.spaces import SearchSpace
from archrank.spaces import get as get_space
from archrank.spaces import names as space_names


def names() -> dict[str, tuple[str, ...]]:
    """Benchmark name -> its datasets: every space (built-in or registered) that ships a table."""
    return {n: get_space(n).tables for n in space_names() if get_space(n).tables}


def load(name: str | SearchSpace, dataset: str = "cifar10", data_dir: str | Path | None = None) -> Benchmark:
    """Load a bundled benchmark table.

    ``name``: ``nb201`` (datasets ``cifar10``, ``cifar10-valid``, ``cifar100``, ``ImageNet16-120``),
    ``nb101`` (``cifar10``; the 20,001 cells of the bundled table) or ``darts`` (``cifar10``; 725
    NAS-Bench-301 cells). ``data_dir`` overrides the bundled data folder (for tests and converters).
    ``name`` may be a space object; any space whose ``tables`` lists datasets loads through its
    ``load_table``.
    """
    tables = names()
    if isinstance(name, SearchSpace):
        space = name
    else:
        try:
            space = get_space(name)
        except (UnknownChoiceError, TypeError):
            raise UnknownChoiceError("benchmark", name, list(tables)) from None
    if not space.tables:
        raise UnknownChoiceError(
            f"benchmark (the {space.name} space ships no table: read your results with "
            "Benchmark.from_csv / from_frame, or --table on the command line)",
            space.name,
            list(tables),
        )
    ds = dataset_name(dataset, space.tables) if isinstance(dataset, str) else None
    if ds is None:
        raise UnknownChoiceError(f"dataset of {space.name}", dataset, space.tables)
    bench = space.load_table(ds, Path(data_dir) if data_dir is not None else None)
    bench._reload = (space, ds, data_dir)  # pickles load the bundled table again instead of copying it
    return bench


__all__ = ["Benchmark", "MetricInfo", "load", "names", "read_architectures", "read_results"]
