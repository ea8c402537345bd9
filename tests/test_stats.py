"""jaxrl.stats: IQM, stratified bootstrap, probability of improvement (numpy only, fast)."""

from __future__ import annotations

import itertools
from collections import Counter
from functools import partial

import numpy as np
import pytest

from jaxrl.stats import (
    curve_bands,
    iqm,
    probability_of_improvement,
    probability_of_improvement_interval,
    score_table,
    stratified_bootstrap,
)

batched_iqm = partial(iqm, axis=(-2, -1))


def _trim_mean_reference(values) -> float:
    """The 25 % trimmed mean written out: sorted values, int(n / 4) dropped at each end."""
    v = sorted(values)
    k = int(0.25 * len(v))
    kept = v[k:len(v) - k]
    return sum(kept) / len(kept)


# --- iqm ----------------------------------------------------------------------------------

def test_iqm_hand_computed():
    assert iqm(np.arange(1, 9)) == 4.5            # keeps 3, 4, 5, 6
    assert iqm([0, 0, 1, 100]) == 0.5             # keeps 0, 1
    assert iqm([10, 1, 7, 3, 100]) == pytest.approx(20 / 3)  # 5 values: cuts 1 and 100


def test_iqm_along_an_axis_and_pooled():
    scores = np.array([[1, 2, 3, 4], [0, 0, 1, 100]], dtype=float)
    np.testing.assert_allclose(iqm(scores, axis=1), [2.5, 0.5])
    np.testing.assert_allclose(iqm(scores.T, axis=0), [2.5, 0.5])
    # axis=None pools all runs and tasks: rliable's aggregate_iqm
    assert iqm(scores, axis=None) == pytest.approx(_trim_mean_reference(scores.ravel()))
    batch = np.random.default_rng(1).normal(size=(3, 5, 4))
    np.testing.assert_allclose(batched_iqm(batch), [iqm(b, axis=None) for b in batch])


def test_iqm_matches_the_trim_mean_definition():
    rng = np.random.default_rng(0)
    for n in range(1, 23):
        values = rng.normal(size=n)
        assert iqm(values) == pytest.approx(_trim_mean_reference(values.tolist()))


# --- stratified bootstrap -----------------------------------------------------------------

def test_constant_scores_give_a_point_interval():
    point, low, high = stratified_bootstrap(np.full((5, 3), 2.5), batched_iqm, reps=300,
                                            vectorized=True)
    assert low == point == high == 2.5


def test_one_run_per_task_gives_a_point_interval():
    point, low, high = stratified_bootstrap([[1.0, 4.0, 7.0]], lambda s: s.mean(), reps=100)
    assert low == point == high == 4.0


def test_seed_reproducible_and_seed_dependent():
    scores = np.random.default_rng(3).normal(size=(10, 2))
    first = stratified_bootstrap(scores, batched_iqm, reps=500, seed=7, vectorized=True)
    assert stratified_bootstrap(scores, batched_iqm, reps=500, seed=7, vectorized=True) == first
    other = stratified_bootstrap(scores, batched_iqm, reps=500, seed=8, vectorized=True)
    assert other[0] == first[0] and other[1:] != first[1:]


def test_vectorized_and_looped_statistics_agree():
    scores = np.random.default_rng(4).normal(size=(6, 3))
    looped = stratified_bootstrap(scores, lambda s: iqm(s, axis=None), reps=200, seed=2)
    batched = stratified_bootstrap(scores, batched_iqm, reps=200, seed=2, vectorized=True)
    np.testing.assert_allclose(looped, batched, rtol=1e-12)


def test_bootstrap_distribution_matches_exact_enumeration():
    """3 runs of one task: the 27 resamples (with replacement) are equally likely."""
    runs = np.array([0.0, 1.0, 5.0])
    exact = Counter(sum(r) for r in itertools.product(runs, repeat=3))
    seen = []

    def total(batch):
        seen.append(batch.sum(axis=(1, 2)))
        return batch.sum(axis=(1, 2))

    reps = 20_000
    stratified_bootstrap(runs, total, reps=reps, seed=0, vectorized=True)
    replicates = np.concatenate(seen[:-1])  # the last call is the point estimate
    assert replicates.shape == (reps,)
    observed = Counter(replicates.tolist())
    assert set(observed) <= set(exact)
    for value, count in exact.items():  # sampling error per atom is below 0.003
        assert observed[value] / reps == pytest.approx(count / 27, abs=0.015)
    exact_values = np.array([sum(r) for r in itertools.product(runs, repeat=3)])
    assert replicates.mean() == pytest.approx(exact_values.mean(), abs=0.1)  # 6 = 3 * 2
    assert replicates.var() == pytest.approx(exact_values.var(), rel=0.05)   # 14 = 3 * 14/3


