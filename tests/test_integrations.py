"""archrank inside Optuna, Syne Tune and Ray Tune, tested against the real libraries (no mocks)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import archrank as ar
from archrank.integrations import arch_from_params, host_options, params_of
from archrank.search import Optimizer

optuna = pytest.importorskip("optuna")

from archrank.integrations.optuna import ARCH_ATTR, ArchrankSampler, suggest_arch  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def oracle():  # type: ignore[no-untyped-def]
    return ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"))


def _by_hand(strategy: str, n: int, oracle, **hp) -> list[str]:  # type: ignore[no-untyped-def]
    opt = Optimizer(strategy, "nb201", seed=0, **hp)
    out = []
    for _ in range(n):
        (arch,) = opt.ask(1)
        opt.tell([arch], [oracle.evaluate(arch).score])
        out.append(str(arch))
    return out


def _objective(oracle):  # type: ignore[no-untyped-def]
    def objective(trial):  # type: ignore[no-untyped-def]
        ev = oracle.evaluate(suggest_arch(trial, "nb201"))
        trial.set_user_attr("test_accuracy", ev.info["test_accuracy"])
        return ev.score

    return objective


def test_host_parameters_round_trip() -> None:
    for name in ("nb201", "nb101", "darts"):
        space = ar.spaces.get(name)
        options = host_options(space)
        assert all(isinstance(v, (str, int, float, bool)) for values in options.values() for v in values)
        for arch in space.sample(5, seed=1):
            assert space.canonical(arch_from_params(space, params_of(space, arch))) == space.canonical(arch)
    with pytest.raises(ar.UnknownChoiceError, match="'lr'"):
        arch_from_params("nb201", {**params_of("nb201", ar.spaces.get("nb201").sample(1, seed=0)[0]), "lr": 0.1})
    with pytest.raises(ar.UnknownChoiceError, match="'conv7x7'"):
        arch_from_params("nb201", {name: "conv7x7" for name in host_options("nb201")})


def test_optuna_sampler_proposes_what_the_strategy_proposes(oracle) -> None:  # type: ignore[no-untyped-def]
    study = optuna.create_study(direction="maximize", sampler=ArchrankSampler("nb201", "evolution", seed=0))
    study.optimize(_objective(oracle), n_trials=30)
    proposed = [t.system_attrs[ARCH_ATTR] for t in study.trials]
    from_params = [str(arch_from_params("nb201", t.params)) for t in study.trials]
    assert proposed == from_params == _by_hand("evolution", 30, oracle)
    assert study.best_value == max(oracle.evaluate(a).score for a in proposed)


def test_optuna_minimises_when_the_study_does(oracle) -> None:  # type: ignore[no-untyped-def]
    sampler = ArchrankSampler("nb201", "evolution", seed=0)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(lambda t: -_objective(oracle)(t), n_trials=30)
    assert [t.system_attrs[ARCH_ATTR] for t in study.trials] == _by_hand("evolution", 30, oracle)
    assert sampler.optimizer.best().score == -study.best_value


def test_optuna_with_threads_never_proposes_twice(oracle) -> None:  # type: ignore[no-untyped-def]
    sampler = ArchrankSampler("nb201", "evolution", seed=1, population_size=6, sample_size=2)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_objective(oracle), n_trials=24, n_jobs=2)
    archs = [t.system_attrs[ARCH_ATTR] for t in study.trials]
    assert len(archs) == 24 and len(set(archs)) == 24
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_npenas_sampler_finds_good_cells(oracle) -> None:  # type: ignore[no-untyped-def]
    hp = {"initial": 5, "per_iteration": 3, "pool_size": 20, "predictor_params": {"epochs": 40}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(direction="maximize", sampler=ArchrankSampler("nb201", "npenas", seed=0, **hp))
        study.optimize(_objective(oracle), n_trials=14)
    archs = [t.system_attrs[ARCH_ATTR] for t in study.trials]
    assert len(set(archs)) == 14
    assert archs == _by_hand("npenas", 14, oracle, **hp)


KILLED = """
import os, sys, optuna, archrank as ar
from archrank.integrations.optuna import ArchrankSampler, suggest_arch
optuna.logging.set_verbosity(optuna.logging.WARNING)
oracle = ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"))
def objective(trial):
    arch = suggest_arch(trial, "nb201")
    if trial.number == 7:
        os._exit(3)  # killed while trial 7 runs
    return oracle.evaluate(arch).score
study = optuna.create_study(study_name="s", storage=sys.argv[1], direction="maximize",
                            sampler=ArchrankSampler("nb201", "evolution", seed=0, population_size=5, sample_size=2))
