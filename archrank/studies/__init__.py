"""Correlation studies: predictors against training-set size, and zero-cost proxies against the truth."""

from archrank.studies.latency_study import (
    DEFAULT_LATENCY_SIZES,
    HELP_META_TEST,
    HELP_META_TRAIN,
    HELP_META_VALID,
    LATENCY_STUDY_COLUMNS,
    default_latency_predictors,
    latency_study,
)
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
    "DEFAULT_LATENCY_SIZES",
    "DEFAULT_TRAIN_SIZES",
    "HELP_META_TEST",
    "HELP_META_TRAIN",
    "HELP_META_VALID",
    "LATENCY_STUDY_COLUMNS",
    "PROXY_STUDY_COLUMNS",
    "STUDY_COLUMNS",
    "default_latency_predictors",
    "latency_study",
    "mean_rank",
    "plot_predictor_study",
    "plot_proxy_scatter",
    "predictor_study",
    "proxy_study",
    "study_splits",
    "summarize",
]
