"""Host tools side by side on NB201 CIFAR-10: Optuna, Syne Tune and Ray Tune, each with its own
searchers and with archrank's, and ``ar.search.run`` itself.

Every method searches the 200-epoch validation accuracy for ``--trials`` trials and reports the
200-epoch test accuracy of the cell with the best validation accuracy it evaluated (space best:
validation 91.61, test 94.37). Seeds start at 100 (0-19 were the pilots of the search defaults).
Paired by seed, a one-sided Wilcoxon signed-rank test asks whether the archrank method's test
accuracy is higher than the host's own method's.

Part ``quality`` runs the methods (``--jobs`` processes, one torch thread each; Ray runs after
them on both cores, ``--ray-seeds`` seeds, since each Ray trial is a process); part ``overhead``
runs, alone on the machine, the cheap ``random`` strategy through each adapter and the host's own
random sampler, 100 trials, median of ``--repeats``: the difference per trial is what the
adapter adds. Results go to benchmarks/results/integrations.json and RESULTS.md.

    python benchmarks/integrations.py --part quality --seeds 20 --jobs 2
    python benchmarks/integrations.py --part overhead --repeats 5
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import logging
import multiprocessing
import os
import shlex
import sys
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from _machine import machine, replace_section, write_results

HERE = Path(__file__).parent
FIRST_SEED = 100
POOLED = ("optuna tpe", "optuna + archrank npenas", "optuna + archrank bo", "ar.search.run npenas")
SYNE = ("syne-tune random", "syne-tune botorch", "syne-tune + archrank npenas")
RAY = ("ray random", "ray + archrank npenas")
# (archrank method, host's own method) pairs tested
PAIRS = (
    ("optuna + archrank npenas", "optuna tpe"),
    ("optuna + archrank bo", "optuna tpe"),
    ("ar.search.run npenas", "optuna tpe"),
    ("syne-tune + archrank npenas", "syne-tune random"),
    ("syne-tune + archrank npenas", "syne-tune botorch"),
    ("ray + archrank npenas", "ray random"),
)


def _quiet() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)


def _oracle() -> Any:
    import archrank as ar

    return ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"), metric="valid_accuracy", epochs=200)


def _optuna(method: str, seed: int, trials: int) -> list[tuple[str, float, float]]:
    import optuna

    from archrank.integrations.optuna import ArchrankSampler, suggest_arch

    oracle = _oracle()
    out: list[tuple[str, float, float]] = []

    def objective(trial: Any) -> float:
        ev = oracle.evaluate(suggest_arch(trial, "nb201"))
        out.append((ev.arch, ev.score, ev.info["test_accuracy"]))
        return ev.score

    if method == "optuna tpe":
        sampler: Any = optuna.samplers.TPESampler(seed=seed)
    elif method == "optuna random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        strategy = method.rsplit(" ", 1)[1]
        sampler = ArchrankSampler("nb201", strategy, seed=seed)
    optuna.create_study(direction="maximize", sampler=sampler).optimize(objective, n_trials=trials)
    return out


def _run(method: str, seed: int, trials: int) -> list[tuple[str, float, float]]:
    import archrank as ar

    oracle = _oracle()
    strategy = method.rsplit(" ", 1)[1]
    frame = ar.search.run(strategy, "nb201", oracle, budget=trials, seed=seed, progress=False).frame()
    return list(zip(frame["arch"], frame["score"], frame["test_accuracy"], strict=True))


def _syne(method: str, seed: int, trials: int) -> list[tuple[str, float, float]]:
    from syne_tune.optimizer.baselines import BOTorch, RandomSearch
    from syne_tune.optimizer.schedulers.ask_tell_scheduler import AskTellScheduler
    from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

    from archrank.integrations import arch_from_params
    from archrank.integrations.syne_tune import ArchrankSearcher, config_space

    oracle = _oracle()
    space = config_space("nb201")
    if method == "syne-tune random":
        base: Any = RandomSearch(space, metrics=["acc"], do_minimize=False, random_seed=seed)
    elif method == "syne-tune botorch":
        base = BOTorch(space, metric="acc", do_minimize=False, random_seed=seed)
    else:
        strategy = method.rsplit(" ", 1)[1]
        searcher = ArchrankSearcher(space, "nb201", strategy, random_seed=seed)
        base = SingleObjectiveScheduler(space, searcher=searcher, metric="acc", do_minimize=False)
    scheduler = AskTellScheduler(base)
    out = []
    for _ in range(trials):
        trial = scheduler.ask()
        ev = oracle.evaluate(arch_from_params("nb201", trial.config))
        scheduler.tell(trial, {"acc": ev.score})
        out.append((ev.arch, ev.score, ev.info["test_accuracy"]))
    return out


def one(method: str, seed: int, trials: int) -> dict[str, Any]:
    """One run in a fresh worker: its evaluations and wall seconds."""
    _quiet()
    start = time.perf_counter()
    if method.startswith("optuna"):
        evaluations = _optuna(method, seed, trials)
    elif method.startswith("ar.search.run"):
        evaluations = _run(method, seed, trials)
    else:
        evaluations = _syne(method, seed, trials)
    return {"method": method, "seed": seed, "seconds": time.perf_counter() - start, "evaluations": evaluations}


def _ray_runs(methods: list[str], seeds: list[int], trials: int) -> list[dict[str, Any]]:
    import ray
    from ray import tune

    from archrank.integrations.ray_tune import ArchrankSearcher, param_space

    def trainable(config: dict[str, Any]) -> dict[str, float]:
        import archrank as ar
        from archrank.integrations import arch_from_params

        oracle = ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"), metric="valid_accuracy", epochs=200)
        arch = config["arch"] if "arch" in config else arch_from_params("nb201", config)
        ev = oracle.evaluate(arch)
        return {"acc": ev.score, "test": ev.info["test_accuracy"], "arch": ev.arch}

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    rows = []
    try:
        for method in methods:
            for seed in seeds:
                _quiet()
                start = time.perf_counter()
                strategy = method.rsplit(" ", 1)[1]
                if method == "ray random":
                    from ray.tune.search import BasicVariantGenerator

                    config, alg = param_space("nb201"), BasicVariantGenerator(random_state=seed)
                else:
                    config, alg = {}, ArchrankSearcher("nb201", strategy, metric="acc", mode="max", seed=seed)
                tuner = tune.Tuner(
                    trainable,
                    param_space=config,
                    tune_config=tune.TuneConfig(metric="acc", mode="max", search_alg=alg, num_samples=trials),
                    run_config=tune.RunConfig(storage_path=f"/tmp/archrank-ray-bench/{os.getpid()}", verbose=0),
                )
                results = tuner.fit()
                evaluations = [(r.metrics["arch"], r.metrics["acc"], r.metrics["test"]) for r in results]
                rows.append(
                    {"method": method, "seed": seed, "seconds": time.perf_counter() - start, "evaluations": evaluations}
                )
                print(f"{method} seed {seed}: {rows[-1]['seconds']:.1f} s", flush=True)
    finally:
        ray.shutdown()
    return rows


def chosen_test(evaluations: list[tuple[str, float, float]]) -> tuple[float, float]:
    """(best validation accuracy, test accuracy of that cell; the earliest on ties)."""
    valid = np.array([v for _, v, _ in evaluations])
    i = int(np.nanargmax(valid))
    return float(valid[i]), float(evaluations[i][2])


def summarise(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from scipy import stats

    by: dict[str, dict[int, tuple[float, float]]] = {}
    seconds: dict[str, list[float]] = {}
    for r in rows:
        by.setdefault(r["method"], {})[r["seed"]] = chosen_test(r["evaluations"])
        seconds.setdefault(r["method"], []).append(r["seconds"])
    table = []
    for method, runs in by.items():
        valid = np.array([v for v, _ in runs.values()])
        test = np.array([t for _, t in runs.values()])
        table.append(
            {
                "method": method,
                "runs": len(runs),
                "valid_mean": valid.mean(),
                "test_mean": test.mean(),
                "test_std": test.std(),
                "found_best": int((valid >= 91.606).sum()),
                "median_s": float(np.median(seconds[method])),
            }
        )
    tests = []
    for mine, theirs in PAIRS:
        if mine not in by or theirs not in by:
            continue
        seeds = sorted(set(by[mine]) & set(by[theirs]))
        a = np.array([by[mine][s][1] for s in seeds])
        b = np.array([by[theirs][s][1] for s in seeds])
        diff = a - b
        if np.all(diff == 0):
            p = 1.0
        else:
            p = float(stats.wilcoxon(a, b, alternative="greater", zero_method="zsplit").pvalue)
        tests.append(
            {
                "archrank": mine,
                "host": theirs,
                "pairs": len(seeds),
                "mean_diff": float(diff.mean()),
                "wins_ties_losses": f"{int((diff > 0).sum())} / {int((diff == 0).sum())} / {int((diff < 0).sum())}",
                "p": p,
            }
        )
    return table, tests


def part_quality(args: argparse.Namespace) -> dict[str, Any]:
    seeds = list(range(FIRST_SEED, FIRST_SEED + args.seeds))
    syne_bo_seeds = seeds[: args.syne_bo_seeds]
    jobs = [(m, s) for m in POOLED + SYNE for s in (syne_bo_seeds if m == "syne-tune botorch" else seeds)]
    rows: list[dict[str, Any]] = []
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the spawned workers
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(args.jobs, mp_context=context, initializer=_one_thread) as pool:
        futures = {pool.submit(one, m, s, args.trials): (m, s) for m, s in jobs}
        for future in cf.as_completed(futures):
            rows.append(future.result())
            r = rows[-1]
            print(f"{r['method']} seed {r['seed']}: {r['seconds']:.1f} s ({len(rows)}/{len(jobs)})", flush=True)
    if args.ray_seeds:
        rows += _ray_runs(list(RAY), seeds[: args.ray_seeds], args.trials)
    table, tests = summarise(rows)
    return {"rows": [compact(r) for r in rows], "table": table, "tests": tests}


def compact(row: dict[str, Any]) -> dict[str, Any]:
    """A run as stored: its chosen cell, not its every evaluation."""
    valid, test = chosen_test(row["evaluations"])
    best = max(row["evaluations"], key=lambda e: e[1])[0]
    return {
        "method": row["method"],
        "seed": row["seed"],
        "seconds": row["seconds"],
        "valid": valid,
        "test": test,
        "arch": best,
        "evaluations": len(row["evaluations"]),
    }


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _timed(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def part_overhead(args: argparse.Namespace) -> dict[str, Any]:
    """Milliseconds per trial: the host with the archrank ``random`` strategy minus the host's own random."""
    _quiet()
    n = args.trials
    out: dict[str, Any] = {}
    pairs = {
        "optuna": (lambda: _optuna("optuna + archrank random", 0, n), lambda: _optuna("optuna random", 0, n)),
        "syne-tune": (lambda: _syne("syne-tune + archrank random", 0, n), lambda: _syne("syne-tune random", 0, n)),
    }
    for host, (archrank_fn, own_fn) in pairs.items():
        archrank_fn(), own_fn()  # warm up imports
        a, b = _timed(archrank_fn, args.repeats), _timed(own_fn, args.repeats)
        out[host] = {"archrank_s": a, "own_s": b, "ms_per_trial": 1000 * (a - b) / n}
        print(host, out[host], flush=True)
    if args.ray_seeds:
        rows = _ray_runs(["ray + archrank random", "ray random"], [0], n)
        a, b = rows[0]["seconds"], rows[1]["seconds"]
        out["ray"] = {"archrank_s": a, "own_s": b, "ms_per_trial": 1000 * (a - b) / n}
    return out


