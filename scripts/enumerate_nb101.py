"""Enumerate the NAS-Bench-101 space and write archrank/datasets/_data/nb101_cells.npz.

Every cell of the space, once pruned, is a "full" DAG: vertices 0..n-1 in topological order,
every vertex but the input has an incoming edge and every vertex but the output an outgoing
one (so each lies on an input-to-output path), n <= 7 vertices, <= 9 edges. The script walks
all such upper-triangular matrices and all 3^(n-2) labelings, computes each one's NAS-Bench-101
module hash, and keeps the first spec seen for each hash. The benchmark reports 423,624 unique
cells; the script checks that count.

Output arrays, sorted by hash: n_vertices (uint8), adjacency_bits (uint32, the 7x7 upper
triangle in np.triu_indices order, cell padded top-left), op_codes (uint8, interior op k as
base-3 digit k) and hash_prefix (uint64, the first 16 hex digits of the module hash; lookups
verify the full hash by recomputing it).

Usage: python scripts/enumerate_nb101.py [--workers 2]   (about 1-2 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from archrank.spaces.cellgraph import wl_hash
from archrank.spaces.nb101 import MAX_EDGES, MAX_VERTICES, NUM_UNIQUE_CELLS

OUT = Path(__file__).resolve().parents[1] / "archrank" / "datasets" / "_data" / "nb101_cells.npz"
TRIU7 = np.triu_indices(MAX_VERTICES, 1)


def full_dags(n: int) -> list[np.ndarray]:
    """All n-vertex upper-triangular 0/1 matrices with <= 9 edges whose vertices all lie on an input-output path."""
    iu = np.triu_indices(n, 1)
    m = len(iu[0])
    bits = np.arange(2**m, dtype=np.int64)
    b = ((bits[:, None] >> np.arange(m)) & 1).astype(np.uint8)
    b = b[b.sum(axis=1) <= MAX_EDGES]
    mats = np.zeros((len(b), n, n), dtype=np.uint8)
    mats[:, iu[0], iu[1]] = b
    full = (mats.sum(axis=1)[:, 1:] > 0).all(axis=1) & (mats.sum(axis=2)[:, :-1] > 0).all(axis=1)
    return list(mats[full])


def hash_all_labelings(mat: np.ndarray) -> list[tuple[str, int, int, int]]:
    """(module hash, n, adjacency bits, op code) for every labeling of one matrix, in labeling order."""
    n = mat.shape[0]
    full = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int64)
    full[:n, :n] = mat
    adj_bits = int((full[TRIU7] << np.arange(len(TRIU7[0]))).sum())
    out = []
    for labels in itertools.product(range(3), repeat=n - 2):
        code = sum(op * 3**k for k, op in enumerate(labels))
        out.append((wl_hash(mat, [-1, *labels, -2]), n, adj_bits, code))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    start = time.perf_counter()
    mats = [m for n in range(2, MAX_VERTICES + 1) for m in full_dags(n)]
    print(f"{len(mats)} full DAG matrices", flush=True)
    first: dict[str, tuple[int, int, int]] = {}
    with Pool(args.workers) as pool:
        for results in pool.imap(hash_all_labelings, mats, chunksize=64):
            for h, n, bits, code in results:
                first.setdefault(h, (n, bits, code))
    print(f"{len(first)} unique module hashes in {time.perf_counter() - start:.0f} s", flush=True)
    if len(first) != NUM_UNIQUE_CELLS:
        print(f"expected {NUM_UNIQUE_CELLS} unique cells", file=sys.stderr)
        return 1
    hashes = sorted(first)
    prefixes = np.array([int(h[:16], 16) for h in hashes], dtype=np.uint64)
    if len(np.unique(prefixes)) != len(prefixes):
        print("64-bit hash prefixes collide; widen the prefix", file=sys.stderr)
        return 1
    rows = [first[h] for h in hashes]
    np.savez_compressed(
        args.out,
        n_vertices=np.array([r[0] for r in rows], dtype=np.uint8),
        adjacency_bits=np.array([r[1] for r in rows], dtype=np.uint32),
        op_codes=np.array([r[2] for r in rows], dtype=np.uint8),
        hash_prefix=prefixes,
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
