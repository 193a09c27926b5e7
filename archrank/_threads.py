"""One thread setting for every library archrank drives (torch, XGBoost, scikit-learn, BLAS/OpenMP).

Every predictor, proxy run and study reads its thread count from, in order:

1. its own ``n_threads`` argument, when not None;
2. the environment variable ``ARCHRANK_THREADS`` (the CLI's ``--threads`` sets it, so worker
   processes inherit it);
3. the default, **1 thread**.

One thread is the default because archrank's models are small (a few hundred to a few thousand
cells): on a 2-core machine shared with other jobs, XGBoost on 100 NB201 cells took 150.6 s wall
with its default of all cores against 35.2 s with one thread, and a GIN fit took minutes instead of
seconds. More threads pay off only on a quiet machine and large inputs (proxies on big networks,
GPs on thousands of cells): set ``ARCHRANK_THREADS`` or ``n_threads`` there. The limits apply for
one block of work and are restored afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

THREADS_ENV = "ARCHRANK_THREADS"
DEFAULT_THREADS = 1


def _check(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {n!r}")
    return n


def resolve_threads(n: int | None = None) -> int:
    """The thread count to use: ``n`` if given, else ``$ARCHRANK_THREADS``, else 1 (see the module docstring)."""
    if n is not None:
        return _check(n, "a thread count (n_threads)")
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return DEFAULT_THREADS
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number >= 1, got {text!r}") from None
    return _check(value, THREADS_ENV)


@contextlib.contextmanager
def limit_threads(n: int | None = None) -> Iterator[int]:
    """Run a block with torch's intra-op threads and the BLAS/OpenMP pools (numpy, scipy, XGBoost's
    OpenMP) limited to :func:`resolve_threads` ``(n)`` threads; restores them afterwards. Yields the count."""
    count = resolve_threads(n)
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")  # not imported: nothing in the block uses it (importing it costs seconds)
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count):
            yield count
    finally:
        if torch is not None:
            torch.set_num_threads(before)
