"""Search: strategies that decide which few architectures to evaluate, oracles that evaluate them.

``run(strategy, space, oracle, budget=..., seed=..., store=...)`` records every evaluation in a
SQLite history and resumes a killed run. Oracles: :class:`BenchmarkOracle` (table look-up with
simulated cost) and :class:`TrainingOracle` (the user's training function).
"""

from archrank.search.curves import best_so_far_matrix, final_summary, plot_best_so_far
from archrank.search.history import SearchHistory
from archrank.search.oracles import BenchmarkOracle, Evaluation, Oracle, TrainingOracle
from archrank.search.registry import STRATEGIES, make_strategy, names
from archrank.search.runner import ResumeMismatchError, run, run_config
from archrank.search.strategies import SearchExhausted, SearchWarning, Strategy

__all__ = [
    "STRATEGIES",
    "BenchmarkOracle",
    "Evaluation",
    "Oracle",
    "ResumeMismatchError",
    "SearchExhausted",
    "SearchHistory",
    "SearchWarning",
    "Strategy",
    "TrainingOracle",
    "best_so_far_matrix",
    "final_summary",
    "make_strategy",
    "names",
    "plot_best_so_far",
    "run",
    "run_config",
]
