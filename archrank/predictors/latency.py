"""Latency predictors: a lookup-table model and few-shot transfer from reference devices.

``latency_lut`` is the latency-lookup-table model of hardware-aware NAS (per-choice costs summed
along the network, as in ProxylessNAS / FBNet / MnasNet's latency tables), fitted to measured cells
by non-negative least squares. ``latency_transfer`` predicts a new device's latency from a handful
of its measurements and the latencies of *reference devices* for the same cells (HELP's few-shot
setting, Lee et al., NeurIPS 2021): it fits a few small models on the target measurements and keeps
the one whose leave-one-out ranking of those measurements is best (the choice and the method are
from HELP's meta-validation devices; benchmarks/hardware.py, RESULTS.md "Hardware").

Both read the space's decisions (any space whose architectures have named decisions) and, for
``latency_transfer``, a reference table of latencies (a :class:`~archrank.datasets.Benchmark` or a
DataFrame), so nothing here depends on a particular space. Targets are latencies in any positive
unit (ms); predictions are in that unit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.stats import spearmanr

from archrank.encodings import resolve_space
from archrank.errors import InvalidArchitectureError, UnknownArchitectureError, UnknownChoiceError
from archrank.predictors.base import ArchPredictor, Inputs
from archrank.predictors.constraints import BOOL, NONE, Interval, Kind, Options
from archrank.predictors.registry import register_predictor

#: the candidate models of ``latency_transfer`` (see :class:`LatencyTransferPredictor`)
TRANSFER_MODELS = ("nnls", "lookup_table", "ridge", "linear")
#: its error for a reference matrix with negative or non-finite entries (scikit-learn's wording first)
NEGATIVE_REFERENCE = "Negative values in data: reference latencies must be non-negative numbers (a time, e.g. in ms)"
#: the candidates it tries by default ("linear" is the plain baseline)
DEFAULT_TRANSFER_MODELS = ("nnls", "lookup_table", "ridge")


def choice_counts(space: Any, archs: list[Any], shared: bool = True) -> tuple[np.ndarray, list[str]]:
    """The lookup-table features of ``archs``: (n, k) counts and their k names.

    ``shared=True``: how many of the architecture's decisions take each value (e.g. how many edges
    of an NB201 cell are ``nor_conv_3x3``), one cost per value wherever it appears; ``False``: one
    column per decision and value (a cost per position)."""
    specs = space.decisions
    if not specs:
        raise TypeError(f"the {space.name} space has no named decisions, so a lookup table has nothing to count")
    if shared:
        names = list(dict.fromkeys(str(v) for values in specs.values() for v in values))
    else:
        names = [f"{d}={v}" for d, values in specs.items() for v in values]
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(archs), len(names)))
    for row, arch in enumerate(archs):
        for decision, value in space.to_decisions(arch).items():
            out[row, index[str(value) if shared else f"{decision}={value}"]] += 1.0
    return out, names


def _nnls_with_intercept(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Non-negative weights ``w`` and a free intercept ``b`` minimising ||Xw + b - y||^2 + alpha ||w||^2."""
    n, k = X.shape
    design = np.hstack([X, np.ones((n, 1)), -np.ones((n, 1))])  # b = b+ - b-, both >= 0
    if alpha > 0:
        ridge = np.hstack([np.sqrt(alpha) * np.eye(k), np.zeros((k, 2))])
        design, y = np.vstack([design, ridge]), np.concatenate([y, np.zeros(k)])
    coef, _ = nnls(design, y, maxiter=50 * (k + 2))
    return coef[:k], float(coef[k] - coef[k + 1])


def _check_latencies(y: np.ndarray, who: str) -> None:
    if (y <= 0).any():
        bad = int(np.argmax(y <= 0))
        raise ValueError(f"{who} needs positive latencies; target {bad} is {float(y[bad])}")


