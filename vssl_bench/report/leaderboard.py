"""Aggregate per-seed run records into a leaderboard (JSON + markdown, CSV and LaTeX).

Run records live at ``<results_dir>/runs/<method>/seed<seed>/<protocol>.json`` (read and
aggregated by :mod:`vssl_bench.report.aggregate`). The leaderboard files contain no timestamps:
aggregating the same records twice gives byte-identical files.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from vssl_bench.core.io import atomic_write_json, atomic_write_text, read_json
from vssl_bench.report.ablation import table as ablation_table
from vssl_bench.report.ablation import verdicts
from vssl_bench.report.aggregate import aggregate, load_records, records_provenance
from vssl_bench.report.leaderboard_formats import write_formats
from vssl_bench.report.leaderboard_stats import BASELINE, CORRECTION, LEVEL
from vssl_bench.report.table_helpers import (NOT_VS_BASELINE, NOT_VS_BEST, T_MARK, backbone_line,
                                             budget_line, cell, legend_lines, metric_sort_key,
                                             number, protocol_sort_key, provenance_lines,
                                             significance_marks, table_warnings)

__all__ = ['aggregate', 'format_table', 'headline_table', 'load_records', 'rebuild_leaderboard',
           'write_leaderboard']

#: How the rows' intervals and marks were computed (leaderboard.json's ``statistics``).
STATISTICS = dict(level=LEVEL, interval='t, Welch-Satterthwaite df, seed + test-video variance',
                  test='difference of means, paired over test videos, seed + test-video variance',
                  correction=CORRECTION,
                  families=f'every comparison of the table with {BASELINE}; with the best')

#: The terminal's compact view: (column title, protocol, metric).
HEADLINE = (('linear', 'linear', 'top1'), ('kNN', 'knn', 'top1'), ('R@1', 'retrieval', 'R@1'),
            ('semisup 10%', 'semisup', 'top1_10pct'), ('finetune', 'finetune', 'top1'))


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
        table.append([method, unit, number(c.get('train_tflops'), 2), number(c.get('iters'), 0),
                      number(c.get('epochs'), 2), number(c.get('clips_seen'), 0),
                      number(c.get('wall_s')), number(c.get('device_s')),
                      number(c.get('peak_mem_mb'), 0)])
    headers = ['method', 'budget unit', 'train TFLOPs', 'steps', 'epochs', 'clips seen',
               'wall s', 'device s', 'peak MiB']
    return tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)


def headline_table(leaderboard: dict[str, Any], results_dir: str | Path | None = None) -> str:
    """The compact view printed in the terminal: per method the mean top-1 of linear, kNN,
    semisup 10 % and finetune and retrieval R@1 (columns without any result left out), with
    the significance marks, and the pretraining TFLOPs; then where the full tables are."""
    rows = leaderboard['rows']
    cells = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    columns = [c for c in HEADLINE if any((r['protocol'], r['metric']) == c[1:] for r in rows)]
    methods = list(dict.fromkeys(r['method'] for r in rows))
    compute = {r['method']: r.get('compute') or {} for r in rows}
    table = [[m] + [f'{cells[m, p, k]["mean"]:.1f}{significance_marks(cells[m, p, k])}'
                    if (m, p, k) in cells else '—' for _, p, k in columns]
             + [number(compute[m].get('train_tflops'), 2)] for m in methods]
    text = tabulate(table, headers=['method'] + [c[0] for c in columns] + ['TFLOPs'],
                    tablefmt='simple', disable_numparse=True) if table else '(no results)'
    lines = [f'{leaderboard["suite"]}: mean over seeds, percent ({NOT_VS_BASELINE}: not '
             f'distinguishable from {BASELINE}, {NOT_VS_BEST}: from the best, after correction '
             'for multiple comparisons)', text]
    lines += table_warnings(rows)
    if results_dir is not None:
        lines.append(f'full tables (intervals, every metric, compute, provenance): '
                     f'{Path(results_dir) / "leaderboard.md"} (.csv, .tex, .json)')
    return '\n'.join(lines) + '\n'


def format_table(leaderboard: dict[str, Any]) -> str:
    """Markdown view of a leaderboard dict (as returned by :func:`write_leaderboard`).

    One row per method: a ``seeds`` column (``n=3``, or a range when it differs across metrics),
    the training TFLOPs and steps the method consumed (mean over seeds), then one column per
    (protocol, metric) in row order, cells ``mean ±h`` with one decimal (h: half-width of the
    95 % interval) and the significance marks (:func:`legend_lines`). Then the legend, the
    budget, the ablation verdicts of an ablation suite, a table of everything consumed, and a
    provenance footer. Ends with a newline.
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
        spent = [number(compute[method].get('train_tflops'), 2),
                 number(compute[method].get('iters'), 0)]
        failed = max((r.get('num_failed', 0) for r in rows if r['method'] == method),
                     default=0)
        table.append([method, seeds, *spent] + [
            cell(cells[method, p, m]) if (method, p, m) in cells else '—' for p, m in columns]
            + ([str(failed)] if any_failed else []))
    headers = ['method', 'seeds', 'TFLOPs', 'steps'] + [f'{p} {m}' for p, m in columns] + (
        ['failed videos'] if any_failed else [])
    lines = [f'# Leaderboard: {leaderboard["suite"]}', '',
             f'Mean over seeds ±half-width of its {LEVEL:.0%} confidence interval, in percent '
             f'({NOT_VS_BASELINE} {NOT_VS_BEST} {T_MARK}: see under the table). TFLOPs and '
             'steps: pretraining consumed (mean over seeds).', '', budget_line(leaderboard),
             backbone_line(leaderboard), '']
    for warning in table_warnings(rows):
        lines += [f'**{warning}**', '']
    lines.append(tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)
                 if table else '(no results)')
    if table:
        lines += ['', *legend_lines()]
        if leaderboard.get('ablation_verdicts'):
            lines += ['', '## The papers\' ablation directions', '',
                      ablation_table(leaderboard['ablation_verdicts']).rstrip('\n')]
        lines += ['', '## Compute consumed (mean over seeds)', '', compute_table(leaderboard)]
    lines += ['', 'Provenance:', *(f'- {line}' for line in provenance_lines(leaderboard))]
    return '\n'.join(lines) + '\n'


