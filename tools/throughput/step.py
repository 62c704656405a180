"""`python -m tools.throughput.step`: what the SynthMotion training step spends its time on,
and step variants at equal FLOPs measured side by side, written to results/throughput/step.md.

The step is a suite method's real step (default: CVRL of configs/suites/synthmotion.py, R3D-18
width 16) on one batch of its real data, reused: data preprocessor, forward in mode='loss',
backward, AdamW. Variants are measured in rounds (one step of each variant per round, order
rotating), so a background load on the machine hits them alike; the FLOPs of every variant are
counted and must equal the default's.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from tools.throughput.model import (build_loader, harness_dtype, suite_method_config,
                                    synthmotion_data_wait)
from vssl_bench.core.io import atomic_write_text
from vssl_bench.core.precision import native_bfloat16, precision_name
from vssl_bench.core.provenance import cpu_name
from vssl_bench.engine.budget import step_flops


def _setup(suite_path: str, method: str, data_root: str | None) -> tuple[Any, dict]:
    cfg = suite_method_config(suite_path, method, data_root)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    return cfg, next(iter(build_loader(loader_cfg)))


def _model(cfg: Any, channels_last: bool) -> torch.nn.Module:
    from vssl_bench.engine.pretrain import build_model, init_weights_quietly
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.channels_last = channels_last
    model = build_model(model_cfg)
    init_weights_quietly(model)
    return model.train()


def stepper(model: torch.nn.Module, batch: dict, bf16: bool = False) -> Callable[[], None]:
    """One training step on ``batch``; ``bf16``: the forward under bfloat16 autocast, as the
    configs' AutocastOptimWrapper runs it where bfloat16 is native."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        data = model.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def profile(step: Callable[[], None], top: int = 12) -> str:
    """Table of the operators that take the most CPU time in one step."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    return prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=top)


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def conv_breakdown(model: torch.nn.Module, batch: dict, repeats: int = 3) -> list[dict]:
    """Each distinct 3D convolution of one training step (its shapes captured on the real batch)
    timed alone: forward, the input gradient and the weight gradient (aten's
    ``convolution_backward`` asked for one of them at a time), in ms and GFLOP/s (a gradient
    costs the forward's FLOPs). Rows: ``{conv, count, gflop, fwd_ms, grad_input_ms,
    grad_weight_ms}`` in order of first use."""
    seen: dict[tuple, dict] = {}

    def hook(module: torch.nn.Conv3d, args: tuple, out: torch.Tensor) -> None:
        x = args[0]
        key = (tuple(x.shape), tuple(module.weight.shape), module.stride, module.padding,
               module.dilation, module.groups)
        if key in seen:
            seen[key]['count'] += 1
            return
        seen[key] = dict(count=1, x=x.detach(), w=module.weight.detach(), out=out.detach(),
                         conv=module, first=module.in_channels == 3)
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, torch.nn.Conv3d)]
    with torch.no_grad():
        model(**model.data_preprocessor(batch, True), mode='loss')
    for h in handles:
        h.remove()
    rows = []
    for (xs, ws, stride, padding, dilation, groups), s in seen.items():
        x, w, g = s['x'], s['w'], torch.randn_like(s['out'])
        args = (g, x, w, None, list(stride), list(padding), list(dilation), False,
                [0] * 3, groups)
        gflop = 2 * s['out'].numel() * w[0].numel() / 1e9
        bwd = torch.ops.aten.convolution_backward
        rows.append(dict(
            conv=f'{ws[1]}->{ws[0]} k{"x".join(map(str, ws[2:]))} s{"".join(map(str, stride))}'
                 f' on {"x".join(map(str, xs[2:]))}', count=s['count'], gflop=gflop,
            fwd_ms=1e3 * _timed(lambda: s['conv'](x), repeats),
            # the first convolution's input (the clips) needs no gradient
            grad_input_ms=None if s['first'] else 1e3 * _timed(
                lambda: bwd(*args, [True, False, False]), repeats),
            grad_weight_ms=1e3 * _timed(lambda: bwd(*args, [False, True, False]), repeats)))
    return rows


def breakdown_lines(rows: list[dict]) -> list[str]:
    lines = ['| convolution (in->out, kernel, stride, on T x H x W) | per step | GFLOP | '
             'forward ms (GFLOP/s) | input grad ms (GFLOP/s) | weight grad ms (GFLOP/s) |',
             '|---|---|---|---|---|---|']
    total = dict(fwd_ms=0.0, grad_input_ms=0.0, grad_weight_ms=0.0)
    for r in rows:
        cells = []
        for key in total:
            if r[key] is None:
                cells.append('-')
                continue
            total[key] += r['count'] * r[key]
            cells.append(f'{r[key]:.1f} ({r["gflop"] / r[key] * 1e3:.0f})')
        lines.append(f'| {r["conv"]} | {r["count"]} | {r["gflop"]:.2f} | ' + ' | '.join(cells)
                     + ' |')
    lines.append('| all, times their count per step | | | ' + ' | '.join(
        f'{v / 1e3:.2f} s' for v in total.values()) + ' |')
    return lines


def loop_lines(suite: str, method: str, data_root: str | None, steps: int) -> list[str]:
    """The step inside a training loop that reads real batches from the frame cache: where the
    clip augmentation runs (loader worker or the step) and how many workers, against the same
    step on one batch reused (no loader). On a 2-core CPU a worker's augmentation competes
    with the step's threads even when the step never waits for data."""
    cfg = suite_method_config(suite, method, data_root)
    cache = cfg.train_dataloader.dataset.cache_dir
    dtype = harness_dtype(cfg)
    lines = ['## The step in a training loop', '',
             f'{steps} steps after 2 warm-up steps, batches from the frame cache, the step in '
             f'{str(dtype).split(".")[-1] + " autocast" if dtype else "float32"} as the harness '
             'trains it here (channels_last_3d); "alone": the same step on one batch reused, no '
             'loader. DeviceClipAugment (opt-in) leaves the photometric half of the '
             'augmentation to the step (batched). Loader "1 in-process": the batches of one '
             'worker read in the training process (InProcessLoader, the same batches; what '
             'pretraining does on CPUs of up to 2 cores); "0": a plain in-process loader '
             '(other random draws).', '',
             '| clip transform | loader workers | s/step | clips/s | data wait | s/step alone '
             '| loop / alone |',
             '|---|---|---|---|---|---|---|']
    for transform in ('ClipAugment', 'DeviceClipAugment'):
        for workers, in_process in ((1, False), (1, True), (0, False)):
            r = synthmotion_data_wait(suite, method, data_root, 'cache', steps=steps,
                                      workers=workers, cache_dir=cache, transform=transform,
                                      in_process=in_process)
            ratio = r['s_per_step'] / r['s_per_step_without_loader']
            lines.append(f'| {transform} | {workers}{" in-process" if in_process else ""} | '
                         f'{r["s_per_step"]:.3f} | {r["clips_per_s"]:.1f} | '
                         f'{100 * r["data_wait_fraction"]:.1f} % | '
                         f'{r["s_per_step_without_loader"]:.3f} | {ratio:.2f}x |')
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m tools.throughput.step')
    p.add_argument('--suite', default='configs/suites/synthmotion.py')
    p.add_argument('--method', default='cvrl')
    p.add_argument('--data-root', default=None)
    p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--out', default='results/throughput/step.md')
    p.add_argument('--loader-steps', type=int, default=5,
                   help='steps of each training-loop variant (0 skips that table)')
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    cfg, batch = _setup(args.suite, args.method, args.data_root)
    # (channels_last, bfloat16 autocast); bfloat16 only where it is native (emulated it is
    # tens of times slower, vssl_bench/core/precision.py)
    variants = {'channels_last_3d, float32': (True, False),
                'contiguous (NCDHW), float32': (False, False)}
    if native_bfloat16('cpu'):
        variants['channels_last_3d, bfloat16 autocast'] = (True, True)
    steps, flops = {}, {}
    for name, (channels_last, bf16) in variants.items():
        model = _model(cfg, channels_last)
        flops[name] = step_flops(model, batch)
        steps[name] = stepper(model, batch, bf16)
        steps[name]()  # warm-up
    base = next(iter(variants))
    if len(set(flops.values())) != 1:
        raise RuntimeError(f'variants count different FLOPs per step: {flops}')
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    inputs = batch['inputs']
    clips = inputs.shape[0] * (inputs.shape[1] if inputs.dim() == 6 else 1)
    lines = ['# SynthMotion training step: profile and variants at equal FLOPs', '',
             f'`python -m tools.throughput.step {" ".join(argv or sys.argv[1:])}`: '
             f'{cfg.method_name}, {clips} clips per step, {flops[base] / 1e9:.1f} GFLOPs per '
             f'step (counted, equal for every variant), {torch.get_num_threads()} threads, '
             f'{args.rounds} rounds; median step time. This CPU: {cpu_name()}; bfloat16 '
             f'{"native" if native_bfloat16("cpu") else "not native (not measured)"}, so the '
             f'harness trains in {precision_name()} here.', '',
             '| variant | s/step | clips/s | GFLOP/s | vs first |', '|---|---|---|---|---|']
    median = {n: sorted(t)[len(t) // 2] for n, t in times.items()}
    for name in names:
        lines.append(f'| {name} | {median[name]:.3f} | {clips / median[name]:.1f} | '
                     f'{flops[name] / median[name] / 1e9:.1f} | '
                     f'{median[base] / median[name]:.2f}x |')
    lines += ['', '## Where the first variant\'s step spends its CPU time', '', '```',
              profile(steps[base]), '```', '',
              '## Each convolution of the first variant\'s step, timed alone', '',
              'Forward, input gradient and weight gradient of every distinct 3D convolution '
              '(channels_last_3d, the step\'s real shapes), each the mean of 3 calls after a '
              'warm-up call; GFLOP/s counts a gradient at the forward\'s FLOPs.', '', *breakdown_lines(conv_breakdown(
                  _model(cfg, True), batch))]
    if args.loader_steps:
        lines += ['', *loop_lines(args.suite, args.method, args.data_root, args.loader_steps)]
    atomic_write_text(Path(args.out), '\n'.join(lines) + '\n')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
