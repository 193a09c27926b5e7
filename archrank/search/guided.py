"""Predictor-guided search: fit a predictor on what was evaluated, evaluate only the most promising.

:class:`GuidedSearch` (``"guided"``) is made of three parts chosen independently:

- a **candidate pool** (``pool=``): ``"mutation"`` (mutations of the ``parents`` best
  architectures; random ones fill up if mutations run dry), ``"random"``, or ``"both"`` (half each);
- a **predictor** (``predictor=``): a name of :func:`archrank.predictors.names` (built with
  ``predictor_params``) or any estimator with ``predict(X, return_std=True)``: an archrank
  predictor is fitted on the architectures, any other (e.g. scikit-learn's
  ``GaussianProcessRegressor``) on the ``encoding`` of them (default ``adjacency_onehot``; for
  a named or archrank predictor ``encoding`` sets its own); it is cloned and refitted on all
  successful evaluations every ``refit_every`` iterations (1: every iteration; in between the
  last fit ranks the new pool), afresh or, with ``warm_refit`` (settings for the refits, e.g.
  ``{"epochs": 50}``), continuing from the last fit (predictors with scikit-learn's
  ``warm_start``, such as ``gnn``);
- an **acquisition** (``acquisition=``, see :mod:`archrank.search.acquisitions`): ``mean``,
  ``ei``, ``ucb``, ``thompson``, ``qlognei`` or any registered one, with ``acquisition_params``.

After ``initial`` random architectures, every iteration builds a pool of ``pool_size`` new
candidates, scores it and proposes the ``per_iteration`` best. The published methods are presets:

- ``npenas`` (Wei et al., "NPENAS: Neural Predictor Guided Evolution for NAS", TNNLS 2022): the
  GIN predictor on mutations; ``variant="np"`` ranks by the predicted mean (acquisition ``mean``,
  NPENAS-NP), ``"bo"`` by expected improvement from the ensemble's mean and spread (``ei``).
- ``bananas`` (White et al., "BANANAS", AAAI 2021): the MLP ensemble on the path encoding and
  independent Thompson sampling (``thompson``).
- ``bo``: the exact GP of :mod:`archrank.predictors` with BoTorch's acquisition over the
  pool: ``"ucb"`` (the default, UpperConfidenceBound with ``beta``), ``"ei"``
  (LogExpectedImprovement over the best evaluated score) or ``"qlognei"`` (batch
  qLogNoisyExpectedImprovement, greedy sequential selection by ``optimize_acqf_discrete``). By
  default the GP works on the ``gnn_embedding`` encoding (a GIN trained on the evaluations so
  far, refitted every iteration: deep-kernel BO); ``predictor_params={"encoding": "categorical"}``
  gives the plain GP with a Hamming kernel on the ops. Both defaults come from pilots on NB201
  CIFAR-10 (100 queries; the benchmark reports other seeds): EI stalled below the best cells in
  2 of 10 runs (mean best validation accuracy 91.54 against 91.60 for UCB), and the Hamming GP
  reached 91.53 over 40 seeds while the GP on GIN embeddings found the best cell (91.61) in each
  of 5 pilot runs.

Zero-cost proxies (:mod:`archrank.proxies`, computed at initialization through ``compute``: the
shipped NB201 table where it has the cell, else computed and cached on disk) can help
any of them: ``warm_start=N`` draws N random architectures and starts from the ``initial`` best
by the mean rank of ``proxies``; ``prefilter=N`` builds each iteration's pool from N candidates
and keeps the ``pool_size`` best by proxy rank before the predictor sees them;
``proxy_features=True`` fits the predictor on the encoding plus the quantiles of the
``proxies`` (:class:`archrank.predictors.ProxyFeaturePredictor`, the reference fixed at each fit:
the shipped table where there is one, else the evaluated architectures' scores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from archrank.errors import UnknownChoiceError
from archrank.search.acquisitions import Acquisition, AcquisitionContext, make_acquisition
from archrank.search.strategies import Strategy, register_strategy
from archrank.spaces.base import SearchSpace

POOLS = ("mutation", "random", "both")
#: the encoding a plain estimator (one that does not read architectures) is fitted on by default
DEFAULT_MATRIX_ENCODING = "adjacency_onehot"


class _EncodedEstimator:
    """A plain estimator (no architecture support) fitted on the ``encoding`` of architectures."""

    def __init__(self, estimator: Any, encoding: str, space: SearchSpace) -> None:
        self.estimator, self.encoding, self.space = estimator, encoding, space

    def fit(self, archs: Sequence[Any], y: np.ndarray) -> _EncodedEstimator:
        from archrank.encodings import make_encoder

        self.encoder_ = make_encoder(self.encoding, space=self.space).fit(archs, y)
        self.estimator.fit(self.encoder_.transform(archs), y)
        return self

    def predict(self, archs: Sequence[Any], return_std: bool = False) -> Any:
        X = self.encoder_.transform(archs)
        return self.estimator.predict(X, return_std=True) if return_std else self.estimator.predict(X)


@register_strategy
class GuidedSearch(Strategy):
    """Predictor-guided search from a candidate pool, a predictor and an acquisition (module docstring)."""

    name = "guided"
    default_predictor = "gnn"
    default_acquisition = "mean"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        allowed: Callable[[Any], bool],
        initial: int = 10,
        per_iteration: int = 10,
        pool_size: int = 100,
        parents: int = 10,
        pool: str = "mutation",
        predictor: Any = None,
        predictor_params: dict[str, Any] | None = None,
        encoding: str | None = None,
        acquisition: Any = None,
        acquisition_params: dict[str, Any] | None = None,
        warm_start: int = 0,
        prefilter: int = 0,
        proxies: Sequence[str] = ("nwot", "synflow"),
        proxy_dataset: str = "cifar10",
        proxy_features: bool = False,
        refit_every: int = 1,
        warm_refit: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, rng, allowed)
        if initial < 2 or per_iteration < 1 or pool_size < per_iteration or parents < 1:
            raise ValueError("need initial >= 2, per_iteration >= 1, pool_size >= per_iteration and parents >= 1")
        if warm_start and warm_start < initial:
            raise ValueError(f"warm_start ({warm_start}) must be 0 or at least initial ({initial})")
        if prefilter and prefilter < pool_size:
            raise ValueError(f"prefilter ({prefilter}) must be 0 or at least pool_size ({pool_size})")
        if (warm_start or prefilter or proxy_features) and not proxies:
            raise ValueError("warm_start, prefilter and proxy_features need at least one zero-cost proxy")
        if pool not in POOLS:
            raise UnknownChoiceError("candidate pool", pool, POOLS)
        if not isinstance(refit_every, int) or refit_every < 1:
            raise ValueError(f"refit_every must be a whole number >= 1, got {refit_every!r}")
        if warm_refit is not None and not isinstance(warm_refit, dict):
            raise TypeError(f"warm_refit must be None or a dict of predictor settings, got {warm_refit!r}")
        self.initial, self.per_iteration, self.pool_size, self.parents = initial, per_iteration, pool_size, parents
        self.pool = pool
        self.predictor = self.default_predictor if predictor is None else predictor
        if isinstance(self.predictor, str):
            from archrank.predictors import names as predictor_names

            if self.predictor not in predictor_names():
                raise UnknownChoiceError("predictor", self.predictor, predictor_names())
        elif not (hasattr(self.predictor, "fit") and hasattr(self.predictor, "predict")):
            raise TypeError(f"predictor must be a name or an estimator with fit/predict, not {self.predictor!r}")
        self.predictor_params = dict(predictor_params or {})
        if encoding is not None:
            from archrank.encodings.base import encoding_names

            if encoding not in encoding_names():
                raise UnknownChoiceError("encoding", encoding, encoding_names())
            if "encoding" in self.predictor_params and self.predictor_params["encoding"] != encoding:
                raise ValueError(f"encoding={encoding!r} and predictor_params['encoding'] disagree; give one")
        self.encoding = encoding
        self.acquisition: Acquisition = make_acquisition(
            self.default_acquisition if acquisition is None else acquisition, **dict(acquisition_params or {})
        )
        self.warm_start, self.prefilter = warm_start, prefilter
        self.proxies, self.proxy_dataset, self.proxy_features = list(proxies), proxy_dataset, bool(proxy_features)
        self.refit_every, self.warm_refit = refit_every, None if warm_refit is None else dict(warm_refit)
        self.model: Any = None  # the predictor of the last refit (kept for refit_every and warm_refit)
        self.warm_queue: list[Any] | None = None
        self.queue: list[Any] = []
        self.proposed = 0
        self.iterations = 0

    def observe(self, arch: Any) -> None:
        super().observe(arch)
        self.proposed += 1  # an evaluation from outside counts towards the initial random ones

    def _is_new(self, arch: Any) -> bool:
        return self.space.canonical(arch) not in self.seen and bool(self.allowed(arch))

    def proxy_order(self, archs: list[Any]) -> list[Any]:
        """``archs`` sorted by the mean rank of the zero-cost proxies, best first (failed scores last)."""
        from archrank import proxies
        from archrank.ranking import mean_rank_of

        scores = proxies.compute(archs, self.proxies, space=self.space, dataset=self.proxy_dataset, progress=False)
        rank = np.nan_to_num(mean_rank_of(scores, self.proxies), nan=-np.inf)
        return [archs[i] for i in np.argsort(-rank, kind="stable")]

    def _random_pool(self, size: int, pool: dict[Any, Any] | None = None) -> dict[Any, Any]:
        """``pool`` filled up to ``size`` distinct, new, allowed random architectures (not claimed)."""
        pool = {} if pool is None else pool
        for _ in range(20 * size):
            if len(pool) >= size:
                break
            arch = self.draw()
            key = self.space.canonical(arch)
            if key not in pool and self._is_new(arch):
                pool[key] = arch
        return pool

    def _mutation_pool(self, size: int) -> dict[Any, Any]:
        pool: dict[Any, Any] = {}
        parents = [a for a, _ in self.ranked()[: self.parents]]
        for attempt in range(20 * size):
            if len(pool) >= size:
                break
            child = self.space.mutate(parents[attempt % len(parents)], self.rng)
            key = self.space.canonical(child)
            if key not in pool and self._is_new(child):
                pool[key] = child
        return pool

    def candidate_pool(self) -> list[Any]:
        """Up to ``pool_size`` distinct, new, allowed candidates of the ``pool`` kind (random ones fill
        up); with ``prefilter``, the ``pool_size`` best by proxy rank out of ``prefilter`` such."""
        size = self.prefilter or self.pool_size
        mutations = {"mutation": size, "both": size // 2, "random": 0}[self.pool]
        found = self._mutation_pool(mutations) if mutations else {}
        candidates = list(self._random_pool(size, found).values())
        if self.prefilter and len(candidates) > self.pool_size:
            candidates = self.proxy_order(candidates)[: self.pool_size]
        return candidates

    def _new_model(self, seed: int) -> Any:
        from archrank import predictors

        params = dict(self.predictor_params)
        if self.encoding is not None:
            params.setdefault("encoding", self.encoding)
        if isinstance(self.predictor, str):
            return predictors.make(self.predictor, space=self.space, random_state=seed, **params)
        from sklearn.base import clone

        model = clone(self.predictor)
        own = model.get_params() if hasattr(model, "get_params") else {}
        reads_archs = "space" in own  # an archrank predictor: it reads architectures
        settings = {k: v for k, v in (("random_state", seed), ("space", self.space)) if k in own}
        settings.update(params if reads_archs else self.predictor_params)
        if settings:
            model.set_params(**settings)
        if reads_archs:
            return model
        return _EncodedEstimator(model, self.encoding or DEFAULT_MATRIX_ENCODING, self.space)

    def fit_predictor(self) -> Any:
        """The predictor for this iteration: a fresh one fitted on all evaluations, or (``refit_every``)
        the last one between refits, or (``warm_refit``) the last one trained on from where it stopped."""
        if self.model is not None and (self.iterations - 1) % self.refit_every:
            return self.model
        archs = [a for a, _ in self.results]
        y = np.array([v for _, v in self.results])
        seed = int(self.rng.integers(2**31 - 1))
        if self.model is not None and self.warm_refit is not None:
            self.model.set_params(random_state=seed, warm_start=True, **self.warm_refit)
            self.model = self.model.fit(archs, y)
        else:
            self.model = self._fresh_model(seed).fit(archs, y)
        return self.model

    def _fresh_model(self, seed: int) -> Any:
        from archrank import predictors

        model = self._new_model(seed)
        if self.proxy_features:
            model = predictors.make(
                "proxy_features",
                estimator=model,
                proxies=self.proxies,
                dataset=self.proxy_dataset,
                on_failed="median",  # a candidate whose proxy fails is warned about, not the end of the search
                space=self.space,
                random_state=seed,
            )
        if self.warm_refit is not None and "warm_start" not in getattr(model, "get_params", dict)():
            raise ValueError(
                "warm_refit needs a predictor with a warm_start setting (scikit-learn's convention); "
                f"{type(model).__name__} has none"
            )
        return model

    def _acquire(self, model: Any, pool: list[Any]) -> list[Any]:
        """The pool, most promising first."""
        context = AcquisitionContext(
            self.rng, [a for a, _ in self.results], np.array([v for _, v in self.results]), self.per_iteration
        )
        return [pool[i] for i in self.acquisition.order(model, pool, context)]

    def _select(self) -> list[Any]:
        self.iterations += 1
        pool = self.candidate_pool()
        if len(self.results) < 2 or not pool:
            return []
        return self._acquire(self.fit_predictor(), pool)[: self.per_iteration]

    def ask(self, n: int) -> list[Any]:
        out = []
        while len(out) < n:
            out.append(self._next())
            self.proposed += 1
        return out

    def _next(self) -> Any:
        if self.proposed < self.initial and self.warm_start:
            if self.warm_queue is None:
                self.warm_queue = self.proxy_order(list(self._random_pool(self.warm_start).values()))
            while self.warm_queue:
                arch = self.warm_queue.pop(0)
                if self._claim(arch):
                    return arch
        if self.proposed < self.initial or len(self.results) < 2:
            return self.random_new()
        while True:
            while self.queue:
                arch = self.queue.pop(0)
                if self._claim(arch):
                    return arch
            self.queue = self._select()
            if not self.queue:  # nothing new to predict on: explore at random
                return self.random_new()


@register_strategy
class NPENAS(GuidedSearch):
    """Preset: the GIN predictor on mutations, ranked by the predicted mean (``variant="np"``) or EI (``"bo"``).

    ``warm_refit="auto"`` (the default): with the default ``gnn`` predictor and no proxy features,
    each refit after the first continues training the last fit's networks for a third of their
    epochs (50 of 150) instead of training new ones for all of them. On pilot seeds 100-119 (NB201
    CIFAR-10-valid, 100 queries) this found the best-validation cell in 20 of 20 runs, as the
    fresh refits did, in 2.7 s instead of 7.0 s per run (refitting every second iteration: 3.6 s,
    also 20 of 20; benchmarks/RESULTS.md). ``warm_refit=None`` refits afresh every iteration.
    """

    name = "npenas"
    variants: ClassVar[dict[str, str]] = {"np": "mean", "bo": "ei"}

    def __init__(self, *args: Any, variant: str = "np", warm_refit: Any = "auto", **kwargs: Any) -> None:
        if variant not in self.variants:
            raise ValueError(f"variant must be 'np' or 'bo', got {variant!r}")
        kwargs.setdefault("acquisition", self.variants[variant])
        if warm_refit == "auto":
            warm_refit = None
            if kwargs.get("predictor") in (None, "gnn") and not kwargs.get("proxy_features", False):
                from archrank.predictors import make

                epochs = dict(kwargs.get("predictor_params") or {}).get("epochs") or make("gnn").epochs
                warm_refit = {"epochs": max(1, int(epochs) // 3)}
        super().__init__(*args, warm_refit=warm_refit, **kwargs)
        self.variant = variant


@register_strategy
class BANANAS(GuidedSearch):
    """Preset: the MLP ensemble (path encoding) with independent Thompson sampling."""

    name = "bananas"
    default_predictor = "mlp_ensemble"
    default_acquisition = "thompson"


@register_strategy
class BayesOpt(GuidedSearch):
    """Preset: the exact GP on GIN embeddings with BoTorch's UCB (``beta``), EI or qLogNEI (or any
    registered acquisition)."""

    name = "bo"
    default_predictor = "gp"
    default_acquisition = "ucb"

    def __init__(self, *args: Any, acquisition: Any = "ucb", beta: float = 2.0, **kwargs: Any) -> None:
        params = dict(kwargs.pop("acquisition_params", None) or {})
        if acquisition == "ucb":
            params.setdefault("beta", beta)
        super().__init__(*args, acquisition=acquisition, acquisition_params=params, **kwargs)
        if self.encoding is None:
            self.predictor_params = {"encoding": "gnn_embedding", **self.predictor_params}
        self.beta = beta
