"""Ablation verdicts (vssl_bench/report/ablation.py) on records with known answers, the suite's
``ablation`` setting and its refusals, and the README block rendered from them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.readme_results import render_ablation
from vssl_bench.core.errors import ConfigError
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.core.records import RunRecord
from vssl_bench.harness.ablation_spec import check_names, check_spec
from vssl_bench.harness.suite_config import Suite
from vssl_bench.report.ablation import overall, verdicts
from vssl_bench.report.leaderboard import HEADLINE, rebuild_leaderboard, write_leaderboard

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = 40


def hits(correct: int) -> str:
    """Per-video outcomes: the first ``correct`` of VIDEOS test videos right."""
    return '1' * correct + '0' * (VIDEOS - correct)


def record(method: str, seed: int, correct: int | None, top1: float | None = None
           ) -> RunRecord:
    """A linear-probe record; with ``correct`` its per-video hits, else only ``top1``."""
    rec = {'suite': 'abl', 'method': method, 'seed': seed, 'protocol': 'linear',
           'protocol_version': '1', 'config_hash': 'x',
           'metrics': {'top1': 100.0 * correct / VIDEOS if correct is not None else top1}}
    if correct is not None:
        rec['per_video'] = {'top1': hits(correct)}
    return RunRecord.from_dict(rec)


SPEC = dict(reference='Full', claims=[
    dict(variant='Worse', expect='below', paper='the paper finds Worse below Full'),
    dict(variant='Better', expect='below', paper='the paper finds Better below Full'),
    dict(variant='Same', expect='below', paper='the paper finds Same below Full'),
    dict(variant='Missing', expect='below', paper='not run yet'),
    dict(variant='Up', expect='above', paper='the paper finds Up above Full'),
])


def records() -> list[RunRecord]:
    # Three seeds (the fewest the test takes) with the same hits each (no run-to-run variance).
    # Full 30/40 right; Worse 10/40: -50 points, far outside the noise of 40 videos; Better and
    # Up 40/40 (+25, p < 0.001 before Benjamini-Hochberg over the 4 tested cells); Same: the very
    # same hits, a difference of exactly 0.
    return [record(m, seed, correct) for seed in (0, 1, 2) for m, correct in
            (('Full', 30), ('Worse', 10), ('Better', 40), ('Same', 30), ('Up', 40))]


def test_verdicts_on_known_answers():
    out = {e['variant']: e for e in verdicts(records(), SPEC, HEADLINE)}
    worse = out['Worse']['cells']
    assert [c['column'] for c in worse] == ['linear']  # only the columns the records hold
    assert worse[0]['diff'] == pytest.approx(-50.0)
    assert worse[0]['ci_high'] < 0 and worse[0]['verdict'] == 'holds'
    assert out['Worse']['verdict'] == 'holds'
    assert out['Better']['cells'][0]['ci_low'] > 0
    assert out['Better']['verdict'] == 'opposite'
    assert out['Same']['cells'][0]['diff'] == 0.0
    assert out['Same']['cells'][0]['ci_low'] == out['Same']['cells'][0]['ci_high'] == 0.0
    assert out['Same']['verdict'] == 'not shown'
    assert out['Missing']['cells'][0]['verdict'] == 'n/a' and out['Missing']['verdict'] == 'pending'
    assert out['Up']['verdict'] == 'holds'  # better, as the paper expects
    assert out['Worse']['paper'] == 'the paper finds Worse below Full'


def test_verdicts_without_per_video_use_welch_over_seeds():
    # Full 50, 51, 52; Worse 40, 41, 42: Welch interval of -10 is [-12.3, -7.7] (sd 1, n 3, df 4).
    recs = [record('Full', s, None, 50.0 + s) for s in range(3)]
    recs += [record('Worse', s, None, 40.0 + s) for s in range(3)]
    spec = dict(reference='Full', claims=[SPEC['claims'][0]])
    cell = verdicts(recs, spec, HEADLINE)[0]['cells'][0]
    assert cell['diff'] == pytest.approx(-10.0)
    assert cell['ci_low'] == pytest.approx(-10 - 2.7764 * (2 / 3) ** 0.5, abs=1e-3)
    assert cell['verdict'] == 'holds'
    # One seed without per-video outcomes: no interval, so no verdict.
    one = verdicts([record('Full', 0, None, 50.0), record('Worse', 0, None, 40.0)], spec,
                   HEADLINE)[0]
    assert one['cells'][0]['ci_low'] is None and one['cells'][0]['verdict'] == 'n/a'
    assert one['verdict'] == 'pending'
    # One seed with per-video outcomes: still no verdict (run-to-run variance unknown).
    one = verdicts([record('Full', 0, 30), record('Worse', 0, 10)], spec, HEADLINE)[0]
    assert one['cells'][0]['diff'] == pytest.approx(-50.0) and one['cells'][0]['p'] is None
    assert one['cells'][0]['verdict'] == 'n/a'


def test_verdicts_are_corrected_over_the_table():
    # Worse2 misses 3 more of 40 videos in every seed: p = 0.083 alone (n.s.); Worse 4 more:
    # p = 0.044, significant alone but not after Benjamini-Hochberg over the table's 2 cells
    # (min(2 x 0.044, 0.083) = 0.083).
    spec = dict(reference='Full', claims=[SPEC['claims'][0],
                                          dict(SPEC['claims'][0], variant='Worse2')])
    recs = [record(m, s, c) for s in (0, 1, 2) for m, c in (('Full', 30), ('Worse', 26),
                                                         ('Worse2', 27))]
    cells = [e['cells'][0] for e in verdicts(recs, spec, HEADLINE)]
    assert cells[0]['p'] < 0.05 < cells[0]['p_adj']
    assert [c['verdict'] for c in cells] == ['n.s.', 'n.s.']
    uncorrected = [e['cells'][0] for e in verdicts(recs, spec, HEADLINE, correction='none')]
    assert [c['verdict'] for c in uncorrected] == ['holds', 'n.s.']


@pytest.mark.parametrize('cells, expected', [
    (['holds', 'n.s.'], 'holds'), (['opposite', 'n.s.'], 'opposite'),
    (['holds', 'opposite'], 'mixed'), (['n.s.', 'n.s.'], 'not shown'),
    (['holds', 'n/a'], 'pending'), ([], 'pending')])
def test_overall_verdict(cells, expected):
    assert overall(cells) == expected


def test_leaderboard_carries_the_verdicts_and_keeps_them_on_rebuild(tmp_path):
    for rec in records():
        atomic_write_json(tmp_path / f'runs/{rec.method}/seed{rec.seed}/linear.json',
                          rec.to_dict())
    board = write_leaderboard(tmp_path, 'abl', method_order=['Full', 'Worse'],
                              extra=dict(ablation=SPEC))
    assert [e['verdict'] for e in board['ablation_verdicts']] == [
        'holds', 'opposite', 'not shown', 'pending', 'holds']
    md = (tmp_path / 'ablation.md').read_text()
    assert '| Worse | below | -50.0 [' in md and '**holds**' in md
    assert '- Worse: the paper finds Worse below Full' in md
    board_md = (tmp_path / 'leaderboard.md').read_text()
    assert "## The papers' ablation directions" in board_md and '| Worse | below |' in board_md
    # A new record arrives (Missing is run): rebuilding recomputes the verdicts.
    for seed in (0, 1, 2):
        atomic_write_json(tmp_path / f'runs/Missing/seed{seed}/linear.json',
                          record('Missing', seed, 5).to_dict())
    rebuilt = rebuild_leaderboard(tmp_path)
    assert rebuilt['ablation'] == SPEC
    assert rebuilt['ablation_verdicts'][3]['verdict'] == 'holds'
    assert read_json(tmp_path / 'leaderboard.json')['ablation_verdicts'][3]['verdict'] == 'holds'
    text = render_ablation(json.loads((tmp_path / 'leaderboard.json').read_text()), 'x.json')
    assert 'Seeds per row: Full 3, Worse 3' in text and '| Missing | below |' in text


def test_readme_block_needs_verdicts():
    with pytest.raises(ValueError, match='holds no ablation_verdicts'):
        render_ablation({'rows': []}, 'results/x/leaderboard.json')


@pytest.mark.parametrize('spec, fragment', [
    (dict(reference='CVRL'), 'ablation must be'),
    (dict(reference='CVRL', claims=[]), 'ablation must be'),
    (dict(reference='CVRL', claims=[dict(variant='A', expect='worse', paper='p')]),
     "expect='below' or 'above'"),
    (dict(reference='CVRL', claims=[dict(variant='A', expect='below')]), 'paper=TEXT'),
])
def test_malformed_spec_is_refused(spec, fragment):
    with pytest.raises(ConfigError, match='suite x.py: ablation') as err:
        check_spec(spec, where='suite x.py')
    assert fragment in str(err.value)


def test_spec_naming_an_unknown_method_is_refused():
    check_names(SPEC, ['Full', 'Worse', 'Better', 'Same', 'Missing', 'Up'], where='suite x')
    with pytest.raises(ConfigError, match=r"ablation names \['Missing'\], which are not "
                       r'methods of the suite'):
        check_names(SPEC, ['Full', 'Worse', 'Better', 'Same', 'Up'], where='suite x')


@pytest.mark.parametrize('name, reference', [('cvrl', 'CVRL'), ('tclr', 'TCLR')])
def test_ablation_suites_declare_the_papers_directions(name, reference):
    suite = Suite.load(ROOT / f'configs/suites/{name}_ablations.py')
    assert suite.ablation['reference'] == reference
    named = {m['name'] for m in suite.methods if m['name']}
    assert {c['variant'] for c in suite.ablation['claims']} == named
    assert all(c['expect'] == 'below' for c in suite.ablation['claims'])
