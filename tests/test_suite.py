"""A tiny suite end to end: records, leaderboard, resumability, determinism, bad input."""
import json
import shutil
from pathlib import Path

import pytest

from vssl_bench.cli import main
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.core.provenance import device_description
from vssl_bench.core.records import RECORD_SCHEMA, RunRecord
from vssl_bench.data.synthmotion import generate
from vssl_bench.harness.suite import Suite, run_suite

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
METHODS = ['RandomInit', 'CVRL', 'Supervised']


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


@pytest.fixture(scope='module')
def first_run(tiny_data, tmp_path_factory):
    base = tmp_path_factory.mktemp('run1')
    board, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)), out=base / 'results',
                                work_root=base / 'work')
    assert failures == []
    return base, board


def _values(board):
    return {(r['method'], r['protocol'], r['metric']): r['values'] for r in board['rows']}


def test_records_and_leaderboard(first_run):
    base, board = first_run
    results = base / 'results'
    for method in METHODS:
        for protocol in ('linear', 'knn', 'retrieval', 'semisup', 'finetune'):
            rec = read_json(results / 'runs' / method / 'seed0' / f'{protocol}.json')
            assert rec['method'] == method and rec['seed'] == 0 and rec['suite'] == 'tiny'
            assert rec['schema'] == RECORD_SCHEMA  # typed: it reads back as it was written
            assert RunRecord.from_dict(rec).to_dict() == rec
            assert rec['config_hash'] and rec['provenance']['packages']['torch']
            assert all(0 <= v <= 100 for v in rec['metrics'].values())
            # One hit per test video for every metric, averaging to the metric.
            assert set(rec['per_video']) == set(rec['metrics'])
            assert len({len(hits) for hits in rec['per_video'].values()}) == 1
            for metric, hits in rec['per_video'].items():
                assert set(hits) <= {'0', '1'}
                assert 100.0 * hits.count('1') / len(hits) == pytest.approx(
                    rec['metrics'][metric], abs=1e-4)
    # Supervised (the last method) spends the tiny budget to within one of its steps.
    budget = rec['pretrain']['budget']['value']
    assert budget == 1.3e10 and rec['pretrain']['iters'] > 1
    # where it trained, threads included (the same seed trains other weights with other threads)
    assert rec['pretrain']['device'] == device_description()
    assert abs(rec['pretrain']['train_tflops'] * 1e12 - budget) <= \
        rec['pretrain']['gflops_per_step'] * 1e9
    on_disk = json.loads((results / 'leaderboard.json').read_text())
    assert on_disk['suite'] == 'tiny'
    assert {r['ci_method'] for r in on_disk['rows']} == {'videos'}  # one seed: videos only
    assert all(r['sig_vs_random_init'] is None for r in on_disk['rows'])  # one seed: untested
    metrics = {(r['method'], r['protocol'], r['metric']) for r in on_disk['rows']}
    for method in METHODS:
        assert {(method, 'linear', 'top1'), (method, 'linear', 'top5'),
                (method, 'knn', 'top1'), (method, 'knn', 'top5'),
                (method, 'retrieval', 'R@1'), (method, 'retrieval', 'R@50'),
                (method, 'semisup', 'top1_1pct'), (method, 'semisup', 'top5_1pct'),
                (method, 'finetune', 'top1'), (method, 'finetune', 'top5')} <= metrics
    assert 'CVRL' in (results / 'leaderboard.md').read_text()
    # Every method fine-tuned on the same subset file, one video per class of tiny's train split.
    subsets = list((results / 'subsets').glob('train-0.01-seed0-*.txt'))
    assert len(subsets) == 1
    for method in METHODS:
        info = read_json(results / 'runs' / method / 'seed0' / 'semisup.json')
        run = info['evaluation']['protocol_info']['runs'][0]
        assert run['train_file'] == str(subsets[0]) and run['num_train'] == 12


def test_rerun_skips_finished_work(first_run, tiny_data, monkeypatch):
    base, board = first_run
    import vssl_bench.engine.pretrain as pt

    def no_training(*args, **kwargs):
        raise AssertionError('finished work was redone')
    monkeypatch.setattr(pt, 'pretrain', no_training)
    monkeypatch.setattr(pt, 'init_untrained', no_training)
    again, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)),
                                out=base / 'results', work_root=base / 'work')
    assert failures == [] and _values(again) == _values(board)

    # Records lost but weights and features kept: evaluation is redone, training is not.
    shutil.rmtree(base / 'results' / 'runs' / 'CVRL')
    again, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)),
                                out=base / 'results', work_root=base / 'work')
    assert failures == [] and _values(again) == _values(board)