def report(payload: dict[str, Any]) -> str:
    commands = "; ".join(f"`{c}`" for c in payload["commands"].values())
    lines = [
        "## Host tools: Optuna, Syne Tune and Ray Tune with and without archrank (issue 18)",
        "",
        f"Commands (date run): {commands}. Machine: {payload['machine']}.",
    ]
    quality = payload.get("quality")
    if quality:
        lines += [
            "",
            f"NB201 CIFAR-10, {payload['trials']} trials per run, search on valid_accuracy@200, report the "
            "test_accuracy@200 of the best-validation cell (space best 91.61 / 94.37); seeds from 100. "
            "`found best`: runs that evaluated the best-validation cell. Seconds: median wall time of a run "
            "(2 runs at a time, one torch thread each; Ray alone on both cores).",
            "",
            "| method | runs | valid mean | test mean +- std | found best | median s |",
            "|---|---|---|---|---|---|",
        ]
        for r in quality["table"]:
            lines.append(
                f"| {r['method']} | {r['runs']} | {r['valid_mean']:.3f} | {r['test_mean']:.3f} +- {r['test_std']:.3f} "
                f"| {r['found_best']} / {r['runs']} | {r['median_s']:.1f} |"
            )
        lines += [
            "",
            "Paired by seed, one-sided Wilcoxon signed-rank test (zsplit ties) that archrank's test accuracy is "
            "higher:",
            "",
            "| archrank | host's own | pairs | mean diff | wins / ties / losses | p |",
            "|---|---|---|---|---|---|",
        ]
        for t in quality["tests"]:
            lines.append(
                f"| {t['archrank']} | {t['host']} | {t['pairs']} | {t['mean_diff']:+.3f} | {t['wins_ties_losses']} "
                f"| {t['p']:.2g} |"
            )
    overhead = payload.get("overhead")
    if overhead:
        lines += [
            "",
            "Adapter overhead (alone on the machine): the host driving archrank's `random` strategy against the "
            f"host's own random sampler, {payload['trials']} trials, median of the repeats:",
            "",
            "| host | with archrank s | own random s | adapter ms per trial |",
            "|---|---|---|---|",
        ]
        for host, r in overhead.items():
            lines.append(f"| {host} | {r['archrank_s']:.2f} | {r['own_s']:.2f} | {r['ms_per_trial']:+.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", choices=["quality", "overhead"], default=["quality", "overhead"])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--syne-bo-seeds", type=int, default=20, help="seeds of Syne Tune's BoTorch (slow)")
    parser.add_argument("--ray-seeds", type=int, default=3, help="seeds of the Ray runs (each trial a process)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    command = "python benchmarks/integrations.py " + shlex.join(sys.argv[1:])
    previous = HERE / "results" / "integrations.json"
    kept = json.loads(previous.read_text()) if previous.exists() else {}
    payload: dict[str, Any] = {"date": date.today().isoformat(), "machine": machine(), "trials": args.trials}
    payload["commands"] = kept.get("commands", {})
    for part in ("quality", "overhead"):  # a part not run now keeps its earlier result
        if part in args.part:
            payload[part] = part_quality(args) if part == "quality" else part_overhead(args)
            payload["commands"][part] = f"{command} ({payload['date']})"
        elif part in kept:
            payload[part] = kept[part]
    path = write_results("integrations.json", payload)
    body = report(payload)
    replace_section("integrations", body)
    print(body)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
