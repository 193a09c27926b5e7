"""PyTorch networks built from architectures, as the benchmarks trained them (for zero-cost proxies)."""

from archrank.models.nb201 import NB201Cell, NB201Network, build_nb201

__all__ = ["NB201Cell", "NB201Network", "build_nb201"]
