"""Search benchmark: every strategy on NB201 CIFAR-10 (100 queries) and NB101 (150 queries), many seeds.

NB201: search on the 200-epoch validation accuracy (the ``cifar10-valid`` run), report the
200-epoch test accuracy of the best cell found (space best 94.37). NB101: the bundled table
has 108-epoch validation accuracy only; search on it and report it (table best 94.91); the
space is restricted to the table's 20,001 cells. Runs are stored in benchmarks/out/search.sqlite:
finished runs are read back from it (seconds: the store's wall time of the run), unfinished
ones resume (the guided strategies replay their predictor fits, not the oracle). Prints
the summary, writes benchmarks/results/search.json and the best-so-far plots, and replaces the
search section of benchmarks/RESULTS.md.

Seeds start at ``--first-seed`` (default 100): seeds 0-19 were the pilots that chose the defaults
(UCB and the GIN-embedding GP for ``bo``), so the reported runs do not reuse them.

    python benchmarks/search.py --seeds 20 --jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import shlex
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from _machine import machine, replace_section, write_results

from archrank.predictors import FEATURE_PROXIES

HERE = Path(__file__).parent
STORE = HERE / "out" / "search.sqlite"
CASES: dict[str, dict[str, Any]] = {
    "nb201": {
        "dataset": "cifar10",
        "metric": "valid_accuracy",
        "epochs": 200,
        "report": "test_accuracy",
        "budget": 100,
    },
    "nb101": {"dataset": "cifar10", "metric": "valid_accuracy", "epochs": 108, "report": None, "budget": 150},
}
# label -> (strategy, hyperparameters, spaces it runs on). Settings that were once defaults and
# changed are spelled out, so that stored runs stay valid (the store keys runs by their arguments).
EMBEDDED = {"predictor_params": {"encoding": "gnn_embedding"}}
HAMMING = {"predictor_params": {"encoding": "categorical"}}
VARIANTS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "random": ("random", {}, ("nb201", "nb101")),
    "evolution": ("evolution", {}, ("nb201", "nb101")),
    "local": ("local", {}, ("nb201", "nb101")),
    "npenas": ("npenas", {}, ("nb201", "nb101")),
    "bananas": ("bananas", {}, ("nb201", "nb101")),
    "bo": ("bo", {**EMBEDDED, "acquisition": "ucb"}, ("nb201", "nb101")),
    "bo (ei)": ("bo", {**EMBEDDED, "acquisition": "ei"}, ("nb201",)),
    "bo (qlognei)": ("bo", {**EMBEDDED, "acquisition": "qlognei"}, ("nb201",)),
    "bo (hamming gp)": ("bo", {**HAMMING, "acquisition": "ucb"}, ("nb201", "nb101")),
    "npenas + zc warm start": ("npenas", {"warm_start": 100}, ("nb201",)),
    # the predictor reads the encoding plus the 7 proxies of the feature benchmark (shipped table: no scoring)
    "npenas + zc features": ("npenas", {"proxy_features": True, "proxies": list(FEATURE_PROXIES)}, ("nb201",)),
    "bo + zc features": (
        "bo",
        {**EMBEDDED, "acquisition": "ucb", "proxy_features": True, "proxies": list(FEATURE_PROXIES)},
        ("nb201",),
    ),
}
CHECKPOINTS = (25, 50)
# variant -> the variant it adds one thing to; compared seed by seed (same seeds, same start)
PAIRED = {"npenas + zc warm start": "npenas", "npenas + zc features": "npenas", "bo + zc features": "bo"}


def paired_rows(curves: dict[str, np.ndarray], budget: int) -> list[dict[str, Any]]:
    """Per PAIRED variant and checkpoint: mean per-seed gain of the best so far over its base,
    wins/ties/losses, and the two-sided Wilcoxon signed-rank p (NaN when every seed ties)."""
    from scipy import stats

    rows = []
    for variant, base in PAIRED.items():
        if variant not in curves or base not in curves:
            continue
        for q in (*CHECKPOINTS, budget):
            diff = curves[variant][:, q - 1] - curves[base][:, q - 1]
            p = float(stats.wilcoxon(diff).pvalue) if np.any(diff != 0) else float("nan")
            wins, ties = int((diff > 0).sum()), int((diff == 0).sum())
            rows.append(
                {"variant": variant, "base": base, "queries": q, "gain": float(diff.mean())}
                | {"wins": wins, "ties": ties, "losses": len(diff) - wins - ties, "wilcoxon_p": p}
            )
    return rows


def oracle_for(space: str) -> Any:
    import archrank as ar

    case = CASES[space]
    bench = ar.datasets.load(space, case["dataset"])
    report = [case["report"]] if case["report"] else []
    return ar.search.BenchmarkOracle(bench, metric=case["metric"], epochs=case["epochs"], report=report)


def stored_runs(tasks: list[tuple[str, str, int]]) -> list[tuple[str, str, int, Any, float]]:
    """The finished runs among ``tasks`` (space, label, seed), read back from the store without
    replaying them; their seconds are the store's wall time from a run's creation to its last evaluation."""
    from archrank.search import SearchHistory, run_config
    from archrank.search.history import run_key

    oracles = {space: oracle_for(space) for space in {t[0] for t in tasks}}
    out = []
    with SearchHistory(STORE) as history:
        for space, label, seed in tasks:
            strategy, hp, _ = VARIANTS[label]
            key = run_key(run_config(strategy, oracles[space].space, oracles[space], seed, 1, hp))
            table = history.frame(key)
            if len(table) >= CASES[space]["budget"]:
                out.append((space, label, seed, table.iloc[: CASES[space]["budget"]], history.elapsed(key)))
    return out


def one_run(space: str, label: str, seed: int) -> tuple[str, str, int, Any, float]:
    """One seeded run (in a worker process with one torch thread); its table and wall seconds."""
    import torch

    from archrank import search

    torch.set_num_threads(1)
    strategy, hp, _ = VARIANTS[label]
    oracle = oracle_for(space)
    t0 = time.perf_counter()
    table = search.run(
        strategy,
        oracle.space,
        oracle,
        budget=CASES[space]["budget"],
        seed=seed,
        store=STORE,
        executor="inline",
        progress=False,
        **hp,
    ).frame()
    return space, label, seed, table, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (worker processes, 1 thread each)")
    parser.add_argument(
        "--section", default="search", help="RESULTS.md section and prefix of results/<section>.json and plots"
    )
    args = parser.parse_args()
    STORE.parent.mkdir(exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import archrank as ar
    from archrank import search

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    tasks = [(s, v, seed) for s in args.spaces for v in args.variants if s in VARIANTS[v][2] for seed in seeds]
    runs: dict[str, dict[str, list]] = {s: {} for s in args.spaces}
    seconds: dict[str, dict[str, list[float]]] = {s: {} for s in args.spaces}
    results = stored_runs(tasks)
    todo = [t for t in tasks if t not in {r[:3] for r in results}]
    print(f"{len(results)} of {len(tasks)} runs are finished in {STORE}; running {len(todo)}", flush=True)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
        futures = [pool.submit(one_run, *t) for t in todo]
        for done, future in enumerate(cf.as_completed(futures), 1):
            results.append(future.result())
            space, label, seed, table, wall = results[-1]
            best = float(table["score"].max())
            print(f"[{done}/{len(todo)}] {space} {label} seed {seed}: best {best:.3f} ({wall:.1f} s)", flush=True)
    for space, label, seed, table, wall in results:
        runs[space].setdefault(label, []).append((seed, table))
        seconds[space].setdefault(label, []).append(wall)

    argv = ["python", "benchmarks/search.py", "--seeds", str(args.seeds), "--first-seed", str(args.first_seed)]
    argv += ["--jobs", str(args.jobs)]
    if args.section != "search":
        argv += ["--spaces", *args.spaces, "--variants", *args.variants, "--section", args.section]
    cmd = shlex.join(argv)
    payload: dict = {"seeds": seeds, "cases": {}}
    md = [
        f"Command: `{cmd}`. Machine: {machine()}. Date: {date.today().isoformat()}. Seeds "
        f"{seeds[0]}-{seeds[-1]}; mean +- std over seeds of the best cell found by the searched metric, "
        f"the best so far after {' and '.join(map(str, CHECKPOINTS))} queries, the final regret "
        f"(space best minus best found), and the median wall seconds per run from its start to its last "
        f"evaluation ({args.jobs} run(s) at a time, one torch thread each; the median because a run that was "
        f"interrupted and resumed also counts the time it was stopped).",
        "",
    ]
    for name in args.spaces:
        case = CASES[name]
        bench = ar.datasets.load(name, case["dataset"])
        ordered = {v: [t for _, t in sorted(runs[name][v], key=lambda r: r[0])] for v in VARIANTS if v in runs[name]}
        summary = search.final_summary(ordered, case["report"])
        print(summary.to_string(index=False))
        ax = search.plot_best_so_far(ordered, ylabel=f"best {case['metric']}@{case['epochs']}")
        ax.set_title(f"{name}: {case['budget']} queries, {args.seeds} seeds")
        top = float(bench.values(case["metric"], case["epochs"]).max())
        ax.set_ylim(float(np.percentile(bench.values(case["metric"], case["epochs"]), 99)) - 1, top + 0.1)
        ax.figure.savefig(HERE / "results" / f"{args.section}_{name}.png", dpi=110, bbox_inches="tight")
        matplotlib.pyplot.close(ax.figure)
        curves = {v: search.best_so_far_matrix(t, case["budget"]) for v, t in ordered.items()}
        payload["cases"][name] = {
            **case,
            "space_best": top,
            "summary": summary.to_dict(orient="records"),
            "mean_curves": {v: c.mean(axis=0).tolist() for v, c in curves.items()},
            "std_curves": {v: c.std(axis=0).tolist() for v, c in curves.items()},
            "mean_regret_final": {v: float(np.mean(top - c[:, -1])) for v, c in curves.items()},
            "std_regret_final": {v: float(np.std(top - c[:, -1])) for v, c in curves.items()},
            "median_seconds_per_run": {v: float(np.median(s)) for v, s in seconds[name].items()},
            "paired": paired_rows(curves, case["budget"]),
        }
        shown = case["report"]
        head = "| strategy | best found (searched) |"
        head += f" {shown} of that cell |" if shown else ""
        head += "".join(f" best after {q} |" for q in CHECKPOINTS) + " final regret | s per run |"
        md += [
            f"### {name}: {case['budget']} queries, search on {case['metric']}@{case['epochs']} "
            f"(space best {top:.2f})" + (f", report {shown}" if shown else ""),
            "",
            head,
            "|---|" + "---:|" * (head.count("|") - 2),
        ]
        for r in summary.to_dict(orient="records"):
            v, c = r["strategy"], curves[r["strategy"]]
            row = f"| {v} | {r['best_mean']:.2f} +- {r['best_std']:.2f} |"
            row += f" {r[f'{shown}_mean']:.2f} +- {r[f'{shown}_std']:.2f} |" if shown else ""
            row += "".join(f" {c[:, q - 1].mean():.2f} +- {c[:, q - 1].std():.2f} |" for q in CHECKPOINTS)
            regret = top - c[:, -1]
            row += f" {regret.mean():.3f} +- {regret.std():.3f} | {np.median(seconds[name][v]):.1f} |"
            md.append(row)
        pairs = payload["cases"][name]["paired"]
        if pairs:
            md += [
                "",
                "Paired by seed, variant minus its base (best so far after that many queries):",
                "",
                "| variant | base | queries | mean gain | wins / ties / losses | Wilcoxon p |",
                "|---|---|---:|---:|---|---:|",
            ]
            md += [
                f"| {r['variant']} | {r['base']} | {r['queries']} | {r['gain']:+.3f} | "
                f"{r['wins']} / {r['ties']} / {r['losses']} | {r['wilcoxon_p']:.3f} |"
                for r in pairs
            ]
        md += ["", f"![{name}](results/{args.section}_{name}.png)", ""]
    write_results(f"{args.section}.json", payload)
    title = "## Search" if args.section == "search" else f"### Search check: {args.section}"
    replace_section(args.section, title + "\n\n" + "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
