"""Ranking the user's candidates: results and candidate files, rank_candidates and `archrank rank`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import archrank as ar
from archrank.cli import app
from archrank.errors import InvalidArchitectureError, UnknownChoiceError
from archrank.predictors import make, rank_candidates

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def bench() -> ar.datasets.Benchmark:
    return ar.datasets.load("nb201", "cifar10-valid")


@pytest.fixture()
def results_csv(bench, tmp_path):  # type: ignore[no-untyped-def]
    """100 random NB201 cells with their real 200-epoch validation accuracy, as a user's results file."""
    archs = bench.archs()
    chosen = [archs[i] for i in np.random.default_rng(0).permutation(len(archs))[:100]]
    path = tmp_path / "mine.csv"
    pd.DataFrame(
        {"arch": [str(a) for a in chosen], "accuracy": bench.values("valid_accuracy", 200, chosen), "note": "x"}
    ).to_csv(path, index=False)
    return path


def test_read_results_round_trips_a_csv(results_csv, bench) -> None:  # type: ignore[no-untyped-def]
    archs, y = ar.datasets.read_results(results_csv, "nb201")  # the only numeric column is the target
    assert len(archs) == len(y) == 100 and y.dtype == np.float64
    np.testing.assert_array_equal(y, bench.values("valid_accuracy", 200, archs))
    again, y2 = ar.datasets.read_results(results_csv, ar.spaces.get("nb201"), target="accuracy")
    assert again == archs and (y2 == y).all()


def test_results_file_errors_name_the_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="does not exist"):
        ar.datasets.read_results(tmp_path / "nope.csv", "nb201")
    path = tmp_path / "r.csv"
    path.write_text("cell,acc\nx,1\n")
    with pytest.raises(ValueError, match="no 'arch' column"):
        ar.datasets.read_results(path, "nb201")
    path.write_text(f"arch,acc,loss\n{BEST},94.0,0.2\n")
    with pytest.raises(ValueError, match="name the target column"):
        ar.datasets.read_results(path, "nb201")
    with pytest.raises(UnknownChoiceError, match="accuracy"):
        ar.datasets.read_results(path, "nb201", target="accuracy")
    path.write_text(f"arch,acc\n{BEST},94.0\n{BEST},\n{BEST},n/a\n")
    with pytest.raises(ValueError, match=r"2 row.*first is row 2"):
        ar.datasets.read_results(path, "nb201", target="acc")
    path.write_text(f"arch,acc\n{BEST},94.0\n|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|,50\n")
    with pytest.raises(InvalidArchitectureError, match=r"row 2.*bogus"):
        ar.datasets.read_results(path, "nb201")
    path.write_text("arch,acc\n")
    with pytest.raises(ValueError, match="no rows"):
        ar.datasets.read_results(path, "nb201")


def test_read_architectures_from_text_and_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = ar.spaces.get("nb201")
    cells = space.sample(3, seed=1)
    text = tmp_path / "c.txt"
    text.write_text("# my candidates\n\n" + "\n".join(str(c) for c in cells) + "\n")
    assert ar.datasets.read_architectures(text, "nb201") == cells
    table = tmp_path / "c.csv"
    pd.DataFrame({"arch": [str(c) for c in cells]}).to_csv(table, index=False)
    assert ar.datasets.read_architectures(table, space) == cells
    text.write_text(f"# header\n{cells[0]}\n\n|bad\n")
    with pytest.raises(InvalidArchitectureError, match="line 4"):
        ar.datasets.read_architectures(text, "nb201")
    text.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="lists no architectures"):
        ar.datasets.read_architectures(text, "nb201")
    # NB101 strings hold commas: a .csv quotes them, and a text file keeps them on one line
    nb101 = ar.spaces.get("nb101").sample(2, seed=0)
    text.write_text("\n".join(str(c) for c in nb101))
    assert ar.datasets.read_architectures(text, "nb101") == nb101
    pd.DataFrame({"arch": [str(c) for c in nb101]}).to_csv(table, index=False)
    assert ar.datasets.read_architectures(table, "nb101") == nb101


def test_rank_candidates_orders_by_the_predicted_mean(bench) -> None:  # type: ignore[no-untyped-def]
    archs = bench.archs()
    train, cands = archs[:80], archs[1000:1300]
    model = make("rf", space="nb201", n_estimators=40, random_state=0).fit(
        train, bench.values("valid_accuracy", 200, train)
    )
    ranked = rank_candidates(model, cands)
    assert list(ranked.columns) == ["rank", "arch", "predicted", "std"]
    assert list(ranked["rank"]) == list(range(1, 301))
    mean, std = model.predict(cands, return_std=True)
    order = np.argsort(-mean, kind="stable")
    assert list(ranked.arch) == [str(cands[i]) for i in order]
    np.testing.assert_array_equal(ranked.predicted, mean[order])
    np.testing.assert_array_equal(ranked["std"], std[order])
    with pytest.raises(ValueError, match="no candidates"):
        rank_candidates(model, [])


