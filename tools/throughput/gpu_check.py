"""`make gpu-check` = `python -m tools.throughput.gpu_check`: what a session lent one CUDA
device checks in under 10 minutes, written to ``results/throughput/gpu.md``:

1. the gpu_check suite (tiny SynthMotion, device-seconds budget, the configs' bfloat16 autocast)
   on the device: precision and peak CUDA memory from its records;
2. the same suite's CVRL under a one-process torchrun (NCCL process group);
3. the loader benchmark with the model measurements on the device (bfloat16);
4. R3D-18 16x112^2 training throughput and its model FLOPs utilisation (MFU).

``--device cpu`` runs the same steps on the CPU (gloo instead of NCCL), for testing the check
where no GPU is; on CUDA it stops with one line when no device is visible.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from vssl_bench.core.io import atomic_write_text
from vssl_bench.core.records import RunRecord

SUITE = 'configs/suites/gpu_check.py'
# Dense bfloat16 tensor-core peaks (TFLOP/s, vendor data sheets, no sparsity) by device name.
PEAK_BF16_TFLOPS = {'H200': 989.0, 'H100 SXM': 989.0, 'H100 PCIe': 756.0, 'H100': 989.0,
                    'A100': 312.0, 'L40S': 362.0, 'L4': 121.0, 'A10': 125.0, 'RTX 4090': 165.0}


class GpuCheckError(RuntimeError):
    """A step of the check could not run (its message is one line)."""


def require_device(device: str) -> None:
    """One-line error when ``device`` is CUDA and none is visible."""
    if device == 'cuda' and not torch.cuda.is_available():
        raise GpuCheckError('gpu-check needs a CUDA device and torch sees none '
                            '(torch.cuda.is_available() is False): run it on a GPU machine, or '
                            '`python -m tools.throughput.gpu_check --device cpu` to test it')


def peak_tflops(device_name: str, override: float | None = None) -> float | None:
    """Peak bfloat16 TFLOP/s of a device from its name (None if unknown), or ``override``."""
    if override:
        return override
    for key in sorted(PEAK_BF16_TFLOPS, key=len, reverse=True):
        if key.lower() in device_name.lower():
            return PEAK_BF16_TFLOPS[key]
    return None


def mfu(achieved_tflops: float, peak: float | None) -> float | None:
    return None if not peak else achieved_tflops / peak


def _run(cmd: list[str], log: Path, timeout: int, env: dict | None = None) -> float:
    """Run ``cmd`` with output to ``log``; its wall seconds, GpuCheckError when it fails."""
    start = time.perf_counter()
    with open(log, 'w') as f:
        try:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                env=dict(os.environ, **(env or {}))).returncode
        except subprocess.TimeoutExpired:
            raise GpuCheckError(f'{" ".join(cmd[:6])} ... ran past {timeout} s (log: {log})')
    if rc != 0:
        raise GpuCheckError(f'{" ".join(cmd[:6])} ... exited {rc} (log: {log})')
    return time.perf_counter() - start


def suite_records(results: Path) -> list[dict[str, Any]]:
    """Per method: precision, device seconds, peak memory and its kind, linear top-1."""
    rows = []
    for path in sorted(results.glob('runs/*/seed*/linear.json')):
        rec = RunRecord.from_dict(json.loads(path.read_text()), where=str(path))
        pre = rec.pretrain or {}
        rows.append({'method': rec.method, 'precision': (rec.provenance or {}).get('precision'),
                     'device_s': pre.get('device_s'), 'budget': pre.get('budget'),
                     'iters': pre.get('iters'), 'peak_mem_mb': pre.get('peak_mem_mb'),
                     'peak_mem_kind': pre.get('peak_mem_kind'),
                     'linear_top1': rec.metrics.get('top1')})
    if not rows:
        raise GpuCheckError(f'no run records under {results}/runs')
    return rows


def step_suite(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out = work / 'suite'
    wall = _run([sys.executable, '-m', 'vssl_bench.cli', 'run', SUITE, '--out', str(out),
                 '--work-dir', str(work / 'work')], work / 'suite.log', 300, args.env)
    return {'wall_s': round(wall, 1), 'records': suite_records(out)}


def step_torchrun(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out = work / 'torchrun'
    log = work / 'torchrun.log'
    env = dict(args.env, NCCL_DEBUG='INFO')
    wall = _run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=1',
                 '-m', 'vssl_bench.cli', 'run', SUITE, '--methods', 'CVRL', '--launcher',
                 'pytorch', '--out', str(out), '--work-dir', str(work / 'work_ddp')],
                log, 300, env)
    text = log.read_text(errors='replace')
    backend = 'nccl' if 'NCCL INFO' in text else 'gloo'
    return {'wall_s': round(wall, 1), 'backend': backend, 'records': suite_records(out)}


def step_loader(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out = work / 'loader'
    cmd = [sys.executable, '-m', 'tools.throughput', 'loader', '--out', str(out),
           '--videos', str(work / 'videos'), '--seconds', '1', '--samples', '2',
           '--decoders', 'whole,seek', '--videos-only', 'kinetics_like_h264', '--device',
           args.device, '--model-batch',
           str(args.batch), '--cache-dir', str(work / 'frame_cache'), '--suite', SUITE]
    if args.device == 'cuda':
        cmd.append('--bf16')
    wall = _run(cmd, work / 'loader.log', 420, args.env)
    return {'wall_s': round(wall, 1), 'md': (out / 'loader.md').read_text()}


def step_r3d18(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tools.throughput.model import r3d18_throughput
    result = r3d18_throughput(args.batch, steps=args.steps, device=args.device,
                              bf16=args.device == 'cuda')
    name = torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu'
    peak = peak_tflops(name, args.peak_tflops)
    result.update(device_name=name, peak_tflops=peak, mfu=mfu(result['tflops'], peak))
    return result


STEPS: list[tuple[str, Callable[[argparse.Namespace, Path], dict[str, Any]]]] = [
    ('suite', step_suite), ('torchrun', step_torchrun), ('loader', step_loader),
    ('r3d18', step_r3d18)]


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = ['# GPU check', '', f'`make gpu-check` on {results["device"]}, '
             f'{results["wall_s"]:.0f} s in all (`{results["command"]}`).', '']
    for name, _ in STEPS:
        res = results['steps'].get(name)
        if res is None:
            continue
        if 'error' in res:
            lines += [f'## {name}: FAILED', '', res['error'], '']
            continue
        lines += [f'## {name}: ok', '']
        if name in ('suite', 'torchrun'):
            if name == 'torchrun':
                lines += [f'One-process torchrun, process group backend: {res["backend"]}.', '']
            lines += ['| method | precision | iters | device s | peak memory (MB, kind) | '
                      'linear top-1 |', '|---|---|---|---|---|---|']
            for r in res['records']:
                lines.append(f'| {r["method"]} | {r["precision"]} | {r["iters"]} | '
                             f'{r["device_s"]} | {r["peak_mem_mb"]} ({r["peak_mem_kind"]}) | '
                             f'{r["linear_top1"]} |')
        elif name == 'loader':
            lines += [line.replace('# ', '### ', 1) if line.startswith('#') else line
                      for line in res['md'].splitlines()]
        else:
            util = (f'{100 * res["mfu"]:.1f} % of {res["peak_tflops"]} TFLOP/s'
                    if res['mfu'] is not None else 'unknown (no peak known for this device: '
                    'pass --peak-tflops)')
            lines.append(f'R3D-18 16x112^2, batch {res["batch_size"]}, {res["dtype"]} on '
                         f'{res["device_name"]}: {res["model_clips_per_s"]} clips/s, '
                         f'{res["gflops_per_clip"]} GFLOPs per clip per training step, '
                         f'{res["tflops"]} TFLOP/s, MFU {util}.')
        lines.append(f'\n({res.get("wall_s", "-")} s)\n' if 'wall_s' in res else '')
    return '\n'.join(lines) + '\n'


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='python -m tools.throughput.gpu_check',
                                description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    p.add_argument('--out', default='results/throughput/gpu.md')
    p.add_argument('--work-dir', default='work_dirs/gpu_check')
    p.add_argument('--batch', type=int, default=32, help='R3D-18 clips per step')
    p.add_argument('--steps', type=int, default=10, help='timed R3D-18 steps')
    p.add_argument('--peak-tflops', type=float, default=None,
                   help='peak bfloat16 TFLOP/s of the device, when its name is not known')
    p.add_argument('--only', default=None, help='comma-separated steps (default: all)')
    args = p.parse_args(argv)
    # --device cpu hides the GPUs from the child processes, so they run where this one does.
    args.env = {'CUDA_VISIBLE_DEVICES': ''} if args.device == 'cpu' else {}
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        require_device(args.device)
    except GpuCheckError as exc:
        print(exc, file=sys.stderr)
        return 2
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    only = set(args.only.split(',')) if args.only else {name for name, _ in STEPS}
    results: dict[str, Any] = {'steps': {}, 'command': 'python -m tools.throughput.gpu_check '
                               + ' '.join(argv), 'device': torch.cuda.get_device_name()
                               if args.device == 'cuda' else 'cpu (dry run)'}
    for name, step in STEPS:
        if name not in only:
            continue
        print(f'gpu-check: {name} ...', flush=True)
        try:
            results['steps'][name] = step(args, work)
        except GpuCheckError as exc:
            results['steps'][name] = {'error': str(exc)}
        print(f'gpu-check: {name}: {"FAILED" if "error" in results["steps"][name] else "ok"}',
              flush=True)
    results['wall_s'] = time.perf_counter() - start
    atomic_write_text(args.out, render(results, args))
    print(Path(args.out).read_text())
    return 1 if any('error' in r for r in results['steps'].values()) else 0


if __name__ == '__main__':
    sys.exit(main())
