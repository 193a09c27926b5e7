"""``compute``: score many architectures with many proxies, cached, resumable, with progress."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch
from tqdm.auto import tqdm

import archrank.proxies.batched as batched
from archrank import _executors
from archrank._fingerprint import code_fingerprint
from archrank._seeding import torch_seeded
from archrank._threads import limit_threads, resolve_threads
from archrank.errors import ProxyWarning
from archrank.proxies.cache import CacheContext, ProxyCache, default_cache_path
from archrank.proxies.inputs import ProxyBatch, check_dataset, input_batch
from archrank.proxies.precomputed import shipped_scores
from archrank.proxies.registry import Proxy, get
from archrank.proxies.saliency import cross_entropy_grads
from archrank.spaces import SearchSpace, SpaceLike, as_archs

# Bump when a proxy's definition changes: cached scores of older definitions are then ignored.
DEFINITIONS_VERSION = 1
DEFAULT_PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "nwot", "zico", "params", "flops")


@contextlib.contextmanager
def full_float32(device: torch.device) -> Iterator[None]:
    """On a CUDA device, run cuDNN convolutions in IEEE float32 instead of TF32 (PyTorch's default
    for convolutions on Ampere and newer GPUs), restoring the setting afterwards.

    TF32 keeps 10 mantissa bits; through the 20-odd layers of an NB201 network that moves scores
    by far more than float32 round-off, so GPU scores would stop matching the CPU-computed
    shipped table and the proxies' float32 definitions.
    """
    if device.type != "cuda":
        yield
        return
    conv = torch.backends.cudnn.conv
    previous = conv.fp32_precision
    conv.fp32_precision = "ieee"
    try:
        yield
    finally:
        conv.fp32_precision = previous


def _defined_in_archrank(fn: Any) -> bool:
    """Whether ``fn`` is one of archrank's own proxy functions (versioned by DEFINITIONS_VERSION)."""
    return (getattr(fn, "__module__", None) or "").startswith("archrank.")


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> the first CUDA GPU if there is one, else the CPU; other values as torch reads them.

    Raises ValueError for a device torch does not know or a CUDA device on a machine without CUDA."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: give 'auto', 'cpu', 'cuda' or 'cuda:N'") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available (torch {torch.__version__})")
    return dev


def score_one(
    proxy: Proxy,
    model: torch.nn.Module,
    batch: ProxyBatch,
    seed: int,
    label: str,
    grads: Any = None,
    fallback: torch.device | None = None,
) -> tuple[float, str]:
    """One proxy on one model: ``(score, device type that computed it)``.

    Failures, NaN and +inf become NaN with a ProxyWarning naming ``label``. ``-inf`` is kept:
    log-valued proxies (nwot, zen) use it for a network that cannot tell its inputs apart,
    which is the lowest score, not an error. ``grads``: a zero-argument callable giving the
    shared cross-entropy weight gradients, used by proxies with ``from_grads``. ``fallback``:
    where to retry, with the same network, images and seed, when the proxy runs out of CUDA
    memory (the runner passes the CPU for GPU work). Splitting the batch instead would change
    the batch-dependent proxies (nwot, jacob_cov, BatchNorm statistics); a CPU score is the
    same definition, as the shipped CPU-computed table is.
    """
    where = batch.inputs.device.type
    try:
        return _run_checked(proxy, model, batch, seed, label, grads), where
    except torch.cuda.OutOfMemoryError as err:
        torch.cuda.empty_cache()
        if fallback is None:
            _failed(proxy, label, err)
            return math.nan, where
        warnings.warn(
            f"proxy {proxy.name} ran out of memory on {where} for {label}; retrying on {fallback.type}",
            ProxyWarning,
            stacklevel=2,
        )
        try:
            # the network moves, not a copy of it: a copy would need memory where there is none
            return _run_checked(proxy, model.to(fallback), batch.to(fallback), seed, label, None), fallback.type
        except Exception as retry_err:
            _failed(proxy, label, retry_err)
            return math.nan, fallback.type
    except Exception as err:  # one bad architecture must not end a run of thousands
        _failed(proxy, label, err)
        return math.nan, where


