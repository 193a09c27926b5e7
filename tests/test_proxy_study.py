"""The shipped precomputed proxy table, the proxy correlation study, proxy features, and their CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import archrank as ar
from archrank import proxies, studies
from archrank.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return proxies.load_precomputed("nb201", "cifar10")


def test_precomputed_table_is_real_and_documented(table: pd.DataFrame) -> None:
    settings = table.attrs["settings"]
    assert settings["cells"] == len(table) == settings["cells_in_space"] == 15625
    assert sorted(table["index"]) == list(range(15625))  # every NB201 cell, once
    assert settings["batch_size"] == 64 and settings["seed"] == 0
    assert {"synflow", "jacob_cov", "grad_norm", "snip", "nwot", "zico", "params", "flops"} <= set(table.columns)
    space = ar.spaces.get("nb201")
    assert table["index"].is_unique and table["arch"].tolist() == [str(space.from_index(i)) for i in table["index"]]
    bench = ar.datasets.load("nb201", "cifar10")
    # params is our network's count, which equals the benchmark's for 98.7 % of cells
    np.testing.assert_allclose(table["params"], bench.values("params", None)[table["index"]], atol=0.2)
    study = studies.proxy_study(table, bench, search_combinations=0).set_index("proxies")
    # the floors over all cells: published Spearman minus 0.05
    floors = {"synflow": 0.69, "jacob_cov": 0.68, "snip": 0.54, "grad_norm": 0.39, "nwot": 0.71, "zico": 0.75}
    for name, low in {**floors, "flops": 0.75}.items():
        assert study.loc[name, "spearman"] >= low, name
    assert study.loc["synflow+jacob_cov+nwot+zico", "kendall_tau"] >= 0.65  # the fixed rank aggregate
    # nwot is -inf exactly where the network's output ignores its input: untrainable cells at 10 %
    dead = np.isinf(table["nwot"].to_numpy())
    assert dead.any() and (bench.values("test_accuracy")[table["index"][dead]] < 11).all()
    assert (table["synflow"][dead] == 0).all()
    with pytest.raises(ar.UnknownChoiceError, match="precomputed proxy table"):
        proxies.load_precomputed("nb101", "cifar10")


def test_recomputing_shipped_cells_gives_the_shipped_scores(table: pd.DataFrame) -> None:
    rows = table.iloc[:2]
    names = ["synflow", "nwot", "params", "flops"]
    fresh = proxies.compute(rows["arch"].tolist(), names, space="nb201", cache=None, progress=False, precomputed=False)
    np.testing.assert_allclose(fresh[names].to_numpy(float), rows[names].to_numpy(float), rtol=1e-4)


def test_compute_takes_shipped_scores_and_computes_only_the_rest(table: pd.DataFrame, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from archrank.proxies import runner

    space = ar.spaces.get("nb201")
    shipped = table["arch"].iloc[:3].tolist()
    other = table["arch"].iloc[3]
    real_shipped = runner.shipped_scores

    def without_other(context, labels, names):  # type: ignore[no-untyped-def]
        return {k: v for k, v in real_shipped(context, labels, names).items() if k[0] != other}

    monkeypatch.setattr(runner, "shipped_scores", without_other)  # a table that lacks `other`
    built: list[str] = []
    real_build = type(space).build_model

    def counting_build(self, arch, **kwargs):  # type: ignore[no-untyped-def]
        built.append(str(arch))
        return real_build(self, arch, **kwargs)

    monkeypatch.setattr(type(space), "build_model", counting_build)
    names = ["synflow", "nwot"]
    scores = proxies.compute([*shipped, other], names, space="nb201", cache=None, progress=False)
    assert built == [other]  # only the cell the table lacks got a network
    np.testing.assert_array_equal(scores[names].to_numpy(float)[:3], table[names].to_numpy(float)[:3])
    assert not np.isnan(scores[names].to_numpy(float)).any()  # (-inf is nwot of a dead cell)
    # other settings than the table's (here the seed): nothing is taken from it
    proxies.compute(shipped[:1], names, space="nb201", seed=1, cache=None, progress=False)
    proxies.compute(shipped[:1], names, space="nb201", cache=None, progress=False, precomputed=False)
    assert built == [other, shipped[0], shipped[0]]


def test_proxy_study_rows_and_mean_rank(table: pd.DataFrame) -> None:
    result = studies.proxy_study(table, "nb201", proxies=["synflow", "nwot", "params"], search_combinations=2)
    assert set(result["kind"]) == {"single", "search"}  # the default combination needs jacob_cov and zico
    assert len(result) == 3 + 3
    bench = ar.datasets.load("nb201", "cifar10")
    truth = bench.values("test_accuracy")[table["index"]]
    row = result[result.proxies == "synflow"].iloc[0]
    assert row.kendall_tau == pytest.approx(ar.metrics.kendall_tau(truth, table["synflow"].to_numpy()))
    assert row.n == len(table) and row.n_nan == 0
    full = studies.proxy_study(table, "nb201", search_combinations=0)
    combo = full[full.kind == "combination"].iloc[0]
    assert combo.proxies == "+".join(studies.DEFAULT_COMBINATION)
    assert combo.kendall_tau > full[full.kind == "single"].kendall_tau.max()  # aggregation helps
    ranks = studies.mean_rank(pd.DataFrame({"a": [1.0, 2.0, -np.inf, np.nan], "b": [4.0, 3.0, 2.0, 1.0]}), ["a", "b"])
    np.testing.assert_array_equal(ranks, [2.5, 2.5, 1.0, np.nan])  # -inf is the lowest rank, NaN rows stay out


def test_study_rejects_unknown_cells_and_columns(table: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="no column"):
        studies.mean_rank(table, ["synflow", "nope"])
    with pytest.raises(KeyError, match=r"no column\(s\) \['nope'\]; its proxy columns are \['synflow'"):
        studies.proxy_study(table, "nb201", proxies=["nope"], search_combinations=0)
    bad = table.iloc[:3].assign(arch=["|none~0|+|none~0|none~1|+|none~0|none~1|bogus~2|"] * 3)
    with pytest.raises(KeyError, match="not in the benchmark"):
        studies.proxy_study(bad, "nb201", proxies=["synflow"], search_combinations=0)


def test_proxy_features_feed_the_predictor_study(table: pd.DataFrame) -> None:
    feats = proxies.as_features(table, ["synflow", "nwot"])
    assert feats["synflow"].between(0, 1).all() and feats["synflow"].max() == 1.0
    combo = proxies.as_features(table, ["synflow"], mean_rank=["synflow", "jacob_cov", "nwot"])
    assert list(combo.columns) == ["arch", "synflow", "mean_rank"] and combo["mean_rank"].between(0, 1).all()
    by_hand = np.mean([stats.rankdata(table[p]) for p in ("synflow", "jacob_cov", "nwot")], axis=0)
    assert stats.spearmanr(combo["mean_rank"], by_hand).statistic == pytest.approx(1.0)
    with pytest.raises(KeyError, match="nope"):
        proxies.as_features(table, ["synflow"], mean_rank=["synflow", "nope"])
    partial = feats.iloc[:5000]
    with pytest.raises(ValueError, match="no \\(or NaN\\) features"):  # study cells outside the features
        studies.predictor_study(
            "nb201", predictors=["xgb"], train_sizes=[20], seeds=[0], test_size=15000, features=partial, progress=False
        )
    # every cell of this small study is in the shipped table: test set = first cells of the scoring order
    known = set(table["arch"])
    bench = ar.datasets.load("nb201", "cifar10-valid")
    inside = [a for a in bench.archs() if str(a) in known]
    assert len(inside) == len(table)
    model = ar.predictors.make("xgb", space="nb201", random_state=0)
    X = ar.predictors.with_features(inside[:150], feats.set_index("arch").loc[[str(a) for a in inside[:150]]])
    y = bench.values("valid_accuracy")[[bench.space.index(a) for a in inside[:150]]]
    model.fit(X, y)
    assert model.n_features_in_ == 30 + 2


def test_cli_proxies_and_study(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        [
            "proxies",
            "nb201",
            "--sample",
            "3",
            "-x",
            "params",
            "-x",
            "nwot",
            "--batch-size",
            "8",
            "--no-cache",
            "--archs-per-launch",
            "3",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out).columns) == ["arch", "params", "nwot"]
    result = runner.invoke(
        app, ["study", "proxies", "--search", "2", "--out", str(tmp_path / "s.csv"), "--plot", str(tmp_path / "s.png")]
    )
    assert result.exit_code == 0, result.output
    assert "synflow+jacob_cov+nwot+zico" in result.output and (tmp_path / "s.png").stat().st_size > 10_000
    result = runner.invoke(app, ["study", "proxies", "--scores", str(out), "-x", "zen"])
    assert result.exit_code == 2 and "zen" in result.output
    result = runner.invoke(app, ["proxies", "nb201", "-x", "synflw", "--sample", "1"])
    assert result.exit_code == 2 and "unknown proxy" in result.output
    result = runner.invoke(app, ["proxies", "nb201", "--sample", "1", "--archs-per-launch", "many"])
    assert result.exit_code == 2 and "--archs-per-launch takes 'auto'" in result.output


def test_proxy_features_against_a_reference_table(table: pd.DataFrame) -> None:
    names = ["synflow", "nwot", "jacob_cov"]
    own = proxies.as_features(table, names)
    # the table as its own reference gives the default quantiles exactly
    pd.testing.assert_frame_equal(proxies.as_features(table, names, reference=table), own)
    # a few cells placed among the whole table get their whole-table quantiles, whatever else is scored
    few = table.sample(40, random_state=3)
    placed = proxies.as_features(few, names, reference=table).set_index("arch")
    np.testing.assert_array_equal(placed.to_numpy(), own.set_index("arch").loc[placed.index].to_numpy())
    assert not np.allclose(placed.to_numpy(), proxies.as_features(few, names).set_index("arch").to_numpy())
    # scores outside the reference are clipped to [0, 1]; NaN stays NaN; between two scores: in between
    ref = pd.DataFrame({"arch": list("abcde"), "synflow": [1.0, 2.0, 3.0, 4.0, np.nan]})
    odd = pd.DataFrame({"arch": list("vwxyz"), "synflow": [-np.inf, 0.5, 2.0, 2.5, np.nan]})
    got = proxies.as_features(odd, ["synflow"], reference=ref)["synflow"].to_numpy()
    np.testing.assert_array_equal(got[:3], [0.0, 0.0, 1 / 3])
    assert 1 / 3 < got[3] < 2 / 3 and np.isnan(got[4])
    with pytest.raises(KeyError, match="reference table has no column"):
        proxies.as_features(table, ["synflow"], reference=table[["arch", "nwot"]])
    with pytest.raises(ValueError, match="reference"):
        proxies.as_features(table, ["synflow"], mean_rank=["synflow", "nwot"], reference=table)
    with pytest.raises(ValueError, match="reference"):
        proxies.as_features(table, ["synflow"], transform="none", reference=table)
    assert ("nb201", "cifar10") in proxies.available_precomputed()
