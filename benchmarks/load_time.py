"""Time archrank's import and the first ``datasets.load`` of each benchmark, each in a fresh process.

Prints a table and writes benchmarks/results/load_time.json. Usage:
    python benchmarks/load_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

from _machine import cpu_name

CHILD = """
import time, json
t0 = time.perf_counter()
import archrank
t1 = time.perf_counter()
bench = archrank.datasets.load({name!r}, dataset={dataset!r})
t2 = time.perf_counter()
arch = bench.top(1, {metric!r})["arch"].iloc[0]
t3 = time.perf_counter()
bench.query(arch, {metric!r})
t4 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_query_s": t4 - t3}}))
"""
CASES = [
    ("nb201", "cifar10", "test_accuracy"),
    ("nb201", "ImageNet16-120", "test_accuracy"),
    ("nb101", "cifar10", "valid_accuracy"),
    ("darts", "cifar10", "valid_accuracy"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "load_time.json")
    args = parser.parse_args()
    rows = []
    for name, dataset, metric in CASES:
        runs = []
        for _ in range(args.repeats):
            code = CHILD.format(name=name, dataset=dataset, metric=metric)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        row = {"benchmark": name, "dataset": dataset}
        for key in ("import_s", "load_s", "first_query_s"):
            row[key] = statistics.median(r[key] for r in runs)
        rows.append(row)
    print(f"{'benchmark':10s} {'dataset':16s} {'import (s)':>11s} {'load (s)':>9s} {'1st query (s)':>14s}")
    for r in rows:
        times = f"{r['import_s']:11.3f} {r['load_s']:9.3f} {r['first_query_s']:14.3f}"
        print(f"{r['benchmark']:10s} {r['dataset']:16s} {times}")
    result = {
        "date": date.today().isoformat(),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "repeats": args.repeats,
        "statistic": "median over fresh processes",
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