def test_protocols_option_reruns_only_the_named_protocols(first_run, tiny_data, tmp_path):
    """``protocols``: the named protocols' records are redone (here from the kept weights and
    features, to the same numbers); the other protocols' records are not touched, and the
    board still holds every protocol."""
    base, board = first_run
    out = tmp_path / 'results'
    shutil.copytree(base / 'results', out)
    knn = out / 'runs' / 'CVRL' / 'seed0' / 'knn.json'
    linear = out / 'runs' / 'CVRL' / 'seed0' / 'linear.json'
    stale = read_json(knn)
    stale['protocol_version'] = 'old'  # not current: a run of every protocol would redo it
    atomic_write_json(knn, stale)
    linear.unlink()
    again, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)), out=out,
                                work_root=base / 'work', protocols=['linear'])
    assert failures == []
    assert read_json(knn)['protocol_version'] == 'old'  # left alone
    assert read_json(linear)['metrics'] == read_json(
        base / 'results' / 'runs' / 'CVRL' / 'seed0' / 'linear.json')['metrics']
    assert {r['protocol'] for r in again['rows']} == {r['protocol'] for r in board['rows']}


def board_methods(board: dict) -> list[str]:
    return list(dict.fromkeys(r['method'] for r in board['rows']))


# Methods whose pretraining another test of `make test` already runs twice and compares bit for
# bit: CVRL and TCLR (killed and resumed against uninterrupted, tests/test_resume.py), VCOP (read
# in process against a loader worker, tests/test_in_process_loader.py).
TRAINED_TWICE_ELSEWHERE = {'CVRL', 'TCLR', 'VCOP'}


def test_same_command_same_numbers(first_run, tiny_data, tmp_path, monkeypatch):
    # Committed records without the weights behind them (a fresh clone) are recomputed, and
    # the recomputation gives the same numbers: every method that no other test trains twice
    # (RandomInit, whose records need no training, included), through every protocol.
    base, board = first_run
    methods = [m for m in board_methods(board) if m not in TRAINED_TWICE_ELSEWHERE]
    shutil.copytree(base / 'results', tmp_path / 'results')
    import vssl_bench.engine.pretrain as pt
    calls = []
    real = pt.pretrain
    monkeypatch.setattr(pt, 'pretrain', lambda *a, **k: calls.append(1) or real(*a, **k))
    second, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)),
                                 out=tmp_path / 'results', work_root=tmp_path / 'work',
                                 methods=methods)
    trainable = [m for m in methods if m != 'RandomInit']
    assert failures == [] and len(calls) == len(trainable) >= 2  # each of them trained again
    rerun = {key: v for key, v in _values(board).items() if key[0] in methods}
    assert len({key[0] for key in rerun}) == len(methods)
    assert {key: v for key, v in _values(second).items() if key[0] in methods} == rerun


def test_corrupt_video_is_skipped_and_counted(tiny_data, tmp_path):
    data = tmp_path / 'data'
    shutil.copytree(tiny_data, data)
    victim = (data / 'test.txt').read_text().split()[0]
    (data / victim).write_bytes(b'not a video at all')
    board, failures = run_suite(Suite.load(TINY, data_root=str(data)), out=tmp_path / 'results',
                                work_root=tmp_path / 'work', methods=['RandomInit'])
    assert failures == []
    rec = read_json(tmp_path / 'results/runs/RandomInit/seed0/retrieval.json')
    total = len((data / 'test.txt').read_text().splitlines())
    assert rec['evaluation']['num_test'] == total - 1
    assert rec['evaluation']['num_failed'] == {'train': 0, 'test': 1}


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(['run', str(tmp_path / 'missing.py')]) == 2
    assert 'configs/suites' in capsys.readouterr().err
    assert main(['run', str(TINY), '--methods', 'NoSuchMethod', '--data-root',
                 str(tmp_path / 'd'), '--out', str(tmp_path / 'r')]) == 2
    assert "NoSuchMethod" in capsys.readouterr().err
    assert main(['leaderboard', str(tmp_path / 'nothing')]) == 2
    assert 'run a suite first' in capsys.readouterr().err


