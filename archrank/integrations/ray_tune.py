"""Ray Tune: an archrank strategy as a Ray Tune search algorithm.

>>> from ray import tune
>>> from archrank.integrations.ray_tune import ArchrankSearcher
>>> searcher = ArchrankSearcher("nb201", strategy="npenas", metric="accuracy", mode="max", seed=0)
>>> tuner = tune.Tuner(train_fn, tune_config=tune.TuneConfig(search_alg=searcher, num_samples=100))

Each suggested config maps every decision of the space to its option (the trainable rebuilds
the architecture with :func:`archrank.integrations.arch_from_params`, or reads
``config["arch"]``, the architecture's string). Ray runs several trials at once: suggestions
wait for no result, and completed trials are told in the order they finish. ``save`` /
``restore`` keep the strategy's whole state (Ray's experiment restore).
"""

from __future__ import annotations

import math
import numbers
import pickle
from collections.abc import Sequence
from typing import Any

from ray.tune.search import Searcher

from archrank.integrations.common import host_options, params_of
from archrank.search.optimizer import Optimizer
from archrank.search.strategies import SearchExhausted
from archrank.spaces import SpaceLike, resolve_space


def param_space(space: SpaceLike) -> dict[str, Any]:
    """A Ray Tune ``param_space`` with one ``tune.choice`` per decision (for Ray's own searchers)."""
    from ray import tune

    return {name: tune.choice(values) for name, values in host_options(space).items()}


class ArchrankSearcher(Searcher):
    """Suggests architectures of ``space`` from archrank strategy ``strategy`` (with its
    ``hyperparameters``); ``metric``/``mode`` as Ray's searchers take them (or set by the Tuner)."""

    def __init__(
        self,
        space: SpaceLike,
        strategy: str = "npenas",
        metric: str | None = None,
        mode: str | None = None,
        seed: int = 0,
        allowed: Any = None,
        choices: Sequence[Any] | None = None,
        **hyperparameters: Any,
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        if mode not in (None, "max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.space = resolve_space(space)
        host_options(self.space)  # fails now for a space without decisions
        self.optimizer = Optimizer(strategy, self.space, seed=seed, allowed=allowed, choices=choices, **hyperparameters)
        self._live: dict[str, Any] = {}

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any) -> bool:
        if metric is not None:
            self._metric = metric
        if mode is not None:
            self._mode = mode
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self._metric is None or self._mode is None:
            raise ValueError(
                "ArchrankSearcher needs metric= and mode=: pass them to it (Ray hands a TuneConfig's metric and mode "
                "to a searcher only when the Tuner has a param_space)"
            )
        try:
            (arch,) = self.optimizer.ask(1)
        except SearchExhausted:
            return Searcher.FINISHED
        self._live[trial_id] = arch
        return {**params_of(self.space, arch), "arch": str(arch)}

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        arch = self._live.pop(trial_id, None)
        if arch is None:
            return
        score = None
        if not error and result is not None and self._metric in result:
            value = result[self._metric]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                kind = type(value).__name__
                raise TypeError(f"trial {trial_id} reported {self._metric}={value!r} ({kind}), not a number")
            if math.isfinite(value):  # NaN / inf: a failed evaluation
                score = float(value) if self._mode == "max" else -float(value)
        self.optimizer.tell([arch], [score])

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            saved = {"optimizer": self.optimizer, "live": self._live, "metric": self._metric, "mode": self._mode}
            pickle.dump(saved, f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            saved = pickle.load(f)
        # through load_state_dict: a checkpoint of another strategy, space, seed or hyperparameters is
        # an OptimizerStateError naming what differs
        self.optimizer.load_state_dict(saved["optimizer"].state_dict())
        self._live = saved["live"]
        self._metric, self._mode = saved["metric"], saved["mode"]
