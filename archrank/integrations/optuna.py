"""Optuna: archrank strategies as an Optuna sampler, and a space's decisions as Optuna parameters.

>>> import optuna
>>> from archrank.integrations.optuna import ArchrankSampler, suggest_arch
>>> def objective(trial):
...     arch = suggest_arch(trial, "nb201")       # declares the 6 decisions as categoricals
...     return train_and_validate(arch)
>>> study = optuna.create_study(direction="maximize", sampler=ArchrankSampler("nb201", strategy="npenas"))
>>> study.optimize(objective, n_trials=100)

With :class:`ArchrankSampler` each trial's whole architecture comes from an archrank strategy
(via :class:`archrank.search.Optimizer`); with any other sampler ``suggest_arch`` is plain
categorical sampling. The sampler keeps no state of its own that a study could lose: before
each trial it tells its optimizer every finished trial of the study it has not seen (the
architecture read back from the trial's parameters), and architectures of running trials are
never proposed again. So a study on RDB storage (SQLite, ...) that was killed and loaded again
continues the strategy from all its trials, several processes can share one study, and
``n_jobs > 1`` works (the sampler is thread-safe).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from archrank.errors import ArchrankError, InvalidArchitectureError, UnknownChoiceError
from archrank.integrations.common import arch_from_params, host_options, params_of
from archrank.search.optimizer import Optimizer
from archrank.search.strategies import SearchExhausted
from archrank.spaces import SpaceLike, resolve_space

#: the trial system attribute that holds the architecture the sampler proposed for it
ARCH_ATTR = "archrank:arch"
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def suggest_arch(trial: optuna.trial.BaseTrial, space: SpaceLike, on_invalid: str = "prune") -> Any:
    """Declare ``space``'s decisions as categorical parameters of ``trial`` and return the
    architecture they make. A combination that is not a valid architecture (possible with a
    sampler other than :class:`ArchrankSampler`, e.g. TPE on NB101) prunes the trial
    (``on_invalid="prune"``) or raises :class:`archrank.InvalidArchitectureError` (``"raise"``)."""
    if on_invalid not in ("prune", "raise"):
        raise UnknownChoiceError("on_invalid", on_invalid, ["prune", "raise"])
    sp = resolve_space(space)
    params = {name: trial.suggest_categorical(name, values) for name, values in host_options(sp).items()}
    try:
        return arch_from_params(sp, params, extra="ignore")
    except InvalidArchitectureError as err:
        if on_invalid == "raise":
            raise
        raise optuna.TrialPruned(f"not a valid {sp.name} architecture: {err}") from None


class ArchrankSampler(BaseSampler):
    """An Optuna sampler that proposes whole architectures of ``space`` from archrank strategy
    ``strategy`` (any of :func:`archrank.search.names`, with its ``hyperparameters``).

    Use it with :func:`suggest_arch` in the objective. ``allowed`` / ``choices``: as for
    :class:`archrank.search.Optimizer` (e.g. ``oracle.contains`` and ``oracle.choices()`` of a
    benchmark table). Parameters of the objective that are not decisions of the space go to
    ``independent_sampler`` (default: none, and such a parameter is an error naming it; pass e.g.
    ``optuna.samplers.RandomSampler()`` or ``TPESampler()`` to tune a learning rate alongside).
    The objective's value is maximised or minimised as the study's direction says.
    """

    def __init__(
        self,
        space: SpaceLike,
        strategy: str = "npenas",
        seed: int = 0,
        independent_sampler: BaseSampler | None = None,
        allowed: Any = None,
        choices: Sequence[Any] | None = None,
        **hyperparameters: Any,
    ) -> None:
        self.space = resolve_space(space)
        self._options = host_options(self.space)
        self.optimizer = Optimizer(strategy, self.space, seed=seed, allowed=allowed, choices=choices, **hyperparameters)
        self.independent_sampler = independent_sampler
        self._lock = threading.RLock()
        self._told: set[tuple[int, int]] = set()  # (study id, trial number) told to the optimizer
        self._study_id: int | None = None

    # --- Optuna's sampler interface -------------------------------------------------------------
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if len(study.directions) > 1:
            raise ValueError("ArchrankSampler optimises one objective; this study has several directions")
        if "fixed_params" in trial.system_attrs:  # an enqueued trial: its parameters are given
            return
        with self._lock:
            self._bind(study)
            self.sync(study)
            try:
                (arch,) = self.optimizer.ask(1)
            except SearchExhausted as err:
                study.stop()
                raise optuna.exceptions.OptunaError(f"the search space is used up: {err}") from None
            study._storage.set_trial_system_attr(trial._trial_id, ARCH_ATTR, str(arch))
        if self.independent_sampler is not None:
            self.independent_sampler.before_trial(study, trial)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if param_name not in self._options:
            if self.independent_sampler is not None:
                return self.independent_sampler.sample_independent(study, trial, param_name, param_distribution)
            err = UnknownChoiceError(f"decision of the {self.space.name} space", param_name, list(self._options))
            err.args = (
                f"Optuna parameter {param_name!r} is not a decision of the {self.space.name} space "
                f"({', '.join(self._options)}); pass independent_sampler= (e.g. optuna.samplers.TPESampler()) "
                "to sample parameters other than the architecture",
            )
            raise err
        expected = self._options[param_name]
        if not isinstance(param_distribution, CategoricalDistribution) or list(param_distribution.choices) != expected:
            raise ValueError(
                f"Optuna parameter {param_name!r} is declared as {param_distribution}, but decision {param_name!r} "
                f"of the {self.space.name} space has the options {expected}; declare it with suggest_arch()"
            )
        text = trial.system_attrs.get(ARCH_ATTR)
        if text is None:  # not proposed by this sampler (e.g. its before_trial did not run): sample at random
            return RandomSampler().sample_independent(study, trial, param_name, param_distribution)
        return params_of(self.space, self.space.parse(text))[param_name]

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        if self.independent_sampler is not None:
            self.independent_sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Optuna calls this when it runs trials in several processes from one sampler; the strategy keeps
        its own seeded generator (each process would otherwise propose the same)."""
        if self.independent_sampler is not None:
            self.independent_sampler.reseed_rng()

    # --- keeping the optimizer in step with the study --------------------------------------------
    def _bind(self, study: Study) -> None:
        study_id = study._study_id
        if self._study_id is None:
            self._study_id = study_id
        elif self._study_id != study_id:
            raise ValueError(
                "this ArchrankSampler already drives another study; create one sampler per study "
                f"(study ids {self._study_id} and {study_id})"
            )

    def _arch_of(self, trial: FrozenTrial) -> Any | None:
        """The trial's architecture: from its parameters when they cover the space, else the proposal."""
        if all(name in trial.params for name in self._options):
            return arch_from_params(self.space, trial.params, extra="ignore")
        text = trial.system_attrs.get(ARCH_ATTR)
        return None if text is None else self.space.parse(text)

    def _score(self, study: Study, trial: FrozenTrial) -> float | None:
        if trial.state != TrialState.COMPLETE or trial.value is None or not math.isfinite(trial.value):
            return None
        return trial.value if study.direction == StudyDirection.MAXIMIZE else -trial.value

    def sync(self, study: Study) -> int:
        """Tell the optimizer every finished trial of ``study`` it has not been told, in trial order,
        and reserve the architectures of running ones; returns how many were told."""
        with self._lock:
            told = 0
            for trial in study.get_trials(deepcopy=False):
                key = (study._study_id, trial.number)
                if key in self._told:
                    continue
                try:
                    arch = self._arch_of(trial)
                except ArchrankError:
                    arch = None  # its parameters are no architecture of the space: nothing to learn
                if arch is None:
                    if trial.state in _FINISHED:
                        self._told.add(key)
                    continue
                if trial.state in _FINISHED:
                    self._told.add(key)
                    if self.optimizer.told(arch):  # the same architecture twice (another sampler, enqueued)
                        continue
                    self.optimizer.tell([arch], [self._score(study, trial)], [{"trial": float(trial.number)}])
                    told += 1
                elif trial.state in (TrialState.RUNNING, TrialState.WAITING):
                    self.optimizer.reserve([arch])
            return told

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        opt = self.optimizer
        return f"ArchrankSampler({self.space.name!r}, strategy={opt.strategy_name!r}, seed={opt.seed})"
