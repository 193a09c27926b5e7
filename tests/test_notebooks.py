"""The notebooks: stored executed at full size, and executed here end to end with small injected parameters.

Each notebook takes its sizes from a code cell tagged ``parameters``; ``scripts/run_notebooks.py``
injects smaller values after it (papermill's ``injected-parameters`` cell). Every small run checks
numbers the notebook printed against the library called directly with the same arguments.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import archrank as ar

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TAU = 6e-4  # pandas shows 3 decimals: a rounded 3-decimal value is within 5e-4 of the true one

GUIDED = {"initial": 10, "per_iteration": 5, "pool_size": 50, "predictor_params": {"epochs": 50}}
SMALL: dict[str, dict[str, Any]] = {
    "proxy_correlation_nb201.ipynb": {"COMBINATIONS": 2, "FEATURE_SEEDS": 1, "TEST_SIZE": 300},
    "predictor_study.ipynb": {
        "SEEDS": 1,
        "PREDICTORS": ["xgb", "gp"],
        "TRAIN_SIZES_NB201": [20, 100],
        "TRAIN_SIZES_NB101": [20, 50],
        "TEST_SIZE": 200,
        "RANK_TRAIN": 50,
        "CV_CELLS": 60,
        "CV_FOLDS": 2,
    },
    "search_nb201.ipynb": {"SEEDS": 1, "BUDGET": 20, "CHECKPOINTS": [10], "WARM_START": 50, "RESUME_BUDGET": 10},
    "own_space.ipynb": {
        "PROXY_ARCHS": 24,
        "SEEDS": 2,
        "PREDICTORS": ["xgb", "gp"],
        "TRAIN_SIZES": [20, 100],
        "TEST_SIZE": 300,
        "BUDGET": 25,
    },
    "host_tools.ipynb": {"SEEDS": [100], "TRIALS": 30, "BOTORCH": False, "RAY": False, "GUIDED": GUIDED},
}


@pytest.fixture(scope="module")
def rn() -> Any:
    """scripts/run_notebooks.py as a module (scripts/ is not a package)."""
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebooks"] = module
    spec.loader.exec_module(module)
    return module


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= set(SMALL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors(path: Path) -> None:
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: cells not run in order once ({counts})"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    assert all(c["outputs"] for c in code[-1:]), f"{path.name}: the last cell shows nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_takes_its_sizes_from_a_parameters_cell(rn: Any, path: Path) -> None:
    """The first code cell is the parameters cell, there is no stored injected cell and no FAST switch."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert rn.parameters_cell(nb, path.name) == code[0]
    assert not any(rn.INJECTED_TAG in c.metadata.get("tags", []) for c in nb.cells)
    sources = "\n".join(c.source for c in nb.cells)
    assert "FAST" not in sources and "os.environ" not in sources
    defaults = rn.read_parameters(nb, path.name)
    rn.check_parameters(defaults, SMALL[path.name], path.name)  # the small run sets only real parameters
    assert set(SMALL[path.name]) <= set(defaults)


def _tiny_notebook(parameters: str = "N = 3\nRATE = 0.5\nNAMES = ['a', 'b']\nFLAG = False\nOPT = None\n") -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        nbformat.v4.new_code_cell("import math\n\n" + parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('N', N, 'RATE', RATE, 'NAMES', NAMES, 'FLAG', FLAG, 'OPT', OPT)"),
    ]
    return nb


def test_injected_cell_follows_the_parameters_cell_and_replaces_an_earlier_one(rn: Any) -> None:
    nb = _tiny_notebook()
    assert rn.read_parameters(nb, "tiny.ipynb") == {
        "N": 3,
        "RATE": 0.5,
        "NAMES": ["a", "b"],
        "FLAG": False,
        "OPT": None,
    }
    once = rn.inject_parameters(nb, {"N": 5, "RATE": 2}, "tiny.ipynb")
    assert len(nb.cells) == 3 and len(once.cells) == 4  # the original is not modified
    assert once.cells[2].metadata["tags"] == ["injected-parameters"]
    assert once.cells[2].source == "# Parameters\nN = 5\nRATE = 2\n"
    twice = rn.inject_parameters(once, {"FLAG": True}, "tiny.ipynb")
    assert [c.source for c in twice.cells if "injected-parameters" in c.metadata.get("tags", [])] == [
        "# Parameters\nFLAG = True\n"
    ]
    assert len(rn.inject_parameters(once, {}, "tiny.ipynb").cells) == 3  # no values: no injected cell


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"N": "3"}, "notebook tiny.ipynb: parameter 'N' takes int (default 3), got str '3'"),
        ({"N": 2.5}, "parameter 'N' takes int (default 3), got float 2.5"),
        ({"N": True}, "parameter 'N' takes int (default 3), got bool True"),
        ({"RATE": "fast"}, "parameter 'RATE' takes int or float (default 0.5), got str 'fast'"),
        ({"NAMES": "a"}, "parameter 'NAMES' takes list of str (default ['a', 'b']), got str 'a'"),
        ({"NAMES": ["a", 1]}, "parameter 'NAMES' takes list of str (default ['a', 'b']), got list ['a', 1]"),
        ({"FLAG": 1}, "parameter 'FLAG' takes bool (default False), got int 1"),
        ({"OPT": float("nan")}, "parameter 'OPT': nan is not a Python literal"),
    ],
)
def test_a_parameter_of_the_wrong_type_is_a_clear_error(rn: Any, values: dict[str, Any], message: str) -> None:
    with pytest.raises(rn.NotebookParameterError, match=re.escape(message)):
        rn.inject_parameters(_tiny_notebook(), values, "tiny.ipynb")
    assert issubclass(rn.NotebookParameterError, ar.errors.ArchrankError)


