"""Correlation studies: how well predictors rank held-out architectures as training data grows.

:func:`predictor_study` samples one held-out test set, then for every seed a nested series of
training sets from the remaining architectures, fits each predictor and scores its ranking of the
test set (Kendall tau-b, Spearman, precision at the top 10 %). It returns a tidy table (one row
per predictor x training size x seed), can checkpoint each row to a CSV file and resume from it,
and :func:`plot_predictor_study` draws mean +/- std curves.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from archrank import _executors, datasets, metrics
from archrank._threads import THREADS_ENV, resolve_threads
from archrank.datasets.benchmark import Benchmark
from archrank.predictors import ArchPredictor, make, with_features

DEFAULT_TRAIN_SIZES = (10, 20, 50, 100, 200, 500, 1000)
STUDY_COLUMNS = [
    "predictor",
    "train_size",
    "seed",
    "kendall_tau",
    "spearman",
    "precision_at_10pct",
    "fit_seconds",
    "predict_seconds",
    "n_test",
    "benchmark",
    "dataset",
    "metric",
    "epochs",
    "test_seed",
    "features",
]


def _templates(predictors: Sequence[str] | Mapping[str, ArchPredictor], space: Any) -> dict[str, ArchPredictor]:
    if isinstance(predictors, Mapping):
        out = dict(predictors)
    else:
        out = {name: make(name) for name in predictors}
    for label, est in out.items():
        if not isinstance(est, ArchPredictor):
            raise TypeError(f"predictor {label!r} is a {type(est).__name__}, not an archrank predictor")
    return {label: clone(est).set_params(space=space) for label, est in out.items()}


def study_splits(
    n_archs: int, train_sizes: Sequence[int], seeds: Iterable[int], test_size: int, test_seed: int
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Test rows (fixed by ``test_seed``) and, per seed, an ordering of the other rows.

    The training set of size ``k`` for a seed is the first ``k`` of that seed's ordering, so the
    sets are nested and always disjoint from the test set.
    """
    sizes = sorted(set(int(s) for s in train_sizes))
    if not sizes or sizes[0] < 2:
        raise ValueError(f"training sizes must be >= 2, got {list(train_sizes)}")
    if test_size < 2 or test_size + sizes[-1] > n_archs:
        raise ValueError(
            f"a test set of {test_size} plus a training set of {sizes[-1]} needs more than the {n_archs} architectures"
        )
    perm = np.random.default_rng(test_seed).permutation(n_archs)
    test, pool = perm[:test_size], perm[test_size:]
    orders = {int(s): np.random.default_rng([int(s), 1]).permutation(pool)[: sizes[-1]] for s in seeds}
    if not orders:
        raise ValueError("no seeds given")
    return test, orders


