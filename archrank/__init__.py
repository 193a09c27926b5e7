"""archrank: rank neural network architectures without training them.

Search spaces (``archrank.spaces``), bundled NAS benchmark tables (``archrank.datasets``) and
ranking metrics (``archrank.metrics``)::

    import archrank as ar
    space = ar.spaces.get("nb201")
    bench = ar.datasets.load("nb201", dataset="cifar10")
    bench.query(space.from_index(6111), metric="test_accuracy", epochs=200)   # 94.37
"""

from archrank import datasets, errors, metrics, spaces
from archrank.errors import (
    ArchrankError,
    DataFileError,
    InvalidArchitectureError,
    UnknownArchitectureError,
    UnknownChoiceError,
)

__version__ = "0.1.0"

__all__ = [
    "ArchrankError",
    "DataFileError",
    "InvalidArchitectureError",
    "UnknownArchitectureError",
    "UnknownChoiceError",
    "__version__",
    "datasets",
    "errors",
    "metrics",
    "spaces",
]
