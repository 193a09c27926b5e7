"""Predictor study: splits, the tidy table, checkpoint/resume, the plot and the CLI."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from archrank import studies
from archrank.cli import app
from archrank.predictors import make


def test_splits_are_nested_and_disjoint_from_the_test_set() -> None:
    test, orders = studies.study_splits(500, [10, 50], seeds=[0, 1], test_size=100, test_seed=0)
    assert len(test) == 100 and len(set(test)) == 100
    for order in orders.values():
        assert len(order) == 50 and not set(order) & set(test)
    assert not np.array_equal(orders[0], orders[1])
    again, orders2 = studies.study_splits(500, [10, 50], seeds=[0, 1], test_size=100, test_seed=0)
    np.testing.assert_array_equal(test, again)
    np.testing.assert_array_equal(orders[1], orders2[1])
    with pytest.raises(ValueError, match="needs more"):
        studies.study_splits(100, [50], seeds=[0], test_size=60, test_seed=0)


def _study(**kw):  # type: ignore[no-untyped-def]
    predictors = {"xgb": make("xgb", n_estimators=40, n_members=2), "rf": make("rf", n_estimators=30)}
    return studies.predictor_study(
        "nb201", predictors=predictors, train_sizes=(20, 60), seeds=range(2), test_size=200, progress=False, **kw
    )


def test_study_table_and_summary() -> None:
    table = _study()
    assert list(table.columns) == studies.STUDY_COLUMNS
    assert len(table) == 2 * 2 * 2
    assert set(table["predictor"]) == {"xgb", "rf"}
    assert (table["epochs"] == 200).all() and (table["dataset"] == "cifar10-valid").all()
    assert table["kendall_tau"].between(-1, 1).all()
    big = table[table["train_size"] == 60]["kendall_tau"].mean()
    assert big > 0.3
    summary = studies.summarize(table)
    assert len(summary) == 4 and (summary["n_seeds"] == 2).all()
    ax = studies.plot_predictor_study(table)
    assert len(ax.get_lines()) == 2
    sizes = sorted(table["train_size"].unique())
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(n) for n in sizes]


def test_checkpoint_resumes_without_refitting(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ckpt = tmp_path / "study.csv"
    first = _study(checkpoint=ckpt)
    assert len(pd.read_csv(ckpt)) == 8

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a finished run was fitted again")

    monkeypatch.setattr("archrank.predictors.trees.XGBPredictor.fit", boom)
    monkeypatch.setattr("archrank.predictors.trees.RFPredictor.fit", boom)
    again = _study(checkpoint=ckpt)
    pd.testing.assert_frame_equal(first.reset_index(drop=True), again.reset_index(drop=True), check_dtype=False)
    ckpt.write_text("garbage\x00,\n1,2,3\n")
    with pytest.raises(ValueError, match="checkpoint"):
        _study(checkpoint=ckpt)


def test_cli_study_predictors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out, plot = tmp_path / "t.csv", tmp_path / "t.png"
    args = ["study", "predictors", "nb201", "-p", "rf", "--train-sizes", "20,40", "--seeds", "2"]
    args += ["--test-size", "100", "--out", str(out), "--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rf" in result.output and out.exists() and plot.stat().st_size > 0
    assert len(pd.read_csv(out)) == 4
    bad = CliRunner().invoke(app, ["study", "predictors", "nb201", "-p", "svm", "--seeds", "1"])
    assert bad.exit_code == 2 and "svm" in bad.output
    one_seed = CliRunner().invoke(app, [*args[:6], "20", "--seeds", "1", "--test-size", "100"])
    assert one_seed.exit_code == 0 and "nan" not in one_seed.output  # no spread to show for a single seed


def test_cli_study_predictors_with_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out, checkpoint = tmp_path / "t.csv", tmp_path / "ck.csv"
    args = ["study", "predictors", "nb201", "-p", "rf", "-p", "tuned", "--train-sizes", "30", "--seeds", "2"]
    args += ["--test-size", "100", "--out", str(out), "--checkpoint", str(checkpoint), "--set", "rf.n_estimators=20"]
    args += [
        "--set",
        "tuned.estimator=rf",
        "--set",
        'tuned.param_grid={"n_estimators": [20], "min_samples_leaf": [1, 5]}',
    ]
    args += ["--set", "tuned.cv=3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    labels = set(pd.read_csv(out).predictor)
    tuned = 'tuned(cv=3,estimator=rf,param_grid={"n_estimators": [20], "min_samples_leaf": [1, 5]})'
    assert labels == {"rf(n_estimators=20)", tuned.replace('"', "'")}, labels
    # the same predictor name with other settings is another label, so the checkpoint does not serve it
    other = ["study", "predictors", "nb201", "-p", "rf", "--train-sizes", "30", "--seeds", "2", "--test-size", "100"]
    result = CliRunner().invoke(app, other + ["--checkpoint", str(checkpoint), "--set", "rf.n_estimators=30"])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(checkpoint).predictor) == labels | {"rf(n_estimators=30)"}
    for bad_set, message in (
        ("rf.n_trees=5", "n_trees"),
        ("gnn.epochs=5", "not run"),
        ("rf=5", "PREDICTOR.NAME=VALUE"),
    ):
        bad = CliRunner().invoke(app, other + ["--set", bad_set])
        assert bad.exit_code == 2 and message in bad.output, bad.output


def test_study_on_an_executor_equals_the_serial_study_and_checkpoints_as_runs_finish(tmp_path) -> None:  # type: ignore[no-untyped-def]
    serial = _study()
    ckpt = tmp_path / "procs.csv"
    procs = _study(executor="processes", workers=2, checkpoint=ckpt)  # one task per predictor x size x seed
    scores = ["predictor", "train_size", "seed", "kendall_tau", "spearman", "precision_at_10pct"]
    pd.testing.assert_frame_equal(procs[scores], serial[scores])
    assert len(pd.read_csv(ckpt)) == 8
    with pytest.raises(ValueError, match="unknown executor 'cluster'"):
        _study(executor="cluster")
