"""The project's accuracy targets for the SynthMotion suites, and whether the committed
leaderboards meet them (the README's ``<!-- targets:SUITE -->`` blocks, rendered by
:mod:`tools.readme_results`).

A target over the untrained baseline is met when the method's mean exceeds RandomInit's on the
same metric by at least ``gain`` points **and** the leaderboard marks the difference as
significant (after its correction for multiple comparisons); an absolute target when the mean
reaches ``at_least`` and the row has at least 3 seeds
(:data:`vssl_bench.report.leaderboard_stats.MIN_TEST_SEEDS`). A target is never met from fewer: one
training run cannot separate a method from run-to-run variance, and two are too few to test. The
targets are the ones the benchmark was asked to reach on SynthMotion at its standard budget: a
self-supervised method that learns motion should beat an untrained network of the same architecture
clearly on the frozen features and help fine-tuning with few labels; the supervised upper bound
should nearly solve it.
"""
from __future__ import annotations

from typing import Any

from vssl_bench.core.names import BASELINE
from vssl_bench.report.leaderboard_stats import MIN_TEST_SEEDS

_TITLES = {('linear', 'top1'): 'linear top-1', ('retrieval', 'R@1'): 'R@1',
           ('semisup', 'top1_10pct'): 'semisup 10 %', ('knn', 'top1'): 'kNN top-1',
           ('finetune', 'top1'): 'finetune top-1'}


def _gain(method: str, protocol: str, metric: str, gain: float) -> dict[str, Any]:
    return dict(method=method, protocol=protocol, metric=metric, gain=gain)


_HEADLINE_SSL = [_gain(m, p, k, g) for m in ('CVRL', 'TCLR')
                 for p, k, g in (('linear', 'top1', 15.0), ('retrieval', 'R@1', 10.0))]
_SUPERVISED = [dict(method='Supervised', protocol='linear', metric='top1', at_least=85.0)]

#: suite -> its targets.
TARGETS: dict[str, list[dict[str, Any]]] = {
    'synthmotion': _HEADLINE_SSL + _SUPERVISED,
    'synthmotion_standard': _HEADLINE_SSL + [
        _gain(m, 'semisup', 'top1_10pct', 5.0) for m in ('CVRL', 'TCLR')] + _SUPERVISED,
}


def check(board: dict[str, Any], targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with ``measured`` (the gain over RandomInit, or the mean), ``significant``
    (gain targets: the leaderboard's mark; None for absolute ones) and ``met`` (module doc);
    ``measured`` None and ``met`` False when a row is missing."""
    rows = {(r['method'], r['protocol'], r['metric']): r for r in board['rows']}
    out = []
    for target in targets:
        row = rows.get((target['method'], target['protocol'], target['metric']))
        base = rows.get((BASELINE, target['protocol'], target['metric']))
        seeds = min([r.get('n', len(r.get('seeds', ()))) for r in (row, base) if r is not None],
                    default=0)
        if 'gain' in target:
            measured = None if row is None or base is None else row['mean'] - base['mean']
            significant = None if row is None else row.get('sig_vs_random_init')
            met = measured is not None and measured >= target['gain'] and bool(significant)
        else:
            measured = None if row is None else row['mean']
            significant = None
            met = measured is not None and measured >= target['at_least'] and \
                seeds >= MIN_TEST_SEEDS
        out.append(dict(target, measured=measured, significant=significant, met=met,
                        one_seed=0 < seeds < 2, seeds=seeds))
    return out


def render_targets(board: dict[str, Any], results_path: str) -> str:
    """Markdown table of :func:`check` for the board's suite (``TARGETS``)."""
    suite = board['suite']
    if suite not in TARGETS:
        raise ValueError(f'no targets for suite {suite!r} ({results_path}); suites with '
                         f'targets: {sorted(TARGETS)}')
    lines = ['| method | metric | target | measured | significant | met |', '|---' * 6 + '|']
    for t in check(board, TARGETS[suite]):
        title = _TITLES.get((t['protocol'], t['metric']), f'{t["protocol"]} {t["metric"]}')
        if 'gain' in t:
            goal = f'≥ {BASELINE} + {t["gain"]:g}'
            measured = '-' if t['measured'] is None else f'{t["measured"]:+.1f}'
            sig = ('untested (one seed)' if t['one_seed']
                   else f'untested ({t["seeds"]} seeds)' if 0 < t['seeds'] < MIN_TEST_SEEDS
                   else '-' if t['significant'] is None else 'yes' if t['significant'] else 'no')
        else:
            goal = f'≥ {t["at_least"]:g}'
            measured = '-' if t['measured'] is None else f'{t["measured"]:.1f}'
            sig = 'n/a'
        met = ('**yes**' if t['met'] else 'not from one seed' if t['one_seed']
               else f'not from {t["seeds"]} seeds' if 0 < t['seeds'] < MIN_TEST_SEEDS else 'no')
        lines.append(f'| {t["method"]} | {title} | {goal} | {measured} | {sig} | {met} |')
    lines += ['', f'Measured: mean gain over {BASELINE} in points (or the mean), from '
              f'`{results_path}`; a gain target is met only when the leaderboard marks the '
              'difference as significant after its correction for multiple comparisons, and no '
              'target is met from a single seed.']
    return '\n'.join(lines) + '\n'
