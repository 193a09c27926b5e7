"""Predictors: real-data sanity, determinism, scikit-learn compatibility, inputs, errors, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score

import archrank as ar
from archrank.errors import DataFileError, InvalidHyperparameterError, UnknownChoiceError
from archrank.metrics import kendall_tau
from archrank.predictors import make, with_features

FAST = {
    "gp": {},
    "xgb": {"n_estimators": 60, "n_members": 2},
    "rf": {"n_estimators": 60},
    "mlp_ensemble": {"epochs": 30, "n_members": 2},
    "gnn": {"epochs": 15, "n_members": 2},
    "ensemble": {"members": ("xgb", "rf")},
    "tuned": {"estimator": "rf", "param_grid": {"n_estimators": [40], "min_samples_leaf": [1, 3]}, "cv": 3},
    "proxy_features": {"estimator": "rf", "proxies": ("nwot", "synflow")},  # the shipped table's scores: fast
}


@pytest.fixture(scope="module")
def nb201_data():  # type: ignore[no-untyped-def]
    bench = ar.datasets.load("nb201", "cifar10-valid")
    archs = bench.archs()
    y = bench.values("valid_accuracy", 200)
    perm = np.random.default_rng(0).permutation(len(archs))
    train, test = perm[:150], perm[150:650]
    return [archs[i] for i in train], y[train], [archs[i] for i in test], y[test]


@pytest.mark.parametrize("name", list(FAST))
def test_predictor_ranks_real_nb201_cells(name: str, nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    model = make(name, space="nb201", random_state=0, **FAST[name]).fit(tr, ytr)
    mean, std = model.predict(te, return_std=True)
    assert mean.shape == std.shape == (len(te),)
    assert np.isfinite(mean).all() and (std >= 0).all() and std.max() > 0
    # 150 real training cells carry plenty of signal even with these short trainings
    assert kendall_tau(yte, mean) > 0.3
    assert 0 < np.median(mean) < 100  # back in accuracy units (percent)


@pytest.mark.parametrize("name", list(FAST))
def test_same_seed_same_numbers(name: str, nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    a = make(name, space="nb201", random_state=7, **FAST[name]).fit(tr[:60], ytr[:60]).predict(te[:50])
    b = make(name, space="nb201", random_state=7, **FAST[name]).fit(tr[:60], ytr[:60]).predict(te[:50])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(FAST))
def test_clone_and_cross_val_score(name: str, nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, _, _ = nb201_data
    model = make(name, space="nb201", random_state=0, **FAST[name])
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    scores = cross_val_score(model, tr[:90], ytr[:90], cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()


@pytest.mark.parametrize("name", ["gp", "xgb", "rf", "mlp_ensemble"])
def test_plain_matrix_without_any_space(name: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = 3 * X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=120)
    model = make(name, random_state=0, **FAST[name]).fit(X[:100], y[:100])
    assert model.encoder_ is None and model.n_features_in_ == 5
    assert kendall_tau(y[100:], model.predict(X[100:])) > 0.5
    with pytest.raises(ValueError, match="5"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match="matrix"):
        model.predict(ar.spaces.get("nb201").sample(3, seed=0))


def test_gnn_refuses_a_plain_matrix_but_reads_graphs(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    with pytest.raises(TypeError, match="graphs"):
        make("gnn").fit(np.zeros((10, 3)), np.arange(10.0))
    graphs = ar.encodings.encode(tr[:40], "graph")
    model = make("gnn", epochs=3, random_state=0).fit(graphs, ytr[:40])
    assert model.predict(ar.encodings.encode(te[:5], "graph")).shape == (5,)


@pytest.mark.parametrize("name", list(FAST))
def test_extra_feature_columns(name: str, nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    bench = ar.datasets.load("nb201", "cifar10")
    params_tr = bench.values("params", None, tr[:80])
    X = with_features(tr[:80], {"params": params_tr, "log_params": np.log(params_tr)})
    assert list(X.columns) == ["arch", "params", "log_params"]
    model = make(name, space="nb201", random_state=0, **FAST[name]).fit(X, ytr[:80])
    assert model.n_extra_features_ == 2
    params_te = bench.values("params", None, te[:20])
    Xte = with_features(te[:20], np.c_[params_te, np.log(params_te)])
    assert model.predict(Xte).shape == (20,)
    with pytest.raises(ValueError, match=r"fitted with extra feature columns \['params', 'log_params'\]"):
        model.predict(te[:20])  # the extra columns are missing
    named = with_features(te[:20], {"params": params_te, "log_params": np.log(params_te)})
    np.testing.assert_array_equal(model.predict(named), model.predict(Xte))  # an array is read in fitted order
    with pytest.raises(ValueError, match="same names, same order"):
        model.predict(named[["arch", "log_params", "params"]])  # swapped columns would silently mislead
    with pytest.raises(ValueError, match="same names, same order"):
        model.predict(named.rename(columns={"log_params": "flops"}))
    plain = make(name, space="nb201", random_state=0, **FAST[name]).fit(tr[:80], ytr[:80])
    with pytest.raises(ValueError, match="architectures alone"):
        plain.predict(named)


def test_errors_name_the_problem(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, _, _ = nb201_data
    with pytest.raises(ValueError, match="empty"):
        make("xgb", space="nb201").fit([], [])
    y = ytr[:20].copy()
    y[4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make("xgb", space="nb201").fit(tr[:20], y)
    with pytest.raises(ValueError, match="20 samples but y has 19"):
        make("rf", space="nb201").fit(tr[:20], ytr[:19])
    with pytest.raises(UnknownChoiceError, match="encoding"):
        make("xgb", space="nb201", encoding="graph").fit(tr[:20], ytr[:20])
    with pytest.raises(UnknownChoiceError, match="encoding"):
        make("gnn", space="nb201", encoding="path").fit(tr[:20], ytr[:20])
    with pytest.raises(UnknownChoiceError, match="predictor"):
        make("svm")
    with pytest.raises(UnknownChoiceError, match="hyperparameter"):
        make("xgb", n_trees=5)
    with pytest.raises(InvalidHyperparameterError, match="'kernel' of GPPredictor must be one of 'auto', 'rbf'"):
        make("gp", space="nb201", kernel="linear")  # at make, before any fit
    with pytest.raises(ValueError, match="space"):
        make("rf").fit([str(a) for a in tr[:20]], ytr[:20])  # strings without a space
    df = pd.DataFrame({"arch": tr[:5], "score": [1.0, 2.0, np.nan, 4.0, 5.0]})
    with pytest.raises(ValueError, match="non-finite"):
        make("rf").fit(df, ytr[:5])


def test_strings_with_a_space_and_every_encoding(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    for enc in ("adjacency_onehot", "path", "path_truncated", "categorical"):
        model = make("rf", space="nb201", encoding=enc, n_estimators=40, random_state=0)
        model.fit([str(a) for a in tr], ytr)
        assert kendall_tau(yte, model.predict([str(a) for a in te])) > 0.3
    # the same strings in a numpy array (dtype '<U...') are architectures too, not a feature matrix
    as_array = make("rf", space="nb201", n_estimators=40, random_state=0).fit(np.array([str(a) for a in tr]), ytr)
    np.testing.assert_array_equal(as_array.predict(np.array([str(a) for a in te])), as_array.predict(te))


def test_gp_kernels_and_botorch_model(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    for kernel, enc in (("rbf", "adjacency_onehot"), ("matern52", "path_truncated"), ("hamming", "categorical")):
        model = make("gp", space="nb201", encoding=enc, kernel=kernel, random_state=0).fit(tr[:80], ytr[:80])
        assert model.kernel_ == kernel
        assert kendall_tau(yte, model.predict(te)) > 0.3
    x = model.to_model_inputs(te[:4])
    assert tuple(x.shape) == (4, sum(len(c) for c in model.categories_))  # one-hot groups of the 6 edges
    assert len(model.categories_) == 6
    assert model.model_.posterior(x).mean.shape[0] == 4


def test_gnn_ranking_loss_and_embedding(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    model = make("gnn", space="nb201", loss="ranking", epochs=15, random_state=0).fit(tr, ytr)
    assert kendall_tau(yte, model.predict(te)) > 0.3
    emb = model.embed(te[:7])
    assert emb.shape == (7, 32)
    gp_on_emb = make("gp", space="nb201", encoding="gnn_embedding", random_state=0).fit(tr[:80], ytr[:80])
    assert gp_on_emb.n_features_in_ == 32
    first = gp_on_emb.predict(te[:10])
    assert np.isfinite(first).all()
    again = make("gp", space="nb201", encoding="gnn_embedding", random_state=0).fit(tr[:80], ytr[:80])
    np.testing.assert_array_equal(first, again.predict(te[:10]))  # the learned encoding is seeded too


def test_xgb_quantile_uncertainty(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    model = make("xgb", space="nb201", uncertainty="quantile", n_estimators=80, random_state=0).fit(tr, ytr)
    mean, std = model.predict(te, return_std=True)
    assert (std >= 0).all() and std.mean() > 0
    assert kendall_tau(yte, mean) > 0.3


def test_target_transform_is_monotone_and_optional(nb201_data) -> None:  # type: ignore[no-untyped-def]
    from archrank.predictors.targets import TargetTransform

    y = np.array([10.0, 85.0, 85.0, 88.0, 90.0, 91.0])
    t = TargetTransform("rank_gauss")
    z = t.fit_forward(y)
    back, _ = t.inverse(z, np.zeros_like(z))
    np.testing.assert_allclose(back, y)
    grid = np.linspace(-5, 5, 101)
    mapped, std = t.inverse(grid, np.ones_like(grid))
    assert (np.diff(mapped) > 0).all() and (std > 0).all()  # strictly increasing, even beyond the data
    tr, ytr, te, _ = nb201_data
    raw = make("rf", space="nb201", target_transform="none", n_estimators=20, random_state=0).fit(tr, ytr)
    assert raw.predict(te).min() >= ytr.min() - 1e-9  # a forest of raw targets stays inside their range
    with pytest.raises(InvalidHyperparameterError, match="target_transform"):
        make("rf", space="nb201", target_transform="log")


def test_nb101_and_darts_predictors() -> None:
    bench = ar.datasets.load("nb101")
    archs = bench.archs()[:200]
    y = bench.values("valid_accuracy", 108, archs)
    for name in ("xgb", "gnn"):
        model = make(name, space="nb101", random_state=0, **FAST[name]).fit(archs[:150], y[:150])
        assert np.isfinite(model.predict(archs[150:])).all()
    darts = ar.datasets.load("darts")
    d_archs = darts.archs()[:120]
    dy = darts.values("valid_accuracy", None, d_archs)
    for name in ("gp", "mlp_ensemble"):
        model = make(name, space="darts", random_state=0, **FAST[name]).fit(d_archs[:100], dy[:100])
        assert np.isfinite(model.predict(d_archs[100:])).all()


@pytest.mark.parametrize("name", list(FAST))
def test_save_and_load_round_trip(name: str, nb201_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    model = make(name, space="nb201", random_state=0, **FAST[name]).fit(tr[:60], ytr[:60])
    path = model.save(tmp_path / f"{name}.pt")
    again = ar.predictors.load(path)
    np.testing.assert_array_equal(model.predict(te[:30]), again.predict(te[:30]))


def test_load_rejects_bad_files(nb201_data, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, _, _ = nb201_data
    with pytest.raises(DataFileError, match="does not exist"):
        ar.predictors.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a predictor")
    with pytest.raises(DataFileError, match="not a readable"):
        ar.predictors.load(junk)
    path = make("rf", space="nb201", n_estimators=5, random_state=0).fit(tr[:30], ytr[:30]).save(tmp_path / "rf.pt")
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError):
        ar.predictors.load(truncated)
    monkeypatch.setattr(ar, "__version__", "9.9.9")
    with pytest.raises(DataFileError, match=r"9\.9\.9"):
        ar.predictors.load(path)
    with pytest.warns(UserWarning, match="saved by archrank"):
        ar.predictors.load(path, strict_version=False)


def test_onehot_hamming_kernel_equals_botorch_categorical_kernel() -> None:
    import torch
    from botorch.models.kernels.categorical import CategoricalKernel

    from archrank.predictors.kernels import OneHotHammingKernel

    gen = torch.Generator().manual_seed(0)
    sizes = [3, 2, 5, 4]
    codes = torch.stack([torch.randint(c, (9,), generator=gen) for c in sizes], dim=1).double()
    onehot = torch.cat([torch.nn.functional.one_hot(codes[:, i].long(), c) for i, c in enumerate(sizes)], 1).double()
    ref, ours = CategoricalKernel(ard_num_dims=4).double(), OneHotHammingKernel(sizes).double()
    scales = torch.tensor([[0.3, 1.0, 2.5, 0.8]], dtype=torch.float64)
    ref.lengthscale, ours.lengthscale = scales, scales
    torch.testing.assert_close(ours(onehot).to_dense(), ref(codes).to_dense())
    torch.testing.assert_close(ours(onehot, diag=True), ref(codes, diag=True))
    torch.testing.assert_close(ours(onehot[:4], onehot[4:]).to_dense(), ref(codes[:4], codes[4:]).to_dense())


def test_gnn_batches_equal_collating_the_graphs_one_by_one() -> None:
    import torch
    from torch_geometric.data import Batch, Data

    from archrank.predictors.gnn import _GraphSet

    gen = torch.Generator().manual_seed(0)
    graphs = []
    for i in range(9):  # graphs of different sizes, one without edges
        n = 2 + i % 4
        edges = torch.randint(0, n, (2, 0 if i == 4 else 3 + i), generator=gen)
        graphs.append(Data(x=torch.rand((n, 5), generator=gen), edge_index=edges, num_nodes=n))
    data = _GraphSet(graphs, bidirectional=True)
    idx = [7, 0, 4, 4, 2]
    x, ei, batch, g = data.batch(torch.tensor(idx))
    both_ways = [
        Data(x=graphs[i].x, edge_index=torch.cat([graphs[i].edge_index, graphs[i].edge_index.flip(0)], 1)) for i in idx
    ]
    want = Batch.from_data_list(both_ways)
    assert g == 5 and torch.equal(x, want.x) and torch.equal(ei, want.edge_index) and torch.equal(batch, want.batch)


def test_gnn_members_trained_together_equal_each_trained_alone(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    archs, y, test = tr[:40], ytr[:40], te[:40]
    together = make("gnn", random_state=5, n_members=3, epochs=4, batch_size=8, loss="ranking").fit(archs, y)
    alone = make("gnn", random_state=6, n_members=1, epochs=4, batch_size=8, loss="ranking").fit(archs, y)
    np.testing.assert_allclose(together.embed(test, member=1), alone.embed(test, member=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(together.calibration_[1], alone.calibration_[0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sizes", ["equal", "mixed"])
def test_stacked_gin_computes_what_the_torch_geometric_layers_compute(sizes: str) -> None:
    import torch
    from torch_geometric.data import Data

    from archrank._seeding import torch_seeded
    from archrank.predictors.gin_stack import StackedGIN
    from archrank.predictors.gnn import GIN, _GraphSet

    gen = torch.Generator().manual_seed(1)
    graphs = []
    for i in range(30):  # "mixed": 3 to 6 nodes (padding and the masked BatchNorm), some without edges
        n = 5 if sizes == "equal" else 3 + i % 4
        edges = torch.randint(0, n, (2, 0 if i % 7 == 3 else 2 + i % 5), generator=gen)
        graphs.append(Data(x=torch.rand((n, 4), generator=gen), edge_index=edges, num_nodes=n))
    data = _GraphSet(graphs, bidirectional=False)
    x, adj_t, mask = data.dense()
    assert (mask is None) == (sizes == "equal")
    nets = []
    for m in range(3):
        with torch_seeded(m):
            nets.append(GIN(4, hidden=8, n_layers=2, d_extra=2))
    stacked = StackedGIN(nets)
    extra = torch.rand((30, 2), generator=gen)
    idx = torch.stack([torch.randperm(30, generator=gen)[:10] for _ in range(3)])
    pred = stacked(x[idx], adj_t[idx], None if mask is None else mask[idx], extra[idx])
    (pred * torch.arange(1.0, 11.0)).sum().backward()
    for m, net in enumerate(nets):
        net.train()
        want = net(*data.batch(idx[m]), extra[idx[m]])
        (want * torch.arange(1.0, 11.0)).sum().backward()
        torch.testing.assert_close(pred[m], want, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(stacked.weights[0].grad[m], net.convs[0].nn[0].weight.grad.T, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(stacked.eps[1].grad[m].reshape(1), net.convs[1].eps.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(stacked.head_weights[1].grad[m], net.head[2].weight.grad.T, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(stacked.running_var[1][m], net.convs[1].nn[1].running_var, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        stacked.weights[1].add_(1.0)  # the trained weights (and the BatchNorm statistics) go back to the networks
    fresh = [GIN(4, hidden=8, n_layers=2, d_extra=2) for _ in range(3)]
    stacked.write_back(fresh)
    for m in range(3):
        torch.testing.assert_close(fresh[m].convs[0].nn[3].weight, nets[m].convs[0].nn[3].weight + 1.0)
        torch.testing.assert_close(fresh[m].convs[1].nn[1].running_mean, nets[m].convs[1].nn[1].running_mean)


def test_gnn_step_settings_follow_the_training_set_size(nb201_data) -> None:  # type: ignore[no-untyped-def]
    from archrank.predictors.gnn import LARGE_TRAINING_SET

    model = make("gnn")
    assert model._step_settings(100) == (32, 0.005)
    assert model._step_settings(LARGE_TRAINING_SET) == (64, 0.01)
    assert make("gnn", batch_size=16)._step_settings(1000) == (16, 0.0025)
    assert make("gnn", batch_size=16, lr=0.02)._step_settings(1000) == (16, 0.02)
    tr, ytr, _, _ = nb201_data
    with pytest.raises(InvalidHyperparameterError, match="'batch_size' of GNNPredictor must be 'auto' or an int in"):
        make("gnn", batch_size=1)
    with pytest.raises(InvalidHyperparameterError, match="batch_size"):
        make("gnn", batch_size="large")
    with pytest.raises(InvalidHyperparameterError, match=r"'lr' of GNNPredictor must be 'auto' or a number in \(0"):
        make("gnn", lr=-1.0)
    model = make("gnn")
    model.lr = -1.0  # set after make: fit checks again
    with pytest.raises(InvalidHyperparameterError, match="'lr'"):
        model.fit(tr[:10], ytr[:10])


def test_gnn_warm_start_continues_from_the_last_fit(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, _ = nb201_data
    model = make("gnn", random_state=0, epochs=3, n_members=2).fit(tr[:30], ytr[:30])
    nets = list(model.members_)
    first = model.predict(te[:50])
    model.set_params(warm_start=True, epochs=2, random_state=1)
    model.fit(tr[:60], ytr[:60])
    assert all(a is b for a, b in zip(model.members_, nets, strict=True))  # the same networks, trained on
    assert not np.allclose(model.predict(te[:50]), first)
    fresh = make("gnn", random_state=1, epochs=2, n_members=2).fit(tr[:60], ytr[:60])
    assert not np.allclose(fresh.predict(te[:50]), model.predict(te[:50]))
    named = pd.DataFrame({"arch": tr[:60], "flops": np.arange(60.0)})  # one extra feature: other shapes
    with pytest.raises(ValueError, match="warm_start needs the shapes of the previous fit"):
        model.fit(named, ytr[:60])
    with pytest.raises(NotFittedError):
        model.predict(te[:5])


def test_gp_fits_hyperparameters_on_a_subset_then_refines_on_all(nb201_data) -> None:  # type: ignore[no-untyped-def]
    tr, ytr, te, yte = nb201_data
    full = make("gp", random_state=0, hyper_subset=None).fit(tr[:150], ytr[:150])
    sub = make("gp", random_state=0, hyper_subset=100).fit(tr[:150], ytr[:150])
    assert len(sub.model_.train_targets) == 150  # the posterior conditions on every training point
    tau_full, tau_sub = kendall_tau(yte, full.predict(te)), kendall_tau(yte, sub.predict(te))
    assert abs(tau_full - tau_sub) < 0.02, (tau_full, tau_sub)
    again = make("gp", random_state=0, hyper_subset=100).fit(tr[:150], ytr[:150])
    np.testing.assert_array_equal(again.predict(te), sub.predict(te))  # the subset is drawn from the seed
    with pytest.raises(InvalidHyperparameterError, match=r"'hyper_subset' of GPPredictor must be None or an int"):
        make("gp", hyper_subset=1)
