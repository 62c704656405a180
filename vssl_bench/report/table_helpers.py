"""Helpers shared by every table of a leaderboard (markdown, CSV, LaTeX, the budget curve):
column order, cell text, the legend and the budget / backbone / provenance lines."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vssl_bench.report.leaderboard_stats import (BASELINE, CORRECTION, CORRECTION_NAMES, LEVEL,
                                                 MIN_TEST_SEEDS)

# Protocols shown first, in this order; any other protocol follows alphabetically.
PROTOCOL_ORDER = ('linear', 'knn', 'retrieval', 'semisup', 'finetune')
#: Cell marks: not distinguishable from the baseline / from the column's best; t-interval.
NOT_VS_BASELINE, NOT_VS_BEST, T_MARK = '†', '‡', 'ᵗ'


def protocol_sort_key(protocol: str) -> tuple[int, str]:
    """linear, retrieval, then other protocols alphabetically."""
    if protocol in PROTOCOL_ORDER:
        return PROTOCOL_ORDER.index(protocol), ''
    return len(PROTOCOL_ORDER), protocol


def metric_sort_key(metric: str) -> tuple[int, float, str]:
    """top1, top5 (any topK by K), then R@k by k numerically, then per-label-fraction metrics
    (``top1_1pct``, ``top5_1pct``, ``top1_10pct``, ...: by fraction, then K), then others
    alphabetically."""
    for rank, pattern in enumerate((r'top(\d+)', r'R@(\d+)')):
        match = re.fullmatch(pattern, metric)
        if match:
            return rank, int(match.group(1)), ''
    match = re.fullmatch(r'top(\d+)_([\d.]+)pct', metric)
    if match:
        return 2, float(match.group(2)), f'{int(match.group(1)):06d}'
    return 3, 0, metric


def method_sort_key(method_order: Sequence[str] | None) -> Any:
    """Methods in ``method_order`` first (in that order), the rest alphabetically."""
    order = {m: i for i, m in enumerate(method_order or ())}
    return lambda m: (0, order[m], '') if m in order else (1, 0, m)


def half_width(row: dict[str, Any]) -> float | None:
    """Half the width of the row's 95 % interval (None without one)."""
    if row.get('ci_low') is None or row.get('ci_high') is None:
        return None
    return (row['ci_high'] - row['ci_low']) / 2.0


def significance_marks(row: dict[str, Any]) -> str:
    """'†' when not distinguishable from the baseline, '‡' when not from the best, both, or ''
    (distinguishable, or not comparable)."""
    return ((NOT_VS_BASELINE if row.get('sig_vs_random_init') is False else '')
            + (NOT_VS_BEST if row.get('sig_vs_best') is False else ''))


def cell(row: dict[str, Any]) -> str:
    """'35.7 ±2.5†': mean, half-width of the interval (+ 'ᵗ' for a t-interval), marks."""
    half = half_width(row)
    interval = '' if half is None else (
        f' ±{half:.1f}' + (T_MARK if row.get('ci_method') == 't' else ''))
    return f'{row["mean"]:.1f}{interval}{significance_marks(row)}'


def one_seed_warning(rows: Sequence[dict[str, Any]]) -> str | None:
    """The sentences a table with rows of fewer than :data:`MIN_TEST_SEEDS` seeds carries
    above its numbers (such rows are not tested), or None."""
    def seeds(row: dict[str, Any]) -> int:
        return row.get('n', len(row.get('seeds', ())))

    every = {r['method'] for r in rows}
    sentences = []
    for few in range(1, MIN_TEST_SEEDS):
        methods = list(dict.fromkeys(r['method'] for r in rows if seeds(r) == few))
        if not methods:
            continue
        which = 'every method' if set(methods) == every else ', '.join(methods)
        sentences.append(
            f'One seed ({which}): one training run per method cannot separate methods from '
            'run-to-run variance, so no difference involving it is tested or marked and its '
            'interval covers the test videos only; run 3 or more seeds (`--seeds 0,1,2`) to '
            'compare.' if few == 1 else
            f'{few} seeds ({which}): too few to test a difference at 5 % (the test is '
            f'calibrated from {MIN_TEST_SEEDS} seeds on), so none involving it is marked; run '
            f'{MIN_TEST_SEEDS} or more seeds to compare.')
    return ' '.join(sentences) or None


