"""95 % confidence intervals and significance of leaderboard rows (statistics: ``stats.py``).

Every row of :func:`benchmark.leaderboard.aggregate` gets:

* ``ci_low`` / ``ci_high``: the 95 % interval of its mean (percent), and ``ci_method``:
  ``'bootstrap'`` (hierarchical bootstrap over seeds and test videos, when every seed's record
  holds the per-video outcomes of the metric), ``'t'`` (t-interval over the seed means, for
  records without them) or None (one seed without them: no interval, bounds None).
* ``sig_vs_random_init`` / ``p_vs_random_init``: whether the 95 % interval of the difference of
  means with the baseline (RandomInit) on the same metric excludes 0, and its p-value;
  ``sig_vs_best`` / ``p_vs_best`` the same against the method with the highest mean on the metric
  (the first in row order among ties). The difference is the paired bootstrap when both rows
  have per-video outcomes of one test split, else Welch's t over seed means when both have 2+
  seeds, else unknown (None). None too for the reference itself and when it is absent.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from benchmark.stats import (HierarchicalBootstrap, Interval, bootstrap_difference,
                             percentile_interval, t_interval, welch_difference)

#: The untrained baseline every method is compared with; matched ignoring case and ``_``/``-``.
BASELINE = 'RandomInit'
LEVEL = 0.95


def is_baseline(method: str, baseline: str = BASELINE) -> bool:
    """'RandomInit', 'random_init', 'random-init' all name the baseline ``RandomInit``."""
    def norm(name: str) -> str:
        return re.sub(r'[^a-z0-9]', '', name.lower())
    return norm(method) == norm(baseline)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def replicate_means(rows: list[dict[str, Any]],
                    outcomes: dict[tuple[str, str, str], np.ndarray],
                    bootstrap: HierarchicalBootstrap) -> dict[tuple[str, str, str],
                                                               tuple[np.ndarray, int]]:
    """(method, protocol, metric) -> (bootstrap replicates of the row's mean in percent, number
    of test videos), for the rows with per-video outcomes; each method draws its seeds from its
    own stream, every row the same videos (:class:`HierarchicalBootstrap`)."""
    replicates = {}
    for row in rows:
        key = (row['method'], row['protocol'], row['metric'])
        if key in outcomes:
            means = 100.0 * bootstrap.means(outcomes[key], stream=row['method'])
            replicates[key] = means, outcomes[key].shape[1]
    return replicates


def annotate(rows: list[dict[str, Any]], outcomes: dict[tuple[str, str, str], np.ndarray],
             bootstrap: HierarchicalBootstrap | None = None, baseline: str = BASELINE) -> None:
    """Add the interval and significance keys (module doc) to ``rows`` in place.

    outcomes: (method, protocol, metric) -> (n, M) per-video outcomes in [0, 1], one row per seed
        of the row's ``seeds``; rows missing here fall back to the seed means.
    """
    replicates = replicate_means(rows, outcomes, bootstrap or HierarchicalBootstrap())
    for row in rows:
        key = (row['method'], row['protocol'], row['metric'])
        if key in replicates:
            ci, method = percentile_interval(replicates[key][0], LEVEL), 'bootstrap'
        else:
            ci = t_interval(np.array(row['values']), LEVEL)
            method = None if ci is None else 't'
        row.update(ci_low=_rounded(ci and ci.low), ci_high=_rounded(ci and ci.high),
                   ci_method=method)
    columns: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        columns.setdefault((row['protocol'], row['metric']), []).append(row)
    for column in columns.values():
        best = max(column, key=lambda r: r['mean'])  # max keeps the first among ties
        base = next((r for r in column if is_baseline(r['method'], baseline)), None)
        for row in column:
            for name, ref in (('random_init', base), ('best', best)):
                diff = None if ref is None or ref is row else difference(row, ref, replicates)
                row[f'sig_vs_{name}'] = None if diff is None else not diff.contains(0.0)
                row[f'p_vs_{name}'] = None if diff is None else _rounded(diff.p)


def difference(row: dict[str, Any], ref: dict[str, Any],
               replicates: dict[tuple[str, str, str], tuple[np.ndarray, int]]
               ) -> Interval | None:
    """95 % interval (and p-value) of ``row``'s mean minus ``ref``'s, or None if it cannot be
    told (module doc). replicates: as :func:`replicate_means` returns."""
    a = replicates.get((row['method'], row['protocol'], row['metric']))
    b = replicates.get((ref['method'], ref['protocol'], ref['metric']))
    if a is not None and b is not None and a[1] == b[1]:
        return bootstrap_difference(a[0], b[0], LEVEL)
    return welch_difference(np.array(row['values']), np.array(ref['values']), LEVEL)
