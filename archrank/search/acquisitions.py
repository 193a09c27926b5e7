"""Acquisition functions: which candidates of a pool a fitted predictor finds most promising.

One registry, filled here with ``@register_acquisition``; a guided search
(:class:`archrank.search.guided.GuidedSearch`) takes any of them by name. Each works with any
predictor that gives ``predict(X, return_std=True)`` (``mean`` needs only ``predict(X)``).
Where the predictor is a BoTorch model (it exposes ``model_`` and ``to_model_inputs``, as
:class:`archrank.predictors.GPPredictor` does), ``ucb`` and ``ei`` are BoTorch's own
``UpperConfidenceBound`` and ``LogExpectedImprovement`` on the latent posterior, and ``qlognei``
(batch ``qLogNoisyExpectedImprovement``, greedy sequential selection) is available.

- ``mean``: the predicted mean (NPENAS-NP, "pure exploitation").
- ``ei``: expected improvement over the best score evaluated so far.
- ``ucb``: ``mean + sqrt(beta) * std`` (``beta`` default 2.0, BoTorch's convention).
- ``thompson``: one normal draw per candidate from mean and std (independent Thompson sampling, BANANAS).
- ``qlognei``: BoTorch's batch noisy EI (BoTorch models only; ``mc_samples`` default 256).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from archrank.errors import UnknownChoiceError


@dataclass(frozen=True)
class AcquisitionContext:
    """What an acquisition may use besides the model and the pool.

    ``rng``: the strategy's generator (draws come from it, so a search stays deterministic);
    ``train`` / ``y``: the successfully evaluated architectures and their scores (n,);
    ``k``: how many of the pool will be proposed.
    """

    rng: np.random.Generator
    train: Sequence[Any]
    y: np.ndarray
    k: int


class Acquisition:
    """Scores a pool of candidates; :meth:`order` gives the pool's indices, most promising first."""

    name: ClassVar[str]
    #: whether it needs a BoTorch model (``model_`` and ``to_model_inputs``) rather than any predictor
    botorch_only: ClassVar[bool] = False

    def values(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> np.ndarray:
        """(len(pool),) higher is more promising."""
        raise NotImplementedError

    def order(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> list[int]:
        return [int(i) for i in np.argsort(-self.values(model, pool, context), kind="stable")]

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({options})"


_ACQUISITIONS: dict[str, type[Acquisition]] = {}


def register_acquisition(name: str) -> Callable[[type[Acquisition]], type[Acquisition]]:
    """Class decorator: make an :class:`Acquisition` available under ``name`` to every guided search."""

    def add(cls: type[Acquisition]) -> type[Acquisition]:
        if not (isinstance(cls, type) and issubclass(cls, Acquisition)):
            raise TypeError(
                f"register_acquisition({name!r}) decorates a subclass of archrank.search.Acquisition that defines "
                f"values(model, pool, context) (or order), not {cls!r}"
            )
        if cls.values is Acquisition.values and cls.order is Acquisition.order:
            raise TypeError(f"acquisition {cls.__name__} defines neither values(model, pool, context) nor order()")
        if name in _ACQUISITIONS and _ACQUISITIONS[name] is not cls:
            raise ValueError(f"an acquisition named {name!r} is registered already ({_ACQUISITIONS[name].__name__})")
        cls.name = name
        _ACQUISITIONS[name] = cls
        return cls

    return add


def acquisition_names() -> list[str]:
    """Names accepted by ``make_acquisition`` and a guided search's ``acquisition=``."""
    return list(_ACQUISITIONS)


def make_acquisition(name: str | Acquisition, **options: Any) -> Acquisition:
    """Acquisition ``name`` with its options (e.g. ``beta`` for ``ucb``); an Acquisition is returned as is."""
    if isinstance(name, Acquisition):
        if options:
            raise ValueError(f"options {sorted(options)} given with an acquisition object; set them on it instead")
        return name
    if name not in _ACQUISITIONS:
        raise UnknownChoiceError("acquisition", name, acquisition_names())
    try:
        return _ACQUISITIONS[name](**options)
    except TypeError as err:
        raise ValueError(f"bad options {options} for the {name!r} acquisition: {err}") from None


def is_botorch_model(model: Any) -> bool:
    """Whether ``model`` exposes a fitted BoTorch model (``model_``) and the map to its inputs."""
    return hasattr(model, "to_model_inputs") and hasattr(getattr(model, "model_", None), "posterior")


def _mean_std(model: Any, pool: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    try:
        mean, std = model.predict(pool, return_std=True)
    except TypeError as err:
        raise TypeError(
            f"{type(model).__name__}.predict(X, return_std=True) failed ({err}); this acquisition needs a "
            "predictor with a predictive std (or use acquisition='mean')"
        ) from None
    return np.asarray(mean, dtype=float), np.maximum(np.asarray(std, dtype=float), 0.0)


def _botorch_values(acquisition: Any, x_pool: Any) -> np.ndarray:
    import torch

    with torch.no_grad():
        return acquisition(x_pool.unsqueeze(1)).numpy()


@register_acquisition("mean")
class PredictedMean(Acquisition):
    def values(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> np.ndarray:
        return np.asarray(model.predict(pool), dtype=float)


@register_acquisition("ei")
class ExpectedImprovement(Acquisition):
    def values(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> np.ndarray:
        if is_botorch_model(model):
            from botorch.acquisition import LogExpectedImprovement

            best_f = _best_in_model_units(model)
            return _botorch_values(LogExpectedImprovement(model.model_, best_f=best_f), model.to_model_inputs(pool))
        from scipy import stats

        mean, std = _mean_std(model, pool)
        best = float(np.max(context.y))
        z = (mean - best) / np.maximum(std, 1e-9)
        return (mean - best) * stats.norm.cdf(z) + std * stats.norm.pdf(z)


def _best_in_model_units(model: Any) -> float:
    """The best evaluated score in the units of the BoTorch model's outcome (its targets before the
    ``Standardize`` transform, i.e. after the predictor's own target transform)."""
    gp = model.model_
    targets = gp.train_targets
    if hasattr(gp, "outcome_transform"):
        targets = gp.outcome_transform.untransform(targets.unsqueeze(-1))[0].squeeze(-1)
    return float(targets.max())


@register_acquisition("ucb")
class UpperConfidenceBound(Acquisition):
    def __init__(self, beta: float = 2.0) -> None:
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def values(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> np.ndarray:
        if is_botorch_model(model):
            from botorch.acquisition import UpperConfidenceBound as BoTorchUCB

            return _botorch_values(BoTorchUCB(model.model_, beta=self.beta), model.to_model_inputs(pool))
        mean, std = _mean_std(model, pool)
        return mean + np.sqrt(self.beta) * std


@register_acquisition("thompson")
class IndependentThompson(Acquisition):
    def values(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> np.ndarray:
        mean, std = _mean_std(model, pool)
        return context.rng.normal(mean, std)


@register_acquisition("qlognei")
class QLogNoisyExpectedImprovement(Acquisition):
    botorch_only = True

    def __init__(self, mc_samples: int = 256) -> None:
        if mc_samples < 1:
            raise ValueError(f"mc_samples must be >= 1, got {mc_samples}")
        self.mc_samples = int(mc_samples)

    def order(self, model: Any, pool: Sequence[Any], context: AcquisitionContext) -> list[int]:
        if not is_botorch_model(model):
            raise TypeError(
                f"the qlognei acquisition needs a BoTorch model (e.g. predictor='gp'), not {type(model).__name__}"
            )
        import torch
        from botorch.acquisition import qLogNoisyExpectedImprovement
        from botorch.optim import optimize_acqf_discrete
        from botorch.sampling import SobolQMCNormalSampler

        x_pool = model.to_model_inputs(pool)
        x_train = model.to_model_inputs(list(context.train))
        seed = int(context.rng.integers(2**31 - 1))
        with torch.no_grad():
            sampler = SobolQMCNormalSampler(torch.Size([self.mc_samples]), seed=seed)
            acq = qLogNoisyExpectedImprovement(model.model_, X_baseline=x_train, sampler=sampler)
            chosen, _ = optimize_acqf_discrete(acq, q=min(context.k, len(pool)), choices=x_pool, unique=True)
        rows = [int(torch.nonzero((x_pool == c).all(dim=1))[0, 0]) for c in chosen]
        return rows + [i for i in range(len(pool)) if i not in rows]
