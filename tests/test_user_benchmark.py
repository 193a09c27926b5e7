"""A Benchmark from the user's own results table: parsing, bad rows, and every consumer of a Benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archrank as ar
from archrank.datasets.user_table import BadRowError
from archrank.errors import DataFileError, UnknownArchitectureError, UnknownChoiceError

sys.path.insert(0, str(Path(__file__).parent))
import own_spaces

macro, tiny = own_spaces.macro, own_spaces.tiny_cell
Benchmark = ar.datasets.Benchmark
TESTS = Path(__file__).parent


def _macro_frame() -> pd.DataFrame:
    archs = macro.all()
    score = np.array([own_spaces.macro_score(a) for a in archs])
    return pd.DataFrame(
        {"arch": [str(a) for a in archs], "score@20": score, "score@5": score - 10.0, "params": np.arange(len(archs))}
    )


def _isomorphic_pair() -> tuple[object, object]:
    base = {d: 0 for d in tiny.decisions if "->" in d}
    edges = {**base, "0->1": 1, "0->2": 1, "1->4": 1, "2->4": 1}
    a = tiny.from_decisions({**edges, "node1": "conv3", "node2": "pool", "node3": "conv1"})
    b = tiny.from_decisions({**edges, "node1": "pool", "node2": "conv3", "node3": "conv3"})
    assert a != b and tiny.canonical(a) == tiny.canonical(b)
    return a, b


# --- building the table ------------------------------------------------------------------------
def test_columns_metrics_epochs_and_queries() -> None:
    frame = _macro_frame()
    bench = Benchmark.from_frame(frame, macro, units={"score": "%", "params": "M"})
    assert len(bench) == len(frame) == 52 and bench.space is macro and bench.dataset == "user"
    assert bench.metrics() == {"score": [5, 20], "params": [None]}
    assert bench.info("score").epochs == 20 and bench.info("score", 5).unit == "%" and bench.info("params").unit == "M"
    best = max(macro.all(), key=own_spaces.macro_score)
    assert bench.query(str(best), "score") == own_spaces.macro_score(best)
    assert bench.query(best, "score", 5) == own_spaces.macro_score(best) - 10.0
    assert bench.top(1, "score").iloc[0]["score@20"] == frame["score@20"].max()
    assert [str(a) for a in bench.archs()] == list(frame.arch)
    with pytest.raises(UnknownChoiceError, match="epochs"):
        bench.query(best, "score", 7)


def test_the_same_space_by_name_and_by_module_attribute() -> None:
    frame = _macro_frame()
    assert Benchmark.from_frame(frame, "test-macro").space is macro
    assert Benchmark.from_frame(frame, "own_spaces:macro").space is macro
    with pytest.raises(UnknownChoiceError, match="not-registered"):
        Benchmark.from_frame(frame, "not-registered")


def test_metrics_chosen_and_columns_named() -> None:
    frame = _macro_frame().assign(notes="trained on a laptop")
    with pytest.raises(BadRowError, match=r"row 1: column 'notes' has a value that is not a finite number"):
        Benchmark.from_frame(frame, macro)
    bench = Benchmark.from_frame(frame, macro, metrics=["score@20"])
    assert bench.metrics() == {"score": [20]}
    with pytest.raises(UnknownChoiceError, match="metric column 'accuracy'"):
        Benchmark.from_frame(frame, macro, metrics=["accuracy"])
    with pytest.raises(UnknownChoiceError, match="architecture column 'cell'"):
        Benchmark.from_frame(frame, macro, arch="cell")
    with pytest.raises(UnknownChoiceError, match="on_bad"):
        Benchmark.from_frame(frame, macro, metrics=["params"], on_bad="ignore")
    with pytest.raises(ValueError, match=r"column 'score' has no epoch budget but \['score@20', 'score@5'\]"):
        Benchmark.from_frame(frame.assign(score=1.0), macro, metrics=["score", "score@20", "score@5"])
    with pytest.raises(ValueError, match="no rows"):
        Benchmark.from_frame(frame.iloc[:0], macro)


def test_isomorphic_rows_share_a_row_and_conflicts_are_named() -> None:
    a, b = _isomorphic_pair()
    other = tiny.sample(1, seed=3)[0]
    assert tiny.canonical(other) != tiny.canonical(a)
    same = Benchmark.from_frame(pd.DataFrame({"arch": [str(a), str(other), str(b)], "acc": [90.0, 80.0, 90.0]}), tiny)
    assert len(same) == 2 and same.query(b, "acc") == 90.0 and b in same  # b finds a's row
    conflicting = pd.DataFrame({"arch": [str(a), str(other), str(b)], "acc": [90.0, 80.0, 91.0]})
    with pytest.raises(BadRowError, match=r"row 3 \(.*\) is the same cell as row 1 .* 'acc' differs \(91.0 vs 90.0\)"):
        Benchmark.from_frame(conflicting, tiny)
    with pytest.warns(UserWarning, match="dropped 2 bad row"):
        kept = Benchmark.from_frame(conflicting, tiny, on_bad="drop")
    assert [str(x) for x in kept.archs()] == [str(other)] and a not in kept  # both sides of the conflict go
    exact = Benchmark.from_frame(conflicting, tiny, key="exact")
    assert len(exact) == 3 and exact.query(b, "acc") == 91.0 and exact.query(a, "acc") == 90.0
    with pytest.raises(UnknownArchitectureError, match="not among the 3 architectures"):
        exact.row(tiny.sample(1, seed=11)[0])


def test_bad_rows_name_the_row_or_are_dropped(tmp_path: Path) -> None:
    frame = _macro_frame().head(6).copy()
    frame.loc[2, "arch"] = "layer0=conv7,layer1=skip,layer2=skip,width=8"
    frame.loc[4, "score@20"] = np.nan
    with pytest.raises(BadRowError, match=r"^row 3: .*conv7.* \(1 more bad row"):
        Benchmark.from_frame(frame, macro)
    with pytest.warns(UserWarning, match="dropped 2 bad row"):
        bench = Benchmark.from_frame(frame, macro, on_bad="drop")
    assert len(bench) == 4 and frame.arch[4] not in bench
    frame.to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(BadRowError, match=r"results.csv, line 4: .*conv7"):
        Benchmark.from_csv(tmp_path / "results.csv", macro)
    nan_only = frame.drop(index=2)
    nan_only.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(BadRowError, match=r"nan.csv, line 5: column 'score@20' has no value"):
        Benchmark.from_csv(tmp_path / "nan.csv", macro)
    with pytest.warns(UserWarning, match="results.csv, line 4"):
        dropped = Benchmark.from_csv(tmp_path / "results.csv", macro, on_bad="drop")
    assert dropped.info("score").source.endswith("results.csv") and len(dropped) == 4


def test_missing_or_unreadable_files_are_data_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        Benchmark.from_csv(tmp_path / "absent.csv", macro)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="cannot read"):
        Benchmark.from_csv(tmp_path / "empty.csv", macro)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.integers(0, 51), min_size=1, max_size=30, unique=True),
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=30, max_size=30),
)
def test_frame_round_trips(rows: list[int], values: list[float]) -> None:
    archs = macro.all()
    frame = pd.DataFrame({"arch": [str(archs[r]) for r in rows], "acc@3": values[: len(rows)]})
    bench = Benchmark.from_frame(frame, macro)
    again = Benchmark.from_frame(bench.frame(), macro)
    pd.testing.assert_frame_equal(again.frame(), frame)


# --- everything that takes a Benchmark ---------------------------------------------------------
def test_a_predictor_study_on_a_user_table(tmp_path: Path) -> None:
    bench = Benchmark.from_frame(_macro_frame(), macro)
    kwargs = dict(
        metric="score", predictors=["xgb", "gp"], train_sizes=[10, 24], seeds=[0, 1], test_size=20, progress=False
    )
    table = ar.studies.predictor_study(bench, checkpoint=tmp_path / "study.csv", **kwargs)
    assert len(table) == 8 and set(table.benchmark) == {"test-macro"} and set(table.epochs) == {20}
    assert table[table.train_size == 24].kendall_tau.mean() > 0.5
    again = ar.studies.predictor_study(bench, checkpoint=tmp_path / "study.csv", **kwargs)  # resumed: same numbers
    pd.testing.assert_series_equal(again.kendall_tau, table.kendall_tau)


def test_a_search_through_a_benchmark_oracle() -> None:
    bench = Benchmark.from_frame(_macro_frame(), macro)
    oracle = ar.search.BenchmarkOracle(bench, metric="score", report=("params",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = ar.search.run("npenas", macro, oracle, budget=25, seed=0).frame()
    best = bench.values("score").max()
    assert len(history) == 25 and history.score.max() == best
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rand = ar.search.run("random", macro, oracle, budget=25, seed=0).frame()
    assert set(rand.arch) <= {str(a) for a in bench.archs()}


def test_a_proxy_study_on_a_user_table() -> None:
    bench = Benchmark.from_frame(_macro_frame(), macro)
    archs = bench.archs()[:16]
    scores = ar.proxies.compute(archs, ["params", "synflow"], space=macro, cache=None, progress=False)
    table = ar.studies.proxy_study(scores, bench, metric="score", search_combinations=0)
    assert set(table.proxies) == {"params", "synflow"} and (table.n == 16).all()
    assert np.isfinite(table.kendall_tau).all()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def test_cli_rank_reads_the_same_table(tmp_path: Path) -> None:
    frame = _macro_frame()
    frame.iloc[::2].to_csv(tmp_path / "results.csv", index=False)
    cands = tmp_path / "candidates.csv"
    frame.iloc[1::2][["arch"]].to_csv(cands, index=False)
    out = tmp_path / "ranked.csv"
    cmd = [sys.executable, "-m", "archrank.cli", "rank", "own_spaces:macro", "--train", str(tmp_path / "results.csv")]
    cmd += ["--target", "score@20", "--candidates", str(cands), "-p", "xgb", "--out", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    assert run.returncode == 0, run.stdout + run.stderr
    ranked = pd.read_csv(out)
    truth = Benchmark.from_frame(frame, macro).values("score", archs=list(ranked.arch))
    assert len(ranked) == 26 and ar.metrics.kendall_tau(truth, -np.arange(len(truth))) > 0.3


def test_cli_commands_read_a_user_table(tmp_path: Path) -> None:
    frame = _macro_frame()
    frame.to_csv(tmp_path / "macro.csv", index=False)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "archrank.cli", *args], capture_output=True, text=True, env=_env(), cwd=tmp_path
        )

    best = frame.loc[frame["score@20"].idxmax()]
    top = cli("top", "own_spaces:macro", "--table", "macro.csv", "--metric", "score", "-k", "3")
    assert top.returncode == 0, top.stderr
    assert f"{best['score@20']:10.4f}  {best.arch}" in top.stdout.splitlines()[1]
    query = cli("query", "own_spaces:macro", frame.arch[7], "--table", "macro.csv")
    assert query.returncode == 0 and f"score@5: {frame['score@5'][7]:.6g}" in query.stdout
    study = cli(
        "study", "predictors", "own_spaces:macro", "--table", "macro.csv", "--metric", "score", "-p", "xgb",
        "--train-sizes", "10,20", "--seeds", "2", "--test-size", "20",
    )  # fmt: skip
    assert study.returncode == 0, study.stderr
    assert "xgb" in study.stdout and "   20" in study.stdout
    found = cli("search", "own_spaces:macro", "--table", "macro.csv", "--metric", "score", "-s", "npenas",
                "--budget", "20", "--report", "params")  # fmt: skip
    assert found.returncode == 0, found.stderr
    missing = cli("top", "own_spaces:macro", "--metric", "score")
    assert missing.returncode == 2 and "pass your results with --table" in missing.stderr
    absent = cli("top", "own_spaces:macro", "--table", "nothing.csv")
    assert absent.returncode == 3 and "nothing.csv does not exist" in absent.stderr


def test_cli_imports_a_space_module_from_the_folder_it_runs_in(tmp_path: Path) -> None:
    (tmp_path / "folder_spaces.py").write_text(
        "import archrank as ar\nchain = ar.spaces.Choices('folder-chain', {'a': [1, 2, 3], 'b': ['x', 'y']})\n"
    )
    pd.DataFrame({"arch": ["a=1,b=x", "a=3,b=y"], "acc": [70.0, 75.5]}).to_csv(tmp_path / "r.csv", index=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = Path(sys.executable).parent / "archrank"  # the console script: no '' on its sys.path
    cmd = [str(script), "top", "folder_spaces:chain", "--table", "r.csv"]
    run = subprocess.run([*cmd, "--metric", "acc", "-k", "1"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "top 1 of folder-chain/r by acc\n" in run.stdout and "75.5000  a=3,b=y" in run.stdout
