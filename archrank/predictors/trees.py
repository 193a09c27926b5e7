"""Tree predictors: XGBoost (ensemble or quantile uncertainty) and a scikit-learn random forest."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from archrank._threads import resolve_threads
from archrank.errors import UnknownChoiceError
from archrank.predictors.base import ArchPredictor
from archrank.predictors.constraints import NONE, Interval, Options
from archrank.predictors.registry import register_predictor

#: quantiles whose half-distance estimates one standard deviation of a normal
_Q_LOW, _Q_HIGH = 0.158655, 0.841345


@register_predictor("xgb")
class XGBPredictor(ArchPredictor):
    """Gradient-boosted trees (``xgboost.XGBRegressor``).

    ``uncertainty="ensemble"`` fits ``n_members`` boosters on row/column subsamples with
    different seeds: mean and std across them. ``"quantile"`` fits one booster with the pinball
    loss at the 15.9/50/84.1 % quantiles: mean = median, std = half the 68 % interval.
    """

    default_encodings: ClassVar[tuple[str, ...]] = ("adjacency_onehot", "categorical")
    tuning_grid: ClassVar[dict[str, list[Any]]] = {
        "max_depth": [3, 6],
        "learning_rate": [0.05, 0.1],
        "min_child_weight": [1.0, 3.0],
    }

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "uncertainty": [Options("ensemble", "quantile")],
        "n_members": [Interval(int, 1, None)],
        "n_estimators": [Interval(int, 1, None)],
        "max_depth": [Interval(int, 0, None)],
        "learning_rate": [Interval(float, 0, None, "neither")],
        "subsample": [Interval(float, 0, 1, "right")],
        "colsample_bytree": [Interval(float, 0, 1, "right")],
        "min_child_weight": [Interval(float, 0, None)],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        uncertainty: str = "ensemble",
        n_members: int = 5,
        n_estimators: int = 400,
        max_depth: int = 6,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        target_transform: str = "rank_gauss",
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.uncertainty = uncertainty
        self.n_members = n_members
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads

    def _booster(self, seed: int, **extra: Any) -> Any:
        from xgboost import XGBRegressor

        return XGBRegressor(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            n_jobs=resolve_threads(self.n_threads),
            random_state=seed,
            tree_method="hist",
            **extra,
        )

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        if self.uncertainty == "ensemble":
            if self.n_members < 1:
                raise ValueError(f"n_members must be >= 1, got {self.n_members}")
            self.members_ = [self._booster(seed + m).fit(X, y) for m in range(self.n_members)]
        elif self.uncertainty == "quantile":
            alpha = np.array([_Q_LOW, 0.5, _Q_HIGH])
            self.members_ = [self._booster(seed, objective="reg:quantileerror", quantile_alpha=alpha).fit(X, y)]
        else:
            raise UnknownChoiceError("xgb uncertainty", self.uncertainty, ["ensemble", "quantile"])

    def _predict_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.uncertainty == "quantile":
            q = np.asarray(self.members_[0].predict(X), dtype=np.float64).reshape(len(X), 3)
            q.sort(axis=1)  # independent quantile heads may cross; sorting restores their order
            return q[:, 1], (q[:, 2] - q[:, 0]) / 2.0
        preds = np.stack([np.asarray(m.predict(X), dtype=np.float64) for m in self.members_])
        return preds.mean(axis=0), preds.std(axis=0)


@register_predictor("rf")
class RFPredictor(ArchPredictor):
    """scikit-learn random forest; std is the spread of the individual trees' predictions."""

    default_encodings: ClassVar[tuple[str, ...]] = ("adjacency_onehot", "categorical")
    tuning_grid: ClassVar[dict[str, list[Any]]] = {"max_features": [0.3, 0.5, 1.0], "min_samples_leaf": [1, 3]}

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(int, 1, None)],
        "max_features": [Interval(float, 0, 1, "right"), Options("sqrt", "log2"), NONE],
        "min_samples_leaf": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        n_estimators: int = 300,
        max_features: float | str | None = 0.5,
        min_samples_leaf: int = 1,
        target_transform: str = "rank_gauss",
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            n_jobs=resolve_threads(self.n_threads),
            random_state=seed,
        ).fit(X, y)

    def _predict_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        preds = np.stack([tree.predict(X) for tree in self.forest_.estimators_])
        return preds.mean(axis=0), preds.std(axis=0)