def test_fitting_types_are_accepted(rn: Any) -> None:
    values = {"N": 7, "RATE": 1, "NAMES": [], "FLAG": True, "OPT": [1, "x"]}
    rn.check_parameters(rn.read_parameters(_tiny_notebook(), "tiny.ipynb"), values, "tiny.ipynb")


def test_an_unknown_parameter_names_the_notebook_and_the_valid_ones(rn: Any) -> None:
    with pytest.raises(ar.errors.UnknownChoiceError, match=r"parameter of notebook tiny.ipynb 'SEED'.*FLAG, N, NAMES"):
        rn.inject_parameters(_tiny_notebook(), {"SEED": 1}, "tiny.ipynb")
    real = NOTEBOOKS[0]
    import nbformat

    with pytest.raises(ar.errors.UnknownChoiceError, match=re.escape(real.name)):
        rn.inject_parameters(nbformat.read(real, as_version=4), {"NO_SUCH_PARAMETER": 1}, real.name)


def test_a_malformed_parameters_cell_is_an_error(rn: Any) -> None:
    with pytest.raises(rn.NotebookParameterError, match=r"reads the parameter\(s\) \['N'\]"):
        rn.read_parameters(_tiny_notebook("N = 3\nM = N * 2\n"), "tiny.ipynb")
    with pytest.raises(rn.NotebookParameterError, match="assigns no literal"):
        rn.read_parameters(_tiny_notebook("X = math.pi\n"), "tiny.ipynb")
    untagged = _tiny_notebook()
    untagged.cells[1].metadata["tags"] = []
    with pytest.raises(rn.NotebookParameterError, match="exactly one code cell tagged 'parameters', found 0"):
        rn.parameters_cell(untagged, "tiny.ipynb")


def test_command_line_injects_parsed_values_and_refuses_bad_ones(
    rn: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import nbformat

    path = tmp_path / "tiny.ipynb"
    nbformat.write(_tiny_notebook(), path)
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), "-p", "N=4", "-p", "RATE=1e-3", "-p", "NAMES=['x']", "-p", "OPT=hello"]
    assert rn.main(args) == 0
    executed = nbformat.read(out / "tiny.ipynb", as_version=4)
    assert rn.printed(executed) == "N 4 RATE 0.001 NAMES ['x'] FLAG False OPT hello\n"
    assert nbformat.read(path, as_version=4).cells[1].get("outputs") == []  # the source notebook is untouched

    assert rn.main([str(path), "--out", str(out), "-p", "N=four"]) == 2
    assert "parameter 'N' takes int (default 3), got str 'four'" in capsys.readouterr().err
    assert rn.main([str(path), "-p", "N=4"]) == 2  # small values never overwrite the stored outputs
    assert "give --out DIR" in capsys.readouterr().err
    assert rn.main([str(path), "--out", str(out), "-p", "N"]) == 2
    assert "-p takes NAME=VALUE" in capsys.readouterr().err


# --- every notebook end to end with small parameters --------------------------------------------------------


def _run_small(rn: Any, name: str, tmp_path: Path) -> Any:
    return rn.execute(ROOT / "notebooks" / name, SMALL[name], cwd=tmp_path, timeout=300)


def _cell_text(rn: Any, nb: Any, snippet: str) -> str:
    """What the one code cell whose source contains ``snippet`` printed."""
    cells = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {snippet!r}"
    one = type(nb)(nb)
    one.cells = cells
    return rn.printed(one)


def _row(text: str, label: str) -> list[str]:
    """The fields after ``label`` on the line of a printed table that starts with it (index label or first column)."""
    pattern = re.compile(rf"^\s*(?:\d+\s+)?{re.escape(label)}\s+(.*?)\s*\\?$", re.MULTILINE)
    found = pattern.findall(text)
    assert found, f"no row {label!r} in\n{text}"
    return found[0].split()