def test_leaderboard_command_redraws_a_budget_curve(first_run, tmp_path, capsys):
    base, _ = first_run
    results = tmp_path / 'results'
    shutil.copytree(base / 'results', results)
    assert main(['leaderboard', str(results), '--budget-scale', '0.5,1']) == 2
    assert 'budget_scale/x0.5/runs' in capsys.readouterr().err  # that scale was never run
    shutil.copytree(base / 'results', results / 'budget_scale' / 'x0.5')
    assert main(['leaderboard', str(results), '--budget-scale', '0.5,1']) == 0
    assert 'budget curve:' in capsys.readouterr().out
    for scale_results in (results, results / 'budget_scale' / 'x0.5'):
        assert read_json(scale_results / 'leaderboard.json')['suite'] == 'tiny'
    curve = read_json(results / 'budget_curve.json')
    assert curve['scales'] == [0.5, 1.0] and (results / 'budget_curve.png').is_file()
    assert {t['method'] for t in curve['take_off']} == {
        r['method'] for r in read_json(results / 'leaderboard.json')['rows']
        if not r['compute'].get('untrained')}


def test_leaderboard_command_rebuilds_the_same_files(first_run, capsys):
    base, _ = first_run
    files = [base / 'results' / name for name in ('leaderboard.json', 'leaderboard.md')]
    before = [f.read_bytes() for f in files]
    assert main(['leaderboard', str(base / 'results')]) == 0
    assert [f.read_bytes() for f in files] == before
    assert 'RandomInit' in capsys.readouterr().out


def test_two_process_data_parallel_run(tiny_data, tmp_path):
    # torchrun with 2 CPU processes (gloo): rank 0 prepares data and evaluates, both train.
    import os
    import socket
    import subprocess
    import sys
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           '--master_addr', '127.0.0.1', '--master_port', str(port), '-m', 'vssl_bench.cli', 'run', str(TINY), '--methods', 'CVRL',
           '--launcher', 'pytorch', '--data-root', str(tiny_data),
           '--out', str(tmp_path / 'results'), '--work-dir', str(tmp_path / 'work')]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rec = read_json(tmp_path / 'results/runs/CVRL/seed0/linear.json')
    # Two ranks: a step counts both ranks' FLOPs, so the budget buys half the steps of one rank.
    stats = rec['pretrain']
    assert stats['world_size'] == 2 and stats['iters'] >= 1
    assert abs(stats['train_tflops'] * 1e12 - 1.3e10) <= stats['gflops_per_step'] * 1e9
    assert (tmp_path / 'results/leaderboard.json').is_file()


# ------------------------------------------------------------------------------- feature cache
def _count_extractions(monkeypatch):
    import vssl_bench.harness.feature_cache as cache_module
    calls = []
    real = cache_module.extract_features

    def spy(model, dataset, **kwargs):
        calls.append(dataset.ann_file)
        return real(model, dataset, **kwargs)
    monkeypatch.setattr(cache_module, 'extract_features', spy)
    return calls


def _feature_suite(tiny_data, **view):
    suite = Suite.load(TINY, data_root=str(tiny_data))
    suite.evaluation['protocols'] = [dict(type='LinearProbe', Cs=[1.0]), dict(type='KNN', k=3),
                                     dict(type='Retrieval')]
    suite.evaluation['view'].update(view)
    return suite


def test_feature_protocols_extract_each_split_once_and_cache(tiny_data, tmp_path, monkeypatch):
    calls = _count_extractions(monkeypatch)
    work = tmp_path / 'work'
    run = dict(work_root=work, methods=['RandomInit'])
    assert run_suite(_feature_suite(tiny_data), out=tmp_path / 'r1', **run)[1] == []
    assert sorted(Path(c).name for c in calls) == ['test.txt', 'train.txt']
    assert len(list((work / 'feature_cache').glob('*.npz'))) == 2
    # linear, knn and retrieval records all came from those features; a new results folder
    # (records to write again) reads the cache and extracts nothing.
    for protocol in ('linear', 'knn', 'retrieval'):
        assert (tmp_path / 'r1/runs/RandomInit/seed0' / f'{protocol}.json').is_file()
    calls.clear()
    assert run_suite(_feature_suite(tiny_data), out=tmp_path / 'r2', **run)[1] == []
    assert calls == []
    # --no-cache: extracted again, and the cache is neither read nor written.
    assert run_suite(_feature_suite(tiny_data), out=tmp_path / 'r3', use_cache=False,
                     **run)[1] == []
    assert len(calls) == 2 and len(list((work / 'feature_cache').glob('*.npz'))) == 2
    # Another view: new features.
    calls.clear()
    assert run_suite(_feature_suite(tiny_data, num_clips=3), out=tmp_path / 'r4', **run)[1] == []
    assert len(calls) == 2 and len(list((work / 'feature_cache').glob('*.npz'))) == 4


