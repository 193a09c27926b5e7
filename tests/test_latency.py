"""Latency predictors (lookup table, few-shot transfer) and the latency study, on the shipped NB201 latencies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import archrank as ar
from archrank.predictors.latency import choice_counts

REFS = list(ar.studies.HELP_META_TRAIN)


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    return ar.datasets.load("nb201", "cifar10")


def _split(bench, n: int, seed: int):  # type: ignore[no-untyped-def]
    order = np.random.default_rng(seed).permutation(len(bench))
    archs = bench.archs()
    return [archs[i] for i in order[:n]], [archs[i] for i in order[n : n + 2000]]


def test_choice_counts_count_each_op_over_the_cells_edges() -> None:
    space = ar.spaces.get("nb201")
    arch = space.from_index(6111)  # 4 nor_conv_3x3, 1 skip, 1 nor_conv_1x1
    counts, names = choice_counts(space, [arch])
    got = dict(zip(names, counts[0], strict=True))
    assert got == {"none": 0, "skip_connect": 1, "nor_conv_1x1": 1, "nor_conv_3x3": 4, "avg_pool_3x3": 0}
    per_edge, labels = choice_counts(space, [arch], shared=False)
    assert per_edge.shape == (1, 30) and per_edge.sum() == 6 and "2->3=nor_conv_1x1" in labels


def test_lookup_table_recovers_additive_op_costs_exactly() -> None:
    space = ar.spaces.get("nb201")
    archs = space.sample(12, seed=0)
    costs = {"none": 0.0, "skip_connect": 0.1, "nor_conv_1x1": 1.0, "nor_conv_3x3": 2.5, "avg_pool_3x3": 0.4}
    y = np.array([3.0 + sum(costs[op] for op in a.ops) for a in archs])
    lut = ar.predictors.make("latency_lut", space="nb201", alpha=0.0).fit(archs, y)
    fitted = lut.costs_[list(costs)].to_numpy()
    # every cell has 6 edges, so a shift of all costs trades against the base: compare differences
    np.testing.assert_allclose(fitted - fitted[0], np.array(list(costs.values())), atol=1e-6)
    assert lut.base_ + 6 * fitted[0] == pytest.approx(3.0, abs=1e-6)
    others = space.sample(20, seed=1)
    np.testing.assert_allclose(lut.predict(others), [3.0 + sum(costs[op] for op in a.ops) for a in others], atol=1e-6)


def test_transfer_with_10_measurements_ranks_a_held_out_device(bench) -> None:  # type: ignore[no-untyped-def]
    train, test = _split(bench, 10, seed=0)
    target = "latency_help_titanx_1"  # a meta-validation device
    model = ar.predictors.make("latency_transfer", space="nb201", reference_devices=REFS)
    model.fit(train, bench.values(target, archs=train))
    rho = spearmanr(model.predict(test), bench.values(target, archs=test)).statistic
    assert rho > 0.93
    assert model.model_ in ("nnls", "lookup_table", "ridge")
    assert list(model.selection_.index) == ["nnls", "lookup_table", "ridge"]
    mean, std = model.predict(test[:5], return_std=True)
    assert mean.shape == std.shape == (5,) and (std > 0).all()
    again = ar.predictors.make("latency_transfer", space="nb201", reference_devices=REFS)
    again.fit(train, bench.values(target, archs=train))
    np.testing.assert_array_equal(again.predict(test), model.predict(test))


def test_transfer_reads_a_users_own_reference_frame_and_names_what_it_lacks(bench) -> None:  # type: ignore[no-untyped-def]
    train, test = _split(bench, 8, seed=1)
    cells = train + test[:50]
    frame = pd.DataFrame({"arch": [str(a) for a in cells], **{d: bench.values(d, archs=cells) for d in REFS[:3]}})
    y = bench.values("latency_help_gold_6240", archs=train)
    model = ar.predictors.make("latency_transfer", space="nb201", reference=frame).fit(train, y)
    assert model.reference_devices_ == REFS[:3]
    assert model.predict(test[:50]).shape == (50,)
    with pytest.raises(ar.UnknownArchitectureError, match="the reference table has no latencies for"):
        model.predict(test[60:62])
    with pytest.raises(ar.UnknownChoiceError, match="unknown reference device 'latency_nowhere'"):
        ar.predictors.make("latency_transfer", space="nb201", reference_devices=["latency_nowhere"]).fit(train, y)


def test_bad_latency_targets_and_models_are_clear_errors(bench) -> None:  # type: ignore[no-untyped-def]
    train, _ = _split(bench, 10, seed=2)
    y = bench.values("latency_help_titanx_32", archs=train)
    with pytest.raises(ValueError, match=r"positive latencies; target 3 is -1\.0"):
        ar.predictors.make("latency_transfer", space="nb201").fit(train, np.where(np.arange(10) == 3, -1.0, y))
    with pytest.raises(ValueError, match="at least 3 measurements"):
        ar.predictors.make("latency_transfer", space="nb201").fit(train[:2], y[:2])
    with pytest.raises(ar.UnknownChoiceError, match="unknown latency_transfer model 'mlp'"):
        ar.predictors.make("latency_transfer", space="nb201", models=("nnls", "mlp")).fit(train, y)
    with pytest.raises(ValueError, match="NaN"):
        ar.predictors.make("latency_lut", space="nb201").fit(train, np.where(np.arange(10) == 0, np.nan, y))


def test_latency_study_rows_and_errors() -> None:
    df = ar.studies.latency_study(
        "nb201", ["latency_help_titanx_1"], REFS, train_sizes=[5, 10], seeds=[0, 1], progress=False
    )
    assert list(df.columns) == ar.studies.LATENCY_STUDY_COLUMNS
    assert len(df) == 3 * 2 * 2 and set(df.predictor) == {"latency_transfer", "latency_lut", "linear_on_references"}
    best = df[(df.n == 10)].groupby("predictor").spearman.mean()
    assert best["latency_transfer"] > 0.9 > best["linear_on_references"]
    same = ar.studies.latency_study(
        "nb201", ["latency_help_titanx_1"], REFS, train_sizes=[5, 10], seeds=[0, 1], progress=False
    )
    pd.testing.assert_frame_equal(df, same)  # same seeds, same numbers
    with pytest.raises(ValueError, match="both a target and a reference"):
        ar.studies.latency_study("nb201", [REFS[0]], REFS, train_sizes=[5], seeds=[0], progress=False)
    with pytest.raises(ar.UnknownChoiceError, match="unknown latency metric 'latency_toaster'"):
        ar.studies.latency_study("nb201", ["latency_toaster"], REFS, train_sizes=[5], seeds=[0], progress=False)


def test_default_references_skip_columns_with_placeholders_and_a_bad_one_is_named(bench) -> None:  # type: ignore[no-untyped-def]
    train, _ = _split(bench, 10, seed=3)
    y = bench.values("latency_help_titanx_1", archs=train)
    assert (bench.values("latency_edgetpu") < 0).any()  # HW-NAS-Bench's -1 for cells it did not measure
    model = ar.predictors.make("latency_transfer", space="nb201").fit(train, y)
    assert "latency_edgetpu" not in model.reference_devices_ and "latency_help_pixel2" in model.reference_devices_
    cells = [a for a in bench.archs()[:200] if bench.query(a, "latency_edgetpu") < 0][:10]
    with pytest.raises(ValueError, match=r"reference device 'latency_edgetpu' has no latency for .*value -1\.0"):
        ar.predictors.make("latency_transfer", space="nb201", reference_devices=["latency_edgetpu"]).fit(
            cells, bench.values("latency_help_titanx_1", archs=cells)
        )
    with pytest.raises(ValueError, match="no reference devices: give reference_devices="):
        ar.predictors.make("latency_transfer", space="nb201", reference_devices=[]).fit(train, y)
    by_mse = ar.predictors.make("latency_transfer", space="nb201", reference_devices=REFS, selection="loo_mse")
    by_mse.fit(train, y)
    assert (by_mse.selection_["loo_mse"] > 0).all()
    assert by_mse.model_ == by_mse.selection_["loo_mse"].idxmin()
