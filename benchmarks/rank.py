"""`archrank rank` as a user runs it: fit on a results file of real benchmark cells, rank the rest.

For each case a results CSV is written from the bundled table (``--train-cells`` cells drawn with
``numpy.random.default_rng(0).permutation``, their real accuracy), then ``archrank rank SPACE
--train FILE --all -p PREDICTOR --out ranked.csv`` runs in a fresh process. Reported: wall
seconds (import included), peak memory of that process, candidates ranked, Kendall tau of the
predictions against the candidates' true accuracies, and the best true accuracy in the predicted
top 10 against the best in the space. Prints a table, writes benchmarks/results/rank.json and the
``rank`` section of RESULTS.md. Usage:
    python benchmarks/rank.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import machine, replace_section

import archrank as ar

HERE = Path(__file__).parent
# (space, dataset, metric, epochs, training cells, predictor, candidates): candidates "table" are
# the table's cells (a file), "all" every cell of the space (--all; scored against the truth only
# where the space and the table coincide, as on NB201; NB101's 423,624 cells are timed only)
CASES = [
    ("nb201", "cifar10-valid", "valid_accuracy", 200, 100, "ensemble", "all"),
    ("nb201", "cifar10-valid", "valid_accuracy", 200, 100, "xgb", "all"),
    ("nb101", "cifar10", "valid_accuracy", 108, 150, "xgb", "table"),
    ("nb101", "cifar10", "valid_accuracy", 108, 150, "xgb", "all"),
]
# runs the CLI in this child and reports its peak resident memory (Linux: KiB) on the last line
CHILD = """
import resource, sys
from archrank.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_case(
    space: str, dataset: str, metric: str, epochs: int, n_train: int, predictor: str, pool: str, tmp: Path
) -> dict:
    bench = ar.datasets.load(space, dataset)
    archs = bench.archs()
    chosen = [archs[i] for i in np.random.default_rng(0).permutation(len(archs))[:n_train]]
    results, ranked_csv = tmp / f"{space}_results.csv", tmp / f"{space}_{predictor}_ranked.csv"
    pd.DataFrame({"arch": [str(a) for a in chosen], "accuracy": bench.values(metric, epochs, chosen)}).to_csv(
        results, index=False
    )
    if pool == "table":
        candidates = tmp / f"{space}_table.csv"
        pd.DataFrame({"arch": [str(a) for a in archs]}).to_csv(candidates, index=False)
        source = ["--candidates", str(candidates)]
    else:
        source = ["--all"]
    args = ["rank", space, "--train", str(results), *source, "-p", predictor, "--out", str(ranked_csv)]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    ranked = pd.read_csv(ranked_csv)
    scored = pool == "table" or len(archs) == len(ar.spaces.get(space).all())
    truth = bench.values(metric, epochs, list(ranked.arch)) if scored else None
    return {
        "space": space,
        "dataset": dataset,
        "target": f"{metric}@{epochs}",
        "train_cells": n_train,
        "predictor": predictor,
        "candidates": len(ranked),
        "candidates_from": "the table's cells" if pool == "table" else "--all",
        "kendall_tau": None if truth is None else ar.metrics.kendall_tau(truth, ranked.predicted.to_numpy()),
        "best_in_top10": None if truth is None else float(truth[:10].max()),
        "space_best": float(bench.values(metric, epochs).max()),
        "seconds": seconds,
        "peak_mib": int(done.stdout.strip().splitlines()[-1]) / 1024,
    }


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_case(*case, Path(tmp)) for case in CASES]
    for r in rows:
        print(
            f"{r['space']:6s} {r['predictor']:9s} {r['candidates']:7d} cands  tau {_num(r['kendall_tau'], 3)}  "
            f"top-10 best {_num(r['best_in_top10'], 2)}/{r['space_best']:.2f}  {r['seconds']:.1f} s  "
            f"{r['peak_mib']:.0f} MiB"
        )
    payload = {"date": date.today().isoformat(), "machine": machine(), "rows": rows}
    (HERE / "results" / "rank.json").write_text(json.dumps(payload, indent=1))
    md = [
        "## Ranking your own candidates (`archrank rank`)",
        "",
        f"Command: `python benchmarks/rank.py`. Machine: {machine()}. Date: {date.today().isoformat()}. "
        "Results file: the given number of cells drawn with `numpy.random.default_rng(0).permutation` and their "
        "real accuracy; `archrank rank SPACE --train FILE (--all | --candidates TABLE_CELLS.csv) -p PREDICTOR` "
        "ranks the other cells (cells that compute the same function as a trained one are left out). Kendall tau "
        "and the best true accuracy among the predicted top 10 need the truth of every candidate: '-' for NB101's "
        "`--all` (423,624 cells, 20,001 in the table). Time is the wall clock of the whole command in a fresh "
        "process (import included); memory is that process's peak.",
        "",
        "| space | target | trained on | predictor | candidates from | candidates | Kendall tau "
        "| best in top 10 / space best | s | peak MiB |",
        "|---|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    md += [
        f"| {r['space']} | {r['dataset']} {r['target']} | {r['train_cells']} | {r['predictor']} | "
        f"{r['candidates_from']} | {r['candidates']:,} | {_num(r['kendall_tau'], 3)} | "
        f"{_num(r['best_in_top10'], 2)} / {r['space_best']:.2f} | {r['seconds']:.1f} | {r['peak_mib']:.0f} |"
        for r in rows
    ]
    replace_section("rank", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