@pytest.mark.slow
def test_proxy_correlation_notebook_runs_with_small_parameters(rn: Any, tmp_path: Path) -> None:
    nb = _run_small(rn, "proxy_correlation_nb201.ipynb", tmp_path)
    table = ar.proxies.load_precomputed("nb201", "cifar10")
    bench = ar.datasets.load("nb201", "cifar10")
    study = ar.studies.proxy_study(table, bench, metric="test_accuracy", search_combinations=0).set_index("proxies")
    singles = _cell_text(rn, nb, 'study[study.kind == "single"]')
    for proxy in ["nwot", "zico", "synflow", "jacob_cov", "snip", "grad_norm", "flops"]:
        fields = _row(singles, proxy)
        assert fields[:3] == ["single", "15625", "0"]
        assert float(fields[3]) == pytest.approx(study.loc[proxy, "kendall_tau"], abs=TAU)
        assert float(fields[4]) == pytest.approx(study.loc[proxy, "spearman"], abs=TAU)
    combos = _cell_text(rn, nb, 'study[study.kind == "combination"]')
    combo = "synflow+jacob_cov+nwot+zico"
    assert float(_row(combos, combo)[3]) == pytest.approx(study.loc[combo, "kendall_tau"], abs=TAU)
    searched = re.findall(r"^\s*\d+\s+(\S+)\s+search\b", combos, re.MULTILINE)
    assert searched and all(s.count("+") == 1 for s in searched), searched  # COMBINATIONS = 2: pairs only

    features = ar.proxies.as_features(table, ["synflow", "jacob_cov", "nwot", "zico", "flops", "snip", "grad_norm"])
    common = {"predictors": ["xgb"], "train_sizes": [100], "seeds": range(1), "test_size": 300, "progress": False}
    plain = ar.studies.predictor_study("nb201", **common)
    with_proxies = ar.studies.predictor_study("nb201", features=features, **common)
    seed0 = _row(_cell_text(rn, nb, "with_proxies = "), "0")
    assert float(seed0[0]) == pytest.approx(plain.kendall_tau[0], abs=TAU)
    assert float(seed0[1]) == pytest.approx(with_proxies.kendall_tau[0], abs=TAU)


@pytest.mark.slow
def test_predictor_study_notebook_runs_with_small_parameters(rn: Any, tmp_path: Path) -> None:
    import numpy as np
    from sklearn.base import clone
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import KFold, cross_val_score

    nb = _run_small(rn, "predictor_study.ipynb", tmp_path)
    nb201 = ar.datasets.load("nb201", "cifar10-valid")
    study = ar.studies.predictor_study(
        nb201, predictors=["xgb"], train_sizes=[20, 100], seeds=range(1), test_size=200, progress=False
    )
    pivot = _cell_text(rn, nb, "summary201.pivot")
    assert re.search(r"train_size\s+20\s+100\s*$", pivot, re.MULTILINE), pivot
    assert [float(v) for v in _row(pivot, "xgb")] == pytest.approx(list(study.kendall_tau), abs=TAU)

    space = ar.spaces.get("nb201")
    sample = space.sample(60, seed=1)
    X = np.asarray(ar.encodings.encode(sample, "adjacency_onehot", space=space), dtype=float)
    y = nb201.values("valid_accuracy", archs=sample)
    model = clone(ar.predictors.make("xgb", random_state=0))
    scores = cross_val_score(
        model, X, y, cv=KFold(2, shuffle=True, random_state=0), scoring=make_scorer(ar.metrics.kendall_tau)
    )
    cv = _cell_text(rn, nb, "cross_val_score(model")
    assert f"xgb  on a ndarray (60, 30): 2-fold Kendall tau {scores.mean():.3f} +- {scores.std():.3f}" in cv
    ranked = _cell_text(rn, nb, "rank_candidates(model")
    assert f"{15625 - len(set(map(str, space.sample(50, seed=0))))} untrained cells: Kendall tau" in ranked


@pytest.mark.slow
def test_search_notebook_runs_with_small_parameters(rn: Any, tmp_path: Path) -> None:
    nb = _run_small(rn, "search_nb201.ipynb", tmp_path)
    text = rn.printed(nb)
    oracle = ar.search.BenchmarkOracle(
        ar.datasets.load("nb201", "cifar10"), metric="valid_accuracy", report=["test_accuracy"]
    )
    frame = ar.search.run("random", "nb201", oracle, budget=20, seed=0, progress=False).frame()
    best = frame.loc[frame.score.idxmax()]
    summary = _cell_text(rn, nb, "final_summary(runs")
    runs, best_mean, _, test_mean = _row(summary, "random")[:4]
    assert runs == "1"
    assert float(best_mean) == pytest.approx(best.score, abs=6e-4)
    assert float(test_mean) == pytest.approx(best.test_accuracy, abs=6e-4)
    assert "best after 10" in summary and "best after 25" not in summary
    assert "budget 10: 10 oracle calls; the same run again: 0 calls" in text
    assert "extended to 20: 10 more calls" in text
    assert "the extended run starts with the first one: True" in text
    assert "and equals a fresh 20-query run: True" in text


