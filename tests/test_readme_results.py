"""results/README.md's result statements are rendered from the committed leaderboards, and agree."""
import json
from pathlib import Path

import pytest

from tools.readme_results import main, render, rewrite

ROOT = Path(__file__).resolve().parents[1]


def _row(method, protocol, metric, mean, lo, hi, sig, seeds=(0, 1, 2)):
    return dict(method=method, protocol=protocol, metric=metric, mean=mean, ci_low=lo,
                ci_high=hi, sig_vs_random_init=sig, seeds=list(seeds),
                compute=dict(train_tflops=30.0))


def test_verdicts_name_only_significant_differences():
    board = dict(rows=[
        _row('RandomInit', 'linear', 'top1', 30.0, 25.0, 35.0, None),
        _row('RandomInit', 'retrieval', 'R@1', 35.0, 30.0, 40.0, None),
        _row('CVRL', 'linear', 'top1', 50.0, 45.0, 55.0, True, seeds=(0, 1, 2)),
        _row('CVRL', 'retrieval', 'R@1', 37.0, 32.0, 42.0, False, seeds=(0, 1, 2)),
        _row('Bad', 'linear', 'top1', 10.0, 7.0, 13.0, True, seeds=(0, 1))])
    text = render(board, 'results/x/leaderboard.json')
    # each method's own seeds (a suite filled seed by seed has rows with fewer)
    # only the headline columns the suite has, '-' where a method lacks one
    assert text.startswith('| method | seeds | TFLOPs | linear top-1 | R@1 |\n')
    assert '| CVRL | 0,1,2 | 30.0 | 50.0 [45.0, 55.0] | 37.0 [32.0, 42.0] † |' in text
    assert '| Bad | 0,1 | 30.0 | 10.0 [7.0, 13.0] | - |' in text
    assert 'One seed' not in text
    assert ('- **CVRL**: significantly above RandomInit on linear top-1 +20.0; not '
            'distinguishable from it on R@1.') in text
    assert '- **Bad**: significantly below RandomInit on linear top-1 -20.0.' in text
    assert '**RandomInit**' not in text
    # One seed: nothing tested, and the block says so.
    single = dict(rows=[dict(r, seeds=[0], sig_vs_random_init=None) for r in board['rows']])
    text = render(single, 'results/x/leaderboard.json')
    assert 'One seed (every method)' in text
    assert ('- **CVRL**: one seed, not tested against RandomInit on linear top-1, R@1.'
            in text)


def test_rewrite_replaces_only_the_blocks(tmp_path):
    (tmp_path / 'results/s').mkdir(parents=True)
    (tmp_path / 'results/s/leaderboard.json').write_text(
        '{"rows": [{"method": "RandomInit", "protocol": "linear", "metric": "top1", '
        '"mean": 20.0, "seeds": [0]}]}')
    readme = 'intro 1.0\n<!-- results:s -->\nstale 99.9\n<!-- /results -->\nend\n'
    fresh = rewrite(readme, tmp_path)
    assert fresh.startswith('intro 1.0\n<!-- results:s -->\n| method |')
    assert 'stale' not in fresh and '| RandomInit | 0 | - | 20.0 |\n' in fresh
    assert fresh.endswith('<!-- /results -->\nend\n')


def test_readme_agrees_with_committed_leaderboards():
    assert '<!-- results:' in (ROOT / 'results/README.md').read_text()
    assert main(['--readme', str(ROOT / 'results/README.md'), '--root', str(ROOT),
                 '--check']) == 0
    # The project README states no result of its own: every number lives in a generated block.
    readme = (ROOT / 'README.md').read_text()
    assert '<!-- ' not in readme and len(readme.splitlines()) <= 150


