"""The loader benchmark's pieces (speed claims live in results/throughput/, not in tests)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.throughput import run
from tools.throughput.loader import measure_loader
from tools.throughput.videos import VideoSpec, write_video
from tests.test_resume import tiny_suite  # noqa: F401


@pytest.mark.parametrize('sample,clips', [('cvrl', 2), ('tclr', 10), ('eval', 10)])
def test_measure_loader_counts_clips_and_cpu(tmp_path: Path, sample: str, clips: int) -> None:
    video = write_video(tmp_path / 'v.mp4', VideoSpec('v', 64, 48, 10, 7.0, 'libx264', 20))
    result = measure_loader(video, sample, 'seek', workers=0, min_seconds=0.0, min_samples=2)
    assert result.samples == 2 and result.clips_per_s > 0 and result.cpu_s_per_clip > 0
    row = result.row()
    assert set(row) >= {'decoder', 'video', 'sample', 'workers', 'clips_per_s', 'cpu_s_per_clip'}
    assert (row['decoder'], row['video'], row['workers']) == ('seek', 'v', 0)
    assert result.clips == clips * result.samples  # every view of every clip counts


def test_speedup_and_report() -> None:
    rows = [dict(decoder=d, video='k', sample='cvrl', workers=1, clips_per_s=r,
                 cpu_s_per_clip=c) for d, r, c in (('whole', 2.0, 0.2), ('seek', 7.0, 0.06))]
    assert run.speedup(rows, 'k', 'cvrl', 1) == pytest.approx(3.5)
    assert run.speedup(rows, 'k', 'cvrl', 2) is None
    md = run.render({'command': 'c', 'provenance': {'device': 'cpu'}, 'wall_s': 1.0,
                     'rows': rows, 'speedups': {('k', 'cvrl', 1): 3.5}, 'model': None,
                     'device_augment': {'device': 'cpu', 's_per_clip': 0.01, 'clips': 4},
                     'synthmotion': [{'log': 'data wait 1.0 % of step time'}]})
    assert '| seek | k | cvrl | 1 | 7.0 | 60.00 |' in md and '3.50x clips/s' in md
    assert 'data wait 1.0 % of step time' in md


def test_conv_breakdown_times_every_distinct_convolution() -> None:
    """The step's per-convolution table: shapes captured on the real batch, repeated shapes
    counted, FLOPs as the forward's, no input gradient for the first convolution."""
    import torch
    from torch import nn

    from tools.throughput.step import breakdown_lines, conv_breakdown

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv3d(3, 4, 3, padding=1)
            self.body = nn.Conv3d(4, 4, 3, padding=1)

        def data_preprocessor(self, batch, training):
            return dict(inputs=batch['inputs'])

        def forward(self, inputs, mode='loss'):
            x = self.body(self.body(self.stem(inputs)))  # body runs twice: one row, count 2
            return dict(loss=x.mean())

    rows = conv_breakdown(Tiny(), dict(inputs=torch.randn(2, 3, 4, 8, 8)), repeats=1)
    assert [r['count'] for r in rows] == [1, 2]
    assert rows[0]['grad_input_ms'] is None and rows[1]['grad_input_ms'] > 0
    assert rows[1]['gflop'] == 2 * (2 * 4 * 4 * 8 * 8) * (4 * 27) / 1e9
    assert rows[0]['conv'] == '3->4 k3x3x3 s111 on 4x8x8'
    lines = breakdown_lines(rows)
    assert len(lines) == 2 + len(rows) + 1 and lines[-1].startswith('| all')


@pytest.mark.parametrize('native, forced, wrapper, expected', [
    (True, '', dict(type='AutocastOptimWrapper', dtype='bfloat16'), 'bfloat16'),
    (True, '1', dict(type='AutocastOptimWrapper', dtype='bfloat16'), None),
    (False, '', dict(type='AutocastOptimWrapper', dtype='bfloat16'), None),
    (True, '', dict(type='AutocastOptimWrapper', dtype='bfloat16', enabled=False), None),
    (True, '', dict(type='OptimWrapper'), None)])
def test_harness_dtype_is_what_the_harness_trains_in(monkeypatch, native, forced, wrapper,
                                                     expected) -> None:
    """The training-loop table of the step benchmark runs the step as the harness does: the
    config's bfloat16 autocast where it is native, float32 where emulated, forced or off."""
    import torch
    from mmengine.config import Config

    from tools.throughput.model import harness_dtype
    from vssl_bench.core import precision
    monkeypatch.setattr(precision, 'native_bfloat16', lambda device_type: native)
    monkeypatch.setattr(precision, '_warned', {'cpu'})  # the fallback's one warning: not here
    monkeypatch.setenv(precision.FLOAT32_ENV, forced)
    got = harness_dtype(Config(dict(optim_wrapper=wrapper)))
    assert got == (getattr(torch, expected) if expected else None)


def test_suite_loop_times_the_real_pretraining_per_variant(tiny_suite, tmp_path: Path,
                                                           monkeypatch) -> None:
    """The loop table's rows: a real pretraining of the asked steps, read in process or by a
    worker, augmenting clips in batches or clip by clip, with nothing left changed after."""
    import os

    from tests.test_resume import _trainable
    from tools.throughput.suite_loop import loop_step_times
    from vssl_bench.data.transforms import ClipAugment
    from vssl_bench.engine.pretrain import probe_step
    cfg = _trainable(tiny_suite)['CVRL']
    cfg.train_dataloader.update(num_workers=1, persistent_workers=True)
    flops = probe_step(cfg, 0)[0]
    finished = []
    finish = ClipAugment.finish
    monkeypatch.setattr(ClipAugment, 'finish',
                        lambda self, drawn: finished.append(len(drawn)) or finish(self, drawn))
    monkeypatch.delenv('VSSL_DATA_LOADING', raising=False)
    times, waits = loop_step_times(cfg, 4, flops, tmp_path / 'a', 'in-process', True)
    assert len(times) == len(waits) == 4 and all(0 < w < t for t, w in zip(times, waits))
    assert finished and 'VSSL_DATA_LOADING' not in os.environ
    finished.clear()
    assert len(loop_step_times(cfg, 4, flops, tmp_path / 'b', 'in-process', False)[0]) == 4
    assert finished == []  # clip by clip: the batched half never ran
    assert isinstance(ClipAugment.__dict__['batched'], property)