def test_resampling_is_stratified_by_task():
    scores = np.array([[0, 10], [1, 11], [2, 12], [3, 13]], dtype=float)
    seen = []

    def statistic(s):
        assert s.shape == (4, 2)
        assert set(s[:, 0]) <= {0, 1, 2, 3} and set(s[:, 1]) <= {10, 11, 12, 13}
        seen.append(s)
        return s.mean()

    stratified_bootstrap(scores, statistic, reps=200)
    assert any(not np.array_equal(np.sort(s, axis=0), scores) for s in seen)  # draws repeat


# --- probability of improvement -----------------------------------------------------------

def test_probability_of_improvement_hand_computed():
    assert probability_of_improvement([1, 2], [0, 3]) == 0.5    # 1>0, 2>0; 1<3, 2<3
    assert probability_of_improvement([1, 1], [1, 1]) == 0.5    # ties count half
    assert probability_of_improvement([5, 6, 7], [1, 2]) == 1.0
    assert probability_of_improvement([1, 2, 3], [2]) == 0.5    # (0 + 0.5 + 1) / 3
    # task 0: 3 of 4 pairs win = 0.75; task 1: 5=5 half, 7>5, 7>6 -> 2.5 / 4 = 0.625
    x, y = [[1, 5], [3, 7]], [[0, 5], [2, 6]]
    assert probability_of_improvement(x, y) == pytest.approx((0.75 + 0.625) / 2)


def test_probability_of_improvement_interval():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.3, 1, size=(8, 3)), rng.normal(0, 1, size=(6, 3))
    point, low, high = probability_of_improvement_interval(x, y, reps=500)
    assert point == probability_of_improvement(x, y)
    assert 0 <= low <= point <= high <= 1 and low < high
    assert probability_of_improvement_interval(x, y, reps=500) == (point, low, high)


# --- score table, curves ------------------------------------------------------------------

def test_score_table():
    rows = score_table({"b": [[1, 2], [3, 4]], "a": [1, 2, 3, 4, 5]}, reps=200)
    assert [r["name"] for r in rows] == ["b", "a"]
    b, a = rows
    assert (b["runs"], b["mean"], b["min"], b["max"]) == (2, 2.5, 1, 4)
    assert (a["runs"], a["iqm"], a["mean"], a["min"], a["max"]) == (5, 3.0, 3.0, 1, 5)
    for row in rows:
        assert row["iqm_low"] <= row["iqm"] <= row["iqm_high"]


def test_curve_bands():
    curves = np.random.default_rng(6).normal(size=(7, 4)).cumsum(axis=1)
    mid, low, high = curve_bands(curves, reps=300, seed=1)
    assert mid.shape == low.shape == high.shape == (4,)
    np.testing.assert_allclose(mid, iqm(curves, axis=0))
    assert np.all(low <= mid) and np.all(mid <= high)
    for e in range(4):  # whole runs resampled: each column is one task's bootstrap
        column = stratified_bootstrap(curves[:, e], batched_iqm, 300, seed=1, vectorized=True)
        np.testing.assert_allclose((mid[e], low[e], high[e]), column)
    flat = curve_bands(np.ones((5, 3)), reps=50)
    assert all(np.array_equal(band, np.ones(3)) for band in flat)


# --- bad inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: iqm([]),
    lambda: iqm([1.0, np.nan]),
    lambda: stratified_bootstrap([], np.mean),
    lambda: stratified_bootstrap([1.0, np.inf], np.mean),
    lambda: stratified_bootstrap(np.ones((2, 2, 2)), np.mean),
    lambda: stratified_bootstrap([1.0, 2.0], np.mean, confidence=0.0),
    lambda: stratified_bootstrap([1.0, 2.0], np.mean, confidence=1.0),
    lambda: stratified_bootstrap([1.0, 2.0], np.mean, reps=0),
    lambda: probability_of_improvement(np.ones((3, 2)), np.ones((3, 3))),
    lambda: probability_of_improvement([], [1.0]),
    lambda: probability_of_improvement_interval([1.0], [2.0], confidence=1.5),
    lambda: probability_of_improvement_interval([1.0], [2.0], reps=0),
    lambda: score_table({"a": [np.nan]}),
    lambda: curve_bands([1.0, 2.0]),
    lambda: curve_bands(np.ones((3, 2)), reps=0),
])
def test_bad_inputs_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
