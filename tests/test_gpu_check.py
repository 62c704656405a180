"""`make gpu-check` pieces that run without CUDA: the one-line refusal, MFU, records, report."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from tools.throughput import gpu_check as gc


def test_refuses_in_one_line_without_cuda(monkeypatch, capsys) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert gc.main(['--device', 'cuda', '--out', 'unused.md']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'CUDA' in err and '--device cpu' in err
    assert not Path('unused.md').exists()


def test_peak_and_mfu() -> None:
    assert gc.peak_tflops('NVIDIA H200') == 989.0
    assert gc.peak_tflops('NVIDIA H100 PCIe') == 756.0  # the longer, more specific name wins
    assert gc.peak_tflops('Mystery GPU') is None and gc.peak_tflops('Mystery', 100.0) == 100.0
    assert gc.mfu(494.5, 989.0) == pytest.approx(0.5) and gc.mfu(1.0, None) is None


def _record(root: Path, method: str) -> None:
    path = root / 'runs' / method / 'seed0' / 'linear.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        'method': method, 'seed': 0, 'protocol': 'linear',
        'provenance': {'precision': 'bfloat16'}, 'metrics': {'top1': 50.0},
        'pretrain': {'device_s': 30.1, 'budget': {'unit': 'device_seconds', 'value': 30},
                     'iters': 400, 'peak_mem_mb': 812.5, 'peak_mem_kind': 'cuda_max_allocated'}}))


def test_records_and_report(tmp_path: Path) -> None:
    with pytest.raises(gc.GpuCheckError, match='no run records'):
        gc.suite_records(tmp_path)
    _record(tmp_path, 'CVRL')
    _record(tmp_path, 'Supervised')
    records = gc.suite_records(tmp_path)
    assert [r['method'] for r in records] == ['CVRL', 'Supervised']
    assert records[0]['peak_mem_kind'] == 'cuda_max_allocated'
    results = {'device': 'NVIDIA H200', 'command': 'x', 'wall_s': 300.0, 'steps': {
        'suite': {'wall_s': 100.0, 'records': records},
        'torchrun': {'error': 'torch.distributed.run ... exited 1 (log: t.log)'},
        'r3d18': {'batch_size': 32, 'dtype': 'bfloat16', 'device_name': 'NVIDIA H200',
                  'model_clips_per_s': 900.0, 'gflops_per_clip': 256.0, 'tflops': 230.4,
                  'peak_tflops': 989.0, 'mfu': 230.4 / 989.0}}}
    md = gc.render(results, argparse.Namespace())
    assert '## suite: ok' in md
    assert '| CVRL | bfloat16 | 400 | 30.1 | 812.5 (cuda_max_allocated)' in md
    assert '## torchrun: FAILED' in md and 'exited 1' in md
    assert 'MFU 23.3 % of 989.0 TFLOP/s' in md


def test_failed_command_is_one_line(tmp_path: Path) -> None:
    import sys
    with pytest.raises(gc.GpuCheckError, match=r'exited 3 \(log: '):
        gc._run([sys.executable, '-c', 'raise SystemExit(3)'], tmp_path / 'x.log', 60)