def test_budget_block_names_where_each_method_leaves_the_untrained_level(tmp_path):
    def point(scale, metric, protocol, mean, sig):
        return dict(scale=scale, method='CVRL', protocol=protocol, metric=metric,
                    train_tflops=30.0 * scale, mean=mean, std=0.0, n=1, low=mean - 2,
                    high=mean + 2, sig_vs_random_init=sig, seeds=[2])
    curve = dict(points=[point(0.5, 'top1', 'linear', 22.0, False),
                         point(1.0, 'top1', 'linear', 45.0, True),
                         point(0.5, 'R@1', 'retrieval', 20.0, False),
                         point(1.0, 'R@1', 'retrieval', 24.0, False)],
                 bands=[dict(method='RandomInit', protocol='linear', metric='top1', mean=20.0,
                             low=18.0, high=22.0)],
                 take_off=[dict(method='CVRL', protocol='linear', metric='top1', scale=1.0,
                                train_tflops=30.0, scales=[0.5, 1.0]),
                           dict(method='CVRL', protocol='retrieval', metric='R@1', scale=None,
                                train_tflops=None, scales=[0.5, 1.0])])
    (tmp_path / 'results/c').mkdir(parents=True)
    (tmp_path / 'results/c/budget_curve.json').write_text(json.dumps(curve))
    # the time of the pretrainings the curve made itself, from their records (untrained skipped)
    for method, wall, untrained in (('CVRL', 600.0, None), ('RandomInit', 0.0, True)):
        run = tmp_path / f'results/c/budget_scale/x0.5/runs/{method}/seed2'
        run.mkdir(parents=True)
        (run / 'linear.json').write_text(json.dumps(dict(
            method=method, seed=2, protocol='linear', metrics={'top1': 50.0},
            pretrain=dict(wall_s=wall, untrained=untrained))))
    text = rewrite('<!-- budget:c -->\nold\n<!-- /budget -->\n', tmp_path)
    assert ('budgets other than 1x (1x is the standard suite\'s weights): 1 trained (method, seed) '
            'runs, median 10.0 minutes each') in text
    # the seeds column names the seeds each point was made from
    assert '| CVRL | 0.5x | 15.0 | 2 | 22.0 [20.0, 24.0] † | - | 20.0 [18.0, 22.0] † |' in text
    assert '| CVRL | 1x | 30.0 | 2 | 45.0 [43.0, 47.0] | - | 24.0 [22.0, 26.0] † |' in text
    assert 'Untrained level (RandomInit, all budgets): linear top-1 20.0 [18.0, 22.0].' in text
    assert ('- **CVRL** leaves the untrained level on linear top-1 from 1x (30.0 TFLOPs); '
            'R@1 not by 1x.') in text
    # a method that leaves it on no column says so
    stuck = dict(curve, take_off=[dict(t, scale=None, train_tflops=None)
                                  for t in curve['take_off']])
    (tmp_path / 'results/c/budget_curve.json').write_text(json.dumps(stuck))
    text = rewrite('<!-- budget:c -->\nold\n<!-- /budget -->\n', tmp_path)
    assert ('- **CVRL** does not leave the untrained level: linear top-1, R@1 not by 1x.'
            in text)
    assert 'old' not in text and text.endswith('<!-- /budget -->\n')


def test_targets_need_the_gain_and_its_significance():
    from tools.readme_targets import check, render_targets
    board = dict(suite='synthmotion', rows=[dict(r, seeds=[0, 1, 2]) for r in [
        _row('RandomInit', 'linear', 'top1', 30.0, 25.0, 35.0, None),
        _row('RandomInit', 'retrieval', 'R@1', 35.0, 30.0, 40.0, None),
        _row('CVRL', 'linear', 'top1', 46.0, 41.0, 51.0, True),      # +16, significant: met
        _row('CVRL', 'retrieval', 'R@1', 47.0, 40.0, 54.0, False),   # +12, not significant
        _row('TCLR', 'linear', 'top1', 44.0, 39.0, 49.0, True),      # +14: short of 15
        _row('Supervised', 'linear', 'top1', 85.0, 80.0, 90.0, True)]])  # at least 85: met
    targets = [dict(method='CVRL', protocol='linear', metric='top1', gain=15.0),
               dict(method='CVRL', protocol='retrieval', metric='R@1', gain=10.0),
               dict(method='TCLR', protocol='linear', metric='top1', gain=15.0),
               dict(method='TCLR', protocol='retrieval', metric='R@1', gain=10.0),
               dict(method='Supervised', protocol='linear', metric='top1', at_least=85.0)]
    out = check(board, targets)
    assert [t['met'] for t in out] == [True, False, False, False, True]
    assert out[0]['measured'] == 16.0 and out[1]['significant'] is False
    assert out[3]['measured'] is None  # TCLR has no R@1 row
    text = render_targets(board, 'results/synthmotion/leaderboard.json')
    assert '| CVRL | linear top-1 | ≥ RandomInit + 15 | +16.0 | yes | **yes** |' in text
    assert '| CVRL | R@1 | ≥ RandomInit + 10 | +12.0 | no | no |' in text
    assert '| TCLR | R@1 | ≥ RandomInit + 10 | - | - | no |' in text
    assert '| Supervised | linear top-1 | ≥ 85 | 85.0 | n/a | **yes** |' in text
    # The same board from one seed meets nothing, whatever its numbers.
    single = dict(board, rows=[dict(r, seeds=[0], sig_vs_random_init=None)
                               for r in board['rows']])
    assert not any(t['met'] for t in check(single, targets))
    text = render_targets(single, 'results/synthmotion/leaderboard.json')
    assert ('| CVRL | linear top-1 | ≥ RandomInit + 15 | +16.0 | untested (one seed) | '
            'not from one seed |') in text
    assert '| Supervised | linear top-1 | ≥ 85 | 85.0 | n/a | not from one seed |' in text


