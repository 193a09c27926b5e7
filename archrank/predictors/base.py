"""The regressor base class shared by every predictor: input handling, validation, save/load.

A predictor's ``X`` may be

* a sequence of architectures (objects, or strings with ``space=`` given): encoded with the
  predictor's ``encoding``;
* a pandas DataFrame with an ``arch`` column: the architectures are encoded and every other
  column (numeric, e.g. zero-cost scores) is appended as extra features;
* a plain 2-D numeric array (or a DataFrame without ``arch``): used as the feature matrix as
  is, so the predictor works inside other tools with their own encodings.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from archrank._seeding import resolve_seed
from archrank._threads import limit_threads
from archrank.encodings import ArchEncoder, applicable_encodings, encoder_class, make_encoder, resolve_space
from archrank.encodings import names as encoding_names
from archrank.errors import DataFileError, UnknownChoiceError
from archrank.predictors.constraints import SEED, TARGET_TRANSFORM, THREADS, validate_hyperparameters
from archrank.predictors.targets import TargetTransform
from archrank.spaces.base import SearchSpace

ARCH_COLUMN = "arch"
FORMAT_NAME, FORMAT_VERSION = "archrank-predictor", 1


class Inputs:
    """``X`` split into architectures, a ready feature matrix, graphs, and extra feature columns."""

    def __init__(
        self,
        archs: list[Any] | None = None,
        matrix: np.ndarray | None = None,
        graphs: list[Any] | None = None,
        extra: np.ndarray | None = None,
        extra_names: list[str] | None = None,
        columns: list[str] | None = None,
        declared: bool = True,
    ) -> None:
        self.archs, self.matrix, self.graphs, self.extra = archs, matrix, graphs, extra
        self.extra_names = extra_names  # the extra columns' names, in order ([] for architectures alone)
        self.columns = columns  # a DataFrame's column names (str), in order; None for arrays and lists
        self.declared = declared  # False: a matrix read from a plain list of rows (no array, no DataFrame)

    def __len__(self) -> int:
        for part in (self.archs, self.matrix, self.graphs):
            if part is not None:
                return len(part)
        return 0


RESHAPE_HINT = "Reshape your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample"


def _numeric(values: Any, what: str, columns_only: bool = False) -> np.ndarray:
    """``values`` as a finite float64 (n, d) matrix; ``columns_only``: a 1-D input is one column (extra features)."""
    if np.iscomplexobj(values):
        raise ValueError(f"{what} holds complex numbers: Complex data not supported")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except TypeError as err:  # e.g. a dict in an object array: not a number at all
        raise TypeError(f"{what} must be numeric: {err}") from err
    except ValueError as err:
        raise ValueError(f"{what} must be numeric: {err}") from err
    if arr.ndim == 1 and columns_only:
        arr = arr[:, None]
    if arr.ndim != 2:
        hint = f"; {RESHAPE_HINT}" if arr.ndim == 1 else ""
        raise ValueError(f"{what} must be 2-D (n_samples, n_features), got shape {arr.shape}{hint}")
    if arr.shape[1] == 0:
        raise ValueError(f"{what} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{what} holds a non-finite value (NaN or infinity) at row {bad[0]}, column {bad[1]}; Input contains NaN "
            "or infinity"
        )
    return arr


def _is_sparse(X: Any) -> bool:
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def is_graph(obj: Any) -> bool:
    """Whether ``obj`` is a torch-geometric ``Data`` graph (without importing torch-geometric: none exists before)."""
    data = sys.modules.get("torch_geometric.data")
    return data is not None and isinstance(obj, data.Data)


def split_inputs(X: Any) -> Inputs:
    """Classify ``X`` (see the module docstring); raises on empty or malformed input."""
    if isinstance(X, pd.DataFrame):
        if len(X) == 0:
            raise ValueError("X is empty (0 rows)")
        columns = [str(c) for c in X.columns] if all(isinstance(c, str) for c in X.columns) else None
        if ARCH_COLUMN in X.columns:
            rest = X.drop(columns=[ARCH_COLUMN])
            names = [str(c) for c in rest.columns]
            extra = _numeric(rest, f"extra feature columns {names}", columns_only=True) if names else None
            return Inputs(archs=list(X[ARCH_COLUMN]), extra=extra, extra_names=names, columns=columns)
        return Inputs(matrix=_numeric(X, "X"), columns=columns)
    if isinstance(X, (str, bytes)):
        raise TypeError("X must be a sequence of architectures or a 2-D feature matrix, not a single string")
    if _is_sparse(X):
        raise TypeError(f"X is a sparse matrix ({type(X).__name__}); sparse input is not supported: pass X.toarray()")
    if not isinstance(X, np.ndarray) and hasattr(X, "__array__") and not hasattr(X, "__iter__"):
        X = np.asarray(X)  # an array-like that only converts (scikit-learn's array-like contract)
    if isinstance(X, np.ndarray) and X.dtype.kind == "U":  # architecture strings in a numpy array
        X = X.astype(object)
    if isinstance(X, np.ndarray) and (X.dtype != object or X.ndim == 2):
        if X.ndim != 2:
            hint = f"; {RESHAPE_HINT}" if X.ndim == 1 else ""
            raise ValueError(f"a feature matrix X must be 2-D (n_samples, n_features), got shape {X.shape}{hint}")
        if X.shape[0] == 0:
            raise ValueError(f"X is empty (shape {X.shape})")
        return Inputs(matrix=_numeric(X, "X"))
    items = list(X)
    if not items:
        raise ValueError("X is empty (no architectures)")
    first = items[0]
    if is_graph(first):
        return Inputs(graphs=items)
    if isinstance(first, (str, dict)) or hasattr(first, "space_name"):
        return Inputs(archs=items, extra_names=[])
    return Inputs(matrix=_numeric(items, "X"), declared=False)


def check_matrix_for_space(inputs: Inputs, space: Any, who: str) -> None:
    """Raise when a predictor made for a search space gets a plain list of numbers: it would train on the raw
    values (e.g. op indices) as features. Architectures of the space, or a feature matrix declared as one
    (a 2-D numpy array or a DataFrame), are accepted."""
    if inputs.matrix is None or inputs.declared or space is None:
        return
    name = getattr(space, "name", space)
    raise TypeError(
        f"X is a list of {inputs.matrix.shape[1]}-number rows, not architectures of the {name} space that this {who} "
        f"was made for; pass {name} architectures (objects or strings), or declare a feature matrix with a 2-D "
        "numpy array or a DataFrame"
    )


def check_targets(y: Any, n: int) -> np.ndarray:
    """``y`` as a 1-D float64 array of length ``n``; clear errors for NaN, inf, shape or length."""
    if y is None:
        raise ValueError(
            "this predictor requires y to be passed, but the target y is None (one target per architecture)"
        )
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is read as shape (n,)",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per architecture), got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"X has {n} samples but y has {len(arr)}")
    if len(arr) < 2:
        raise ValueError(f"need at least 2 training samples, got n_samples = {len(arr)}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        raise ValueError(f"y holds {len(bad)} NaN or infinite target(s), first at index {bad[0]}")
    return arr


def unnamed_columns(k: int) -> list[str]:
    """The column names :func:`archrank.predictors.with_features` gives an array's ``k`` unnamed columns."""
    return [f"feature{i}" for i in range(k)]


