"""``compute``: score many architectures with many proxies, cached, resumable, with progress."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch
from tqdm.auto import tqdm

from archrank._seeding import torch_seeded
from archrank.proxies.cache import CacheContext, ProxyCache, default_cache_path
from archrank.proxies.inputs import ProxyBatch, check_dataset, input_batch
from archrank.proxies.precomputed import shipped_scores
from archrank.proxies.registry import Proxy, get
from archrank.proxies.saliency import cross_entropy_grads
from archrank.spaces import SearchSpace, SpaceLike, as_archs

# Bump when a proxy's definition changes: cached scores of older definitions are then ignored.
DEFINITIONS_VERSION = 1
DEFAULT_PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "nwot", "zico", "params", "flops")


class ProxyWarning(UserWarning):
    """A proxy failed (or overflowed) on one architecture; its score is NaN."""


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> the first CUDA GPU if there is one, else the CPU; other values as torch reads them."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for but CUDA is not available")
    return dev


def score_one(
    proxy: Proxy, model: torch.nn.Module, batch: ProxyBatch, seed: int, label: str, grads: Any = None
) -> float:
    """One proxy on one model. Failures, NaN and +inf become NaN with a ProxyWarning naming ``label``.

    ``-inf`` is kept: log-valued proxies (nwot, zen) use it for a network that cannot tell its
    inputs apart, which is the lowest score, not an error. ``grads``: a zero-argument callable
    giving the shared cross-entropy weight gradients, used by proxies with ``from_grads``.
    """
    try:
        with torch_seeded(seed):
            if proxy.from_grads is not None and grads is not None:
                value = float(proxy.from_grads(grads()))
            else:
                value = float(proxy.fn(model, batch))
    except Exception as err:  # one bad architecture must not end a run of thousands
        if isinstance(err, torch.cuda.OutOfMemoryError):
            torch.cuda.empty_cache()
        warnings.warn(f"proxy {proxy.name} failed on {label}: {type(err).__name__}: {err}", ProxyWarning, stacklevel=3)
        return math.nan
    if math.isnan(value) or value == math.inf:
        warnings.warn(f"proxy {proxy.name} gave {value} on {label} (overflow or undefined)", ProxyWarning, stacklevel=3)
        return math.nan
    return value


class _SharedGrads:
    """The cross-entropy weight gradients of one model, computed on first use and then reused."""

    def __init__(self, model: torch.nn.Module, batch: ProxyBatch, seed: int) -> None:
        self.model, self.batch, self.seed, self.grads = model, batch, seed, None

    def __call__(self) -> Any:
        if self.grads is None:
            with torch_seeded(self.seed):
                self.grads = cross_entropy_grads(self.model, self.batch)
        return self.grads


def score_architecture(
    sp: SearchSpace, arch: Any, label: str, proxies: Sequence[Proxy], batch: ProxyBatch, seed: int
) -> dict[str, tuple[float, str, float]]:
    """``proxy -> (score, device type, seconds)`` for one architecture; NaN scores for failures.

    The network is built once, with weights drawn from ``seed``, on the batch's device.
    """
    device = batch.inputs.device
    try:
        with torch_seeded(seed):
            model = sp.build_model(arch, num_classes=batch.num_classes).to(device)
    except Exception as err:  # an unbuildable architecture gets NaN scores, the run goes on
        warnings.warn(
            f"cannot build the network of {sp.name} architecture {label}: {type(err).__name__}: {err}",
            ProxyWarning,
            stacklevel=2,
        )
        return {p.name: (math.nan, device.type, 0.0) for p in proxies}
    shared = _SharedGrads(model, batch, seed)
    out = {}
    for proxy in proxies:
        start = time.perf_counter()
        value = score_one(proxy, model, batch, seed, f"{sp.name} architecture {label}", shared)
        out[proxy.name] = (value, device.type, time.perf_counter() - start)
    return out


def compute(
    archs: Sequence[Any],
    proxies: Sequence[str] = DEFAULT_PROXIES,
    space: SpaceLike = None,
    dataset: str = "cifar10",
    batch_size: int = 64,
    device: str | torch.device = "auto",
    seed: int = 0,
    cache: str | Path | Literal["auto"] | None = "auto",
    progress: bool = True,
    precomputed: bool = True,
) -> pd.DataFrame:
    """Zero-cost scores of ``archs`` (objects, or strings with ``space=``) at initialisation.

    Each architecture's network is built once with weights drawn from ``seed`` (``space.build_model``,
    the head sized for ``dataset``); every proxy scores its own copy, on the same input batch
    (``batch_size`` bundled CIFAR-10 images drawn by ``seed``; see ``archrank.proxies.inputs`` for
    CIFAR-100 and ImageNet16-120), which is put on ``device`` once. ``cache``: a SQLite file
    (``"auto"``: ``$ARCHRANK_CACHE_DIR`` or ``~/.cache/archrank``; ``None``: no cache); cached
    scores are reused and every new architecture's scores are saved as soon as they exist, so
    an interrupted run resumes. ``precomputed``: take the scores of cells that the shipped table
    (:func:`load_precomputed`) holds when its settings are these (space, dataset, batch size, seed
    and proxy definitions); they are the same computation, done once on the device the table
    names, so a GPU run then mixes in CPU scores that differ at float32 round-off (``False``
    computes every cell here). Returns one row per input architecture, in input order: an
    ``arch`` column (the architecture string) and one float column per proxy.
    """
    arch_list, sp = as_archs(archs, space)
    chosen = [get(name) for name in dict.fromkeys(proxies)]
    if not chosen:
        raise ValueError("no proxies given")
    check_dataset(dataset)
    dev = resolve_device(device)
    labels = [str(a) for a in arch_list]
    context = CacheContext(sp.name, dataset, int(batch_size), int(seed), DEFINITIONS_VERSION)
    store = None if cache is None else ProxyCache(default_cache_path() if cache == "auto" else cache)
    try:
        known = store.lookup(context, [p.name for p in chosen]) if store is not None else {}
        if precomputed:
            known.update(shipped_scores(context, set(labels), [p.name for p in chosen]))
        unique = dict(zip(labels, arch_list, strict=True))
        todo = [lab for lab in unique if any((lab, p.name) not in known for p in chosen)]
        batch = input_batch(dataset, batch_size, seed, dev) if todo else None
        for label in tqdm(todo, desc=f"proxies on {dev.type}", unit="arch", disable=not progress):
            missing = [p for p in chosen if (label, p.name) not in known]
            fresh = score_architecture(sp, unique[label], label, missing, batch, seed)
            known.update({(label, name): value for name, (value, _, _) in fresh.items()})
            if store is not None:
                store.store(context, label, {k: v for k, v in fresh.items() if not math.isnan(v[0])})
    finally:
        if store is not None:
            store.close()
    table = {"arch": labels}
    for p in chosen:
        table[p.name] = [known[(lab, p.name)] for lab in labels]
    return pd.DataFrame(table)