def predictor_study(
    benchmark: str | Benchmark = "nb201",
    dataset: str = "cifar10-valid",
    metric: str = "valid_accuracy",
    epochs: int | None = None,
    predictors: Sequence[str] | Mapping[str, ArchPredictor] = ("xgb", "gp", "rf", "mlp_ensemble", "gnn"),
    train_sizes: Sequence[int] = DEFAULT_TRAIN_SIZES,
    seeds: Iterable[int] = range(10),
    test_size: int = 1000,
    test_seed: int = 0,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    features: pd.DataFrame | None = None,
    executor: Any = None,
    workers: int | None = None,
    connect_timeout: float | None = None,
) -> pd.DataFrame:
    """Fit every predictor on nested training sets and score it on a held-out test set.

    ``benchmark``: a name (loaded with ``dataset``) or a loaded :class:`Benchmark`. ``predictors``:
    names for :func:`archrank.predictors.make` or a mapping label -> unfitted predictor (cloned per
    run, with ``random_state`` = seed). ``epochs=None`` uses the metric's largest budget. With a
    ``checkpoint`` CSV, each finished run is appended at once and runs already in the file (same
    benchmark, dataset, metric, epochs, test set, predictor, size, seed) are not repeated.
    ``features``: extra numeric columns per architecture (e.g. zero-cost scores), with an
    ``arch`` column of architecture strings to match the benchmark's cells; they are passed to
    the predictors with :func:`archrank.predictors.with_features`, and every cell a run uses
    must have them. ``executor`` runs the fits elsewhere, one task per predictor x size x seed
    (values as for :func:`archrank.proxies.compute`: ``"processes"`` with ``workers``, a
    ``concurrent.futures.Executor``, a Dask ``Client`` or a scheduler address ``"tcp://host:8786"``);
    each task gets its training and test cells, the unfitted predictor and this process's thread
    count (``$ARCHRANK_THREADS``, else 1), so its scores equal the serial run's; rows reach the
    checkpoint as tasks finish. Returns one row per run with the columns in ``STUDY_COLUMNS``, in
    job order (seed, size, predictor) whichever finished first.
    """
    bench = benchmark if isinstance(benchmark, Benchmark) else datasets.load(benchmark, dataset)
    space_name = bench.space.name
    epochs_used = bench.info(metric, epochs).epochs
    archs = bench.archs()
    y = bench.values(metric, epochs_used)
    templates = _templates(predictors, bench.space)
    seeds = [int(s) for s in seeds]
    test, orders = study_splits(len(archs), train_sizes, seeds, test_size, test_seed)
    extra = _align_features(features, archs)

    def inputs(rows: np.ndarray) -> Any:
        chosen = [archs[i] for i in rows]
        if extra is None:
            return chosen
        part = extra.iloc[rows]
        if part.isna().any(axis=None):
            raise ValueError(f"{int(part.isna().any(axis=1).sum())} cell(s) of this run have no (or NaN) features")
        return with_features(chosen, part)

    test_inputs, y_test = inputs(test), y[test]
    context = {
        "benchmark": space_name,
        "dataset": bench.dataset,
        "metric": metric,
        "epochs": -1 if epochs_used is None else int(epochs_used),
        "test_seed": int(test_seed),
        "n_test": int(test_size),
        "features": "" if extra is None else "+".join(extra.columns),
    }
    done = _read_checkpoint(checkpoint, context)
    jobs = [(label, int(size), seed) for seed in seeds for size in sorted(set(train_sizes)) for label in templates]
    rows = [done[key] for key in jobs if key in done]
    todo = [key for key in jobs if key not in done]
    tasks = [
        StudyTask(
            label,
            size,
            seed,
            clone(templates[label]).set_params(random_state=seed),
            inputs(orders[seed][:size]),
            y[orders[seed][:size]],
            test_inputs,
            y_test,
            context,
            resolve_threads(),
        )
        for label, size, seed in todo
    ]
    bar = _progress(len(jobs), len(rows), progress)

    def finished(_task: StudyTask, row: dict[str, Any]) -> None:
        rows.append(row)
        _append_checkpoint(checkpoint, row)
        bar.update(1)

    remote = executor is not None and not (isinstance(executor, str) and executor == "inline")
    try:
        if remote and tasks:
            resolved = _executors.resolve(
                executor, workers, connect_timeout, _executors.exit_with_parent, (os.getpid(),)
            )
            bar.set_postfix_str(f"on {resolved.describe}")
            try:
                _executors.run_tasks(
                    resolved, fit_and_score, tasks, finished, StudyTask.describe, "archrank-study", RERUN
                )
            finally:
                resolved.close()
        else:
            if remote:
                _executors.check(executor, workers)
            for task in tasks:
                bar.set_postfix_str(task.describe())
                finished(task, fit_and_score(task, in_process=True))
    finally:
        bar.close()
    order = {key: i for i, key in enumerate(jobs)}
    rows.sort(key=lambda r: order[(r["predictor"], int(r["train_size"]), int(r["seed"]))])
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)


RERUN = "the finished runs are in the checkpoint file, if one was given: run again to fit only the rest"


@dataclass(frozen=True)
class StudyTask:
    """One run of the study, as sent to a worker: fit ``estimator`` (unfitted, ``random_state`` set) on
    the training inputs and score its ranking of the test inputs, with ``threads`` threads."""

    predictor: str
    train_size: int
    seed: int
    estimator: ArchPredictor
    train_inputs: Any
    y_train: np.ndarray
    test_inputs: Any
    y_test: np.ndarray
    context: dict[str, Any]
    threads: int

    def describe(self) -> str:
        return f"{self.predictor} n={self.train_size} seed={self.seed}"


