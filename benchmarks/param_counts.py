"""Parameter counts of the built networks against the benchmark tables (issue 4's first acceptance point).

Builds every network for real with ``space.build_model`` and counts its parameters:
all 15,625 NB201 cells against the NB201 ``params`` column (millions; the issue's tolerance is
1e-3 M), the 725 NAS-Bench-301 cells against theirs (within 1 %), and the 1,000 NB101 specs with
recorded trainable-parameter counts (``../shared/data/nb101/data-1k.json``; skipped without it).
For the NB201 cells outside the tolerance it tests whether each difference is what a mean over
2 or 3 training records gives when one record counted a network with one or two conv ops more or
fewer (``explain_differences``), and how often that test fits random differences by chance.
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
from _machine import machine, replace_section, write_results

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


def _against_params_column(
    name: str, archs: list, tolerance: str, relative: float, absolute: float
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Every one of ``archs`` built and counted against the table's ``params`` column (millions);
    within tolerance when the difference is at most ``absolute`` parameters or ``relative`` x the table's.
    Returns the report row, our counts and the table's (parameters, one per arch)."""
    space, bench = ar.spaces.get(name), ar.datasets.load(name, "cifar10")
    start = time.perf_counter()
    ours = np.array([_count(space.build_model(a)) for a in archs], dtype=np.float64)
    table = bench.values("params", None, archs) * 1e6
    within = np.abs(ours - table) <= np.maximum(absolute, relative * table)
    return _row(name, ours, table, tolerance, within, time.perf_counter() - start), ours, table


def nb201_op_units() -> dict[str, int]:
    """Parameters that one op on one edge adds to the whole NB201 network (the op in all 15 cells):
    the network with the op on edge 0->1 minus the one with ``none`` there, every other edge ``none``."""
    space = ar.spaces.get("nb201")
    empty = "|{}~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    base = _count(space.build_model(space.parse(empty.format("none"))))
    return {
        op: _count(space.build_model(space.parse(empty.format(op)))) - base for op in ("nor_conv_1x1", "nor_conv_3x3")
    }


def explain_differences(difference: np.ndarray, units: dict[str, int], max_ops: int = 2) -> dict[str, int]:
    """How many table-minus-built differences (parameters) are a mean over k = 3 (else 2) records of
    which one counted a network with up to ``max_ops`` ops of ``units`` more or fewer, i.e. k x
    difference = a whole number of op units, to the table's rounding (1e-6 M per value, so k
    parameters). Returns a count per explanation, ``"unexplained"`` for the rest."""
    (op_a, unit_a), (op_b, unit_b) = units.items()
    steps = range(-max_ops, max_ops + 1)
    found: dict[str, int] = {}
    for d in difference:
        label = "unexplained"
        for records in (3, 2):
            fits = [(a, b) for a in steps for b in steps if (a, b) != (0, 0)]
            fits = [(a, b) for a, b in fits if abs(records * d - (a * unit_a + b * unit_b)) <= records]
            if fits:
                a, b = fits[0]
                change = ", ".join(f"{n:+d} {op}" for n, op in ((a, op_a), (b, op_b)) if n)
                label = f"mean of {records} records, one with {change}"
                break
        found[label] = found.get(label, 0) + 1
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))


def nb201() -> dict:
    row, ours, table = _against_params_column(
        "nb201", ar.spaces.get("nb201").all(), "1e-3 M", relative=0.0, absolute=1e3
    )
    outside = np.abs(table - ours) > 1e3
    units = nb201_op_units()
    row["op_units"] = units
    row["outside_explained_by"] = explain_differences((table - ours)[outside], units)
    # the same test on seeded random differences of the same range: how often it fits by chance
    largest = float(np.abs(table - ours).max())
    chance = explain_differences(np.random.default_rng(0).uniform(-largest, largest, 10_000), units)
    row["chance_fit"] = 1.0 - chance.get("unexplained", 0) / 10_000
    return row


def darts() -> dict:
    row, _, _ = _against_params_column(
        "darts", ar.datasets.load("darts", "cifar10").archs(), "1 %", relative=0.01, absolute=0.0
    )
    return row


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


def _nb201_outside_lines(row: dict) -> list[str]:
    """RESULTS.md lines on the NB201 cells outside the tolerance and what explains them."""
    (op_a, n_a), (op_b, n_b) = row["op_units"].items()
    outside = row["cells"] - row["within_tolerance"]
    fit = outside - row["outside_explained_by"].get("unexplained", 0)
    return [
        "",
        f"The {outside:,} NB201 cells outside the tolerance differ by up to "
        f"{row['max_abs_difference'] / 1e6:.3f} M. Each difference was tested for being a mean over 3 (else 2) "
        "training records of which one counted a network with one or two conv ops more or fewer than the cell "
        f"(one op in all 15 cells adds {n_a:,} parameters for a {op_a} and {n_b:,} for a {op_b}), to the table's "
        f"rounding. {fit} of the {outside} fit; the same test fits seeded random differences of the same range "
        f"{row['chance_fit']:.2%} of the time. So for these cells "
        "the source column mixes in another network's count: the acceptance point 'every cell within 1e-3 M' "
        "cannot hold for them without building a network other than the cell, and the table is shipped as "
        "published.",
        "",
        "| NB201 cells outside the tolerance: explanation | cells |",
        "|---|---:|",
        *[f"| {label} | {n} |" for label, n in row["outside_explained_by"].items()],
    ]


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
    payload = {"rows": rows}
    write_results("param_counts.json", payload)
    md = [
        "## Model builders: parameter counts against the tables",
        "",
        f"Command: `python benchmarks/param_counts.py`. Machine: {machine()}. Date: {date.today().isoformat()}. "
        "Every network built with `space.build_model` (CIFAR-10 classes) and its parameters counted. NB201: all "
        "cells against the table's `params` (the issue's tolerance 1e-3 M); NB101: the 1,000 specs of "
        "`../shared/data/nb101/data-1k.json` with recorded trainable-parameter counts; DARTS: the 725 "
        "NAS-Bench-301 cells (tolerance 1 %).",
        "",
        "| space | cells | equal to the parameter | tolerance | within tolerance | max abs difference | s |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    md += [
        f"| {r['space']} | {r['cells']:,} | {r['exact']:,} | {r['tolerance']} | {r['within_tolerance']:,} | "
        f"{r['max_abs_difference']:,.0f} | {r['seconds']:.0f} |"
        for r in rows
    ]
    md += [
        line
        for r in rows
        if r["space"] == "nb201" and r["within_tolerance"] < r["cells"]
        for line in _nb201_outside_lines(r)
    ]
    replace_section("param-counts", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