def write_leaderboard(results_dir: str | Path, suite: str,
                      method_order: Sequence[str] | None = None,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate the records under ``results_dir`` and write leaderboard.json, .md, .csv, .tex.

    Only records of ``suite`` are used (records of another suite are skipped with a warning).
    ``leaderboard.json`` = ``{"suite", "rows", "provenance", **extra}``; both files are written
    atomically and contain nothing time-dependent. Returns the JSON dict. An ``ablation`` in
    ``extra`` (the suite's, :mod:`vssl_bench.harness.ablation_spec`) adds ``ablation_verdicts``
    (:func:`vssl_bench.report.ablation.verdicts` on the headline columns) and ``ablation.md``.
    """
    records = []
    for record in load_records(results_dir):
        if (record.suite or suite) != suite:
            warnings.warn(f'Skipping record of suite {record.suite!r} (expected '
                          f'{suite!r}): {record.label}', stacklevel=2)
            continue
        records.append(record)
    leaderboard = {'suite': suite, 'rows': aggregate(records, method_order),
                   'provenance': records_provenance(records), **(extra or {}),
                   'statistics': STATISTICS}
    _check_finite(leaderboard['rows'])
    if leaderboard.get('ablation'):
        leaderboard['ablation_verdicts'] = verdicts(records, leaderboard['ablation'], HEADLINE)
        atomic_write_text(Path(results_dir, 'ablation.md'),
                          f'# {suite}: the papers\' ablation directions\n\n'
                          + ablation_table(leaderboard['ablation_verdicts']))
    atomic_write_json(Path(results_dir, 'leaderboard.json'), leaderboard)
    atomic_write_text(Path(results_dir, 'leaderboard.md'), format_table(leaderboard))
    write_formats(results_dir, leaderboard)  # leaderboard.csv and leaderboard.tex
    return leaderboard


def rebuild_leaderboard(results_dir: str | Path, suite: str | None = None) -> dict[str, Any]:
    """Rewrite the leaderboard of ``results_dir`` from its run records, keeping the suite's name,
    settings and method order from its previous ``leaderboard.json``: the suite's own order
    (``method_order``, written by a suite run) where it has one, else its rows' order (methods
    new to it, e.g. an evaluated checkpoint, come last)."""
    results = Path(results_dir)
    previous = results / 'leaderboard.json'
    extra, order = {}, None
    if previous.is_file():
        old = read_json(previous)
        suite = suite or old.get('suite')
        extra = {k: v for k, v in old.items()
                 if k not in ('suite', 'rows', 'provenance', 'ablation_verdicts')}
        order = old.get('method_order') or list(dict.fromkeys(row['method']
                                                              for row in old.get('rows', [])))
    return write_leaderboard(results, suite or results.name, method_order=order, extra=extra)


def _check_finite(rows: list[dict[str, Any]]) -> None:
    """Warn about NaN/inf metrics (JSON would hold non-standard NaN tokens)."""
    for row in rows:
        if not all(math.isfinite(v) for v in row['values']):
            warnings.warn(f'Non-finite {row["metric"]} for {row["method"]}/{row["protocol"]}: '
                          f'{row["values"]}', stacklevel=3)
