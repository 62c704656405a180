"""CSV and LaTeX leaderboards: parse the CSV back, check LaTeX bolding and escaping."""
from __future__ import annotations

import csv
import math

import pytest

from tests.test_leaderboard import write_records
from vssl_bench.report.leaderboard import write_leaderboard
from vssl_bench.report.leaderboard_formats import format_csv, format_latex, latex_escape


def test_csv_round_trip(tmp_path):
    write_records(tmp_path)
    board = write_leaderboard(tmp_path, 'smoke')
    text = (tmp_path / 'leaderboard.csv').read_text(encoding='utf-8')
    assert text == format_csv(board)
    lines = text.splitlines()
    data = [line for line in lines if not line.startswith('#')]
    footer = lines[len(data):]
    assert footer and all(line.startswith('# ') for line in footer)  # comments only at the end
    parsed = list(csv.DictReader(data))
    assert len(parsed) == len(board['rows'])
    for got, row in zip(parsed, board['rows']):
        assert (got['method'], got['protocol'], got['metric']) == (
            row['method'], row['protocol'], row['metric'])
        assert float(got['mean']) == row['mean'] and float(got['std']) == row['std']
        assert int(got['n']) == row['n']
        assert [int(s) for s in got['seeds'].split(';')] == row['seeds']
        assert [float(v) for v in got['values'].split(';')] == row['values']
    top1 = next(r for r in parsed if r['method'] == 'cvrl' and r['metric'] == 'top1')
    assert float(top1['std']) == pytest.approx(math.sqrt(13.0))
    assert '# suite: smoke' in footer and '# seeds: 0,1,2' in footer
    assert '# git: abc123def456' in footer
    assert any('torch 2.4.1' in line for line in footer)


def test_csv_extra_row_keys_become_columns():
    board = {'suite': 's', 'provenance': {}, 'rows': [
        {'method': 'a', 'protocol': 'linear', 'metric': 'top1', 'mean': 1.5, 'std': 0.0, 'n': 1,
         'seeds': [0], 'values': [1.5], 'budget_s': 30.0}]}
    parsed = list(csv.DictReader(l for l in format_csv(board).splitlines()
                                 if not l.startswith('#')))
    assert parsed[0]['budget_s'] == '30.0'


def board_with_known_best() -> dict:
    def row(method, protocol, metric, mean, half, ci_method='bootstrap', **marks):
        return {'method': method, 'protocol': protocol, 'metric': metric, 'mean': mean,
                'std': 1.0, 'n': 3, 'seeds': [0, 1, 2], 'values': [mean] * 3,
                'ci_low': None if half is None else mean - half,
                'ci_high': None if half is None else mean + half, 'ci_method': ci_method,
                'sig_vs_random_init': None, 'sig_vs_best': None, **marks}
    return {'suite': 'smoke_test', 'provenance': {'git': ['abc'], 'packages': {}}, 'rows': [
        row('CVRL', 'linear', 'top1', 53.0, 3.6056),
        row('CVRL', 'retrieval', 'R@1', 30.0, 1.0, sig_vs_best=False),
        row('my_method & co', 'linear', 'top1', 40.0, 2.0, 't', sig_vs_random_init=False),
        row('my_method & co', 'retrieval', 'R@1', 35.04, 0.5),
        row('Random', 'linear', 'top1', 53.04, None, None)]}  # ties CVRL at one decimal


def test_latex_bold_best_per_column():
    tex = format_latex(board_with_known_best())
    lines = tex.splitlines()
    assert lines.index('\\toprule') < lines.index('\\midrule') < lines.index('\\bottomrule')
    assert 'Method & Seeds & TFLOPs & linear top1 & retrieval R@1 \\\\' in lines
    rows = {line.split(' & ')[0]: line for line in lines if line.endswith('\\\\')}
    # Half-widths of the intervals; marks t (t-interval), dagger / ddagger (not distinguishable
    # from RandomInit / the best); no interval for Random.
    assert rows['CVRL'] == \
        'CVRL & 3 & -- & $\\mathbf{53.0 \\pm 3.6}$ & $30.0 \\pm 1.0^{\\ddagger}$ \\\\'
    assert rows['my\\_method \\& co'] == ('my\\_method \\& co & 3 & -- & '
                                           '$40.0 \\pm 2.0^{t,\\dagger}$ & '
                                           '$\\mathbf{35.0 \\pm 0.5}$ \\\\')
    assert rows['Random'] == 'Random & 3 & -- & $\\mathbf{53.0}$ & -- \\\\'  # tie: bold
    assert '% git: abc' in lines and '% suite: smoke\\_test' in lines
    low = format_latex(board_with_known_best(), lower_is_better={'top1'})
    assert '$\\mathbf{40.0 \\pm 2.0^{t,\\dagger}}$' in low and '$\\mathbf{53.0' not in low


def test_latex_single_method_not_bold_and_escape():
    board = board_with_known_best()
    board['rows'] = board['rows'][:2]
    assert '\\mathbf' not in format_latex(board)
    assert latex_escape('a_b%c$d#e{f}g~h^i\\j&') == (
        'a\\_b\\%c\\$d\\#e\\{f\\}g\\textasciitilde{}h\\textasciicircum{}i\\textbackslash{}j\\&')


def test_write_leaderboard_writes_all_formats(tmp_path):
    write_records(tmp_path)
    write_leaderboard(tmp_path, 'smoke')
    first = {n: (tmp_path / n).read_bytes() for n in ('leaderboard.csv', 'leaderboard.tex')}
    write_leaderboard(tmp_path, 'smoke')
    assert {n: (tmp_path / n).read_bytes() for n in first} == first
    assert b'\\toprule' in first['leaderboard.tex']


def test_cli_leaderboard_writes_every_format(tmp_path):
    from vssl_bench.cli import main
    results = tmp_path / 'smoke'  # without leaderboard.json the suite is the folder's name
    write_records(results)
    assert main(['leaderboard', str(results)]) == 0
    for name in ('leaderboard.json', 'leaderboard.md', 'leaderboard.csv', 'leaderboard.tex'):
        assert (results / name).is_file()
    text = (results / 'leaderboard.csv').read_text()
    assert '# suite: smoke' in text and 'cvrl,linear,top1,53.0,' in text
