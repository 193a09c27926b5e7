"""A search run in its own process, for the kill-and-resume test: ``python search_worker.py STORE BUDGET``."""

from __future__ import annotations

import sys
import time


def slow_score(arch) -> float:  # type: ignore[no-untyped-def]
    """A stand-in for training: a deterministic score that takes a little while."""
    time.sleep(0.05)
    text = str(arch)
    return 3.0 * text.count("conv_3x3") + text.count("conv_1x1") - 0.5 * text.count("none")


def search(store: str | None, budget: int):  # type: ignore[no-untyped-def]
    import archrank as ar

    oracle = ar.search.TrainingOracle(slow_score, space="nb201")
    return ar.search.run(
        "evolution",
        "nb201",
        oracle,
        budget=budget,
        seed=11,
        store=store,
        executor="inline",
        progress=False,
        population_size=8,
        sample_size=3,
    ).frame()


if __name__ == "__main__":
    search(sys.argv[1], int(sys.argv[2]))
