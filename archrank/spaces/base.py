"""The SearchSpace interface shared by every space, and seeding helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from archrank.errors import InvalidArchitectureError, UnknownChoiceError
from archrank.spaces.cellgraph import CellGraph
from archrank.spaces.description import Decision, GraphSpec, check_decisions

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
    A space describes itself (:attr:`decision_specs`, :attr:`graph_spec`, :meth:`cell_graphs`,
    :meth:`representatives`, capabilities such as :attr:`stacked_proxies`); encodings, predictors
    and search read only that description, never the space's name. Spaces are immutable: copies
    are the space itself, and a pickled space is looked up again by name (see ``register``).
    """

    name: str = ""
    arch_type: type = object
    #: True where :meth:`stack_networks` runs several networks as one (:mod:`archrank.proxies.batched`)
    stacked_proxies: bool = False
    #: the datasets of the benchmark table this space ships (:meth:`load_table`); () for none
    tables: tuple[str, ...] = ()
    #: how large the space is, in words (``archrank spaces``)
    size_note: str = ""

    # --- self-description -------------------------------------------------------------------
    @property
    def decision_specs(self) -> tuple[Decision, ...]:
        """The decisions that make up an architecture, in a fixed order (see :class:`Decision`)."""
        raise NotImplementedError(f"the {self.name} space does not describe its decisions")

    @property
    def decisions(self) -> dict[str, list[Any]]:
        """Ordered mapping decision name -> its options (``None``: absent), e.g. for host tools' categoricals."""
        return {d.name: list(d.options) for d in self.decision_specs}

    def to_decisions(self, arch: Any) -> dict[str, Any]:
        """The option chosen for each decision of ``arch`` (in :attr:`decisions` order)."""
        raise NotImplementedError(f"the {self.name} space does not describe its decisions")

    def from_decisions(self, mapping: Any) -> Any:
        """The architecture with these decisions; InvalidArchitectureError for a missing, unknown or bad one."""
        return self._from_checked_decisions(check_decisions(self.decision_specs, mapping))

    def _from_checked_decisions(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError(f"the {self.name} space does not describe its decisions")

    @property
    def graph_spec(self) -> GraphSpec | None:
        """How the cell graphs are labelled (``None``: the space has no cell graph)."""
        return None

    def cell_graphs(self, arch: Any) -> tuple[CellGraph, ...]:
        """The architecture's cell graphs, one per ``graph_spec.cells`` entry."""
        return (self.to_cell_graph(arch),)

    def representatives(self, archs: Sequence[Any]) -> list[Any]:
        """One fixed member of each architecture's canonical class (encodings read these); default: itself."""
        return list(archs)

    def has_decisions(self) -> bool:
        """Whether :attr:`decision_specs` is available."""
        try:
            _ = self.decision_specs
        except NotImplementedError:
            return False
        return True

    def __copy__(self) -> SearchSpace:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SearchSpace:
        return self

    def __reduce__(self) -> tuple[Any, tuple[str, str | None]]:
        # by name; a space imported from "module:attribute" also carries that spec, so a process
        # that has not imported the module yet (a spawned worker) imports it again
        return _registered_space, (self.name, self.__dict__.get("_archrank_origin"))

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

    @property
    def can_build_models(self) -> bool:
        """Whether :meth:`build_model` gives networks (what the zero-cost proxies score)."""
        return type(self).build_model is not SearchSpace.build_model

    @property
    def cache_key(self) -> str:
        """The space's part of the proxy-cache key: its name, and for a user's ``model_fn`` its fingerprint."""
        return self.name

    def stack_networks(self, models: Sequence[Any]) -> Any:
        """K networks built by :meth:`build_model` as one module (see :class:`archrank.proxies.batched.StackedNetwork`).

        Only for spaces with the ``stacked_proxies`` capability.
        """
        raise NotImplementedError(
            f"the {self.name} space cannot stack networks (its stacked_proxies capability is off)"
        )

    def load_table(self, dataset: str, data_dir: Any = None) -> Any:
        """The space's bundled benchmark table of ``dataset`` (one of :attr:`tables`) as a ``Benchmark``.

        Called by :func:`archrank.datasets.load`, which checks the dataset name first.
        """
        raise NotImplementedError(f"the {self.name} space ships no benchmark table")

    def lookup(self, text: str) -> Any:
        """The architecture a user names on the command line: its string, or another id the space knows."""
        return self.parse(text)

    def identifiers(self, arch: Any) -> dict[str, Any]:
        """Other ids of ``arch`` worth showing besides its string (e.g. a table index); default none."""
        return {}

    def ensure(self, arch: Any) -> Any:
        """``arch`` itself if it belongs to this space, else the parse of it (strings, specs)."""
        if isinstance(arch, self.arch_type):
            return arch
        other = getattr(arch, "space_name", None)
        if isinstance(other, str) and other != self.name:
            raise InvalidArchitectureError(
                f"an architecture of the {other} space ({type(arch).__name__}: {arch}) was given to the "
                f"{self.name} space"
            )
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


def _registered_space(name: str, origin: str | None = None) -> SearchSpace:
    """Unpickling a space: the space registered under ``name``, else the one ``origin``
    ("module:attribute") defines; a clear error if there is neither."""
    from archrank import spaces

    try:
        if origin is not None and name not in spaces.names():
            return spaces.get(origin)
        return spaces.get(name)
    except UnknownChoiceError:
        raise UnknownChoiceError(
            "search space (saved objects name their space; register it with archrank.spaces.register before loading)",
            name,
            spaces.names(),
        ) from None


def choice_index(options: Sequence[str], value: str, kind: str) -> int:
    """Position of ``value`` in ``options``; an InvalidArchitectureError naming the choices otherwise."""
    try:
        return options.index(value)
    except ValueError:
        raise InvalidArchitectureError(f"unknown {kind} {value!r}; valid: {', '.join(options)}") from None