def _run_checked(proxy: Proxy, model: torch.nn.Module, batch: ProxyBatch, seed: int, label: str, grads: Any) -> float:
    with torch_seeded(seed):
        if proxy.from_grads is not None and grads is not None:
            value = float(proxy.from_grads(grads()))
        else:
            value = float(proxy.fn(model, batch))
    return checked(proxy.name, value, label)


def _failed(proxy: Proxy, label: str, err: BaseException) -> None:
    warnings.warn(f"proxy {proxy.name} failed on {label}: {type(err).__name__}: {err}", ProxyWarning, stacklevel=3)


def checked(name: str, value: float, label: str) -> float:
    """``value``, or NaN with a ProxyWarning naming ``label`` when it is NaN or +inf."""
    if math.isnan(value) or value == math.inf:
        warnings.warn(f"proxy {name} gave {value} on {label} (overflow or undefined)", ProxyWarning, stacklevel=4)
        return math.nan
    return value


class _SharedGrads:
    """``compute(model, batch)`` (the cross-entropy weight gradients, one network's or a stacked
    network's) under ``seed``, computed on first use and then reused by every proxy of them.

    Running out of CUDA memory is remembered: the next proxy that asks gets the error at once
    (and falls back) instead of filling the GPU again.
    """

    def __init__(self, compute: Callable[[Any, ProxyBatch], Any], model: Any, batch: ProxyBatch, seed: int) -> None:
        self.compute, self.model, self.batch, self.seed = compute, model, batch, seed
        self.grads: Any = None
        self.out_of_memory: str | None = None

    def __call__(self) -> Any:
        if self.out_of_memory is not None:
            raise torch.cuda.OutOfMemoryError(self.out_of_memory)
        if self.grads is None:
            try:
                with torch_seeded(self.seed):
                    self.grads = self.compute(self.model, self.batch)
            except torch.cuda.OutOfMemoryError as err:
                self.out_of_memory = str(err)
                raise
        return self.grads


def score_architecture(
    sp: SearchSpace, arch: Any, label: str, proxies: Sequence[Proxy], batch: ProxyBatch, seed: int
) -> dict[str, tuple[float, str, float]]:
    """``proxy -> (score, device type, seconds)`` for one architecture; NaN scores for failures.

    The network is built once, with weights drawn from ``seed``, on the batch's device.
    """
    model = build_network(sp, arch, label, batch.num_classes, seed)
    if model is None:
        return {p.name: (math.nan, batch.inputs.device.type, 0.0) for p in proxies}
    return _score_built(sp, model, label, proxies, batch, seed)


def build_network(sp: SearchSpace, arch: Any, label: str, num_classes: int, seed: int) -> torch.nn.Module | None:
    """The network of ``arch`` with weights drawn from ``seed`` (on the CPU), or None and a ProxyWarning."""
    try:
        with torch_seeded(seed):
            return sp.build_model(arch, num_classes=num_classes)
    except Exception as err:  # an unbuildable architecture gets NaN scores, the run goes on
        warnings.warn(
            f"cannot build the network of {sp.name} architecture {label}: {type(err).__name__}: {err}",
            ProxyWarning,
            stacklevel=3,
        )
        return None


def _score_built(
    sp: SearchSpace, model: torch.nn.Module, label: str, proxies: Sequence[Proxy], batch: ProxyBatch, seed: int
) -> dict[str, tuple[float, str, float]]:
    """Move ``model`` to the batch's device and score it; a network whose weights do not fit in
    CUDA memory is scored on the CPU, and one that runs out of memory in a proxy retries that
    proxy on the CPU (:func:`score_one`), where its remaining proxies then run too."""
    try:
        model = model.to(batch.inputs.device)
    except torch.cuda.OutOfMemoryError as err:
        torch.cuda.empty_cache()
        warnings.warn(
            f"the network of {sp.name} architecture {label} does not fit in GPU memory ({err}); scoring it on the CPU",
            ProxyWarning,
            stacklevel=3,
        )
        model, batch = model.cpu(), batch.to("cpu")
    shared = _SharedGrads(cross_entropy_grads, model, batch, seed)
    fallback = torch.device("cpu") if batch.inputs.device.type == "cuda" else None
    out = {}
    for proxy in proxies:
        start = time.perf_counter()
        value, where = score_one(proxy, model, batch, seed, f"{sp.name} architecture {label}", shared, fallback)
        out[proxy.name] = (value, where, time.perf_counter() - start)
        if where != batch.inputs.device.type:
            # the retry moved the network to the fallback device: score the rest of it there too
            batch, fallback = batch.to(where), None
            shared = _SharedGrads(cross_entropy_grads, model, batch, seed)
    return out


