from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import archrank as ar
from archrank.metrics import kendall_tau, pearson, precision_at_k, spearman, top_k_regret

finite = st.floats(-1e6, 1e6, allow_nan=False)
vectors = st.lists(finite, min_size=3, max_size=40, unique=True)


def test_known_values():
    y = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert kendall_tau(y, y) == pytest.approx(1.0) and kendall_tau(y, y[::-1]) == pytest.approx(-1.0)
    # One discordant pair out of 10: tau = (9 - 1) / 10.
    assert kendall_tau(y, [1, 2, 3, 5, 4]) == pytest.approx(0.8)
    assert spearman(y, [1, 2, 3, 5, 4]) == pytest.approx(0.9)
    assert pearson(y, [2, 4, 6, 8, 10]) == pytest.approx(1.0)
    assert pearson(y, [-2, -4, -6, -8, -10]) == pytest.approx(-1.0)  # signed, never abs()


def test_tau_b_handles_ties_like_scipy():
    a, b = [1, 2, 2, 3, 4, 4], [1, 3, 2, 2, 5, 4]
    assert kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)


@given(vectors)
def test_properties(v):
    assert kendall_tau(v, v) == pytest.approx(1.0)
    assert spearman(v, [-x for x in v]) == pytest.approx(-1.0)
    assert precision_at_k(v, v, k=2) == 1.0


def test_precision_at_k():
    y_true = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    y_pred = [10, 1, 8, 7, 6, 5, 4, 3, 2, 9]  # predicted top-3 = {0, 9, 2}; true top-3 = {0, 1, 2}
    assert precision_at_k(y_true, y_pred, k=3) == pytest.approx(2 / 3)
    assert precision_at_k(y_true, y_pred, k=0.1) == 1.0  # top-10% of 10 = 1 item
    assert top_k_regret(y_true, y_pred, k=1) == 0.0
    assert top_k_regret(y_true, [1, 10, 2, 3, 4, 5, 6, 7, 8, 9], k=1) == 1.0


@pytest.mark.parametrize("func", [kendall_tau, spearman, pearson, precision_at_k])
def test_bad_input_raises(func):
    with pytest.raises(ValueError, match="NaN"):
        func([1.0, np.nan, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="differ in length"):
        func([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        func(np.ones((2, 2)), np.ones((2, 2)))


def test_bad_k_and_constant_input():
    with pytest.raises(ValueError, match="k must be in"):
        precision_at_k([1, 2, 3], [1, 2, 3], k=5)
    with pytest.raises(ValueError, match="fraction"):
        precision_at_k([1, 2, 3], [1, 2, 3], k=1.5)
    with pytest.warns(stats.ConstantInputWarning):
        assert np.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_real_data_correlation_between_fidelities():
    bench = ar.datasets.load("nb201", "cifar10")
    tau = kendall_tau(bench.values("test_accuracy", 200), bench.values("test_accuracy", 12))
    assert 0.5 < tau < 0.95  # 12-epoch results are informative but not the same ranking
