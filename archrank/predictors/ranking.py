"""Rank candidate architectures, best first, with a fitted predictor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from archrank.predictors.base import ArchPredictor


def rank_candidates(predictor: ArchPredictor, candidates: Sequence[Any], features: Any = None) -> pd.DataFrame:
    """``candidates`` ordered by ``predictor``'s predicted mean, highest first.

    ``features``: the extra feature columns the predictor was fitted with, one row per
    candidate in the order of ``candidates`` (a DataFrame, dict of columns or (n, k) array; see
    :func:`archrank.predictors.with_features`). Returns one row per candidate with the columns
    ``rank`` (1 = best), ``arch`` (string form), ``predicted`` and ``std`` (predictive standard
    deviation), both in the units of the predictor's targets. Equal predictions keep the order
    of ``candidates``.
    """
    from archrank.predictors import with_features

    check_is_fitted(predictor)
    archs = list(candidates)
    if not archs:
        raise ValueError("no candidates to rank")
    X = archs if features is None else with_features(archs, features)
    mean, std = predictor.predict(X, return_std=True)
    order = np.argsort(-np.asarray(mean), kind="stable")
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(archs) + 1),
            "arch": [str(archs[i]) for i in order],
            "predicted": np.asarray(mean, dtype=np.float64)[order],
            "std": np.asarray(std, dtype=np.float64)[order],
        }
    )
