"""Accuracy regression check: compare a results directory with a stored reference.

``vssl-bench check RESULTS_DIR [--reference results/reference/<suite>.json]`` compares every
(method, protocol, metric) cell of ``RESULTS_DIR/leaderboard.json`` (or, without it, of the run
records under ``RESULTS_DIR/runs``) with the reference and prints reference, now, difference,
tolerance and verdict per cell. Exit status: 0 when every reference cell is present and none
fell below its reference by more than its tolerance, 1 otherwise, 2 for unusable input.

``vssl-bench check SOURCE [SOURCE ...] --write-reference [--k K] [--floor F]``
creates or replaces the reference from one or several sources of the same suite, each a
results directory (e.g. the same suite run twice, or with other seeds) or an existing reference
file (its stored per-seed values, e.g. those measured on another machine): the per-seed values
of a cell are pooled over all sources, so the spread measured covers seeds, run-to-run noise
and, when the sources come from several machines, the differences between their kernels. Each
source's git revisions, device (CPU model and instruction set, or GPU) and precision are kept
in ``sources``; the check prints a note when the results come from a device or precision that
no source was measured on, since the tolerances then do not cover it.

``--write-reference --replace-protocols P[,P]``: when one protocol changed (a new version), only
its cells move: the cells of the named protocols are rebuilt from the sources (results
directories), every other cell and source of the existing reference file is kept, and the new
sources say which protocols they measured (``protocols``).

Reference file (JSON, sorted keys, no timestamps; written atomically)::

    {"format": "vssl-bench-reference/1", "suite": "synthmotion",
     "tolerance_rule": {"k": 2.0, "floor": 1.0, "units": "percentage points",
                        "rule": "tolerance = max(k * std, floor)"},
     "sources": [{"results_dir": "results/synthmotion", "git": [...],
                  "device": ["cpu: AMD EPYC (AVX512), 2 threads"], "precision": ["float32"]}],
     "cells": [{"method": "CVRL", "protocol": "linear", "metric": "top1",
                "mean": 53.0, "std": 3.6, "n": 3, "values": [50.0, 52.0, 57.0],
                "tolerance": 7.2}]}

Metrics are in percent and differences, std and tolerances in percentage points. ``std`` is the
sample standard deviation (ddof=1) of the pooled per-seed values (0.0 for one value), and a
cell's tolerance is ``max(k * std, floor)``: a drop larger than k standard deviations of the
measured spread is a regression, and ``floor`` keeps a cell measured with one seed (or with
identical values) from failing on rounding-level noise. The defaults k = 2 and floor = 1 point
are stored in the file, and kept when the reference is rewritten unless ``--k``/``--floor`` are
given. The check uses the rule with the file's k and floor (the per-cell ``tolerance`` is
stored for readers).

Verdicts: ``ok`` (within tolerance), ``REGRESSION`` (now < reference - tolerance, or not
finite), ``improved`` (now > reference + tolerance; passes, and the command that updates the
reference is printed), ``missing`` (a reference cell absent from the results; fails), ``new``
(a cell the reference lacks; passes, listed).
"""
from __future__ import annotations

import math
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.report.aggregate import aggregate, load_records, records_provenance

FORMAT = 'vssl-bench-reference/1'
DEFAULT_K = 2.0
DEFAULT_FLOOR = 1.0  # percentage points
RULE = 'tolerance = max(k * std, floor)'
FAILING = ('REGRESSION', 'missing')

Key = tuple[str, str, str]


def default_reference(suite: str) -> Path:
    """``results/reference/<suite>.json`` (relative to the working directory)."""
    return Path('results', 'reference', f'{suite}.json')


