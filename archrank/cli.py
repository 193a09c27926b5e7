"""The ``archrank`` command: spaces and benchmarks, queries, top-k tables, zero-cost proxies, studies.

Exit codes: 0 success, 2 bad input (unknown name, malformed architecture, architecture not in
the table), 3 a bundled data file is missing or corrupted.
"""

from __future__ import annotations

import functools
import math
import shutil
import sys
import warnings
from typing import Annotated, Literal

import typer

import archrank as ar
from archrank.errors import (
    ArchrankError,
    DataFileError,
    InvalidArchitectureError,
    UnknownArchitectureError,
    UnknownChoiceError,
    plain,
)

#: -h as well as --help; help wraps at the terminal's width (120 columns when not in a terminal, not 80),
#: in plain text (Rich's boxed tables squeeze every option's help into a narrow column)
CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 120,
    "terminal_width": shutil.get_terminal_size(fallback=(120, 24)).columns,
}

app = typer.Typer(
    help="Rank neural network architectures without training them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)

EXIT_BAD_INPUT, EXIT_DATA = 2, 3


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"archrank {ar.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="torch, XGBoost and BLAS threads of every step, worker processes included "
            "(sets $ARCHRANK_THREADS; default: that variable, else 1)",
        ),
    ] = None,
) -> None:
    """Rank neural network architectures without training them."""
    import os

    if threads is not None:  # read by archrank._threads wherever work runs; spawned workers inherit it
        os.environ["ARCHRANK_THREADS"] = str(threads)

    # `archrank rank my_spaces:cell ...` imports my_spaces from the folder it is run in, as `python -m` would
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
    """A warning during a command: one line on stderr, without the library's source line."""
    typer.echo(f"warning: {message}", err=True)


def _guard(func):  # type: ignore[no-untyped-def]
    """Turn archrank's own errors into a one-line message and a clear exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            with warnings.catch_warnings():  # restores the warnings machinery when the command ends
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except DataFileError as err:
            _fail(str(err), EXIT_DATA)
        except (InvalidArchitectureError, UnknownChoiceError, UnknownArchitectureError) as err:
            _fail(str(err), EXIT_BAD_INPUT)
        except KeyError as err:  # e.g. a score table without the asked-for column (str() would quote it)
            _fail(str(err.args[0]) if err.args else str(err), EXIT_BAD_INPUT)
        except ValueError as err:
            _fail(str(err), EXIT_BAD_INPUT)
        except TypeError as err:  # e.g. --set NAME=VALUE with a value of the wrong type
            _fail(f"{err}", EXIT_BAD_INPUT)
        except ArchrankError as err:  # e.g. a search that found no allowed architecture at all
            _fail(str(err), EXIT_BAD_INPUT)

    return wrapper


TableOption = Annotated[
    str | None,
    typer.Option(
        "--table",
        help="CSV of your own results (arch column, metric or metric@epochs columns); BENCHMARK then names its space",
    ),
]


WorkersOption = Annotated[
    int | None,
    typer.Option(min=1, help="run on this many local worker processes (default: here, in one process)"),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="run on the Dask cluster of this scheduler, e.g. tcp://host:8786 (workers need archrank)"),
]


def _executor(workers: int | None, scheduler: str | None) -> str | None:
    """``executor=`` for --workers N (local processes) or --scheduler ADDRESS (Dask); None: in this process."""
    if workers is not None and scheduler is not None:
        raise typer.BadParameter("give --workers N (local processes) or --scheduler ADDRESS (Dask), not both")
    if scheduler is not None:
        from archrank import _executors

        if not _executors.is_scheduler_address(scheduler):
            raise typer.BadParameter(f"--scheduler takes an address such as tcp://host:8786, not {scheduler!r}")
        return scheduler
    return "processes" if workers is not None else None


def _benchmark(benchmark: str, dataset: str, table: str | None) -> ar.datasets.Benchmark:
    """A bundled table, or with ``--table`` the user's CSV read for the space that ``benchmark`` names."""
    if table is None:
        if (":" in benchmark or benchmark in ar.spaces.names()) and not ar.spaces.get(benchmark).tables:
            raise ValueError(f"{benchmark!r} has no bundled table; pass your results with --table FILE.csv")
        return ar.datasets.load(benchmark, dataset)
    from pathlib import Path

    return ar.datasets.Benchmark.from_csv(table, benchmark, dataset=Path(table).stem)


