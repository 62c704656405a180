"""Does a paper's ablation direction hold here? Verdicts of an ablation suite's variants against
its full method, from the same run records and statistics as the leaderboard.

A suite declares what the paper found (``configs/suites/cvrl_ablations.py``)::

    ablation = dict(reference='CVRL', claims=[
        dict(variant='CVRL-per-frame-aug', expect='below', paper='...'), ...])

``expect='below'``: the paper found the variant worse than the full method (``'above'``:
better). For every claim and every headline column the table holds the difference of means
variant - reference with its 95 % interval (the leaderboard's test over seeds and the same test
videos, :mod:`vssl_bench.report.leaderboard_stats`; Welch t over the seed means without per-video
outcomes), its p-value corrected for multiple comparisons over every cell of the table (the
leaderboard's correction) and a verdict: ``holds`` (significant after correction, on the paper's
side), ``opposite`` (significant, on the other side), ``n.s.`` (not significant after correction)
or ``n/a`` (a row is missing, or a side has a single seed). A claim's overall verdict:
``holds`` / ``opposite`` when some column says so and none says the other, ``mixed`` when both
occur, ``not shown`` when every column is n.s., ``pending`` while a row is missing.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vssl_bench.core.records import RunRecord
from vssl_bench.report.aggregate import collect
from vssl_bench.report.leaderboard_stats import CORRECTION, CORRECTION_NAMES, LEVEL, difference
from vssl_bench.report.stats import adjust_pvalues


def verdicts(records: Iterable[RunRecord], spec: dict[str, Any],
             columns: Sequence[tuple[str, str, str]],
             correction: str = CORRECTION) -> list[dict[str, Any]]:
    """One entry per claim of ``spec`` (:func:`vssl_bench.harness.ablation_spec.check_spec`):
    ``{variant, reference, expect, paper, verdict, cells}``, ``cells`` one per column (title,
    protocol, metric) that the records hold: ``{column, protocol, metric, variant_mean,
    reference_mean, diff, ci_low, ci_high, p, p_adj, verdict}`` (module doc; numbers in percent
    points, None where n/a)."""
    rows, outcomes = collect(records)
    by_key = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    present = [c for c in columns if any((r['protocol'], r['metric']) == c[1:] for r in rows)]
    out = []
    for claim in spec['claims']:
        cells = [_cell(by_key.get((claim['variant'], protocol, metric)),
                       by_key.get((spec['reference'], protocol, metric)), claim['expect'],
                       outcomes, dict(column=title, protocol=protocol, metric=metric))
                 for title, protocol, metric in present]
        out.append(dict(variant=claim['variant'], reference=spec['reference'],
                        expect=claim['expect'], paper=claim['paper'], cells=cells))
    tested = [c for entry in out for c in entry['cells'] if c['p'] is not None]
    for c, p_adj in zip(tested, adjust_pvalues([c['p'] for c in tested], correction)):
        c['p_adj'] = round(float(p_adj), 4)
        if p_adj >= 1.0 - LEVEL:
            c['verdict'] = 'n.s.'
    for entry in out:
        entry['verdict'] = overall([c['verdict'] for c in entry['cells']])
    return out


def _cell(row: dict[str, Any] | None, ref: dict[str, Any] | None, expect: str,
          outcomes: dict, where: dict[str, str]) -> dict[str, Any]:
    empty = dict(where, variant_mean=None, reference_mean=None, diff=None, ci_low=None,
                 ci_high=None, p=None, p_adj=None, verdict='n/a')
    if row is None or ref is None:
        return empty
    cell = dict(empty, variant_mean=round(row['mean'], 4), reference_mean=round(ref['mean'], 4),
                diff=round(row['mean'] - ref['mean'], 4))
    interval = difference(row, ref, outcomes)
    if interval is None:
        return cell
    if interval.contains(0.0):
        verdict = 'n.s.'
    else:
        verdict = 'holds' if (interval.high < 0) == (expect == 'below') else 'opposite'
    return dict(cell, ci_low=round(interval.low, 4), ci_high=round(interval.high, 4),
                p=round(interval.p, 4), verdict=verdict)


def overall(cells: Sequence[str]) -> str:
    """A claim's verdict from its columns' (module doc)."""
    if not cells or 'n/a' in cells:
        return 'pending'
    holds, opposite = 'holds' in cells, 'opposite' in cells
    if holds and opposite:
        return 'mixed'
    return 'holds' if holds else 'opposite' if opposite else 'not shown'


def table(entries: Sequence[dict[str, Any]]) -> str:
    """Markdown: one row per claim, ``diff [low, high] verdict`` per column, then the papers'
    statements."""
    if not entries:
        return ''
    titles = [c['column'] for c in entries[0]['cells']]
    lines = ['| variant vs ' + entries[0]['reference'] + ' | paper: variant is | '
             + ' | '.join(f'Δ {t}' for t in titles) + ' | verdict |',
             '|' + '---|' * (len(titles) + 3)]
    for e in entries:
        lines.append(f'| {e["variant"]} | {e["expect"]} | '
                     + ' | '.join(_diff_text(c) for c in e['cells']) + f' | **{e["verdict"]}** |')
    lines += ['', 'Δ: variant minus reference, percent points, with the 95 % interval of the '
              'difference (t over run-to-run and test-video variance, paired over the same test '
              f'videos); holds / opposite: significant after {CORRECTION_NAMES[CORRECTION]}\'s '
              'correction over every cell of this table, on the paper\'s side / on the other '
              'side; n.s.: not significant after correction (the interval is uncorrected).', '']
    lines += [f'- {e["variant"]}: {e["paper"]}' for e in entries]
    return '\n'.join(lines) + '\n'


def _diff_text(cell: dict[str, Any]) -> str:
    if cell['diff'] is None:
        return 'n/a'
    if cell['ci_low'] is None:
        return f'{cell["diff"]:+.1f} (no interval)'
    return f'{cell["diff"]:+.1f} [{cell["ci_low"]:+.1f}, {cell["ci_high"]:+.1f}] {cell["verdict"]}'