@pytest.mark.slow
def test_own_space_notebook_runs_with_small_parameters(rn: Any, tmp_path: Path) -> None:
    import pandas as pd

    nb = _run_small(rn, "own_space.ipynb", tmp_path)
    text = rn.printed(nb)
    assert "15625 cells, 5390 canonical classes" in text and "error: row 4: decision '0->1'" in text
    proxy_rows = re.findall(r"^(\d+)\s+layer0=", _cell_text(rn, nb, "ar.proxies.compute(archs"), re.MULTILINE)
    assert proxy_rows and max(map(int, proxy_rows)) < 24  # PROXY_ARCHS = 24: only the first 24 were scored

    # the notebook's results table, built here the same way
    cell = ar.spaces.Cell(
        "test-notebook-cell",
        nodes=4,
        ops=["none", "skip", "conv1", "conv3", "pool"],
        op_on="edge",
        zero_ops=["none"],
        identity_ops=["skip"],
    )
    nb201 = ar.datasets.load("nb201", "cifar10-valid")
    rename = {"skip_connect": "skip", "nor_conv_1x1": "conv1", "nor_conv_3x3": "conv3", "avg_pool_3x3": "pool"}
    archs = [
        cell.from_decisions({d: rename.get(o, o) for d, o in nb201.space.to_decisions(a).items()})
        for a in nb201.archs()
    ]
    frame = pd.DataFrame({"arch": [str(a) for a in archs], "valid_accuracy@200": nb201.values("valid_accuracy", 200)})
    bench = ar.datasets.Benchmark.from_frame(frame, cell, key="exact")
    study = ar.studies.predictor_study(
        bench, metric="valid_accuracy", predictors=["xgb"], train_sizes=[20, 100], seeds=range(2), test_size=300
    )
    summary = ar.studies.summarize(study).set_index("train_size")
    printed_study = _cell_text(rn, nb, "ar.studies.predictor_study(")
    assert "8 runs in" in printed_study  # 2 predictors x 2 sizes x 2 seeds
    xgb = re.findall(r"^\s*\d+\s+xgb\s+(\d+)\s+(\S+)\s+(\S+)\s*$", printed_study, re.MULTILINE)
    assert [int(n) for n, _, _ in xgb] == [20, 100]
    for n, mean, std in xgb:
        assert float(mean) == pytest.approx(summary.loc[int(n), "kendall_tau_mean"], abs=1e-5)
        assert float(std) == pytest.approx(summary.loc[int(n), "kendall_tau_std"], abs=1e-5)

    oracle = ar.search.BenchmarkOracle(bench, metric="valid_accuracy", report=())
    best = [ar.search.run("random", cell, oracle, budget=25, seed=s, progress=False).best().score for s in range(2)]
    searched = _row(_cell_text(rn, nb, "ar.search.final_summary(runs)"), "random")
    assert searched[0] == "2"
    assert float(searched[1]) == pytest.approx(sum(best) / 2, abs=1e-5)


@pytest.mark.slow
def test_host_tools_notebook_runs_with_small_parameters(rn: Any, tmp_path: Path) -> None:
    """Optuna and Syne Tune with and without archrank (no BoTorch, no Ray), and the resumed study."""
    pytest.importorskip("optuna")
    pytest.importorskip("syne_tune")
    nb = _run_small(rn, "host_tools.ipynb", tmp_path)
    text = rn.printed(nb)
    assert "the Optuna sampler proposes what ar.search.run proposes: True" in text
    resumed = "trials: {'COMPLETE': 19, 'FAIL': 1}; distinct architectures: 20 of 20; "
    resumed += "told to the new sampler's strategy: 20"
    assert resumed in text
    assert "syne-tune botorch" not in text and "skipped (RAY = False)" in text

    oracle = ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"), metric="valid_accuracy", epochs=200)
    best = ar.search.run("npenas", "nb201", oracle, budget=30, seed=100, progress=False, **GUIDED).best()
    row = _row(_cell_text(rn, nb, "optuna_table = pd.DataFrame(rows)"), "optuna + archrank npenas")
    assert float(row[0]) == pytest.approx(best.score, abs=6e-4)  # valid mean over the one seed
    assert float(row[2]) == pytest.approx(best.metrics["test_accuracy"], abs=6e-4)