def record_feature_names(est: Any, inputs: Inputs) -> None:
    """Set ``est.feature_names_in_`` to a feature DataFrame's column names (scikit-learn's convention), or remove
    it. (A DataFrame with an ``arch`` column has its extra columns checked by :func:`check_extra_names`.)"""
    if inputs.columns is not None and inputs.archs is None:
        est.feature_names_in_ = np.asarray(inputs.columns, dtype=object)
    elif hasattr(est, "feature_names_in_"):
        del est.feature_names_in_


def check_feature_names(est: Any, inputs: Inputs) -> None:
    """Raise if ``inputs``' column names differ from those ``est`` was fitted with (names or order), as
    scikit-learn does: a DataFrame with reordered columns would otherwise be read position by position.
    A missing side (an array where a DataFrame was fitted, or the reverse) is a warning."""
    fitted = getattr(est, "feature_names_in_", None)
    who = type(est).__name__
    if inputs.archs is not None or inputs.graphs is not None or (fitted is None and inputs.columns is None):
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {who} was fitted without feature names", UserWarning, stacklevel=3)
        return
    if inputs.columns is None:
        warnings.warn(
            f"X does not have valid feature names, but {who} was fitted with feature names", UserWarning, stacklevel=3
        )
        return
    fitted = [str(c) for c in fitted]
    if inputs.columns == fitted:
        return
    unseen = [c for c in inputs.columns if c not in fitted]
    missing = [c for c in fitted if c not in inputs.columns]
    detail = []
    if unseen:
        detail.append(f"feature names unseen at fit time: {unseen}")
    if missing:
        detail.append(f"feature names seen at fit time, yet now missing: {missing}")
    if not detail:
        detail.append(f"the columns are in another order: fitted with {fitted}, got {inputs.columns}")
    raise ValueError(f"The feature names should match those that were passed during fit ({who}); " + "; ".join(detail))


