"""Compute the shipped table of zero-cost scores of NAS-Bench-201 cells, resumably.

Cells are scored in a fixed order: first the 1,000 test cells and the 100-cell training sets
of seeds 0-9 of the predictor study protocol (``archrank.studies.study_splits`` with test seed
0), then every other cell in a seeded random order. Any prefix is therefore a uniform random
sample of the space, and the predictor-with-proxy-features benchmark has its cells early.
Scores go to a SQLite cache as they are computed; stop at any time and run again to go on.
``--export`` writes ``archrank/datasets/_data/proxies_<space>_<dataset>.npz`` from the cache
(every cell with all proxies scored, with the settings) and updates the checksum manifest.

    python scripts/precompute_proxies.py --minutes 120            # score (CPU or GPU)
    python scripts/precompute_proxies.py --shard 0/2 --threads 1 &  # or N processes sharing the cache
    python scripts/precompute_proxies.py --shard 1/2 --threads 1
    python scripts/precompute_proxies.py --export                 # ship what is scored
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import archrank as ar
from archrank._datafiles import DATA_DIR, write_manifest
from archrank.proxies.cache import CacheContext, ProxyCache
from archrank.proxies.precomputed import precomputed_name
from archrank.proxies.runner import DEFINITIONS_VERSION
from archrank.studies import study_splits

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / "benchmarks" / "out" / "precompute_proxies.sqlite"
TABLE_PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "nwot", "zico", "params", "flops", "l2_norm")
CHUNK = 50


def scoring_order(n_cells: int) -> np.ndarray:
    """Study cells first (test set, then the seeds' first 100 training cells), then the rest shuffled."""
    test, orders = study_splits(n_cells, [100], range(10), test_size=1000, test_seed=0)
    first = list(dict.fromkeys([*test.tolist(), *np.concatenate(list(orders.values())).tolist()]))
    chosen = set(first)
    rest = [int(i) for i in np.random.default_rng(2026).permutation(n_cells) if int(i) not in chosen]
    order = np.array(first + rest, dtype=np.int64)
    assert len(order) == n_cells and len(set(order.tolist())) == n_cells
    return order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="nb201", choices=["nb201"])
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--proxies", nargs="+", default=list(TABLE_PROXIES))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long (resume later)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N cells of the order")
    parser.add_argument(
        "--shard", default="0/1", help="K/N: score only chunks K, K+N, K+2N, ... (run N processes on one cache)"
    )
    parser.add_argument("--export", action="store_true", help="write the shipped table from the cache and stop")
    parser.add_argument("--note", default="", help="with --export: how the scores were computed (commands, machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    space = ar.spaces.get(args.space)
    archs = space.all()
    order = scoring_order(len(archs))[: args.limit]
    if args.export:
        return export(args, space, archs, order)
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    warnings.simplefilter("always", ar.proxies.ProxyWarning)
    shard, n_shards = (int(x) for x in args.shard.split("/"))
    if not 0 <= shard < n_shards:
        raise SystemExit(f"--shard must be K/N with 0 <= K < N, got {args.shard}")
    for start in range(shard * CHUNK, len(order), n_shards * CHUNK):
        if deadline is not None and time.monotonic() > deadline:
            print(f"time budget reached after {start} cells of the order")
            break
        chunk = [archs[i] for i in order[start : start + CHUNK]]
        ar.proxies.compute(
            chunk,
            args.proxies,
            space=space,
            dataset=args.dataset,
            batch_size=args.batch_size,
            device=args.device,
            seed=args.seed,
            cache=args.cache,
            progress=False,
            precomputed=False,  # compute every cell here, so that the cache (and the export) holds them all
        )
        print(f"cells up to {min(start + CHUNK, len(order))} of {len(order)} scored (shard {args.shard})", flush=True)
    return 0


def export(args: argparse.Namespace, space: ar.spaces.SearchSpace, archs: list, order: np.ndarray) -> int:
    context = CacheContext(space.name, args.dataset, args.batch_size, args.seed, DEFINITIONS_VERSION)
    with ProxyCache(args.cache) as cache:
        known = cache.lookup(context, args.proxies)
        devices = cache.devices(context)
    done = [int(i) for i in order if all((str(archs[i]), p) in known for p in args.proxies)]
    if not done:
        raise SystemExit(f"nothing scored in {args.cache} for these settings")
    columns = {p: np.array([known[(str(archs[i]), p)] for i in done], dtype=np.float64) for p in args.proxies}
    settings = {
        "space": space.name,
        "dataset": args.dataset,
        "proxies": list(args.proxies),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "definitions_version": DEFINITIONS_VERSION,
        "cells": len(done),
        "cells_in_space": len(archs),
        "order": "scripts/precompute_proxies.py scoring_order: study test/training cells first, then seeded shuffle",
        "scores_by_device": devices,
        "torch": torch.__version__,
        "archrank": ar.__version__,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "command": "python scripts/precompute_proxies.py " + " ".join(sys.argv[1:]),
        "note": args.note,
        "inputs": f"{args.batch_size} bundled CIFAR-10 test images drawn by seed {args.seed}",
        "weights": f"each cell's network initialised with torch.manual_seed({args.seed})",
    }
    out = DATA_DIR / precomputed_name(space.name, args.dataset)
    np.savez_compressed(out, index=np.array(done, dtype=np.int32), settings=np.array(json.dumps(settings)), **columns)
    write_manifest(DATA_DIR)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {len(done)} cells, devices {devices}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
