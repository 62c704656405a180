"""Leaderboard aggregation and atomic result files."""
from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from vssl_bench.core.io import atomic_write_json, atomic_write_text, read_json
from vssl_bench.core.records import RunRecord
from vssl_bench.report.leaderboard import aggregate, format_table, load_records, write_leaderboard

# Hand-computed: linear top1 of cvrl over seeds 0, 1, 2 = 50, 52, 57 -> mean 53,
# sample std sqrt((9 + 1 + 16) / 2) = sqrt(13) = 3.6056.
CVRL_TOP1 = {0: 50.0, 1: 52.0, 2: 57.0}
CVRL_TOP5 = {0: 80.0, 1: 80.0, 2: 83.0}   # mean 81, std sqrt((1 + 1 + 4) / 2) = sqrt(3)
CVRL_R1 = {0: 30.0, 1: 33.0, 2: 36.0}     # mean 33, std 3
PROVENANCE = {'git': 'abc123def456', 'packages': {'torch': '2.4.1', 'numpy': '2.1.0'},
              'device': 'cpu: x86_64, 2 threads', 'python': '3.11.9'}


# What pretraining consumed per seed; cvrl: TFLOPs 10.0, 10.5, 9.5 -> mean 10.0, steps 100.
CVRL_TFLOPS = {0: 10.0, 1: 10.5, 2: 9.5}
BUDGET = {'unit': 'train_flops', 'value': 1e13}


def record(method: str, seed: int, protocol: str, metrics: dict[str, float]) -> dict:
    version = '1'
    stats = ({'budget': BUDGET, 'matched': True, 'iters': 100, 'train_tflops': CVRL_TFLOPS[seed],
              'epochs': 2.5, 'clips_seen': 1600, 'wall_s': 30.0 + seed, 'device_s': 20.0}
             if method == 'cvrl' and seed in CVRL_TFLOPS else
             {'budget': BUDGET, 'matched': True, 'iters': 0, 'train_tflops': 0.0,
              'untrained': True})
    return {'suite': 'smoke', 'method': method, 'seed': seed, 'protocol': protocol,
            'protocol_version': version, 'metrics': metrics, 'config_hash': 'deadbeef',
            'provenance': PROVENANCE, 'wall_time_s': 12.5 + seed, 'pretrain': stats}


def write_records(results_dir: Path) -> None:
    for seed in (2, 0, 1):  # Written out of order: aggregation must sort seeds.
        atomic_write_json(results_dir / f'runs/cvrl/seed{seed}/linear.json',
                          record('cvrl', seed, 'linear',
                                 {'top5': CVRL_TOP5[seed], 'top1': CVRL_TOP1[seed]}))
        atomic_write_json(results_dir / f'runs/cvrl/seed{seed}/retrieval.json',
                          record('cvrl', seed, 'retrieval',
                                 {'R@10': 60.0, 'R@1': CVRL_R1[seed], 'R@5': 50.0}))
    atomic_write_json(results_dir / 'runs/random_init/seed0/linear.json',
                      record('random_init', 0, 'linear', {'top1': 10.0, 'top5': 40.0}))


def test_aggregate_mean_std_by_hand(tmp_path):
    write_records(tmp_path)
    rows = aggregate(load_records(tmp_path))
    by_key = {(r['method'], r['protocol'], r['metric']): r for r in rows}
    top1 = by_key['cvrl', 'linear', 'top1']
    assert top1['seeds'] == [0, 1, 2] and top1['values'] == [50.0, 52.0, 57.0]
    assert top1['n'] == 3
    assert top1['mean'] == pytest.approx(53.0)
    assert top1['std'] == pytest.approx(math.sqrt(13.0))
    assert by_key['cvrl', 'linear', 'top5']['std'] == pytest.approx(math.sqrt(3.0))
    assert by_key['cvrl', 'retrieval', 'R@1']['mean'] == pytest.approx(33.0)
    assert by_key['cvrl', 'retrieval', 'R@1']['std'] == pytest.approx(3.0)
    single = by_key['random_init', 'linear', 'top1']
    assert (single['n'], single['std'], single['mean']) == (1, 0.0, 10.0)


