"""Bootstrap and t intervals on cases with known answers; per-video hit strings."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from benchmark.hits import decode, encode
from benchmark.stats import (HierarchicalBootstrap, bootstrap_difference, percentile_interval,
                             t_interval, welch_difference)


def interval(outcomes, stream: str = 'm', boot: HierarchicalBootstrap | None = None):
    boot = boot or HierarchicalBootstrap()
    return percentile_interval(boot.means(np.atleast_2d(outcomes), stream))


def test_all_hits_gives_a_point_interval():
    assert interval(np.ones((3, 360)))[:2] == (1.0, 1.0)
    assert interval(np.zeros(50))[:2] == (0.0, 0.0)


def test_half_hits_match_the_normal_approximation():
    # 200 hits of 400 videos, one seed: 0.5 +- 1.96 * sqrt(0.25 / 400) = 0.5 +- 0.049.
    low, high, _ = interval(np.tile([1.0, 0.0], 200))
    assert low == pytest.approx(0.451, abs=0.006) and high == pytest.approx(0.549, abs=0.006)


def test_seeds_are_resampled():
    # Constant vectors: resampling videos alone would give no width, the seeds give it.
    outcomes = np.repeat([[0.2], [0.5], [0.8]], 100, axis=1)
    low, high, _ = interval(outcomes)
    assert low < 0.4 and high > 0.6
    assert 0.2 - 1e-12 <= low and high <= 0.8 + 1e-12
    assert interval(outcomes[:1])[:2] == pytest.approx((0.2, 0.2))  # one seed: videos only


def test_deterministic_and_independent_of_other_methods():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 360)) < 0.3, rng.random((3, 360)) < 0.6
    first = HierarchicalBootstrap()
    means_a = first.means(a, 'A')
    first.means(b, 'B')
    np.testing.assert_array_equal(means_a, HierarchicalBootstrap().means(a, 'A'))
    assert len(means_a) == 2000
    counts = first.video_counts(360)
    assert counts.shape == (2000, 360) and (counts.sum(axis=1) == 360).all()
    # Another RNG seed gives other draws, about the same interval.
    other = HierarchicalBootstrap(seed=1).means(a, 'A')
    assert not np.array_equal(other, means_a)
    assert percentile_interval(other) == pytest.approx(percentile_interval(means_a), abs=0.01)


def test_identical_methods_are_never_distinguishable():
    rng = np.random.default_rng(1)
    boot = HierarchicalBootstrap()
    for trial in range(10):
        outcomes = (rng.random((3, 200)) < rng.uniform(0.1, 0.9)).astype(float)
        same_stream = bootstrap_difference(boot.means(outcomes, 'A'), boot.means(outcomes, 'A'))
        assert same_stream == (0.0, 0.0, 1.0)
        # Other seed draws (independent trainings), the same data: still not distinguishable.
        diff = bootstrap_difference(boot.means(outcomes, f'A{trial}'),
                                    boot.means(outcomes, f'B{trial}'))
        assert diff.contains(0.0) and diff.p > 0.05


def test_all_hits_versus_ten_percent_is_significant():
    boot = HierarchicalBootstrap()
    random_init = np.zeros((3, 360))
    random_init[:, :36] = 1.0
    diff = bootstrap_difference(boot.means(np.ones((3, 360)), 'Best'),
                                boot.means(random_init, 'RandomInit'))
    assert not diff.contains(0.0) and diff.p == 0.0
    assert diff.low == pytest.approx(0.9, abs=0.05) and diff.high <= 0.95


def test_differences_are_paired_over_videos():
    # B hits 5 more of 400 videos than A (+1.25 points). Unpaired, the two 50 % +- 4.9 intervals
    # overlap widely; paired, B - A >= 0 in every replicate and is 0 only when none of the 5
    # videos is drawn (probability (395/400)^400 = 0.7 % < 2.5 %).
    a = np.tile([1.0, 0.0], 200)
    b = a.copy()
    b[1:11:2] = 1.0
    boot = HierarchicalBootstrap()
    means_a, means_b = boot.means(a[None], 'A'), boot.means(b[None], 'B')
    assert percentile_interval(means_a).high > percentile_interval(means_b).low
    diff = bootstrap_difference(means_b, means_a)
    assert (means_b - means_a >= 0).all()
    assert not diff.contains(0.0) and diff.low > 0.0


def test_t_interval_and_welch_by_hand():
    # Mean 53, std sqrt(13), t(0.975, 2) = 4.3027: half-width 4.3027 * sqrt(13 / 3) = 8.957.
    low, high, _ = t_interval(np.array([50.0, 52.0, 57.0]))
    assert (low + high) / 2 == pytest.approx(53.0) and (high - low) / 2 == pytest.approx(8.957,
                                                                                        abs=1e-3)
    assert t_interval(np.array([50.0])) is None
    a, b = np.array([50.0, 52.0, 57.0]), np.array([40.0, 41.0, 45.0, 44.0])
    diff = welch_difference(a, b)
    expected_p = scipy_stats.ttest_ind(a, b, equal_var=False).pvalue
    assert diff.p == pytest.approx(expected_p) and not diff.contains(0.0)
    assert (diff.low + diff.high) / 2 == pytest.approx(53.0 - 42.5)
    assert welch_difference(a, b[:1]) is None
    assert welch_difference(np.full(3, 5.0), np.full(2, 5.0)) == (0.0, 0.0, 1.0)
    assert welch_difference(np.full(3, 6.0), np.full(2, 5.0)) == (1.0, 1.0, 0.0)


def test_hit_strings_round_trip():
    hits = np.array([True, False, True, True])
    assert encode(hits) == '1011'
    np.testing.assert_array_equal(decode('1011'), [1.0, 0.0, 1.0, 1.0])
    assert encode(np.array([[1, 0], [1, 1]])) == ['10', '11']
    np.testing.assert_array_equal(decode(['10', '11']), [1.0, 0.5])  # mean over repeats
    for bad in ('', '102', ['10', '1'], [], 3):
        with pytest.raises(ValueError):
            decode(bad)
    with pytest.raises(ValueError):
        encode(np.array([0.5, 1.0]))