def test_time_sentence_from_the_records(tmp_path):
    from tools.readme_results import _time_sentence
    for method, seed, wall in (('CVRL', 0, 600.0), ('CVRL', 1, 1200.0), ('TCLR', 0, 300.0)):
        for protocol in ('linear', 'knn'):  # one run, several records: counted once
            path = tmp_path / f'runs/{method}/seed{seed}/{protocol}.json'
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(dict(method=method, seed=seed, protocol=protocol,
                                            metrics={'top1': 50.0},
                                            pretrain=dict(wall_s=wall, untrained=False))))
    path = tmp_path / 'runs/RandomInit/seed0/linear.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(dict(method='RandomInit', seed=0, protocol='linear',
                                    metrics={'top1': 50.0},
                                    pretrain=dict(wall_s=0.0, untrained=True))))
    text = _time_sentence([tmp_path / 'runs'])
    assert '3 trained (method, seed) runs, median 10.0 minutes each' in text
    assert '(from 5.0 to 20.0; 0.6 h in all; wall seconds' in text
    # a run trained again: the records that kept the older, slower pretraining do not set
    # the time; the sentence says how many runs carry more than one
    path = tmp_path / 'runs/CVRL/seed1/finetune.json'
    path.write_text(json.dumps(dict(method='CVRL', seed=1, protocol='finetune',
                                    metrics={'top1': 50.0},
                                    pretrain=dict(wall_s=5400.0, untrained=False))))
    text = _time_sentence([tmp_path / 'runs'])
    assert ('(from 5.0 to 20.0; 0.6 h in all; runs whose records carry more than one '
            'pretraining: 1,') in text
    assert _time_sentence([tmp_path / 'nothing']) == ''


def test_shared_runs_equal_across_committed_suites():
    """The README says the ablation suites' full methods (and the default suite's rows, and the
    budget curve's 1x points) equal the standard suite's runs of the same method config, seed
    and budget, and the bfloat16 make bench run, the family's SynthMotion column and the
    fine-tuning board (its linear cells) the bfloat16 standard suite's: check the committed records, metric for metric and video for
    video. A record of another version of its protocol than its twin's (a board whose linear
    cells were re-derived with linear v2 while the other's are still v1) is not compared."""
    def compare(standard_name: str, others: tuple[str, ...], protocols: str = '*') -> int:
        standard, compared = ROOT / 'results' / standard_name / 'runs', 0
        for suite in others:
            for path in sorted((ROOT / 'results' / suite / 'runs').glob(
                    f'*/seed*/{protocols}.json')):
                twin = standard / path.relative_to(ROOT / 'results' / suite / 'runs')
                if not twin.is_file():
                    continue  # a variant, or a seed the standard suite does not share
                a, b = json.loads(path.read_text()), json.loads(twin.read_text())
                if a['protocol_version'] != b['protocol_version']:
                    continue
                assert (a['metrics'], a.get('per_video')) == (b['metrics'],
                                                              b.get('per_video')), path
                compared += 1
        return compared
    # float32 (AVX2 machine): ablations' RandomInit and full method; default suite; budget
    # curve at 1x
    assert compare('synthmotion_standard', ('synthmotion', 'cvrl_ablations', 'tclr_ablations',
                                            'synthmotion_budget')) >= 3 * 2 + 4 * 5 + 3 * 6
    # bfloat16 (AVX512-BF16 machine): make bench's run and the standard suite's seed 0, and the
    # family's SynthMotion column (pretrained on SynthMotion at the standard budget: the same
    # weights)
    assert compare('synthmotion_standard_bf16', ('synthmotion_bf16',)) == 4 * 3
    assert compare('synthmotion_standard_bf16', ('synth_family/synthmotion',)) == 8 * 3
    # ... and the fine-tuning board's linear cells (its fine-tuning is searched, the standard
    # board's not yet): the same weights, so the same linear records
    assert compare('synthmotion_standard_bf16', ('synthmotion_finetune',), 'linear') == 8


