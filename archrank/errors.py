"""Exceptions raised by archrank. Each names the offending input and the valid choices."""

from __future__ import annotations


def plain(value: object) -> object:
    """A numpy scalar as the Python number or string it holds (``np.int64(7)`` -> ``7``), so that
    messages show ``7``, not ``np.int64(7)``; anything else unchanged."""
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()  # type: ignore[attr-defined]
    return value


class ArchrankError(Exception):
    """Base class of every error archrank raises on purpose."""


class InvalidArchitectureError(ArchrankError, ValueError):
    """An architecture string or spec is malformed or breaks the rules of its search space."""


class UnknownChoiceError(ArchrankError, LookupError):
    """A name (space, dataset, metric, op, epochs, ...) is not one of the valid choices."""

    def __init__(self, kind: str, value: object, choices: object) -> None:
        self.kind, self.value = kind, value
        self.choices = list(choices)  # type: ignore[call-overload]
        valid = ", ".join(str(plain(c)) for c in self.choices) if self.choices else "none"
        super().__init__(f"unknown {kind} {plain(value)!r}; valid choices: {valid}")

    def __str__(self) -> str:  # LookupError would otherwise repr() the message
        return self.args[0]


class UnknownArchitectureError(ArchrankError, KeyError):
    """A valid architecture that the benchmark table has no entry for."""

    def __str__(self) -> str:
        return self.args[0]


class DataFileError(ArchrankError, OSError):
    """A bundled data file is missing, unreadable or fails its checksum."""


class ExecutorError(ArchrankError, RuntimeError):
    """The executor could not run archrank's work: a scheduler that does not answer, a worker without
    archrank (or with another version), a worker pool that broke, a task lost with its workers."""


class SearchFailedError(ArchrankError, RuntimeError):
    """Every evaluation of a search failed (e.g. a training function that returns nothing).

    ``result``: the :class:`archrank.search.SearchResult` of the failed evaluations (their errors are
    in ``result.frame()["error"]``), or None."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class ProxyWarning(UserWarning):
    """A proxy failed (or overflowed) on one architecture; its score is NaN."""


class InvalidHyperparameterError(ArchrankError, ValueError):
    """A predictor's hyperparameter has a value outside what it accepts (the message names both)."""
