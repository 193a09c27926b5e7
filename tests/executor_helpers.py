"""Test-only helpers for proxy scoring on executors (importable by worker processes as ``executor_helpers``).

* ``dying:space`` -- run as ``executor_helpers:dying``: a small ``Choices`` space whose ``model_fn`` kills
  the worker process it runs in (``os._exit``) the first time it is called in any worker, when
  ``$ARCHRANK_TEST_DIE_ONCE`` names a marker file that does not exist yet; never in the main process.
* ``python tests/executor_helpers.py CACHE N CHUNK``: score the first N NB201 cells of ``cells(N)`` with
  ``score_settings()`` on a local Dask cluster (2 workers x 1 thread, in this process), caching in CACHE,
  chunks of CHUNK: the client a test kills.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

from torch import nn

import archrank as ar

DIE_ONCE_ENV = "ARCHRANK_TEST_DIE_ONCE"


def dying_model(arch: ar.spaces.DecisionArch, num_classes: int) -> nn.Module:
    """A small CNN; kills the worker process that builds it the first time (see the module docstring)."""
    marker = os.environ.get(DIE_ONCE_ENV)
    if marker and multiprocessing.parent_process() is not None:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # exactly one worker wins
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(1)
    width = int(arch["width"])
    layers: list[nn.Module] = [nn.Conv2d(3, width, int(arch["kernel"]), padding=int(arch["kernel"]) // 2), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    return nn.Sequential(*layers)


dying = ar.spaces.Choices("test-dying", {"width": [4, 8, 12, 16], "kernel": [1, 3, 5]}, model_fn=dying_model)
ar.spaces.register(dying)


def cells(n: int) -> list[str]:
    """``n`` distinct NB201 cells (seeded)."""
    return [str(a) for a in ar.spaces.get("nb201").sample(n, seed=21)]


def score_settings() -> dict[str, Any]:
    """The proxy settings the kill-and-resume test uses: l2_norm depends on the weights drawn from the seed
    and costs little beyond building the network (batch 4: none of these is in the shipped table)."""
    return {"proxies": ["l2_norm", "params"], "space": "nb201", "batch_size": 4, "seed": 0}


def main(cache: Path, n: int, chunk: int) -> None:
    import distributed

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        ar.proxies.compute(cells(n), **score_settings(), cache=cache, progress=False, executor=client, chunk_size=chunk)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
