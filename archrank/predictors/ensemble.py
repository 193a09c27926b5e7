"""An ensemble of different predictors: the mean of their predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from archrank._seeding import resolve_seed
from archrank.predictors.base import ArchPredictor, check_targets, instantiate, split_inputs
from archrank.predictors.registry import register_predictor


@register_predictor("ensemble")
class EnsemblePredictor(ArchPredictor):
    """Fits every member on the same data; predicts the mean of their predictions.

    ``members``: predictor names (built with ``space`` and their default encodings) or unfitted
    predictors (cloned). Each member applies its own target transform and sees the whole input,
    extra feature columns included. ``predict(X, return_std=True)`` gives the std of the
    equal-weight mixture of the members' predictive distributions:
    ``sqrt(mean(std_i^2) + var(mean_i))``. Different model families make different errors on
    small training sets, so their mean ranks better than most members alone (see
    benchmarks/RESULTS.md, proxy features).
    """

    def __init__(
        self,
        members: Sequence[str | ArchPredictor] = ("xgb", "gp", "gnn"),
        space: Any = None,
        encoding: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.members = members
        self.space = space
        self.encoding = encoding
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> EnsemblePredictor:
        if self.encoding != "auto":
            raise ValueError("an ensemble uses each member's own encoding; set encodings on the members instead")
        if isinstance(self.members, str) or len(self.members) < 1:
            raise ValueError(f"members must be a non-empty sequence of predictors, got {self.members!r}")
        targets = check_targets(y, len(split_inputs(X)))
        seed = resolve_seed(self.random_state)
        self.members_ = [
            instantiate(m, seed, self.space, what="an ensemble member").fit(X, targets) for m in self.members
        ]
        self.n_features_in_ = self.members_[0].n_features_in_
        self.n_extra_features_ = getattr(self.members_[0], "n_extra_features_", 0)
        return self

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        outs = [m.predict(X, return_std=True) for m in self.members_]
        means = np.stack([mean for mean, _ in outs])
        stds = np.stack([std for _, std in outs])
        mean = means.mean(axis=0)
        if not return_std:
            return mean
        return mean, np.sqrt((stds**2).mean(axis=0) + means.var(axis=0))
