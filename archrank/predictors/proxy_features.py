"""A predictor over architectures alone that adds zero-cost proxy scores as features itself.

:class:`ProxyFeaturePredictor` scores its training architectures and, later, every candidate
with :func:`archrank.proxies.compute` (cached on disk; the shipped table's scores where it has
them), turns each score into its quantile among a *reference* score table fixed at ``fit`` time,
and hands the encoding plus those columns to ``estimator``. Because the reference is fixed, a
candidate's features do not depend on which other candidates are predicted with it, and a saved
predictor (``save``/``load``) carries everything it needs to read new candidates the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from archrank._seeding import resolve_seed
from archrank.encodings import resolve_space
from archrank.errors import ProxyWarning
from archrank.predictors.base import (
    ARCH_COLUMN,
    ArchPredictor,
    Inputs,
    check_extra_names,
    check_targets,
    instantiate,
    record_feature_names,
    split_inputs,
)
from archrank.predictors.constraints import BOOL, SEED, Interval, Kind, Options, validate_hyperparameters
from archrank.predictors.registry import register_predictor

#: the proxies of the feature benchmark (benchmarks/proxies.py, "7 proxies")
FEATURE_PROXIES = ("synflow", "jacob_cov", "nwot", "zico", "flops", "snip", "grad_norm")
#: the fewest reference cells on which a repeated ranking counts as a duplicate proxy (on fewer, two
#: unrelated proxies often rank the cells alike by chance)
MIN_CELLS_FOR_DUPLICATES = 20


def repeated_rankings(reference: pd.DataFrame, min_cells: int = MIN_CELLS_FOR_DUPLICATES) -> dict[str, str]:
    """``{column: earlier column}`` for each column of ``reference`` (rows: cells, columns: proxy scores) that
    ranks the cells exactly as an earlier column does, in the same or the reverse order (ties and NaNs in the
    same places too), so that its quantile feature repeats the earlier one; empty below ``min_cells`` rows.
    On NB201, ``flops`` ranks every cell as ``params`` does."""
    if len(reference) < min_cells:
        return {}
    ranks = {c: reference[c].rank(method="min").to_numpy() for c in reference.columns}
    reverse = {c: (-reference[c]).rank(method="min").to_numpy() for c in reference.columns}
    repeats: dict[str, str] = {}
    kept: list[str] = []
    for column in reference.columns:
        same = next(
            (
                k
                for k in kept
                if np.array_equal(ranks[column], ranks[k], equal_nan=True)
                or np.array_equal(ranks[column], reverse[k], equal_nan=True)
            ),
            None,
        )
        if same is None:
            kept.append(column)
        else:
            repeats[column] = same
    return repeats


def shipped_reference(space: str, dataset: str, proxies: Sequence[str]) -> pd.DataFrame | None:
    """The shipped score table of ``space``/``dataset`` restricted to ``proxies`` (one column each),
    or None when no table is shipped for them or it lacks one of the proxies."""
    from archrank import proxies as proxies_mod

    if (space, dataset) not in proxies_mod.available_precomputed():
        return None
    table = proxies_mod.load_precomputed(space, dataset)
    names = list(proxies)
    return table[names] if all(p in table.columns for p in names) else None


@register_predictor("proxy_features")
class ProxyFeaturePredictor(ArchPredictor):
    """``estimator`` fitted on the architectures' encoding plus their zero-cost proxy quantiles.

    ``X``: architectures (objects, or strings with ``space=``), or a DataFrame with an ``arch``
    column whose other numeric columns are kept as further features (after the proxies).
    ``estimator``: a predictor name (built with ``space`` and ``encoding``) or an unfitted
    predictor (cloned). ``proxies``, ``dataset``, ``batch_size``, ``proxy_seed``, ``device``,
    ``cache``: passed to :func:`archrank.proxies.compute` (``proxy_seed`` draws the networks'
    initial weights and the input batch; ``random_state`` seeds the estimator); ``progress``
    shows a progress bar while scoring.

    ``reference``: the scores whose distribution defines each proxy's quantile feature:

    - ``"auto"`` (default): the shipped table of ``(space, dataset)``
      (:func:`archrank.proxies.load_precomputed`, all 15,625 NB201 cells on CIFAR-10) when there is
      one holding every proxy, else the training architectures' own scores;
    - ``"shipped"``: that table, an error where there is none;
    - ``"fit"``: the training architectures' scores (a candidate scoring above or below all of
      them gets quantile 1 or 0);
    - a DataFrame of scores with one column per proxy (e.g. of the training architectures and
      all candidates, as ``archrank rank`` passes where no table is shipped).

    After ``fit``: ``estimator_`` (fitted on the encoding plus the features), ``reference_`` (a
    DataFrame, one column per proxy) and ``reference_source_`` (``"shipped"``, ``"fit"`` or
    ``"given"``); ``dropped_features_``: ``{proxy: earlier proxy}`` for each proxy left out because it
    ranks the reference cells exactly as an earlier one does (see :func:`repeated_rankings`; e.g.
    ``flops`` after ``params`` on NB201), and ``proxies_used_``: the proxies that are features.
    ``on_failed``: what an architecture whose proxy score is NaN (the proxy failed on it) gets:
    ``"raise"`` (default) an error that names it, at ``fit`` and at ``predict``; ``"median"``
    the feature 0.5 (no information) and a warning that names it, so that one bad candidate does not
    stop a search.
    """

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "reference": [Options("auto", "shipped", "fit"), Kind((pd.DataFrame,), "a DataFrame of scores")],
        "batch_size": [Interval(int, 1, None)],
        "proxy_seed": SEED,
        "progress": [BOOL],
        "on_failed": [Options("raise", "median")],
    }

    def __init__(
        self,
        estimator: str | ArchPredictor = "ensemble",
        proxies: Sequence[str] = FEATURE_PROXIES,
        dataset: str = "cifar10",
        reference: Literal["auto", "shipped", "fit"] | pd.DataFrame = "auto",
        batch_size: int = 64,
        proxy_seed: int = 0,
        device: str = "auto",
        cache: str | None = "auto",
        progress: bool = False,
        on_failed: Literal["raise", "median"] = "raise",
        space: Any = None,
        encoding: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.proxies = proxies
        self.dataset = dataset
        self.reference = reference
        self.batch_size = batch_size
        self.proxy_seed = proxy_seed
        self.device = device
        self.cache = cache
        self.progress = progress
        self.on_failed = on_failed
        self.space = space
        self.encoding = encoding
        self.random_state = random_state

    def _names(self) -> list[str]:
        if isinstance(self.proxies, str) or not self.proxies:
            raise ValueError(f"proxies must be a non-empty sequence of proxy names, got {self.proxies!r}")
        return list(dict.fromkeys(self.proxies))

    def _archs_and_extra(self, X: Any) -> tuple[list[Any], pd.DataFrame | None, Inputs]:
        inputs = split_inputs(X)
        if inputs.archs is None:
            raise TypeError(
                f"{type(self).__name__} scores architectures with zero-cost proxies; pass architectures or a "
                "DataFrame with an 'arch' column, not a feature matrix or graphs"
            )
        extra = X.drop(columns=[ARCH_COLUMN]).reset_index(drop=True) if inputs.extra is not None else None
        return inputs.archs, extra, inputs

    def _scores(self, archs: list[Any], space: Any, names: list[str]) -> pd.DataFrame:
        from archrank import proxies

        return proxies.compute(
            archs,
            names,
            space=space,
            dataset=self.dataset,
            batch_size=self.batch_size,
            device=self.device,
            seed=self.proxy_seed,
            cache=self.cache,
            progress=self.progress,
        )

    def _reference_table(self, scores: pd.DataFrame, space_name: str) -> tuple[pd.DataFrame, str]:
        from archrank import proxies

        names = self._names()
        ref = self.reference
        if isinstance(ref, pd.DataFrame):
            absent = [p for p in names if p not in ref.columns]
            if absent:
                raise KeyError(f"the reference score table has no column(s) {absent}")
            return ref[names], "given"
        if not isinstance(ref, str) or ref not in ("auto", "shipped", "fit"):
            raise ValueError(f"reference must be 'auto', 'shipped', 'fit' or a score DataFrame, got {ref!r}")
        if ref in ("auto", "shipped"):
            table = shipped_reference(space_name, self.dataset, names)
            if table is not None:
                return table, "shipped"
            if ref == "shipped":
                raise ValueError(
                    f"no shipped proxy table for {space_name}/{self.dataset} holds {names} "
                    f"(shipped: {proxies.available_precomputed()}); use reference='fit' or pass a score table"
                )
        return scores[names], "fit"

    def _feature_frame(self, archs: list[Any], scores: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
        """The estimator's input: ``archs``, their proxy ``scores`` as reference quantiles, then ``extra``."""
        from archrank import proxies
        from archrank.predictors import with_features

        names = self.proxies_used_
        if self.on_failed not in ("raise", "median"):
            raise ValueError(f"on_failed must be 'raise' or 'median', got {self.on_failed!r}")
        features = proxies.as_features(scores, names, reference=self.reference_).drop(columns=ARCH_COLUMN)
        failed = scores[names].isna().any(axis=1).to_numpy()
        if failed.any():
            i = int(failed.argmax())
            bad = [p for p in names if np.isnan(scores.at[i, p])]
            what = (
                f"{int(failed.sum())} architecture(s) got a NaN proxy score, the first is {scores.at[i, 'arch']} "
                f"({', '.join(bad)})"
            )
            if self.on_failed == "raise":
                raise ValueError(f"{what}; leave it out, drop that proxy or pass on_failed='median'")
            warnings.warn(f"{what}; their feature is 0.5, the median quantile", ProxyWarning, stacklevel=3)
            features = features.fillna(0.5)
        if extra is not None:
            clash = [c for c in extra.columns if c in names]
            if clash:
                raise ValueError(f"extra feature column(s) {clash} have the name of a proxy feature")
            features = pd.concat([features, extra], axis=1)
        return with_features(archs, features)

    def fit(self, X: Any, y: Any) -> ProxyFeaturePredictor:
        """Score ``X``'s architectures, fix the reference, fit ``estimator`` on encoding + quantiles."""
        validate_hyperparameters(self)
        archs, extra, inputs = self._archs_and_extra(X)
        targets = check_targets(y, len(archs))
        seed = resolve_seed(self.random_state)
        space = resolve_space(self.space, archs)
        scores = self._scores(archs, space, self._names())
        reference, self.reference_source_ = self._reference_table(scores, space.name)
        self.dropped_features_ = repeated_rankings(reference)
        self.proxies_used_ = [p for p in self._names() if p not in self.dropped_features_]
        self.reference_ = reference[self.proxies_used_].astype(np.float64).reset_index(drop=True)
        self.space_ = space
        est = instantiate(self.estimator, seed, self.space, self.encoding, what="estimator")
        self.estimator_ = est.fit(self._feature_frame(archs, scores, extra), targets)
        self.n_features_in_ = self.estimator_.n_features_in_
        self.extra_feature_names_ = inputs.extra_names  # the caller's own columns, not the proxies
        self.n_extra_features_ = len(self.extra_feature_names_ or [])
        record_feature_names(self, inputs)
        return self

    def _fitted_frame(self, X: Any) -> pd.DataFrame:
        """The estimator's input for ``X`` after ``fit``: extra columns checked, proxies scored and placed."""
        check_is_fitted(self)
        archs, extra, inputs = self._archs_and_extra(X)
        check_extra_names(self.extra_feature_names_, inputs, type(self).__name__)
        if extra is not None:
            extra.columns = self.extra_feature_names_  # an array's unnamed columns, read in fitted order
        return self._feature_frame(archs, self._scores(archs, self.space_, self.proxies_used_), extra)

    @property
    def model_(self) -> Any:
        """The fitted estimator's BoTorch model, for acquisition functions (a GP estimator only)."""
        return self.estimator_.model_

    def to_model_inputs(self, X: Any) -> Any:
        """Inputs of :attr:`model_` for ``X``'s architectures, their proxy features included (a GP estimator only)."""
        return self.estimator_.to_model_inputs(self._fitted_frame(X))

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted targets for ``X``'s architectures, shape (n,); with ``return_std=True`` also their std (n,)."""
        return self.estimator_.predict(self._fitted_frame(X), return_std=return_std)
