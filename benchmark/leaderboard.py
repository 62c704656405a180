"""Aggregate per-seed run records into a leaderboard (JSON + markdown, CSV and LaTeX).

Run records live at ``<results_dir>/runs/<method>/seed<seed>/<protocol>.json``; each holds at
least ``suite, method, seed, protocol, protocol_version, metrics, config_hash`` and metrics are
already in percent. The leaderboard files contain no timestamps: aggregating the same records
twice gives byte-identical files.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from benchmark.hits import decode
from benchmark.io import atomic_write_json, atomic_write_text, read_json
from benchmark.leaderboard_stats import BASELINE, LEVEL, annotate
from benchmark.stats import DEFAULT_REPLICATES, HierarchicalBootstrap

# Protocols shown first, in this order; any other protocol follows alphabetically.
PROTOCOL_ORDER = ('linear', 'knn', 'retrieval', 'semisup', 'finetune')
_REQUIRED_KEYS = ('method', 'seed', 'protocol', 'metrics')


def load_records(results_dir: str | Path) -> list[dict[str, Any]]:
    """All run records under ``<results_dir>/runs``, in sorted path order.

    Unreadable files (bad JSON, not a dict, missing keys) are skipped with a warning: one broken
    run must not hide all the others.
    """
    records = []
    for path in sorted(Path(results_dir, 'runs').glob('*/seed*/*.json')):
        try:
            record = read_json(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(f'Skipping unreadable run record {path}: {err}', stacklevel=2)
            continue
        if not isinstance(record, dict) or any(k not in record for k in _REQUIRED_KEYS) \
                or not isinstance(record['metrics'], dict):
            warnings.warn(f'Skipping malformed run record {path}: needs a JSON object with '
                          f'keys {list(_REQUIRED_KEYS)}', stacklevel=2)
            continue
        records.append(record)
    return records


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


#: What a run record's ``pretrain`` stats say was consumed, averaged over seeds per method.
COMPUTE_KEYS = ('train_tflops', 'iters', 'epochs', 'clips_seen', 'wall_s', 'device_s',
                'peak_mem_mb')


def compute_summary(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per method: the budget (unit, value, matched) and the mean over its seeds of every
    consumed quantity in :data:`COMPUTE_KEYS` (one value per seed: protocols of a seed share
    the pretraining)."""
    per_seed: dict[str, dict[int, dict[str, Any]]] = {}
    for record in records:
        stats = record.get('pretrain')
        if isinstance(stats, dict):
            per_seed.setdefault(str(record['method']), {})[int(record['seed'])] = stats
    summary = {}
    for method, seeds in per_seed.items():
        stats = [seeds[s] for s in sorted(seeds)]
        entry: dict[str, Any] = {'budget': stats[0].get('budget'),
                                 'matched': stats[0].get('matched'),
                                 'untrained': bool(stats[0].get('untrained', False))}
        for key in COMPUTE_KEYS:
            values = [float(st[key]) for st in stats if isinstance(st.get(key), (int, float))]
            entry[key] = round(float(np.mean(values)), 4) if values else None
        summary[method] = entry
    return summary


def failed_videos(record: dict[str, Any]) -> int:
    """Videos a record's numbers left out (undecodable): pretraining plus evaluation splits."""
    pretrain = (record.get('pretrain') or {}).get('num_failed') or 0
    evaluation = (record.get('evaluation') or {}).get('num_failed') or {}
    return int(pretrain) + int(sum(v or 0 for v in evaluation.values()))


