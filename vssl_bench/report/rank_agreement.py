"""Do two data sets rank the methods alike? Kendall's tau-b between the methods' mean scores on
each, with a bootstrap interval.

tau-b counts concordant minus discordant method pairs (ties corrected): 1 = the same order,
-1 = reversed, 0 = unrelated. Its interval resamples what the means were measured on, on both
data sets independently: the test videos (one draw for all methods of a data set, as they share
the test set) and each method's seeds (when it has more than one). With one seed per method the
interval covers the test videos only, not run-to-run variance: it is then too narrow, which the
family report says. Replicates in which a data set scores every method alike (tau undefined) are
left out and counted.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau

#: Bootstrap replicates of an interval, and the level.
REPLICATES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Agreement:
    """tau-b of two rankings of ``methods``, its ``level`` percentile bootstrap interval, the
    replicates it rests on (``valid`` of ``replicates``) and the smallest seed count of any
    method on either data set."""

    tau: float
    low: float
    high: float
    methods: tuple[str, ...]
    valid: int
    replicates: int
    min_seeds: int
    level: float = LEVEL


def tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two score vectors (nan when either is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f'tau needs two score vectors of the same length >= 2, got {x.shape} '
                         f'and {y.shape}')
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float('nan')
    return float(kendalltau(x, y, variant='b').statistic)


def _check(outcomes: Mapping[str, np.ndarray], methods: tuple[str, ...], name: str) -> None:
    videos = {np.asarray(outcomes[m]).shape[-1] for m in methods}
    if len(videos) != 1 or any(np.asarray(outcomes[m]).ndim != 2 for m in methods):
        raise ValueError(f'{name}: every method needs a (seeds, videos) outcome array over the '
                         f'same test videos, got shapes '
                         f'{[np.asarray(outcomes[m]).shape for m in methods]}')


def _resampled_means(outcomes: Mapping[str, np.ndarray], methods: tuple[str, ...],
                     rng: np.random.Generator) -> np.ndarray:
    """One bootstrap replicate of each method's mean: seeds resampled per method, the test
    videos once for all methods."""
    videos = np.asarray(outcomes[methods[0]]).shape[1]
    picked = rng.integers(0, videos, videos)
    means = []
    for method in methods:
        values = np.asarray(outcomes[method], dtype=np.float64)
        seeds = rng.integers(0, len(values), len(values))
        means.append(values[np.ix_(seeds, picked)].mean())
    return np.array(means)


def rank_agreement(x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray],
                   replicates: int = REPLICATES, level: float = LEVEL,
                   seed: int = 0) -> Agreement:
    """tau-b between the rankings of the methods both ``x`` and ``y`` score; each maps a method
    to its per-video outcomes, shape (seeds, videos), of one metric on one data set."""
    methods = tuple(sorted(set(x) & set(y)))
    if len(methods) < 2:
        raise ValueError(f'rank agreement needs 2 or more methods on both data sets, got '
                         f'{list(methods)}')
    _check(x, methods, 'first data set')
    _check(y, methods, 'second data set')
    point = tau_b(np.array([np.mean(x[m]) for m in methods]),
                  np.array([np.mean(y[m]) for m in methods]))
    rng = np.random.default_rng(seed)
    taus = np.array([tau_b(_resampled_means(x, methods, rng), _resampled_means(y, methods, rng))
                     for _ in range(replicates)])
    taus = taus[np.isfinite(taus)]
    tail = (1.0 - level) / 2.0
    low, high = ((float(np.quantile(taus, tail)), float(np.quantile(taus, 1.0 - tail)))
                 if len(taus) else (float('nan'), float('nan')))
    min_seeds = min(len(np.asarray(d[m])) for d in (x, y) for m in methods)
    return Agreement(tau=point, low=low, high=high, methods=methods, valid=len(taus),
                     replicates=replicates, min_seeds=min_seeds, level=level)