def score_stacked(
    sp: SearchSpace, archs: Sequence[Any], labels: Sequence[str], proxies: Sequence[Proxy], batch: ProxyBatch, seed: int
) -> list[dict[str, tuple[float, str, float]]]:
    """Like :func:`score_architecture` for several architectures, with the proxies that allow it
    (those registered with a stacked form, :func:`archrank.proxies.registry.register_stacked`)
    computed on their stacked network, one pass for all.

    Each network is built exactly as :func:`score_architecture` builds it, so the scores agree
    up to float round-off. Seconds are the stacked pass's time divided by the number of networks.
    If a stacked pass fails (out of memory, a bad architecture), that proxy falls back to one
    network at a time, where a failure names its architecture.
    """
    dev = batch.inputs.device
    models = [build_network(sp, a, lab, batch.num_classes, seed) for a, lab in zip(archs, labels, strict=True)]
    out: list[dict[str, tuple[float, str, float]]] = [{} for _ in archs]
    built = [i for i, m in enumerate(models) if m is not None]
    for i in set(range(len(archs))) - set(built):
        out[i] = {p.name: (math.nan, dev.type, 0.0) for p in proxies}
    together = [p for p in proxies if p.has_stacked] if len(built) > 1 else []
    alone = [p for p in proxies if p not in together]
    if together:
        start = time.perf_counter()
        try:
            stacked = batched.stack(sp, [models[i] for i in built]).to(dev)
        except Exception as err:
            _stacking_failed("stacking", len(built), sp.name, err)
            alone, together = alone + together, []
        else:
            shared = _SharedGrads(batched.cross_entropy_block_grads, stacked, batch, seed)
        setup = time.perf_counter() - start
        for proxy in together:
            start = time.perf_counter()
            fn, from_grads = proxy.stacked, proxy.stacked_from_grads
            try:
                with torch_seeded(seed):
                    if from_grads is not None:
                        values = from_grads(shared(), stacked.k).tolist()
                    else:
                        values = fn(stacked, batch).tolist()
            except Exception as err:  # fall back to one network at a time for this proxy
                _stacking_failed(f"stacked {proxy.name}", len(built), sp.name, err)
                alone.append(proxy)
                continue
            seconds = (time.perf_counter() - start + setup / len(together)) / len(built)
            for i, value in zip(built, values, strict=True):
                label = f"{sp.name} architecture {labels[i]}"
                out[i][proxy.name] = (checked(proxy.name, value, label), dev.type, seconds)
    if alone:
        for i in built:
            out[i].update(_score_built(sp, models[i], labels[i], alone, batch, seed))  # type: ignore[arg-type]
    return out


def _stacking_failed(what: str, count: int, space: str, err: Exception) -> None:
    if isinstance(err, torch.cuda.OutOfMemoryError):
        torch.cuda.empty_cache()
    warnings.warn(
        f"{what} failed on {count} {space} networks ({type(err).__name__}: {err}); scoring them one at a time",
        ProxyWarning,
        stacklevel=3,
    )


def resolve_archs_per_launch(value: int | str, sp: SearchSpace, device: torch.device) -> int:
    """The number of networks per stacked pass: ``"auto"`` gives 16 on a GPU for a stackable space, else 1."""
    stackable = sp.stacked_proxies
    if value == "auto":
        return 16 if device.type == "cuda" and stackable else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"archs_per_launch must be a positive int or 'auto', got {value!r}")
    if value > 1 and not stackable:
        raise ValueError(
            f"archs_per_launch={value} needs a space whose networks stack (stacked_proxies=True), not {sp.name!r}"
        )
    return value


