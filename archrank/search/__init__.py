"""Search: strategies that decide which few architectures to evaluate, oracles that evaluate them.

``run(strategy, space, oracle, budget=..., seed=..., store=...)`` records every evaluation in a
SQLite history, resumes a killed run and returns a :class:`SearchResult` (``.best()``,
``.frame()``, ``.curve()``). :class:`Optimizer` is the same strategies behind ask/tell, for host
tools and hand-written loops. Guided strategies combine a candidate pool, any predictor and an
acquisition (:mod:`archrank.search.acquisitions`). Oracles: :class:`BenchmarkOracle` (table
look-up with simulated cost) and :class:`TrainingOracle` (the user's training function).
"""

from archrank.errors import SearchFailedError
from archrank.search.acquisitions import (
    Acquisition,
    AcquisitionContext,
    acquisition_names,
    make_acquisition,
    register_acquisition,
)
from archrank.search.curves import best_so_far_matrix, final_summary, plot_best_so_far
from archrank.search.history import SearchHistory
from archrank.search.optimizer import Optimizer, OptimizerStateError
from archrank.search.oracles import BenchmarkOracle, Evaluation, Oracle, TrainingOracle
from archrank.search.registry import make_strategy, names
from archrank.search.result import Best, SearchResult, evaluations_frame
from archrank.search.runner import ResumeMismatchError, run, run_config
from archrank.search.strategies import STRATEGIES, SearchExhausted, SearchWarning, Strategy, register_strategy

__all__ = [
    "STRATEGIES",
    "Acquisition",
    "AcquisitionContext",
    "BenchmarkOracle",
    "Best",
    "Evaluation",
    "Optimizer",
    "OptimizerStateError",
    "Oracle",
    "ResumeMismatchError",
    "SearchExhausted",
    "SearchFailedError",
    "SearchHistory",
    "SearchResult",
    "SearchWarning",
    "Strategy",
    "TrainingOracle",
    "acquisition_names",
    "best_so_far_matrix",
    "evaluations_frame",
    "final_summary",
    "make_acquisition",
    "make_strategy",
    "names",
    "plot_best_so_far",
    "register_acquisition",
    "register_strategy",
    "run",
    "run_config",
]
