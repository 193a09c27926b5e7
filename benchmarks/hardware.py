"""Hardware-aware ranking (issue 19): few-shot latency predictors on HELP's NB201 device split.

Part ``few-shot``: ``ar.studies.latency_study`` on the shipped NB201 latency table. References: HELP's
nine meta-train devices; targets: the meta-validation devices (``--split valid``, where the method and
its settings were chosen) or the six meta-test devices (``--split test``, reported). For each of
``--seeds`` seeds and N in ``--sizes`` target measurements, Spearman and Kendall tau of each predictor
against the true latency of every other cell. Predictors: ``latency_transfer`` (few-shot transfer),
``latency_lut`` (lookup table on the cell's op counts) and ``linear_on_references`` (least squares of
the log latency on the references' log latencies). Prints a table per size, writes
benchmarks/results/hardware_<split>.json and, with ``--plot``, a plot of Spearman against N.

    python benchmarks/hardware.py --part few-shot --split test [--seeds 10] [--sizes 5 10 20 50 100] [--plot]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _machine import replace_section, write_results

#: HELP (Lee et al., NeurIPS 2021), Table 3: 10 target samples, Spearman per meta-test device
HELP_PUBLISHED = {
    "latency_help_titan_rtx_256": 0.987,
    "latency_help_gold_6226": 0.989,
    "latency_help_fpga": 0.985,
    "latency_help_pixel2": 0.802,
    "latency_help_raspi4": 0.890,
    "latency_help_eyeriss": 0.940,
}


def few_shot(args: argparse.Namespace) -> None:
    import archrank as ar

    targets = ar.studies.HELP_META_TEST if args.split == "test" else ar.studies.HELP_META_VALID
    start = time.perf_counter()
    df = ar.studies.latency_study(
        "nb201", targets, ar.studies.HELP_META_TRAIN, train_sizes=args.sizes, seeds=range(args.seeds)
    )
    seconds = time.perf_counter() - start
    summary = df.groupby(["predictor", "n", "device"])[["spearman", "kendall"]].mean()
    per_seed = df.groupby(["predictor", "n", "seed"])["spearman"].mean()  # mean over devices, per seed
    lines = []
    for n in sorted(df.n.unique()):
        table = summary.xs(n, level="n")["spearman"].unstack("device")[list(targets)]
        table["mean"] = table.mean(axis=1)
        spread = per_seed.xs(n, level="n").groupby("predictor").std()
        table["seed std"] = spread
        if args.split == "test" and n == 10:
            help_row = {**HELP_PUBLISHED, "mean": sum(HELP_PUBLISHED.values()) / len(HELP_PUBLISHED)}
            table.loc["HELP (published)"] = help_row
        short = {d: d.removeprefix("latency_help_") for d in targets}
        print(f"\nN = {n} target measurements, Spearman (mean of {args.seeds} seeds)")
        print(table.rename(columns=short).round(3).to_string())
        lines.append(f"\nN = {n}, Spearman (mean of {args.seeds} seeds; seed std: of the device mean)\n")
        lines.append("| predictor | " + " | ".join(short[d] for d in targets) + " | mean | seed std |")
        lines.append("|---|" + "---:|" * (len(targets) + 2))
        for label, row in table.iterrows():
            cells = " | ".join("-" if row[c] != row[c] else f"{row[c]:.3f}" for c in [*targets, "mean", "seed std"])
            lines.append(f"| {label} | {cells} |")
    kendall = summary["kendall"].groupby(["predictor", "n"]).mean().unstack("n").round(3)
    print("\nKendall tau, mean over devices\n" + kendall.to_string())
    out = {
        "command": f"python benchmarks/hardware.py --part few-shot --split {args.split} --seeds {args.seeds} "
        f"--sizes {' '.join(map(str, args.sizes))}",
        "split": args.split,
        "targets": list(targets),
        "references": list(ar.studies.HELP_META_TRAIN),
        "seconds": seconds,
        "rows": df.to_dict(orient="records"),
    }
    print("wrote", write_results(f"hardware_{args.split}.json", out))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for label, part in df.groupby("predictor"):
            curve = part.groupby("n").spearman.mean()
            ax.plot(curve.index, curve.values, marker="o", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("measurements on the target device (N)")
        ax.set_ylabel("Spearman, mean over devices")
        ax.set_title(f"NB201 latency, HELP meta-{args.split} devices")
        ax.legend()
        path = Path(__file__).parent / "results" / f"hardware_{args.split}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        print("wrote", path)
    if args.record:
        head = (
            f"Command: `{out['command']}`. References: HELP's 9 meta-train devices; targets: its meta-{args.split} "
            f"devices; every other cell of the 15,625 is ranked. {seconds:.0f} s."
        )
        replace_section(f"hardware-{args.split}", head + "\n" + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["few-shot"], default="few-shot")
    parser.add_argument("--split", choices=["valid", "test"], default="test")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 50, 100])
    parser.add_argument("--plot", action="store_true")
    parser.add_argument("--record", action="store_true", help="write the tables into RESULTS.md")
    few_shot(parser.parse_args())


if __name__ == "__main__":
    main()
