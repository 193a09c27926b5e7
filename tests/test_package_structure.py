"""The package's shape: no import cycles at module level, and each space's networks and table load only when used."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import archrank as ar

ROOT = Path(ar.__file__).resolve().parent


def module_graph() -> nx.DiGraph:
    """archrank module -> the archrank modules its module-level imports run (a submodule runs its parents)."""
    files = {}
    for path in ROOT.rglob("*.py"):
        parts = ("archrank", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in (t for t in targets if t in files and t != name):
                graph.add_edge(name, target)
                parent = target.rpartition(".")[0]
                while parent in files and parent != name and not name.startswith(parent + "."):
                    graph.add_edge(name, parent)
                    parent = parent.rpartition(".")[0]
    return graph


def test_no_module_imports_itself_through_a_cycle() -> None:
    graph = module_graph()
    assert graph.number_of_nodes() > 50
    assert ("archrank.predictors.base", "archrank.encodings") in graph.edges  # the graph sees real imports
    assert list(nx.simple_cycles(graph)) == []


def test_encodings_do_not_depend_on_predictors_and_spaces_not_on_their_networks() -> None:
    graph = module_graph()
    below_encodings = nx.descendants(graph, "archrank.encodings")
    assert not any(m.startswith("archrank.predictors") for m in below_encodings)
    below_spaces = nx.descendants(graph, "archrank.spaces")
    lazy = (".model", ".stacked", ".table")
    assert not any(m.endswith(lazy) or m.startswith("archrank.models") for m in below_spaces)


def test_importing_the_spaces_and_tables_loads_no_torch_until_a_network_is_built() -> None:
    code = (
        "import sys, archrank.spaces, archrank.datasets as d\n"
        "assert 'torch' not in sys.modules, 'torch imported by the spaces'\n"
        "b = d.load('nb201'); assert 'archrank.spaces.nb201.table' in sys.modules\n"
        "assert 'archrank.spaces.nb201.model' not in sys.modules\n"
        "archrank.spaces.get('nb201').build_model(b.archs()[0]); assert 'archrank.spaces.nb201.model' in sys.modules\n"
        "import archrank.encodings, archrank.encodings as e\n"
        "assert not any(m.startswith('archrank.predictors') for m in sys.modules)\n"
        "assert type(e.make_encoder('gnn_embedding')).__module__ == 'archrank.predictors.gnn_embedding'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_builtin_space_loads_its_table_through_its_own_package() -> None:
    for name, tables in ar.datasets.names().items():
        space = ar.spaces.get(name)
        assert space.tables == tables
        bench = ar.datasets.load(space, tables[0])  # a space object works where a name does
        assert bench.space is space and bench.dataset == tables[0]
    assert ar.datasets.load("nb201", "cifar10").values("test_accuracy").max() == 94.373333


def test_proxies_register_where_they_are_defined_with_their_stacked_forms() -> None:
    from archrank.proxies import activation, saliency

    assert ar.proxies.get("snip").fn is saliency.snip and ar.proxies.get("nwot").fn is activation.nwot
    assert set(ar.proxies.stacked_names()) == {"synflow", "grad_norm", "snip", "plain", "jacob_cov", "nwot", "zico"}
    assert all(ar.proxies.get(n).has_stacked for n in ar.proxies.stacked_names())
    assert not ar.proxies.get("grasp").has_stacked
    with pytest.raises(ValueError, match="already registered"):
        ar.proxies.register_proxy("snip", uses_images=True)(saliency.snip)


def test_heavy_libraries_load_only_where_they_are_used() -> None:
    code = (
        "import sys\n"
        "import archrank\n"
        "assert [m for m in ('pandas', 'numpy') if m in sys.modules] == [], 'import archrank is not lazy'\n"
        "import archrank.predictors as p\n"
        "heavy = ('torch', 'torch_geometric', 'gpytorch', 'botorch', 'xgboost', 'matplotlib', 'networkx')\n"
        "heavy += ('archrank.proxies', 'sklearn', 'pandas', 'scipy')\n"
        "assert [m for m in heavy if m in sys.modules] == [], [m for m in heavy if m in sys.modules]\n"
        "p.make('rf').fit([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [1.0, 2.0, 3.0])\n"
        "assert 'torch' not in sys.modules, 'a random forest needs no torch'\n"
        "assert p.names()[:5] == ['gp', 'xgb', 'rf', 'mlp_ensemble', 'gnn']\n"
        "assert p.GNNPredictor.__name__ == 'GNNPredictor' and 'torch' in sys.modules  # loaded for its class\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    help_run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv = ['archrank', '--help']; import archrank.cli as c\n"
            "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
            "assert 'pandas' not in sys.modules and 'torch' not in sys.modules",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "Rank neural network architectures" in help_run.stdout
