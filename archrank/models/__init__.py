"""PyTorch networks built from architectures, as the benchmarks trained them (for zero-cost proxies)."""

from archrank.models.darts import DartsCell, DartsNetwork, build_darts
from archrank.models.nb101 import NB101Cell, NB101Network, build_nb101
from archrank.models.nb201 import NB201Cell, NB201Network, build_nb201

__all__ = [
    "DartsCell",
    "DartsNetwork",
    "NB101Cell",
    "NB101Network",
    "NB201Cell",
    "NB201Network",
    "build_darts",
    "build_nb101",
    "build_nb201",
]
