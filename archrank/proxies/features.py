"""Proxy scores as predictor features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from archrank.ranking import mean_rank_of, quantiles, reference_quantiles


def as_features(
    scores: pd.DataFrame,
    proxies: Sequence[str] | None = None,
    transform: Literal["quantile", "none"] = "quantile",
    mean_rank: Sequence[str] | None = None,
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """An ``arch`` column plus one feature column per proxy, ready for ``predictor_study(features=...)``
    or :func:`archrank.predictors.with_features`.

    ``transform="quantile"`` (default) replaces each score by its rank among the table's scores,
    scaled to [0, 1]. Proxies span many orders of magnitude (synflow reaches 1e40) and use
    ``-inf`` for degenerate networks, which no predictor should see raw; ranks are label-free,
    so computing them over the whole table leaks nothing about accuracy. NaN stays NaN.
    ``"none"`` keeps the raw scores. ``mean_rank``: proxies whose rank aggregate
    (:func:`archrank.ranking.mean_rank`, the zero-cost combination of the proxy study) becomes one
    more column, ``mean_rank``, scaled to [0, 1]; NaN where any of them is NaN.

    ``reference``: a score table (e.g. :func:`load_precomputed`'s, all NB201 cells) whose scores
    define the quantiles instead of ``scores``' own, so an architecture's features do not depend
    on which others were scored with it (a fitted predictor then reads new candidates the same
    way). A score is placed by its mean rank among the reference's scores, scaled to [0, 1] and
    clipped there; with ``reference=scores`` the result equals the default.
    """
    names = list(proxies) if proxies is not None else [c for c in scores.columns if c not in ("arch", "index")]
    combined = list(mean_rank or [])
    missing = [p for p in dict.fromkeys(names + combined) if p not in scores.columns]
    if missing:
        raise KeyError(f"score table has no column(s) {missing}")
    if transform not in ("quantile", "none"):
        raise ValueError(f"transform must be 'quantile' or 'none', got {transform!r}")
    if "mean_rank" in names:
        raise ValueError("a proxy column may not be called 'mean_rank'")
    if reference is not None:
        if transform != "quantile" or combined:
            raise ValueError("a reference table only applies to transform='quantile' without mean_rank")
        absent = [p for p in names if p not in reference.columns]
        if absent:
            raise KeyError(f"reference table has no column(s) {absent}")
    out = pd.DataFrame({"arch": scores["arch"].astype(str).to_numpy()})
    for name in names:
        values = scores[name].to_numpy(dtype=np.float64)
        if transform == "none":
            out[name] = values
        elif reference is None:
            out[name] = quantiles(values)
        else:
            out[name] = reference_quantiles(values, reference[name].to_numpy(dtype=np.float64), name)
    if combined:
        ranks = mean_rank_of(scores, combined)
        out["mean_rank"] = (ranks - 1) / max(1, int((~np.isnan(ranks)).sum()) - 1)
    return out
