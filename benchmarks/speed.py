"""CPU speed of the library's entry points, before and after, side by side in one run.

Parts (all by default):
* ``imports``: ``python -c "import archrank"``, ``python -c "import archrank.predictors"``,
  ``archrank --help`` and ``archrank top nb201 -k 3``, each in fresh processes, alternating this
  checkout and a git worktree of ``--old``; median of ``--repeats`` wall-clock runs. Targets:
  ``import archrank.predictors`` <= 1.5 s, ``archrank --help`` <= 0.8 s.
* ``gnn``: ``gnn`` and the default ``ensemble`` fitted on ``--sizes`` NB201 cells (CIFAR-10-valid
  accuracy, ``space.sample(n + 1000, seed)``: the first n train, the other 1,000 test), each in a
  fresh process, alternating this checkout and the ``--old`` worktree, ``--seeds`` seeds; fit
  seconds, Kendall tau on the 1,000 test cells, the change of tau paired by seed, and whether the
  predictions are bitwise equal. Targets at 1,000 cells: ``gnn`` <= 12 s, ``ensemble`` <= 18 s,
  tau within 0.005 of before, paired by seed.
* ``npenas``: one 100-query ``npenas`` run on NB201 CIFAR-10-valid (validation accuracy at 200
  epochs from the table) per seed, in fresh processes, alternating this checkout and the
  ``--old`` worktree; seconds per run and whether it found the best-validation cell. Target:
  <= 8 s, the best cell in >= 19 of 20 seeds.
* ``nwot``: the NASWOT proxy on ``--cells`` NB201 cells (batch 64, CIFAR-10): ``archrank.proxies.nwot``
  of this checkout against the ``--old`` worktree's, whole processes alternating (2 each);
  median milliseconds per cell and the largest score difference.
  Target: identical scores, >= 15 % faster per cell.
* ``profile``: one 100-query run of each guided preset (``npenas``, ``bananas``, ``bo``) on NB201
  with this checkout, then the slowest again under cProfile: its archrank functions and any
  other taking over 3 % of the time, by cumulative time.

Prints tables and writes benchmarks/results/speed.json. Run it on an otherwise idle machine:
    python benchmarks/speed.py [--part imports nwot] [--repeats 5] [--cells 40] [--sizes 100 1000] [--old 01ad5c5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _machine import write_results

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("imports", "gnn", "npenas", "nwot", "profile")
COMMANDS = {
    "import archrank": [sys.executable, "-c", "import archrank"],
    "import archrank.predictors": [sys.executable, "-c", "import archrank.predictors"],
    "archrank --help": [
        sys.executable,
        "-c",
        "import sys; sys.argv = ['archrank', '--help']; from archrank.cli import main; main()",
    ],
    "archrank top nb201 -k 3": [
        sys.executable,
        "-c",
        "import sys; sys.argv = ['archrank', 'top', 'nb201', '-k', '3']; from archrank.cli import main; main()",
    ],
}


@contextlib.contextmanager
def old_worktree(old: str) -> Iterator[Path]:
    """A temporary git worktree of commit ``old`` (the code "before"), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), old], cwd=ROOT, check=True, capture_output=True
        )
        try:
            yield worktree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)


def _wall(cmd: list[str], root: Path) -> float:
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=tempfile.gettempdir(), env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def part_imports(old: str, repeats: int) -> dict:
    with old_worktree(old) as worktree:
        times: dict[str, dict[str, list[float]]] = {n: {"old": [], "new": []} for n in COMMANDS}
        for name, cmd in COMMANDS.items():
            _wall(cmd, ROOT), _wall(cmd, worktree)  # warm the page cache and the .pyc files
            for _ in range(repeats):
                times[name]["old"].append(_wall(cmd, worktree))
                times[name]["new"].append(_wall(cmd, ROOT))
    rows = {}
    print(f"{'command':28s} {'old s':>7s} {'new s':>7s} {'new/old':>8s}")
    for name, t in times.items():
        o, n = statistics.median(t["old"]), statistics.median(t["new"])
        rows[name] = {"old_s": o, "new_s": n, "ratio": n / o, "runs": t}
        print(f"{name:28s} {o:7.2f} {n:7.2f} {n / o:8.2f}")
    return {"old": old, "repeats": repeats, "commands": rows}


GNN_CHILD = """
import hashlib, json, sys, time
import numpy as np
import archrank as ar
name, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bench = ar.datasets.load("nb201", "cifar10-valid")
values = bench.values("valid_accuracy")
archs = ar.spaces.get("nb201").sample(n + 1000, seed=seed)
y = values[[bench.row(a) for a in archs]]
model = ar.predictors.make(name, random_state=seed)
ar.encodings.encode(archs[:2], "graph")  # import torch-geometric before the clock starts
start = time.perf_counter()
model.fit(archs[:n], y[:n])
fit = time.perf_counter() - start
pred = np.asarray(model.predict(archs[n:]), dtype=np.float64)
print(json.dumps({"fit_s": fit, "tau": ar.metrics.kendall_tau(y[n:], pred),
                  "digest": hashlib.sha256(pred.tobytes()).hexdigest()}))
"""


