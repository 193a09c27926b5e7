"""Performance predictors: scikit-learn regressors from architectures (or encodings) to accuracy.

``make(name, space=..., encoding=..., **hyperparameters)`` builds one:

===============  ===================================================  ==================
name             model                                                default encoding
===============  ===================================================  ==================
gp               exact GP (BoTorch SingleTaskGP), RBF/Matern/Hamming  categorical
xgb              XGBoost, ensemble or quantile uncertainty            adjacency_onehot
rf               scikit-learn random forest                           adjacency_onehot
mlp_ensemble     BANANAS ensemble of MLPs                             path
gnn              GIN ensemble (torch-geometric), MSE or ranking loss  graph
ensemble         mean of several predictors (default xgb, gp, gnn)    each member's own
tuned            any of them, its hyperparameters picked by K-fold    the estimator's
                 cross-validation on the training data (Kendall tau)
proxy_features   any of them on the encoding plus zero-cost proxy     the estimator's
                 quantiles it computes itself (reads architectures)
===============  ===================================================  ==================

All take ``random_state``, support ``predict(X, return_std=True)``, ``sklearn.base.clone`` and
``save(path)`` / :func:`load`. :func:`rank_candidates` orders candidate architectures by a fitted
predictor.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from archrank.errors import UnknownChoiceError
from archrank.predictors.registry import WRAPPERS, predictor_class, register_predictor
from archrank.predictors.registry import predictor_names as names

if TYPE_CHECKING:
    import pandas as pd

    from archrank.predictors.base import ArchPredictor

# classes whose modules import torch, gpytorch, xgboost or torch-geometric: loaded on first use
_LAZY_CLASSES = {
    "GPPredictor": "gp",
    "XGBPredictor": "xgb",
    "RFPredictor": "rf",
    "MLPEnsemblePredictor": "mlp_ensemble",
    "GNNPredictor": "gnn",
    "EnsemblePredictor": "ensemble",
    "TunedPredictor": "tuned",
}


# the rest of the public API, loaded on first use: its modules import scikit-learn (about 1 s,
# most of it scipy.stats) and pandas, which ``import archrank.predictors`` does not need yet
_LAZY_ATTRIBUTES = {
    "ArchPredictor": "archrank.predictors.base",
    "load": "archrank.predictors.base",
    "split_inputs": "archrank.predictors.base",
    "GNNEmbedding": "archrank.predictors.gnn_embedding",
    "FEATURE_PROXIES": "archrank.predictors.proxy_features",
    "ProxyFeaturePredictor": "archrank.predictors.proxy_features",
    "rank_candidates": "archrank.predictors.ranking",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_CLASSES:
        return predictor_class(_LAZY_CLASSES[name])
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'archrank.predictors' has no attribute {name!r}")


def make(name: str, space: Any = None, encoding: str = "auto", **hyperparameters: Any) -> ArchPredictor:
    """A new, unfitted predictor ``name`` for ``space`` reading ``encoding`` (``"auto"``: its default)."""
    cls = predictor_class(name)
    if encoding not in ("auto", None) and encoding not in cls.accepted_encodings():
        raise UnknownChoiceError(f"encoding for the {name!r} predictor", encoding, cls.accepted_encodings())
    valid = cls().get_params()
    unknown = sorted(set(hyperparameters) - set(valid))
    if unknown:
        raise UnknownChoiceError(f"hyperparameter of {name!r}", unknown[0], sorted(set(valid) - {"space", "encoding"}))
    from archrank.predictors.constraints import validate_hyperparameters

    est = cls(space=space, encoding=encoding, **hyperparameters)
    validate_hyperparameters(est)
    return est


def with_features(archs: Sequence[Any], features: Any) -> pd.DataFrame:
    """A predictor input of ``archs`` plus extra feature columns (e.g. zero-cost scores).

    ``features``: a DataFrame (its columns are kept, row order must match ``archs``), a dict of
    columns, or an (n, k) array. The result has an ``arch`` column followed by the features.
    A predictor checks at ``predict`` that the columns have the names and order it was fitted
    with; an array's columns have no names (``feature0``, ...) and are read in the fitted order.
    """
    import numpy as np
    import pandas as pd

    from archrank.predictors.base import ARCH_COLUMN, unnamed_columns

    if isinstance(features, pd.DataFrame):
        extra = features.reset_index(drop=True)
    elif isinstance(features, dict):
        extra = pd.DataFrame(features)
    else:
        arr = np.asarray(features, dtype=np.float64)
        arr = arr[:, None] if arr.ndim == 1 else arr
        extra = pd.DataFrame(arr, columns=unnamed_columns(arr.shape[1]))
    if len(extra) != len(archs):
        raise ValueError(f"{len(archs)} architectures but {len(extra)} feature rows")
    if ARCH_COLUMN in extra.columns:
        raise ValueError(f"feature columns may not be called {ARCH_COLUMN!r}")
    return pd.concat([pd.DataFrame({ARCH_COLUMN: list(archs)}), extra], axis=1)


__all__ = [
    "FEATURE_PROXIES",
    "WRAPPERS",
    "ArchPredictor",
    "EnsemblePredictor",
    "GNNEmbedding",
    "GNNPredictor",
    "GPPredictor",
    "MLPEnsemblePredictor",
    "ProxyFeaturePredictor",
    "RFPredictor",
    "TunedPredictor",
    "XGBPredictor",
    "load",
    "make",
    "names",
    "predictor_class",
    "rank_candidates",
    "register_predictor",
    "split_inputs",
    "with_features",
]
