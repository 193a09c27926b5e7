"""Rank transforms shared by the studies, the proxy features, the search and the target transforms.

Every function takes a 1-D float array (or an (n, k) matrix for :func:`mean_rank`) and returns
float64 arrays of the same length. NaN marks a missing score and stays NaN; ``-inf`` (the lowest
score of log-valued proxies) takes part as the lowest value. Ties share their average rank.
``scipy.stats`` is imported inside the functions that use it (it costs about half a second).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1 = lowest) of the non-NaN values; NaN stays NaN. Shape (n,) -> (n,)."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    out[ok] = stats.rankdata(values[ok])
    return out


def quantiles(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (0 = lowest, 1 = highest, ties at their mean rank); NaN stays NaN."""
    values = np.asarray(values, dtype=np.float64)
    r = ranks(values)
    return (r - 1) / max(1, int((~np.isnan(values)).sum()) - 1)


def reference_quantiles(values: np.ndarray, reference: np.ndarray, name: str = "score") -> np.ndarray:
    """:func:`quantiles` of ``values`` placed among ``reference`` instead of among themselves.

    A value gets the mean rank it would have among the reference's non-NaN values, scaled by the
    reference's size and clipped to [0, 1]; NaN stays NaN. With ``reference=values`` this equals
    :func:`quantiles`. ``name`` only labels the error for a reference of fewer than 2 values.
    """
    values = np.asarray(values, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    ref = np.sort(reference[~np.isnan(reference)])
    if len(ref) < 2:
        raise ValueError(f"the reference table has fewer than 2 scores of {name!r}")
    below = np.searchsorted(ref, values, side="left")
    equal = np.searchsorted(ref, values, side="right") - below
    col = np.clip((below + (equal - 1) / 2) / (len(ref) - 1), 0.0, 1.0)
    col[np.isnan(values)] = np.nan
    return col


def mean_rank(values: np.ndarray) -> np.ndarray:
    """Rank aggregation of an (n, k) score matrix: each row's mean over the k columns of its rank.

    Ranks are taken among the rows where every column has a score; other rows get NaN. (n,) float64.
    """
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"mean_rank takes an (n, k) score matrix, got shape {values.shape}")
    complete = ~np.isnan(values).any(axis=1)
    out = np.full(len(values), np.nan)
    if complete.any() and values.shape[1]:
        out[complete] = np.mean([stats.rankdata(col) for col in values[complete].T], axis=0)
    return out


def mean_rank_of(scores: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """:func:`mean_rank` of the named columns of a score table; KeyError names the missing ones."""
    missing = [c for c in columns if c not in scores.columns]
    if missing:
        raise KeyError(f"score table has no column(s) {missing}")
    return mean_rank(scores[list(columns)].to_numpy(dtype=np.float64))


def normal_scores(values: np.ndarray) -> np.ndarray:
    """The standard-normal quantiles of the values' ranks, ``Phi^-1((rank - 0.5) / n)`` (no NaN allowed)."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("normal_scores takes values without NaN")
    return stats.norm.ppf((stats.rankdata(values) - 0.5) / len(values))


__all__ = ["mean_rank", "mean_rank_of", "normal_scores", "quantiles", "ranks", "reference_quantiles"]
