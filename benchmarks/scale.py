"""Scale-out of proxy scoring (issue 21): the same NB201 cells scored serially and on a Dask cluster, side by side.

Scores ``--cells`` NB201 cells (``space.sample(n, seed=0)``; ``--no-precomputed``, a fresh cache each) with
``--proxies`` at batch ``--batch-size``: once serially in this process (one torch thread), once through
``archrank.proxies.compute(executor=...)`` on a local Dask cluster of ``--workers`` processes x 1 thread
started here (or on the cluster at ``--scheduler tcp://host:8786``, which then skips the serial run unless
``--serial``). Reports wall seconds, the speed-up, whether the scores agree (largest relative difference),
the chunks and the overhead per chunk: (workers x Dask wall - the workers' own seconds) / chunks, i.e. the
worker time spent on anything but scoring (cluster start excluded; task transfer, idle tail included).

Prints a table and writes benchmarks/results/scale.json:
    python benchmarks/scale.py [--cells 500] [--workers 2] [--chunk-size 25] [--scheduler tcp://host:8786]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _machine import write_results

DEFAULT_PROXIES = ["nwot", "params"]  # 500 cells in minutes on 2 cores; any proxies with --proxies


def score(archs: list, args: argparse.Namespace, cache: Path, **kwargs: object) -> tuple[object, float]:
    import archrank as ar

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ar.proxies.ProxyWarning)
        table = ar.proxies.compute(
            archs,
            args.proxies,
            space="nb201",
            batch_size=args.batch_size,
            device="cpu",
            seed=0,
            cache=cache,
            precomputed=False,
            progress=False,
            n_threads=1,
            **kwargs,
        )
    return table, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="local Dask worker processes (1 thread each)")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: about 4 chunks per worker, <= 64")
    parser.add_argument("--proxies", nargs="+", default=DEFAULT_PROXIES)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--scheduler", default=None, help="a running Dask scheduler instead of a local cluster")
    parser.add_argument("--serial", action="store_true", help="with --scheduler: also run the serial baseline here")
    args = parser.parse_args()

    import distributed

    import archrank as ar

    archs = ar.spaces.get("nb201").sample(args.cells, seed=0)
    score(archs[:2], args, Path(tempfile.mkdtemp()) / "warm.sqlite")  # imports and first-call costs off the clock
    out: dict = {"command": "python benchmarks/scale.py " + " ".join(sys.argv[1:]), "cells": args.cells}
    out.update(proxies=args.proxies, batch_size=args.batch_size)
    serial = None
    if args.scheduler is None or args.serial:
        serial, out["serial_s"] = score(archs, args, Path(tempfile.mkdtemp()) / "serial.sqlite")
        print(f"serial: {out['serial_s']:.1f} s ({1000 * out['serial_s'] / args.cells:.0f} ms per cell)", flush=True)
    start = time.perf_counter()
    if args.scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        address = cluster.scheduler_address
    else:
        cluster, address = None, args.scheduler
    try:
        with distributed.Client(address) as client:
            client.wait_for_workers(1 if cluster is None else args.workers, timeout=120)
            client.run(lambda: __import__("archrank.proxies").__name__)  # workers import archrank before the clock
            out["cluster_start_s"] = time.perf_counter() - start
            workers = sum(client.nthreads().values())
            dask, out["dask_s"] = score(
                archs, args, Path(tempfile.mkdtemp()) / "dask.sqlite", executor=client, chunk_size=args.chunk_size
            )
    finally:
        if cluster is not None:
            cluster.close()
    info = dask.attrs["executor"]  # type: ignore[attr-defined]
    busy = float(sum(info["worker_seconds"]))
    out.update(
        workers=workers,
        chunks=info["chunks"],
        chunk_size=info["chunk_size"],
        worker_busy_s=busy,
        overhead_per_chunk_ms=1000 * (workers * out["dask_s"] - busy) / info["chunks"],
        scheduler=args.scheduler or f"LocalCluster({args.workers} processes x 1 thread)",
    )
    if serial is not None:
        a, b = serial[args.proxies].to_numpy(), dask[args.proxies].to_numpy()  # type: ignore[index]
        both = np.isfinite(a) & np.isfinite(b)
        out["speedup"] = out["serial_s"] / out["dask_s"]
        out["max_rel_diff"] = float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(a[both]), 1e-300)))
        out["same_nan"] = bool(np.array_equal(np.isnan(a), np.isnan(b)))
    print(f"{'run':34s} {'wall s':>8s} {'ms/cell':>8s} {'speed-up':>9s}")
    if serial is not None:
        print(f"{'serial (1 thread)':34s} {out['serial_s']:8.1f} {1000 * out['serial_s'] / args.cells:8.0f} {1:9.2f}")
    speed = f"{out['speedup']:9.2f}" if "speedup" in out else f"{'-':>9s}"
    label = f"Dask, {workers} workers x 1 thread"
    print(f"{label:34s} {out['dask_s']:8.1f} {1000 * out['dask_s'] / args.cells:8.0f} {speed}")
    print(
        f"chunks: {info['chunks']} of {info['chunk_size']}; workers busy {busy:.1f} s of {workers} x "
        f"{out['dask_s']:.1f} s; overhead {out['overhead_per_chunk_ms']:.0f} ms per chunk; cluster start "
        f"{out['cluster_start_s']:.1f} s (not in the Dask wall time)"
    )
    if serial is not None:
        print(f"scores: largest relative difference {out['max_rel_diff']:.2e}, same NaNs: {out['same_nan']}")
    print("wrote", write_results("scale.json", out))


if __name__ == "__main__":
    main()
