"""The result tables and verdicts of ``results/README.md``, generated from committed leaderboards
(the project README states no result itself and links there).

Every number that file states about results sits between ``<!-- results:SUITE -->`` and
``<!-- /results -->`` markers and is rendered here from ``results/SUITE/leaderboard.json``:
a headline table (95 % intervals and significance marks as in the leaderboard) and one verdict
line per method that names only the differences from RandomInit that the leaderboard marks as
significant. A budget curve sits between ``<!-- budget:SUITE -->`` and ``<!-- /budget -->``,
rendered from ``results/SUITE/budget_curve.json`` (its points and where each method leaves the
untrained level, see :func:`vssl_bench.report.budget_curve.take_off`). An ablation suite's verdicts
on the papers' directions sit between ``<!-- ablation:SUITE -->`` and ``<!-- /ablation -->``,
rendered from the ``ablation_verdicts`` of its ``leaderboard.json``
(:mod:`vssl_bench.report.ablation`), with the number of seeds each variant holds; whether a suite
meets the project's accuracy targets between ``<!-- targets:SUITE -->`` and ``<!-- /targets -->``
(:mod:`tools.readme_targets`); where two results folders of one suite (another machine,
precision or seeds) reach the same verdicts between ``<!-- agreement:A,B -->`` and
``<!-- /agreement -->``; a suite family's tables and rank agreement between
``<!-- family:FOLDER -->`` and ``<!-- /family -->``, from its ``family.json``
(:mod:`vssl_bench.report.family_report`). ``python -m
tools.readme_results --check`` fails when the file and the committed leaderboards disagree
(tests/test_readme_results.py runs it); ``--write`` rewrites the blocks.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from tools.readme_targets import render_targets
from vssl_bench.core.names import BASELINE
from vssl_bench.core.records import RunRecord
from vssl_bench.report.ablation import table as ablation_table
from vssl_bench.report.budget_curve import seed_list
from vssl_bench.report.family_report import render_family
from vssl_bench.report.table_helpers import table_warnings

#: Verdict sides that name no direction (not significant, not tested, not searched).
NO_VERDICT = ('unclear', 'untested', 'unsearched')
#: (protocol, metric, column title) of the headline table and verdicts.
HEADLINE = (('linear', 'top1', 'linear top-1'), ('knn', 'top1', 'kNN top-1'),
            ('retrieval', 'R@1', 'R@1'), ('semisup', 'top1_10pct', 'semisup 10 %'),
            ('finetune', 'top1', 'finetune top-1'))
BLOCK = re.compile(r'(<!-- (?P<kind>results|budget|ablation|targets|agreement|family):'
                   r'(?P<suite>[\w.,-]+) -->\n)'
                   r'(?P<body>.*?)(<!-- /(?P=kind) -->)', re.S)
#: (protocol, metric, column title) of the budget-curve table: the frozen-feature headlines.
CURVE = HEADLINE[:3]


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return '-'
    text = f'{row["mean"]:.1f}'
    if row.get('ci_low') is not None:
        text += f' [{row["ci_low"]:.1f}, {row["ci_high"]:.1f}]'
    marks = ('†' if row.get('sig_vs_random_init') is False else '') + (
        '‡' if row.get('sig_vs_best') is False else '')
    return text + (f' {marks}' if marks else '')


def verdict(rows: dict[tuple, dict[str, Any]], method: str, protocol: str,
            metric: str) -> tuple[str, float] | None:
    """('above' | 'below' | 'unclear' | 'untested' | 'unsearched', mean - RandomInit's mean) of
    one leaderboard cell, by the leaderboard's significance mark ('untested': fewer than 3 seeds
    on either side; 'unsearched': fine-tuning records without the search on validation, see
    :func:`vssl_bench.report.aggregate.not_searched`); None without the cell or RandomInit's."""
    row, base = rows.get((method, protocol, metric)), rows.get((BASELINE, protocol, metric))
    if row is None or base is None:
        return None
    diff = row['mean'] - base['mean']
    if row.get('unsearched') or base.get('unsearched'):
        return 'unsearched', diff  # fine-tuned on one fixed schedule: no verdict
    if row.get('sig_vs_random_init') is None:
        return 'untested', diff
    if not row['sig_vs_random_init']:
        return 'unclear', diff
    return ('above' if diff > 0 else 'below'), diff