def check_extra_names(fitted: list[str] | None, inputs: Inputs, who: str) -> None:
    """Raise unless ``inputs`` carries the extra feature columns ``who`` was fitted with, by name and in order.

    ``fitted``: the names recorded at fit time (``[]``: architectures alone; ``None``: fitted on a
    matrix or graphs, where names are not known and only the feature count is checked).
    Columns in another order would otherwise feed, e.g., synflow quantiles into the nwot slot
    without any error. An array's columns (named ``feature0``, ``feature1``, ... by
    ``with_features``) carry no names and are read in the fitted order, as scikit-learn does.
    """
    if fitted is None or inputs.archs is None:
        return
    got = inputs.extra_names or []
    if got == fitted or (fitted and got == unnamed_columns(len(fitted))):  # an array's columns: positional
        return
    if not fitted:
        raise ValueError(f"{who} was fitted on architectures alone, but X has extra feature columns {got}")
    if not got:
        raise ValueError(
            f"{who} was fitted with extra feature columns {fitted}; pass a DataFrame with an 'arch' column and those "
            "columns (archrank.predictors.with_features)"
        )
    raise ValueError(f"X has extra feature columns {got}, but {who} was fitted with {fitted} (same names, same order)")


class ArchPredictor(RegressorMixin, BaseEstimator):
    """Base of every predictor: a scikit-learn regressor over architectures or feature matrices.

    ``target_transform="rank_gauss"`` (every predictor's default) fits on normal scores of the
    targets' ranks and maps predictions back to target units (see
    :mod:`archrank.predictors.targets`); ``"none"`` fits the raw targets.

    Subclasses implement ``_fit_matrix(X, y, seed)`` and ``_predict_matrix(X) -> (mean, std)`` (or
    override the graph hooks). ``predict(X, return_std=True)`` returns ``(mean, std)``, both
    shape (n,), in the units of ``y``.
    """

    #: ``encoding="auto"`` takes the first of these that the space supports
    default_encodings: ClassVar[tuple[str, ...]] = ("adjacency_onehot",)
    #: the encoder output this predictor reads: "matrix" (every registered encoding giving a
    #: feature matrix, a user's own included) or "graphs"
    reads: ClassVar[str] = "matrix"

    #: hyperparameter -> values that :class:`~archrank.predictors.tuning.TunedPredictor` tries by default
    tuning_grid: ClassVar[dict[str, list[Any]]] = {}

    #: hyperparameter -> the kinds of value it accepts (:mod:`archrank.predictors.constraints`), checked by
    #: ``make`` and at ``fit``; merged with the bases' entries
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "random_state": SEED,
        "n_threads": THREADS,
        "target_transform": TARGET_TRANSFORM,
    }

    # --- input handling -------------------------------------------------------------------
    def _encoding_name(self, space: SearchSpace) -> str:
        """The encoding this predictor uses for ``space``; an error naming the choices if it cannot read one."""
        enc = getattr(self, "encoding", "auto")
        supported = applicable_encodings(space)
        accepted = self.accepted_encodings()
        usable = [
            e for e in accepted if e in supported or (encoder_class(e).learned and encoder_class(e).applies(space))
        ]
        if enc == "auto" or enc is None:
            enc = next((e for e in self.default_encodings if e in supported), None)
            if enc is None:
                raise UnknownChoiceError(
                    f"encoding for the {type(self).__name__} on the {space.name} space (none of its defaults "
                    f"{list(self.default_encodings)} applies; pass encoding=)",
                    enc,
                    usable,
                )
        if enc not in accepted:
            raise UnknownChoiceError(f"encoding for the {type(self).__name__} on the {space.name} space", enc, usable)
        return enc

    @classmethod
    def accepted_encodings(cls) -> list[str]:
        """The registered encodings whose output this predictor reads (:attr:`reads`)."""
        return [e for e in encoding_names() if encoder_class(e).output == cls.reads]

    def _make_encoder(self, archs: list[Any], seed: int | None) -> ArchEncoder:
        space = resolve_space(getattr(self, "space", None), archs)
        name = self._encoding_name(space)
        if encoder_class(name).learned:  # a learned encoding: seed its model from the predictor's seed
            return make_encoder(name, space=space, random_state=seed)
        return make_encoder(name, space=space)

    def _features(
        self, inputs: Inputs, y: np.ndarray | None = None, fit: bool = False, seed: int | None = None
    ) -> np.ndarray:
        """The feature matrix for ``inputs``; at fit time also fits the encoder (which may use ``y``)."""
        if inputs.graphs is not None:
            raise TypeError(f"{type(self).__name__} reads feature vectors; pass architectures or a matrix, not graphs")
        if inputs.archs is not None:
            if fit:
                self.encoder_ = self._make_encoder(inputs.archs, seed).fit(inputs.archs, y)
            elif self.encoder_ is None:
                raise ValueError("this predictor was fitted on a feature matrix; pass a matrix, not architectures")
            mat = np.asarray(self.encoder_.transform(inputs.archs), dtype=np.float64)
            if inputs.extra is not None:
                mat = np.hstack([mat, inputs.extra])
        else:
            if fit:
                self.encoder_ = None
            mat = inputs.matrix
        if fit:
            self.n_features_in_ = mat.shape[1]
            self.n_extra_features_ = 0 if inputs.extra is None else inputs.extra.shape[1]
        elif mat.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {mat.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features "
                "as input (as fitted)"
            )
        return mat

    # --- public API -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> ArchPredictor:
        """Fit on ``X`` (architectures, DataFrame with ``arch``, or matrix) and targets ``y`` (n,)."""
        validate_hyperparameters(self)
        inputs = split_inputs(X)
        check_matrix_for_space(inputs, getattr(self, "space", None), type(self).__name__)
        targets = check_targets(y, len(inputs))
        seed = resolve_seed(getattr(self, "random_state", None))
        self.target_transform_ = TargetTransform(getattr(self, "target_transform", "none"))
        with limit_threads(getattr(self, "n_threads", None)):
            self._fit_inputs(inputs, self.target_transform_.fit_forward(targets), seed)
        self.extra_feature_names_ = inputs.extra_names
        record_feature_names(self, inputs)
        return self

    def _fit_inputs(self, inputs: Inputs, y: np.ndarray, seed: int) -> None:
        mat = self._features(inputs, y, fit=True, seed=seed)
        self._fit_matrix(mat, y, seed)

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted targets, shape (n,); with ``return_std=True`` also their standard deviation (n,)."""
        check_is_fitted(self)
        inputs = split_inputs(X)
        check_matrix_for_space(inputs, getattr(self, "space", None), type(self).__name__)
        check_feature_names(self, inputs)
        check_extra_names(getattr(self, "extra_feature_names_", None), inputs, type(self).__name__)
        with limit_threads(getattr(self, "n_threads", None)):
            mean, std = self.target_transform_.inverse(*self._predict_inputs(inputs))
        return (mean, std) if return_std else mean

    def _predict_inputs(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        return self._predict_matrix(self._features(inputs))

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        raise NotImplementedError

    def _predict_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    # --- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted predictor to one file (a version-stamped torch pickle); returns the path."""
        import torch

        from archrank import __version__

        check_is_fitted(self)
        path = Path(path)
        payload = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "archrank_version": __version__,
            "class": type(self).__name__,
            "estimator": self,
        }
        torch.save(payload, path)
        return path