def test_agreement_block_sorts_each_comparison_by_both_boards(tmp_path):
    def board(cvrl_linear_sig, cvrl_r1, cvrl_r1_sig):
        return dict(suite='s', rows=[
            _row('RandomInit', 'linear', 'top1', 30.0, 25.0, 35.0, None),
            _row('RandomInit', 'retrieval', 'R@1', 35.0, 30.0, 40.0, None),
            _row('CVRL', 'linear', 'top1', 46.0, 41.0, 51.0, cvrl_linear_sig),
            _row('CVRL', 'retrieval', 'R@1', cvrl_r1, cvrl_r1 - 3, cvrl_r1 + 3, cvrl_r1_sig)])
    # linear: significant on both (above); R@1: above on a, below on b (opposite)
    for name, b in (('a', board(True, 45.0, True)), ('b', board(True, 25.0, True))):
        (tmp_path / f'results/{name}').mkdir(parents=True)
        (tmp_path / f'results/{name}/leaderboard.json').write_text(json.dumps(b))
    text = rewrite('<!-- agreement:a,b -->\nold\n<!-- /agreement -->\n', tmp_path)
    assert '| CVRL | +16.0 / +16.0 | +10.0 / -10.0 |' in text
    assert ('`results/a/leaderboard.json` (seeds 0,1,2) / `results/b/leaderboard.json` '
            '(seeds 0,1,2)') in text
    assert ('- Significant in the same direction on both: 1 of 2 comparisons: CVRL linear '
            'top-1 (above).') in text
    assert '- Significant on both in opposite directions: CVRL R@1.' in text
    assert 'only:' not in text and 'old' not in text
    # linear not significant on b: a only; R@1 not significant on a: b only
    (tmp_path / 'results/b/leaderboard.json').write_text(json.dumps(board(False, 25.0, True)))
    (tmp_path / 'results/a/leaderboard.json').write_text(json.dumps(board(True, 45.0, False)))
    text = rewrite('<!-- agreement:a,b -->\n<!-- /agreement -->\n', tmp_path)
    assert '| CVRL | +16.0 / +16.0 † | +10.0 † / -10.0 |' in text
    assert '- Significant in the same direction on both: 0 of 2 comparisons.' in text
    assert '- Significant on a only: CVRL linear top-1 (above).' in text
    assert '- Significant on b only: CVRL R@1 (below).' in text
    assert '- Significant on both in opposite directions: none.' in text
    with pytest.raises(ValueError, match='names two results folders'):
        rewrite('<!-- agreement:a -->\n<!-- /agreement -->\n', tmp_path)


def test_readme_table_excerpt_is_the_committed_leaderboard():
    """The README's example table is the start of the committed default-suite table, row for
    row (so it cannot drift from it)."""
    readme = (ROOT / 'README.md').read_text().split('\n')
    start = readme.index('| method     | seeds   | TFLOPs   | steps   | linear top1   | linear '
                         'top5   | knn top1   |')
    excerpt = readme[start:readme.index('```', start)]
    board = (ROOT / 'results/synthmotion/leaderboard.md').read_text().split('\n')
    assert len(excerpt) >= 3
    for line in excerpt:
        assert any(row.startswith(line) for row in board), line