@app.command("spaces")
@_guard
def list_spaces() -> None:
    """List the search spaces and their operations."""
    for name in ar.spaces.names():
        space = ar.spaces.get(name)
        ops = getattr(space, "ops", None) or [f"{len(space.decisions)} decisions"]
        typer.echo(f"{name:6s} {space.size_note:22s} ops: {', '.join(map(str, ops))}")


@app.command("datasets")
@_guard
def list_datasets() -> None:
    """List the bundled benchmarks, their datasets and metrics (with epoch budgets and units)."""
    for name, ds_names in ar.datasets.names().items():
        for ds in ds_names:
            bench = ar.datasets.load(name, ds)
            typer.echo(f"{name}/{ds}: {len(bench)} architectures")
            for metric, budgets in bench.metrics().items():
                unit = bench.info(metric, budgets[-1]).unit
                epochs = "" if budgets == [None] else " epochs " + ", ".join(str(plain(b)) for b in budgets)
                typer.echo(f"    {metric} [{unit}]{epochs}")


@app.command()
@_guard
def query(
    benchmark: Annotated[str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")],
    arch: Annotated[str, typer.Argument(help="architecture string (NB101: spec string or module hash)")],
    dataset: Annotated[str, typer.Option(help="dataset of the benchmark")] = "cifar10",
    metric: Annotated[str | None, typer.Option(help="metric to print; all metrics if omitted")] = None,
    epochs: Annotated[int | None, typer.Option(help="epoch budget; the largest recorded if omitted")] = None,
    results_table: TableOption = None,
) -> None:
    """Print one architecture's recorded metrics."""
    bench = _benchmark(benchmark, dataset, results_table)
    parsed = bench.space.lookup(arch)
    typer.echo(f"arch: {parsed}")
    for key, value in bench.space.identifiers(parsed).items():
        typer.echo(f"{key}: {value}")
    if metric is not None:
        info = bench.info(metric, epochs)
        typer.echo(f"{metric}@{info.epochs}: {bench.query(parsed, metric, epochs):.6g} {info.unit}")
        return
    for name, budgets in bench.metrics().items():
        for ep in budgets:
            label = name if ep is None else f"{name}@{ep}"
            typer.echo(f"{label}: {bench.query(parsed, name, ep):.6g} {bench.info(name, ep).unit}")


@app.command()
@_guard
def top(
    benchmark: Annotated[str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")],
    dataset: Annotated[str, typer.Option(help="dataset of the benchmark")] = "cifar10",
    metric: Annotated[
        str | None, typer.Option(help="metric to rank by (default: test accuracy, else validation)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="epoch budget; the largest recorded if omitted")] = None,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="how many architectures")] = 10,
    ascending: Annotated[bool, typer.Option("--ascending", help="smallest first (for latency, params)")] = False,
    results_table: TableOption = None,
) -> None:
    """Show the k best architectures of a benchmark by a metric."""
    bench = _benchmark(benchmark, dataset, results_table)
    if metric is None:
        metric = "test_accuracy" if "test_accuracy" in bench.metrics() else "valid_accuracy"
    table = bench.top(k, metric, epochs, ascending=ascending)
    column = table.columns[-1]
    unit = bench.info(metric, epochs).unit
    typer.echo(f"top {len(table)} of {bench.name}/{bench.dataset} by {column}" + (f" [{unit}]" if unit else ""))
    for rank, (row, arch, value) in enumerate(table.itertuples(index=False), start=1):
        typer.echo(f"{rank:3d}  row {row:6d}  {value:10.4f}  {arch}")


study_app = typer.Typer(
    help="Correlation studies (predictors and zero-cost proxies against benchmark truth).",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(study_app, name="study")


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None


@study_app.command("predictors")
@_guard
def study_predictors(
    benchmark: Annotated[
        str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")
    ] = "nb201",
    dataset: Annotated[str, typer.Option(help="dataset of the benchmark")] = "cifar10-valid",
    metric: Annotated[str, typer.Option(help="target metric")] = "valid_accuracy",
    epochs: Annotated[int | None, typer.Option(help="epoch budget; the largest recorded if omitted")] = None,
    predictor: Annotated[
        list[str] | None,
        typer.Option("--predictor", "-p", help="predictor name (repeat); default: every single-model predictor"),
    ] = None,
    train_sizes: Annotated[str, typer.Option(help="comma-separated training-set sizes")] = "10,20,50,100,200,500,1000",
    seeds: Annotated[int, typer.Option(min=1, help="number of seeds (0..n-1)")] = 10,
    test_size: Annotated[int, typer.Option(min=2, help="held-out test architectures")] = 1000,
    out: Annotated[str | None, typer.Option(help="write the per-run table to this CSV")] = None,
    plot: Annotated[str | None, typer.Option(help="save a mean +/- std Kendall-tau plot here (png, pdf)")] = None,
    checkpoint: Annotated[
        str | None, typer.Option(help="append each finished run here and resume from it on restart")
    ] = None,
    proxy_features: Annotated[
        str | None,
        typer.Option(help="comma-separated proxies from the shipped precomputed table to add as features"),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="predictor hyperparameter PREDICTOR.NAME=VALUE (JSON or text value; repeat)"),
    ] = None,
    results_table: TableOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Fit predictors on growing training sets and score their ranking of held-out architectures."""
    from archrank import predictors as predictor_mod
    from archrank import proxies, studies

    names = predictor or predictor_mod.names(wrappers=False)
    settings = _named_settings(set_ or [], names, "predictor")
    # a run's label names its settings, so a checkpoint never mixes two settings of one predictor
    labelled = {_settings_label(name, settings[name]): predictor_mod.make(name, **settings[name]) for name in names}
    features = None
    if proxy_features:
        chosen = [p.strip() for p in proxy_features.split(",") if p.strip()]
        scores = proxies.load_precomputed(benchmark, dataset.split("-")[0])
        features = proxies.as_features(scores, chosen)
    table = studies.predictor_study(
        _benchmark(benchmark, dataset, results_table),
        dataset=dataset,
        metric=metric,
        epochs=epochs,
        predictors=labelled,
        train_sizes=_int_list(train_sizes),
        seeds=range(seeds),
        test_size=test_size,
        checkpoint=checkpoint,
        features=features,
        executor=_executor(workers, scheduler),
        workers=workers,
    )
    summary = studies.summarize(table)
    width = max(14, *(len(label) for label in labelled))
    typer.echo(f"{'predictor':{width}s} {'n':>5s} {'tau':>13s} {'spearman':>13s} {'prec@10%':>13s} {'fit s':>7s}")

    def spread(mean: float, std: float) -> str:  # one seed has no standard deviation
        return f"{mean:6.3f}+-{std:5.3f}" if math.isfinite(std) else f"{mean:6.3f}       "

    for r in summary.itertuples(index=False):
        typer.echo(
            f"{r.predictor:{width}s} {r.train_size:5d} {spread(r.kendall_tau_mean, r.kendall_tau_std)}"
            f" {spread(r.spearman_mean, r.spearman_std)} {spread(r.precision_at_10pct_mean, r.precision_at_10pct_std)}"
            f" {r.fit_seconds_mean:7.2f}"
        )
    if out:
        table.to_csv(out, index=False)
        typer.echo(f"wrote {out}")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        _save_figure(studies.plot_predictor_study(table).figure, plot)


def _settings_label(name: str, settings: dict) -> str:
    """``gnn`` or ``gnn(loss=ranking,lr=0.01)``: a predictor's name with the settings given on the command line."""
    if not settings:
        return name
    return f"{name}({','.join(f'{key}={value}' for key, value in sorted(settings.items()))})"


def _save_figure(fig: object, path: str) -> None:
    fig.savefig(path, bbox_inches="tight", dpi=120)  # type: ignore[attr-defined]
    typer.echo(f"wrote {path}")


def _auto_or_int(value: str, option: str) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"{option} takes 'auto' or a positive whole number, not {value!r}") from None


@app.command("proxies")
@_guard
def proxies_command(
    space: Annotated[str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")],
    arch: Annotated[list[str] | None, typer.Argument(help="architecture strings (or use --sample)")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="score this many random architectures")] = None,
    proxy: Annotated[list[str] | None, typer.Option("--proxy", "-x", help="proxy name (repeat)")] = None,
    dataset: Annotated[str, typer.Option(help="cifar10, cifar100 or ImageNet16-120")] = "cifar10",
    batch_size: Annotated[int, typer.Option(min=1, help="images in the input batch")] = 64,
    seed: Annotated[int, typer.Option(help="seed of the weights and of the image batch (and of --sample)")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N")] = "auto",
    cache: Annotated[str | None, typer.Option(help="SQLite cache file (default: ~/.cache/archrank)")] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="neither read nor write the SQLite cache of computed scores")
    ] = False,
    no_precomputed: Annotated[
        bool,
        typer.Option(
            "--no-precomputed", help="compute scores the shipped precomputed table holds too, instead of reading them"
        ),
    ] = False,
    out: Annotated[str | None, typer.Option(help="write the score table to this CSV")] = None,
    archs_per_launch: Annotated[
        str, typer.Option(help="NB201 networks per stacked pass: auto (16 on a GPU, 1 on the CPU) or a number")
    ] = "auto",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Score architectures with zero-cost proxies at initialisation (cached; resumes if interrupted)."""
    from archrank import proxies

    sp = ar.spaces.get(space)
    if bool(arch) == (sample is not None):
        raise typer.BadParameter("give architecture strings or --sample N, not both or neither")
    archs = list(arch) if arch else sp.sample(sample, seed=seed)
    table = proxies.compute(
        archs,
        proxy or list(proxies.DEFAULT_PROXIES),
        space=sp,
        dataset=dataset,
        batch_size=batch_size,
        device=device,
        seed=seed,
        cache=None if no_cache else (cache or "auto"),
        precomputed=not no_precomputed,
        archs_per_launch=_auto_or_int(archs_per_launch, "--archs-per-launch"),
        executor=_executor(workers, scheduler),
        workers=workers,
    )
    if out:
        table.to_csv(out, index=False)
        typer.echo(f"wrote {out}")
    with_index = table.set_index("arch")
    typer.echo(with_index.to_string(float_format=lambda v: f"{v:.6g}"))


@app.command("rank")
@_guard
def rank_command(
    space: Annotated[str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")],
    train: Annotated[
        str | None, typer.Option(help="CSV of your measured results: an 'arch' column and a target column")
    ] = None,
    model_file: Annotated[
        str | None, typer.Option("--model", help="rank with a predictor saved by --save instead of fitting one")
    ] = None,
    target: Annotated[str | None, typer.Option(help="target column of --train; default: its only numeric one")] = None,
    candidates: Annotated[
        str | None, typer.Option(help="architectures to rank: a .csv with an 'arch' column, or one string per line")
    ] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="rank this many random architectures")] = None,
    all_: Annotated[bool, typer.Option("--all", help="rank every architecture of the space (nb201, nb101)")] = False,
    predictor: Annotated[str, typer.Option("--predictor", "-p", help="predictor name")] = "ensemble",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="predictor hyperparameter PREDICTOR.NAME=VALUE (JSON or text value; repeat)"),
    ] = None,
    proxy_features: Annotated[
        str | None, typer.Option(help="comma-separated zero-cost proxies to add as features (scored, cached)")
    ] = None,
    dataset: Annotated[str, typer.Option(help="image dataset of the proxies' input batch")] = "cifar10",
    cache: Annotated[str | None, typer.Option(help="proxy cache file (default: ~/.cache/archrank)")] = None,
    keep_known: Annotated[
        bool,
        typer.Option(
            "--keep-known", help="also rank candidates already in --train (by default left out, up to isomorphism)"
        ),
    ] = False,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, help="how many of the best to print")] = 10,
    seed: Annotated[int, typer.Option(help="seed of the predictor (and of --sample)")] = 0,
    out: Annotated[str | None, typer.Option(help="write every ranked candidate to this CSV")] = None,
    save: Annotated[str | None, typer.Option(help="save the fitted predictor to this file")] = None,
) -> None:
    """Fit a predictor on your own results (or load a saved one) and rank untrained candidates, best first."""
    from archrank import predictors as predictor_mod

    sp = ar.spaces.get(space)
    if (train is None) == (model_file is None):
        raise typer.BadParameter("give --train RESULTS.csv to fit a predictor, or --model FILE to use a saved one")
    if model_file is not None:
        fitting_only = {"--target": target, "--set": set_, "--proxy-features": proxy_features, "--save": save}
        given = [flag for flag, value in fitting_only.items() if value]
        if given or predictor != "ensemble":
            raise typer.BadParameter(f"{', '.join(given or ['--predictor'])} only apply with --train, not --model")
    if sum([candidates is not None, sample is not None, all_]) != 1:
        raise typer.BadParameter("give exactly one of --candidates FILE, --sample N or --all")
    train_archs, y = ar.datasets.read_results(train, sp, target) if train is not None else ([], None)
    if candidates is not None:
        pool = ar.datasets.read_architectures(candidates, sp)
    elif sample is not None:
        pool = sp.sample(sample, seed=seed)
    else:
        try:
            pool = sp.all()
        except NotImplementedError as err:
            raise typer.BadParameter(f"{err}; rank --sample N or --candidates FILE instead") from None
    if train_archs and not keep_known:
        known = {sp.canonical(a) for a in train_archs}
        kept = [a for a in pool if sp.canonical(a) not in known]
        if len(kept) < len(pool):
            typer.echo(
                f"left out {len(pool) - len(kept)} candidate(s) computing the same function as a cell of {train} "
                "(space.canonical; --keep-known ranks them too)",
                err=True,
            )
        if not kept:
            raise ValueError(f"every candidate is already in {train}; pass --keep-known to rank them anyway")
        pool = kept
    if model_file is not None:
        model = predictor_mod.load(model_file)
        fitted_for = model.get_params(deep=False).get("space")
        if fitted_for is not None and ar.spaces.get(getattr(fitted_for, "name", fitted_for)).name != sp.name:
            raise ValueError(
                f"{model_file} holds a predictor for {getattr(fitted_for, 'name', fitted_for)}, not {sp.name}"
            )
        if cache and "cache" in model.get_params(deep=False):
            model.set_params(cache=cache)  # where this machine keeps its proxy scores
        label = f"the predictor of {model_file} ({type(model).__name__})"
        typer.echo(f"predicting {len(pool)} candidates with {label} ...", err=True)
    else:
        settings = _named_settings(set_ or [], [predictor], "predictor")[predictor]
        model = predictor_mod.make(predictor, **{"space": sp, "random_state": seed, **settings})  # --set wins
        label = _settings_label(predictor, settings)
        if proxy_features:
            model = _with_proxy_features(model, proxy_features, sp, dataset, cache, train_archs + pool)
            label += f" + proxies ({', '.join(model.proxies)})"
        typer.echo(
            f"fitting {label} on {len(train_archs)} results, then predicting {len(pool)} candidates ...", err=True
        )
        model.fit(train_archs, y)
    ranked = predictor_mod.rank_candidates(model, pool)
    what = f"{label} fitted on {len(train_archs)} results" if train_archs else label
    typer.echo(f"{what}; {len(pool)} candidates ranked; the {min(k, len(pool))} best:")
    typer.echo(ranked.head(k).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if out:
        ranked.to_csv(out, index=False)
        typer.echo(f"wrote {out}")
    if save:
        typer.echo(f"wrote {model.save(save)}")


def _with_proxy_features(
    model: object, proxy_features: str, space: object, dataset: str, cache: str | None, scored: list
) -> object:
    """``model`` wrapped in a ProxyFeaturePredictor for the comma-separated ``proxy_features``.

    The quantile reference is the shipped table of ``space``/``dataset`` when it holds every
    proxy, else the scores of ``scored`` (the training results and all candidates), computed here
    with a progress bar; either way it is stored in the predictor, so a model saved with --save
    reads later candidates the same way."""
    from archrank import predictors as predictor_mod
    from archrank import proxies

    chosen = list(dict.fromkeys(p.strip() for p in proxy_features.split(",") if p.strip()))
    if not chosen:
        raise typer.BadParameter("--proxy-features needs at least one proxy name")
    for name in chosen:
        proxies.get(name)  # an unknown proxy is an error before any scoring
    from archrank.predictors.proxy_features import shipped_reference

    name = getattr(space, "name", space)
    reference: object = "shipped"
    if shipped_reference(name, dataset, chosen) is not None:
        typer.echo(f"proxy features: quantiles among the shipped {name}/{dataset} table", err=True)
    else:
        reference = proxies.compute(scored, chosen, space=space, dataset=dataset, cache=cache or "auto")
        typer.echo(
            f"proxy features: quantiles among the {len(scored)} scored architectures (results and candidates), "
            "kept with the predictor",
            err=True,
        )
    return predictor_mod.make(
        "proxy_features",
        estimator=model,
        proxies=chosen,
        dataset=dataset,
        reference=reference,
        cache=cache or "auto",
        progress=True,
        space=space,
        random_state=getattr(model, "random_state", None),
    )


@study_app.command("proxies")
@_guard
def study_proxies(
    benchmark: Annotated[
        str, typer.Argument(help="nb201, nb101, darts, a registered space or module:attribute")
    ] = "nb201",
    dataset: Annotated[str, typer.Option(help="dataset of the benchmark")] = "cifar10",
    metric: Annotated[str, typer.Option(help="target metric")] = "test_accuracy",
    epochs: Annotated[int | None, typer.Option(help="epoch budget; the largest recorded if omitted")] = None,
    scores: Annotated[
        str | None, typer.Option(help="score CSV (from `archrank proxies --out`); default: the shipped table")
    ] = None,
    proxy: Annotated[
        list[str] | None, typer.Option("--proxy", "-x", help="proxy column (repeat); default: all")
    ] = None,
    search: Annotated[int, typer.Option(min=0, help="also try every mean-rank subset of 2..N proxies")] = 3,
    out: Annotated[str | None, typer.Option(help="write the correlation table to this CSV")] = None,
    plot: Annotated[str | None, typer.Option(help="save one scatter per proxy here (png, pdf)")] = None,
    results_table: TableOption = None,
) -> None:
    """Kendall tau and Spearman of each proxy (and mean-rank combinations) against a benchmark metric."""
    import pandas as pd

    from archrank import proxies, studies

    if scores:
        try:
            table = pd.read_csv(scores)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise typer.BadParameter(f"cannot read score table {scores}: {err}") from None
    else:
        table = proxies.load_precomputed(benchmark, dataset.split("-")[0])
    bench = _benchmark(benchmark, dataset, results_table)
    result = studies.proxy_study(table, bench, metric=metric, epochs=epochs, proxies=proxy, search_combinations=search)
    typer.echo(f"{len(table)} architectures; truth: {bench.space.name} {bench.dataset} {metric}")
    typer.echo(f"{'proxies':40s} {'kind':12s} {'n':>6s} {'tau':>7s} {'spearman':>8s}")
    shown = pd.concat([result[result.kind != "search"], result[result.kind == "search"].head(10)])
    for r in shown.itertuples(index=False):
        typer.echo(f"{r.proxies:40s} {r.kind:12s} {r.n:6d} {r.kendall_tau:7.3f} {r.spearman:8.3f}")
    if out:
        result.to_csv(out, index=False)
        typer.echo(f"wrote {out}")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        _save_figure(studies.plot_proxy_scatter(table, bench, metric=metric, epochs=epochs, proxies=proxy), plot)


def _named_settings(settings: list[str], names: list[str], kind: str) -> dict[str, dict]:
    """``["npenas.warm_start=100", ...]`` -> ``{"npenas": {"warm_start": 100}, ...}`` (values parsed as JSON).

    ``names``: the strategies or predictors run (``kind`` says which, for the error messages).
    """
    import json

    out: dict[str, dict] = {name: {} for name in names}
    for item in settings:
        target, sep, text = item.partition("=")
        name, dot, key = target.partition(".")
        if not sep or not dot or not key:
            raise ValueError(f"--set wants {kind.upper()}.NAME=VALUE, got {item!r}")
        if name not in out:
            raise ValueError(f"--set {item!r}: {kind} {name!r} is not run ({kind} names: {names})")
        try:
            out[name][key] = json.loads(text)
        except json.JSONDecodeError:
            out[name][key] = text
    return out


@app.command("search")
@_guard
def search_command(
    benchmark: Annotated[str, typer.Argument(help="nb201, nb101 or darts (searched through its table)")],
    dataset: Annotated[str, typer.Option(help="dataset of the benchmark")] = "cifar10",
    metric: Annotated[str, typer.Option(help="metric to search on")] = "valid_accuracy",
    epochs: Annotated[int | None, typer.Option(help="epoch budget of the metric; the largest if omitted")] = None,
    report: Annotated[str | None, typer.Option(help="metric to report for the best cell found")] = "test_accuracy",
    strategy: Annotated[list[str] | None, typer.Option("--strategy", "-s", help="strategy (repeat)")] = None,
    budget: Annotated[int, typer.Option(min=1, help="queries per run")] = 100,
    seeds: Annotated[int, typer.Option(min=1, help="runs per strategy (seeds 0..n-1)")] = 1,
    store: Annotated[str | None, typer.Option(help="SQLite history; rerunning resumes unfinished runs")] = None,
    out: Annotated[str | None, typer.Option(help="write every evaluation of every run to this CSV")] = None,
    plot: Annotated[str | None, typer.Option(help="save best-so-far curves here (png, pdf)")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="strategy hyperparameter STRATEGY.NAME=VALUE (JSON or text value; repeat)"),
    ] = None,
    results_table: TableOption = None,
) -> None:
    """Search a benchmark table with one or more strategies; print the best found, plot best-so-far."""
    import pandas as pd

    from archrank import search

    names = strategy or ["random", "evolution", "npenas"]
    hyperparameters = _named_settings(set_ or [], names, "strategy")
    bench = _benchmark(benchmark, dataset, results_table)
    reports = [report] if report and report in bench.metrics() else []
    oracle = search.BenchmarkOracle(bench, metric=metric, epochs=epochs, report=reports)
    runs: dict[str, list[pd.DataFrame]] = {}
    for name in names:
        for seed in range(seeds):
            table = search.run(
                name,
                bench.space,
                oracle,
                budget=budget,
                seed=seed,
                store=store,
                executor="inline",
                **hyperparameters[name],
            ).frame()
            runs.setdefault(name, []).append(table.assign(strategy=name, seed=seed))
    summary = search.final_summary(runs, reports[0] if reports else None)
    typer.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if out:
        pd.concat([t for tables in runs.values() for t in tables]).to_csv(out, index=False)
        typer.echo(f"wrote {out}")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = search.plot_best_so_far(runs, ylabel=f"best {metric}")
        ax.set_title(f"{bench.space.name} {bench.dataset}: {budget} queries")
        _save_figure(ax.figure, plot)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover - python -m archrank.cli
    main()