def test_feature_cache_key_follows_the_weights(tiny_data, tmp_path, monkeypatch):
    import torch

    import vssl_bench.engine.pretrain as pt
    from vssl_bench.harness.components import load_plugins
    from vssl_bench.harness.feature_cache import split_features
    from vssl_bench.harness.suite_config import load_method_config
    load_plugins()
    suite = Suite.load(TINY, data_root=str(tiny_data))
    cfg = load_method_config(suite.methods[0], suite)
    model = pt.init_untrained(cfg, 0)
    calls = _count_extractions(monkeypatch)
    cache = tmp_path / 'cache'
    first = split_features(model, cfg.model.to_dict(), suite, 'test', cache)
    split_features(model, cfg.model.to_dict(), suite, 'test', cache)
    assert len(calls) == 1
    with torch.no_grad():  # one weight changed: extracted again
        next(model.backbone.parameters()).mul_(1.5)
    changed = split_features(model, cfg.model.to_dict(), suite, 'test', cache)
    assert len(calls) == 2 and not (changed.clips == first.clips).all()
    # The same weights as another method config (architecture) are another key too.
    other = dict(cfg.model.to_dict(), channels_last=False)
    split_features(model, other, suite, 'test', cache)
    assert len(calls) == 3


def test_cli_no_cache_flag(monkeypatch, tmp_path):
    import vssl_bench.harness.suite as suite_module
    seen = {}
    monkeypatch.setattr(suite_module, 'run_suite',
                        lambda suite, **kw: seen.update(kw) or ({'suite': 'x', 'rows': []}, []))
    monkeypatch.setattr('vssl_bench.report.leaderboard.format_table', lambda board: '')
    assert main(['run', str(TINY), '--no-cache', '--data-root', str(tmp_path)]) == 0
    assert seen['use_cache'] is False
    assert main(['run', str(TINY), '--data-root', str(tmp_path)]) == 0
    assert seen['use_cache'] is True


def test_untrained_init_logs_no_line_per_parameter(tiny_data, capsys):
    """mmengine prints one INFO block per parameter when init_weights runs outside a Runner;
    the harness initialises quietly, still at the seeded weights, and restores the log level."""
    import torch
    from mmengine.logging import MMLogger

    import vssl_bench.engine.pretrain as pt
    from vssl_bench.harness.components import load_plugins
    from vssl_bench.harness.suite_config import load_method_config
    load_plugins()
    suite = Suite.load(TINY, data_root=str(tiny_data))
    cfg = load_method_config(suite.methods[0], suite)
    level = MMLogger.get_current_instance().level
    first, second = pt.init_untrained(cfg, 0), pt.init_untrained(cfg, 0)
    out = capsys.readouterr()
    assert 'Initialized by' not in out.out + out.err
    assert 'The value is the same before and after' not in out.out + out.err
    assert MMLogger.get_current_instance().level == level
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)


def test_regenerated_data_is_not_taken_for_the_old(tiny_data, tmp_path):
    """Same file names, new bytes: the feature cache key and the SynthMotion version that enters
    the runs' config hash both change, so neither cached features nor trained weights of the old
    data set are reused."""
    import json
    import os

    import vssl_bench.engine.pretrain as pt
    from vssl_bench.harness.components import load_plugins
    from vssl_bench.harness.feature_cache import feature_key
    from vssl_bench.harness.run_records import generated_data_version, run_config_hash
    from vssl_bench.harness.suite_config import load_method_config
    load_plugins()
    root = tmp_path / 'data'
    shutil.copytree(tiny_data, root)
    suite = Suite.load(TINY, data_root=str(root))
    cfg = load_method_config(suite.methods[0], suite)
    model = pt.init_untrained(cfg, 0)
    before = feature_key(model, cfg.model.to_dict(), suite, 'test')
    assert feature_key(model, cfg.model.to_dict(), suite, 'test') == before
    video = root / next(iter(open(root / 'test.txt'))).split()[0]
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # rewritten
    assert feature_key(model, cfg.model.to_dict(), suite, 'test') != before

    version = generated_data_version(suite.data)
    assert version == dict(dataset='synthmotion', scale='tiny', seed=0,
                           version=json.loads((root / 'meta.json').read_text())['version'])
    run_hash = run_config_hash(suite, cfg)
    assert run_config_hash(suite, cfg) == run_hash
    meta = json.loads((root / 'meta.json').read_text())
    (root / 'meta.json').write_text(json.dumps(dict(meta, version=meta['version'] - 1)))
    assert generated_data_version(suite.data) != version
    assert run_config_hash(suite, cfg) != run_hash  # another work dir: no weights reused
    assert generated_data_version(dict(type='ucf101', root=str(root))) == {}