def render(board: dict[str, Any], results_path: str, runs_root: Path | None = None) -> str:
    """Markdown of one suite's headline table and verdicts (see module doc); with ``runs_root``
    (the suite's ``runs/`` folder) the time its checkpoints' pretraining took."""
    rows = {(r['method'], r['protocol'], r['metric']): r for r in board['rows']}
    methods = list(dict.fromkeys(r['method'] for r in board['rows']))
    # the headline columns the suite has (frozen-feature suites have no fine-tuning)
    columns = [(p, m, t) for p, m, t in HEADLINE if any(k[1:] == (p, m) for k in rows)]
    lines = ['| method | seeds | TFLOPs | ' + ' | '.join(t for _, _, t in columns) + ' |',
             '|---' * (len(columns) + 3) + '|']
    for method in methods:
        first = next(r for r in board['rows'] if r['method'] == method)
        tflops = (first.get('compute') or {}).get('train_tflops')
        lines.append(f'| {method} | {",".join(map(str, first.get("seeds", [])))} | '
                     f'{"-" if not tflops else f"{tflops:.1f}"} | ' + ' | '.join(
                         _cell(rows.get((method, p, m))) for p, m, _ in columns) + ' |')
    lines += ['', f'Percent; mean over each method\'s seeds [95 % interval]; †: not '
              f'distinguishable from {BASELINE}, ‡: not distinguishable from the best of the '
              f'column, after correction for multiple comparisons (from `{results_path}`).'
              + _time_sentence([runs_root] if runs_root else []), '']
    for warning in table_warnings(board['rows']):
        lines += [warning, '']
    for method in methods:
        if method == BASELINE:
            continue
        found = {}
        for protocol, metric, title in columns:
            cell = verdict(rows, method, protocol, metric)
            if cell is not None:
                side, diff = cell
                found.setdefault(side, []).append(
                    title if side in NO_VERDICT else f'{title} {diff:+.1f}')
        parts = []  # the baseline is named once, in the first part, then 'it'
        seeds = min((r.get('n', 1) for k, r in rows.items() if k[0] in (method, BASELINE)),
                    default=1)
        few = 'one seed' if seeds <= 1 else f'{seeds} seeds'
        for side, words in (('above', 'significantly above'), ('below', 'significantly below'),
                            ('unclear', 'not distinguishable from'),
                            ('untested', f'{few}, not tested against'),
                            ('unsearched', 'not searched to convergence, no verdict against')):
            if found.get(side):
                parts.append(f'{words} {"it" if parts else BASELINE} on '
                             + ', '.join(found[side]))
        lines.append(f'- **{method}**: ' + ('; '.join(parts) or 'no comparison') + '.')
    return '\n'.join(lines) + '\n'


def _time_sentence(runs_roots: list[Path], what: str = "Its checkpoints' pretraining") -> str:
    """' <what>: ...' from the records' wall seconds under the ``runs_roots`` (one per trained
    (folder, method, seed)), or '' when nothing there was trained."""
    walls: dict[tuple[Path, str, int], set[float]] = {}
    for root in runs_roots:
        for path in sorted(root.glob('*/seed*/*.json')):
            record = RunRecord.from_dict(json.loads(path.read_text()), where=str(path))
            stats = record.pretrain or {}
            if stats.get('wall_s') and not stats.get('untrained'):
                walls.setdefault((root, record.method, record.seed), set()).add(
                    float(stats['wall_s']))
    if not walls:
        return ''
    # A run trained again (to re-derive some of its protocols) carries more than one pretraining
    # block in its records; the shortest, which lost least to other work sharing the CPU, is the
    # one that says what its pretraining costs.
    minutes = sorted(min(w) / 60.0 for w in walls.values())
    again = sum(len(w) > 1 for w in walls.values())
    retrained = (f' runs whose records carry more than one pretraining: {again}, each counted by '
                 'its shortest;' if again else '')
    return (f' {what}: {len(walls)} trained (method, seed) runs, median '
            f'{statistics.median(minutes):.1f} minutes each by the records\' wall seconds '
            f'(from {minutes[0]:.1f} to {minutes[-1]:.1f}; {sum(minutes) / 60.0:.1f} h in all;'
            f'{retrained} wall seconds count any other work that shared the CPU and any pause; '
            'the records\' provenance names the machine).')