@register_predictor("latency_lut")
class LookupTablePredictor(ArchPredictor):
    """Latency lookup table: ``latency = base + sum of the costs of the choices an architecture makes``.

    The per-choice costs (and the base) are fitted to measured cells by non-negative least squares
    with a small ridge ``alpha`` (relative to the mean squared feature), so 10 measurements suffice
    for a space with a handful of distinct choices. ``shared``: one cost per value (an op costs the
    same on every edge) or one per decision and value. On a plain matrix the columns are the counts.
    ``encoding``: only ``"auto"`` (the counts are this model's own features).
    ``std``: the training residuals' root mean square (the same for every cell). After ``fit``:
    ``costs_`` (a Series: feature -> ms) and ``base_``. Where every architecture makes the same
    number of decisions (an NB201 cell has 6 edges), a shift of every cost trades against the base:
    the predictions are determined, the split between ``costs_`` and ``base_`` is not.
    """

    reads: ClassVar[str] = "matrix"
    tuning_grid: ClassVar[dict[str, list[Any]]] = {"alpha": [1e-4, 1e-3, 1e-2], "shared": [True, False]}
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "encoding": [Options("auto")],
        "shared": [BOOL],
        "alpha": [Interval(float, 0, None)],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        shared: bool = True,
        alpha: float = 1e-3,
        target_transform: str = "none",
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.shared = shared
        self.alpha = alpha
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads

    def _counts(self, inputs: Inputs, fit: bool) -> np.ndarray:
        if inputs.graphs is not None:
            raise TypeError("LookupTablePredictor reads architectures or a matrix of counts, not graphs")
        if inputs.archs is None:
            mat = inputs.matrix
            names = [f"x{i}" for i in range(mat.shape[1])]
        else:
            space = resolve_space(self.space, inputs.archs)
            mat, names = choice_counts(space, inputs.archs, self.shared)
            if inputs.extra is not None:
                mat = np.hstack([mat, inputs.extra])
                names += list(inputs.extra_names or [])
        if fit:
            self.n_features_in_ = mat.shape[1]
            self.feature_labels_ = names
        elif mat.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {mat.shape[1]} features, but LookupTablePredictor is expecting {self.n_features_in_} "
                "features as input (as fitted)"
            )
        return mat

    def _fit_inputs(self, inputs: Inputs, y: np.ndarray, seed: int) -> None:
        X = self._counts(inputs, fit=True)
        scale = float(np.mean(X**2)) or 1.0
        w, b = _nnls_with_intercept(X, y, self.alpha * scale * len(y))
        self.coef_, self.base_ = w, b
        self.costs_ = pd.Series(w, index=self.feature_labels_, name="cost")
        self.residual_rms_ = float(np.sqrt(np.mean((X @ w + b - y) ** 2)))

    def _predict_inputs(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        X = self._counts(inputs, fit=False)
        mean = X @ self.coef_ + self.base_
        return mean, np.full(len(mean), self.residual_rms_)


@register_predictor("latency_transfer")
class LatencyTransferPredictor(ArchPredictor):
    """Few-shot latency on a new device from reference devices' latencies of the same cells (HELP's setting).

    ``reference``: where the reference latencies come from, for the training cells and every cell
    predicted: ``None`` (the table the space ships for ``dataset``, ``space.load_table``), a
    :class:`~archrank.datasets.Benchmark`, or a DataFrame with an ``arch`` column (or architecture
    strings as index) and one column per device. ``reference_devices``: the columns to use (None:
    every ``latency_*`` metric of a Benchmark, every numeric column of a DataFrame, that has a
    non-negative latency for every cell: NB201's ``latency_edgetpu`` holds -1 for cells HW-NAS-Bench
    did not measure); leave the target device out of them. On a plain matrix, its columns are the
    reference latencies. ``encoding``: only ``"auto"`` (the features are the reference latencies and
    the space's choice counts).

    Fitting on n target measurements (n >= 3; 10 is HELP's setting) tries ``models``:

    - ``"nnls"``: the target latency as a non-negative mix of the reference latencies (each scaled
      by its mean) plus an intercept, by least squares: a device behaves like a blend of others;
    - ``"lookup_table"``: the :class:`LookupTablePredictor` on the space's choice counts (needs
      architectures);
    - ``"ridge"``: ridge regression of the log latency on the standardised reference log
      latencies and the choice counts, its penalty chosen by generalised cross-validation;
    - ``"linear"`` (not tried by default; the plain baseline): least squares of the log latency on
      the standardised reference log latencies (the minimum-norm solution when n <= devices);

    and keeps the one with the best leave-one-out Spearman correlation on the measurements (ties:
    the earlier in ``models``); ``selection_`` has every model's score, ``model_`` the choice.
    ``std``: the chosen model's leave-one-out root-mean-square error (the same for every cell).
    """

    reads: ClassVar[str] = "matrix"
    tuning_grid: ClassVar[dict[str, list[Any]]] = {"selection": ["loo_spearman", "loo_mse"]}
    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "encoding": [Options("auto")],
        "reference_devices": [NONE, Kind((list, tuple), "a list of column names")],
        "dataset": [Kind((str,), "a dataset name")],
        "models": [Kind((list, tuple), "a list of model names")],
        "selection": [Options("loo_spearman", "loo_mse")],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        reference: Any = None,
        reference_devices: list[str] | None = None,
        dataset: str = "cifar10",
        models: tuple[str, ...] = DEFAULT_TRANSFER_MODELS,
        selection: str = "loo_spearman",
        target_transform: str = "none",
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.reference = reference
        self.reference_devices = reference_devices
        self.dataset = dataset
        self.models = models
        self.selection = selection
        self.target_transform = target_transform
        self.random_state = random_state
        self.n_threads = n_threads

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # reference latencies (on a plain matrix) and targets are > 0
        tags.target_tags.positive_only = True
        return tags

    # --- reference latencies --------------------------------------------------------------
    def _reference_table(self, space: Any) -> tuple[Any, list[str]]:
        ref = self.reference
        if ref is None:
            ref = space.load_table(self.dataset)
        if isinstance(ref, pd.DataFrame):
            frame = ref.set_index("arch") if "arch" in ref.columns else ref
            available = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
            column = lambda d: frame[d].to_numpy(dtype=np.float64)  # noqa: E731
            table: Any = frame.rename(index=str)
        elif hasattr(ref, "metrics") and hasattr(ref, "values"):
            available = [m for m in ref.metrics() if m.startswith("latency_")]
            column, table = ref.values, ref
        else:
            raise TypeError(f"reference must be None, a Benchmark or a DataFrame, got {type(ref).__name__}")
        if self.reference_devices is None:  # every column that holds a latency for every cell
            devices = [d for d in available if np.isfinite(column(d)).all() and (column(d) >= 0).all()]
        else:
            devices = list(self.reference_devices)
        if not devices:
            raise ValueError(f"no reference devices: give reference_devices=, some of {available}")
        for d in devices:
            if d not in available:
                raise UnknownChoiceError("reference device", d, available)
        return table, devices

    def _reference_latencies(self, archs: list[Any]) -> np.ndarray:
        """(n, d) reference latencies of ``archs``; an error naming the first cell the reference lacks."""
        ref, devices = self.reference_table_, self.reference_devices_
        if isinstance(ref, pd.DataFrame):
            keys = [str(a) for a in archs]
            absent = [k for k in keys if k not in ref.index]
            if absent:
                raise UnknownArchitectureError(
                    f"the reference table has no latencies for {absent[0]!r} ({len(absent)} of {len(keys)} cells "
                    "missing): latency_transfer predicts only cells whose reference latencies it has"
                )
            out = ref.loc[keys, devices].to_numpy(dtype=np.float64)
        else:
            rows = np.array([ref.row(a) for a in archs], dtype=np.int64)  # looked up once for every device
            out = np.column_stack([ref.values(d)[rows] for d in devices])
        bad = ~np.isfinite(out) | (out < 0)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"reference device {devices[col]!r} has no latency for {archs[row]!s} (value {out[row, col]}; "
                f"{int(bad[:, col].sum())} of these {len(archs)} cells): leave it out of reference_devices"
            )
        return out

    # --- features of the candidate models -------------------------------------------------
    def _design(self, inputs: Inputs, fit: bool, counts_needed: bool = True) -> dict[str, np.ndarray]:
        """Each candidate model's features (``counts_needed=False``: without the choice counts)."""
        if inputs.graphs is not None:
            raise TypeError("LatencyTransferPredictor reads architectures or a matrix of reference latencies")
        if fit:
            unknown = [m for m in self.models if m not in TRANSFER_MODELS]
            if unknown or not self.models:
                raise UnknownChoiceError("latency_transfer model", unknown[0] if unknown else None, TRANSFER_MODELS)
        counts = None
        if inputs.archs is None:
            ref = inputs.matrix
            if fit:
                self.reference_table_, self.reference_devices_ = None, [f"x{i}" for i in range(ref.shape[1])]
        else:
            space = resolve_space(self.space, inputs.archs)
            if fit:
                self.reference_table_, self.reference_devices_ = self._reference_table(space)
            ref = self._reference_latencies(inputs.archs)
            counts = choice_counts(space, inputs.archs)[0] if counts_needed else None
        if fit:
            self.n_features_in_ = ref.shape[1]
            if (ref < 0).any() or not np.isfinite(ref).all():
                raise ValueError(NEGATIVE_REFERENCE)
            self.ref_mean_ = ref.mean(axis=0) + 1e-12
            logs = self._log(ref)
            self.log_mean_, self.log_std_ = logs.mean(axis=0), logs.std(axis=0) + 1e-12
        elif ref.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {ref.shape[1]} features, but LatencyTransferPredictor is expecting {self.n_features_in_} "
                "features as input (as fitted)"
            )
        if not fit and ((ref < 0).any() or not np.isfinite(ref).all()):
            raise ValueError(NEGATIVE_REFERENCE)
        scaled = ref / self.ref_mean_
        std_logs = (self._log(ref) - self.log_mean_) / self.log_std_
        out = {
            "nnls": scaled,
            "ridge": std_logs if counts is None else np.hstack([std_logs, counts]),
            "linear": std_logs,
        }
        if counts is not None:
            out["lookup_table"] = counts
        return out

    def _log(self, ref: np.ndarray) -> np.ndarray:
        """Log latencies, a zero kept finite by a floor of 1e-6 of the device's mean (no real latency is 0)."""
        return np.log(np.maximum(ref, 1e-6 * self.ref_mean_))

    @staticmethod
    def _fit_one(model: str, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """A fitted candidate as ``(weights, intercept, on_log)``: it predicts ``X @ w + b`` (exp'ed if on_log)."""
        if model == "ridge":
            from sklearn.linear_model import RidgeCV

            reg = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X, np.log(y))
            return np.asarray(reg.coef_, dtype=np.float64), float(reg.intercept_), True
        if model == "linear":
            design = np.hstack([X, np.ones((len(X), 1))])
            coef = np.linalg.lstsq(design, np.log(y), rcond=None)[0]
            return coef[:-1], float(coef[-1]), True
        alpha = 1e-3 * (float(np.mean(X**2)) or 1.0) * len(y) if model == "lookup_table" else 0.0
        w, b = _nnls_with_intercept(X, y, alpha)
        return w, b, False

    @staticmethod
    def _apply(fitted: tuple[np.ndarray, float, bool], X: np.ndarray) -> np.ndarray:
        w, b, on_log = fitted
        out = X @ w + b
        return np.exp(out) if on_log else out

    def _fit_inputs(self, inputs: Inputs, y: np.ndarray, seed: int) -> None:
        _check_latencies(y, "latency_transfer")
        if len(y) < 3:
            raise ValueError(f"latency_transfer needs at least 3 measurements of the target device, got {len(y)}")
        designs = self._design(inputs, fit=True)
        usable = [m for m in self.models if m in designs]
        if not usable:
            raise TypeError(f"none of the models {list(self.models)} reads a plain matrix; pass architectures")
        scores: dict[str, dict[str, float]] = {}
        for model in usable:
            X = designs[model]
            loo = np.empty(len(y))
            for k in range(len(y)):
                keep = np.arange(len(y)) != k
                loo[k] = self._apply(self._fit_one(model, X[keep], y[keep]), X[k : k + 1])[0]
            rho = spearmanr(loo, y).statistic
            scores[model] = {
                "loo_spearman": float(rho) if np.isfinite(rho) else -1.0,
                "loo_mse": float(np.mean((loo - y) ** 2)),
                "loo_rmse": float(np.sqrt(np.mean((loo - y) ** 2))),
            }
        self.selection_ = pd.DataFrame(scores).T
        sign = -1.0 if self.selection == "loo_mse" else 1.0  # the highest Spearman, the lowest squared error
        self.model_ = max(usable, key=lambda m: sign * scores[m][self.selection])  # max keeps the first of ties
        self.fitted_ = self._fit_one(self.model_, designs[self.model_], y)
        self.loo_rmse_ = scores[self.model_]["loo_rmse"]

    def _predict_inputs(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        designs = self._design(inputs, fit=False, counts_needed=self.model_ in ("lookup_table", "ridge"))
        if self.model_ not in designs:
            raise InvalidArchitectureError(
                f"this predictor chose the {self.model_} model, which reads architectures; pass architectures"
            )
        mean = self._apply(self.fitted_, designs[self.model_])
        return mean, np.full(len(mean), self.loo_rmse_)