def test_aggregate_order(tmp_path):
    write_records(tmp_path)
    records = load_records(tmp_path)
    keys = [(r['method'], r['protocol'], r['metric']) for r in aggregate(records)]
    assert keys == [('cvrl', 'linear', 'top1'), ('cvrl', 'linear', 'top5'),
                    ('cvrl', 'retrieval', 'R@1'), ('cvrl', 'retrieval', 'R@5'),
                    ('cvrl', 'retrieval', 'R@10'),
                    ('random_init', 'linear', 'top1'), ('random_init', 'linear', 'top5')]
    reordered = aggregate(records, method_order=['random_init', 'cvrl'])
    assert [r['method'] for r in reordered][:2] == ['random_init', 'random_init']


def test_rebuild_keeps_the_suite_order_when_methods_arrive_late(tmp_path):
    # A suite run with only random_init done so far writes the suite's order; cvrl's records
    # arrive later (another run, or copied in) and the rebuilt board still follows the suite.
    from vssl_bench.report.leaderboard import rebuild_leaderboard
    atomic_write_json(tmp_path / 'runs/random_init/seed0/linear.json',
                      record('random_init', 0, 'linear', {'top1': 10.0, 'top5': 40.0}))
    order = ['cvrl', 'random_init']
    write_leaderboard(tmp_path, 'smoke', method_order=order, extra=dict(method_order=order))
    write_records(tmp_path)
    rebuilt = rebuild_leaderboard(tmp_path)
    assert list(dict.fromkeys(r['method'] for r in rebuilt['rows'])) == order
    # a board without the suite's order keeps its rows' order, new methods last
    board = read_json(tmp_path / 'leaderboard.json')
    del board['method_order']
    board['rows'] = [r for r in board['rows'] if r['method'] == 'random_init']
    atomic_write_json(tmp_path / 'leaderboard.json', board)
    rows = rebuild_leaderboard(tmp_path)['rows']
    assert list(dict.fromkeys(r['method'] for r in rows)) == ['random_init', 'cvrl']


def test_records_of_two_precisions_are_flagged(tmp_path):
    write_records(tmp_path)
    for path in (tmp_path / 'runs').glob('*/seed*/*.json'):  # all float32
        rec = read_json(path)
        rec['provenance'] = dict(rec['provenance'], precision='float32')
        atomic_write_json(path, rec)
    write_leaderboard(tmp_path, 'smoke')
    md = (tmp_path / 'leaderboard.md').read_text()
    assert '- precision: float32' in md and 'WARNING' not in md
    # one more record made where bfloat16 is native
    rec = record('random_init', 1, 'linear', {'top1': 11.0, 'top5': 41.0})
    rec['provenance'] = dict(rec['provenance'], precision='bfloat16')
    atomic_write_json(tmp_path / 'runs/random_init/seed1/linear.json', rec)
    write_leaderboard(tmp_path, 'smoke')
    assert ('WARNING: these records mix precisions (bfloat16/float32)'
            in (tmp_path / 'leaderboard.md').read_text())


def test_write_leaderboard_files_deterministic(tmp_path):
    write_records(tmp_path)
    board = write_leaderboard(tmp_path, 'smoke', extra={'note': 'test'})
    first = {name: (tmp_path / name).read_bytes() for name in ('leaderboard.json',
                                                              'leaderboard.md')}
    again = write_leaderboard(tmp_path, 'smoke', extra={'note': 'test'})
    assert board == again
    for name, content in first.items():
        assert (tmp_path / name).read_bytes() == content
    assert read_json(tmp_path / 'leaderboard.json') == json.loads(json.dumps(board))
    assert board['suite'] == 'smoke' and board['note'] == 'test'
    assert board['provenance']['git'] == ['abc123def456']


