"""Aggregate per-seed run records into a leaderboard (JSON + markdown).

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

from benchmark.io import atomic_write_json, atomic_write_text, read_json

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


def aggregate(records: Iterable[dict[str, Any]],
              method_order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One row per (method, protocol, metric) over seeds.

    Rows: ``{method, protocol, metric, mean, std, n, seeds, values}``; ``seeds`` sorted and
    ``values`` in the same order. ``std`` is the sample standard deviation (ddof=1) when n > 1,
    and 0.0 when n == 1. A (method, seed, protocol) seen twice keeps the last record given
    (with a warning); records are normally unique by path.
    """
    values: dict[tuple[str, str, str], dict[int, float]] = {}
    for record in records:
        method, protocol, seed = str(record['method']), str(record['protocol']), int(record['seed'])
        for metric, value in record['metrics'].items():
            per_seed = values.setdefault((method, protocol, str(metric)), {})
            if seed in per_seed:
                warnings.warn(f'Duplicate record for {method}/seed{seed}/{protocol}; keeping the '
                              f'last one', stacklevel=2)
            per_seed[seed] = float(value)
    method_key = method_sort_key(method_order)
    keys = sorted(values, key=lambda k: (method_key(k[0]), protocol_sort_key(k[1]),
                                         metric_sort_key(k[2])))
    rows = []
    for method, protocol, metric in keys:
        seeds = sorted(values[method, protocol, metric])
        vals = np.array([values[method, protocol, metric][s] for s in seeds], dtype=np.float64)
        rows.append({
            'method': method, 'protocol': protocol, 'metric': metric,
            'mean': float(vals.mean()),
            'std': float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            'n': len(vals), 'seeds': seeds, 'values': vals.tolist(),
        })
    return rows


def _provenance(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Union over the records of where their numbers came from, for the footer.

    Reads ``record["provenance"]`` as written by :func:`benchmark.provenance.provenance`
    (``git``: revision string, ``packages``: name -> version, ``device``, ``python``) and each
    record's ``protocol_version``. Every field is a sorted list of the distinct values seen, so a
    leaderboard mixing revisions or versions shows it.
    """
    fields: dict[str, set[str]] = {'git': set(), 'device': set(), 'python': set()}
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


def _cell(row: dict[str, Any]) -> str:
    return f'{row["mean"]:.1f} ± {row["std"]:.1f}'


def format_table(leaderboard: dict[str, Any]) -> str:
    """Markdown view of a leaderboard dict (as returned by :func:`write_leaderboard`).

    One row per method, one column per (protocol, metric) in row order, cells ``mean ± std``
    with one decimal, a ``seeds`` column (``n=3``, or a range when it differs across metrics),
    a header line naming the suite and a provenance footer. Ends with a newline.
    """
    rows = leaderboard['rows']
    methods = list(dict.fromkeys(r['method'] for r in rows))
    columns = sorted(dict.fromkeys((r['protocol'], r['metric']) for r in rows),
                     key=lambda pm: (protocol_sort_key(pm[0]), metric_sort_key(pm[1])))
    cells = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    table = []
    for method in methods:
        ns = sorted({r['n'] for r in rows if r['method'] == method})
        seeds = f'n={ns[0]}' if len(ns) == 1 else f'n={ns[0]}-{ns[-1]}'
        table.append([method, seeds] + [_cell(cells[method, p, m]) if (method, p, m) in cells
                                        else '—' for p, m in columns])
    headers = ['method', 'seeds'] + [f'{p} {m}' for p, m in columns]
    lines = [f'# Leaderboard: {leaderboard["suite"]}', '',
             'Mean ± sample std (ddof=1; 0.0 for one seed) over seeds, in percent.', '']
    lines.append(tabulate(table, headers=headers, tablefmt='github', disable_numparse=True)
                 if table else '(no results)')
    lines += ['', *_footer(leaderboard.get('provenance', {}))]
    return '\n'.join(lines) + '\n'


def _footer(prov: dict[str, Any]) -> list[str]:
    """Markdown bullet list of the provenance summary (values joined with '/')."""
    def joined(values: Sequence[str]) -> str:
        return '/'.join(values) if values else 'unknown'

    lines = ['Provenance:', f'- git: {joined(prov.get("git", []))}']
    if prov.get('protocol_versions'):
        lines.append('- protocols: ' + ', '.join(
            f'{p} v{joined(v)}' for p, v in prov['protocol_versions'].items()))
    for key in ('device', 'python'):
        if prov.get(key):
            lines.append(f'- {key}: {joined(prov[key])}')
    if prov.get('packages'):
        lines.append('- packages: ' + ', '.join(
            f'{k} {joined(v)}' for k, v in prov['packages'].items()))
    return lines


def write_leaderboard(results_dir: str | Path, suite: str,
                      method_order: Sequence[str] | None = None,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate the records under ``results_dir`` and write leaderboard.json and .md.

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
    return leaderboard


def _check_finite(rows: list[dict[str, Any]]) -> None:
    """Warn about NaN/inf metrics (JSON would hold non-standard NaN tokens)."""
    for row in rows:
        if not all(math.isfinite(v) for v in row['values']):
            warnings.warn(f'Non-finite {row["metric"]} for {row["method"]}/{row["protocol"]}: '
                          f'{row["values"]}', stacklevel=3)
