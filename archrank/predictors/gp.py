"""Exact Gaussian-process predictor on BoTorch's ``SingleTaskGP`` (gpytorch underneath)."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch

from archrank._seeding import torch_seeded
from archrank.errors import UnknownChoiceError
from archrank.predictors.base import ArchPredictor, split_inputs
from archrank.predictors.constraints import NONE, Interval, Options
from archrank.predictors.kernels import OneHotHammingKernel
from archrank.predictors.registry import register_predictor

KERNELS = ("auto", "rbf", "matern52", "hamming")
#: L-BFGS iterations that refine, on all training points, hyperparameters first fitted on a subset
REFINE_MAXITER = 10


@register_predictor("gp")
class GPPredictor(ArchPredictor):
    """Exact GP with fitted hyperparameters (type-II maximum likelihood, L-BFGS).

    Kernels: ``"rbf"`` / ``"matern52"`` with one lengthscale per feature (ARD, BoTorch's
    dimension-scaled lengthscale prior) on min-max scaled features; ``"hamming"``
    (``exp(-mean_i [x_i != x'_i] / l_i)``, ARD over the categorical variables), for categorical
    encodings, with any extra feature columns added through a Matern-5/2 term. ``"auto"`` picks
    hamming for the ``categorical`` encoding and matern52 otherwise. Targets are standardised
    (``Standardize`` outcome transform); ``predict(..., return_std=True)`` gives the posterior
    mean and standard deviation of the latent function (observation noise excluded), in the units
    of ``y``. ``hyper_subset``: above this many training points the hyperparameters are fitted on
    that many first, then refined on all (:meth:`_fit_model`); ``None`` fits on all from the
    start. Features constant over the training set are dropped. The Hamming kernel is computed on
    one-hot groups (:class:`~archrank.predictors.kernels.OneHotHammingKernel`, the same function as
    BoTorch's ``CategoricalKernel`` but (n, n) memory instead of (n, n, d)). The fitted BoTorch
    model is ``model_`` (for acquisition functions); :meth:`to_model_inputs` maps new inputs to its space.
    """

    default_encodings: ClassVar[tuple[str, ...]] = ("categorical",)
    tuning_grid: ClassVar[dict[str, list[Any]]] = {
        "kernel": ["auto", "rbf"],
        "target_transform": ["rank_gauss", "none"],
    }

    parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "kernel": [Options("auto", "rbf", "matern52", "hamming")],
        "hyper_subset": [NONE, Interval(int, 2, None)],
    }

    def __init__(
        self,
        space: Any = None,
        encoding: str = "auto",
        kernel: str = "auto",
        target_transform: str = "rank_gauss",
        hyper_subset: int | None = 500,
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.kernel = kernel
        self.target_transform = target_transform
        self.hyper_subset = hyper_subset
        self.random_state = random_state
        self.n_threads = n_threads

    def _kernel_name(self) -> str:
        if self.kernel not in KERNELS:
            raise UnknownChoiceError("gp kernel", self.kernel, KERNELS)
        if self.kernel != "auto":
            return self.kernel
        return "hamming" if self.encoder_ is not None and self.encoder_.name == "categorical" else "matern52"

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """Model inputs: one-hot groups for the categorical columns (hamming), then min-max scaled columns."""
        Z = X[:, self.keep_]
        scaled = (Z - self.low_) / self.span_
        if self.kernel_ != "hamming":
            return scaled
        groups = [
            (Z[:, i : i + 1] == values[None, :]).astype(np.float64)  # an unseen value matches no column
            for i, values in enumerate(self.categories_)
        ]
        return np.hstack([*groups, scaled[:, self.n_categorical_ :]])

    def to_model_inputs(self, X: Any) -> torch.Tensor:
        """Inputs of ``model_`` for ``X`` (architectures, DataFrame or matrix): (n, d) float64 tensor."""
        return torch.as_tensor(self._scale(self._features(split_inputs(X))), dtype=torch.float64)

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        from botorch.exceptions.warnings import InputDataWarning
        from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
        from gpytorch.kernels import ScaleKernel

        self.kernel_ = self._kernel_name()
        n_extra = getattr(self, "n_extra_features_", 0)
        varying = X.max(axis=0) > X.min(axis=0)
        if not varying.any():
            varying[0] = True  # all features constant: keep one so the GP reduces to a constant mean
        self.keep_ = np.flatnonzero(varying)
        categorical = (
            self.keep_ < X.shape[1] - n_extra if self.kernel_ == "hamming" else np.zeros(len(self.keep_), bool)
        )
        # categorical columns first (they already are: extras come after the encoding)
        self.n_categorical_ = int(categorical.sum())
        self.low_ = X[:, self.keep_].min(axis=0)
        self.span_ = X[:, self.keep_].max(axis=0) - self.low_
        self.categories_ = [np.unique(X[:, col]) for col in self.keep_[: self.n_categorical_]]
        train_x = torch.as_tensor(self._scale(X), dtype=torch.float64)
        train_y = torch.as_tensor(y, dtype=torch.float64)[:, None]
        d = train_x.shape[1]
        with torch_seeded(seed):
            if self.kernel_ == "hamming":
                sizes = [len(v) for v in self.categories_]
                n_onehot = sum(sizes)
                covar = ScaleKernel(OneHotHammingKernel(sizes, active_dims=tuple(range(n_onehot)))) if sizes else None
                if n_onehot < d:
                    cont = tuple(range(n_onehot, d))
                    extra = ScaleKernel(
                        get_covar_module_with_dim_scaled_prior(
                            ard_num_dims=len(cont), use_rbf_kernel=False, active_dims=cont
                        )
                    )
                    covar = extra if covar is None else covar + extra
            else:
                covar = get_covar_module_with_dim_scaled_prior(ard_num_dims=d, use_rbf_kernel=self.kernel_ == "rbf")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InputDataWarning)  # categorical codes are not in [0, 1] on purpose
                model = self._fit_model(train_x, train_y, covar, seed)
        model.eval()
        self.model_ = model

    def _fit_model(self, train_x: torch.Tensor, train_y: torch.Tensor, covar: Any, seed: int) -> Any:
        """A ``SingleTaskGP`` with its hyperparameters fitted by maximum marginal likelihood.

        With more than ``hyper_subset`` training points they are fitted first on that many drawn at
        random (``seed``), then refined on all of them with at most ``REFINE_MAXITER`` L-BFGS steps:
        at 1,000 NB201 cells this took 2.6 s instead of 8 s with the same Kendall tau
        (benchmarks/RESULTS.md). The posterior always conditions on every training point. A small
        subset can leave the hyperparameters poor (60 of 150 NB201 cells: tau 0.56 instead of 0.65
        on one seed; 100 of 150: 0.648 instead of 0.647), hence the default of 500.
        """
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP as gp
        from botorch.models.transforms.outcome import Standardize as standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        n = len(train_x)
        if self.hyper_subset is not None and self.hyper_subset < 2:
            raise ValueError(f"hyper_subset must be None or at least 2, got {self.hyper_subset}")
        if self.hyper_subset is None or n <= self.hyper_subset:
            model = gp(train_x, train_y, covar_module=covar, outcome_transform=standardize(m=1))
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            return model
        sub = torch.as_tensor(np.random.default_rng(seed).choice(n, self.hyper_subset, replace=False))
        first = gp(train_x[sub], train_y[sub], covar_module=covar, outcome_transform=standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(first.likelihood, first))
        model = gp(train_x, train_y, covar_module=first.covar_module, outcome_transform=standardize(m=1))
        model.likelihood.load_state_dict(first.likelihood.state_dict())
        model.mean_module.load_state_dict(first.mean_module.state_dict())
        fit_gpytorch_mll(
            ExactMarginalLogLikelihood(model.likelihood, model),
            optimizer_kwargs={"options": {"maxiter": REFINE_MAXITER}},
        )
        return model

    def _predict_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.as_tensor(self._scale(X), dtype=torch.float64)
        means, stds = [], []
        with torch.no_grad():
            for start in range(0, len(x), 4096):
                post = self.model_.posterior(x[start : start + 4096])
                means.append(post.mean.squeeze(-1).numpy())
                stds.append(post.variance.clamp_min(0).sqrt().squeeze(-1).numpy())
        return np.concatenate(means).astype(np.float64), np.concatenate(stds).astype(np.float64)