study.optimize(objective, n_trials=20)
"""


def test_a_killed_sqlite_study_resumes_without_repeats_or_losses(oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED), storage], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    study = optuna.load_study(study_name="s", storage=storage)
    states = [t.state for t in study.trials]
    assert states[:7] == [optuna.trial.TrialState.COMPLETE] * 7 and states[7] == optuna.trial.TrialState.RUNNING
    killed = [t.system_attrs[ARCH_ATTR] for t in study.trials]

    sampler = ArchrankSampler("nb201", "evolution", seed=0, population_size=5, sample_size=2)
    study = optuna.load_study(study_name="s", storage=storage, sampler=sampler)
    study.optimize(_objective(oracle), n_trials=10)
    trials = study.trials
    archs = [t.system_attrs[ARCH_ATTR] for t in trials]
    assert archs[:8] == killed and len(trials) == 18
    assert len(set(archs)) == 18  # the running trial's architecture was not proposed again
    sampler.sync(study)
    assert len(sampler.optimizer) == 17  # every completed trial, before and after the kill, was learned
    told = set(sampler.optimizer.result().frame()["arch"])
    assert told == {a for t, a in zip(trials, archs, strict=True) if t.state == optuna.trial.TrialState.COMPLETE}


def test_optuna_bad_input_is_named(oracle) -> None:  # type: ignore[no-untyped-def]
    def with_lr(trial):  # type: ignore[no-untyped-def]
        arch = suggest_arch(trial, "nb201")
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        return oracle.evaluate(arch).score

    study = optuna.create_study(direction="maximize", sampler=ArchrankSampler("nb201", "random"))
    with pytest.raises(ar.UnknownChoiceError, match=r"'lr'.*independent_sampler"):
        study.optimize(with_lr, n_trials=1)
    sampler = ArchrankSampler("nb201", "random", independent_sampler=optuna.samplers.RandomSampler(seed=0))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(with_lr, n_trials=3)
    assert all(1e-4 <= t.params["lr"] <= 1e-1 for t in study.trials)

    def wrong_choices(trial):  # type: ignore[no-untyped-def]
        return float(len(trial.suggest_categorical("0->1", ["none", "skip_connect"])))

    study = optuna.create_study(sampler=ArchrankSampler("nb201", "random"))
    with pytest.raises(ValueError, match=r"'0->1' is declared as .* has the options"):
        study.optimize(wrong_choices, n_trials=1)
    with pytest.raises(ValueError, match="several directions"):
        optuna.create_study(directions=["maximize", "minimize"], sampler=ArchrankSampler("nb201")).optimize(
            lambda t: (1.0, 2.0), n_trials=1
        )


def test_suggest_arch_with_optuna_samplers() -> None:
    seen = []

    def objective(trial):  # type: ignore[no-untyped-def]
        arch = suggest_arch(trial, "nb101")
        seen.append(arch)
        return float(len(str(arch)))

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=20)
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states  # most random NB101 decision sets are no valid cell
    assert all(isinstance(a, ar.spaces.get("nb101").arch_type) for a in seen)
    with pytest.raises(ar.InvalidArchitectureError):
        suggest_arch(optuna.trial.FixedTrial({n: v[0] for n, v in host_options("nb101").items()}), "nb101", "raise")


# --- Syne Tune -------------------------------------------------------------------------------------


def test_syne_tune_searcher(oracle) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("syne_tune")
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    from syne_tune.optimizer.schedulers.ask_tell_scheduler import AskTellScheduler
    from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

    from archrank.integrations.syne_tune import ArchrankSearcher, config_space

    space = config_space("nb201", epochs=200)
    searcher = ArchrankSearcher(space, "nb201", "evolution", random_seed=0)
    scheduler = AskTellScheduler(SingleObjectiveScheduler(space, searcher=searcher, metric="acc", do_minimize=False))
    archs = []
    for _ in range(30):
        trial = scheduler.ask()
        assert trial.config["epochs"] == 200
        arch = arch_from_params("nb201", {k: v for k, v in trial.config.items() if k != "epochs"})
        scheduler.tell(trial, {"acc": oracle.evaluate(arch).score})
        archs.append(str(arch))
    assert archs == _by_hand("evolution", 30, oracle)
    # (AskTellScheduler.best_trial reads a ``mode`` that Syne Tune 0.16's scheduler lacks)
    best = max(r.metrics["acc"] for r in scheduler.completed_experiments.values())
    assert searcher.optimizer.best().score == best

    with pytest.raises(ValueError, match="decisions of the space"):
        config_space("nb201", **{"0->1": 3})
    with pytest.raises(ValueError, match="lacks decisions"):
        ArchrankSearcher({"epochs": 200}, "nb201")
    from syne_tune.config_space import uniform

    with pytest.raises(ValueError, match=r"\['lr'\] are domains"):
        ArchrankSearcher(config_space("nb201", lr=uniform(0.0, 1.0)), "nb201")


# --- Ray Tune --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ray_tune_searcher(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ray = pytest.importorskip("ray")
    from ray import tune

    from archrank.integrations.ray_tune import ArchrankSearcher

    def trainable(config):  # type: ignore[no-untyped-def]  # nested: Ray sends it by value to its workers
        import archrank as ar

        oracle = ar.search.BenchmarkOracle(ar.datasets.load("nb201", "cifar10"))
        return {"acc": oracle.evaluate(config["arch"]).score}

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        searcher = ArchrankSearcher("nb201", "random", metric="acc", mode="max", seed=0)
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=searcher, num_samples=6),
            run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    archs = [r.config["arch"] for r in results]
    assert len(set(archs)) == 6 and set(archs) == {str(a) for a in Optimizer("random", "nb201", seed=0).ask(6)}
    assert max(r.metrics["acc"] for r in results) == results.get_best_result("acc", "max").metrics["acc"]


def test_ray_searcher_saves_and_restores(oracle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ray")
    from archrank.integrations.ray_tune import ArchrankSearcher

    first = ArchrankSearcher("nb201", "evolution", metric="acc", mode="min", seed=0)
    for i in range(5):
        config = first.suggest(f"t{i}")
        first.on_trial_complete(f"t{i}", {"acc": -oracle.evaluate(config["arch"]).score})
    running = first.suggest("t5")
    first.save(str(tmp_path / "searcher.pkl"))
    again = ArchrankSearcher("nb201", "evolution", seed=0)
    again.restore(str(tmp_path / "searcher.pkl"))
    again.on_trial_complete("t5", {"acc": -oracle.evaluate(running["arch"]).score})
    first.on_trial_complete("t5", {"acc": -oracle.evaluate(running["arch"]).score})
    assert again.suggest("t6") == first.suggest("t6")
    assert len(again.optimizer) == 6 and again.optimizer.best().score == max(
        oracle.evaluate(a).score for a in again.optimizer.result().frame()["arch"]
    )
    again.on_trial_complete("t6", None, error=True)
    assert again.optimizer.result().frame()["score"].isna().sum() == 1
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        ArchrankSearcher("nb201", mode="maximize")


def test_host_scores_of_the_wrong_type_are_named(oracle) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ray")
    pytest.importorskip("syne_tune")
    from archrank.integrations.ray_tune import ArchrankSearcher as RaySearcher
    from archrank.integrations.syne_tune import ArchrankSearcher as SyneSearcher
    from archrank.integrations.syne_tune import config_space

    ray_searcher = RaySearcher("nb201", "random", metric="acc", mode="max")
    ray_searcher.suggest("a")
    with pytest.raises(TypeError, match=r"trial a reported acc='91\.2' \(str\), not a number"):
        ray_searcher.on_trial_complete("a", {"acc": "91.2"})
    syne = SyneSearcher(config_space("nb201"), "nb201", "random")
    config = syne.suggest()
    with pytest.raises(TypeError, match="trial 0 reported str"):
        syne.on_trial_complete(0, config, "bad")
    syne.on_trial_complete(0, config, float("nan"))  # NaN: a failed evaluation, recorded
    assert len(syne.optimizer) == 1 and syne.optimizer.result().frame()["score"].isna().all()


def test_adapters_refuse_what_does_not_fit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ray")
    pytest.importorskip("syne_tune")
    from syne_tune.config_space import choice

    from archrank.integrations.ray_tune import ArchrankSearcher as RaySearcher
    from archrank.integrations.syne_tune import ArchrankSearcher as SyneSearcher
    from archrank.integrations.syne_tune import config_space

    bad = {**config_space("nb201"), "0->1": choice(["none", "skip_connect"])}
    with pytest.raises(ValueError, match=r"config_space\['0->1'\] is .* has the options"):
        SyneSearcher(bad, "nb201")
    with pytest.raises(ValueError, match=r"config_space\['0->1'\] is choice\(\[0, 1\]\)"):
        SyneSearcher(config_space("nb101"), "nb201")  # NB101's adjacency bits
    saved = RaySearcher("nb201", "npenas", metric="acc", mode="max", seed=0)
    saved.save(str(tmp_path / "s.pkl"))
    for other in (RaySearcher("nb201", "evolution", seed=0), RaySearcher("nb201", "npenas", seed=5)):
        with pytest.raises(ar.search.OptimizerStateError):
            other.restore(str(tmp_path / "s.pkl"))