SEARCH_CHILD = """
import json, sys, time, warnings
import archrank as ar
seed = int(sys.argv[1])
bench = ar.datasets.load("nb201", "cifar10-valid")
oracle = ar.search.BenchmarkOracle(bench, metric="valid_accuracy", epochs=200)
ar.encodings.encode(ar.spaces.get("nb201").sample(2, seed=0), "graph")  # torch-geometric loaded before the clock
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    runs = ar.search.run("npenas", "nb201", oracle, budget=100, seed=seed, progress=False)
    runs = runs.frame() if hasattr(runs, "frame") else runs  # the old worktree returned the frame
seconds = time.perf_counter() - start
best = float(bench.values("valid_accuracy", 200).max())
print(json.dumps({"seconds": seconds, "best": float(runs.score.max()), "found": float(runs.score.max()) == best}))
"""


def part_npenas(old: str, seeds: int) -> dict:
    runs = []
    with old_worktree(old) as worktree:
        for seed in range(seeds):
            row = {"seed": seed}
            for label, root in (("before", worktree), ("now", ROOT)):
                row[label] = run_child(SEARCH_CHILD, root, seed)
            runs.append(row)
            print(
                f"npenas seed {seed}: {row['before']['seconds']:5.1f} s -> {row['now']['seconds']:5.1f} s, "
                f"best cell found {row['before']['found']} -> {row['now']['found']}"
            )
    return {
        "old": old,
        "seeds": seeds,
        "runs": runs,
        "seconds_before": statistics.median(r["before"]["seconds"] for r in runs),
        "seconds_now": statistics.median(r["now"]["seconds"] for r in runs),
        "found_before": sum(r["before"]["found"] for r in runs),
        "found_now": sum(r["now"]["found"] for r in runs),
    }


PROFILE_CHILD = """
import cProfile, json, pstats, sys, time, warnings
import archrank as ar
strategy, seed, profile = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
bench = ar.datasets.load("nb201", "cifar10-valid")
oracle = ar.search.BenchmarkOracle(bench, metric="valid_accuracy", epochs=200)
ar.encodings.encode(ar.spaces.get("nb201").sample(2, seed=0), "graph")
profiler = cProfile.Profile()
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    if profile:
        profiler.enable()
    ar.search.run(strategy, "nb201", oracle, budget=100, seed=seed, progress=False)
    profiler.disable()
seconds = time.perf_counter() - start
top = []
if profile:
    stats = pstats.Stats(profiler).stats
    total = sum(tt for _, _, tt, _, _ in stats.values())
    for (path, line, func), (_, calls, tt, ct, _) in sorted(stats.items(), key=lambda kv: -kv[1][3])[:400]:
        if "archrank" in path or tt / total > 0.03:
            short = path.split("site-packages/")[-1].split("/work/")[-1]
            top.append({"function": f"{short}:{line}({func})", "calls": calls, "own_s": tt, "cumulative_s": ct})
print(json.dumps({"seconds": seconds, "profile": top[:25]}))
"""


def part_profile(strategies: list[str], seed: int = 0) -> dict:
    """Time one 100-query run of each guided preset (this checkout), then profile the slowest."""
    seconds = {name: run_child(PROFILE_CHILD, ROOT, name, seed, 0)["seconds"] for name in strategies}
    for name, s in seconds.items():
        print(f"{name:8s} 100 queries on NB201, seed {seed}: {s:5.1f} s", flush=True)
    slowest = max(seconds, key=seconds.__getitem__)
    profiled = run_child(PROFILE_CHILD, ROOT, slowest, seed, 1)
    print(f"profile of {slowest} ({profiled['seconds']:.1f} s under cProfile), by cumulative time:")
    for row in profiled["profile"]:
        print(f"  {row['cumulative_s']:7.2f} s cum {row['own_s']:7.2f} s own {row['calls']:7d}x  {row['function']}")
    return {"seed": seed, "seconds": seconds, "slowest": slowest, "profile": profiled["profile"]}