def instantiate(
    spec: Any, seed: int, space: Any = None, encoding: str = "auto", what: str = "predictor"
) -> ArchPredictor:
    """A fresh predictor seeded with ``seed``: ``spec`` a name (built by ``make`` with ``space`` and
    ``encoding``) or an unfitted archrank predictor (cloned). ``what`` names ``spec`` in errors."""
    from archrank.predictors import make

    if isinstance(spec, str):
        est = make(spec, space=space, encoding=encoding)
    elif isinstance(spec, ArchPredictor):
        est = clone(spec)
    else:
        raise TypeError(f"{what} must be a predictor name or an archrank predictor, got {spec!r}")
    return est.set_params(random_state=seed)


def load(path: str | Path, strict_version: bool = True) -> ArchPredictor:
    """Read a predictor written by :meth:`ArchPredictor.save`.

    Raises DataFileError when the file is missing, unreadable, not a predictor file, or written
    by another archrank version (``strict_version=False`` turns the last into a warning).
    Only load files you trust: like every pickle, the file can run code.
    """
    import torch

    from archrank import __version__

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"predictor file {path} does not exist")
    try:
        payload = torch.load(path, weights_only=False, map_location="cpu")
    except Exception as err:  # corrupted or foreign file: report it as such
        raise DataFileError(f"{path} is not a readable archrank predictor file ({type(err).__name__}: {err})") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise DataFileError(f"{path} is not an archrank predictor file")
    if payload.get("format_version") != FORMAT_VERSION:
        raise DataFileError(
            f"{path} uses predictor file format {payload.get('format_version')}, this archrank reads {FORMAT_VERSION}"
        )
    saved = payload.get("archrank_version")
    if saved != __version__:
        message = f"{path} was saved by archrank {saved}, this is {__version__}"
        if strict_version:
            raise DataFileError(message + " (pass strict_version=False to load it anyway)")
        warnings.warn(message, stacklevel=2)
    est = payload["estimator"]
    if not isinstance(est, ArchPredictor):
        raise DataFileError(f"{path} does not hold an archrank predictor")
    return est
