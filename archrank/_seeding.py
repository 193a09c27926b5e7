"""Seeding helpers that leave the caller's global random state untouched."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


def resolve_seed(random_state: int | np.random.Generator | None) -> int:
    """An int seed from an int, a numpy Generator (one draw) or None (fresh entropy)."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, not {type(random_state).__name__}")


@contextlib.contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's CPU (and CUDA) generators seeded, restoring their state afterwards."""
    import torch  # here, not at import: torch costs over a second and many users never need it

    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