def aggregate(records: Iterable[dict[str, Any]],
              method_order: Sequence[str] | None = None,
              bootstrap: HierarchicalBootstrap | None = None,
              baseline: str = BASELINE) -> list[dict[str, Any]]:
    """One row per (method, protocol, metric) over seeds.

    Rows: ``{method, protocol, metric, mean, std, n, seeds, values, compute}`` (``compute``: the
    method's :func:`compute_summary` entry, or None without pretraining stats); ``seeds`` sorted and
    ``values`` in the same order. ``std`` is the sample standard deviation (ddof=1) when n > 1,
    and 0.0 when n == 1. A (method, seed, protocol) seen twice keeps the last record given
    (with a warning); records are normally unique by path. Plus the 95 % interval and the
    significance keys of :func:`benchmark.leaderboard_stats.annotate` (``ci_low``, ``ci_high``,
    ``ci_method``, ``sig_vs_random_init``, ``p_vs_random_init``, ``sig_vs_best``,
    ``p_vs_best``), bootstrapped from the records' ``per_video`` outcomes when every seed has
    them (see :mod:`benchmark.hits`).
    """
    records = list(records)
    compute = compute_summary(records)
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    per_video: dict[tuple[str, str, str], dict[int, np.ndarray | None]] = {}
    for record in records:
        method, protocol, seed = str(record['method']), str(record['protocol']), int(record['seed'])
        for metric, value in record['metrics'].items():
            per_seed = values.setdefault((method, protocol, str(metric)), {})
            if seed in per_seed:
                warnings.warn(f'Duplicate record for {method}/seed{seed}/{protocol}; keeping the '
                              f'last one', stacklevel=2)
            per_seed[seed] = float(value)
            per_video.setdefault((method, protocol, str(metric)), {})[seed] = \
                _outcomes(record, str(metric), float(value))
    method_key = method_sort_key(method_order)
    keys = sorted(values, key=lambda k: (method_key(k[0]), protocol_sort_key(k[1]),
                                         metric_sort_key(k[2])))
    failures = {(str(r['method']), str(r['protocol'])): 0 for r in records}
    for record in records:
        key = (str(record['method']), str(record['protocol']))
        failures[key] = max(failures[key], failed_videos(record))
    rows, outcomes = [], {}
    for method, protocol, metric in keys:
        seeds = sorted(values[method, protocol, metric])
        vals = np.array([values[method, protocol, metric][s] for s in seeds], dtype=np.float64)
        rows.append({
            'method': method, 'protocol': protocol, 'metric': metric,
            'mean': float(vals.mean()),
            'std': float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            'n': len(vals), 'seeds': seeds, 'values': vals.tolist(),
            'compute': compute.get(method),
            # only when videos were left out: tables of clean data sets stay as they were
            **({'num_failed': failures[method, protocol]}
               if failures.get((method, protocol)) else {}),
        })
        vectors = [per_video[method, protocol, metric][s] for s in seeds]
        if all(v is not None for v in vectors):
            if len({len(v) for v in vectors}) == 1:
                outcomes[method, protocol, metric] = np.stack(vectors)
            else:
                warnings.warn(f'{method}/{protocol} {metric}: per-video outcomes of different '
                              f'lengths over seeds {seeds}; interval over seeds only',
                              stacklevel=2)
    annotate(rows, outcomes, bootstrap, baseline)
    return rows


def _outcomes(record: dict[str, Any], metric: str, value: float) -> np.ndarray | None:
    """The record's per-video outcomes of ``metric`` (None when absent, and when malformed or
    not averaging to the metric, with a warning)."""
    per_video = record.get('per_video')
    if not isinstance(per_video, dict) or metric not in per_video:
        return None
    where = f'{record["method"]}/seed{record["seed"]}/{record["protocol"]} {metric}'
    try:
        outcomes = decode(per_video[metric])
    except ValueError as err:
        warnings.warn(f'Ignoring per-video outcomes of {where}: {err}', stacklevel=3)
        return None
    if abs(100.0 * outcomes.mean() - value) > 1e-3:
        warnings.warn(f'Ignoring per-video outcomes of {where}: their mean '
                      f'{100.0 * outcomes.mean():.4f} is not the metric {value}', stacklevel=3)
        return None
    return outcomes


