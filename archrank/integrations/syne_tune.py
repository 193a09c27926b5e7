"""Syne Tune: an archrank strategy as a Syne Tune searcher.

>>> from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler
>>> from archrank.integrations.syne_tune import ArchrankSearcher, config_space
>>> space = config_space("nb201")                     # the decisions as ``choice`` domains
>>> searcher = ArchrankSearcher(space, "nb201", strategy="npenas", random_seed=0)
>>> scheduler = SingleObjectiveScheduler(space, searcher=searcher, metric="accuracy", do_minimize=False)

Any scheduler that takes a searcher works (``SingleObjectiveScheduler``, ``AskTellScheduler``
around it, the ``Tuner`` with a local backend). Syne Tune hands searchers metrics to minimise;
the searcher tells archrank the negated value, so the strategy maximises what the scheduler's
``do_minimize`` says. A failed trial (``on_trial_error``) is a failed evaluation. Guided
strategies take any archrank predictor (``strategy="guided", predictor="xgb"`` or an estimator
object), so an archrank predictor is the surrogate of this searcher; Syne Tune 0.16 has no
separate scikit-learn surrogate searcher to plug one into.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from syne_tune.config_space import choice
from syne_tune.optimizer.schedulers.searchers.single_objective_searcher import SingleObjectiveBaseSearcher

from archrank.integrations.common import arch_from_params, host_options, params_of
from archrank.search.optimizer import Optimizer
from archrank.search.strategies import SearchExhausted
from archrank.spaces import SpaceLike, resolve_space


def config_space(space: SpaceLike, **other: Any) -> dict[str, Any]:
    """A Syne Tune configuration space: one ``choice`` per decision of ``space``, plus ``other``
    entries (constants or domains the architecture does not depend on, e.g. ``epochs=200``)."""
    out: dict[str, Any] = {name: choice(values) for name, values in host_options(space).items()}
    clash = sorted(set(out) & set(other))
    if clash:
        raise ValueError(f"entries {clash} are decisions of the space; give other names")
    out.update(other)
    return out


class ArchrankSearcher(SingleObjectiveBaseSearcher):
    """Suggests configurations whose decisions make architectures proposed by archrank strategy
    ``strategy`` (with its ``hyperparameters``) over ``space``; other entries of ``config_space``
    must be constants. ``allowed``/``choices`` as for :class:`archrank.search.Optimizer`."""

    def __init__(
        self,
        config_space: dict[str, Any],
        space: SpaceLike,
        strategy: str = "npenas",
        random_seed: int = 0,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        allowed: Any = None,
        choices: Sequence[Any] | None = None,
        **hyperparameters: Any,
    ) -> None:
        super().__init__(config_space, points_to_evaluate=points_to_evaluate, random_seed=random_seed)
        self.space = resolve_space(space)
        options = host_options(self.space)
        missing = [name for name in options if name not in config_space]
        if missing:
            raise ValueError(
                f"config_space lacks decisions {missing} of the {self.space.name} space; build it with config_space()"
            )
        for name, values in options.items():
            categories = getattr(config_space[name], "categories", None)
            if categories is None or list(categories) != values:
                raise ValueError(
                    f"config_space[{name!r}] is {config_space[name]!r}, but decision {name!r} of the {self.space.name} "
                    f"space has the options {values}; build the space with config_space()"
                )
        self.constants = {k: v for k, v in config_space.items() if k not in options}
        domains = [k for k, v in self.constants.items() if hasattr(v, "sample")]
        if domains:
            raise ValueError(
                f"config_space entries {domains} are domains but no decisions of the {self.space.name} space: "
                "ArchrankSearcher sets the architecture only, so give other entries as constants"
            )
        self.optimizer = Optimizer(
            strategy, self.space, seed=random_seed, allowed=allowed, choices=choices, **hyperparameters
        )
        self._trials: dict[int, Any] = {}

    def suggest(self, **kwargs: Any) -> dict[str, Any] | None:
        given = self._next_points_to_evaluate()
        if given is not None:
            return given
        try:
            (arch,) = self.optimizer.ask(1)
        except SearchExhausted:
            return None  # Syne Tune stops when a searcher has nothing left
        return {**params_of(self.space, arch), **self.constants}

    def _arch(self, config: dict[str, Any]) -> Any:
        return arch_from_params(self.space, {k: v for k, v in config.items() if k not in self.constants})

    def on_trial_complete(self, trial_id: int, config: dict[str, Any], metric: float) -> None:
        arch = self._arch(config)
        if self.optimizer.told(arch):
            return
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            raise TypeError(f"trial {trial_id} reported {type(metric).__name__} {metric!r}, not a number")
        value = float(metric)
        score = -value if math.isfinite(value) else None  # NaN / inf: a failed evaluation
        self.optimizer.tell([arch], [score], [{"trial_id": float(trial_id)}])
        self._trials.pop(trial_id, None)

    def on_trial_result(self, trial_id: int, config: dict[str, Any], metric: float) -> None:
        self._trials.setdefault(trial_id, self._arch(config))  # remember it, in case the trial fails

    def on_trial_error(self, trial_id: int) -> None:
        arch = self._trials.pop(trial_id, None)
        if arch is not None and not self.optimizer.told(arch):
            self.optimizer.tell([arch], [None])