def run_child(code: str, root: Path, *args: object) -> dict:
    """Run ``code`` in a fresh process importing archrank from ``root``; the JSON it prints last."""
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()}
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=tempfile.gettempdir(),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def part_gnn(old: str, seeds: int, sizes: list[int]) -> dict:
    rows: dict[str, dict] = {}
    with old_worktree(old) as worktree:
        for n in sizes:
            for name in ("gnn", "ensemble"):
                runs = []
                for seed in range(seeds):
                    before = run_child(GNN_CHILD, worktree, name, seed, n)
                    now = run_child(GNN_CHILD, ROOT, name, seed, n)
                    runs.append({"seed": seed, "before": before, "now": now})
                    print(
                        f"{name:9s} n={n:5d} seed {seed}: fit {before['fit_s']:6.1f} s -> {now['fit_s']:6.1f} s, "
                        f"tau {before['tau']:.4f} -> {now['tau']:.4f}, "
                        f"identical predictions: {before['digest'] == now['digest']}",
                        flush=True,
                    )
                diffs = [r["now"]["tau"] - r["before"]["tau"] for r in runs]
                rows[f"{name}@{n}"] = {
                    "predictor": name,
                    "n_train": n,
                    "runs": runs,
                    "fit_s_before": statistics.median(r["before"]["fit_s"] for r in runs),
                    "fit_s_now": statistics.median(r["now"]["fit_s"] for r in runs),
                    "tau_before": statistics.mean(r["before"]["tau"] for r in runs),
                    "tau_now": statistics.mean(r["now"]["tau"] for r in runs),
                    "tau_change_mean": statistics.mean(diffs),
                    "tau_change_sem": statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0,
                    "max_tau_change": max(abs(d) for d in diffs),
                    "identical": all(r["now"]["digest"] == r["before"]["digest"] for r in runs),
                }
                row = rows[f"{name}@{n}"]
                print(
                    f"{name} at {n}: median fit {row['fit_s_before']:.1f} -> {row['fit_s_now']:.1f} s, mean tau "
                    f"{row['tau_before']:.4f} -> {row['tau_now']:.4f} (paired change {row['tau_change_mean']:+.4f} "
                    f"+- {row['tau_change_sem']:.4f} sem)",
                    flush=True,
                )
    return {"old": old, "seeds": seeds, "sizes": sizes, "predictors": rows}


NWOT_CHILD = """
import json, sys, time
import torch
import archrank as ar
from archrank._seeding import torch_seeded
from archrank.proxies import activation
cells = int(sys.argv[1])
space = ar.spaces.get("nb201")
batch = ar.proxies.input_batch("cifar10", 64, 0, torch.device("cpu"))
ms, scores = [], []
for i, arch in enumerate(space.sample(cells + 1, seed=0)):
    with torch_seeded(0):
        model = space.build_model(arch)
    start = time.perf_counter()
    value = activation.nwot(model, batch)
    if i:  # the first cell warms up
        ms.append(1000 * (time.perf_counter() - start))
        scores.append(value)
print(json.dumps({"ms": ms, "scores": scores}))
"""


def part_nwot(old: str, cells: int, repeats: int = 2) -> dict:
    """archrank.proxies.nwot of this checkout and of the ``old`` worktree, whole processes alternating."""
    ms: dict[str, list[float]] = {"before": [], "now": []}
    scores: dict[str, list[float]] = {}
    with old_worktree(old) as worktree:
        for _ in range(repeats):
            for label, root in (("before", worktree), ("now", ROOT)):
                result = run_child(NWOT_CHILD, root, cells)
                ms[label] += result["ms"]
                scores[label] = result["scores"]
    before, now = statistics.median(ms["before"]), statistics.median(ms["now"])
    pairs = list(zip(scores["before"], scores["now"], strict=True))
    identical = all(a == b for a, b in pairs)
    diff = max((abs(a - b) for a, b in pairs if a != b), default=0.0)
    print(
        f"nwot on {cells} NB201 cells, batch 64: {before:.1f} ms -> {now:.1f} ms per cell "
        f"({100 * (1 - now / before):.1f} % faster), scores identical: {identical} (max |diff| {diff:g})"
    )
    return {
        "old": old,
        "cells": cells,
        "repeats": repeats,
        "ms_before": before,
        "ms_now": now,
        "faster_pct": 100 * (1 - now / before),
        "identical": identical,
        "max_abs_diff": diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the gnn and npenas parts")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="training sizes of the gnn part")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--old", default="01ad5c5", help="the commit to compare with (before the speed work)")
    args = parser.parse_args()
    out: dict = {"command": "python benchmarks/speed.py " + " ".join(sys.argv[1:])}
    if "imports" in args.part:
        out["imports"] = part_imports(args.old, args.repeats)
    if "gnn" in args.part:
        out["gnn"] = part_gnn(args.old, args.seeds, args.sizes)
    if "npenas" in args.part:
        out["npenas"] = part_npenas(args.old, args.seeds)
    if "nwot" in args.part:
        out["nwot"] = part_nwot(args.old, args.cells)
    if "profile" in args.part:
        out["profile"] = part_profile(["npenas", "bananas", "bo"])
    previous = Path(__file__).parent / "results" / "speed.json"
    if previous.is_file():  # keep the parts not run this time (each part records its own command line)
        earlier = json.loads(previous.read_text())
        kept = {k: {**v, "measured": earlier["date"]} for k, v in earlier.items() if k in PARTS}
        out = {**{k: v for k, v in kept.items() if k not in out}, **out}
    print("wrote", write_results("speed.json", out))


if __name__ == "__main__":
    main()
