"""The SearchSpace interface shared by every space, and seeding helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from archrank.errors import InvalidArchitectureError
from archrank.spaces.cellgraph import CellGraph

RandomState = int | np.random.Generator | None


def as_rng(seed: RandomState) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (returned as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, not {type(seed).__name__}")
    return np.random.default_rng(seed)


class SearchSpace(ABC):
    """A family of architectures with parsing, sampling, mutation and graph conversion.

    Architectures are immutable, hashable objects whose ``str()`` parses back to an equal object.
    """

    name: str = ""
    arch_type: type = object

    @abstractmethod
    def parse(self, text: Any) -> Any:
        """Architecture from its string form (or another accepted form); raises InvalidArchitectureError."""

    @abstractmethod
    def random_arch(self, rng: np.random.Generator) -> Any:
        """One architecture drawn from this space's sampling distribution."""

    @abstractmethod
    def mutate(self, arch: Any, rng: RandomState = None) -> Any:
        """A valid architecture that differs from ``arch`` by one small change."""

    @abstractmethod
    def neighbors(self, arch: Any) -> list[Any]:
        """Every valid architecture one elementary change away from ``arch`` (without ``arch`` itself)."""

    @abstractmethod
    def canonical(self, arch: Any) -> Hashable:
        """A key shared by all architectures that compute the same function (isomorphic cells)."""

    @abstractmethod
    def to_cell_graph(self, arch: Any) -> CellGraph:
        """The architecture as a labelled DAG."""

    def all(self) -> list[Any]:
        """Every architecture of the space, where that is finite and tractable."""
        raise NotImplementedError(f"the {self.name} space is too large to enumerate")

    def build_model(self, arch: Any, num_classes: int = 10) -> Any:
        """The ``torch.nn.Module`` the benchmark trained for ``arch``, freshly initialised."""
        raise NotImplementedError(f"build_model is not available for the {self.name} space yet")

    def ensure(self, arch: Any) -> Any:
        """``arch`` itself if it belongs to this space, else the parse of it (strings, specs)."""
        if isinstance(arch, self.arch_type):
            return arch
        return self.parse(arch)

    def sample(self, n: int, seed: RandomState = None) -> list[Any]:
        """``n`` distinct architectures drawn at random (same seed, same list)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        rng = as_rng(seed)
        seen: set[Any] = set()
        out: list[Any] = []
        tries = 0
        while len(out) < n:
            arch = self.random_arch(rng)
            tries += 1
            if arch not in seen:
                seen.add(arch)
                out.append(arch)
            elif tries > 100 * n + 10_000:
                raise ValueError(f"could not draw {n} distinct architectures from the {self.name} space")
        return out

    def _check_arch_type(self, arch: Any) -> None:
        if not isinstance(arch, self.arch_type):
            raise InvalidArchitectureError(
                f"expected a {self.arch_type.__name__} of the {self.name} space, got {type(arch).__name__}"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def choice_index(options: Sequence[str], value: str, kind: str) -> int:
    """Position of ``value`` in ``options``; an InvalidArchitectureError naming the choices otherwise."""
    try:
        return options.index(value)
    except ValueError:
        raise InvalidArchitectureError(f"unknown {kind} {value!r}; valid: {', '.join(options)}") from None