def test_markdown_cells(tmp_path):
    write_records(tmp_path)
    board = write_leaderboard(tmp_path, 'smoke')
    md = (tmp_path / 'leaderboard.md').read_text(encoding='utf-8')
    assert md == format_table(board)
    assert 'smoke' in md.splitlines()[0]
    header = next(line for line in md.splitlines() if line.startswith('| method'))
    columns = [c.strip() for c in header.strip('|').split('|')]
    assert columns == ['method', 'seeds', 'TFLOPs', 'steps', 'linear top1', 'linear top5',
                       'retrieval R@1', 'retrieval R@5', 'retrieval R@10']
    cvrl = next(line for line in md.splitlines() if line.startswith('| cvrl'))
    cells = [c.strip() for c in cvrl.strip('|').split('|')]
    # No per-video outcomes: t-intervals over 3 seeds, half-width t(0.975, 2) * std / sqrt(3)
    # = 4.3027 * sqrt(13) / sqrt(3) = 8.96 for top1; no RandomInit, cvrl is the best: no marks.
    assert cells == ['cvrl', 'n=3', '10.00', '100', '53.0 ±9.0ᵗ', '81.0 ±4.3ᵗ', '33.0 ±7.5ᵗ',
                     '50.0 ±0.0ᵗ', '60.0 ±0.0ᵗ']
    assert 'Budget: 10 TFLOPs of training per method' not in md  # no suite budget was given
    compute = [line for line in md.splitlines() if line.startswith('| cvrl')][1]
    assert [c.strip() for c in compute.strip('|').split('|')] == [
        'cvrl', 'train_flops', '10.00', '100', '2.50', '1,600', '31.0', '20.0', '—']
    random_compute = [line for line in md.splitlines() if line.startswith('| random_init')][1]
    assert 'no pretraining' in random_compute
    random_init = next(line for line in md.splitlines() if line.startswith('| random_init'))
    # One seed without per-video outcomes: no interval, no comparison.
    assert '| 10.0 ' in random_init and '±' not in random_init
    assert 'n=1' in random_init and '—' in random_init
    assert 'abc123def456' in md and 'torch 2.4.1' in md and 'linear v1' in md


def test_budget_line_names_unit_and_matching(tmp_path):
    write_records(tmp_path)
    board = write_leaderboard(tmp_path, 'smoke', extra={'pretrain': {'budget': BUDGET}})
    assert 'Budget: 10 TFLOPs of training per method (train_flops, matched' in format_table(board)
    board['pretrain']['budget'] = {'unit': 'epochs', 'value': 5}
    assert 'Budget: 5 epochs per method (epochs: UNMATCHED' in format_table(board)
    row = next(r for r in board['rows'] if r['method'] == 'cvrl')
    assert row['compute']['train_tflops'] == 10.0 and row['compute']['wall_s'] == 31.0


def test_corrupt_record_skipped_with_warning(tmp_path):
    write_records(tmp_path)
    bad = tmp_path / 'runs/cvrl/seed3/linear.json'
    bad.parent.mkdir(parents=True)
    bad.write_text('{"method": "cvrl", "seed": 3, ', encoding='utf-8')
    atomic_write_json(tmp_path / 'runs/cvrl/seed4/linear.json', {'method': 'cvrl'})
    with pytest.warns(UserWarning, match='Skipping') as caught:
        records = load_records(tmp_path)
    assert len(caught) == 2
    assert len(records) == 7
    with pytest.warns(UserWarning, match='Skipping'):
        board = write_leaderboard(tmp_path, 'smoke')
    top1 = next(r for r in board['rows'] if r['metric'] == 'top1')
    assert top1['seeds'] == [0, 1, 2]


def test_other_suite_records_skipped(tmp_path):
    write_records(tmp_path)
    stray = record('cvrl', 9, 'linear', {'top1': 0.0})
    stray['suite'] = 'other'
    atomic_write_json(tmp_path / 'runs/cvrl/seed9/linear.json', stray)
    with pytest.warns(UserWarning, match='suite'):
        board = write_leaderboard(tmp_path, 'smoke')
    assert next(r for r in board['rows'] if r['metric'] == 'top1')['n'] == 3


