"""ProxyFeaturePredictor: a predictor over architectures that adds zero-cost proxy quantiles itself."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import archrank as ar
from archrank.cli import app
from archrank.metrics import kendall_tau
from archrank.predictors import make, with_features

SMALL_XGB = {"n_estimators": 60, "n_members": 2}
NAMES = ["synflow", "nwot", "zico"]


@pytest.fixture(scope="module")
def cells():  # type: ignore[no-untyped-def]
    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs, y = bench.archs(), bench.values("valid_accuracy", 200)
    perm = np.random.default_rng(3).permutation(len(archs))
    return [archs[i] for i in perm[:100]], y[perm[:100]], [archs[i] for i in perm[100:700]], y[perm[100:700]]


def test_equals_the_pipeline_written_by_hand_and_adds_signal(cells) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = cells
    model = make("proxy_features", estimator=make("xgb", **SMALL_XGB), proxies=NAMES, space="nb201", random_state=4)
    pred = model.fit(tr, ytr).predict(te)
    assert model.reference_source_ == "shipped" and model.reference_.shape == (15625, 3)
    # by hand: quantiles among the shipped table, appended to the encoding, the same seeded xgb
    table = ar.proxies.load_precomputed("nb201", "cifar10").set_index("arch")
    feats = ar.proxies.as_features(table.reset_index(), NAMES).set_index("arch")
    by_hand = make("xgb", space="nb201", random_state=4, **SMALL_XGB).fit(
        with_features(tr, feats.loc[[str(a) for a in tr]]), ytr
    )
    np.testing.assert_array_equal(pred, by_hand.predict(with_features(te, feats.loc[[str(a) for a in te]])))
    plain = make("xgb", space="nb201", random_state=4, **SMALL_XGB).fit(tr, ytr).predict(te)
    assert kendall_tau(yte, pred) > kendall_tau(yte, plain) + 0.1  # the proxies carry real signal


def test_features_do_not_depend_on_the_candidates_and_survive_save(cells, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = cells
    model = make("proxy_features", estimator="rf", proxies=NAMES, reference="fit", space="nb201", random_state=0)
    model.fit(tr, ytr)
    assert model.reference_source_ == "fit"
    own = ar.proxies.compute(tr, NAMES, space="nb201", progress=False)[NAMES]
    pd.testing.assert_frame_equal(model.reference_, own.astype(float))
    mean, std = model.predict(te, return_std=True)
    np.testing.assert_array_equal(model.predict(te[::7]), mean[::7])  # a subset reads the same features
    again = ar.predictors.load(model.save(tmp_path / "m.pt"))
    np.testing.assert_array_equal(again.predict(te, return_std=True)[1], std)
    given = make("proxy_features", estimator="rf", proxies=NAMES, reference=own, space="nb201", random_state=0)
    np.testing.assert_array_equal(given.fit(tr, ytr).predict(te), mean)
    assert given.reference_source_ == "given"


def test_nb101_scores_the_cells_itself(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bench = ar.datasets.load("nb101")
    archs, y = bench.archs()[:24], bench.values("valid_accuracy", 108)[:24]
    kwargs = dict(estimator="rf", proxies=("params", "flops"), cache=str(tmp_path / "c.db"), space="nb101")
    calls: list[int] = []
    real = ar.proxies.compute

    def counting(archs, *args, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(archs))
        return real(archs, *args, **kw)

    monkeypatch.setattr(ar.proxies, "compute", counting)
    model = make("proxy_features", random_state=0, **kwargs).fit(archs[:16], y[:16])
    assert calls == [16]  # the training cells are scored once, for the reference and the features
    assert model.reference_source_ == "fit"  # no NB101 table is shipped
    pred = model.predict(archs[16:])
    assert pred.shape == (8,) and np.isfinite(pred).all()
    # the candidates' scores were cached, so a second predictor reads them back and agrees
    np.testing.assert_array_equal(
        make("proxy_features", random_state=0, **kwargs).fit(archs[:16], y[:16]).predict(archs[16:]), pred
    )


def test_extra_columns_and_errors(cells, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = cells
    model = make("proxy_features", estimator="rf", proxies=NAMES, space="nb201", random_state=0)
    depth = np.arange(len(tr), dtype=float)
    model.fit(with_features(tr, {"depth": depth}), ytr)
    assert model.extra_feature_names_ == ["depth"] and model.estimator_.extra_feature_names_ == NAMES + ["depth"]
    assert model.predict(with_features(te[:5], {"depth": np.ones(5)})).shape == (5,)
    with pytest.raises(ValueError, match=r"fitted with extra feature columns \['depth'\]"):
        model.predict(te[:5])
    with pytest.raises(TypeError, match="architectures"):
        model.fit(np.zeros((4, 3)), np.arange(4.0))
    with pytest.raises(ValueError, match="proxy feature"):
        model.fit(with_features(tr, {"nwot": depth}), ytr)
    with pytest.raises(ValueError, match="no shipped proxy table for nb101/cifar10"):
        make("proxy_features", proxies=["params"], reference="shipped").fit(
            ar.datasets.load("nb101").archs()[:3], [1.0, 2.0, 3.0]
        )
    with pytest.raises(ValueError, match="'reference' of ProxyFeaturePredictor must be one of 'auto', 'shipped'"):
        make("proxy_features", proxies=NAMES, reference="all", space="nb201").fit(tr, ytr)
    with pytest.raises(ValueError, match="non-empty sequence"):
        make("proxy_features", proxies="nwot", space="nb201").fit(tr, ytr)
    # a proxy that failed on a candidate is an error naming it, not a silently imputed feature
    real = ar.proxies.compute

    def failing(archs, *args, **kwargs):  # type: ignore[no-untyped-def]
        table = real(archs, *args, **kwargs)
        table.loc[1, "zico"] = np.nan
        return table

    monkeypatch.setattr(ar.proxies, "compute", failing)
    X = with_features(te[:5], {"depth": np.ones(5)})
    with pytest.raises(ValueError, match=rf"NaN proxy score, the first is {re.escape(str(te[1]))} \(zico\)"):
        model.predict(X)
    # on_failed="median": the failed feature is 0.5 (no information), with a warning that names the cell
    model.set_params(on_failed="median")
    with pytest.warns(ar.proxies.ProxyWarning, match=re.escape(str(te[1]))):
        imputed = model.predict(X)
    monkeypatch.setattr(ar.proxies, "compute", real)
    by_hand = model._feature_frame(te[:5], real(te[:5], NAMES, space="nb201", progress=False), X[["depth"]])
    by_hand.loc[1, "zico"] = 0.5
    np.testing.assert_array_equal(imputed, model.estimator_.predict(by_hand))


def test_cli_saves_the_reference_with_the_model_and_ranks_with_it(cells, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = cells
    results = tmp_path / "results.csv"
    pd.DataFrame({"arch": [str(a) for a in tr[:60]], "acc": ytr[:60]}).to_csv(results, index=False)
    cands = tmp_path / "c.txt"
    cands.write_text("\n".join(str(a) for a in te[:50]) + "\n")
    first, second, model = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "m.pt"
    args = ["rank", "nb201", "--train", str(results), "--candidates", str(cands), "-p", "rf"]
    args += ["--proxy-features", ",".join(NAMES), "--out", str(first), "--save", str(model)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rf + proxies (synflow, nwot, zico)" in result.output
    loaded = ar.predictors.load(model)
    assert type(loaded).__name__ == "ProxyFeaturePredictor" and loaded.reference_source_ == "shipped"
    subset = tmp_path / "s.txt"
    subset.write_text("\n".join(str(a) for a in te[:50:3]) + "\n")
    result = CliRunner().invoke(
        app, ["rank", "nb201", "--model", str(model), "--candidates", str(subset), "--out", str(second)]
    )
    assert result.exit_code == 0, result.output
    a, b = pd.read_csv(first).set_index("arch"), pd.read_csv(second).set_index("arch")
    np.testing.assert_allclose(b.predicted, a.predicted.loc[b.index])
    for bad in (["--set", "rf.n_estimators=5"], ["--proxy-features", "nwot"], ["-p", "xgb"]):
        result = CliRunner().invoke(app, ["rank", "nb201", "--model", str(model), "--sample", "3", *bad])
        assert result.exit_code == 2 and "only apply with --train" in result.output
    result = CliRunner().invoke(app, ["rank", "nb201", "--sample", "3"])
    assert result.exit_code == 2 and "--train" in result.output
    result = CliRunner().invoke(app, ["rank", "nb101", "--model", str(model), "--sample", "3"])
    assert result.exit_code == 2 and "holds a predictor for nb201, not nb101" in result.output
    cache = tmp_path / "elsewhere.db"
    rank_with_cache = ["rank", "nb201", "--model", str(model), "--sample", "3", "--cache", str(cache)]
    result = CliRunner().invoke(app, rank_with_cache)
    assert result.exit_code == 0, result.output
    assert not cache.exists()  # every score came from the shipped table: nothing computed, no file written
    cache.write_bytes(b"not a database")  # --cache is where a loaded predictor keeps its scores: it reads this one
    result = CliRunner().invoke(app, rank_with_cache)
    assert result.exit_code != 0 and f"proxy cache {cache} is unusable" in result.output, result.output


def test_cli_where_no_table_is_shipped_keeps_the_scored_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bench = ar.datasets.load("nb101")
    archs, y = bench.archs()[:18], bench.values("valid_accuracy", 108)[:18]
    results, cands, model = tmp_path / "r.csv", tmp_path / "c.txt", tmp_path / "m.pt"
    pd.DataFrame({"arch": [str(a) for a in archs[:12]], "acc": y[:12]}).to_csv(results, index=False)
    cands.write_text("\n".join(str(a) for a in archs[12:]) + "\n")
    args = ["rank", "nb101", "--train", str(results), "--candidates", str(cands), "-p", "rf", "--keep-known"]
    args += ["--proxy-features", "params", "--cache", str(tmp_path / "c.db"), "--save", str(model)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "quantiles among the 18 scored architectures" in result.output
    saved = ar.predictors.load(model)
    assert saved.reference_source_ == "given" and len(saved.reference_) == 18
    expected = ar.proxies.compute(archs, ["params"], space="nb101", cache=str(tmp_path / "c.db"), progress=False)
    np.testing.assert_array_equal(saved.reference_["params"], expected["params"])
