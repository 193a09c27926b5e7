"""Latency predictors against the number of measurements on the target device (HELP's few-shot protocol)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr
from sklearn.base import clone
from tqdm.auto import tqdm

from archrank.errors import UnknownChoiceError

LATENCY_STUDY_COLUMNS = ["predictor", "device", "n", "seed", "spearman", "kendall"]
DEFAULT_LATENCY_SIZES = (5, 10, 20, 50, 100)

#: HELP's split of the NB201 devices (Lee et al., NeurIPS 2021), as the shipped table's metric names
HELP_META_TRAIN = tuple(
    f"latency_help_{d}"
    for d in (
        "1080ti_1",
        "1080ti_32",
        "1080ti_256",
        "silver_4114",
        "silver_4210r",
        "samsung_a50",
        "pixel3",
        "essential_ph_1",
        "samsung_s7",
    )
)
HELP_META_VALID = tuple(f"latency_help_{d}" for d in ("titanx_1", "titanx_32", "titanx_256", "gold_6240"))
HELP_META_TEST = tuple(
    f"latency_help_{d}" for d in ("titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss")
)


def default_latency_predictors(reference_devices: Sequence[str]) -> dict[str, Any]:
    """The few-shot predictor and its two baselines: the lookup table and a plain linear model."""
    from archrank.predictors import make

    refs = list(reference_devices)
    return {
        "latency_transfer": make("latency_transfer", reference_devices=refs),
        "latency_lut": make("latency_lut"),
        "linear_on_references": make("latency_transfer", reference_devices=refs, models=("linear",)),
    }


def _templates(predictors: Any, reference_devices: Sequence[str], space: Any) -> dict[str, Any]:
    from archrank.predictors import make

    if predictors is None:
        templates = default_latency_predictors(reference_devices)
    elif isinstance(predictors, Mapping):
        templates = dict(predictors)
    else:
        templates = {}
        for name in predictors:
            est = make(name)
            if "reference_devices" in est.get_params(deep=False):
                est.set_params(reference_devices=list(reference_devices))
            templates[name] = est
    for est in templates.values():
        if "space" in est.get_params(deep=False) and est.get_params(deep=False)["space"] is None:
            est.set_params(space=space)
    return templates


def latency_study(
    space: Any,
    target_devices: Sequence[str],
    reference_devices: Sequence[str],
    train_sizes: Sequence[int] = DEFAULT_LATENCY_SIZES,
    seeds: Iterable[int] = range(10),
    predictors: Sequence[str] | Mapping[str, Any] | None = None,
    dataset: str = "cifar10",
    table: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Fit each latency predictor on ``n`` measured cells of each target device; rank all other cells.

    ``space``: a space name or object; its table for ``dataset`` (``space.load_table``) holds the
    latencies, unless ``table`` (a :class:`~archrank.datasets.Benchmark`) is given. Devices are the
    table's latency metric names (e.g. ``"latency_help_pixel2"``, in ms). For each seed the ``n``
    training cells are the first ``n`` of one seeded permutation of all cells (nested across sizes,
    the same for every device and predictor); Spearman and Kendall tau are against the true latency
    of every other cell. ``predictors``: None (:func:`default_latency_predictors`), names for
    :func:`archrank.predictors.make` (``reference_devices`` filled in where they take it), or a
    mapping label -> unfitted predictor (cloned per run, ``random_state`` = seed). A reference
    device that is also a target is an error (it would leak the answer).

    Returns one row per predictor x device x n x seed, columns :data:`LATENCY_STUDY_COLUMNS`.
    """
    from archrank.spaces import resolve_space

    sp = resolve_space(space)
    bench = table if table is not None else sp.load_table(dataset)
    available = list(bench.metrics())
    for device in [*target_devices, *reference_devices]:
        if device not in available:
            raise UnknownChoiceError("latency metric", device, [m for m in available if m.startswith("latency")])
    leaked = sorted(set(target_devices) & set(reference_devices))
    if leaked:
        raise ValueError(f"device {leaked[0]!r} is both a target and a reference: leave targets out of the references")
    sizes = sorted({int(n) for n in train_sizes})
    if not sizes or sizes[0] < 3 or sizes[-1] >= len(bench):
        raise ValueError(f"train_sizes must lie in [3, {len(bench) - 1}], got {list(train_sizes)}")
    templates = _templates(predictors, reference_devices, sp)
    for est in templates.values():
        if "reference" in est.get_params(deep=False) and est.get_params(deep=False)["reference"] is None:
            est.set_params(reference=bench, dataset=dataset)
    archs = bench.archs()
    seeds = [int(s) for s in seeds]
    truth = {d: bench.values(d) for d in target_devices}
    rows = []
    jobs = [(s, d, n, label) for s in seeds for d in target_devices for n in sizes for label in templates]
    for seed, device, n, label in tqdm(jobs, desc="latency study", unit="fit", disable=not progress):
        order = np.random.default_rng(seed).permutation(len(archs))
        train, rest = order[:n], order[n:]
        est = clone(templates[label])
        if "random_state" in est.get_params(deep=False):
            est.set_params(random_state=seed)
        y = truth[device]
        est.fit([archs[i] for i in train], y[train])
        pred = np.asarray(est.predict([archs[i] for i in rest]), dtype=np.float64)
        rows.append(
            {
                "predictor": label,
                "device": device,
                "n": n,
                "seed": seed,
                "spearman": float(spearmanr(pred, y[rest]).statistic),
                "kendall": float(kendalltau(pred, y[rest]).statistic),
            }
        )
    return pd.DataFrame(rows, columns=LATENCY_STUDY_COLUMNS)