def test_empty_results_dir(tmp_path):
    board = write_leaderboard(tmp_path, 'smoke')
    assert board['rows'] == []
    assert '(no results)' in (tmp_path / 'leaderboard.md').read_text(encoding='utf-8')


# ------------------------------------------------------------------------------------------ io
def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'a' / 'b' / 'out.json'
    atomic_write_json(path, {'b': 1, 'a': [1, 2]})
    assert path.read_text(encoding='utf-8') == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    atomic_write_json(path, {'c': 3})
    assert read_json(path) == {'c': 3}
    atomic_write_text(path, 'plain ± text')
    assert path.read_text(encoding='utf-8') == 'plain ± text'
    assert os.listdir(path.parent) == ['out.json']


def test_atomic_write_failure_keeps_old_content(tmp_path):
    path = tmp_path / 'out.json'
    atomic_write_json(path, {'ok': True})
    with pytest.raises(TypeError):
        atomic_write_json(path, {'bad': object()})
    assert read_json(path) == {'ok': True}
    assert os.listdir(tmp_path) == ['out.json']


def test_atomic_write_text_cleans_up_when_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / 'out.txt'
    atomic_write_text(path, 'old')

    def fail(src: str, dst: str) -> None:
        raise OSError('disk gone')

    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(OSError, match='disk gone'):
        atomic_write_text(path, 'new')
    assert path.read_text(encoding='utf-8') == 'old'
    assert os.listdir(tmp_path) == ['out.txt']


# ------------------------------------------------------------------ intervals and significance
NUM_VIDEOS = 400


def hits_record(method: str, seed: int, hit_videos: list[int]) -> dict:
    """A linear record whose top1 hits exactly ``hit_videos`` of the 400 test videos."""
    hits = ['0'] * NUM_VIDEOS
    for video in hit_videos:
        hits[video] = '1'
    rec = record(method, seed, 'linear', {'top1': round(100.0 * len(hit_videos) / NUM_VIDEOS, 4)})
    rec['per_video'] = {'top1': ''.join(hits)}
    return rec


def write_hit_records(results_dir: Path) -> None:
    """RandomInit hits 10 %; Best every video; Twin all but one (a different one per seed);
    Noise RandomInit's videos plus two."""
    every, tenth = list(range(NUM_VIDEOS)), list(range(0, NUM_VIDEOS, 10))
    for seed in range(3):
        for method, hit in (('RandomInit', tenth), ('Best', every),
                            ('Twin', [v for v in every if v != seed]),
                            ('Noise', tenth + [1, 2])):
            atomic_write_json(results_dir / f'runs/{method}/seed{seed}/linear.json',
                              hits_record(method, seed, hit))


