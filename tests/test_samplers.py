"""Clip samplers: CVRL interval distribution, bounds, loop padding, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from vssl_bench.core.registry import CLIP_SAMPLERS
from vssl_bench.data.samplers import (CVRLIntervalSampler, RandomClipSampler, UniformClipSampler,
                                      clip_indices)

# Chi-square critical value for 19 degrees of freedom at p = 0.001: a correct sampler fails the
# test with probability 1e-3 for a random seed, and never for the fixed seed used here.
CHI2_CRIT_19DOF = 43.82


def chi_square(observed: np.ndarray, expected_probs: np.ndarray) -> float:
    expected = expected_probs * observed.sum()
    return float(((observed - expected) ** 2 / expected).sum())


@pytest.mark.parametrize('distribution', ['decreasing', 'uniform', 'increasing'])
def test_interval_distribution_matches_exact_pmf(distribution: str) -> None:
    sampler = CVRLIntervalSampler(clip_len=8, stride=2, distribution=distribution)
    T = 20
    pmf = sampler.interval_pmf(T)
    assert pmf.shape == (T,) and np.isclose(pmf.sum(), 1.0)
    rng = np.random.default_rng(1234)
    draws = np.array([sampler.sample_interval(T, rng) for _ in range(20000)])
    assert draws.min() >= 0 and draws.max() <= T - 1
    counts = np.bincount(draws, minlength=T)
    assert chi_square(counts, pmf) < CHI2_CRIT_19DOF


def test_interval_pmf_shapes() -> None:
    """The exact pmfs are the discretised P ∝ T - t, uniform and P ∝ t."""
    T = 10
    dec = CVRLIntervalSampler(4, distribution='decreasing').interval_pmf(T)
    uni = CVRLIntervalSampler(4, distribution='uniform').interval_pmf(T)
    inc = CVRLIntervalSampler(4, distribution='increasing').interval_pmf(T)
    k = np.arange(T)
    # Integral of the density 2(T - t)/T² over [k, k + 1] is (2(T - k) - 1) / T².
    np.testing.assert_allclose(dec, (2 * (T - k) - 1) / T ** 2)
    np.testing.assert_allclose(uni, np.full(T, 1 / T))
    np.testing.assert_allclose(inc, (2 * k + 1) / T ** 2)
    assert np.all(np.diff(dec) < 0) and np.all(np.diff(inc) > 0)


def test_decreasing_is_not_uniform() -> None:
    """Guards against a chi-square test that cannot tell the distributions apart."""
    sampler = CVRLIntervalSampler(8, 2, 'decreasing')
    rng = np.random.default_rng(0)
    draws = np.array([sampler.sample_interval(20, rng) for _ in range(20000)])
    uniform_pmf = CVRLIntervalSampler(8, 2, 'uniform').interval_pmf(20)
    assert chi_square(np.bincount(draws, minlength=20), uniform_pmf) > 10 * CHI2_CRIT_19DOF


def test_cvrl_clips_within_video_and_swap_half_the_time() -> None:
    clip_len, stride, num_frames = 8, 2, 60
    sampler = CVRLIntervalSampler(clip_len, stride)
    T = num_frames - (clip_len - 1) * stride
    rng = np.random.default_rng(7)
    swapped = ordered = 0
    for _ in range(4000):
        idx = sampler(num_frames, rng)
        assert idx.shape == (2, clip_len) and idx.dtype == np.int64
        starts = idx[:, 0]
        assert np.all((starts >= 0) & (starts < T))
        # No wrap-around: every clip is a plain strided run inside the video.
        np.testing.assert_array_equal(idx, clip_indices(starts, clip_len, stride, 10 ** 9))
        assert idx.max() < num_frames
        if starts[0] > starts[1]:
            swapped += 1
        elif starts[0] < starts[1]:
            ordered += 1
    frac = swapped / (swapped + ordered)
    assert abs(frac - 0.5) < 0.04  # 4000 draws: std of the fraction ~ 0.008


def test_cvrl_short_video_loop_pads() -> None:
    sampler = CVRLIntervalSampler(clip_len=8, stride=2)  # needs 15 frames
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = sampler(10, rng)
        assert idx.shape == (2, 8)
        assert idx.min() >= 0 and idx.max() < 10
        np.testing.assert_array_equal(idx, (idx[:, :1] + np.arange(8) * 2) % 10)


def test_random_clip_sampler_bounds_and_coverage() -> None:
    sampler = RandomClipSampler(clip_len=4, stride=3, num_clips=3)
    rng = np.random.default_rng(0)
    starts = []
    for _ in range(500):
        idx = sampler(30, rng)
        assert idx.shape == (3, 4) and idx.dtype == np.int64
        assert idx.max() < 30
        np.testing.assert_array_equal(np.diff(idx, axis=1), 3)
        starts.extend(idx[:, 0])
    assert set(starts) == set(range(30 - 9))  # every valid start is reachable
    short = sampler(5, rng)
    assert short.max() < 5 and short.shape == (3, 4)


def test_uniform_clip_sampler_even_deterministic() -> None:
    sampler = UniformClipSampler(clip_len=4, stride=2, num_clips=5)
    a = sampler(47, np.random.default_rng(0))
    b = sampler(47, np.random.default_rng(99))
    np.testing.assert_array_equal(a, b)
    starts = a[:, 0]
    T = 47 - 3 * 2
    assert starts[0] == 0 and starts[-1] == T - 1  # covers first and last frame
    gaps = np.diff(starts)
    assert gaps.max() - gaps.min() <= 1
    assert a.max() == 46
    centred = UniformClipSampler(clip_len=4, stride=2, num_clips=1)(47)
    assert centred[0, 0] == (T - 1) // 2


def test_uniform_clip_sampler_short_video_loop_pads() -> None:
    idx = UniformClipSampler(clip_len=8, stride=1, num_clips=2)(5)
    np.testing.assert_array_equal(idx, np.tile(np.arange(8) % 5, (2, 1)))


def test_samplers_registered() -> None:
    sampler = CLIP_SAMPLERS.build(dict(type='CVRLIntervalSampler', clip_len=8, stride=2,
                                       distribution='uniform'))
    assert isinstance(sampler, CVRLIntervalSampler) and sampler.num_clips == 2
    assert isinstance(CLIP_SAMPLERS.build(dict(type='RandomClipSampler', clip_len=4)),
                      RandomClipSampler)
    assert isinstance(CLIP_SAMPLERS.build(dict(type='UniformClipSampler', clip_len=4,
                                               num_clips=3)), UniformClipSampler)
    with pytest.raises(ValueError):
        CVRLIntervalSampler(8, 2, distribution='gaussian')


def test_tclr_sampler_geometry_and_uniform_window() -> None:
    from vssl_bench.data.samplers import TCLRSampler
    sampler = CLIP_SAMPLERS.build(dict(type='TCLRSampler', clip_len=8, num_local=4))
    assert isinstance(sampler, TCLRSampler) and sampler.num_clips == 5 and sampler.window == 32
    rng = np.random.default_rng(0)
    starts = []
    for _ in range(3400):
        idx = sampler(48, rng)
        assert idx.shape == (5, 8) and idx.dtype == np.int64
        w = idx[0, 0]
        np.testing.assert_array_equal(idx[0], w + 4 * np.arange(8))  # global: stride 4
        for k in range(4):  # local k: the k-th quarter of the window, consecutive frames
            np.testing.assert_array_equal(idx[1 + k], w + 8 * k + np.arange(8))
        assert idx.max() < 48
        starts.append(w)
    counts = np.bincount(starts, minlength=17)
    assert len(counts) == 17  # window starts 0 .. 48 - 32
    assert chi_square(counts, np.full(17, 1 / 17)) < 39.25  # chi2(16 dof), p = 0.001
    short = sampler(20, rng)
    np.testing.assert_array_equal(short[1:].ravel(), np.arange(32) % 20)


def test_frame_sampler_repeats_one_random_frame() -> None:
    sampler = CLIP_SAMPLERS.build(dict(type='FrameSampler', clip_len=8, num_clips=2))
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(500):
        idx = sampler(10, rng)
        assert idx.shape == (2, 8) and idx.dtype == np.int64
        assert np.all(idx == idx[:, :1]) and idx.min() >= 0 and idx.max() < 10
        seen.update(idx[:, 0].tolist())
    assert seen == set(range(10))


def test_ordered_clips_sampler_in_order_with_random_gaps() -> None:
    sampler = CLIP_SAMPLERS.build(dict(type='OrderedClipsSampler', clip_len=8, stride=1,
                                       num_clips=3))
    rng = np.random.default_rng(0)
    gaps, firsts = set(), set()
    for _ in range(5000):
        idx = sampler(48, rng)
        assert idx.shape == (3, 8) and idx.max() < 48
        np.testing.assert_array_equal(np.diff(idx, axis=1), 1)
        assert np.all(idx[1:, 0] > idx[:-1, -1])  # in order, not overlapping
        gaps.add(int(idx[1, 0] - idx[0, -1] - 1))
        firsts.add(int(idx[0, 0]))
    # 48 - 24 = 24 spare frames: gaps and first starts in 0 .. 24, the extremes being rare.
    assert set(range(20)) <= gaps <= set(range(25))
    assert set(range(20)) <= firsts <= set(range(25))
    short = sampler(20, rng)  # 3 x 8 > 20: back to back from 0, loop-padded
    np.testing.assert_array_equal(short.ravel(), np.arange(24) % 20)
