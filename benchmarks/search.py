"""Search benchmark: every strategy on NB201 CIFAR-10 (100 queries) and NB101 (150 queries), many seeds.

NB201: search on the 200-epoch validation accuracy (the ``cifar10-valid`` run), report the
200-epoch test accuracy of the best cell found (space best 94.37). NB101: the bundled table
has 108-epoch validation accuracy only; search on it and report it (table best 94.91); the
space is restricted to the table's 20,001 cells. Runs are stored in benchmarks/out/search.sqlite,
so an interrupted benchmark resumes. Prints the summary, writes benchmarks/results/search.json
and the best-so-far plots, and replaces the search section of benchmarks/RESULTS.md.

    python benchmarks/search.py --seeds 20
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
from _machine import machine, replace_section

import archrank as ar
from archrank import search

HERE = Path(__file__).parent
CASES = {
    "nb201": {
        "dataset": "cifar10",
        "metric": "valid_accuracy",
        "epochs": 200,
        "report": "test_accuracy",
        "budget": 100,
    },
    "nb101": {"dataset": "cifar10", "metric": "valid_accuracy", "epochs": 108, "report": None, "budget": 150},
}
STRATEGIES = ["random", "evolution", "local", "npenas", "bananas", "bo"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    (HERE / "out").mkdir(exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    payload: dict = {"date": date.today().isoformat(), "machine": machine(), "cases": {}}
    md = [
        f"Command: `python benchmarks/search.py --seeds {args.seeds}`. Machine: {machine()}. "
        f"Date: {date.today().isoformat()}. Mean +- std over seeds of the best cell found (by the searched metric).",
        "",
    ]
    for name in args.spaces:
        case = CASES[name]
        bench = ar.datasets.load(name, case["dataset"])
        report = [case["report"]] if case["report"] else []
        oracle = search.BenchmarkOracle(bench, metric=case["metric"], epochs=case["epochs"], report=report)
        runs: dict[str, list] = {}
        seconds: dict[str, float] = {}
        for strategy in args.strategies:
            t0 = time.perf_counter()
            for seed in range(args.seeds):
                table = search.run(
                    strategy,
                    bench.space,
                    oracle,
                    budget=case["budget"],
                    seed=seed,
                    store=HERE / "out" / "search.sqlite",
                    executor="inline",
                    progress=False,
                )
                runs.setdefault(strategy, []).append(table)
            seconds[strategy] = (time.perf_counter() - t0) / args.seeds
            print(f"{name} {strategy}: {seconds[strategy]:.1f} s per run", flush=True)
        summary = search.final_summary(runs, report[0] if report else None)
        shown = report[0] if report else "best"
        print(summary.to_string(index=False))
        ax = search.plot_best_so_far(runs, ylabel=f"best {case['metric']}@{case['epochs']}")
        ax.set_title(f"{name}: {case['budget']} queries, {args.seeds} seeds")
        ax.figure.savefig(HERE / "results" / f"search_{name}.png", dpi=110, bbox_inches="tight")
        matplotlib.pyplot.close(ax.figure)
        curves = {s: search.best_so_far_matrix(t).mean(axis=0).tolist() for s, t in runs.items()}
        payload["cases"][name] = {
            **case,
            "summary": summary.to_dict(orient="records"),
            "mean_curves": curves,
            "seconds_per_run": seconds,
        }
        md += [
            f"### {name} ({case['budget']} queries; searched: {case['metric']}@{case['epochs']}; reported: {shown})",
            "",
            "| strategy | best found (searched metric) | reported metric of the best | s per run |",
            "|---|---:|---:|---:|",
        ]
        for r in summary.to_dict(orient="records"):
            rep = f"{r[f'{shown}_mean']:.2f} +- {r[f'{shown}_std']:.2f}" if report else "(same)"
            md.append(
                f"| {r['strategy']} | {r['best_mean']:.2f} +- {r['best_std']:.2f} | {rep} | "
                f"{seconds[r['strategy']]:.1f} |"
            )
        md += ["", f"![{name}](results/search_{name}.png)", ""]
        regret = {
            s: float(np.mean(bench.values(case["metric"], case["epochs"]).max() - search.best_so_far_matrix(t)[:, -1]))
            for s, t in runs.items()
        }
        payload["cases"][name]["final_regret"] = regret
    (HERE / "results" / "search.json").write_text(json.dumps(payload, indent=1))
    replace_section("search", "## Search\n\n" + "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
