"""What a new user tripped on (issue 21, point 5): one regression test per item.

Items tested elsewhere, beside the code they exercise: the in-flight table and the resume that names
what it redoes (tests/test_search_run.py, tests/test_search_store.py), the search whose every evaluation
fails (tests/test_search_run.py), the README's data size and quick-start numbers (tests/test_readme.py),
scikit-learn's estimator checks (tests/test_sklearn_conformance.py).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from typer.testing import CliRunner

import archrank as ar
from archrank.cli import app
from archrank.predictors.registry import registered_name


def _nb201(n: int, seed: int = 0) -> tuple[list, np.ndarray]:
    archs = ar.spaces.get("nb201").sample(n, seed=seed)
    bench = ar.datasets.load("nb201", "cifar10-valid")
    return archs, np.array([bench.query(a, metric="valid_accuracy") for a in archs])


# --- one thread setting ----------------------------------------------------------------------


def test_predictors_use_one_thread_by_default_and_the_environment_variable_or_argument_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = np.random.default_rng(0).random((30, 4)), np.arange(30.0)
    monkeypatch.delenv("ARCHRANK_THREADS", raising=False)
    fitted = ar.predictors.make("xgb", n_estimators=5, n_members=1).fit(X, y)
    assert fitted.members_[0].get_params()["n_jobs"] == 1
    assert ar.predictors.make("rf", n_estimators=5).fit(X, y).forest_.n_jobs == 1
    monkeypatch.setenv("ARCHRANK_THREADS", "2")
    assert ar.predictors.make("xgb", n_estimators=5, n_members=1).fit(X, y).members_[0].get_params()["n_jobs"] == 2
    assert ar.predictors.make("rf", n_estimators=5, n_threads=1).fit(X, y).forest_.n_jobs == 1  # the argument wins
    monkeypatch.setenv("ARCHRANK_THREADS", "many")
    with pytest.raises(ValueError, match="ARCHRANK_THREADS must be a whole number >= 1, got 'many'"):
        ar.predictors.make("rf", n_estimators=5).fit(X, y)


def test_torch_threads_are_limited_while_a_predictor_fits_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from archrank._threads import limit_threads

    monkeypatch.delenv("ARCHRANK_THREADS", raising=False)
    before = torch.get_num_threads()
    with limit_threads() as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_cli_threads_sets_the_variable_that_every_step_and_worker_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHRANK_THREADS", raising=False)
    result = CliRunner().invoke(app, ["--threads", "3", "spaces"])
    assert result.exit_code == 0, result.output
    assert os.environ["ARCHRANK_THREADS"] == "3"
    bad = CliRunner().invoke(app, ["--threads", "0", "spaces"])
    assert bad.exit_code == 2 and "--threads" in bad.output


# --- predictors on plain matrices, nested parameters, feature names ----------------------------


def test_ensemble_on_a_plain_matrix_uses_its_feature_vector_members_and_cross_validates() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((60, 8))
    y = X @ rng.random(8) + 0.05 * rng.standard_normal(60)
    ens = ar.predictors.make("ensemble", random_state=0)
    scores = cross_val_score(ens, X, y, cv=3)
    assert np.isfinite(scores).all() and scores.mean() > 0.3
    fitted = ens.fit(X, y)
    assert [registered_name(type(m)) for m in fitted.members_] == ["xgb", "gp"]  # gnn reads graphs: left out, and said
    assert fitted.predict(X[:5]).shape == (5,)


def test_nested_member_hyperparameters_of_an_ensemble_reach_grid_search() -> None:
    ens = ar.predictors.make("ensemble", members=("xgb", "rf"))
    assert ens.get_params()["members__xgb__max_depth"] == 6
    ens.set_params(members__xgb__max_depth=2, members__xgb__n_estimators=10, members__rf__n_estimators=10)
    assert ens.get_params()["members__xgb__max_depth"] == 2
    rng = np.random.default_rng(1)
    X, y = rng.random((40, 3)), rng.random(40)
    grid = GridSearchCV(ens, {"members__xgb__max_depth": [1, 3]}, cv=2).fit(X, y)
    assert grid.best_params_["members__xgb__max_depth"] in (1, 3)
    with pytest.raises(ar.UnknownChoiceError, match="unknown ensemble member 'gp'"):
        ens.set_params(members__gp__kernel="rbf")


def test_reordered_feature_columns_are_an_error_not_silently_other_predictions() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((40, 8)), columns=list("abcdefgh"))
    model = ar.predictors.make("xgb", n_estimators=20, random_state=0).fit(frame, frame.sum(axis=1))
    assert list(model.feature_names_in_) == list("abcdefgh")
    with pytest.raises(ValueError, match="the columns are in another order"):
        model.predict(frame[list("hgfedcba")])
    np.testing.assert_allclose(model.predict(frame), model.predict(frame.to_numpy()))  # unnamed: in fitted order


def test_a_list_of_int_tuples_for_a_space_predictor_is_an_error() -> None:
    archs, y = _nb201(30)
    space = ar.spaces.get("nb201")
    as_ints = [tuple(space.ops.index(op) for op in a.ops) for a in archs]
    with pytest.raises(TypeError, match="not architectures of the nb201 space"):
        ar.predictors.make("xgb", space="nb201").fit(as_ints, y)
    declared = ar.predictors.make("xgb", space="nb201", n_estimators=10).fit(np.array(as_ints), y)  # a matrix
    assert declared.n_features_in_ == 6


def test_an_nb101_cell_given_to_an_nb201_predictor_names_both_spaces() -> None:
    _, y = _nb201(10)
    nb101 = ar.spaces.get("nb101").sample(10, seed=0)
    with pytest.raises(ar.InvalidArchitectureError, match=r"an architecture of the nb101 space .* nb201"):
        ar.predictors.make("xgb", space="nb201").fit(nb101, y)


def test_hyperparameters_are_validated_with_an_archrank_error() -> None:
    with pytest.raises(ar.InvalidHyperparameterError, match=r"'max_depth' of XGBPredictor must be .*got -3"):
        ar.predictors.make("xgb", max_depth=-3)
    est = ar.predictors.make("xgb").set_params(learning_rate=np.float64(np.nan))
    with pytest.raises(ar.InvalidHyperparameterError, match=r"got nan$"):  # a number, not np.float64(nan)
        est.fit(np.random.default_rng(0).random((10, 2)), np.arange(10.0))


# --- flops and params ------------------------------------------------------------------------


def test_flops_duplicates_params_on_nb201_and_proxy_features_drops_the_repeat() -> None:
    table = ar.proxies.load_precomputed("nb201", "cifar10")
    from scipy.stats import kendalltau

    assert kendalltau(table["flops"], table["params"]).statistic == pytest.approx(1.0)
    archs, y = _nb201(30)
    model = ar.predictors.make(
        "proxy_features", estimator=ar.predictors.make("xgb", n_estimators=10), proxies=["params", "nwot", "flops"]
    ).fit(archs, y)
    assert model.dropped_features_ == {"flops": "params"}
    assert model.proxies_used_ == ["params", "nwot"] and list(model.reference_.columns) == ["params", "nwot"]
    assert model.predict(archs[:3]).shape == (3,)


def test_repeated_rankings_needs_enough_cells_and_catches_reversed_order() -> None:
    from archrank.predictors.proxy_features import repeated_rankings

    x = np.arange(30.0)
    frame = pd.DataFrame({"a": x, "b": 2 * x + 1, "c": -x, "d": np.sin(x)})
    assert repeated_rankings(frame) == {"b": "a", "c": "a"}
    assert repeated_rankings(frame.head(5)) == {}  # too few cells to tell a duplicate from chance


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_version_short_help_top_k_and_query_by_index() -> None:
    runner = CliRunner()
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == f"archrank {ar.__version__}"
    assert runner.invoke(app, ["-h"]).exit_code == 0
    top = runner.invoke(app, ["top", "nb201", "--dataset", "cifar10", "--top-k", "3"])
    assert top.exit_code == 0 and len(re.findall(r"^\s*\d+\s+row", top.output, re.MULTILINE)) == 3, top.output
    assert runner.invoke(app, ["top", "nb201", "--dataset", "cifar10", "-k", "3"]).output == top.output
    by_index = runner.invoke(app, ["query", "nb201", "6111", "--metric", "test_accuracy"])
    assert by_index.exit_code == 0 and "94.3733" in by_index.output, by_index.output


def test_cli_help_has_single_flags_and_uses_more_than_80_columns() -> None:
    out = CliRunner().invoke(app, ["proxies", "-h"], terminal_width=200).output
    assert "--no-cache" in out and "--no-no-cache" not in out and "[default: no-" not in out
    assert "--no-precomputed" in out and "--workers" in out and "--scheduler" in out
    assert max(len(line) for line in out.splitlines()) > 80


def test_cli_no_cache_and_no_precomputed_mean_what_the_readme_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    cache = tmp_path / "scores.sqlite"
    arch = str(ar.spaces.get("nb201").from_index(6111))
    base = ["proxies", "nb201", arch, "-x", "params", "--cache", str(cache)]
    assert runner.invoke(app, base).exit_code == 0
    assert not cache.exists()  # every score came from the shipped table: nothing computed, nothing cached
    assert runner.invoke(app, [*base, "--no-precomputed"]).exit_code == 0 and cache.exists()
    assert runner.invoke(app, [*base, "--no-precomputed", "--no-cache"]).exit_code == 0


def test_no_empty_progress_bar_when_every_score_comes_from_the_shipped_table(capsys: pytest.CaptureFixture) -> None:
    archs = ar.spaces.get("nb201").sample(5, seed=0)
    table = ar.proxies.compute(archs, ["params", "nwot"], space="nb201", cache=None, progress=True)
    assert table.attrs["sources"] == {"shipped_table": 5, "cache": 0, "computed": 0}
    assert "arch [" not in capsys.readouterr().err  # no "0arch [00:00, ?arch/s]"


def test_cli_workers_and_scheduler_options(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["proxies", "nb201", "--sample", "2", "-x", "params", "--no-precomputed", "--no-cache"]
    both = runner.invoke(app, [*base, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert both.exit_code == 2 and "not both" in both.output
    bad = runner.invoke(app, [*base, "--scheduler", "localhost"])
    assert bad.exit_code == 2 and "tcp://host:8786" in bad.output


@pytest.mark.slow
def test_cli_proxies_on_local_worker_processes_equal_the_serial_scores() -> None:
    runner = CliRunner()
    base = ["proxies", "nb201", "--sample", "3", "-x", "params", "-x", "nwot", "--no-precomputed", "--no-cache"]
    serial = runner.invoke(app, base)
    workers = runner.invoke(app, [*base, "--workers", "2"])
    assert serial.exit_code == 0 and workers.exit_code == 0, workers.output
    assert workers.stdout == serial.stdout  # the table; the progress bars (stderr) say where it ran


# --- messages --------------------------------------------------------------------------------


def test_messages_show_numbers_not_numpy_reprs() -> None:
    bench = ar.datasets.load("nb201", "cifar10")
    with pytest.raises(ar.UnknownChoiceError) as err:
        bench.info("test_accuracy", np.int64(7))
    assert "np." not in str(err.value) and "7" in str(err.value)
    with pytest.raises(ar.UnknownChoiceError) as err:
        ar.spaces.get(np.str_("nb999"))
    assert "np." not in str(err.value) and "'nb999'" in str(err.value)
    from archrank.search.oracles import checked_score

    assert checked_score(np.float64(np.nan)) == (pytest.approx(np.nan, nan_ok=True), "the oracle returned nan")
    out = CliRunner().invoke(app, ["datasets"]).output
    assert "np." not in out, out


def test_encodings_docstring_states_the_widths_encode_gives() -> None:
    import archrank.encodings as enc

    rows = re.findall(r"^(\w+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s", enc.__doc__, re.MULTILINE)
    assert len(rows) >= 6
    for name, *widths in rows:
        if name == "gnn_embedding":  # needs a trained network: its width is the predictor's hidden size
            continue
        for space, stated in zip(("nb201", "nb101", "darts"), widths, strict=True):
            arch = ar.spaces.get(space).sample(1, seed=0)
            encoded = enc.encode(arch, name)
            width = encoded[0].x.shape[1] if name == "graph" else np.asarray(encoded).shape[1]
            assert width == int(stated.replace(",", "")), (name, space, width, stated)
