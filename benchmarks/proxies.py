"""Zero-cost proxy benchmark: speed, correlation with NB201 accuracy, and gain as predictor features.

Timing (``--part timing``): milliseconds per architecture for each proxy, median over a fixed
set of NB201 cells (``--cells``, seed 0), batch ``--batch-size`` (64), on the CPU and on the GPU
when there is one; each proxy is timed on its own (network built beforehand, input batch
already on the device, CUDA synchronised), the same for ``--archs-per-launch`` networks stacked
into one pass (on the GPU; ``--cpu-stacked`` adds the CPU), and throughput of ``proxies.compute`` with the
precomputed table's proxies, measured on ``--throughput-cells`` cells (all 15,625 with
``--throughput-cells 15625``; fewer give a projection, labelled as such).
Correlation (``--part correlation``): ``studies.proxy_study`` of the shipped precomputed table
against NB201 CIFAR-10 200-epoch test accuracy, with the scatter plot. ``--part correlation-nb101``
scores a seeded sample of ``--nb101-cells`` NB101 table cells here (resumable cache in
benchmarks/out) and correlates them with the 108-epoch validation accuracy.
Features (``--part features``): the predictor study protocol of the predictor benchmark (NB201
``cifar10-valid`` 200-epoch validation accuracy, test set of 1,000, 100 training cells,
``--seeds`` seeds) with and without the shipped proxy scores (``--feature-set``) as features.
``--pilot`` makes the choices on a split that is not the reported one: the feature sets with the
ensemble, then ensemble compositions and single predictors with ``--feature-set``.

Prints tables, writes benchmarks/results/proxies_*.json and replaces the matching sections of
benchmarks/RESULTS.md. Usage:
    python benchmarks/proxies.py --part timing
    python benchmarks/proxies.py --part correlation
    python benchmarks/proxies.py --part correlation-nb101 --nb101-cells 300
    python benchmarks/proxies.py --part features --pilot --feature-set '7 proxies'
    python benchmarks/proxies.py --part features --seeds 10 --feature-set '7 proxies'
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _machine import machine, replace_section, write_results

import archrank as ar
from archrank import proxies, studies
from archrank._seeding import torch_seeded
from archrank.predictors import FEATURE_PROXIES  # the 7 proxies of the reported feature set
from archrank.proxies import batched
from archrank.proxies.runner import full_float32

HERE = Path(__file__).parent
TIMED = ("synflow", "grad_norm", "jacob_cov", "nwot", "snip", "zico", "grasp", "fisher", "epe_nas", "zen", "plain")
AGGREGATE = ("synflow", "jacob_cov", "nwot", "zico")  # the correlation study's fixed mean-rank combination
# feature sets compared by --pilot (on a split that is not the reported one); value: (proxies, mean_rank of)
FEATURE_VARIANTS = {
    "7 proxies": (FEATURE_PROXIES, ()),
    "9 proxies": (FEATURE_PROXIES + ("params", "l2_norm"), ()),
    "7 proxies + mean rank": (FEATURE_PROXIES, AGGREGATE),
    "9 proxies + mean rank": (FEATURE_PROXIES + ("params", "l2_norm"), AGGREGATE),
}
PILOT = {"test_seed": 1, "seeds": range(100, 120)}
# the predictor benchmark's protocol at 100 training cells
FEATURE_STUDY = dict(
    benchmark="nb201", dataset="cifar10-valid", metric="valid_accuracy", epochs=200, train_sizes=[100], test_size=1000
)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _milliseconds(fn: Any, model: torch.nn.Module, batch: proxies.ProxyBatch, warm_up: bool) -> float:
    """Wall milliseconds of one ``fn(model, batch)``, CUDA synchronised; ``warm_up``: one untimed call
    first (CUDA context, cuDNN algorithm choice)."""
    device = batch.inputs.device
    if warm_up:
        fn(model, batch)
    _sync(device)
    t0 = time.perf_counter()
    fn(model, batch)
    _sync(device)
    return 1000 * (time.perf_counter() - t0)


def time_proxies(device: torch.device, archs: list, batch_size: int, names: tuple[str, ...]) -> dict[str, float]:
    """Median milliseconds per architecture of each proxy on ``device``."""
    space = ar.spaces.get("nb201")
    batch = proxies.input_batch("cifar10", batch_size, 0, device)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i, arch in enumerate(archs):
        with torch_seeded(0):
            model = space.build_model(arch).to(device)
        for name in names:
            times[name].append(_milliseconds(proxies.get(name).fn, model, batch, warm_up=i == 0))
    return {n: statistics.median(v) for n, v in times.items()}


def time_stacked(device: torch.device, archs: list, batch_size: int, per_launch: int) -> dict[str, float]:
    """Median milliseconds per architecture of each stackable proxy, ``per_launch`` networks per pass."""
    space = ar.spaces.get("nb201")
    batch = proxies.input_batch("cifar10", batch_size, 0, device)
    times: dict[str, list[float]] = {n: [] for n in proxies.stacked_names()}
    for i, start in enumerate(range(0, len(archs) - per_launch + 1, per_launch)):
        models = []
        for arch in archs[start : start + per_launch]:
            with torch_seeded(0):
                models.append(space.build_model(arch))
        stacked = batched.stack("nb201", models).to(device)
        for name in times:
            times[name].append(_milliseconds(proxies.get(name).stacked, stacked, batch, warm_up=i == 0) / per_launch)
    return {n: statistics.median(v) for n, v in times.items() if v}


def _ms(value: float | None, width: int = 0) -> str:
    text = "-" if value is None else f"{value:.1f}"
    if not width:
        return text
    return f"{text:>{width + 2}s}" if value is None else f"{text:>{width}s}ms"


def timing(args: argparse.Namespace) -> None:
    space = ar.spaces.get("nb201")
    archs = space.sample(args.cells, seed=0)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    if args.gpu_only:
        devices = devices[1:]
    per_device = {}
    k = args.archs_per_launch
    for d in devices:
        with full_float32(d):  # as proxies.compute runs them: no TF32 convolutions on a GPU
            per_device[d.type] = time_proxies(d, archs, args.batch_size, TIMED)
            if d.type == "cuda" or args.cpu_stacked:
                stacked_archs = space.sample(max(args.cells, 3 * k), seed=0)
                per_device[f"{d.type}, {k} per pass"] = time_stacked(d, stacked_archs, args.batch_size, k)
    throughput = {}
    table_proxies = list(proxies.load_precomputed("nb201", "cifar10").attrs["settings"]["proxies"])
    cells = space.all()
    order = np.random.default_rng(1).permutation(len(cells))[: args.throughput_cells]
    for d in devices:
        t0 = time.perf_counter()
        proxies.compute(
            [cells[i] for i in order],
            table_proxies,
            space=space,
            batch_size=args.batch_size,
            device=d,
            cache=None,
            precomputed=False,
            archs_per_launch="auto",
        )
        seconds = time.perf_counter() - t0
        throughput[d.type] = {
            "cells": len(order),
            "seconds": seconds,
            "ms_per_cell": 1000 * seconds / len(order),
            "all_15625_seconds": seconds / len(order) * len(cells),
            "measured_all": len(order) == len(cells),
        }
    print(f"{'proxy':10s} " + " ".join(f"{d:>18s}" for d in per_device))
    for name in TIMED:
        print(f"{name:10s} " + " ".join(_ms(per_device[d].get(name), 16) for d in per_device))
    for d, t in throughput.items():
        minutes = t["all_15625_seconds"] / 60
        print(f"{d}: {t['ms_per_cell']:.0f} ms per cell, {len(table_proxies)} proxies; all cells {minutes:.1f} min")
    payload = {
        "batch_size": args.batch_size,
        "cells_timed": args.cells,
        "ms_per_arch": per_device,
        "throughput": throughput,
        "throughput_proxies": table_proxies,
    }
    name = "proxies_timing_gpu.json" if "cuda" in per_device else "proxies_timing_cpu.json"
    write_results(name, payload)
    md = [
        f"Command: `python benchmarks/proxies.py {shlex.join(sys.argv[1:])}`  ",
        f"Machine: {machine()}. Date: {date.today().isoformat()}. Batch {args.batch_size}; median over {args.cells} "
        "NB201 cells (seed 0) of one proxy call on a built network, input batch already on the device. "
        f"Columns '{k} per pass': one call on {k} stacked networks (`archrank.proxies.batched`), divided by {k}; "
        "'-': the proxy has no stacked form. Throughput: `proxies.compute` with `archs_per_launch='auto'` "
        "(16 per pass on a GPU, 1 on the CPU), network building included.",
        "",
        "| proxy | " + " | ".join(f"{d} ms/arch" for d in per_device) + " |",
        "|---|" + "---:|" * len(per_device),
    ]
    md += [f"| {n} | " + " | ".join(_ms(per_device[d].get(n)) for d in per_device) + " |" for n in TIMED]
    md.append("")
    for d, t in throughput.items():
        kind = "measured" if t["measured_all"] else f"projected from {t['cells']} cells"
        md.append(
            f"- `proxies.compute` on {d} with the table's {len(table_proxies)} proxies ({', '.join(table_proxies)}): "
            f"{t['ms_per_cell']:.0f} ms per cell, all 15,625 cells in {t['all_15625_seconds'] / 60:.1f} min ({kind})."
        )
    replace_section(f"proxies-timing-{'gpu' if 'cuda' in per_device else 'cpu'}", "\n".join(md))


def correlation(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    scores = proxies.load_precomputed("nb201", "cifar10")
    settings = scores.attrs["settings"]
    bench = ar.datasets.load("nb201", "cifar10")
    result = studies.proxy_study(scores, bench, metric="test_accuracy", search_combinations=3)
    fig = studies.plot_proxy_scatter(scores, bench, metric="test_accuracy")
    fig.savefig(HERE / "results" / "proxies_nb201_scatter.png", dpi=110, bbox_inches="tight")
    print(result.head(25).to_string(index=False))
    payload = {"settings": settings, "rows": result.to_dict(orient="records")}
    write_results("proxies_correlation.json", payload)
    md = [
        "Command: `python benchmarks/proxies.py --part correlation` (scores: `ar.proxies.load_precomputed('nb201', "
        f"'cifar10')`, {settings['cells']} of 15,625 cells, computed on {', '.join(settings['scores_by_device'])} with "
        f"`{settings['command']}`, batch {settings['batch_size']}, seed {settings['seed']}). Truth: NB201 CIFAR-10 "
        f"200-epoch test accuracy. Date: {date.today().isoformat()}.",
        "",
        "| proxies | kind | cells | Kendall tau | Spearman |",
        "|---|---|---:|---:|---:|",
    ]
    shown = [r for r in result.to_dict(orient="records") if r["kind"] != "search"]
    shown += [r for r in result.to_dict(orient="records") if r["kind"] == "search"][:5]
    md += [f"| {r['proxies']} | {r['kind']} | {r['n']} | {r['kendall_tau']:.3f} | {r['spearman']:.3f} |" for r in shown]
    md += ["", "![scatter](results/proxies_nb201_scatter.png)"]
    replace_section("proxies-correlation", "\n".join(md))


NB101_PROXIES = ("synflow", "jacob_cov", "grad_norm", "snip", "nwot", "zico", "params", "flops", "l2_norm")


def correlation_nb101(args: argparse.Namespace) -> None:
    """Proxies against NB101 108-epoch validation accuracy on a seeded sample of the table's cells,
    scored here (no NB101 table is shipped) into a resumable cache, with bootstrap intervals."""
    bench = ar.datasets.load("nb101", "cifar10")
    archs = bench.archs()
    sample = [archs[i] for i in np.random.default_rng(0).permutation(len(archs))[: args.nb101_cells]]
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    scores = proxies.compute(sample, NB101_PROXIES, space="nb101", cache=out / "proxies_nb101.sqlite")
    seconds = time.perf_counter() - start
    result = studies.proxy_study(scores, bench, metric="valid_accuracy", epochs=108, search_combinations=2)
    truth = bench.values("valid_accuracy", 108, sample)
    rng = np.random.default_rng(0)
    resamples = [rng.integers(0, len(sample), len(sample)) for _ in range(1000)]
    intervals = {}
    for name in NB101_PROXIES:
        values = scores[name].to_numpy(dtype=np.float64)
        ok = ~np.isnan(values)  # as in the study: -inf (a degenerate network) ranks last, NaN is left out
        ranked = np.where(np.isneginf(values), -np.finfo(np.float64).max, values)
        taus = [ar.metrics.kendall_tau(truth[i][ok[i]], ranked[i][ok[i]]) for i in resamples]
        intervals[name] = [float(np.percentile(taus, 2.5)), float(np.percentile(taus, 97.5))]
    print(result.head(20).to_string(index=False))
    cmd = f"python benchmarks/proxies.py --part correlation-nb101 --nb101-cells {args.nb101_cells}"
    payload = {
        "command": cmd,
        "cells": len(sample),
        "scoring_seconds_this_run": seconds,
        "kendall_tau_95ci": intervals,
        "rows": result.to_dict(orient="records"),
    }
    write_results("proxies_correlation_nb101.json", payload)
    md = [
        "### Correlation with NB101 CIFAR-10 validation accuracy (a sample, scored here)",
        "",
        f"Command: `{cmd}`. Machine: {machine()}. Date: {date.today().isoformat()}. Cells: {len(sample)} drawn "
        "from the bundled NB101 table's 20,001 with `numpy.random.default_rng(0).permutation`, scored with "
        "`ar.proxies.compute` (batch 64, seed 0, CIFAR-10 images) into a resumable cache; no NB101 table is shipped. "
        "Truth: 108-epoch validation accuracy (one of the benchmark's three training runs, as bundled). "
        "95 % intervals: 1,000 bootstrap resamples of the cells. Pairs: the best mean-rank pairs, picked on these "
        "same cells (optimistic).",
        "",
        "| proxies | kind | cells | Kendall tau | 95 % interval | Spearman |",
        "|---|---|---:|---:|---|---:|",
    ]
    records = result.to_dict(orient="records")
    shown = [r for r in records if r["kind"] != "search"] + [r for r in records if r["kind"] == "search"][:3]
    for r in shown:
        ci = intervals.get(r["proxies"])
        band = f"{ci[0]:.2f} to {ci[1]:.2f}" if ci else "-"
        md.append(
            f"| {r['proxies']} | {r['kind']} | {r['n']} | {r['kendall_tau']:.3f} | {band} | {r['spearman']:.3f} |"
        )
    replace_section("proxies-correlation-nb101", "\n".join(md))


def _tau_rows(table: Any, **labels: str) -> list[dict[str, Any]]:
    """Mean and std over seeds of each predictor's Kendall tau (and mean Spearman), with ``labels``
    (``studies.summarize`` of one training size)."""
    return [
        {
            **labels,
            "predictor": r.predictor,
            "kendall_tau_mean": float(r.kendall_tau_mean),
            "kendall_tau_std": float(r.kendall_tau_std),
            "spearman_mean": float(r.spearman_mean),
            "seeds": int(r.n_seeds),
        }
        for r in studies.summarize(table).itertuples(index=False)
    ]


def _slug(text: str) -> str:
    return text.replace(" + ", "_and_").replace(" ", "_")


DEFAULT_ENSEMBLE = "ensemble (xgb, gp, gnn)"


def _predictor_variants() -> dict[str, Any]:
    """Predictors the pilot compares with the default ensemble: other compositions and its members alone."""
    from archrank.predictors import make

    ranking_gnn, gnn5 = make("gnn", loss="ranking"), make("gnn", n_members=5)
    tuned_xgb, tuned_gp = make("tuned", estimator="xgb"), make("tuned", estimator="gp")  # their declared grids, 5 folds
    return {
        "ensemble (xgb, gp, gnn, rf)": make("ensemble", members=("xgb", "gp", "gnn", "rf")),
        "ensemble (xgb, gp, gnn, mlp_ensemble)": make("ensemble", members=("xgb", "gp", "gnn", "mlp_ensemble")),
        "ensemble (gp, gnn)": make("ensemble", members=("gp", "gnn")),
        "ensemble (xgb, gp, gnn with 5 networks)": make("ensemble", members=("xgb", "gp", gnn5)),
        "ensemble (xgb, gp, gnn with ranking loss)": make("ensemble", members=("xgb", "gp", ranking_gnn)),
        "ensemble (xgb and gp tuned by 5-fold CV, gnn)": make("ensemble", members=(tuned_xgb, tuned_gp, "gnn")),
        "xgb": make("xgb"),
        "gp": make("gp"),
        "gnn": make("gnn"),
        "gnn with ranking loss": ranking_gnn,
    }


def _feature_columns(scores: Any, feature_set: str) -> Any:
    """The predictor features of ``feature_set`` (a FEATURE_VARIANTS key) from the table ``scores``."""
    names, combined = FEATURE_VARIANTS[feature_set]
    return proxies.as_features(scores, list(names), mean_rank=list(combined) or None)


def _gain_rows(tables: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    """``_tau_rows`` of each run table (label -> one predictor's runs), labelled, plus its Kendall tau
    gain over ``reference`` paired by seed (the same training sets): mean and std of the differences."""
    base = tables[reference].set_index("seed").kendall_tau
    rows = []
    for label, table in tables.items():
        gain = table.set_index("seed").kendall_tau - base
        (row,) = _tau_rows(table.assign(predictor=label))
        rows.append({**row, "gain_mean": float(gain.mean()), "gain_std": float(gain.std())})
    return rows


def _gain_table(rows: list[dict[str, Any]], what: str, reference: str) -> list[str]:
    """Markdown lines of ``_gain_rows``."""
    header = [f"| {what} | Kendall tau (mean +- std) | gain over {reference} |", "|---|---:|---:|"]
    return header + [
        f"| {r['predictor']} | {r['kendall_tau_mean']:.3f} +- {r['kendall_tau_std']:.3f} | "
        f"{r['gain_mean']:+.3f} +- {r['gain_std']:.3f} |"
        for r in rows
    ]


def features_pilot(args: argparse.Namespace) -> None:
    """On a pilot split (test seed 1, training seeds 100-119), so that the reported run (test seed
    0, seeds 0-9) is not used to choose: the feature sets of FEATURE_VARIANTS with the default
    ensemble, then the predictor variants of ``_predictor_variants`` with ``--feature-set``."""
    scores = proxies.load_precomputed("nb201", "cifar10")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    pilot = dict(**FEATURE_STUDY, seeds=PILOT["seeds"], test_seed=PILOT["test_seed"])
    per_set = {
        variant: studies.predictor_study(
            **pilot,
            predictors=["ensemble"],
            features=_feature_columns(scores, variant),
            checkpoint=out / f"proxy_features_pilot_{_slug(variant)}_{len(scores)}.csv",
        )
        for variant in FEATURE_VARIANTS
    }
    first = next(iter(per_set))
    set_rows = _gain_rows(per_set, first)
    variants = studies.predictor_study(
        **pilot,
        predictors=_predictor_variants(),
        features=_feature_columns(scores, args.feature_set),
        checkpoint=out / f"proxy_features_pilot_predictors_{_slug(args.feature_set)}_{len(scores)}.csv",
    )
    # the default ensemble's runs with this feature set are already in the feature-set table
    by_predictor = {
        DEFAULT_ENSEMBLE: per_set[args.feature_set],
        **dict(list(variants.groupby("predictor", sort=False))),
    }
    predictor_rows = _gain_rows(by_predictor, DEFAULT_ENSEMBLE)
    for r in set_rows + predictor_rows:
        print(f"{r['predictor']:42s} tau {r['kendall_tau_mean']:.3f} +- {r['kendall_tau_std']:.3f}")
    payload = {
        "pilot": str(PILOT),
        "feature_set_rows": set_rows,
        "predictor_feature_set": args.feature_set,
        "predictor_rows": predictor_rows,
    }
    write_results("proxies_features_pilot.json", payload)
    seeds = f"{min(PILOT['seeds'])}-{max(PILOT['seeds'])}"
    md = [
        f"Command: `python benchmarks/proxies.py {shlex.join(sys.argv[1:])}`. Pilot split: test seed "
        f"{PILOT['test_seed']}, training seeds {seeds}, 100 training cells; otherwise the protocol above. "
        f"The mean-rank column is the aggregate of {', '.join(AGGREGATE)}. Gains are paired by seed: mean +- "
        f"std of the per-seed difference. Machine: {machine()}. Date: {date.today().isoformat()}.",
        "",
        "Feature sets, with the default `ensemble` predictor (xgb, gp, gnn):",
        "",
        *_gain_table(set_rows, "feature set", first),
        "",
        f"Predictors, with the features '{args.feature_set}':",
        "",
        *_gain_table(predictor_rows, "predictor", DEFAULT_ENSEMBLE),
    ]
    replace_section("proxies-features-pilot", "\n".join(md))


def features(args: argparse.Namespace) -> None:
    if args.pilot:
        features_pilot(args)
        return
    scores = proxies.load_precomputed("nb201", "cifar10")
    names, combined = FEATURE_VARIANTS[args.feature_set]
    feats = _feature_columns(scores, args.feature_set)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    common = dict(**FEATURE_STUDY, predictors=args.predictors, seeds=range(args.seeds))
    plain = studies.predictor_study(**common, checkpoint=out / "proxy_features_without.csv")
    # the checkpoint does not know the features: one file per feature set and table size
    with_proxies = studies.predictor_study(
        **common, features=feats, checkpoint=out / f"proxy_features_with_{_slug(args.feature_set)}_{len(scores)}.csv"
    )
    rows = _tau_rows(plain, inputs="encoding only") + _tau_rows(with_proxies, inputs="encoding + proxies")
    for r in rows:
        print(f"{r['predictor']:14s} {r['inputs']:20s} tau {r['kendall_tau_mean']:.3f} +- {r['kendall_tau_std']:.3f}")
    payload = {
        "feature_set": args.feature_set,
        "proxies": list(names),
        "mean_rank_of": list(combined),
        "rows": rows,
    }
    write_results("proxies_features.json", payload)
    md = [
        f"Command: `python benchmarks/proxies.py {shlex.join(sys.argv[1:])}`. Protocol of the predictor "
        "benchmark: NB201 `cifar10-valid` 200-epoch validation accuracy, fixed test set of 1,000 cells, 100 training "
        f"cells, {args.seeds} seeds. Proxy features ({args.feature_set}): {', '.join(names)} from the shipped "
        "precomputed table" + (f", plus the mean rank of {', '.join(combined)}" if combined else "") + ", "
        f"as rank quantiles (`ar.proxies.as_features`). Machine: {machine()}. Date: {date.today().isoformat()}.",
        "",
        "| predictor | inputs | Kendall tau (mean +- std) | Spearman |",
        "|---|---|---:|---:|",
    ]
    md += [
        f"| {r['predictor']} | {r['inputs']} | {r['kendall_tau_mean']:.3f} +- {r['kendall_tau_std']:.3f} | "
        f"{r['spearman_mean']:.3f} |"
        for r in rows
    ]
    replace_section("proxies-features", "\n".join(md))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["timing", "correlation", "correlation-nb101", "features"], required=True)
    parser.add_argument("--nb101-cells", type=int, default=300, help="correlation-nb101: cells scored (resumable)")
    parser.add_argument("--threads", type=int, default=2, help="correlation-nb101: torch threads")
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--throughput-cells", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--gpu-only", action="store_true", help="time the GPU only (an error without CUDA)")
    parser.add_argument("--archs-per-launch", type=int, default=16, help="networks per stacked pass (GPU timing)")
    parser.add_argument("--cpu-stacked", action="store_true", help="also time stacked passes on the CPU")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--pilot", action="store_true", help="features: compare feature sets and predictors on the pilot split"
    )
    parser.add_argument("--feature-set", choices=list(FEATURE_VARIANTS), default="7 proxies")
    parser.add_argument("--predictors", nargs="+", default=["gnn", "xgb", "gp", "rf", "ensemble"])
    args = parser.parse_args()
    if args.gpu_only and not torch.cuda.is_available():
        # without this check the run would time the CPU instead and overwrite its recorded figures
        parser.error("--gpu-only needs a CUDA GPU, and none is available here")
    parts = {"timing": timing, "correlation": correlation, "correlation-nb101": correlation_nb101, "features": features}
    parts[args.part](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