def test_finished_runs_keep_no_resumable_checkpoints(first_run):
    """Once final weights and stats exist the iter_*.pth checkpoints are removed (disk)."""
    base, _ = first_run
    finished = list((base / 'work' / 'pretrain').glob('*/seed0/final_weights.pth'))
    assert finished
    for weights in finished:
        assert (weights.parent / 'pretrain_stats.json').is_file()
        assert list(weights.parent.glob('iter_*.pth')) == []
        assert not (weights.parent / 'last_checkpoint').exists()


def test_failed_videos_are_counted_in_every_record_and_the_leaderboard(tiny_data, tmp_path):
    """Undecodable videos in every split and a video of another size: the suite runs, every
    record counts what it left out (pretraining too), the leaderboard shows it."""
    from tests.conftest import synthetic_frames, write_video
    data = tmp_path / 'data'
    shutil.copytree(tiny_data, data)
    for split in ('pretrain', 'train', 'test'):
        victim = (data / f'{split}.txt').read_text().split()[0]
        (data / victim).write_bytes(b'\x00' * 100 if split == 'train' else b'')
    odd = (data / 'test.txt').read_text().splitlines()[1].split()[0]
    write_video(data / odd, synthetic_frames(24, (48, 40)))  # another size than the rest
    board, failures = run_suite(Suite.load(TINY, data_root=str(data)), out=tmp_path / 'results',
                                work_root=tmp_path / 'work', methods=['Supervised'])
    assert failures == []
    runs = tmp_path / 'results/runs/Supervised/seed0'
    records = {p.stem: read_json(p) for p in runs.glob('*.json')}
    assert sorted(records) == ['finetune', 'knn', 'linear', 'retrieval', 'semisup']
    total = {s: len((data / f'{s}.txt').read_text().splitlines()) for s in ('train', 'test')}
    for name, rec in records.items():
        assert rec['pretrain']['num_failed'] == 1, name
        failed = rec['evaluation']['num_failed']
        assert failed['test'] == 1, name
        # semisup trains on a 1 % subset of the train split, which may not hold the bad video
        assert failed['train'] == 1 or name == 'semisup', name
    finetune_run = records['finetune']['evaluation']['protocol_info']['runs'][0]
    assert finetune_run['num_train'] == total['train'] - 1
    assert finetune_run['num_test'] == total['test'] - 1
    assert all(row['num_failed'] >= 2 for row in board['rows'])
    assert max(row['num_failed'] for row in board['rows']) == 3
    assert 'failed videos' in (tmp_path / 'results/leaderboard.md').read_text()


def test_weights_without_stats_do_not_block_a_rerun(first_run, tiny_data, tmp_path):
    """A kill between final_weights.pth and pretrain_stats.json (or a damaged stats file): the
    rerun trains that run again and ends with the same records."""
    base, _ = first_run
    shutil.copytree(base / 'work', tmp_path / 'work')
    shutil.copytree(base / 'results', tmp_path / 'results')
    (stats,) = (tmp_path / 'work' / 'pretrain').glob('CVRL-*/seed0/pretrain_stats.json')
    stats.write_text('{"iters": ')
    for record in (tmp_path / 'results/runs/CVRL/seed0').glob('*.json'):
        record.unlink()  # records are pending, so the run's weights and stats are needed
    board, failures = run_suite(Suite.load(TINY, data_root=str(tiny_data)),
                                out=tmp_path / 'results', work_root=tmp_path / 'work',
                                methods=['CVRL'])
    assert failures == []
    assert read_json(stats)['iters'] > 0
    for record in (base / 'results/runs/CVRL/seed0').glob('*.json'):
        again = read_json(tmp_path / 'results/runs/CVRL/seed0' / record.name)
        assert again['metrics'] == read_json(record)['metrics']


def test_a_protocol_returning_a_bare_dict_is_named():
    """The interface is ProtocolResult; a protocol written for the old one (a dict of metrics)
    is refused with its name and what to return."""
    from vssl_bench.core.errors import UserError
    from vssl_bench.harness.suite import check_result
    from vssl_bench.protocols import KNN, ProtocolResult
    result = ProtocolResult({'top1': 50.0})
    assert check_result(KNN(), result) is result
    with pytest.raises(UserError, match=r'KNN returned a dict, not a ProtocolResult'):
        check_result(KNN(), {'top1': 50.0})
