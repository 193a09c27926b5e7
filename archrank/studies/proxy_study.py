"""Correlation studies of zero-cost proxies: each proxy, and mean-rank combinations, against a benchmark.

Scores are compared through their ranks (Kendall tau-b and Spearman rho are rank statistics),
so ``-inf`` (the lowest score of log-valued proxies) takes part as the lowest rank; NaN scores
(failed architectures) are left out of that proxy's row and reported in ``n_nan``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from archrank import datasets, metrics
from archrank.datasets.benchmark import Benchmark
from archrank.ranking import mean_rank_of as mean_rank
from archrank.ranking import ranks

PROXY_STUDY_COLUMNS = ["proxies", "kind", "n", "n_nan", "kendall_tau", "spearman", "benchmark", "dataset", "metric"]
# Chosen before looking at any result: the four strongest published NB201 proxies of different kinds.
DEFAULT_COMBINATION = ("synflow", "jacob_cov", "nwot", "zico")


def score_columns(scores: pd.DataFrame) -> list[str]:
    """The proxy columns of a score table: numeric columns other than ``index``."""
    return [c for c in scores.columns if c != "index" and pd.api.types.is_numeric_dtype(scores[c])]


def align_truth(scores: pd.DataFrame, bench: Benchmark, metric: str, epochs: int | None = None) -> np.ndarray:
    """The benchmark's ``metric`` for each row of ``scores`` (matched on its ``arch`` strings, else ``bench.row``)."""
    if "arch" not in scores.columns:
        raise KeyError("score table needs an 'arch' column of architecture strings")
    values = bench.values(metric, epochs)
    position = {str(a): i for i, a in enumerate(bench.archs())}
    rows = [position.get(str(a)) for a in scores["arch"]]
    for i, (a, r) in enumerate(zip(scores["arch"], rows, strict=True)):
        if r is None and a in bench:  # another string of a table cell (an isomorphic one, for canonical-keyed tables)
            rows[i] = bench.row(a)
    absent = [a for a, r in zip(scores["arch"], rows, strict=True) if r is None]
    if absent:
        raise KeyError(f"{len(absent)} architecture(s) of the score table are not in the benchmark, e.g. {absent[0]}")
    return values[np.asarray(rows)]


def _row(label: str, kind: str, predicted: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    ok = ~np.isnan(predicted) & np.isfinite(truth)
    r = ranks(predicted[ok])
    return {
        "proxies": label,
        "kind": kind,
        "n": int(ok.sum()),
        "n_nan": int(np.isnan(predicted).sum()),
        "kendall_tau": metrics.kendall_tau(truth[ok], r),
        "spearman": metrics.spearman(truth[ok], r),
    }


def _prepare(
    scores: pd.DataFrame,
    benchmark: str | Benchmark,
    dataset: str,
    metric: str,
    epochs: int | None,
    proxies: Sequence[str] | None,
) -> tuple[Benchmark, list[str], np.ndarray]:
    """The loaded benchmark, the proxy columns to study, and the truth aligned with ``scores``."""
    bench = benchmark if isinstance(benchmark, Benchmark) else datasets.load(benchmark, dataset)
    names = list(proxies) if proxies is not None else score_columns(scores.drop(columns=["arch"], errors="ignore"))
    if not names:
        raise ValueError("no proxy columns to study")
    missing = [n for n in names if n not in scores.columns]
    if missing:
        available = score_columns(scores.drop(columns=["arch"], errors="ignore"))
        raise KeyError(f"score table has no column(s) {missing}; its proxy columns are {available}")
    return bench, names, align_truth(scores, bench, metric, epochs)


def proxy_study(
    scores: pd.DataFrame,
    benchmark: str | Benchmark = "nb201",
    dataset: str = "cifar10",
    metric: str = "test_accuracy",
    epochs: int | None = None,
    proxies: Sequence[str] | None = None,
    combinations: Mapping[str, Sequence[str]] | None = None,
    search_combinations: int = 3,
) -> pd.DataFrame:
    """Kendall tau and Spearman of each proxy and of mean-rank combinations against ``metric``.

    ``scores``: a table with an ``arch`` column and one column per proxy (``proxies.compute`` or
    ``proxies.load_precomputed``). Rows come out as ``kind="single"`` per proxy,
    ``kind="combination"`` for :data:`DEFAULT_COMBINATION` and each entry of ``combinations``
    (label -> proxy names), and ``kind="search"`` for every subset of 2..``search_combinations``
    proxies (0 to skip). Search rows are selected on the same cells they are scored on, so
    their maximum is an optimistic figure; the fixed combinations are not. Sorted within each
    kind by Kendall tau.
    """
    bench, names, truth = _prepare(scores, benchmark, dataset, metric, epochs, proxies)
    rows = [_row(p, "single", scores[p].to_numpy(dtype=np.float64), truth) for p in names]
    fixed = dict(combinations or {})
    if all(p in names for p in DEFAULT_COMBINATION):
        fixed.setdefault("+".join(DEFAULT_COMBINATION), DEFAULT_COMBINATION)
    rows += [_row(label, "combination", mean_rank(scores, combo), truth) for label, combo in fixed.items()]
    for k in range(2, min(search_combinations, len(names)) + 1):
        for combo in itertools.combinations(names, k):
            rows.append(_row("+".join(combo), "search", mean_rank(scores, combo), truth))
    table = pd.DataFrame(rows)
    table["benchmark"], table["dataset"], table["metric"] = bench.space.name, bench.dataset, metric
    order = {"single": 0, "combination": 1, "search": 2}
    table = table.sort_values(["kind", "kendall_tau"], key=lambda c: c.map(order) if c.name == "kind" else -c)
    return table.reset_index(drop=True)[PROXY_STUDY_COLUMNS]


def plot_proxy_scatter(
    scores: pd.DataFrame,
    benchmark: str | Benchmark = "nb201",
    dataset: str = "cifar10",
    metric: str = "test_accuracy",
    epochs: int | None = None,
    proxies: Sequence[str] | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> Any:
    """One scatter per proxy: the benchmark metric against the proxy's rank percentile. Returns the figure."""
    import matplotlib.pyplot as plt

    bench, names, truth = _prepare(scores, benchmark, dataset, metric, epochs, proxies)
    cols = min(4, len(names))
    fig, axes = plt.subplots(-(-len(names) // cols), cols, figsize=(3.2 * cols, 2.8 * -(-len(names) // cols)))
    axes = np.atleast_1d(axes).ravel()
    shown = np.random.default_rng(seed).permutation(len(scores))[:max_points]
    for ax, name in zip(axes, names, strict=False):
        values = scores[name].to_numpy(dtype=np.float64)
        pct = 100 * (ranks(values) - 1) / max(1, np.sum(~np.isnan(values)) - 1)
        row = _row(name, "single", values, truth)
        ax.scatter(pct[shown], truth[shown], s=2, alpha=0.3)
        ax.set_title(f"{name}: tau {row['kendall_tau']:.3f}, rho {row['spearman']:.3f}", fontsize=9)
        ax.set_xlabel(f"{name} rank percentile", fontsize=8)
        ax.set_ylabel(metric.replace("_", " "), fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"{bench.space.name} {bench.dataset}: proxies against {metric} ({len(scores)} cells)", fontsize=10)
    fig.tight_layout()
    return fig
