"""Kill and resume: a pretraining interrupted right after a checkpoint and run again ends with
the same weights, bit for bit, as an uninterrupted run (every trainable method of the tiny
suite); a pointer to a missing or half-written checkpoint never blocks the rerun."""
import shutil
from pathlib import Path

import pytest
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from vssl_bench.data.synthmotion import generate
from vssl_bench.engine import checkpoints
from vssl_bench.engine import pretrain as pt
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite_config import Suite, load_method_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / 'configs/suites/tiny.py'
STEPS = 4  # checkpoints after every step (pretrain saves 4 per run)


class Killed(Exception):
    """Stands for a kill -9 right after the checkpoint of a step was written."""


@HOOKS.register_module(force=True)
class KillAfterStepHook(Hook):
    priority = 'LOWEST'  # after the CheckpointHook of the same step

    def __init__(self, step: int) -> None:
        self.step = step

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.step:
            raise Killed(f'killed after step {self.step}')


@pytest.fixture(scope='module')
def tiny_suite(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthmotion_tiny')
    generate(root, scale='tiny', seed=0, progress=False)
    return Suite.load(TINY, data_root=str(root))


def _trainable(suite):
    load_plugins()
    cfgs = [load_method_config(entry, suite) for entry in suite.methods]
    return {cfg.method_name: cfg for cfg in cfgs if pt.MODELS.get(cfg.model.type).trainable}


def _train(cfg, work, monkeypatch, kill_at=None, workers=0):
    cfg = cfg.copy()
    cfg.train_dataloader.num_workers = workers
    cfg.train_dataloader.persistent_workers = workers > 0
    original = pt.runner_cfg

    def with_kill(*args, **kwargs):
        rc = original(*args, **kwargs)
        if kill_at is not None:
            rc.custom_hooks.append(dict(type='KillAfterStepHook', step=kill_at))
        return rc

    monkeypatch.setattr(pt, 'runner_cfg', with_kill)
    batch = cfg.train_dataloader.batch_size
    budget = dict(unit='epochs', value=STEPS * batch / 48)  # tiny: 48 pretraining videos
    model, stats = pt.pretrain(cfg, work_dir=work, seed=0, budget=budget, log_interval=1)
    monkeypatch.setattr(pt, 'runner_cfg', original)
    assert stats['iters'] == STEPS
    return model.state_dict()


def _assert_same(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []


# `make test` kills and resumes the two headline methods; the others (and VCOP with a data
# worker) are marked slow and run by `make ci`, which keeps `make test` within its time.
METHODS = ['CVRL', 'TCLR'] + [pytest.param(name, marks=pytest.mark.slow) for name in
                              ('FrameSimCLR', 'RhoBYOL', 'RhoMoCo', 'Supervised', 'VCOP')]


@pytest.mark.parametrize('name', METHODS)
def test_killed_and_resumed_equals_uninterrupted(name, tiny_suite, tmp_path, monkeypatch):
    cfg = _trainable(tiny_suite)[name]
    reference = _train(cfg, tmp_path / 'whole', monkeypatch)
    with pytest.raises(Killed):
        _train(cfg, tmp_path / 'killed', monkeypatch, kill_at=2)
    # the newest checkpoint, complete, named by the pointer; the older one pruned after it
    assert checkpoints.checkpoints(tmp_path / 'killed') == [tmp_path / 'killed' / 'iter_2.pth']
    assert (tmp_path / 'killed' / 'last_checkpoint').read_text() == str(
        tmp_path / 'killed' / 'iter_2.pth')
    _assert_same(_train(cfg, tmp_path / 'killed', monkeypatch), reference)


@pytest.mark.slow
def test_vcop_resume_with_a_data_worker(tiny_suite, tmp_path, monkeypatch):
    """The default suite loads data in a worker process: resume matches there too."""
    cfg = _trainable(tiny_suite)['VCOP']
    reference = _train(cfg, tmp_path / 'whole', monkeypatch, workers=1)
    with pytest.raises(Killed):
        _train(cfg, tmp_path / 'killed', monkeypatch, kill_at=3, workers=1)
    _assert_same(_train(cfg, tmp_path / 'killed', monkeypatch, workers=1), reference)


def _fake_checkpoint(path: Path, payload=b'x') -> None:
    torch.save({'payload': payload}, path)


def test_pointer_to_a_missing_checkpoint_falls_back_to_the_newest_complete(tmp_path):
    _fake_checkpoint(tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_3.pth').write_bytes(b'PK\x03\x04 half written')  # truncated
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))  # deleted
    assert checkpoints.prepare_resume(tmp_path) == tmp_path / 'iter_2.pth'
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')
    assert not (tmp_path / 'iter_3.pth').exists()


def test_pointer_to_a_truncated_checkpoint_without_fallback_restarts(tmp_path):
    _fake_checkpoint(tmp_path / 'iter_4.pth', payload=b'y' * 5000)
    data = (tmp_path / 'iter_4.pth').read_bytes()
    (tmp_path / 'iter_4.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    assert checkpoints.prepare_resume(tmp_path) is None
    assert not (tmp_path / 'last_checkpoint').exists()


def test_checkpoint_without_pointer_is_found_and_moved_work_dir_followed(tmp_path):
    _fake_checkpoint(tmp_path / 'iter_1.pth')
    _fake_checkpoint(tmp_path / 'iter_10.pth')
    assert checkpoints.prepare_resume(tmp_path) == tmp_path / 'iter_10.pth'
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/old_work_dir/iter_1.pth')
    assert checkpoints.prepare_resume(tmp_path) == tmp_path / 'iter_1.pth'


def test_kill_between_pruning_and_pointer_cannot_block_the_rerun(tiny_suite, tmp_path,
                                                                 monkeypatch):
    """The audit's CVRL failure: the pointer named iter_1.pth, already deleted, when the run
    was killed. The rerun resumes from the newest complete checkpoint and matches."""
    cfg = _trainable(tiny_suite)['CVRL']
    reference = _train(cfg, tmp_path / 'whole', monkeypatch)
    work = tmp_path / 'killed'
    with pytest.raises(Killed):
        _train(cfg, work, monkeypatch, kill_at=2)
    (work / 'last_checkpoint').write_text(str(work / 'iter_1.pth'))
    shutil.copy(work / 'iter_2.pth', work / 'iter_3.pth')
    with open(work / 'iter_3.pth', 'r+b') as f:  # a half-written newer checkpoint
        f.truncate(f.seek(0, 2) // 2)
    _assert_same(_train(cfg, work, monkeypatch), reference)
    assert checkpoints.prune(work) > 0 and checkpoints.checkpoints(work) == []


@pytest.mark.parametrize('stats_text', [None, '', '{"iters": 3', '[1, 2]'])
def test_weights_without_readable_stats_do_not_block_a_rerun(tmp_path, stats_text):
    weights, stats = tmp_path / 'final_weights.pth', tmp_path / 'pretrain_stats.json'
    torch.save({'w': torch.zeros(1)}, weights)
    if stats_text is not None:
        stats.write_text(stats_text)
    assert checkpoints.finished_stats(weights, stats) is None
    assert not weights.exists()  # the run is trained (or resumed) again, not read


def test_finished_run_reads_its_stats(tmp_path):
    weights, stats = tmp_path / 'final_weights.pth', tmp_path / 'pretrain_stats.json'
    torch.save({'w': torch.zeros(1)}, weights)
    stats.write_text('{"iters": 3}')
    assert checkpoints.finished_stats(weights, stats) == {'iters': 3}
    assert checkpoints.finished_stats(tmp_path / 'missing.pth', stats) is None
