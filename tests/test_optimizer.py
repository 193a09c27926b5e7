"""The public ask/tell Optimizer, SearchResult and the composable guided search."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor

import archrank as ar
from archrank.search import Optimizer, OptimizerStateError

FAST_GUIDED = {"initial": 4, "per_iteration": 2, "pool_size": 12, "parents": 3}


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    return ar.datasets.load("nb201", "cifar10")


@pytest.fixture(scope="module")
def oracle(bench):  # type: ignore[no-untyped-def]
    return ar.search.BenchmarkOracle(bench)


def _loop(opt: Optimizer, oracle, n: int, batch: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    proposed: list[str] = []
    while len(proposed) < n:
        archs = opt.ask(batch)
        opt.tell(archs, [oracle.evaluate(a).score for a in archs])
        proposed += [str(a) for a in archs]
    return proposed


def test_run_is_the_optimizer_loop_and_returns_a_search_result(oracle, bench) -> None:  # type: ignore[no-untyped-def]
    result = ar.search.run("evolution", "nb201", oracle, budget=30, seed=4, progress=False)
    assert isinstance(result, ar.search.SearchResult) and len(result) == 30
    by_hand = _loop(Optimizer("evolution", "nb201", seed=4, allowed=oracle.contains), oracle, 30)
    frame = result.frame()
    assert frame["arch"].tolist() == by_hand
    best = result.best()
    assert best.score == frame["score"].max() and str(best.arch) == frame.loc[frame["score"].idxmax(), "arch"]
    assert best.metrics["test_accuracy"] == bench.query(best.arch, "test_accuracy")
    assert isinstance(best.arch, ar.spaces.get("nb201").arch_type)
    np.testing.assert_array_equal(result.curve(), frame["best_so_far"].to_numpy())
    assert np.all(np.diff(result.curve()) >= 0)


def test_the_store_and_the_result_build_the_same_frame(oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "runs.sqlite"
    result = ar.search.run("random", "nb201", oracle, budget=8, seed=0, store=store, progress=False)
    with ar.search.SearchHistory(store) as history:
        (key,) = history.runs()["run_key"]
        stored = history.frame(key)
    assert stored.equals(result.frame())


def test_failed_evaluations_are_recorded_not_fatal() -> None:
    opt = Optimizer("evolution", "nb201", seed=0, population_size=4, sample_size=2)
    archs = opt.ask(6)
    opt.tell(archs, [90.0, None, math.nan, 80.0, 85.0, 70.0])
    frame = opt.result().frame()
    assert len(frame) == 6 and frame["score"].isna().sum() == 2 and frame["error"].notna().sum() == 2
    assert opt.best().score == 90.0 and str(opt.best().arch) == str(archs[0])
    later = opt.ask(10)
    assert not {str(a) for a in later} & {str(a) for a in archs}  # nothing proposed twice


def test_bad_scores_and_tells_are_named() -> None:
    opt = Optimizer("random", "nb201", seed=0)
    archs = opt.ask(2)
    with pytest.raises(TypeError, match=r"score 1 is str '0\.9'"):
        opt.tell(archs, [0.5, "0.9"])
    with pytest.raises(TypeError, match="score 0 is bool"):
        opt.tell(archs[:1], [True])
    with pytest.raises(ValueError, match="2 architectures but 1 scores"):
        opt.tell(archs, [0.5])
    with pytest.raises(ValueError, match="inf"):
        opt.tell(archs[:1], [math.inf])
    with pytest.raises(ar.InvalidArchitectureError):
        opt.tell(["|bogus~0|"], [1.0])
    opt.tell(archs, [0.5, 0.6])
    with pytest.raises(ValueError, match="was told already"):
        opt.tell(archs[:1], [0.7])
    with pytest.raises(ValueError, match="whole number n >= 1"):
        opt.ask(0)
    with pytest.raises(ar.UnknownChoiceError, match="search strategy 'annealing'"):
        Optimizer("annealing", "nb201")


def test_architectures_from_elsewhere_are_learned_and_never_proposed(oracle) -> None:  # type: ignore[no-untyped-def]
    outside = ar.spaces.get("nb201").sample(12, seed=9)
    opt = Optimizer("npenas", "nb201", seed=0, allowed=oracle.contains, **FAST_GUIDED)
    opt.tell(outside[:8], [oracle.evaluate(a).score for a in outside[:8]])
    opt.reserve(outside[8:])  # being evaluated by another worker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proposed = _loop(opt, oracle, 6, batch=2)
    assert not set(proposed) & {str(a) for a in outside}
    assert opt.strategy.iterations >= 1  # the told ones counted towards the initial random phase
    assert len(opt) == 8 + 6


@pytest.mark.parametrize("how", ["state_dict", "pickle", "deepcopy"])
def test_a_saved_optimizer_resumes_exactly(oracle, how) -> None:  # type: ignore[no-untyped-def]
    def make() -> Optimizer:
        return Optimizer("npenas", "nb201", seed=3, allowed=oracle.contains, **FAST_GUIDED)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = make()
        first = _loop(whole, oracle, 8, batch=2) + _loop(whole, oracle, 6, batch=2)
        half = make()
        _loop(half, oracle, 8, batch=2)
        pending = half.ask(1)
        if how == "state_dict":
            again = make()
            again.load_state_dict(half.state_dict())
        elif how == "pickle":
            again = pickle.loads(pickle.dumps(half))
        else:
            again = copy.deepcopy(half)
        assert [str(a) for a in again.pending] == [str(a) for a in pending]
        again.tell(pending, [oracle.evaluate(pending[0]).score])
        archs = again.ask(1)
        again.tell(archs, [oracle.evaluate(archs[0]).score])
        rest = _loop(again, oracle, 4, batch=2)
    assert first[8:] == [str(pending[0]), str(archs[0]), *rest]
    assert len(again) == 14


def test_a_state_of_another_optimizer_is_refused() -> None:
    state = Optimizer("random", "nb201", seed=0).state_dict()
    with pytest.raises(OptimizerStateError, match="strategy 'random', not 'evolution'"):
        Optimizer("evolution", "nb201", seed=0).load_state_dict(state)
    with pytest.raises(OptimizerStateError, match="space 'nb201', not 'nb101'"):
        Optimizer("random", "nb101", seed=0).load_state_dict(state)
    with pytest.raises(OptimizerStateError, match="seed 0, not 1"):
        Optimizer("random", "nb201", seed=1).load_state_dict(state)
    with pytest.raises(OptimizerStateError, match="hyperparameters"):
        Optimizer("evolution", "nb201", population_size=8).load_state_dict(Optimizer("evolution", "nb201").state_dict())
    with pytest.raises(OptimizerStateError, match="not an archrank optimizer state"):
        Optimizer("random", "nb201").load_state_dict({"weights": 1})


def test_acquisition_registry_and_user_acquisitions() -> None:
    assert {"mean", "ei", "ucb", "thompson", "qlognei"} <= set(ar.search.acquisition_names())
    with pytest.raises(ar.UnknownChoiceError, match="unknown acquisition 'pi'"):
        ar.search.make_acquisition("pi")
    with pytest.raises(ValueError, match="beta must be >= 0"):
        ar.search.make_acquisition("ucb", beta=-1)

    @ar.search.register_acquisition("test_lowest_std")
    class LowestStd(ar.search.Acquisition):
        def values(self, model, pool, context):  # type: ignore[no-untyped-def]
            return -model.predict(pool, return_std=True)[1]

    try:
        assert "test_lowest_std" in ar.search.acquisition_names()
        opt = Optimizer("guided", "nb201", seed=0, predictor="xgb", acquisition="test_lowest_std", **FAST_GUIDED)
        bench = ar.datasets.load("nb201", "cifar10")
        proposed = _loop(opt, ar.search.BenchmarkOracle(bench), 8, batch=2)
        assert len(set(proposed)) == 8 and isinstance(opt.strategy.acquisition, LowestStd)
    finally:
        from archrank.search import acquisitions

        acquisitions._ACQUISITIONS.pop("test_lowest_std")


def test_any_predictor_with_any_acquisition(oracle) -> None:  # type: ignore[no-untyped-def]
    """The GIN predictor with UCB (impossible before), xgb with EI, and a scikit-learn GP on an encoding."""
    cases = [
        {"predictor": "gnn", "acquisition": "ucb", "acquisition_params": {"beta": 1.0}, "pool": "both"},
        {"predictor": "xgb", "acquisition": "ei", "pool": "random"},
        {"predictor": GaussianProcessRegressor(normalize_y=True), "encoding": "categorical", "acquisition": "ucb"},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for hp in cases:
            result = ar.search.run("guided", "nb201", oracle, budget=10, seed=1, progress=False, **FAST_GUIDED, **hp)
            again = ar.search.run("guided", "nb201", oracle, budget=10, seed=1, progress=False, **FAST_GUIDED, **hp)
            assert result.frame()["arch"].tolist() == again.frame()["arch"].tolist()
            assert result.frame()["arch"].nunique() == 10
    with pytest.raises(TypeError, match="needs a BoTorch model"):
        ar.search.run(
            "guided", "nb201", oracle, budget=8, seed=1, progress=False, predictor="xgb", acquisition="qlognei",
            **FAST_GUIDED,
        )  # fmt: skip
    with pytest.raises(ar.UnknownChoiceError, match="candidate pool 'best'"):
        Optimizer("guided", "nb201", pool="best")
    with pytest.raises(ar.UnknownChoiceError, match="unknown predictor 'forest'"):
        Optimizer("guided", "nb201", predictor="forest")


def test_presets_are_the_guided_search_with_their_parts() -> None:
    npenas = Optimizer("npenas", "nb201").strategy
    assert isinstance(npenas, ar.search.guided.GuidedSearch)
    assert (npenas.predictor, npenas.acquisition.name, npenas.pool) == ("gnn", "mean", "mutation")
    assert Optimizer("npenas", "nb201", variant="bo").strategy.acquisition.name == "ei"
    bananas = Optimizer("bananas", "nb201").strategy
    assert (bananas.predictor, bananas.acquisition.name) == ("mlp_ensemble", "thompson")
    bo = Optimizer("bo", "nb201", beta=3.0).strategy
    assert (bo.predictor, bo.acquisition.name, bo.acquisition.beta) == ("gp", "ucb", 3.0)
    assert bo.predictor_params["encoding"] == "gnn_embedding"


def test_a_registered_strategy_works_everywhere(oracle) -> None:  # type: ignore[no-untyped-def]
    from archrank.search.strategies import STRATEGIES, Strategy

    @ar.search.register_strategy
    class Mutator(Strategy):
        """Mutates the best so far (random until something scored)."""

        name = "test_mutator"

        def __init__(self, space, rng, allowed, start: int = 3) -> None:  # type: ignore[no-untyped-def]
            super().__init__(space, rng, allowed)
            self.start = start

        def ask(self, n):  # type: ignore[no-untyped-def]
            best = self.ranked()
            return [self.mutate_new(best[0][0]) if len(best) >= self.start else self.random_new() for _ in range(n)]

    try:
        assert "test_mutator" in ar.search.names()
        result = ar.search.run("test_mutator", "nb201", oracle, budget=12, seed=0, progress=False, start=4)
        assert len(set(result.frame()["arch"])) == 12
        with pytest.raises(ar.UnknownChoiceError, match="hyperparameter of the 'test_mutator' strategy"):
            Optimizer("test_mutator", "nb201", begin=2)
        with pytest.raises(ValueError, match="registered already"):
            ar.search.register_strategy(type("Other", (Mutator,), {"name": "test_mutator"}))
    finally:
        STRATEGIES.pop("test_mutator")


def test_what_a_new_user_tripped_on(oracle) -> None:  # type: ignore[no-untyped-def]
    """Each of these once failed late, silently or with an error that did not name the problem."""
    from sklearn.gaussian_process import GaussianProcessRegressor as GPR

    opt = Optimizer("guided", "nb201", seed=0, predictor=GPR(), acquisition="ei", **FAST_GUIDED)
    _loop(opt, oracle, 8, batch=2)  # a plain estimator with the default encoding
    with pytest.raises(ar.UnknownChoiceError, match="unknown encoding 'adjj'"):
        Optimizer("guided", "nb201", predictor="xgb", encoding="adjj")
    xgb_path = Optimizer("guided", "nb201", predictor="xgb", encoding="path", **FAST_GUIDED)
    assert xgb_path.strategy._new_model(0).encoding == "path"  # encoding= reaches a named predictor
    bench = oracle.bench
    with pytest.raises(ar.UnknownChoiceError, match="metric to report of the nb201 table 'test_acc'"):
        ar.search.BenchmarkOracle(bench, report=["test_acc"])
    assert ar.search.BenchmarkOracle(bench, report="test_accuracy").report == ["test_accuracy"]
    assert ar.search.BenchmarkOracle(bench, report=None).report == []
    with pytest.raises(TypeError, match="takes a Benchmark"):
        ar.search.BenchmarkOracle("nb201")
    with pytest.raises(TypeError, match=r"must be an archrank Oracle .* TrainingOracle"):
        ar.search.run("random", "nb201", lambda a: 1.0, budget=3)
    with pytest.raises(ValueError, match=r"whole number of evaluations, got 5\.5"):
        ar.search.run("random", "nb201", oracle, budget=5.5)
    opt = Optimizer("random", "nb201")
    (arch,) = opt.ask(1)
    with pytest.raises(TypeError, match="wrap a single architecture"):
        opt.tell(arch, 91.0)
    with pytest.raises(TypeError, match="decorates a subclass"):
        ar.search.register_acquisition("test_fn")(lambda model, pool, context: None)
    with pytest.raises(TypeError, match="defines neither values"):
        ar.search.register_acquisition("test_empty")(type("Empty", (ar.search.Acquisition,), {}))
