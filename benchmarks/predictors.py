"""Predictor benchmark: Kendall tau of every predictor vs training-set size, and fit/predict times.

Quality (``--part quality``): the predictor study on NB201 CIFAR-10 (target: 200-epoch validation
accuracy of the ``cifar10-valid`` run) and NB101 (108-epoch validation accuracy), each with a fixed
held-out test set of 1,000 architectures, nested training sets and ``--seeds`` seeds. Runs are
checkpointed to benchmarks/out/ so an interrupted benchmark resumes.
Timing (``--part timing``): fit + predict seconds for 1,000 training and 1,000 test NB201 cells,
median of ``--repeats`` runs, one predictor at a time on an otherwise idle machine.

Prints the tables, writes benchmarks/results/predictors.json (and predictors_timing.json) and
replaces the matching section of benchmarks/RESULTS.md. Usage:
    python benchmarks/predictors.py --part quality --seeds 10
    python benchmarks/predictors.py --part timing --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np
from _machine import machine, replace_section, write_results

import archrank as ar
from archrank import studies

HERE = Path(__file__).parent
CASES = {
    "nb201": {"benchmark": "nb201", "dataset": "cifar10-valid", "metric": "valid_accuracy", "epochs": 200},
    "nb101": {"benchmark": "nb101", "dataset": "cifar10", "metric": "valid_accuracy", "epochs": 108},
}


def quality(args: argparse.Namespace) -> None:
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    results = {}
    md = [
        "## Predictors: Kendall tau against training-set size",
        "",
        f"Command: `python benchmarks/predictors.py --part quality --seeds {args.seeds} "
        f"--sizes {' '.join(map(str, args.sizes))} --plot`  ",
        f"Machine: {machine()}. Date: {date.today().isoformat()}.  ",
        f"Protocol: {args.test_size} held-out test architectures (fixed, test seed 0), nested training sets "
        f"drawn from the rest with seeds 0..{args.seeds - 1}; every predictor with its defaults "
        "(`ar.predictors.make(name)`, `random_state` = seed). Mean +/- std over seeds; "
        "fit = mean seconds per fit on this machine, informational only: the study resumes from its "
        "checkpoint and some runs shared the CPU with other jobs (clean timings: the next section).",
        "",
    ]
    for key in args.spaces:
        case = CASES[key]
        table = studies.predictor_study(
            case["benchmark"],
            dataset=case["dataset"],
            metric=case["metric"],
            epochs=case["epochs"],
            predictors=args.predictors,
            train_sizes=args.sizes,
            seeds=range(args.seeds),
            test_size=args.test_size,
            checkpoint=out_dir / f"predictors_{key}.csv",
        )
        summary = studies.summarize(table)
        results[key] = {"case": case, "summary": summary.to_dict(orient="records")}
        title = f"{case['benchmark']} {case['dataset']} {case['metric']}@{case['epochs']}"
        print(f"\n{title}")
        print(
            summary[
                [
                    "predictor",
                    "train_size",
                    "kendall_tau_mean",
                    "kendall_tau_std",
                    "spearman_mean",
                    "precision_at_10pct_mean",
                    "fit_seconds_mean",
                    "n_seeds",
                ]
            ].to_string(index=False)
        )
        md += [
            f"### {title}",
            "",
            "| predictor | " + " | ".join(f"n={s}" for s in args.sizes) + " |",
            "|---|" + "---:|" * len(args.sizes),
        ]
        for label, part in summary.groupby("predictor", sort=False):
            cells = {
                int(r.train_size): f"{r.kendall_tau_mean:.3f} +/- {r.kendall_tau_std:.3f}" for r in part.itertuples()
            }
            md.append(f"| {label} | " + " | ".join(cells.get(s, "") for s in args.sizes) + " |")
        md += [
            "",
            "Spearman / precision@top-10% / mean fit seconds at n=100 and n=1000:",
            "",
            "| predictor | n | spearman | precision@10% | fit s | predict s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in summary.itertuples():
            if r.train_size in (100, 1000):
                md.append(
                    f"| {r.predictor} | {r.train_size} | {r.spearman_mean:.3f} | {r.precision_at_10pct_mean:.3f} "
                    f"| {r.fit_seconds_mean:.2f} | {r.predict_seconds_mean:.2f} |"
                )
        md.append("")
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            ax = studies.plot_predictor_study(table)
            ax.figure.savefig(HERE / "results" / f"predictors_{key}.png", bbox_inches="tight", dpi=110)
    payload = {
        "seeds": args.seeds,
        "test_size": args.test_size,
        "results": results,
    }
    write_results("predictors.json", payload, default=float)
    replace_section("predictors-quality", "\n".join(md))


def timing(args: argparse.Namespace) -> None:
    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs = bench.archs()
    y = bench.values("valid_accuracy", 200)
    perm = np.random.default_rng(0).permutation(len(archs))
    test, train = perm[:1000], perm[1000:2000]
    tr, te = [archs[i] for i in train], [archs[i] for i in test]
    rows = []
    for name in args.predictors:
        fits, preds = [], []
        for rep in range(args.repeats):
            model = ar.predictors.make(name, random_state=rep)
            t0 = time.perf_counter()
            model.fit(tr, y[train])
            t1 = time.perf_counter()
            model.predict(te, return_std=True)
            t2 = time.perf_counter()
            fits.append(t1 - t0)
            preds.append(t2 - t1)
        row = {
            "predictor": name,
            "fit_s": statistics.median(fits),
            "predict_s": statistics.median(preds),
            "total_s": statistics.median(f + p for f, p in zip(fits, preds, strict=True)),
            "repeats": args.repeats,
        }
        rows.append(row)
        print(f"{name:14s} fit {row['fit_s']:7.2f} s  predict {row['predict_s']:6.2f} s  total {row['total_s']:7.2f} s")
    targets = {"xgb": 5.0, "gp": 30.0, "gnn": 120.0}
    md = [
        "## Predictors: fit and predict time, 1,000 training and 1,000 test NB201 cells",
        "",
        f"Command: `python benchmarks/predictors.py --part timing --repeats {args.repeats}` (median of the repeats; "
        "times include encoding the architectures)  ",
        f"Machine: {machine()}. Date: {date.today().isoformat()}.",
        "",
        "| predictor | fit (s) | predict (s) | fit + predict (s) | target |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        target = f"< {targets[r['predictor']]:.0f} s" if r["predictor"] in targets else ""
        md.append(f"| {r['predictor']} | {r['fit_s']:.2f} | {r['predict_s']:.2f} | {r['total_s']:.2f} | {target} |")
    payload = {"rows": rows}
    write_results("predictors_timing.json", payload)
    replace_section("predictors-timing", "\n".join(md))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["quality", "timing", "all"], default="all")
    parser.add_argument("--spaces", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--predictors", nargs="+", default=ar.predictors.names(wrappers=False))
    parser.add_argument("--sizes", type=int, nargs="+", default=list(studies.DEFAULT_TRAIN_SIZES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plot", action="store_true", help="also save mean +/- std plots to benchmarks/results/")
    args = parser.parse_args()
    if args.part in ("quality", "all"):
        quality(args)
    if args.part in ("timing", "all"):
        timing(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
