"""The figures README.md states come out of the code: each is parsed from the README text, so changing either side
without the other fails here.

The quick-start block is executed statement by statement and every commented expression is checked against the
number its comment states; further figures (encoding lengths, table sizes, the proxy table's correlations, the
own-space canonical classes, the search example's best cell) are parsed from the prose and tables.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import archrank as ar

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FLAT = " ".join(README.split())  # prose with its line breaks removed


def _section(heading: str) -> str:
    """The README text from the line ``heading`` to the next heading of the same or a higher level."""
    match = re.search(rf"^{re.escape(heading)}\n", README, re.MULTILINE)
    assert match, f"README has no heading {heading!r}"
    level = heading.split(" ")[0]
    end = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE).search(README, match.end())
    return README[match.end() : end.start() if end else len(README)]


def _python_blocks(heading: str) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", _section(heading), re.DOTALL)
    assert blocks, f"no python block under {heading!r}"
    return blocks


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _claim(pattern: str, text: str = FLAT) -> re.Match[str]:
    match = re.search(pattern, text)
    assert match, f"README no longer states {pattern!r}: update this test together with the README"
    return match


@pytest.fixture(scope="module")
def quick_start() -> dict[str, tuple[str, Any]]:
    """Run the quick-start block; for each expression statement: its source -> (its comment, its value)."""
    code = _python_blocks("## Quick start")[0]
    lines = code.splitlines()
    namespace: dict[str, Any] = {}
    shown: dict[str, tuple[str, Any]] = {}
    for statement in ast.parse(code).body:
        if isinstance(statement, ast.Expr):
            value = eval(compile(ast.Expression(statement.value), "README quick start", "eval"), namespace)
            comment = lines[statement.end_lineno - 1].partition("  # ")[2]
            shown[ast.get_source_segment(code, statement)] = (comment, value)
        else:
            exec(compile(ast.Module([statement], type_ignores=[]), "README quick start", "exec"), namespace)
    return shown


def _shown(quick_start: dict[str, tuple[str, Any]], expression: str) -> tuple[str, Any]:
    assert expression in quick_start, f"the quick start no longer has the line {expression!r}"
    return quick_start[expression]


def test_quick_start_index(quick_start: dict[str, tuple[str, Any]]) -> None:
    comment, value = _shown(quick_start, "space.index(arch)")
    stated = _claim(r"^(\d+) \(official NB201 index\)$", comment)
    assert value == int(stated.group(1))


def test_quick_start_canonical_classes(quick_start: dict[str, tuple[str, Any]]) -> None:
    comment, value = _shown(quick_start, "space.canonical(arch)")
    stated = _claim(r"\(([\d,]+) classes\)", comment)
    space = ar.spaces.get("nb201")
    classes = {space.canonical(a) for a in space.all()}
    assert len(classes) == _number(stated.group(1)) and value in classes


def test_quick_start_cell_graph(quick_start: dict[str, tuple[str, Any]]) -> None:
    comment, value = _shown(quick_start, "space.to_cell_graph(arch).to_networkx()")
    stated = _claim(r"^(\d+)-node DAG", comment)
    assert value.number_of_nodes() == int(stated.group(1))


def test_quick_start_test_accuracy(quick_start: dict[str, tuple[str, Any]]) -> None:
    comment, value = _shown(quick_start, 'bench.query(arch, metric="test_accuracy", epochs=200)')
    stated = _claim(r"^(\d+\.(\d+)) \(percent\)$", comment)
    assert value == pytest.approx(float(stated.group(1)), abs=0.5 * 10.0 ** -len(stated.group(2)))
    assert ar.datasets.load("nb201", dataset="cifar10").info("test_accuracy", 200).unit == "%"


def test_quick_start_metrics(quick_start: dict[str, tuple[str, Any]]) -> None:
    comment, value = _shown(quick_start, "bench.metrics()")
    stated = re.findall(r"'(\w+)': \[([\d, ]+)\]", comment)
    assert stated, comment
    for metric, epochs in stated:
        assert value[metric] == [int(e) for e in epochs.split(",")]


def test_path_encoding_shape_in_the_encodings_example() -> None:
    stated = _claim(r'encode\(archs\[:(\d+)\], "path"\) # \((\d+), (\d+)\) (\w+)')
    archs = ar.datasets.load("nb201", dataset="cifar10-valid").archs()
    X = ar.encodings.encode(archs[: int(stated.group(1))], "path")
    assert X.shape == (int(stated.group(2)), int(stated.group(3))) and X.dtype == np.dtype(stated.group(4))


def test_encoding_length_table() -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|", README, re.MULTILINE)
    stated = {name: counts for name, *counts in rows}
    # gnn_embedding's 32 is the width of a trained GIN's hidden layer (tests/test_encodings.py trains one)
    fixed = ["adjacency_onehot", "path", "path_truncated", "categorical"]
    assert set(fixed) <= set(stated), sorted(stated)
    for name in fixed:
        for space_name, count in zip(["nb201", "nb101", "darts"], stated[name], strict=True):
            arch = ar.spaces.get(space_name).sample(1, seed=0)
            assert ar.encodings.encode(arch, name, space=space_name).shape == (1, _number(count)), (name, space_name)


def test_bundled_table_sizes() -> None:
    nb201 = ar.datasets.load("nb201", "cifar10")
    assert len(nb201.archs()) == _number(_claim(r"NAS-Bench-201 \(([\d,]+) cells, official index order").group(1))
    nb101 = _claim(r"NB101 \(([\d,]+) cells at ([\d/]+) epochs\)")
    bench101 = ar.datasets.load("nb101")
    assert len(bench101.archs()) == _number(nb101.group(1))
    assert bench101.metrics()["valid_accuracy"] == [int(e) for e in nb101.group(2).split("/")]
    assert len(ar.datasets.load("darts").archs()) == _number(_claim(r"([\d,]+) NAS-Bench-301 cells\.").group(1))
    from archrank._datafiles import load_npz

    unique = _claim(r"all ([\d,]+) unique cells shipped").group(1)
    assert len(load_npz("nb101_cells.npz")["hash_prefix"]) == _number(unique)


def test_bundled_data_sizes() -> None:
    data = ROOT / "archrank" / "datasets" / "_data"
    total = _claim(r"All data ships inside the package \((\d+\.\d) MB\)").group(1)
    assert round(sum(p.stat().st_size for p in data.iterdir()) / 1e6, 1) == float(total)
    table = _claim(r"for all 15,625 cells \((\d+\.\d) MB\)").group(1)
    assert round((data / "proxies_nb201_cifar10.npz").stat().st_size / 1e6, 1) == float(table)


def test_precomputed_proxy_correlations() -> None:
    stated = _claim(
        r"Spearman against CIFAR-10 test accuracy: (.*?); the mean rank of (.*?) reaches Kendall tau (\d\.\d+)"
    )
    table = ar.proxies.load_precomputed("nb201", "cifar10")
    study = ar.studies.proxy_study(table, "nb201", metric="test_accuracy", search_combinations=0)
    study = study.set_index("proxies")
    pairs = re.findall(r"((?:\w+ and )?\w+) (\d\.\d+)", stated.group(1))
    assert len(pairs) >= 6, stated.group(1)
    for names, value in pairs:
        for proxy in names.split(" and "):
            assert round(study.loc[proxy, "spearman"], 3) == pytest.approx(float(value)), proxy
    combination = "+".join(re.split(r", | and ", stated.group(2)))
    assert round(study.loc[combination, "kendall_tau"], 3) == pytest.approx(float(stated.group(3)))
    same = _claim(r"`flops` ranks the cells exactly as `params` does \(Kendall tau (\d\.\d+) over all")
    assert ar.metrics.kendall_tau(table["flops"], table["params"]) == pytest.approx(float(same.group(1)))


def test_nb201_as_an_edge_cell_has_its_own_canonical_classes() -> None:
    stated = _claim(r"all ([\d,]+) cells, .{0,200}?its canonical key has ([\d,]+) classes where NB201 counts ([\d,]+)")
    cell = ar.spaces.Cell(
        "readme-edge-cell",
        nodes=4,
        ops=["none", "skip", "conv1", "conv3", "pool"],
        op_on="edge",
        zero_ops=["none"],
        identity_ops=["skip"],
    )
    cells = cell.all()
    assert len(cells) == _number(stated.group(1))
    assert len({cell.canonical(a) for a in cells}) == _number(stated.group(2))
    nb201 = ar.spaces.get("nb201")
    assert len({nb201.canonical(a) for a in nb201.all()}) == _number(stated.group(3))


def test_search_example_finds_the_stated_cell() -> None:
    stated = _claim(r'best\.score \((\d+\.\d+)\), best\.metrics\["test_accuracy"\] \((\d+\.\d+)\)')
    bench = ar.datasets.load("nb201", "cifar10")
    oracle = ar.search.BenchmarkOracle(bench, metric="valid_accuracy", report=["test_accuracy"])
    best = ar.search.run("npenas", "nb201", oracle, budget=100, seed=0, progress=False).best()
    assert round(best.score, 2) == pytest.approx(float(stated.group(1)))
    assert round(best.metrics["test_accuracy"], 2) == pytest.approx(float(stated.group(2)))