def unsearched_warning(rows: Sequence[dict[str, Any]]) -> str | None:
    """The sentence a table carries above its numbers when fine-tuning rows come from records
    made on one fixed schedule, without the search on validation (``unsearched``), or None."""
    parts = []
    for protocol in dict.fromkeys(r['protocol'] for r in rows if r.get('unsearched')):
        flagged = list(dict.fromkeys(r['method'] for r in rows
                                     if r['protocol'] == protocol and r.get('unsearched')))
        every = set(flagged) == {r['method'] for r in rows if r['protocol'] == protocol}
        parts.append(f'{protocol} of {"every method" if every else ", ".join(flagged)}')
    if not parts:
        return None
    return (f'Not searched to convergence ({"; ".join(parts)}): these fine-tuning records were '
            'made on one fixed schedule, without the checkpoint search on validation, so they '
            'measure how fast a checkpoint adapts, not its fine-tuned accuracy, and their marks '
            'are not findings; rerun the suite to replace them.')


def outdated_warning(rows: Sequence[dict[str, Any]]) -> str | None:
    """The sentence a table carries above its numbers when rows come from records of an earlier
    version of their protocol than the current one (``outdated``), or None."""
    parts = []
    for protocol in dict.fromkeys(r['protocol'] for r in rows if r.get('outdated')):
        flagged = [r for r in rows if r['protocol'] == protocol and r.get('outdated')]
        methods = list(dict.fromkeys(r['method'] for r in flagged))
        every = set(methods) == {r['method'] for r in rows if r['protocol'] == protocol}
        versions = sorted({v for r in flagged for v in r['outdated']['versions']})
        info = flagged[0]['outdated']
        parts.append(f'{protocol} v{"/".join(versions)} '
                     f'({"every method" if every else ", ".join(methods)}), where {protocol} '
                     f'v{info["current"]} {info["change"]}')
    if not parts:
        return None
    return (f'Made with an earlier version of a protocol: {"; ".join(parts)}. These cells and '
            'their marks are the earlier version\'s; rerun the suite to replace them.')


