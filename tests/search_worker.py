"""A search run in its own process, for the kill-and-resume tests: ``python search_worker.py STORE BUDGET [WORKERS]``.

Without WORKERS the run evaluates inline; with it, in that many spawned worker processes (batches of
WORKERS). ``$ARCHRANK_TEST_SLEEP`` sets the seconds each evaluation takes (default 0.05) and, when
``$ARCHRANK_TEST_CALLS`` names a folder, every call of the oracle's function writes a file there
(``PID-NANOSECONDS``, holding the architecture) as it starts, so a test can count what was evaluated.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def slow_score(arch) -> float:  # type: ignore[no-untyped-def]
    """A stand-in for training: a deterministic score that takes a little while."""
    text = str(arch)
    calls = os.environ.get("ARCHRANK_TEST_CALLS")
    if calls:
        (Path(calls) / f"{os.getpid()}-{time.monotonic_ns()}").write_text(text)
    time.sleep(float(os.environ.get("ARCHRANK_TEST_SLEEP", "0.05")))
    return 3.0 * text.count("conv_3x3") + text.count("conv_1x1") - 0.5 * text.count("none")


def search(store: str | None, budget: int, workers: int | None = None, batch_size: int | None = None):  # type: ignore[no-untyped-def]
    """The run: evolution on NB201 with seed 11; inline, or on ``workers`` processes (by default in
    batches of that size)."""
    import archrank as ar

    oracle = ar.search.TrainingOracle(slow_score, space="nb201")
    parallel = {"executor": "processes", "workers": workers} if workers else {"executor": "inline"}
    return ar.search.run(
        "evolution",
        "nb201",
        oracle,
        budget=budget,
        seed=11,
        store=store,
        progress=False,
        population_size=8,
        sample_size=3,
        batch_size=batch_size,
        **parallel,  # type: ignore[arg-type]
    ).frame()


if __name__ == "__main__":
    search(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
