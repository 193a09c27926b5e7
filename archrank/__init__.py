"""archrank: rank neural network architectures without training them.

Search spaces (``archrank.spaces``), bundled NAS benchmark tables (``archrank.datasets``),
ranking metrics (``archrank.metrics``), encodings (``archrank.encodings``), performance
predictors (``archrank.predictors``), zero-cost proxies (``archrank.proxies``), studies
(``archrank.studies``) and search (``archrank.search``); every one of them is loaded on first use
(``import archrank`` itself takes a few milliseconds)::

    import archrank as ar
    space = ar.spaces.get("nb201")
    bench = ar.datasets.load("nb201", dataset="cifar10")
    bench.query(space.from_index(6111), metric="test_accuracy", epochs=200)   # 94.37
"""

from archrank import errors
from archrank.errors import (
    ArchrankError,
    DataFileError,
    ExecutorError,
    InvalidArchitectureError,
    InvalidHyperparameterError,
    SearchFailedError,
    UnknownArchitectureError,
    UnknownChoiceError,
)

__version__ = "0.1.0"

_LAZY = (
    "datasets",
    "encodings",
    "integrations",
    "metrics",
    "models",
    "predictors",
    "proxies",
    "ranking",
    "search",
    "spaces",
    "studies",
)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"archrank.{name}")
    raise AttributeError(f"module 'archrank' has no attribute {name!r}")


__all__ = [
    "ArchrankError",
    "DataFileError",
    "ExecutorError",
    "InvalidArchitectureError",
    "InvalidHyperparameterError",
    "SearchFailedError",
    "UnknownArchitectureError",
    "UnknownChoiceError",
    "__version__",
    "errors",
    *_LAZY,
]
