"""TunedPredictor: hyperparameters picked by K-fold cross-validation on the training data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold

import archrank as ar
from archrank.errors import InvalidHyperparameterError, UnknownChoiceError
from archrank.metrics import kendall_tau
from archrank.predictors import make, with_features

GRID = {"min_samples_leaf": [1, 8], "max_features": [0.25, 1.0]}


@pytest.fixture(scope="module")
def toy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    return X, X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=60)


def _rf() -> ar.predictors.ArchPredictor:
    return make("rf", n_estimators=40)


def test_best_setting_is_the_best_mean_held_out_kendall_tau(toy) -> None:  # type: ignore[no-untyped-def]
    X, y = toy
    tuned = make("tuned", estimator=_rf(), param_grid=GRID, cv=4, random_state=3).fit(X, y)
    # recompute every setting's mean held-out tau by hand on the same seeded folds
    folds = list(KFold(4, shuffle=True, random_state=3).split(X))
    by_hand = {}
    for leaf in GRID["min_samples_leaf"]:
        for feats in GRID["max_features"]:
            taus = []
            for train, held_out in folds:
                model = _rf().set_params(min_samples_leaf=leaf, max_features=feats, random_state=3)
                taus.append(kendall_tau(y[held_out], model.fit(X[train], y[train]).predict(X[held_out])))
            by_hand[(leaf, feats)] = float(np.mean(taus))
    best = max(by_hand, key=by_hand.__getitem__)
    assert tuned.best_params_ == {"min_samples_leaf": best[0], "max_features": best[1]}
    assert tuned.best_score_ == pytest.approx(by_hand[best], abs=1e-12)
    assert len(tuned.cv_results_) == 4
    assert sorted(tuned.cv_results_["mean_test_score"]) == pytest.approx(sorted(by_hand.values()), abs=1e-12)
    # the settings score differently, so the choice means something (big leaves with few features lose)
    assert by_hand[best] - min(by_hand.values()) > 0.05


def test_predictions_are_the_best_setting_refitted_on_all_data(toy) -> None:  # type: ignore[no-untyped-def]
    X, y = toy
    tuned = make("tuned", estimator=_rf(), param_grid=GRID, cv=4, random_state=3).fit(X[:50], y[:50])
    refit = _rf().set_params(**tuned.best_params_, random_state=3).fit(X[:50], y[:50])
    mean, std = tuned.predict(X[50:], return_std=True)
    want_mean, want_std = refit.predict(X[50:], return_std=True)
    np.testing.assert_array_equal(mean, want_mean)
    np.testing.assert_array_equal(std, want_std)
    assert tuned.n_features_in_ == 4


def test_spearman_scoring_and_seeded_folds(toy) -> None:  # type: ignore[no-untyped-def]
    X, y = toy
    a = make("tuned", estimator=_rf(), param_grid=GRID, cv=3, scoring="spearman", random_state=5).fit(X, y)
    b = clone(a).fit(X, y)
    assert a.best_params_ == b.best_params_ and a.best_score_ == b.best_score_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert -1 <= a.best_score_ <= 1
    other = make("tuned", estimator=_rf(), param_grid=GRID, cv=3, scoring="spearman", random_state=6).fit(X, y)
    assert other.best_score_ != a.best_score_  # another seed, other folds


def test_tunes_on_nb201_cells_with_proxy_features() -> None:
    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs = bench.archs()
    perm = np.random.default_rng(0).permutation(len(archs))
    train, test = [archs[i] for i in perm[:80]], [archs[i] for i in perm[80:480]]
    table = ar.proxies.load_precomputed("nb201", "cifar10")
    feats = ar.proxies.as_features(table, ["synflow", "nwot"]).set_index("arch")
    X = with_features(train, feats.loc[[str(a) for a in train]])
    Xte = with_features(test, feats.loc[[str(a) for a in test]])
    y = bench.values("valid_accuracy", 200, train)
    grid = {"max_depth": [2, 6], "n_estimators": [60], "n_members": [2]}
    tuned = make("tuned", estimator="xgb", space="nb201", param_grid=grid, cv=3, random_state=0).fit(X, y)
    assert tuned.n_extra_features_ == 2
    assert set(tuned.best_params_) == set(grid)
    assert kendall_tau(bench.values("valid_accuracy", 200, test), tuned.predict(Xte)) > 0.5


def test_every_declared_grid_names_real_hyperparameters() -> None:
    for name in ar.predictors.names(wrappers=False):
        est = make(name)
        grid = type(est).tuning_grid
        assert grid, f"{name} declares no tuning grid"
        assert set(grid) <= set(est.get_params()) - {"random_state"}, name
        # the declared grid passes the TunedPredictor's own checks
        assert make("tuned", estimator=name)._grids(est)[0].keys() == grid.keys()
    assert "tuned" not in ar.predictors.names(wrappers=False) and "tuned" in ar.predictors.names()


def test_default_grid_is_the_estimators_declared_one(toy) -> None:  # type: ignore[no-untyped-def]
    X, y = toy
    tuned = make("tuned", estimator=make("rf", n_estimators=20), cv=3, random_state=0).fit(X, y)
    expected = ar.predictors.RFPredictor.tuning_grid
    assert len(tuned.cv_results_) == np.prod([len(v) for v in expected.values()])
    assert set(tuned.best_params_) == set(expected)


def test_random_search_draws_seeded_settings_from_lists_and_distributions(toy) -> None:  # type: ignore[no-untyped-def]
    from scipy import stats

    X, y = toy
    space = {"min_samples_leaf": stats.randint(1, 12), "max_features": [0.25, 0.5, 1.0]}
    kwargs = dict(estimator=_rf(), param_grid=space, n_iter=5, cv=3)
    tuned = make("tuned", random_state=2, **kwargs).fit(X, y)
    table = tuned.cv_results_
    assert len(table) == 5 and table["param_min_samples_leaf"].between(1, 11).all()
    assert set(table["param_max_features"]) <= {0.25, 0.5, 1.0}
    best = table.loc[table["rank_test_score"] == 1].iloc[0]
    assert tuned.best_score_ == pytest.approx(best["mean_test_score"]) == pytest.approx(table["mean_test_score"].max())
    assert tuned.best_params_ == best["params"]
    # same seed, same draws and choice; another seed draws other settings
    twin = make("tuned", random_state=2, **kwargs).fit(X, y)
    assert twin.cv_results_["params"].tolist() == table["params"].tolist()
    other = make("tuned", random_state=3, **kwargs).fit(X, y)
    assert other.cv_results_["params"].tolist() != table["params"].tolist()
    np.testing.assert_array_equal(tuned.predict(X[:7]), twin.predict(X[:7]))
    with pytest.raises(ValueError, match="needs n_iter"):
        make("tuned", estimator=_rf(), param_grid=space).fit(X, y)
    with pytest.raises(ValueError, match="n_iter must be"):
        make("tuned", estimator=_rf(), param_grid=GRID, n_iter=0).fit(X, y)


def test_errors_name_the_problem(toy) -> None:  # type: ignore[no-untyped-def]
    X, y = toy
    with pytest.raises(UnknownChoiceError, match="min_leaf"):
        make("tuned", estimator=_rf(), param_grid={"min_leaf": [1, 2]}).fit(X, y)
    with pytest.raises(ValueError, match="non-empty list"):
        make("tuned", estimator=_rf(), param_grid={"min_samples_leaf": []}).fit(X, y)
    with pytest.raises(ValueError, match="non-empty list"):
        make("tuned", estimator=_rf(), param_grid={"max_features": "sqrt"}).fit(X, y)
    with pytest.raises(ValueError, match="random_state"):
        make("tuned", estimator=_rf(), param_grid={"random_state": [0, 1]}).fit(X, y)
    with pytest.raises(ValueError, match="no tuning grid"):
        make("tuned", estimator="ensemble").fit(X, y)
    with pytest.raises(ValueError, match="cv=5 folds need at least 5"):
        make("tuned", estimator=_rf(), param_grid=GRID).fit(X[:4], y[:4])
    with pytest.raises(ValueError, match="folds >= 2"):
        make("tuned", estimator=_rf(), param_grid=GRID, cv=1).fit(X, y)
    bad = y.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make("tuned", estimator=_rf(), param_grid=GRID).fit(X, bad)
    with pytest.raises(ValueError, match="encoding on the estimator"):
        make("tuned", estimator=_rf(), encoding="path", param_grid=GRID).fit(X, y)
    with pytest.raises(TypeError, match="predictor name"):
        make("tuned", estimator=object(), param_grid=GRID).fit(X, y)
    with pytest.raises(UnknownChoiceError, match="predictor"):
        make("tuned", estimator="svm").fit(X, y)
    # a setting that fails is an error, not a candidate quietly scored NaN
    with pytest.raises(InvalidHyperparameterError, match="kernel"):
        make("tuned", estimator="gp", param_grid={"kernel": ["auto", "linear"]}, cv=2).fit(X, y)
    # constant targets: Kendall tau is undefined on every fold
    with pytest.raises(ValueError, match="finite cross-validation score"), pytest.warns(Warning):
        make("tuned", estimator=_rf(), param_grid=GRID, cv=3).fit(X, np.ones(len(y)))
