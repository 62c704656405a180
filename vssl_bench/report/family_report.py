"""A family's tables (:mod:`vssl_bench.harness.family`): every member's headline numbers side by
side, and how well the data sets rank the methods alike
(:mod:`vssl_bench.report.rank_agreement`), written as ``family.md`` and ``family.json`` into the
family's results folder.

Each member's results folder keeps its own leaderboard (intervals and significance within that
data set); the cells here are copied from those leaderboards. Agreement is measured between the
in-domain rankings of every two data sets and, per data set, between its in-domain ranking and
its ranking after pretraining on each other data set.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from itertools import combinations, product
from pathlib import Path
from typing import Any

from vssl_bench.core.io import atomic_write_json, atomic_write_text, read_json
from vssl_bench.core.names import BASELINE
from vssl_bench.report.aggregate import collect, load_records
from vssl_bench.report.leaderboard_stats import MIN_TEST_SEEDS
from vssl_bench.report.rank_agreement import REPLICATES, Agreement, rank_agreement
from vssl_bench.report.table_helpers import budget_line, cell, number, outdated_warning

#: The metrics compared across data sets: (protocol, metric, title).
HEADLINE = (('linear', 'top1', 'Linear probe top-1'), ('knn', 'top1', 'kNN top-1'),
            ('retrieval', 'R@1', 'Retrieval R@1'))
#: The upper bound and the linear top-1 it must reach on every data set of a family (a budget
#: at which the supervised bound does not learn says nothing about the other methods).
UPPER_BOUND, UPPER_BOUND_MIN = 'Supervised', 60.0
#: The method sets whose rankings are compared: every row, and the self-supervised methods alone
#: (without the two bounds, whose places at the bottom and top agree almost by construction and
#: lift tau).
AMONG = {'all methods': (), 'self-supervised': (BASELINE, UPPER_BOUND)}


def write_family_report(out: Path, family, replicates: int = REPLICATES) -> dict[str, Any]:
    """Read the members' results under ``out`` and write ``family.md`` / ``family.json``;
    ``family``: a :class:`vssl_bench.harness.family.Family` (its name, data sets and members)."""
    out = Path(out)
    members = [dict(source=m.source, target=m.target, folder=m.folder) for m in family.members]
    boards = {m['folder']: read_json(out / m['folder'] / 'leaderboard.json') for m in members}
    outcomes = {m['folder']: collect(load_records(out / m['folder']))[1] for m in members}
    ran = {r['method'] for board in boards.values() for r in board['rows']}
    order = list(boards[members[0]['folder']].get('method_order') or [])
    methods = [m for m in order if m in ran] + sorted(ran - set(order))
    agreement = []
    for protocol, metric, _ in HEADLINE:
        pairs = [(a, b, 'in domain') for a, b in combinations(family.datasets, 2)]
        pairs += [(m['target'], m['folder'], f'pretrained on {m["source"]}')
                  for m in members if m['source'] != m['target']]
        for (a, b, kind), among in product(pairs, AMONG):
            found = _agreement(outcomes[a], outcomes[b], protocol, metric, replicates,
                               exclude=AMONG[among])
            if found is not None:
                entry = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                         for k, v in asdict(found).items()}  # tau of tied scores: undefined
                agreement.append(dict(protocol=protocol, metric=metric, first=a, second=b,
                                      kind=kind, among=among,
                                      **dict(entry, methods=list(found.methods))))
    report = dict(family=family.name, datasets=list(family.datasets), members=members,
                  methods=methods, cells=_cells(boards, members),
                  budgets={d: boards[d].get('pretrain', {}).get('budget') for d in family.datasets},
                  upper_bound=_upper_bound(boards, family.datasets), agreement=agreement,
                  # the same sentence from every member whose board holds them: once
                  outdated=list(dict.fromkeys(filter(None, (outdated_warning(b['rows'])
                                                            for b in boards.values())))),
                  seeds=sorted({s for b in boards.values() for r in b['rows'] for s in r['seeds']}))
    atomic_write_json(out / 'family.json', report)
    atomic_write_text(out / 'family.md', family_markdown(report, boards))
    return report


def _agreement(x: dict, y: dict, protocol: str, metric: str, replicates: int,
               exclude: tuple[str, ...] = ()) -> Agreement | None:
    """Agreement of one metric between two members over the methods not in ``exclude`` (None
    when fewer than 2 of them have per-video outcomes on both)."""
    first = {m: v for (m, p, k), v in x.items() if (p, k) == (protocol, metric)
             and m not in exclude}
    second = {m: v for (m, p, k), v in y.items() if (p, k) == (protocol, metric)
              and m not in exclude}
    if len(set(first) & set(second)) < 2:
        return None
    return rank_agreement(first, second, replicates=replicates)


def _cells(boards: dict, members: Sequence[dict]) -> dict[str, dict[str, dict[str, str]]]:
    """folder -> 'protocol/metric' -> method -> the leaderboard's cell text."""
    out = {}
    for member in members:
        rows = boards[member['folder']]['rows']
        out[member['folder']] = {f'{p}/{k}': {r['method']: cell(r) for r in rows
                                             if (r['protocol'], r['metric']) == (p, k)}
                                 for p, k, _ in HEADLINE}
    return out