def test_significance_markers_from_per_video_hits(tmp_path):
    write_hit_records(tmp_path)
    order = ['RandomInit', 'Best', 'Twin', 'Noise']
    board = write_leaderboard(tmp_path, 'smoke', method_order=order)
    rows = {r['method']: r for r in board['rows']}
    assert {r['ci_method'] for r in rows.values()} == {'seeds+videos'}
    assert (rows['Best']['ci_low'], rows['Best']['ci_high']) == (100.0, 100.0)
    for row in rows.values():
        assert row['ci_low'] <= row['mean'] <= row['ci_high']
    # RandomInit at 10 %, seeds agree: videos only, 10 +- t(0.975, 399) sqrt(0.09 / 399) * 100.
    half = 1.9659 * np.sqrt(0.09 / 399) * 100
    assert rows['RandomInit']['ci_low'] == pytest.approx(10 - half, abs=1e-3)
    assert rows['RandomInit']['ci_high'] == pytest.approx(10 + half, abs=1e-3)
    # Twin misses one video per seed (another each time): -0.25 points, within video noise.
    assert (rows['Twin']['sig_vs_best'], rows['Twin']['sig_vs_random_init']) == (False, True)
    # Noise: two more hits than RandomInit (+0.5 points): t = 1.41 over the paired videos.
    assert (rows['Noise']['sig_vs_random_init'], rows['Noise']['sig_vs_best']) == (False, True)
    assert rows['Noise']['p_vs_random_init'] > 0.05 and rows['Noise']['p_vs_best'] == 0.0
    # Benjamini-Hochberg over the table's 3 comparisons with RandomInit: the largest raw p
    # (Noise's) is its own adjusted p.
    assert rows['Noise']['p_adj_vs_random_init'] == pytest.approx(
        min(1.0, rows['Noise']['p_vs_random_init']), abs=1e-4)
    assert rows['Twin']['p_adj_vs_best'] >= rows['Twin']['p_vs_best']
    assert rows['Best']['sig_vs_best'] is None and rows['Best']['sig_vs_random_init'] is True
    assert rows['RandomInit']['sig_vs_random_init'] is None
    assert rows['RandomInit']['sig_vs_best'] is True
    md = (tmp_path / 'leaderboard.md').read_text(encoding='utf-8')
    cells = {line.split('|')[1].strip(): line.split('|')[5].strip()
             for line in md.splitlines() if line.startswith('| ') and 'n=3' in line}
    half = (rows['RandomInit']['ci_high'] - rows['RandomInit']['ci_low']) / 2
    assert (cells['RandomInit'], cells['Best']) == (f'10.0 ±{half:.1f}', '100.0 ±0.0')
    assert cells['Twin'].startswith('99.8 ±') and cells['Twin'].endswith('‡')
    assert '†' not in cells['Twin']
    assert cells['Noise'].startswith('10.5 ±') and cells['Noise'].endswith('†')
    assert '†: not distinguishable from RandomInit' in md
    assert '‡: not distinguishable from the best' in md
    parsed = {r['method']: r for r in csv.DictReader(
        line for line in (tmp_path / 'leaderboard.csv').read_text().splitlines()
        if not line.startswith('#'))}
    assert parsed['Twin']['sig_vs_best'] == 'false' and parsed['Best']['sig_vs_best'] == 'null'
    assert parsed['Noise']['sig_vs_random_init'] == 'false'
    assert float(parsed['RandomInit']['ci_low']) == rows['RandomInit']['ci_low']
    assert parsed['Best']['ci_method'] == 'seeds+videos'
    assert read_json(tmp_path / 'leaderboard.json')['rows'][2]['sig_vs_best'] is False
    # Deterministic: the same records give the same bytes.
    first = (tmp_path / 'leaderboard.json').read_bytes()
    write_leaderboard(tmp_path, 'smoke', method_order=order)
    assert (tmp_path / 'leaderboard.json').read_bytes() == first


def test_per_video_not_matching_the_metric_falls_back_to_seeds(tmp_path):
    write_hit_records(tmp_path)
    path = tmp_path / 'runs/Noise/seed1/linear.json'
    bad = read_json(path)
    bad['metrics']['top1'] = 50.0
    atomic_write_json(path, bad)
    old = read_json(tmp_path / 'runs/Twin/seed2/linear.json')
    del old['per_video']  # an older record: no per-video hits for one seed
    atomic_write_json(tmp_path / 'runs/Twin/seed2/linear.json', old)
    with pytest.warns(UserWarning, match='is not the metric'):
        rows = {r['method']: r for r in aggregate(load_records(tmp_path))}
    assert rows['Noise']['ci_method'] == 't' and rows['Twin']['ci_method'] == 't'
    assert rows['Best']['ci_method'] == 'seeds+videos'
    # Welch over seeds: Twin's seeds all equal 99.75, Best's 100: distinguishable (zero variance).
    assert rows['Twin']['sig_vs_best'] is True