def render_curve(curve: dict[str, Any], results_path: str,
                 scaled_runs: list[Path] | None = None) -> str:
    """Markdown of a budget curve (``budget_curve.json``): the frozen-feature headlines of every
    (method, budget) and, per method, the budget from which it is significantly above RandomInit;
    with ``scaled_runs`` (the run folders of the budgets other than 1x, whose weights the curve
    trained itself) the time those pretrainings took by their records."""
    points = {(p['method'], p['scale'], p['protocol'], p['metric']): p for p in curve['points']}
    methods = list(dict.fromkeys(p['method'] for p in curve['points']))
    lines = ['| method | budget | TFLOPs | seeds | ' + ' | '.join(t for _, _, t in CURVE) + ' |',
             '|---' * (len(CURVE) + 4) + '|']
    for method in methods:
        for scale in sorted({p['scale'] for p in curve['points'] if p['method'] == method}):
            cells = [points.get((method, scale, p, m)) for p, m, _ in CURVE]
            first = next(c for c in cells if c is not None)
            lines.append(f'| {method} | {scale:g}x | {first["train_tflops"]:.1f} | '
                         f'{seed_list(first)} | '
                         + ' | '.join(_point(c) for c in cells) + ' |')
    bands = ', '.join(f'{t} {b["mean"]:.1f} [{b["low"]:.1f}, {b["high"]:.1f}]'
                      for p, m, t in CURVE for b in curve['bands']
                      if (b['protocol'], b['metric']) == (p, m))
    lines += ['', 'Percent [95 % interval]; † not distinguishable from RandomInit at that budget '
              f'(from `{results_path}`).'
              + (f' Untrained level (RandomInit, all budgets): {bands}.' if bands else '')
              + _time_sentence(scaled_runs or [], 'Its pretrainings at budgets other than 1x (1x '
                               'is the standard suite\'s weights)'), '']
    take_off = {(t['method'], t['protocol'], t['metric']): t for t in curve['take_off']}
    for method in methods:
        left, stayed = [], {}  # stayed: the largest budget tried -> titles still at the level
        untested = []
        for protocol, metric, title in CURVE:
            t = take_off.get((method, protocol, metric))
            if t is None:
                continue
            if t.get('untested'):
                untested.append(title)
            elif t['scale'] is not None:
                left.append(f'{title} from {t["scale"]:g}x ({t["train_tflops"]:.1f} TFLOPs)')
            else:
                stayed.setdefault(max(t['scales']), []).append(title)
        not_left = '; '.join(f'{", ".join(titles)} not by {scale:g}x'
                             for scale, titles in stayed.items())
        if left:
            text = 'leaves the untrained level on ' + ', '.join(left) + (
                f'; {not_left}' if not_left else '')
        elif not_left:
            text = 'does not leave the untrained level: ' + not_left
        else:
            text = ''
        if untested:
            text += ('; ' if text else '') + (
                'one seed at some budget: where it leaves the untrained level is not tested on '
                + ', '.join(untested))
        lines.append(f'- **{method}** {text}.')
    return '\n'.join(lines) + '\n'


def _point(point: dict[str, Any] | None) -> str:
    if point is None:
        return '-'
    mark = ' †' if point.get('sig_vs_random_init') is False else ''
    return f'{point["mean"]:.1f} [{point["low"]:.1f}, {point["high"]:.1f}]{mark}'


def render_ablation(board: dict[str, Any], results_path: str) -> str:
    """Markdown of an ablation suite's verdicts (:func:`vssl_bench.report.ablation.table`) and the
    seeds behind each of its rows."""
    entries = board.get('ablation_verdicts')
    if not entries:
        raise ValueError(f'{results_path} holds no ablation_verdicts: run the ablation suite '
                         '(its config declares ablation=dict(...)) or rebuild its leaderboard')
    seeds: dict[str, list[int]] = {}
    for row in board['rows']:
        seeds.setdefault(row['method'], row['seeds'])
    counts = ', '.join(f'{m} {len(s)}' for m, s in seeds.items())
    return (ablation_table(entries) + f'\nSeeds per row: {counts}. Generated from '
            f'`{results_path}` by `python -m tools.readme_results --write`.\n')


