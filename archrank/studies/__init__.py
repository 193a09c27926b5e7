"""Correlation studies: predictors against training-set size, and zero-cost proxies against the truth."""

from archrank.studies.predictor_study import (
    DEFAULT_TRAIN_SIZES,
    STUDY_COLUMNS,
    plot_predictor_study,
    predictor_study,
    study_splits,
    summarize,
)
from archrank.studies.proxy_study import (
    DEFAULT_COMBINATION,
    PROXY_STUDY_COLUMNS,
    mean_rank,
    plot_proxy_scatter,
    proxy_study,
)

__all__ = [
    "DEFAULT_COMBINATION",
    "DEFAULT_TRAIN_SIZES",
    "PROXY_STUDY_COLUMNS",
    "STUDY_COLUMNS",
    "mean_rank",
    "plot_predictor_study",
    "plot_proxy_scatter",
    "predictor_study",
    "proxy_study",
    "study_splits",
    "summarize",
]
