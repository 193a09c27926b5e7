"""Own-space speed and soundness: encodings now vs before the redesign, Cell canonical keys, NB101 as a Cell.

Parts (all by default):
* ``encode``: every encoding of all 15,625 NB201 cells, in fresh processes, alternating this
  checkout and a git worktree of ``--old`` (the commit before spaces became plug-ins); median
  of ``--repeats`` cold runs each, and the ratio new/old. Target: no slower than old by > 20 %.
* ``canonical``: ``canonical`` of 10,000 random architectures of an NB201-like edge Cell and an
  NB101-like node Cell. Target: under 5 s on 2 cores.
* ``nb101``: every pruned NB101 cell (all full DAGs on <= 7 vertices with <= 9 edges, every op
  labelling: 1,293,208 labelled cells) written as a 7-node ``Cell`` with ops on nodes; count the
  distinct canonical keys (NAS-Bench-101 reports 423,624 unique cells).

Prints tables and writes benchmarks/results/own_spaces.json. Usage:
    python benchmarks/own_spaces.py [--part encode canonical nb101] [--repeats 3] [--old add95e5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import write_results

ROOT = Path(__file__).resolve().parents[1]
ENCODINGS = ["adjacency_onehot", "path", "path_truncated", "categorical", "graph"]
CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
import archrank as ar
archs = ar.spaces.get("nb201").all()
out = {{}}
for name in {encodings!r}:
    t0 = time.perf_counter()
    ar.encodings.encode(archs, name)
    out[name] = time.perf_counter() - t0
print(json.dumps(out))
"""
NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
NB101_OPS = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]


def _encode_once(root: Path) -> dict[str, float]:
    code = CHILD.format(root=str(root), encodings=ENCODINGS)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def part_encode(old: str, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), old], check=True,
                       capture_output=True)  # fmt: skip
        try:
            runs: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
            for _ in range(repeats):  # alternate, so both see the same machine state
                runs["old"].append(_encode_once(worktree))
                runs["new"].append(_encode_once(ROOT))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True)
    rows = []
    for name in [*ENCODINGS, "total"]:
        pick = (lambda r: sum(r.values())) if name == "total" else (lambda r, n=name: r[n])
        new = statistics.median(pick(r) for r in runs["new"])
        before = statistics.median(pick(r) for r in runs["old"])
        rows.append({"encoding": name, "old_s": before, "new_s": new, "ratio_new_over_old": new / before})
    print(f"encode all 15,625 NB201 cells (median of {repeats} fresh processes each; old = {old})")
    print(f"{'encoding':18s} {'old (s)':>9s} {'new (s)':>9s} {'new/old':>8s}")
    for r in rows:
        print(f"{r['encoding']:18s} {r['old_s']:9.3f} {r['new_s']:9.3f} {r['ratio_new_over_old']:8.2f}")
    return {"old_commit": old, "repeats": repeats, "rows": rows}


def part_canonical() -> dict:
    import archrank as ar

    spaces = {
        "nb201-like edge Cell": ar.spaces.Cell(
            "bench-edge", nodes=4, ops=NB201_OPS, zero_ops=["none"], identity_ops=["skip_connect"]
        ),
        "nb101-like node Cell": ar.spaces.Cell("bench-node", nodes=7, ops=NB101_OPS, op_on="node", max_edges=9),
    }
    rows = []
    for label, space in spaces.items():
        t0 = time.perf_counter()
        archs = space.sample(10_000, seed=0)
        t1 = time.perf_counter()
        keys = {space.canonical(a) for a in archs}
        t2 = time.perf_counter()
        rows.append({"space": label, "sample_s": t1 - t0, "canonical_s": t2 - t1, "distinct": len(keys)})
    print(f"{'space':22s} {'sample 10k (s)':>15s} {'canonical 10k (s)':>18s} {'distinct':>9s}")
    for r in rows:
        print(f"{r['space']:22s} {r['sample_s']:15.3f} {r['canonical_s']:18.3f} {r['distinct']:9d}")
    return {"n": 10_000, "rows": rows}


def _full_dags(n: int) -> np.ndarray:
    """All n-vertex upper-triangular 0/1 matrices, <= 9 edges, every vertex on an input-output path."""
    iu = np.triu_indices(n, 1)
    bits = np.arange(2 ** len(iu[0]), dtype=np.int64)
    b = ((bits[:, None] >> np.arange(len(iu[0]))) & 1).astype(np.uint8)
    b = b[b.sum(axis=1) <= 9]
    mats = np.zeros((len(b), n, n), dtype=np.uint8)
    mats[:, iu[0], iu[1]] = b
    full = (mats.sum(axis=1)[:, 1:] > 0).all(axis=1) & (mats.sum(axis=2)[:, :-1] > 0).all(axis=1)
    return mats[full]


def part_nb101() -> dict:
    import archrank as ar

    space = ar.spaces.Cell("bench-nb101", nodes=7, ops=NB101_OPS, op_on="node", max_edges=9)
    t0 = time.perf_counter()
    keys, labelled = set(), 0
    for n in range(2, 8):
        where = [*range(n - 1), 6]  # the output vertex goes to node 6; nodes n-1..5 stay unconnected
        for mat in _full_dags(n):
            edges = {name: 0 for name in space.decisions if "->" in name}
            for i, j in zip(*np.nonzero(mat), strict=True):
                edges[f"{where[i]}->{where[j]}"] = 1
            for labels in itertools.product(NB101_OPS, repeat=n - 2):
                ops = {f"node{k}": op for k, op in enumerate([*labels, *[NB101_OPS[0]] * (7 - n)], start=1)}
                keys.add(space.canonical(space.from_decisions({**edges, **ops})))
                labelled += 1
    seconds = time.perf_counter() - t0
    print(f"NB101 as a Cell: {labelled:,} labelled cells, {len(keys):,} distinct canonical keys in {seconds:.0f} s")
    return {
        "labelled_cells": labelled,
        "distinct_keys": len(keys),
        "nas_bench_101_reports": 423_624,
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", nargs="+", choices=["encode", "canonical", "nb101"], default=["encode", "canonical", "nb101"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--old", default="add95e5", help="the commit to compare encoding speed with")
    args = parser.parse_args()
    payload = {}
    if "encode" in args.part:
        payload["encode"] = part_encode(args.old, args.repeats)
    if "canonical" in args.part:
        payload["canonical"] = part_canonical()
    if "nb101" in args.part:
        payload["nb101"] = part_nb101()
    path = write_results("own_spaces.json", payload)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