def render_agreement(boards: dict[str, dict[str, Any]]) -> str:
    """Markdown: where two leaderboards of the same suite (another machine, precision or set of
    seeds) reach the same verdicts against RandomInit. ``boards``: results path -> board. A
    table of each method's difference from RandomInit per headline column in both (†: not
    significant), then the comparisons significant in the same direction in both, in one only,
    and in opposite directions."""
    (path_a, a), (path_b, b) = boards.items()
    rows_a = {(r['method'], r['protocol'], r['metric']): r for r in a['rows']}
    rows_b = {(r['method'], r['protocol'], r['metric']): r for r in b['rows']}
    methods = [m for m in dict.fromkeys(r['method'] for r in a['rows'])
               if m != BASELINE and any(k[0] == m for k in rows_b)]
    columns = [(p, m, t) for p, m, t in HEADLINE
               if any(k[1:] == (p, m) for k in rows_a) and any(k[1:] == (p, m) for k in rows_b)]
    name_a, name_b = (Path(p).parent.name for p in boards)
    lines = ['| method | ' + ' | '.join(t for _, _, t in columns) + ' |',
             '|---' * (len(columns) + 1) + '|']
    groups: dict[str, list[str]] = {'both': [], name_a: [], name_b: [], 'opposite': []}
    compared = 0  # the cells with a verdict on both boards
    for method in methods:
        cells = []
        for protocol, metric, title in columns:
            va, vb = verdict(rows_a, method, protocol, metric), verdict(rows_b, method, protocol,
                                                                         metric)
            if va is None or vb is None:
                cells.append('-')
                continue
            compared += 'unsearched' not in (va[0], vb[0])
            cells.append(' / '.join(f'{d:+.1f}' + {'unclear': ' †', 'untested': ' ?',
                                                    'unsearched': ' *'}.get(v, '')
                                    for v, d in (va, vb)))
            item = f'{method} {title}'
            signs = {va[0], vb[0]} - set(NO_VERDICT)
            if va[0] == vb[0] and signs:
                groups['both'].append(f'{item} ({va[0]})')
            elif len(signs) == 2:
                groups['opposite'].append(item)
            elif va[0] in signs:
                groups[name_a].append(f'{item} ({va[0]})')
            elif vb[0] in signs:
                groups[name_b].append(f'{item} ({vb[0]})')
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    seeds = [','.join(map(str, sorted({s for r in board['rows'] for s in r.get('seeds', [])})))
             for board in (a, b)]
    lines += ['', f'Difference from {BASELINE} in points, `{path_a}` (seeds {seeds[0]}) / '
              f'`{path_b}` (seeds {seeds[1]}); †: not distinguishable from {BASELINE} on that '
              'board; ?: not tested there (fewer than 3 seeds); *: fine-tuned without the search '
              'to convergence there, no verdict.', '',
              f'- Significant in the same direction on both: {len(groups["both"])} of {compared} '
              f'comparisons' + (' with a verdict on both' if compared < len(methods) * len(columns)
                                else '')
              + (': ' + ', '.join(groups['both']) if groups['both'] else '') + '.',
              *(f'- Significant on {name} only: ' + ', '.join(groups[name]) + '.'
                for name in (name_a, name_b) if groups[name]),
              f'- Significant on both in opposite directions: '
              + (', '.join(groups['opposite']) or 'none') + '.']
    return '\n'.join(lines) + '\n'


def rewrite(readme: str, root: Path) -> str:
    """``readme`` with every block rendered afresh from ``root/results/SUITE``: a results,
    ablation or targets block from its ``leaderboard.json``, a budget block from its
    ``budget_curve.json``."""
    def block(match: re.Match) -> str:
        if match['kind'] == 'agreement':
            paths = [f'results/{name}/leaderboard.json' for name in match['suite'].split(',')]
            if len(paths) != 2:
                raise ValueError(f'an agreement block names two results folders, not '
                                 f'{match["suite"]!r}: <!-- agreement:A,B -->')
            body = render_agreement({p: json.loads((root / p).read_text()) for p in paths})
        elif match['kind'] in ('ablation', 'targets'):
            path = f'results/{match["suite"]}/leaderboard.json'
            render_board = render_ablation if match['kind'] == 'ablation' else render_targets
            body = render_board(json.loads((root / path).read_text()), path)
        elif match['kind'] == 'family':
            path = f'results/{match["suite"]}/family.json'
            body = render_family(json.loads((root / path).read_text()), path)
        elif match['kind'] == 'budget':
            path = f'results/{match["suite"]}/budget_curve.json'
            body = render_curve(json.loads((root / path).read_text()), path, sorted(
                (root / f'results/{match["suite"]}/budget_scale').glob('x*/runs')))
        else:
            path = f'results/{match["suite"]}/leaderboard.json'
            body = render(json.loads((root / path).read_text()), path,
                          root / f'results/{match["suite"]}/runs')
        return match.group(1) + body + match.group(5)
    return BLOCK.sub(block, readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--readme', default='results/README.md',
                        help='the markdown file whose blocks are rendered')
    parser.add_argument('--root', default='.',
                        help='the repository root, which holds results/ (default: .)')
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument('--check', action='store_true', help='exit 1 if a block is stale')
    mode.add_argument('--write', action='store_true', help='rewrite the blocks in place')
    args = parser.parse_args(argv)
    path = Path(args.readme)
    text = path.read_text()
    fresh = rewrite(text, Path(args.root).resolve())
    if args.write:
        path.write_text(fresh)
        return 0
    if fresh != text:
        print(f'{path}: result blocks differ from the committed leaderboards; run '
              'python -m tools.readme_results --write', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