def _provenance(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Union over the records of where their numbers came from, for the footer.

    Reads ``record["provenance"]`` as written by :func:`benchmark.provenance.provenance`
    (``git``: revision string, ``packages``: name -> version, ``device``, ``python``) and each
    record's ``protocol_version``. Every field is a sorted list of the distinct values seen, so a
    leaderboard mixing revisions or versions shows it.
    """
    fields: dict[str, set[str]] = {'git': set(), 'device': set(), 'precision': set(),
                                   'python': set()}
    packages: dict[str, set[str]] = {}
    protocol_versions: dict[str, set[str]] = {}
    for record in records:
        protocol_versions.setdefault(str(record['protocol']), set()).add(
            str(record.get('protocol_version', '?')))
        prov = record.get('provenance')
        if not isinstance(prov, dict):
            continue
        for key, seen in fields.items():
            if isinstance(prov.get(key), (str, int, float)):
                seen.add(str(prov[key]))
        if isinstance(prov.get('packages'), dict):
            for name, version in prov['packages'].items():
                packages.setdefault(str(name), set()).add(str(version))
    out: dict[str, Any] = {key: sorted(seen) for key, seen in fields.items()}
    out['packages'] = {k: sorted(v) for k, v in sorted(packages.items())}
    out['protocol_versions'] = {k: sorted(v) for k, v in sorted(
        protocol_versions.items(), key=lambda kv: protocol_sort_key(kv[0]))}
    for protocol, versions in out['protocol_versions'].items():
        if len(versions) > 1:
            warnings.warn(f'Records of protocol {protocol!r} mix versions {versions}: their '
                          f'numbers may not be comparable', stacklevel=3)
    return out


#: Cell marks: not distinguishable from the baseline / from the column's best; t-interval.
NOT_VS_BASELINE, NOT_VS_BEST, T_MARK = '†', '‡', 'ᵗ'


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


def _cell(row: dict[str, Any]) -> str:
    """'35.7 ±2.5†': mean, half-width of the interval (+ 'ᵗ' for a t-interval), marks."""
    half = half_width(row)
    interval = '' if half is None else (
        f' ±{half:.1f}' + (T_MARK if row.get('ci_method') == 't' else ''))
    return f'{row["mean"]:.1f}{interval}{significance_marks(row)}'


def legend_lines(baseline: str = BASELINE) -> list[str]:
    """The markdown legend of the cells (under the table)."""
    return [f'Cells: mean over seeds ±half-width of its {LEVEL:.0%} confidence interval, in '
            'percent (exact bounds: `ci_low`/`ci_high` in leaderboard.json and .csv).',
            f'Intervals: hierarchical percentile bootstrap ({DEFAULT_REPLICATES} replicates, fixed '
            'RNG seed) that resamples seeds, then test videos (the same videos for every '
            f'method); {T_MARK}: t-interval over the seed means (records without per-video '
            'outcomes); no interval: one seed without per-video outcomes.',
            f'{NOT_VS_BASELINE}: not distinguishable from {baseline}, {NOT_VS_BEST}: not '
            'distinguishable from the best mean of the column: the 95 % interval of the '
            'difference of means contains 0 (paired bootstrap over the same resampled videos; '
            'Welch t over seed means for records without per-video outcomes). No mark: '
            'distinguishable, or the comparison cannot be made (one seed without per-video '
            f'outcomes, the reference itself, no {baseline} in the table).']


def _number(value: Any, digits: int = 1) -> str:
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


def compute_table(leaderboard: dict[str, Any]) -> str:
    """Markdown table of what every method consumed (mean over seeds)."""
    summary = {}
    for row in leaderboard['rows']:
        summary.setdefault(row['method'], row.get('compute'))
    table = []
    for method, c in summary.items():
        if not c:
            table.append([method] + ['—'] * 8)
            continue
        budget = c.get('budget') or {}
        unit = 'no pretraining' if c.get('untrained') else (
            budget.get('unit', '?') + ('' if c.get('matched', True) else ' (unmatched)'))
        table.append([method, unit, _number(c.get('train_tflops'), 2), _number(c.get('iters'), 0),
                      _number(c.get('epochs'), 2), _number(c.get('clips_seen'), 0),
                      _number(c.get('wall_s')), _number(c.get('device_s')),
                      _number(c.get('peak_mem_mb'), 0)])
    headers = ['method', 'budget unit', 'train TFLOPs', 'steps', 'epochs', 'clips seen',
               'wall s', 'device s', 'peak MiB']
    return tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)


def format_table(leaderboard: dict[str, Any]) -> str:
    """Markdown view of a leaderboard dict (as returned by :func:`write_leaderboard`).

    One row per method: a ``seeds`` column (``n=3``, or a range when it differs across metrics),
    the training TFLOPs and steps the method consumed (mean over seeds), then one column per
    (protocol, metric) in row order, cells ``mean ±h`` with one decimal (h: half-width of the
    95 % interval) and the significance marks (:func:`legend_lines`). Then the legend, the
    budget, a table of everything consumed, and a provenance footer. Ends with a newline.
    """
    rows = leaderboard['rows']
    methods = list(dict.fromkeys(r['method'] for r in rows))
    columns = sorted(dict.fromkeys((r['protocol'], r['metric']) for r in rows),
                     key=lambda pm: (protocol_sort_key(pm[0]), metric_sort_key(pm[1])))
    cells = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    compute = {r['method']: r.get('compute') or {} for r in rows}
    # 'failed videos': most videos any of the method's records left out (undecodable), shown
    # only when a record left one out
    any_failed = any(r.get('num_failed') for r in rows)
    table = []
    for method in methods:
        ns = sorted({r['n'] for r in rows if r['method'] == method})
        seeds = f'n={ns[0]}' if len(ns) == 1 else f'n={ns[0]}-{ns[-1]}'
        spent = [_number(compute[method].get('train_tflops'), 2),
                 _number(compute[method].get('iters'), 0)]
        failed = max((r.get('num_failed', 0) for r in rows if r['method'] == method),
                     default=0)
        table.append([method, seeds, *spent] + [
            _cell(cells[method, p, m]) if (method, p, m) in cells else '—' for p, m in columns]
            + ([str(failed)] if any_failed else []))
    headers = ['method', 'seeds', 'TFLOPs', 'steps'] + [f'{p} {m}' for p, m in columns] + (
        ['failed videos'] if any_failed else [])
    lines = [f'# Leaderboard: {leaderboard["suite"]}', '',
             f'Mean over seeds ±half-width of its {LEVEL:.0%} confidence interval, in percent '
             f'({NOT_VS_BASELINE} {NOT_VS_BEST} {T_MARK}: see under the table). TFLOPs and '
             'steps: pretraining consumed (mean over seeds).', '', budget_line(leaderboard),
             backbone_line(leaderboard), '']
    lines.append(tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)
                 if table else '(no results)')
    if table:
        lines += ['', *legend_lines()]
        lines += ['', '## Compute consumed (mean over seeds)', '', compute_table(leaderboard)]
    lines += ['', 'Provenance:', *(f'- {line}' for line in provenance_lines(leaderboard))]
    return '\n'.join(lines) + '\n'


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
    if prov.get('packages'):
        lines.append('packages: ' + ', '.join(
            f'{k} {joined(v)}' for k, v in prov['packages'].items()))
    return lines


def write_leaderboard(results_dir: str | Path, suite: str,
                      method_order: Sequence[str] | None = None,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate the records under ``results_dir`` and write leaderboard.json, .md, .csv, .tex.

    Only records of ``suite`` are used (records of another suite are skipped with a warning).
    ``leaderboard.json`` = ``{"suite", "rows", "provenance", **extra}``; both files are written
    atomically and contain nothing time-dependent. Returns the JSON dict.
    """
    records = []
    for record in load_records(results_dir):
        if record.get('suite', suite) != suite:
            warnings.warn(f'Skipping record of suite {record.get("suite")!r} (expected '
                          f'{suite!r}): {record["method"]}/seed{record["seed"]}/'
                          f'{record["protocol"]}', stacklevel=2)
            continue
        records.append(record)
    leaderboard = {'suite': suite, 'rows': aggregate(records, method_order),
                   'provenance': _provenance(records), **(extra or {})}
    _check_finite(leaderboard['rows'])
    atomic_write_json(Path(results_dir, 'leaderboard.json'), leaderboard)
    atomic_write_text(Path(results_dir, 'leaderboard.md'), format_table(leaderboard))
    from benchmark.leaderboard_formats import write_formats  # it builds on this module
    write_formats(results_dir, leaderboard)  # leaderboard.csv and leaderboard.tex
    return leaderboard


def _check_finite(rows: list[dict[str, Any]]) -> None:
    """Warn about NaN/inf metrics (JSON would hold non-standard NaN tokens)."""
    for row in rows:
        if not all(math.isfinite(v) for v in row['values']):
            warnings.warn(f'Non-finite {row["metric"]} for {row["method"]}/{row["protocol"]}: '
                          f'{row["values"]}', stacklevel=3)
