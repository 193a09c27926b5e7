"""The shared rank helpers: average ranks with NaN/-inf, quantiles, reference quantiles, mean rank, normal scores."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from archrank import ranking

finite_or_inf = st.one_of(st.floats(-1e6, 1e6), st.just(-np.inf), st.just(np.nan))


def test_ranks_keep_nan_and_put_minus_inf_lowest() -> None:
    r = ranking.ranks(np.array([3.0, np.nan, -np.inf, 3.0, 1.0]))
    np.testing.assert_array_equal(r, [3.5, np.nan, 1.0, 3.5, 2.0])


@given(st.lists(finite_or_inf, min_size=2, max_size=40))
def test_quantiles_equal_reference_quantiles_against_themselves(values: list[float]) -> None:
    v = np.array(values)
    if (~np.isnan(v)).sum() < 2:
        return
    q = ranking.quantiles(v)
    np.testing.assert_allclose(q, ranking.reference_quantiles(v, v), equal_nan=True)
    ok = ~np.isnan(v)
    assert np.all((q[ok] >= 0) & (q[ok] <= 1)) and np.isnan(q[~ok]).all()


def test_reference_quantiles_clip_outside_values_and_need_two_scores() -> None:
    ref = np.array([1.0, 2.0, 3.0, np.nan])
    np.testing.assert_allclose(ranking.reference_quantiles(np.array([0.0, 2.0, 9.0, np.nan]), ref), [0, 0.5, 1, np.nan])
    with pytest.raises(ValueError, match="fewer than 2 scores of 'synflow'"):
        ranking.reference_quantiles(np.array([1.0]), np.array([1.0, np.nan]), "synflow")


def test_mean_rank_over_complete_rows_only() -> None:
    scores = pd.DataFrame({"a": [1.0, 2.0, -np.inf, np.nan], "b": [4.0, 3.0, 2.0, 1.0]})
    np.testing.assert_array_equal(ranking.mean_rank_of(scores, ["a", "b"]), [2.5, 2.5, 1.0, np.nan])
    with pytest.raises(KeyError, match="nope"):
        ranking.mean_rank_of(scores, ["a", "nope"])
    with pytest.raises(ValueError, match="shape"):
        ranking.mean_rank(np.zeros(3))


def test_normal_scores_are_symmetric_normal_quantiles() -> None:
    z = ranking.normal_scores(np.array([10.0, 30.0, 20.0]))
    np.testing.assert_allclose(z, stats.norm.ppf([1 / 6, 5 / 6, 0.5]))
    with pytest.raises(ValueError, match="NaN"):
        ranking.normal_scores(np.array([1.0, np.nan]))