def fit_and_score(task: StudyTask, in_process: bool = False) -> dict[str, Any]:
    """One study row: fit, predict, Kendall tau, Spearman, precision@10 %, seconds. On a worker
    (``in_process=False``) ``$ARCHRANK_THREADS`` is set to the caller's thread count for the fit, so
    every library in it uses the threads the serial run would."""
    with contextlib.nullcontext() if in_process else _on_worker(task.threads):
        est = task.estimator
        t0 = time.perf_counter()
        est.fit(task.train_inputs, task.y_train)
        t1 = time.perf_counter()
        pred = est.predict(task.test_inputs)
        t2 = time.perf_counter()
    return {
        "predictor": task.predictor,
        "train_size": task.train_size,
        "seed": task.seed,
        "kendall_tau": metrics.kendall_tau(task.y_test, pred),
        "spearman": metrics.spearman(task.y_test, pred),
        "precision_at_10pct": metrics.precision_at_k(task.y_test, pred, 0.1),
        "fit_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
        **task.context,
    }


@contextlib.contextmanager
def _on_worker(threads: int) -> Iterator[None]:
    """A block that runs alone in its process (:data:`archrank._executors.TASK_LOCK`: predictors draw from
    torch's global random generator) with ``$ARCHRANK_THREADS`` set to ``threads`` (restored after)."""
    with _executors.TASK_LOCK:
        before = os.environ.get(THREADS_ENV)
        os.environ[THREADS_ENV] = str(threads)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(THREADS_ENV, None)
            else:
                os.environ[THREADS_ENV] = before


def _align_features(features: pd.DataFrame | None, archs: list[Any]) -> pd.DataFrame | None:
    """``features`` reordered to the benchmark's cells (NaN rows for cells it lacks)."""
    if features is None:
        return None
    if "arch" not in features.columns:
        raise KeyError("features need an 'arch' column of architecture strings")
    columns = [c for c in features.columns if c not in ("arch", "index")]
    if not columns:
        raise ValueError("features has no columns besides 'arch'")
    by_arch = features.assign(arch=features["arch"].astype(str)).drop_duplicates("arch").set_index("arch")[columns]
    return by_arch.reindex([str(a) for a in archs]).reset_index(drop=True).astype(np.float64)


def _progress(total: int, initial: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="predictor study", unit="fit")


def _read_checkpoint(path: str | Path | None, context: dict[str, Any]) -> dict[tuple[str, int, int], dict[str, Any]]:
    if path is None or not Path(path).exists():
        return {}
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(
            f"checkpoint {path} is not a readable study CSV ({err}); move it away to start afresh"
        ) from err
    if "features" not in df.columns:  # checkpoints written before feature columns existed
        df["features"] = ""
    df["features"] = df["features"].astype(object).where(df["features"].notna(), "")
    missing = set(STUDY_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"checkpoint {path} lacks the columns {sorted(missing)}; it is not a predictor-study file")
    for key, value in context.items():
        df = df[df[key].astype(str) == str(value)]
    return {(str(r.predictor), int(r.train_size), int(r.seed)): dict(r._asdict()) for r in df.itertuples(index=False)}


def _append_checkpoint(path: str | Path | None, row: dict[str, Any]) -> None:
    if path is None:
        return
    path = Path(path)
    new = not path.exists() or path.stat().st_size == 0
    pd.DataFrame([row], columns=STUDY_COLUMNS).to_csv(path, mode="a", header=new, index=False)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of each score and timing, per predictor and training size."""
    cols = ["kendall_tau", "spearman", "precision_at_10pct", "fit_seconds", "predict_seconds"]
    out = table.groupby(["predictor", "train_size"], sort=False)[cols].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out["n_seeds"] = table.groupby(["predictor", "train_size"], sort=False)["seed"].nunique()
    return out.reset_index()


def plot_predictor_study(table: pd.DataFrame, score: str = "kendall_tau", ax: Any = None) -> Any:
    """Mean +/- std of ``score`` against training-set size (log scale), one curve per predictor."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    stats = table.groupby(["predictor", "train_size"], sort=False)[score].agg(["mean", "std"]).reset_index()
    for label, part in stats.groupby("predictor", sort=False):
        part = part.sort_values("train_size")
        std = part["std"].fillna(0.0)
        ax.plot(part["train_size"], part["mean"], marker="o", label=label)
        ax.fill_between(part["train_size"], part["mean"] - std, part["mean"] + std, alpha=0.2)
    ax.set_xscale("log")
    # label the sizes studied, not matplotlib's log ticks (2 x 10^1, 3 x 10^1, ... overlap)
    sizes = sorted(stats["train_size"].unique())
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training architectures")
    ax.set_ylabel(score.replace("_", " "))
    first = table.iloc[0]
    ax.set_title(f"{first['benchmark']} {first['dataset']} {first['metric']}@{first['epochs']}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax
