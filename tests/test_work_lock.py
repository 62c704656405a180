"""The work-dir locks (vssl_bench/core/lock.py): two runs with one work dir never pretrain the same
(method, seed) at once (the second waits, then reuses the weights), and `vssl-bench clean` is
refused while a run or a `train` uses the work dir."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vssl_bench.cli import main
from vssl_bench.core import lock

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'


def _finished_run(root: Path) -> Path:
    run = root / 'pretrain' / 'CVRL-aaaa' / 'seed0'
    run.mkdir(parents=True)
    (run / 'iter_4.pth').write_bytes(b'c')
    (run / 'final_weights.pth').write_bytes(b'w')
    (run / 'pretrain_stats.json').write_text('{"iters": 4}')
    return run


def test_shared_users_exclude_an_exclusive_holder(tmp_path):
    with lock.share(tmp_path) as users:
        with lock.share(tmp_path):  # any number of runs at once
            with pytest.raises(lock.FolderLocked, match=f'PID {os.getpid()}.*before cleaning'):
                with lock.exclusive(tmp_path, purpose='cleaning it'):
                    pass
        assert users.exists()  # one user left
    assert not users.exists()  # the last user removed it
    with lock.exclusive(tmp_path, purpose='cleaning it'):
        pass
    assert not (tmp_path / lock.USERS_NAME).exists()


def test_stale_lock_files_are_swept_and_held_ones_kept(tmp_path):
    stale = tmp_path / 'a' / lock.LOCK_NAME
    stale.parent.mkdir()
    stale.write_text('{"pid": 1}')
    with lock.hold(tmp_path / 'b') as held:
        assert lock.holder_of(tmp_path / 'b') is not None
        assert lock.holder_of(tmp_path / 'a') is None
        assert lock.sweep_stale([stale, held]) == [stale]
        assert held.exists() and not stale.exists()


def test_clean_during_a_run_is_refused(tmp_path, capsys):
    work = tmp_path / 'work'
    run = _finished_run(work)
    with lock.share(work):  # what `vssl-bench run` and `eval` hold
        assert main(['clean', '--work-dir', str(work), '--weights']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'PID {os.getpid()}' in err[0] and str(work) in err[0]
    assert sorted(p.name for p in run.iterdir()) == ['final_weights.pth', 'iter_4.pth',
                                                    'pretrain_stats.json']
    assert main(['clean', '--work-dir', str(work)]) == 0  # after the run
    assert not (run / 'iter_4.pth').exists()


def test_clean_while_a_train_holds_its_work_dir_is_refused(tmp_path, capsys):
    work = tmp_path / 'work'
    train = work / 'train' / 'CVRL' / 'seed0'
    with lock.hold(train, purpose='trains CVRL seed 0', option='--work-dir'):
        assert main(['clean', '--work-dir', str(work), '--older-than', '1e-9']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(train) in err[0] and f'PID {os.getpid()}' in err[0]
    assert train.is_dir()


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    from vssl_bench.data.synthmotion import generate
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return root


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float) -> bool:
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return text in path.read_text()


def test_second_run_with_the_same_work_dir_waits_for_the_pretraining(tiny_data, tmp_path):
    """Run A (here: the test, holding the run dir's lock as a pretraining does) and run B
    (another --out, the same --work-dir): B does not pretrain CVRL seed 0 while A does; it waits,
    then takes A's weights."""
    import vssl_bench.engine.pretrain as pt
    from vssl_bench.core.io import atomic_write_json
    from vssl_bench.harness.components import load_plugins
    from vssl_bench.harness.run_records import run_work_dir
    from vssl_bench.harness.suite_config import Suite, load_method_config
    load_plugins()
    suite = Suite.load(TINY, data_root=str(tiny_data))
    cfg = load_method_config(next(m for m in suite.methods if 'cvrl' in m['config']), suite)
    work = tmp_path / 'work'
    run = run_work_dir(suite, cfg, 0, work)
    log = tmp_path / 'b.log'
    with lock.hold(run, purpose='pretrains CVRL seed 0'):
        with open(log, 'w') as out:
            b = subprocess.Popen(
                [sys.executable, '-m', 'vssl_bench.cli', 'run', str(TINY), '--methods', 'CVRL',
                 '--out', str(tmp_path / 'out_b'), '--work-dir', str(work), '--data-root',
                 str(tiny_data)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        try:
            assert _wait_for(log, 'waiting for', b, timeout=240), log.read_text()
            time.sleep(1.0)
            assert b.poll() is None and 'pretrained' not in log.read_text()
            assert sorted(p.name for p in run.iterdir()) == [lock.LOCK_NAME]  # B did not start
            model = pt.init_untrained(cfg, 0)  # "A" finishes: stats first, then the weights
            atomic_write_json(run / 'pretrain_stats.json', dict(
                budget=suite.budget.to_dict(), matched=suite.budget.matched, iters=0,
                train_tflops=0.0, epochs=0.0, clips_seen=0, wall_s=0.0, device_s=0.0,
                num_failed=0))
            pt.save_weights(model, run / 'final_weights.pth', cfg.model.to_dict())
        except BaseException:
            b.kill()
            raise
    assert b.wait(timeout=300) == 0, log.read_text()
    text = log.read_text()
    assert f'CVRL seed 0: weights from {run / "final_weights.pth"}' in text, text
    assert 'pretrained' not in text
    assert not (run / lock.LOCK_NAME).exists() and not (work / lock.USERS_NAME).exists()


def test_second_train_into_the_same_work_dir_is_refused(tiny_data, tmp_path, capsys):
    work = tmp_path / 'cvrl'
    config = ROOT / 'configs/methods/cvrl_r3d18w16_8x2_synthmotion.py'
    with lock.hold(work, purpose='trains CVRL seed 0'):
        assert main(['train', str(config), '--budget', 'train_flops=1e10', '--data-root',
                     str(tiny_data), '--work-dir', str(work)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'PID {os.getpid()}' in err[0] and '--work-dir' in err[0]
    assert sorted(p.name for p in work.iterdir()) == []  # nothing trained
