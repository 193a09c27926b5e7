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

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import machine, replace_section, write_results

import archrank as ar

HERE = Path(__file__).parent
ZC = "synflow,jacob_cov,nwot,zico,flops,snip,grad_norm"  # the 7 proxies of the feature benchmark
# (space, dataset, metric, epochs, training cells, predictor, candidates, options): candidates
# "table" are the table's cells (a file), "all" every cell of the space (--all; scored against the
# truth only where the space and the table coincide, as on NB201; NB101's 423,624 cells are timed
# only), "previous" the cells the previous case ranked (its --out file). Options: more CLI
# arguments, with {tmp} the case folder; "--model FILE" replaces --train and -p (a saved predictor).
CASES = [
    ("nb201", "cifar10-valid", "valid_accuracy", 200, 100, "ensemble", "all", ()),
    ("nb201", "cifar10-valid", "valid_accuracy", 200, 100, "xgb", "all", ()),
    (
        "nb201",
        "cifar10-valid",
        "valid_accuracy",
        200,
        100,
        "ensemble",
        "all",
        ("--proxy-features", ZC, "--save", "{tmp}/zc.pt"),
    ),
    ("nb201", "cifar10-valid", "valid_accuracy", 200, 100, "ensemble", "previous", ("--model", "{tmp}/zc.pt")),
    ("nb101", "cifar10", "valid_accuracy", 108, 150, "xgb", "table", ()),
    ("nb101", "cifar10", "valid_accuracy", 108, 150, "xgb", "all", ()),
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
    space: str,
    dataset: str,
    metric: str,
    epochs: int,
    n_train: int,
    predictor: str,
    pool: str,
    options: tuple[str, ...],
    tmp: Path,
    previous: Path | None,
) -> dict:
    bench = ar.datasets.load(space, dataset)
    archs = bench.archs()
    chosen = [archs[i] for i in np.random.default_rng(0).permutation(len(archs))[:n_train]]
    results = tmp / f"{space}_results.csv"
    ranked_csv = tmp / f"{space}_{predictor}_{len(list(tmp.glob('*_ranked.csv')))}_ranked.csv"
    pd.DataFrame({"arch": [str(a) for a in chosen], "accuracy": bench.values(metric, epochs, chosen)}).to_csv(
        results, index=False
    )
    if pool == "table":
        candidates = tmp / f"{space}_table.csv"
        pd.DataFrame({"arch": [str(a) for a in archs]}).to_csv(candidates, index=False)
        source = ["--candidates", str(candidates)]
    elif pool == "previous":
        assert previous is not None, "a 'previous' case needs a case before it"
        source = ["--candidates", str(previous)]
    else:
        source = ["--all"]
    extra = [o.replace("{tmp}", str(tmp)) for o in options]
    fitted = ["--train", str(results), "-p", predictor] if "--model" not in extra else []
    args = ["rank", space, *fitted, *source, *extra, "--out", str(ranked_csv)]
    env = {**os.environ, "ARCHRANK_CACHE_DIR": str(tmp / "cache")}  # no scores from an earlier run's cache
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True, env=env)
    seconds = time.perf_counter() - start
    ranked = pd.read_csv(ranked_csv)
    scored = pool == "table" or len(archs) == len(ar.spaces.get(space).all())
    truth = bench.values(metric, epochs, list(ranked.arch)) if scored else None
    return {
        "space": space,
        "dataset": dataset,
        "target": f"{metric}@{epochs}",
        "train_cells": n_train,
        "predictor": _label(predictor, extra),
        "candidates": len(ranked),
        "candidates_from": {"table": "the table's cells", "all": "--all", "previous": "the previous row's"}[pool],
        "ranked_csv": str(ranked_csv),
        "kendall_tau": None if truth is None else ar.metrics.kendall_tau(truth, ranked.predicted.to_numpy()),
        "best_in_top10": None if truth is None else float(truth[:10].max()),
        "space_best": float(bench.values(metric, epochs).max()),
        "seconds": seconds,
        "peak_mib": int(done.stdout.strip().splitlines()[-1]) / 1024,
    }


def _label(predictor: str, options: list[str]) -> str:
    if "--model" in options:
        return "the previous row's, saved (`--model`)"
    if "--proxy-features" in options:
        return f"{predictor} + {len(options[options.index('--proxy-features') + 1].split(','))} proxies"
    return predictor


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> int:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            previous = Path(rows[-1]["ranked_csv"]) if rows else None
            rows.append(run_case(*case, Path(tmp), previous))
            if case[6] == "previous":  # a saved predictor must reproduce the predictions it made when fitted
                before = pd.read_csv(previous).set_index("arch").predicted
                after = pd.read_csv(rows[-1]["ranked_csv"]).set_index("arch").predicted
                rows[-1]["max_abs_change"] = float((after - before.loc[after.index]).abs().max())
    for r in rows:
        r.pop("ranked_csv")
    for r in rows:
        print(
            f"{r['space']:6s} {r['predictor']:9s} {r['candidates']:7d} cands  tau {_num(r['kendall_tau'], 3)}  "
            f"top-10 best {_num(r['best_in_top10'], 2)}/{r['space_best']:.2f}  {r['seconds']:.1f} s  "
            f"{r['peak_mib']:.0f} MiB" + (f"  max change {r['max_abs_change']:.2g}" if "max_abs_change" in r else "")
        )
    payload = {"rows": rows}
    write_results("rank.json", payload)
    md = [
        "## Ranking your own candidates (`archrank rank`)",
        "",
        f"Command: `python benchmarks/rank.py`. Machine: {machine()}. Date: {date.today().isoformat()}. "
        "Results file: the given number of cells drawn with `numpy.random.default_rng(0).permutation` and their "
        "real accuracy; `archrank rank SPACE --train FILE (--all | --candidates TABLE_CELLS.csv) -p PREDICTOR` "
        "ranks the other cells (cells that compute the same function as a trained one are left out). Kendall tau "
        "and the best true accuracy among the predicted top 10 need the truth of every candidate: '-' for NB101's "
        "`--all` (423,624 cells, 20,001 in the table). Time is the wall clock of the whole command in a fresh "
        "process (import included), with an empty proxy cache; memory is that process's peak. With "
        f"`--proxy-features {ZC}` the scores come from the shipped NB201 table (no proxy is computed) and the "
        "predictor is saved; the next row ranks the same candidates with that file (`--model`, no refit).",
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
    md += [
        f"\nThe saved predictor reproduced its predictions to {r['max_abs_change']:.2g} accuracy points (largest "
        "absolute change). It reads the candidates in another order (the previous row's ranking), which changes "
        "the float32 round-off of the GNN member; saving and loading are exact (tests/test_predictors.py)."
        for r in rows
        if "max_abs_change" in r
    ]
    replace_section("rank", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
