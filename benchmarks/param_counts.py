"""Parameter counts of the built networks against the benchmark tables (issue 4's first acceptance point).

Builds every network for real with ``space.build_model`` and counts its parameters:
all 15,625 NB201 cells against the NB201 ``params`` column (millions; the issue's tolerance is
1e-3 M), the 725 NAS-Bench-301 cells against theirs (within 1 %), and the 1,000 NB101 specs with
recorded trainable-parameter counts (``../shared/data/nb101/data-1k.json``; skipped without it).
Prints a table, writes benchmarks/results/param_counts.json and the ``param-counts`` section of
RESULTS.md. Usage:
    python benchmarks/param_counts.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from _machine import machine, replace_section

import archrank as ar

HERE = Path(__file__).parent


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _row(name: str, ours: np.ndarray, table: np.ndarray, tolerance: str, within: np.ndarray, seconds: float) -> dict:
    return {
        "space": name,
        "cells": len(ours),
        "exact": int((np.abs(ours - table) < 0.5).sum()),
        "tolerance": tolerance,
        "within_tolerance": int(within.sum()),
        "max_abs_difference": float(np.abs(ours - table).max()),
        "seconds": seconds,
    }


def _against_params_column(name: str, archs: list, tolerance: str, relative: float, absolute: float) -> dict:
    """Every one of ``archs`` built and counted against the table's ``params`` column (millions);
    within tolerance when the difference is at most ``absolute`` parameters or ``relative`` x the table's."""
    space, bench = ar.spaces.get(name), ar.datasets.load(name, "cifar10")
    start = time.perf_counter()
    ours = np.array([_count(space.build_model(a)) for a in archs], dtype=np.float64)
    table = bench.values("params", None, archs) * 1e6
    within = np.abs(ours - table) <= np.maximum(absolute, relative * table)
    return _row(name, ours, table, tolerance, within, time.perf_counter() - start)


def nb201() -> dict:
    return _against_params_column("nb201", ar.spaces.get("nb201").all(), "1e-3 M", relative=0.0, absolute=1e3)


def darts() -> dict:
    return _against_params_column(
        "darts", ar.datasets.load("darts", "cifar10").archs(), "1 %", relative=0.01, absolute=0.0
    )


def nb101(shared: Path) -> dict | None:
    path = shared / "nb101" / "data-1k.json"
    if not path.is_file():
        return None
    from archrank.spaces import make_nb101

    data = json.loads(path.read_text())
    space = ar.spaces.get("nb101")
    start = time.perf_counter()
    ours, table = [], []
    for matrix, ops, count in zip(data["adjacency"], data["operations"], data["trainable_parameters"], strict=True):
        keep = [j for j, op in enumerate(ops) if op != -3]  # drop padding vertices
        arch = make_nb101(np.array(matrix)[np.ix_(keep, keep)], [ops[j] for j in keep])
        ours.append(_count(space.build_model(arch)))
        table.append(count)
    o, t = np.array(ours, dtype=np.float64), np.array(table, dtype=np.float64)
    return _row("nb101", o, t, "exact", np.abs(o - t) < 0.5, time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = parser.parse_args()
    rows = [r for r in (nb201(), nb101(args.shared), darts()) if r is not None]
    for r in rows:
        print(
            f"{r['space']:6s} {r['cells']:6d} cells  exact {r['exact']:6d}  within {r['tolerance']}: "
            f"{r['within_tolerance']:6d}  max |diff| {r['max_abs_difference']:.3f}  {r['seconds']:.0f} s"
        )
    payload = {"date": date.today().isoformat(), "machine": machine(), "rows": rows}
    (HERE / "results" / "param_counts.json").write_text(json.dumps(payload, indent=1))
    md = [
        "## Model builders: parameter counts against the tables",
        "",
        f"Command: `python benchmarks/param_counts.py`. Machine: {machine()}. Date: {date.today().isoformat()}. "
        "Every network built with `space.build_model` (CIFAR-10 classes) and its parameters counted. NB201: all "
        "cells against the table's `params` (the issue's tolerance 1e-3 M); NB101: the 1,000 specs of "
        "`../shared/data/nb101/data-1k.json` with recorded trainable-parameter counts; DARTS: the 725 "
        "NAS-Bench-301 cells (tolerance 1 %).",
        *[
            f"The {r['cells'] - r['within_tolerance']:,} NB201 cells outside the tolerance differ by up to "
            f"{r['max_abs_difference'] / 1e6:.3f} M, in multiples of 1/3 parameter: the source column averages three "
            "records, at least one of which counted another network (see the README). The acceptance point 'every "
            "cell within 1e-3 M' does not hold for them; the table is shipped as published."
            for r in rows
            if r["space"] == "nb201" and r["within_tolerance"] < r["cells"]
        ],
        "",
        "| space | cells | equal to the parameter | tolerance | within tolerance | max abs difference | s |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    md += [
        f"| {r['space']} | {r['cells']:,} | {r['exact']:,} | {r['tolerance']} | {r['within_tolerance']:,} | "
        f"{r['max_abs_difference']:,.0f} | {r['seconds']:.0f} |"
        for r in rows
    ]
    replace_section("param-counts", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