def test_large_leaderboard_corrects_over_the_whole_table(tmp_path):
    # 8 methods x 3 seeds x 20 metrics x 360 videos.
    rng = np.random.default_rng(0)
    records = []
    for m in range(8):
        for seed in range(3):
            hits = rng.random((20, 360)) < rng.uniform(0.1, 0.9)
            rec = record(f'M{m}', seed, 'retrieval',
                         {f'R@{k}': 100.0 * h.mean() for k, h in enumerate(hits, 1)})
            rec['per_video'] = {f'R@{k}': ''.join('1' if x else '0' for x in h)
                                for k, h in enumerate(hits, 1)}
            records.append(RunRecord.from_dict(rec))
    rows = aggregate(records)
    assert len(rows) == 160 and {r['ci_method'] for r in rows} == {'seeds+videos'}
    # No RandomInit: nothing tested against it; one family of 7 x 20 comparisons with the best
    # of each column, corrected together (Benjamini-Hochberg: the smallest p times 140 at most).
    assert all(r['sig_vs_random_init'] is None for r in rows)
    tested = [r for r in rows if r['p_vs_best'] is not None]
    assert len(tested) == 140
    raw = np.array([r['p_vs_best'] for r in tested])
    adjusted = np.array([r['p_adj_vs_best'] for r in tested])
    assert (adjusted >= raw - 1e-4).all()
    assert adjusted.min() <= min(1.0, 140 * raw.min()) + 0.01


def test_rows_of_fewer_than_three_seeds_are_not_tested():
    """Two seeds are too few for the test to keep its 5 % (results/statistics/calibration.md):
    a 40-point gap over 200 videos is left unmarked with 2 seeds and marked with 3, and the
    table says why above its numbers."""
    from vssl_bench.report.leaderboard_stats import annotate
    from vssl_bench.report.table_helpers import one_seed_warning

    def rows_for(seeds: int):
        rows, outcomes = [], {}
        for method, correct in (('RandomInit', 40), ('CVRL', 120)):
            hits = np.zeros((seeds, 200))
            hits[:, :correct] = 1
            hits[-1, correct] = 1  # a little run-to-run variance
            outcomes[method, 'linear', 'top1'] = hits
            values = (100 * hits.mean(axis=1)).tolist()
            rows.append(dict(method=method, protocol='linear', metric='top1', n=seeds,
                             seeds=list(range(seeds)), values=values,
                             mean=float(np.mean(values))))
        annotate(rows, outcomes)
        return rows

    two, three = rows_for(2)[1], rows_for(3)[1]
    assert two['p_vs_random_init'] is None and two['sig_vs_random_init'] is None
    assert two['ci_low'] is not None  # its interval is still given
    assert three['sig_vs_random_init'] is True and three['p_vs_random_init'] < 1e-3
    warning = one_seed_warning(rows_for(2))
    assert warning.startswith('2 seeds (every method): too few to test')
    assert one_seed_warning(rows_for(3)) is None
    assert one_seed_warning([dict(method='A', n=1), dict(method='B', n=2)]).startswith(
        'One seed (A): ')


def test_unsearched_cells_are_not_tested_and_leave_the_family_alone():
    """A fine-tuning cell without the search gives no verdict: it is not tested, and the
    other comparisons' correction is what it would be without it."""
    from vssl_bench.report.leaderboard_stats import annotate

    def rows_for(extra_unsearched: bool):
        rows, outcomes = [], {}
        cells = [('RandomInit', 'linear', 60, False), ('CVRL', 'linear', 75, False),
                 ('TCLR', 'linear', 70, False)]
        if extra_unsearched:  # a huge gap that would be the most significant test of all
            cells += [('RandomInit', 'finetune', 20, False), ('CVRL', 'finetune', 190, True)]
        for method, protocol, correct, unsearched in cells:
            hits = np.zeros((3, 200))
            hits[:, :correct] = 1
            hits[0, correct] = 1
            outcomes[method, protocol, 'top1'] = hits
            values = (100 * hits.mean(axis=1)).tolist()
            rows.append(dict(method=method, protocol=protocol, metric='top1', n=3,
                             seeds=[0, 1, 2], values=values, mean=float(np.mean(values)),
                             **({'unsearched': True} if unsearched else {})))
        annotate(rows, outcomes)
        return {(r['method'], r['protocol']): r for r in rows}

    alone, mixed = rows_for(False), rows_for(True)
    assert mixed['CVRL', 'finetune']['p_vs_random_init'] is None
    assert mixed['CVRL', 'finetune']['sig_vs_random_init'] is None
    assert mixed['RandomInit', 'finetune']['p_vs_best'] is None  # the best is unsearched
    for key in alone:
        for name in ('p_adj_vs_random_init', 'p_adj_vs_best', 'sig_vs_random_init'):
            assert mixed[key][name] == alone[key][name], (key, name)