def _upper_bound(boards: dict, datasets: Sequence[str]) -> dict[str, Any]:
    """The upper bound's in-domain linear top-1 per data set and whether it reaches the floor."""
    values = {}
    for name in datasets:
        row = next((r for r in boards[name]['rows'] if r['method'] == UPPER_BOUND
                    and (r['protocol'], r['metric']) == ('linear', 'top1')), None)
        values[name] = None if row is None else row['mean']
    known = [v for v in values.values() if v is not None]
    return dict(method=UPPER_BOUND, minimum=UPPER_BOUND_MIN, linear_top1=values,
                learns_everywhere=bool(known) and len(known) == len(values)
                and min(known) >= UPPER_BOUND_MIN)


def _bound_sentence(bound: dict[str, Any]) -> str:
    """'Supervised (the upper bound), linear top-1 in domain: a 95.3, b 92.8; every data set at
    or above 60 %.'"""
    values = ', '.join(f'{d} {number(v)}' for d, v in bound['linear_top1'].items())
    verdict = 'every data set at or above' if bound['learns_everywhere'] else \
        'NOT every data set at'
    return (f'{bound["method"]} (the upper bound), linear top-1 in domain: {values}; {verdict} '
            f'{bound["minimum"]:g} %.')


def _few_seeds_sentence(seeds: int) -> str:
    if seeds == 1:
        return ('One seed: no cell is tested, the intervals cover the test videos only, not '
                'run-to-run variance, and the rank agreement\'s intervals are too narrow for the '
                f'same reason; run {MIN_TEST_SEEDS} or more seeds (`--seeds 0,1,2`) to compare.')
    return (f'{seeds} seeds: too few to test a difference ({MIN_TEST_SEEDS} are needed), so no '
            'cell is marked.')


def _tau(value: float | None) -> str:
    return 'tied' if value is None else f'{value:.2f}'


def _label(folder: str, members: Sequence[dict]) -> str:
    member = next(m for m in members if m['folder'] == folder)
    if member['source'] == member['target']:
        return member['target']
    return f'{member["target"]} ← {member["source"]}'


