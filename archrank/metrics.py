"""Rank-correlation and top-k metrics between true and predicted scores, with input checks.

Every function takes two 1-D sequences of equal length (>= 2), raises ValueError on NaN/inf,
length mismatch or wrong shape, and returns a float. Correlations of a constant input are
undefined: they come back as NaN with scipy's ConstantInputWarning, never as a made-up number.
``scipy.stats`` is imported inside the functions that use it (it costs about half a second).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


def _check_pair(y_true: ArrayLike, y_pred: ArrayLike, min_len: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    for name, arr in (("y_true", a), ("y_pred", b)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"{name} has {int(bad.sum())} NaN/inf value(s), first at position {int(np.argmax(bad))}")
    if len(a) != len(b):
        raise ValueError(f"y_true and y_pred differ in length: {len(a)} != {len(b)}")
    if len(a) < min_len:
        raise ValueError(f"need at least {min_len} values, got {len(a)}")
    return a, b


def kendall_tau(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Kendall's tau-b (ties handled; scipy's default), in [-1, 1], signed."""
    from scipy import stats

    a, b = _check_pair(y_true, y_pred)
    return float(stats.kendalltau(a, b).statistic)


def spearman(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Spearman's rank correlation rho, in [-1, 1], signed."""
    from scipy import stats

    a, b = _check_pair(y_true, y_pred)
    return float(stats.spearmanr(a, b).statistic)


def pearson(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Pearson's linear correlation r, in [-1, 1], signed (not its absolute value)."""
    from scipy import stats

    a, b = _check_pair(y_true, y_pred)
    return float(stats.pearsonr(a, b).statistic)


def _resolve_k(k: int | float, n: int) -> int:
    """A count from ``k``: an int in 1..n, or a float fraction in (0, 1) of ``n`` (at least 1)."""
    if isinstance(k, float) and 0 < k < 1:
        return max(1, round(k * n))
    if isinstance(k, bool) or (isinstance(k, float) and not k.is_integer()):
        raise ValueError(f"k must be a count >= 1 or a fraction in (0, 1), got {k!r}")
    if not 1 <= int(k) <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    return int(k)


def precision_at_k(y_true: ArrayLike, y_pred: ArrayLike, k: int | float = 0.1) -> float:
    """Fraction of the predicted top-k that is in the true top-k (higher score = better).

    ``k`` is a count (int >= 1) or a fraction of the data (float in (0, 1), e.g. 0.1 for top-10%).
    Ties at the k-th place are broken by position (stable sort), for both rankings alike. Since
    both sets have k members, this equals the top-k overlap |top_true & top_pred| / k.
    """
    a, b = _check_pair(y_true, y_pred, min_len=1)
    kk = _resolve_k(k, len(a))
    top_true = set(np.argsort(-a, kind="stable")[:kk].tolist())
    top_pred = set(np.argsort(-b, kind="stable")[:kk].tolist())
    return len(top_true & top_pred) / kk


def top_k_regret(y_true: ArrayLike, y_pred: ArrayLike, k: int = 1) -> float:
    """Best true value overall minus the best true value among the predicted top-k (>= 0; 0 is ideal)."""
    a, b = _check_pair(y_true, y_pred, min_len=1)
    kk = _resolve_k(k, len(a))
    chosen = np.argsort(-b, kind="stable")[:kk]
    return float(a.max() - a[chosen].max())


__all__ = ["kendall_tau", "pearson", "precision_at_k", "spearman", "top_k_regret"]