def score_groups(
    sp: SearchSpace,
    archs: Mapping[str, Any],
    labels: Sequence[str],
    needs: Mapping[str, Collection[str]],
    proxies: Sequence[Proxy],
    batch: ProxyBatch,
    seed: int,
    per_launch: int,
) -> Iterator[list[tuple[str, dict[str, tuple[float, str, float]]]]]:
    """Score ``labels`` (their architectures in ``archs``) with the proxies each lacks (``needs[label]``:
    proxy names), ``per_launch`` networks per stacked pass; yields each pass's ``(label, proxy -> (score,
    device type, seconds))`` as soon as it is done. The serial run and the executor's workers
    (:mod:`archrank.proxies.distributed`) both score through this, so their scores agree."""
    for start in range(0, len(labels), per_launch):
        group = list(labels[start : start + per_launch])
        missing = [p for p in proxies if any(p.name in needs[lab] for lab in group)]
        if len(group) > 1:
            results = score_stacked(sp, [archs[lab] for lab in group], group, missing, batch, seed)
        else:
            results = [score_architecture(sp, archs[group[0]], group[0], missing, batch, seed)]
        # a stacked pass scores every network with every proxy one of them lacks: keep what each lacked
        yield [
            (lab, {name: v for name, v in fresh.items() if name in needs[lab]})
            for lab, fresh in zip(group, results, strict=True)
        ]


