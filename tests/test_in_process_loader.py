"""InProcessLoader replays a one-worker loader: the same batches, the same random state of the
training process after every epoch, the same weights after a pretraining (a method that draws
from the global RNG in its step included), and a kill and resume still reproduces the
uninterrupted run."""
import random

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, set_random_seed

from vssl_bench.core.registry import DEFAULT_SCOPE
from vssl_bench.data.in_process_loader import InProcessLoader
from vssl_bench.engine import pretrain as pt
from tests.test_resume import Killed, _assert_same, _train, _trainable, tiny_suite  # noqa: F401


def _epochs(loader, epochs=3):
    """What mmengine's loop sees: an iterator per epoch; the batches, and the training
    process's random state (torch, numpy, random) after each epoch's iterator was made and
    after the epoch."""
    seen = []
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        batches = iter(loader)
        seen.append(('start', torch.get_rng_state(), np.random.get_state()[1].copy(),
                     random.getstate()))
        seen.extend(('batch', b['inputs'], b['data_samples']) for b in batches)
        torch.rand(3)  # the training step draws from the global state between epochs
        seen.append(('end', torch.get_rng_state(), np.random.get_state()[1].copy(),
                     random.getstate()))
    return seen


def _build(loader_cfg, seed):
    with DefaultScope.overwrite_default_scope(DEFAULT_SCOPE):
        return Runner.build_dataloader(loader_cfg, seed=seed)


def _loader(cfg, persistent, seed=3):
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=1, persistent_workers=persistent, batch_size=16)
    set_random_seed(seed)
    return _build(loader_cfg, seed)


def _same(a, b):
    assert [x[0] for x in a] == [x[0] for x in b]
    for x, y in zip(a, b):
        for u, v in zip(x[1:], y[1:]):
            assert (torch.equal(u, v) if isinstance(u, torch.Tensor)
                    else np.array_equal(u, v) if isinstance(u, np.ndarray) else u == v), x[0]


@pytest.mark.parametrize('persistent', [True, False])
def test_batches_and_random_state_equal_a_worker(tiny_suite, persistent):
    cfg = _trainable(tiny_suite)['CVRL']  # ClipAugment: crop, jitter, grayscale, blur
    torch.set_num_threads(2)  # the training process's threads; the worker reads with one
    worker = _epochs(_loader(cfg, persistent))
    replay = InProcessLoader.replaying(_loader(cfg, persistent))
    in_process = _epochs(replay)
    assert torch.get_num_threads() == 2
    assert sum(x[0] == 'batch' for x in worker) == 9  # 48 videos, 16 per batch, 3 epochs
    _same(in_process, worker)
    # a replay that ignored the worker's seeding (a plain num_workers=0 loader) differs
    plain = _loader(cfg, persistent)
    plain_cfg = dict(dataset=plain.dataset, sampler=plain.sampler, batch_size=16,
                     collate_fn=plain.collate_fn)
    with pytest.raises(AssertionError):
        _same(_epochs(torch.utils.data.DataLoader(**plain_cfg)), worker)


def test_replaying_refuses_other_worker_counts(tiny_suite):
    cfg = _trainable(tiny_suite)['CVRL']
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=2, persistent_workers=True)
    with pytest.raises(ValueError, match='replays one worker; this loader has 2'):
        InProcessLoader.replaying(_build(loader_cfg, 0))


# VCOP draws permutations from the global state in its step; CVRL (its augmentation is checked
# batch for batch above) runs in `make ci`, keeping `make test` within its time.
@pytest.mark.parametrize('name', [pytest.param('CVRL', marks=pytest.mark.slow), 'VCOP'])
def test_pretraining_reads_in_process_with_the_weights_of_a_worker(name, tiny_suite, tmp_path,
                                                                   monkeypatch):
    cfg = _trainable(tiny_suite)[name]
    cfg.train_dataloader.batch_size = 16  # 4 steps = 1.33 epochs of the 48 videos
    monkeypatch.setenv(pt.DATA_LOADING_ENV, 'worker')
    worker = _train(cfg, tmp_path / 'worker', monkeypatch, workers=1)
    monkeypatch.setenv(pt.DATA_LOADING_ENV, 'in-process')
    _assert_same(_train(cfg, tmp_path / 'in_process', monkeypatch, workers=1), worker)
    logs = list((tmp_path / 'in_process').rglob('*.log'))  # the choice is logged
    assert any('replaying 1 worker' in p.read_text() for p in logs), logs
    # killed after step 3 (in the second epoch) and resumed: still the worker's weights
    with pytest.raises(Killed):
        _train(cfg, tmp_path / 'killed', monkeypatch, kill_at=3, workers=1)
    _assert_same(_train(cfg, tmp_path / 'killed', monkeypatch, workers=1), worker)


def test_reads_in_process_only_one_worker_and_where_asked(monkeypatch):
    monkeypatch.setattr(pt, 'usable_cores', lambda: 2)
    monkeypatch.delenv(pt.DATA_LOADING_ENV, raising=False)
    assert pt.reads_in_process(1) and not pt.reads_in_process(0)
    assert not pt.reads_in_process(4)
    monkeypatch.setattr(pt, 'usable_cores', lambda: 16)
    assert not pt.reads_in_process(1)
    monkeypatch.setenv(pt.DATA_LOADING_ENV, 'in-process')
    assert pt.reads_in_process(1) and not pt.reads_in_process(2)
    monkeypatch.setenv(pt.DATA_LOADING_ENV, 'worker')
    monkeypatch.setattr(pt, 'usable_cores', lambda: 2)
    assert not pt.reads_in_process(1)
    monkeypatch.setenv(pt.DATA_LOADING_ENV, 'threads')
    with pytest.raises(pt.ConfigError, match="VSSL_DATA_LOADING='threads' is not one of auto"):
        pt.reads_in_process(1)
