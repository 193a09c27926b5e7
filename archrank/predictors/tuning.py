"""Hyperparameters chosen by K-fold cross-validation on the training data alone.

:class:`TunedPredictor` wraps scikit-learn's ``GridSearchCV`` (or ``RandomizedSearchCV``) so
that the search itself is an archrank predictor: it reads architectures, DataFrames with extra
feature columns or plain matrices like every other predictor, and keeps ``predict(X, return_std=True)``, which
``GridSearchCV`` would drop. Folds are shuffled with the predictor's seed, candidates are
scored by Kendall tau (the ranking quality NAS cares about) unless told otherwise, and the best
setting is refitted on all the training data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.utils.validation import check_is_fitted

from archrank._seeding import resolve_seed
from archrank.errors import UnknownChoiceError
from archrank.metrics import kendall_tau, spearman
from archrank.predictors.base import ArchPredictor, check_targets, instantiate, record_feature_names, split_inputs
from archrank.predictors.constraints import validate_hyperparameters
from archrank.predictors.registry import register_predictor

#: scoring names of archrank's own rank metrics; any other scikit-learn scoring is passed through
RANK_SCORERS: dict[str, Callable[..., float]] = {"kendall_tau": kendall_tau, "spearman": spearman}

Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]]


@register_predictor("tuned")
class TunedPredictor(ArchPredictor):
    """A predictor whose hyperparameters are picked by ``cv``-fold cross-validation on ``fit``'s data.

    ``estimator``: a predictor name (built with ``space`` and ``encoding``) or an unfitted
    predictor (cloned; set its encoding on it). ``param_grid``: hyperparameter -> list of values
    (or a list of such dicts), as in ``GridSearchCV``; ``None`` takes the grid the estimator's
    class declares in ``tuning_grid``. ``scoring``: ``"kendall_tau"`` (default) or ``"spearman"``
    between held-out targets and predictions, or any scikit-learn scoring string or callable.

    ``n_iter``: ``None`` (default) tries every setting of the grid (``GridSearchCV``); a number
    tries that many settings drawn with the predictor's seed (``RandomizedSearchCV``), and grid
    values may then also be scipy.stats distributions (anything with ``rvs``), e.g.
    ``{"learning_rate": scipy.stats.loguniform(0.01, 0.3)}``.

    After ``fit``: ``best_params_``, ``best_score_`` (mean held-out score of the best setting),
    ``cv_results_`` (a DataFrame, one row per setting) and ``best_estimator_`` (refitted on all
    the data, which ``predict`` uses). Cost: (number of settings x ``cv`` + 1) fits.
    """

    def __init__(
        self,
        estimator: str | ArchPredictor = "xgb",
        param_grid: Grid | None = None,
        cv: int = 5,
        scoring: str | Callable[..., float] = "kendall_tau",
        n_jobs: int | None = None,
        n_iter: int | None = None,
        space: Any = None,
        encoding: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.n_iter = n_iter
        self.space = space
        self.encoding = encoding
        self.random_state = random_state

    def _template(self, seed: int) -> ArchPredictor:
        if isinstance(self.estimator, ArchPredictor) and self.encoding != "auto":
            raise ValueError("set the encoding on the estimator itself, not on the TunedPredictor")
        return instantiate(self.estimator, seed, self.space, self.encoding, what="estimator")

    def _grids(self, est: ArchPredictor) -> list[dict[str, Any]]:
        """The grid as a list of dicts of lists (or, with ``n_iter``, distributions), checked against ``est``."""
        grid = type(est).tuning_grid if self.param_grid is None else self.param_grid
        grids = [grid] if isinstance(grid, Mapping) else list(grid)
        if not grids or not all(isinstance(g, Mapping) and g for g in grids):
            raise ValueError(
                f"no hyperparameters to tune: {type(est).__name__} declares no tuning grid and param_grid is "
                f"{self.param_grid!r}; pass param_grid={{name: [values, ...]}}"
            )
        valid = sorted(set(est.get_params(deep=False)) - {"random_state"})
        checked = []
        for g in grids:
            for name, values in g.items():
                if name == "random_state":
                    raise ValueError("random_state is not tuned: the TunedPredictor passes its own seed on")
                if name not in valid:
                    raise UnknownChoiceError(f"hyperparameter of {type(est).__name__} in param_grid", name, valid)
                if hasattr(values, "rvs"):
                    if self.n_iter is None:
                        raise ValueError(
                            f"param_grid[{name!r}] is a distribution; sampling settings from it needs n_iter=N"
                        )
                    continue
                if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                    raise ValueError(f"param_grid[{name!r}] must be a non-empty list of values, got {values!r}")
            checked.append({name: v if hasattr(v, "rvs") else list(v) for name, v in g.items()})
        return checked

    def _scorer(self) -> Any:
        if isinstance(self.scoring, str) and self.scoring in RANK_SCORERS:
            return make_scorer(RANK_SCORERS[self.scoring])
        return self.scoring

    def fit(self, X: Any, y: Any) -> TunedPredictor:
        """Cross-validate every setting on ``(X, y)``, then refit the best one on all of it."""
        validate_hyperparameters(self)
        inputs = split_inputs(X)
        n = len(inputs)
        targets = check_targets(y, n)
        if isinstance(self.cv, bool) or not isinstance(self.cv, (int, np.integer)) or self.cv < 2:
            raise ValueError(f"cv must be a number of folds >= 2, got {self.cv!r}")
        if self.cv > n:
            raise ValueError(f"cv={self.cv} folds need at least {self.cv} training samples, got {n}")
        if self.n_iter is not None and (
            isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) or self.n_iter < 1
        ):
            raise ValueError(f"n_iter must be None (the whole grid) or a number of settings >= 1, got {self.n_iter!r}")
        seed = resolve_seed(self.random_state)
        est = self._template(seed)
        common = {
            "scoring": self._scorer(),
            "cv": KFold(int(self.cv), shuffle=True, random_state=seed),
            "n_jobs": self.n_jobs,
            "refit": True,
            "error_score": "raise",  # a setting that fails is an error, not a silently skipped candidate
        }
        grids = self._grids(est)
        if self.n_iter is None:
            search = GridSearchCV(est, grids, **common)
        else:
            search = RandomizedSearchCV(est, grids, n_iter=int(self.n_iter), random_state=seed, **common)
        search.fit(X, targets)
        if not np.isfinite(search.best_score_):
            raise ValueError(
                "no setting got a finite cross-validation score (e.g. constant predictions on a fold make Kendall "
                "tau undefined); use fewer folds or more training data"
            )
        self.best_estimator_ = search.best_estimator_
        self.best_params_ = dict(search.best_params_)
        self.best_score_ = float(search.best_score_)
        self.cv_results_ = pd.DataFrame(search.cv_results_)
        self.n_features_in_ = self.best_estimator_.n_features_in_
        self.n_extra_features_ = getattr(self.best_estimator_, "n_extra_features_", 0)
        record_feature_names(self, inputs)
        return self

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The best setting's predictions, shape (n,); with ``return_std=True`` also its std (n,)."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X, return_std=return_std)