def table_warnings(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every sentence a table of ``rows`` carries above its numbers, in order: too few seeds,
    fine-tuning not searched, outdated protocol versions."""
    return [w for w in (one_seed_warning(rows), unsearched_warning(rows), outdated_warning(rows))
            if w]


def legend_lines(baseline: str = BASELINE) -> list[str]:
    """The markdown legend of the cells (under the table)."""
    correction = CORRECTION_NAMES[CORRECTION]
    return [f'Cells: mean over seeds ±half-width of its {LEVEL:.0%} confidence interval, in '
            'percent (exact bounds: `ci_low`/`ci_high` in leaderboard.json and .csv).',
            'Intervals: Student t with Welch-Satterthwaite degrees of freedom over two variance '
            'components, run-to-run (the seed means) and test videos (the per-video outcomes '
            'averaged over seeds); with one seed, test videos only; '
            f'{T_MARK}: t-interval over the seed means (records without per-video outcomes); no '
            'interval: one seed without per-video outcomes.',
            f'{NOT_VS_BASELINE}: not distinguishable from {baseline}, {NOT_VS_BEST}: not '
            'distinguishable from the best mean of the column: the difference of means, tested '
            'with the same two variance components (paired over the test videos; Welch t over '
            'seed means for records without per-video outcomes), is not significant at 5 % '
            f'after {correction}\'s correction for multiple comparisons over every comparison '
            f'of this table with {baseline} (one family) and with the best (another); p-values, '
            'raw and corrected (`p_adj_*`), in leaderboard.json and .csv. No mark: significant, '
            'or not tested (a row with one seed, the reference itself, no '
            f'{baseline} in the table, a cell or reference not searched to convergence).']


def number(value: Any, digits: int = 1) -> str:
    if value is None:
        return '—'
    if float(value).is_integer() and abs(value) >= 100:
        return f'{int(value):,}'
    return f'{value:,.{digits}f}'


def budget_line(leaderboard: dict[str, Any]) -> str:
    """One sentence naming the suite's budget, e.g. 'Budget: 60 TFLOPs of training per method
    (train_flops, matched across methods).'"""
    budget = (leaderboard.get('pretrain') or {}).get('budget')
    if not isinstance(budget, dict):
        return 'Budget: not recorded.'
    unit, value = budget.get('unit'), budget.get('value')
    if unit == 'train_flops':
        return (f'Budget: {value / 1e12:g} TFLOPs of training per method (train_flops, matched '
                'across methods; FLOPs of forward + backward counted on a real step).')
    if unit == 'device_seconds':
        return (f'Budget: {value:g} device-seconds inside the training step per method '
                '(device_seconds, matched across methods).')
    return (f'Budget: {value:g} epochs per method (epochs: UNMATCHED compute, methods that run '
            'more clips per video train longer).')


def backbone_line(leaderboard: dict[str, Any]) -> str:
    """One sentence naming the backbone every row was built on (the suite's; variants named),
    e.g. 'Backbone (every row): ResNet3d depth=18, base_channels=16, temporal_strides=[1, 1, 1,
    1], ...'."""
    backbone = leaderboard.get('backbone') or {}
    shared = backbone.get('shared')
    if not shared:
        return 'Backbone: not recorded.'
    def describe(cfg: dict[str, Any]) -> str:
        rest = ', '.join(f'{k}={v}' for k, v in sorted(cfg.items())
                         if k not in ('type', 'pretrained', 'pretrained2d'))
        return f'{cfg.get("type", "?")} {rest}'.strip()
    line = f'Backbone (every row): {describe(shared)}.'
    if backbone.get('variant_of'):
        line = line.replace('(every row)', '(every row but the variants)')
        line += ' Variants: ' + '; '.join(
            f'{m} on {v} ({describe(backbone["variants"].get(v, {}))} overrides)'
            for m, v in backbone['variant_of'].items()) + '.'
    return line


def provenance_lines(leaderboard: dict[str, Any]) -> list[str]:
    """``key: value`` lines of every table's footer: suite, budget, seeds, git revision(s),
    protocol versions, device, python, package versions (several values of one field joined by
    ``/``)."""
    prov = leaderboard.get('provenance', {})

    def joined(values: Sequence[Any]) -> str:
        return '/'.join(str(v) for v in values) if values else 'unknown'

    seeds = sorted({int(s) for row in leaderboard.get('rows', []) for s in row.get('seeds', [])})
    lines = [f'suite: {leaderboard.get("suite", "unknown")}',
             budget_line(leaderboard).replace('Budget: ', 'budget: ', 1),
             backbone_line(leaderboard).replace('Backbone ', 'backbone ', 1),
             f'seeds: {",".join(map(str, seeds)) or "none"}',
             f'git: {joined(prov.get("git", []))}']
    if prov.get('protocol_versions'):
        lines.append('protocols: ' + ', '.join(
            f'{p} v{joined(v)}' for p, v in prov['protocol_versions'].items()))
    for key in ('device', 'precision', 'python'):
        if prov.get(key):
            lines.append(f'{key}: {joined(prov[key])}')
    if len(prov.get('precision', [])) > 1:
        # bfloat16 autocast is used only where native (vssl_bench/core/precision.py), so a folder
        # filled from two machines can hold both; the same seed then differs as seeds do
        lines.append(f'WARNING: these records mix precisions ({joined(prov["precision"])}): '
                     'the same run gives different numbers in each; compare rows made with one '
                     '(each record\'s provenance says which)')
    if prov.get('packages'):
        lines.append('packages: ' + ', '.join(
            f'{k} {joined(v)}' for k, v in prov['packages'].items()))
    return lines
