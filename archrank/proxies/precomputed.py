"""The project's own precomputed proxy tables, shipped inside the package.

``proxies_<space>_<dataset>.npz`` holds ``index`` (the benchmark's cell index), one float64
column per proxy and ``settings`` (JSON: proxies, batch size, seed, device, torch version,
command, how many cells). Written by ``scripts/precompute_proxies.py``; checksummed like every
bundled file.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from archrank._datafiles import DATA_DIR, load_npz
from archrank.errors import DataFileError, UnknownChoiceError
from archrank.spaces import get as get_space

PREFIX = "proxies_"


def precomputed_name(space: str, dataset: str) -> str:
    return f"{PREFIX}{space}_{dataset}.npz"


def available() -> list[tuple[str, str]]:
    """(space, dataset) pairs with a shipped table."""
    out = []
    for path in sorted(DATA_DIR.glob(f"{PREFIX}*.npz")):
        space, _, dataset = path.stem[len(PREFIX) :].partition("_")
        out.append((space, dataset))
    return out


def load_precomputed(space: str = "nb201", dataset: str = "cifar10") -> pd.DataFrame:
    """The shipped scores: columns ``index``, ``arch`` and one per proxy; settings in ``.attrs["settings"]``.

    The table covers the cells listed in ``index`` (see ``settings["cells"]``); a cell whose
    proxy failed holds NaN there.
    """
    space_name = get_space(space).name
    if (space_name, dataset) not in available():
        choices = [f"{s}/{d}" for s, d in available()]
        raise UnknownChoiceError("precomputed proxy table", f"{space_name}/{dataset}", choices)
    arrays = load_npz(precomputed_name(space_name, dataset))
    try:
        settings = json.loads(str(arrays["settings"]))
        index = arrays["index"].astype(int)
        columns = {name: arrays[name] for name in settings["proxies"]}
    except (KeyError, ValueError) as err:
        raise DataFileError(f"precomputed proxy table {space_name}/{dataset} is malformed: {err}") from err
    archs = get_space(space_name).all()
    table = pd.DataFrame({"index": index, "arch": [str(archs[i]) for i in index], **columns})
    table.attrs["settings"] = settings
    return table


@functools.lru_cache(maxsize=4)
def _shipped_columns(space: str, dataset: str) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Settings and ``proxy -> {arch string: score}`` of a shipped table (read once per process)."""
    table = load_precomputed(space, dataset)
    settings = table.attrs["settings"]
    columns = {p: dict(zip(table["arch"], table[p].astype(float), strict=True)) for p in settings["proxies"]}
    return settings, columns


def shipped_scores(context: Any, archs: Iterable[str], proxies: Sequence[str]) -> dict[tuple[str, str], float]:
    """``(arch, proxy) -> score`` from the shipped table for the cells and proxies it holds, when it
    was computed with ``context``'s settings (space, dataset, batch size, seed, definitions
    version); empty otherwise. NaN scores (a failed proxy) are left out, to be computed again."""
    if (context.space, context.dataset) not in available():
        return {}
    settings, columns = _shipped_columns(context.space, context.dataset)
    same = (settings["batch_size"], settings["seed"], settings["definitions_version"]) == (
        context.batch_size,
        context.seed,
        context.version,
    )
    if not same:
        return {}
    out = {}
    for proxy in proxies:
        column = columns.get(proxy, {})
        for arch in archs:
            value = column.get(arch)
            if value is not None and not math.isnan(value):
                out[(arch, proxy)] = value
    return out
