"""An ensemble of different predictors: the mean of their predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from archrank._seeding import resolve_seed
from archrank.errors import UnknownChoiceError
from archrank.predictors.base import (
    ArchPredictor,
    check_targets,
    instantiate,
    record_feature_names,
    split_inputs,
)
from archrank.predictors.constraints import validate_hyperparameters
from archrank.predictors.registry import predictor_class, register_predictor, registered_name

MEMBER_PREFIX = "members__"


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

    On a plain feature matrix (no architectures, no graphs) the members that read graphs
    (``gnn``) cannot take part: the ensemble fits the others (the default: ``xgb`` and ``gp``)
    and says so in ``members_used_`` / ``members_skipped_``. Members are named by their
    predictor names (a repeated name gets ``_2``, ``_3``, ...), and their hyperparameters are
    reachable with scikit-learn's nested syntax, e.g. ``set_params(members__xgb__max_depth=3)``
    or ``GridSearchCV(ensemble, {"members__gp__kernel": ["rbf", "matern"]})``.
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

    # --- members and their names -----------------------------------------------------------
    def _check_members(self) -> None:
        if isinstance(self.members, str) or len(self.members) < 1:
            raise ValueError(f"members must be a non-empty sequence of predictors, got {self.members!r}")

    def _named_members(self) -> list[tuple[str, str | ArchPredictor]]:
        """``(name, member)`` pairs: a member's predictor name, made unique with ``_2``, ``_3``, ..."""
        self._check_members()
        out: list[tuple[str, str | ArchPredictor]] = []
        seen: dict[str, int] = {}
        for member in self.members:
            base = member if isinstance(member, str) else registered_name(type(member))
            seen[base] = seen.get(base, 0) + 1
            out.append((base if seen[base] == 1 else f"{base}_{seen[base]}", member))
        return out

    def _materialised(self) -> list[tuple[str, ArchPredictor]]:
        """The named members with names replaced by unfitted predictors (``make(name)``), to read or set params."""
        from archrank.predictors import make

        return [(name, make(m) if isinstance(m, str) else m) for name, m in self._named_members()]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The ensemble's parameters; with ``deep=True`` also ``members__NAME`` and ``members__NAME__PARAM``."""
        params = super().get_params(deep=False)
        members_ok = isinstance(self.members, (list, tuple)) and bool(self.members)
        if deep and members_ok and all(isinstance(m, (str, ArchPredictor)) for m in self.members):
            # invalid members (set_params(members=3)) are reported by fit, as scikit-learn expects
            given = dict(self._named_members())
            for name, member in self._materialised():
                if not isinstance(given[name], str):  # a member given by name has no object of its own yet
                    params[MEMBER_PREFIX + name] = member
                params.update({f"{MEMBER_PREFIX}{name}__{k}": v for k, v in member.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> EnsemblePredictor:
        """Set parameters; ``members__NAME=predictor`` replaces a member, ``members__NAME__PARAM=v`` sets one of its."""
        nested = {k: v for k, v in params.items() if k.startswith(MEMBER_PREFIX)}
        super().set_params(**{k: v for k, v in params.items() if k not in nested})
        if nested:
            named = dict(self._materialised())
            for key, value in nested.items():
                name, sep, param = key[len(MEMBER_PREFIX) :].partition("__")
                if name not in named:
                    raise UnknownChoiceError("ensemble member", name, list(named))
                if sep:
                    named[name] = named[name].set_params(**{param: value})
                else:
                    named[name] = value
            self.members = tuple(named.values())
        return self

    # --- fit and predict --------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> EnsemblePredictor:
        if self.encoding != "auto":
            raise ValueError("an ensemble uses each member's own encoding; set encodings on the members instead")
        validate_hyperparameters(self)
        inputs = split_inputs(X)
        targets = check_targets(y, len(inputs))
        seed = resolve_seed(self.random_state)
        named = self._named_members()
        used = named
        if inputs.matrix is not None:  # a plain matrix: only the members that read feature vectors
            used = [(name, m) for name, m in named if _reads(m) != "graphs"]
            if not used:
                raise TypeError(
                    f"every member of this ensemble ({[n for n, _ in named]}) reads graphs; a plain feature matrix "
                    "needs members that read feature vectors (xgb, gp, rf, mlp_ensemble)"
                )
        fitted = []
        for _, member in used:
            est = instantiate(member, seed, self.space, what="an ensemble member")
            if self.space is not None and "space" in est.get_params(deep=False) and est.space is None:
                est.set_params(space=self.space)
            fitted.append(est.fit(X, targets))
        self.members_ = fitted
        self.members_used_ = [name for name, _ in used]
        self.members_skipped_ = [name for name, _ in named if name not in self.members_used_]
        self.n_features_in_ = self.members_[0].n_features_in_
        self.n_extra_features_ = getattr(self.members_[0], "n_extra_features_", 0)
        record_feature_names(self, inputs)
        return self

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)  # each member checks X's feature names against its fit
        outs = [m.predict(X, return_std=True) for m in self.members_]
        means = np.stack([mean for mean, _ in outs])
        stds = np.stack([std for _, std in outs])
        mean = means.mean(axis=0)
        if not return_std:
            return mean
        return mean, np.sqrt((stds**2).mean(axis=0) + means.var(axis=0))


def _reads(member: str | ArchPredictor) -> str:
    """What a member reads: "matrix" or "graphs" (its class's :attr:`ArchPredictor.reads`)."""
    cls = predictor_class(member) if isinstance(member, str) else type(member)
    return getattr(cls, "reads", "matrix")