def load_results(results_dir: str | Path) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(suite, rows, provenance) of a results directory.

    Reads ``leaderboard.json`` when present; otherwise aggregates the run records under
    ``runs/`` (suite = the records' suite, else the directory name).
    """
    results = Path(results_dir)
    board = results / 'leaderboard.json'
    if board.is_file():
        data = read_json(board)
        if not isinstance(data, dict) or not isinstance(data.get('rows'), list):
            raise UserError(f'{board} is not a leaderboard (no "rows" list); rebuild it with '
                            f'`vssl-bench leaderboard {results}`')
        return str(data.get('suite', results.name)), data['rows'], data.get('provenance', {})
    if (results / 'runs').is_dir():
        records = load_records(results)
        suites = sorted({r.suite for r in records if r.suite is not None})
        if len(suites) > 1:
            raise UserError(f'Run records under {results / "runs"} mix suites {suites}; '
                            f'build the leaderboard with `vssl-bench leaderboard {results}`')
        return ((suites[0] if suites else results.name), aggregate(records),
                records_provenance(records))
    raise FileNotFoundError(f'No leaderboard.json and no runs/ in {str(results)!r}: run a suite '
                            f'there first (vssl-bench run configs/suites/<suite>.py --out '
                            f'{results})')


def tolerance(std: float, k: float, floor: float) -> float:
    """``max(k * std, floor)`` in percentage points."""
    return max(k * std, floor)


def load_source(source: str | Path) -> tuple[str, dict[Key, list[float]], list[dict[str, Any]]]:
    """(suite, per-seed values per cell, source entries) of one ``--write-reference`` source.

    A file is read as a reference (its cells' stored ``values`` and its own ``sources``); a
    directory as results (:func:`load_results`), described by its path, git revisions, device
    and precision.
    """
    path = Path(source)
    if path.is_file():
        ref = load_reference(path)
        values = {(str(c['method']), str(c['protocol']), str(c['metric'])):
                  [float(v) for v in (c.get('values') or [c['mean']])] for c in ref['cells']}
        return str(ref['suite']), values, [dict(s) for s in ref.get('sources', [])]
    suite, rows, prov = load_results(path)
    values = {}
    for row in rows:
        key = (str(row['method']), str(row['protocol']), str(row['metric']))
        values.setdefault(key, []).extend(float(v) for v in (row.get('values') or [row['mean']]))
    return suite, values, [{'results_dir': str(source), 'suite': suite,
                            'git': prov.get('git', []), 'device': prov.get('device', []),
                            'precision': prov.get('precision', [])}]


def build_reference(sources: Sequence[str | Path], k: float = DEFAULT_K,
                    floor: float = DEFAULT_FLOOR) -> dict[str, Any]:
    """Reference dict from one or more results directories or reference files of one suite
    (see module doc)."""
    if not sources:
        raise UserError('build_reference needs at least one results directory or reference '
                        'file')
    if not (k >= 0 and floor >= 0 and math.isfinite(k) and math.isfinite(floor)):
        raise UserError(f'k and floor must be finite and >= 0, got k={k}, floor={floor}')
    pooled: dict[Key, list[float]] = {}
    suites, entries = [], []
    for source in sources:
        suite, values, described = load_source(source)
        suites.append(suite)
        entries.extend(described)
        for key, vals in values.items():
            pooled.setdefault(key, []).extend(vals)
    if len(set(suites)) > 1:
        raise UserError(f'Sources {list(map(str, sources))} hold different suites {suites}; '
                        f'a reference covers one suite')
    cells = []
    for (method, protocol, metric), values in pooled.items():  # first source's row order
        vals = np.array(values, dtype=np.float64)
        if not np.isfinite(vals).all():
            raise UserError(f'Non-finite {metric} of {method}/{protocol} in the results: '
                            f'{values}; a reference needs finite values')
        std = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        cells.append({'method': method, 'protocol': protocol, 'metric': metric,
                      'mean': float(vals.mean()), 'std': std, 'n': len(vals),
                      'values': vals.tolist(), 'tolerance': tolerance(std, k, floor)})
    return {'format': FORMAT, 'suite': suites[0],
            'tolerance_rule': {'k': k, 'floor': floor, 'units': 'percentage points',
                               'rule': RULE},
            'sources': entries, 'cells': cells}


def replace_protocols(existing: dict[str, Any], new: dict[str, Any],
                      protocols: Sequence[str]) -> dict[str, Any]:
    """``existing`` with the cells of ``protocols`` taken from ``new`` (a reference built from the
    new sources with the same rule): cells in the existing order, replaced in place, new keys
    appended; other protocols' cells and every existing source kept; the new sources marked
    with the protocols they measured."""
    if new['suite'] != existing['suite']:
        raise UserError(f'The sources hold suite {new["suite"]!r}, the reference suite '
                        f'{existing["suite"]!r}')
    fresh = {(c['method'], c['protocol'], c['metric']): c for c in new['cells']
             if c['protocol'] in protocols}
    absent = sorted(set(protocols) - {key[1] for key in fresh})
    if absent:
        raise UserError(f'--replace-protocols {",".join(absent)}: no such cells in the sources; '
                        f'they hold {sorted({c["protocol"] for c in new["cells"]})}')
    cells = [fresh.pop((c['method'], c['protocol'], c['metric']), c) for c in existing['cells']
             if c['protocol'] not in protocols
             or (c['method'], c['protocol'], c['metric']) in fresh]
    cells += list(fresh.values())
    old = existing.get('sources', [])  # an existing reference pooled as a source: not twice
    sources = old + [dict(s, protocols=sorted(protocols)) for s in new['sources'] if s not in old]
    return dict(existing, cells=cells, sources=sources)


def unmeasured_machine(reference: dict[str, Any], provenance: dict[str, Any]) -> str | None:
    """A note when the results' device or precision is not among the reference sources' (the
    tolerances then do not cover that machine), else None. Sources that did not record a
    device or precision (references written before they were kept) are listed as such."""
    notes = []
    for field in ('device', 'precision'):
        now = sorted(set(provenance.get(field) or []))
        seen = {str(v) for s in reference.get('sources', []) for v in (s.get(field) or [])}
        unrecorded = sum(not s.get(field) for s in reference.get('sources', []))
        if now and not set(now) <= seen:
            known = ', '.join(sorted(seen)) or 'none recorded'
            if unrecorded:
                known += f'; {unrecorded} source(s) did not record it'
            notes.append(f'{field} {", ".join(now)} (reference: {known})')
    if not notes:
        return None
    return ('note: these results come from a ' + ' and '.join(notes) + '; the tolerances '
            'measure the spread of the reference sources only. If this machine is where the '
            'check will run, pool its runs into the reference (results/reference/README.md).')


def load_reference(path: str | Path) -> dict[str, Any]:
    """Read and validate a reference file."""
    path = Path(path)
    if not path.is_file():
        known = sorted(str(p) for p in path.parent.glob('*.json')) if path.parent.is_dir() else []
        there = f'references there: {", ".join(known)}' if known else 'no reference beside it'
        raise FileNotFoundError(
            f'Reference {str(path)!r} not found ({there}): pass one with --reference, or '
            f'create it from trusted results with '
            f'`vssl-bench check RESULTS_DIR --reference {path} --write-reference`')
    ref = read_json(path)
    if not isinstance(ref, dict) or ref.get('format') != FORMAT or \
            not isinstance(ref.get('cells'), list) or 'tolerance_rule' not in ref:
        raise UserError(f'{path} is not a {FORMAT} reference file; recreate it with '
                        f'`vssl-bench check RESULTS_DIR --reference {path} --write-reference`')
    return ref


def compare(reference: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One verdict per cell: ``{method, protocol, metric, reference, now, diff, tolerance,
    verdict}`` (percent / percentage points; None where a side is absent). Reference cells
    first, in file order, then new cells."""
    k = float(reference['tolerance_rule']['k'])
    floor = float(reference['tolerance_rule']['floor'])
    now = {(str(r['method']), str(r['protocol']), str(r['metric'])): float(r['mean'])
           for r in rows}
    out, seen = [], set()
    for cell in reference['cells']:
        key = (cell['method'], cell['protocol'], cell['metric'])
        seen.add(key)
        tol = tolerance(float(cell['std']), k, floor)
        entry = {'method': key[0], 'protocol': key[1], 'metric': key[2],
                 'reference': float(cell['mean']), 'now': now.get(key), 'diff': None,
                 'tolerance': tol}
        if key not in now:
            entry['verdict'] = 'missing'
        else:
            diff = now[key] - entry['reference']
            entry['diff'] = diff
            if not math.isfinite(diff) or diff < -tol:
                entry['verdict'] = 'REGRESSION'
            else:
                entry['verdict'] = 'improved' if diff > tol else 'ok'
        out.append(entry)
    for key, value in now.items():
        if key not in seen:
            out.append({'method': key[0], 'protocol': key[1], 'metric': key[2],
                        'reference': None, 'now': value, 'diff': None, 'tolerance': None,
                        'verdict': 'new'})
    return out


def format_report(verdicts: Sequence[dict[str, Any]]) -> str:
    """tabulate table of the verdicts (two decimals; '—' where absent)."""
    def num(value: float | None, sign: bool = False) -> str:
        return '—' if value is None else (f'{value:+.2f}' if sign else f'{value:.2f}')

    table = [[v['method'], v['protocol'], v['metric'], num(v['reference']), num(v['now']),
              num(v['diff'], sign=True), num(v['tolerance']), v['verdict']] for v in verdicts]
    return tabulate(table, headers=['method', 'protocol', 'metric', 'reference', 'now',
                                    'diff', 'tolerance', 'verdict'],
                    tablefmt='github', disable_numparse=True)


def run_check(results_dirs: Sequence[str], reference: str | None = None,
              write_reference: bool = False, k: float | None = None,
              floor: float | None = None, replace: Sequence[str] | None = None) -> int:
    """The ``vssl-bench check`` command; returns the exit status (see module doc)."""
    if replace is not None and not write_reference:
        raise UserError('--replace-protocols rewrites part of a reference: add --write-reference')
    if write_reference:
        if reference is None:
            reference = str(default_reference(load_source(results_dirs[0])[0]))
        old = None  # k and floor of the reference being replaced, kept by default
        if Path(reference).is_file():
            try:
                old = load_reference(reference)['tolerance_rule']
            except (ValueError, KeyError):
                old = None
        k = k if k is not None else float(old['k']) if old else DEFAULT_K
        floor = floor if floor is not None else float(old['floor']) if old else DEFAULT_FLOOR
        ref = build_reference(results_dirs, k=k, floor=floor)
        if replace is not None:
            if not replace or not Path(reference).is_file():
                raise UserError(f'--replace-protocols needs protocol names and an existing '
                                f'reference file (got {",".join(replace) or "none"} and '
                                f'{reference})')
            ref = replace_protocols(load_reference(reference), ref, replace)
        atomic_write_json(reference, ref)
        print(f'Wrote reference {reference}: {len(ref["cells"])} cells of suite '
              f'{ref["suite"]!r} from {len(results_dirs)} source(s); {RULE} with k={k}, '
              f'floor={floor} percentage points')
        return 0
    if len(results_dirs) != 1:
        raise UserError(f'check compares one RESULTS_DIR, got {len(results_dirs)}; several '
                        f'are only for --write-reference')
    if k is not None or floor is not None:
        raise UserError('--k and --floor apply to --write-reference; the check uses the '
                        "reference file's own k and floor")
    results_dir = results_dirs[0]
    suite, rows, prov = load_results(results_dir)
    reference = reference or str(default_reference(suite))
    ref = load_reference(reference)
    if ref['suite'] != suite:
        raise UserError(f'Reference {reference} is of suite {ref["suite"]!r} but '
                        f'{results_dir} holds suite {suite!r}; pass --reference '
                        f'{default_reference(suite)}')
    verdicts = compare(ref, rows)
    print(f'Check of {results_dir} (suite {suite!r}) against {reference}; {RULE} with '
          f'k={ref["tolerance_rule"]["k"]}, floor={ref["tolerance_rule"]["floor"]} points')
    print(format_report(verdicts))
    note = unmeasured_machine(ref, prov)
    if note:
        print(note)
    counts = {name: sum(v['verdict'] == name for v in verdicts)
              for name in ('ok', 'improved', 'new', 'REGRESSION', 'missing')}
    print(', '.join(f'{n} {name}' for name, n in counts.items()))
    if counts['improved']:
        cmd = ' '.join(shlex.quote(a) for a in ['vssl-bench', 'check', str(results_dir),
                                                '--reference', str(reference),
                                                '--write-reference'])
        print(f'{counts["improved"]} cell(s) improved beyond tolerance. If the improvement is '
              f'intended, update the reference with:\n  {cmd}\n(list further results '
              f'dirs of the suite, or the reference file itself, after the first to pool '
              f'their values too)')
    failed = counts['REGRESSION'] + counts['missing']
    if failed:
        print(f'FAILED: {counts["REGRESSION"]} regression(s), {counts["missing"]} missing '
              f'cell(s)', file=sys.stderr)
        return 1
    return 0