def check_device(device: str | torch.device) -> str:
    """``device`` as a string, checked for syntax only (an executor's workers resolve it: they may have a GPU)."""
    if isinstance(device, str) and device == "auto":
        return device
    try:
        return str(torch.device(device))
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: give 'auto', 'cpu', 'cuda' or 'cuda:N'") from err


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
    archs_per_launch: int | Literal["auto"] = "auto",
    executor: Any = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    n_threads: int | None = None,
    connect_timeout: float | None = None,
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
    computes every cell here). ``archs_per_launch``: how many networks share one stacked pass for
    the proxies that allow it (:func:`score_stacked`; NB201 only; ``"auto"``: 16 on a GPU, 1 on
    the CPU, where stacking saves little). ``n_threads``: torch and BLAS threads of the scoring
    (None: ``$ARCHRANK_THREADS``, else 1; see :mod:`archrank._threads`).

    ``executor`` spreads the scoring over workers (:mod:`archrank.proxies.distributed`): ``None`` or
    ``"inline"`` (here), ``"processes"`` (``workers`` spawned local processes, default: the CPU
    count), a ``concurrent.futures.Executor``, a Dask ``distributed.Client`` or a Dask scheduler
    address ``"tcp://host:8786"`` (connected within ``connect_timeout`` seconds, default
    ``archrank._executors.CONNECT_TIMEOUT_S`` = 10). The architectures
    to score are split into chunks of ``chunk_size`` (default: about four chunks per worker, at most
    64 architectures); each worker builds its own networks and input batch from ``seed`` (``device``
    and ``"auto"`` are resolved on the worker), so the scores equal a serial run's to float
    round-off, and this process writes each chunk's scores to ``cache`` as the chunk returns: a
    killed run loses only the chunks in flight. Dask reschedules the chunk of a worker that dies; a
    broken ``"processes"`` pool is replaced once and its unfinished chunks sent again.

    Returns one row per input architecture, in input order: an ``arch`` column (the architecture
    string) and one float column per proxy. ``.attrs["sources"]``: how many distinct architectures
    came from the shipped table, from the cache and were computed; with an executor,
    ``.attrs["executor"]`` describes the chunks (count, size, workers' seconds per chunk).
    """
    arch_list, sp = as_archs(archs, space)
    chosen = [get(name) for name in dict.fromkeys(proxies)]
    if not chosen:
        raise ValueError("no proxies given")
    dataset = check_dataset(dataset)  # its own spelling, so that the cache and shipped tables match
    threads = resolve_threads(n_threads)
    remote = executor is not None and not (isinstance(executor, str) and executor == "inline")
    if remote:
        _executors.check(executor, workers)
        device_spec = check_device(device)
        per_launch_spec: int | str = archs_per_launch
        if archs_per_launch != "auto":
            per_launch_spec = resolve_archs_per_launch(archs_per_launch, sp, torch.device("cpu"))
    else:
        dev = resolve_device(device)
        per_launch = resolve_archs_per_launch(archs_per_launch, sp, dev)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a whole number of architectures >= 1, got {chunk_size!r}")
    labels = [str(a) for a in arch_list]
    shipped_context = CacheContext(sp.name, dataset, int(batch_size), int(seed), DEFINITIONS_VERSION)
    # scores of a user's model_fn or proxy functions are keyed by their code too, so that editing
    # them does not bring back the scores of the code before (archrank's own: DEFINITIONS_VERSION)
    own = sorted(f"{p.name}={code_fingerprint(p.fn)}" for p in chosen if not _defined_in_archrank(p.fn))
    context = dataclasses.replace(shipped_context, space="#".join([sp.cache_key, *own]))
    store = None if cache is None else ProxyCache(default_cache_path() if cache == "auto" else cache)
    info: dict[str, Any] | None = None
    try:
        known = store.lookup(context, [p.name for p in chosen]) if store is not None else {}
        shipped = shipped_scores(shipped_context, set(labels), [p.name for p in chosen]) if precomputed else {}
        known.update(shipped)
        unique = dict(zip(labels, arch_list, strict=True))
        needs = {lab: {p.name for p in chosen if (lab, p.name) not in known} for lab in unique}
        todo = [lab for lab in unique if needs[lab]]
        from_table = sum(1 for lab in unique if not needs[lab] and all((lab, p.name) in shipped for p in chosen))
        sources = {"shipped_table": from_table, "cache": len(unique) - len(todo) - from_table, "computed": len(todo)}
        if todo and not sp.can_build_models:
            raise ValueError(
                f"the {sp.name} space builds no networks, so no zero-cost proxy can score its architectures: "
                "give it model_fn=(arch, num_classes) -> torch.nn.Module"
            )

        def save(rows: list[tuple[str, dict[str, tuple[float, str, float]]]]) -> None:
            for label, fresh in rows:
                known.update({(label, name): value for name, (value, _, _) in fresh.items()})
            if store is not None:
                store.store_many(
                    context, [(lab, {k: v for k, v in f.items() if not math.isnan(v[0])}) for lab, f in rows]
                )

        if todo and remote:
            if per_launch_spec != 1:
                todo.sort()  # neighbours in string order stack into fewer, larger launches
            input_batch(dataset, batch_size, seed, "cpu")  # a bad batch size fails here, not on every worker
            from archrank.proxies import distributed

            settings = distributed.ScoreSettings(
                dataset, int(batch_size), int(seed), device_spec, per_launch_spec, threads
            )
            todo_archs = {lab: unique[lab] for lab in todo}
            info = distributed.run(
                executor,
                sp,
                todo_archs,
                todo,
                needs,
                chosen,
                save,
                settings,
                workers=workers,
                chunk_size=chunk_size,
                connect_timeout=connect_timeout,
                progress=progress,
                sources=sources,
            )
        elif todo:
            if per_launch > 1:
                # Neighbours in string order share their first edges' ops, and a stacked pass runs
                # one grouped op per distinct op on each edge: sorting means fewer, larger launches.
                todo.sort()
            batch = input_batch(dataset, batch_size, seed, dev)
            with (
                limit_threads(threads),
                full_float32(dev),
                _bar(len(todo), f"on {dev.type}", sources, progress) as bar,
            ):
                for rows in score_groups(sp, unique, todo, needs, chosen, batch, seed, per_launch):
                    save(rows)
                    bar.update(len(rows))
    finally:
        if store is not None:
            store.close()
    table = {"arch": labels}
    for p in chosen:
        table[p.name] = [known[(lab, p.name)] for lab in labels]
    out = pd.DataFrame(table)
    out.attrs["sources"] = sources
    if info is not None:
        out.attrs["executor"] = info
    return out


def _bar(total: int, where: str, sources: dict[str, int], progress: bool) -> Any:
    """The progress bar over the ``total`` architectures to compute; its label says how many others
    came from the shipped table and the cache (a run with nothing to compute shows no bar at all)."""
    reused = [
        f"{n} from the {what}"
        for what, n in (("shipped table", sources["shipped_table"]), ("cache", sources["cache"]))
        if n
    ]
    desc = " ".join(["proxies", *([where] if where else [])]) + (f" ({', '.join(reused)})" if reused else "")
    return tqdm(total=total, desc=desc, unit="arch", disable=not progress)
