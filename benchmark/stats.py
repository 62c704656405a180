"""Confidence intervals of mean accuracies over seeds and test videos, and paired differences.

:class:`HierarchicalBootstrap` resamples in two stages: each replicate draws the seeds of a
method with replacement, then the test videos with replacement, and takes the mean outcome over
the drawn seeds and videos. The video draws of a replicate are the same for every method (they
depend only on the number of videos), so differences between methods are paired over videos;
each method's seed draws come from a stream of its own (seeds are independent trainings). Every
draw comes from a fixed RNG seed, so the results are deterministic. With one seed only videos
are resampled.

Without per-video outcomes, :func:`t_interval` and :func:`welch_difference` work on the seed
means alone.
"""
from __future__ import annotations

import zlib
from typing import NamedTuple

import numpy as np
from scipy import stats as scipy_stats


DEFAULT_REPLICATES = 2000


class Interval(NamedTuple):
    """A confidence interval; ``p`` (differences only): two-sided p-value, or the bootstrap's
    ``2 * min(P(d <= 0), P(d >= 0))``, capped at 1."""

    low: float
    high: float
    p: float | None = None

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> Interval:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of bootstrap replicates."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return Interval(float(low), float(high))


def bootstrap_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> Interval:
    """Percentile interval and bootstrap p-value of ``a - b``, from paired replicates."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    p = min(1.0, 2.0 * min(float(np.mean(diff <= 0)), float(np.mean(diff >= 0))))
    return percentile_interval(diff, level)._replace(p=p)


def t_interval(values: np.ndarray, level: float = 0.95) -> Interval | None:
    """Student-t interval of the mean of ``values`` (one per seed); None for fewer than 2."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return None
    mean = float(values.mean())
    half = (scipy_stats.t.ppf((1.0 + level) / 2.0, len(values) - 1)
            * values.std(ddof=1) / np.sqrt(len(values)))
    return Interval(mean - float(half), mean + float(half))


def welch_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> Interval | None:
    """Welch interval and two-sided p-value of ``mean(a) - mean(b)``; None unless both have 2 or
    more values. Zero variance on both sides gives the point ``[d, d]`` (p 1 if d == 0, else 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        return None
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0.0:
        return Interval(diff, diff, 1.0 if diff == 0.0 else 0.0)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(scipy_stats.t.ppf((1.0 + level) / 2.0, df)) * se
    p = float(2.0 * scipy_stats.t.sf(abs(diff) / se, df))
    return Interval(diff - half, diff + half, min(1.0, p))


class HierarchicalBootstrap:
    """Bootstrap replicates of the mean outcome over seeds and test videos.

    Args:
        replicates: number of bootstrap replicates B.
        seed: RNG seed of every draw.
    """

    def __init__(self, replicates: int = DEFAULT_REPLICATES, seed: int = 0) -> None:
        if int(replicates) < 1:
            raise ValueError(f'replicates must be positive, got {replicates}')
        self.replicates, self.seed = int(replicates), int(seed)
        self._video_counts: dict[int, np.ndarray] = {}
        self._seed_weights: dict[tuple[str, int], np.ndarray] = {}

    def video_counts(self, num_videos: int) -> np.ndarray:
        """(B, M) float64: how often each of M videos is drawn in each replicate (rows sum to
        M); the same for every caller with the same M."""
        if num_videos not in self._video_counts:
            rng = np.random.default_rng([self.seed, 1, num_videos])
            self._video_counts[num_videos] = self._counts(rng, num_videos)
        return self._video_counts[num_videos]

    def seed_weights(self, stream: str, num_seeds: int) -> np.ndarray:
        """(B, n) float64 weights of n seeds in each replicate (draw counts / n), from the RNG
        stream named ``stream`` (e.g. the method), so a method's draws do not depend on others."""
        key = (stream, num_seeds)
        if key not in self._seed_weights:
            rng = np.random.default_rng([self.seed, 2, zlib.crc32(stream.encode()), num_seeds])
            self._seed_weights[key] = self._counts(rng, num_seeds) / num_seeds
        return self._seed_weights[key]

    def _counts(self, rng: np.random.Generator, size: int) -> np.ndarray:
        draws = rng.integers(0, size, size=(self.replicates, size))
        flat = (draws + size * np.arange(self.replicates)[:, None]).ravel()
        return np.bincount(flat, minlength=self.replicates * size).reshape(
            self.replicates, size).astype(np.float64)

    def means(self, outcomes: np.ndarray, stream: str) -> np.ndarray:
        """(B,) replicate means of ``outcomes`` (n seeds, M videos): each replicate's mean over
        its drawn seeds of the mean over its drawn videos.

        Plain einsum loops, not BLAS: as fast at these sizes, not slowed down by BLAS threads
        on a busy machine, and the same bits whatever the thread count."""
        outcomes = np.asarray(outcomes, dtype=np.float64)
        if outcomes.ndim != 2 or 0 in outcomes.shape:
            raise ValueError(f'outcomes must be (seeds, videos), got shape {outcomes.shape}')
        num_seeds, num_videos = outcomes.shape
        per_seed = np.einsum('sm,bm->sb', outcomes, self.video_counts(num_videos)) / num_videos
        return np.einsum('bs,sb->b', self.seed_weights(stream, num_seeds), per_seed)
