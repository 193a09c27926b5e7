"""The guided-search presets before and after a change: same seeds, the same proposals?

Runs each configuration (strategy + hyperparameters) for ``--budget`` queries on NB201 CIFAR-10
with seeds ``0..--seeds-1`` in fresh processes, once with the code of commit ``--old`` (a
temporary git worktree) and once with this checkout, and compares the proposed architectures
one by one. Used for issue 18: npenas, bananas and bo became presets of one composable guided
search and must propose what they proposed before.

    python benchmarks/search_presets.py --old e11a4a2 --budget 30 --seeds 2
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import date
from typing import Any

from _machine import machine, replace_section, write_results
from speed import ROOT, old_worktree, run_child

CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("random", {}),
    ("evolution", {}),
    ("local", {}),
    ("npenas", {}),
    ("npenas", {"variant": "bo"}),
    ("bananas", {}),
    ("bo", {}),
    ("bo", {"acquisition": "qlognei", "predictor_params": {"encoding": "categorical"}}),
]

CHILD = """
import json, sys, warnings
import archrank as ar
name, hp, seed, budget = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
oracle = ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    result = ar.search.run(name, "nb201", oracle, budget=budget, seed=seed, progress=False, **hp)
frame = result.frame() if hasattr(result, "frame") else result  # before issue 18 run() returned the frame
print(json.dumps({"archs": frame["arch"].tolist()}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="commit of the code before")
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with old_worktree(args.old) as worktree:
        for name, hp in CONFIGS:
            for seed in range(args.seeds):
                before = run_child(CHILD, worktree, name, json.dumps(hp), seed, args.budget)["archs"]
                now = run_child(CHILD, ROOT, name, json.dumps(hp), seed, args.budget)["archs"]
                same = sum(a == b for a, b in zip(before, now, strict=True))
                rows.append({"strategy": name, "hyperparameters": hp, "seed": seed, "same": same, "of": len(now)})
                print(f"{name} {hp} seed {seed}: {same} of {len(now)} proposals identical", flush=True)
    payload = {"old": args.old, "budget": args.budget, "rows": rows}
    write_results("search_presets.json", payload)
    command = "python benchmarks/search_presets.py " + shlex.join(sys.argv[1:])
    lines = [
        "## Guided-search presets after the composable refactor (issue 18)",
        "",
        f"Command: `{command}`. Machine: {machine()}. Date: {date.today().isoformat()}. Each configuration on "
        f"NB201 CIFAR-10 ({args.budget} queries) with the code of {args.old} and with this checkout, in fresh "
        "processes; proposals compared one by one.",
        "",
        "| strategy | hyperparameters | seed | identical proposals |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['strategy']} | `{r['hyperparameters']}` | {r['seed']} | {r['same']} / {r['of']} |" for r in rows]
    replace_section("search-presets", "\n".join(lines))
    return 0 if all(r["same"] == r["of"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
