"""Intervals, differences and multiple-comparison corrections on cases with known answers;
their false-positive rate under a null simulation; per-video hit strings."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from vssl_bench.core.hits import decode, encode
from vssl_bench.report.stats import (adjust_pvalues, seed_video_difference, seed_video_interval,
                                     t_interval, welch_difference)


def test_all_hits_gives_a_point_interval():
    assert seed_video_interval(np.ones((3, 360)))[:2] == (1.0, 1.0)
    assert seed_video_interval(np.zeros((1, 50)))[:2] == (0.0, 0.0)


def test_one_seed_half_hits_match_the_t_approximation():
    # 200 hits of 400 videos, one seed: 0.5 +- t(0.975, 399) * sqrt(0.25 * 400 / 399 / 400).
    low, high, _ = seed_video_interval(np.tile([1.0, 0.0], 200)[None])
    half = scipy_stats.t.ppf(0.975, 399) * np.sqrt(0.25 / 399)
    assert low == pytest.approx(0.5 - half) and high == pytest.approx(0.5 + half)


def test_seed_component_by_hand():
    # Constant per-seed vectors: no video variance (video means are all 0.5), the seed means
    # 0.2, 0.5, 0.8 give the t-interval of 3 values: 0.5 +- 4.3027 * 0.3 / sqrt(3).
    outcomes = np.repeat([[0.2], [0.5], [0.8]], 100, axis=1)
    low, high, _ = seed_video_interval(outcomes)
    assert (high - low) / 2 == pytest.approx(4.3027 * 0.3 / np.sqrt(3), abs=1e-3)
    assert (low, high) == pytest.approx(t_interval(np.array([0.2, 0.5, 0.8]))[:2])


def test_two_components_add_with_satterthwaite_df():
    rng = np.random.default_rng(0)
    outcomes = (rng.random((3, 200)) < rng.uniform(0.3, 0.7, size=(3, 1))).astype(float)
    seeds, videos = outcomes.mean(axis=1), outcomes.mean(axis=0)
    v1, v2 = seeds.var(ddof=1) / 3, videos.var(ddof=1) / 200
    df = (v1 + v2) ** 2 / (v1 ** 2 / 2 + v2 ** 2 / 199)
    half = scipy_stats.t.ppf(0.975, df) * np.sqrt(v1 + v2)
    low, high, _ = seed_video_interval(outcomes)
    assert (high - low) / 2 == pytest.approx(half)


def test_difference_is_paired_over_videos_and_needs_two_seeds():
    # B hits 5 more of 400 videos than A in every seed, and the seeds agree: the paired
    # difference +1.25 points has no seed variance and a video variance of the 0/1 differences.
    a = np.tile(np.tile([1.0, 0.0], 200), (3, 1))
    b = a.copy()
    b[:, 1:11:2] = 1.0
    diff = seed_video_difference(b, a)
    d = np.zeros(400)
    d[1:11:2] = 1.0
    half = scipy_stats.t.ppf(0.975, 399) * np.sqrt(d.var(ddof=1) / 400)
    assert (diff.low + diff.high) / 2 == pytest.approx(0.0125)
    assert (diff.high - diff.low) / 2 == pytest.approx(half)
    assert diff.p == pytest.approx(2 * scipy_stats.t.sf(0.0125 / np.sqrt(d.var(ddof=1) / 400),
                                                        399))
    assert seed_video_difference(b[:1], a) is None and seed_video_difference(b, a[:1]) is None
    assert seed_video_difference(a, a) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match='different videos'):
        seed_video_difference(a, b[:, :10])


def test_seed_variance_widens_the_difference():
    # Same videos, 3 seeds each with mean accuracies 40/50/60 % vs 45/55/65 %: +5 points is
    # within run-to-run variance (Welch on the seed means alone gives p = 0.57).
    def runs(means):
        return np.stack([(np.arange(200) < 2 * m).astype(float) for m in means])
    diff = seed_video_difference(runs([45, 55, 65]), runs([40, 50, 60]))
    assert diff.contains(0.0) and diff.p > 0.5


def _null_false_positive_rate(trials: int, seed_sd: float, rng: np.random.Generator) -> float:
    """Share of 'significant' differences between two identical methods: 3 seeds each, 360
    shared videos with their own difficulty, a per-seed accuracy shift of ``seed_sd``."""
    flagged = 0
    difficulty = rng.normal(0.0, 1.5, size=360)
    for _ in range(trials):
        shift = rng.normal(0.0, seed_sd, size=(6, 1))
        logits = difficulty[None] + shift + rng.normal(0.0, 0.7, size=(6, 360))
        hits = (rng.random((6, 360)) < 1 / (1 + np.exp(-logits))).astype(float)
        flagged += seed_video_difference(hits[:3], hits[3:]).p < 0.05
    return flagged / trials


@pytest.mark.parametrize('seed_sd', [0.05, 0.25])  # seed SD of accuracy ~1 and ~5 points
def test_false_positive_rate_stays_at_most_five_percent(seed_sd):
    rate = _null_false_positive_rate(600, seed_sd, np.random.default_rng(7))
    assert rate <= 0.05 + 1.645 * np.sqrt(0.05 * 0.95 / 600)  # one-sided binomial margin


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.06 (monotone).
    np.testing.assert_allclose(adjust_pvalues(p, 'holm'), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted times 4/1, 4/2, 4/3, 4/4 -> 0.02, 0.02, 0.04, 0.04 (running min from the top).
    np.testing.assert_allclose(adjust_pvalues(p, 'bh'), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, 'none'), p)
    assert adjust_pvalues([0.5, 0.9], 'holm').tolist() == [1.0, 1.0]
    assert len(adjust_pvalues([], 'holm')) == 0
    with pytest.raises(ValueError, match='bonferonni'):
        adjust_pvalues(p, 'bonferonni')


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