def test_cli_ranks_every_nb201_cell_from_a_users_results(results_csv, bench, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out, saved = tmp_path / "ranked.csv", tmp_path / "model.pt"
    args = ["rank", "nb201", "--train", str(results_csv), "--target", "accuracy", "--all", "-p", "xgb"]
    args += [
        "--set",
        "xgb.n_members=2",
        "--set",
        "xgb.n_estimators=100",
        "-k",
        "5",
        "--out",
        str(out),
        "--save",
        str(saved),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(out)
    space = ar.spaces.get("nb201")
    trained = {space.canonical(space.parse(a)) for a in pd.read_csv(results_csv).arch}
    expected = [a for a in space.all() if space.canonical(a) not in trained]
    assert sorted(ranked.arch) == sorted(str(a) for a in expected)  # every other cell, once
    assert f"{15625 - len(expected)} candidate(s)" in result.output
    truth = bench.values("valid_accuracy", 200, list(ranked.arch))
    # 100 real results rank the rest of the space well, and the top of the ranking is strong
    assert ar.metrics.kendall_tau(truth, ranked.predicted.to_numpy()) > 0.45
    assert truth[:50].mean() > 89.0 > np.median(truth)
    assert ranked.predicted.is_monotonic_decreasing
    shown = [line for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert len(shown) == 5 and ranked.arch[0] in shown[0]
    model = ar.predictors.load(saved)
    # the saved predictor gives the ranked predictions again (the CSV holds them to float precision)
    np.testing.assert_allclose(model.predict(list(ranked.arch[:20])), ranked.predicted[:20], rtol=1e-12)


def test_cli_rank_with_proxy_features_and_candidate_file(results_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    space = ar.spaces.get("nb201")
    cands = tmp_path / "c.txt"
    cands.write_text("\n".join(str(a) for a in space.sample(40, seed=5)) + f"\n{BEST}\n")
    out = tmp_path / "r.csv"
    args = ["rank", "nb201", "--train", str(results_csv), "--candidates", str(cands), "-p", "rf"]
    args += ["--set", "rf.n_estimators=50", "--proxy-features", "synflow,nwot,zico", "--cache", str(tmp_path / "c.db")]
    args += ["--out", str(out), "--keep-known"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(out)
    assert len(ranked) == 41 and BEST in set(ranked.arch)
    # the best cell of the space is ranked in the top quarter of these candidates
    assert int(ranked.loc[ranked.arch == BEST, "rank"].iloc[0]) <= 10
    # features are quantiles among the shipped table, so they do not depend on the candidate set:
    # ranking a subset again gives the same predictions for it
    assert "quantiles among the shipped nb201/cifar10 table" in result.output
    subset = tmp_path / "subset.txt"
    subset.write_text("\n".join(ranked.arch[::4]) + "\n")
    again = tmp_path / "again.csv"
    args[args.index(str(cands))] = str(subset)
    args[args.index(str(out))] = str(again)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    second = pd.read_csv(again).set_index("arch").predicted
    assert sorted(second.index) == sorted(ranked.arch[::4])
    np.testing.assert_allclose(second, ranked.set_index("arch").predicted.loc[second.index])


def test_cli_rank_errors(results_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = ["rank", "nb201", "--train", str(results_csv)]
    for extra, message in (
        ([], "exactly one of"),
        (["--all", "--sample", "5"], "exactly one of"),
        (["--all", "-p", "svm"], "svm"),
        (["--all", "--set", "gnn.epochs=3"], "not run"),
        (["--candidates", str(tmp_path / "none.txt")], "does not exist"),
        (["--candidates", str(results_csv)], "already in"),
        (["--all", "-p", "rf", "--set", "rf.random_state=x"], "random_state"),
    ):
        result = CliRunner().invoke(app, base + extra)
        assert result.exit_code == 2 and message in result.output, (extra, result.output)
    result = CliRunner().invoke(app, ["rank", "nb201", "--train", str(tmp_path / "nope.csv"), "--all"])
    assert result.exit_code == 2 and "does not exist" in result.output
    darts = ar.datasets.load("darts")
    cells = darts.archs()[:10]
    path = tmp_path / "darts.csv"
    pd.DataFrame({"arch": [str(a) for a in cells], "acc": darts.values("valid_accuracy", None, cells)}).to_csv(
        path, index=False
    )
    result = CliRunner().invoke(app, ["rank", "darts", "--train", str(path), "--all"])
    assert result.exit_code == 2 and "too large to enumerate" in result.output and "--sample" in result.output
