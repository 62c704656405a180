"""95 % confidence intervals and significance of leaderboard rows (statistics: ``stats.py``).

Every row of :func:`vssl_bench.report.leaderboard.aggregate` gets:

* ``ci_low`` / ``ci_high``: the 95 % interval of its mean (percent), and ``ci_method``:
  ``'seeds+videos'`` (run-to-run and test-video variance, Welch-Satterthwaite t; when every
  seed's record holds the per-video outcomes of the metric), ``'videos'`` (the same with one
  seed: test-video variance only, which says nothing of run-to-run variance), ``'t'``
  (t-interval over the seed means, for records without per-video outcomes) or None (one seed
  without them: no interval, bounds None).
* ``p_vs_random_init``: the two-sided p-value of the difference of means with the baseline
  (RandomInit) on the same metric (:func:`vssl_bench.report.stats.seed_video_difference`, paired
  over the test videos; Welch's t over seed means without per-video outcomes);
  ``p_adj_vs_random_init`` that p-value corrected for multiple comparisons over every comparison of
  the table with the baseline (every method and metric: one family); ``sig_vs_random_init``:
  adjusted p < 0.05. ``p_vs_best`` / ``p_adj_vs_best`` / ``sig_vs_best`` the same against the method
  with the highest mean on the metric (the first in row order among ties), a family of its own. All
  None for the reference itself, when it is absent, and when either row has fewer than
  :data:`MIN_TEST_SEEDS` seeds: one training run per method cannot separate methods from
  run-to-run variance, and with two the test was not shown to keep its 5 % promise (2.5-5.6 %
  false positives over the simulated seed spreads, ``results/statistics/calibration.md``; 3 and
  5 seeds: at most 4.7 %).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from vssl_bench.core.names import BASELINE
from vssl_bench.report.stats import (Interval, adjust_pvalues, seed_video_difference,
                                     seed_video_interval, t_interval, welch_difference)

#: The untrained baseline every method is compared with; matched ignoring case and ``_``/``-``.
LEVEL = 0.95
#: Fewest seeds on each side of a tested difference (module doc).
MIN_TEST_SEEDS = 3
#: Multiple-comparison correction of every table (:func:`vssl_bench.report.stats.adjust_pvalues`).
CORRECTION = 'bh'
#: Names of the corrections in legends.
CORRECTION_NAMES = {'holm': 'Holm', 'bh': 'Benjamini-Hochberg', 'none': 'no'}


def is_baseline(method: str, baseline: str = BASELINE) -> bool:
    """'RandomInit', 'random_init', 'random-init' all name the baseline ``RandomInit``."""
    def norm(name: str) -> str:
        return re.sub(r'[^a-z0-9]', '', name.lower())
    return norm(method) == norm(baseline)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _percent(interval: Interval) -> Interval:
    return Interval(100.0 * interval.low, 100.0 * interval.high, interval.p)


def row_interval(row: dict[str, Any], outcomes: np.ndarray | None
                 ) -> tuple[Interval | None, str | None]:
    """The row's interval of its mean (percent) and its ``ci_method`` (module doc)."""
    if outcomes is not None:
        method = 'seeds+videos' if outcomes.shape[0] > 1 else 'videos'
        return _percent(seed_video_interval(outcomes, LEVEL)), method
    ci = t_interval(np.array(row['values']), LEVEL)
    return ci, None if ci is None else 't'


def annotate(rows: list[dict[str, Any]], outcomes: dict[tuple[str, str, str], np.ndarray],
             baseline: str = BASELINE, correction: str = CORRECTION) -> None:
    """Add the interval and significance keys (module doc) to ``rows`` in place.

    outcomes: (method, protocol, metric) -> (n, M) per-video outcomes in [0, 1], one row per seed
        of the row's ``seeds``; rows missing here fall back to the seed means.
    correction: 'holm', 'bh' or 'none' (:func:`vssl_bench.report.stats.adjust_pvalues`).
    """
    for row in rows:
        ci, method = row_interval(row, outcomes.get(_key(row)))
        row.update(ci_low=_rounded(ci and ci.low), ci_high=_rounded(ci and ci.high),
                   ci_method=method)
    columns: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        columns.setdefault((row['protocol'], row['metric']), []).append(row)
    for name in ('random_init', 'best'):
        tested = []
        for column in columns.values():
            if name == 'best':
                ref = max(column, key=lambda r: r['mean'])  # max keeps the first among ties
            else:
                ref = next((r for r in column if is_baseline(r['method'], baseline)), None)
            for row in column:
                # A cell not searched to convergence gives no verdict, so it is not tested:
                # it would otherwise enter the family and move the other comparisons' correction.
                untested = ref is None or ref is row or row.get('unsearched') \
                    or ref.get('unsearched')
                diff = None if untested else difference(row, ref, outcomes)
                row[f'p_vs_{name}'] = None if diff is None else _rounded(diff.p)
                if diff is not None:
                    tested.append((row, diff.p))
                else:
                    row[f'p_adj_vs_{name}'] = row[f'sig_vs_{name}'] = None
        adjusted = adjust_pvalues([p for _, p in tested], correction)
        for (row, _), p_adj in zip(tested, adjusted):
            row[f'p_adj_vs_{name}'] = _rounded(p_adj)
            row[f'sig_vs_{name}'] = bool(p_adj < 1.0 - LEVEL)


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row['method'], row['protocol'], row['metric']


def difference(row: dict[str, Any], ref: dict[str, Any],
               outcomes: dict[tuple[str, str, str], np.ndarray]) -> Interval | None:
    """95 % interval (percent points) and p-value of ``row``'s mean minus ``ref``'s, or None if
    it cannot be told (module doc)."""
    if min(len(row['values']), len(ref['values'])) < MIN_TEST_SEEDS:
        return None
    a, b = outcomes.get(_key(row)), outcomes.get(_key(ref))
    if a is not None and b is not None and a.shape[1] == b.shape[1]:
        diff = seed_video_difference(a, b, LEVEL)
        return None if diff is None else _percent(diff)
    return welch_difference(np.array(row['values']), np.array(ref['values']), LEVEL)

