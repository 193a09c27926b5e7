"""Best-so-far curves of several search runs, as a table and as a plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def _frame(run: Any) -> pd.DataFrame:
    """A run's table: a :class:`archrank.search.SearchResult` or its ``frame()``."""
    return run.frame() if hasattr(run, "frame") else run


def best_so_far_matrix(runs: Sequence[Any], budget: int | None = None) -> np.ndarray:
    """(runs, queries) best score after each query; a run shorter than ``budget`` keeps its last value.
    ``runs``: SearchResults or their frames."""
    runs = [_frame(r) for r in runs]
    n = budget or max(len(r) for r in runs)
    out = np.full((len(runs), n), np.nan)
    for i, r in enumerate(runs):
        curve = r["best_so_far"].to_numpy(dtype=float)[:n]
        out[i, : len(curve)] = curve
        if len(curve) < n and len(curve):
            out[i, len(curve) :] = curve[-1]
    return out


def final_summary(runs: Mapping[str, Sequence[Any]], report: str | None = None) -> pd.DataFrame:
    """Per strategy: mean and std of the best score found and, with ``report``, of that cell's reported metric.
    ``runs``: label -> SearchResults (or their frames)."""
    rows = []
    for label, results in runs.items():
        tables = [_frame(r) for r in results]
        best = [float(t["score"].max()) for t in tables]
        row: dict[str, Any] = {
            "strategy": label,
            "runs": len(tables),
            "best_mean": np.mean(best),
            "best_std": np.std(best),
        }
        if report is not None:
            reported = [float(t.loc[t["score"].idxmax(), report]) for t in tables]
            row[f"{report}_mean"], row[f"{report}_std"] = np.mean(reported), np.std(reported)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_best_so_far(runs: Mapping[str, Sequence[Any]], ax: Any = None, ylabel: str = "best score") -> Any:
    """Mean +/- std over runs of the best score so far against the number of queries, one curve per strategy."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, tables in runs.items():
        curves = best_so_far_matrix(tables)
        x = np.arange(1, curves.shape[1] + 1)
        mean, std = np.nanmean(curves, axis=0), np.nanstd(curves, axis=0)
        ax.plot(x, mean, label=f"{label} ({len(tables)} runs)")
        ax.fill_between(x, mean - std, mean + std, alpha=0.08)
    ax.set_xlabel("queries")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    return ax