def family_markdown(report: dict[str, Any], boards: dict[str, dict]) -> str:
    members, datasets = report['members'], report['datasets']
    in_domain = [m['folder'] for m in members if m['source'] == m['target']]
    transfer = [m['folder'] for m in members if m['source'] != m['target']]
    lines = [f'# Family {report["family"]}: {len(datasets)} data sets, '
             f'{len(report["methods"])} methods, seeds {report["seeds"]}', '']
    lines += ['Every method pretrained once per data set at that data set\'s budget, evaluated '
              'on every data set with frozen features (in domain; "B ← A": evaluated on B after '
              'pretraining on A). Each column is a member suite whose own folder holds its '
              'leaderboard (intervals and marks of that column: its legend).', '']
    lines += [f'- {name}: {budget_line(boards[name])}' for name in datasets] + ['']
    lines += [_bound_sentence(report['upper_bound']), '']
    if len(report['seeds']) < MIN_TEST_SEEDS:
        lines += [_few_seeds_sentence(len(report['seeds'])), '']
    for warning in report.get('outdated', []):
        lines += [warning, '']
    for protocol, metric, title in HEADLINE:
        key = f'{protocol}/{metric}'
        folders = in_domain + transfer
        lines += [f'## {title} (%)', '',
                  '| method | ' + ' | '.join(_label(f, members) for f in folders) + ' |',
                  '|---|' + '---:|' * len(folders)]
        for method in report['methods']:
            lines.append(f'| {method} | ' + ' | '.join(
                report['cells'][f][key].get(method, '—') for f in folders) + ' |')
        lines.append('')
    lines += ['## Rank agreement', '',
              "Kendall's tau-b between two rankings of the same methods (1: same order, -1: "
              'reversed, 0: unrelated), with a 95 % percentile bootstrap interval that resamples '
              'the test videos (once per data set, shared by its methods) and each method\'s '
              'seeds, on both sides independently (vssl_bench/report/rank_agreement.py). '
              '"among": every '
              f'method, or the self-supervised ones alone (without {BASELINE} and '
              f'{UPPER_BOUND}, whose places agree almost by construction).', '',
              '| metric | ranking A | ranking B | among | tau-b | 95 % interval | methods |',
              '|---|---|---|---|---:|---|---:|']
    for row in report['agreement']:
        lines.append(f'| {row["protocol"]} {row["metric"]} | {_label(row["first"], members)} | '
                     f'{_label(row["second"], members)} | {row["among"]} | '
                     f'{_tau(row["tau"])} | [{_tau(row["low"])}, {_tau(row["high"])}] | '
                     f'{len(row["methods"])} |')
    lines += ['', 'A row "B | B ← A" compares data set B\'s in-domain ranking with its ranking '
              'after pretraining on A; "tied": a data set scores every method alike, so tau is '
              'undefined (bootstrap replicates where that happens are left out: `valid` in '
              'family.json).', '']
    return '\n'.join(lines)


def render_family(report: dict[str, Any], path: str) -> str:
    """Markdown of a committed family for results/README.md: the in-domain and transfer linear
    top-1 cells, the upper bound's check and the rank agreement of linear top-1, from
    ``family.json`` alone."""
    members = report['members']
    folders = [m['folder'] for m in members if m['source'] == m['target']] + \
        [m['folder'] for m in members if m['source'] != m['target']]
    lines = ['| method | ' + ' | '.join(_label(f, members) for f in folders) + ' |',
             '|---|' + '---:|' * len(folders)]
    for method in report['methods']:
        lines.append(f'| {method} | ' + ' | '.join(
            report['cells'][f]['linear/top1'].get(method, '—') for f in folders) + ' |')
    lines += ['', f'Linear probe top-1 (%), seeds {report["seeds"]}, from `{path}` ("B ← A": '
              'evaluated on B after pretraining on A). ' + _bound_sentence(report['upper_bound']),
              '',
              "| ranking A | ranking B | among | Kendall's tau-b (linear top-1) | 95 % interval |",
              '|---|---|---|---:|---|']
    for row in report['agreement']:
        if (row['protocol'], row['metric']) == ('linear', 'top1'):
            lines.append(f'| {_label(row["first"], members)} | {_label(row["second"], members)} '
                         f'| {row["among"]} ({len(row["methods"])}) | {_tau(row["tau"])} | '
                         f'[{_tau(row["low"])}, {_tau(row["high"])}] |')
    if len(report['seeds']) < MIN_TEST_SEEDS:
        lines += ['', _few_seeds_sentence(len(report['seeds']))]
    for warning in report.get('outdated', []):
        lines += ['', warning]
    return '\n'.join(lines) + '\n'