def test_fine_tuning_records_without_the_search_are_flagged(tmp_path):
    """A semisup / finetune record made on one fixed schedule (no protocol_info.search) is
    flagged on its rows and above the table; a searched one and frozen-feature ones are not."""
    from vssl_bench.report.leaderboard import format_table, write_leaderboard
    from vssl_bench.report.table_helpers import unsearched_warning

    def rec(method, protocol, info):
        return dict(suite='s', method=method, seed=0, protocol=protocol, protocol_version='1',
                    config_hash='x', metrics={'top1': 50.0},
                    evaluation=dict(protocol_info=info))

    records = [rec('CVRL', 'finetune', {'schedule': {}, 'runs': []}),
               rec('TCLR', 'finetune', {'schedule': {}, 'search': {'chosen': {'step': 600}}}),
               rec('CVRL', 'linear', {'C': 1.0})]
    for r in records:
        atomic_write_json(tmp_path / f'runs/{r["method"]}/seed0/{r["protocol"]}.json', r)
    board = write_leaderboard(tmp_path, 's')
    flagged = {(r['method'], r['protocol']) for r in board['rows'] if r.get('unsearched')}
    assert flagged == {('CVRL', 'finetune')}
    warning = unsearched_warning(board['rows'])
    assert warning.startswith('Not searched to convergence (finetune of CVRL):')
    # every method of a protocol flagged: said so, not listed
    every = [dict(r, unsearched=True) if r['protocol'] == 'finetune' else r
             for r in board['rows']]
    assert unsearched_warning(every).startswith(
        'Not searched to convergence (finetune of every method):')
    assert f'**{warning}**' in (tmp_path / 'leaderboard.md').read_text()
    assert f'**{warning}**' in format_table(board)


def test_records_of_an_earlier_protocol_version_are_flagged(tmp_path):
    """A record whose protocol_version is not the registered protocol's current one is flagged
    on its rows and above the table, with what the current version changed; current records,
    and records of protocols the registry does not know, are not."""
    from vssl_bench.report.aggregate import current_protocols
    from vssl_bench.report.leaderboard import format_table, write_leaderboard
    from vssl_bench.report.table_helpers import outdated_warning

    linear_now, changes = current_protocols()['linear']
    old = str(int(linear_now) - 1)

    def rec(method, protocol, version):
        return dict(suite='s', method=method, seed=0, protocol=protocol,
                    protocol_version=version, config_hash='x', metrics={'top1': 50.0})

    records = [rec('CVRL', 'linear', old), rec('TCLR', 'linear', linear_now),
               rec('CVRL', 'knn', current_protocols()['knn'][0]),
               rec('CVRL', 'myprobe', '0')]
    for r in records:
        atomic_write_json(tmp_path / f'runs/{r["method"]}/seed0/{r["protocol"]}.json', r)
    board = write_leaderboard(tmp_path, 's')
    flagged = {(r['method'], r['protocol']): r['outdated'] for r in board['rows']
               if r.get('outdated')}
    assert flagged == {('CVRL', 'linear'): dict(versions=[old], current=linear_now,
                                                change=changes[linear_now])}
    warning = outdated_warning(board['rows'])
    assert warning.startswith(f'Made with an earlier version of a protocol: linear v{old} '
                              f'(CVRL), where linear v{linear_now} {changes[linear_now]}. ')
    assert f'**{warning}**' in (tmp_path / 'leaderboard.md').read_text()
    assert f'**{warning}**' in format_table(board)
    every = [dict(r, outdated=flagged['CVRL', 'linear']) if r['protocol'] == 'linear' else r
             for r in board['rows']]
    assert f': linear v{old} (every method), where' in outdated_warning(every)
