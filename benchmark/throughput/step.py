"""`python -m benchmark.throughput.step`: what the SynthMotion training step spends its time on,
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

from benchmark.budget import step_flops
from benchmark.io import atomic_write_text
from benchmark.throughput.model import build_loader, suite_method_config


def _setup(suite_path: str, method: str, data_root: str | None) -> tuple[Any, dict]:
    cfg = suite_method_config(suite_path, method, data_root)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    return cfg, next(iter(build_loader(loader_cfg)))


def _model(cfg: Any, channels_last: bool) -> torch.nn.Module:
    from benchmark.pretrain import build_model, init_weights_quietly
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.channels_last = channels_last
    model = build_model(model_cfg)
    init_weights_quietly(model)
    return model.train()


def _stepper(model: torch.nn.Module, batch: dict) -> Callable[[], None]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        data = model.data_preprocessor(batch, True)
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m benchmark.throughput.step')
    p.add_argument('--suite', default='configs/suites/synthmotion.py')
    p.add_argument('--method', default='cvrl')
    p.add_argument('--data-root', default=None)
    p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--out', default='results/throughput/step.md')
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    cfg, batch = _setup(args.suite, args.method, args.data_root)
    variants = {'default (channels_last_3d)': True, 'contiguous (NCDHW)': False}
    steps, flops = {}, {}
    for name, channels_last in variants.items():
        model = _model(cfg, channels_last)
        flops[name] = step_flops(model, batch)
        steps[name] = _stepper(model, batch)
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
             f'`python -m benchmark.throughput.step {" ".join(argv or sys.argv[1:])}`: '
             f'{cfg.method_name}, {clips} clips per step, {flops[base] / 1e9:.1f} GFLOPs per '
             f'step (counted, equal for every variant), float32, {torch.get_num_threads()} '
             f'threads, {args.rounds} rounds; median step time.', '',
             '| variant | s/step | clips/s | GFLOP/s | vs default |', '|---|---|---|---|---|']
    median = {n: sorted(t)[len(t) // 2] for n, t in times.items()}
    for name in names:
        lines.append(f'| {name} | {median[name]:.3f} | {clips / median[name]:.1f} | '
                     f'{flops[name] / median[name] / 1e9:.1f} | '
                     f'{median[base] / median[name]:.2f}x |')
    lines += ['', '## Where the default step spends its CPU time', '', '```',
              profile(steps[base]), '```']
    atomic_write_text(Path(args.out), '\n'.join(lines) + '\n')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
