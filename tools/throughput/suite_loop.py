"""`python -m tools.throughput.suite_loop`: the suite's own pretraining loop against the step
alone, side by side in one process, written to results/throughput/suite_loop*.md.

Each round runs the suite method's real pretraining (:func:`vssl_bench.engine.pretrain.pretrain`:
mmengine's Runner, hooks, loader and budget, into a temporary work dir) for ``--steps`` steps
once per variant (data loading in the training process or in a worker process; the clip
augmentation batched or clip by clip), each followed by the same step alone: the method's model on
one batch reused, no loader (:func:`tools.throughput.step.stepper`, the step of
``results/throughput/step*.md``). A variant's loop time is the median of mmengine's per-step
times (``train/time``: data, step and hooks) after the first two steps; its ratio is taken
against the step alone measured right after it, so that a machine drifting (by 5-10 % within
minutes on the 2-core EPYCs) moves both.
A short pretraining before the first round, not counted, takes the process's one-time costs.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from tools.throughput.model import build_loader, harness_dtype, suite_method_config
from vssl_bench.core.io import atomic_write_text
from vssl_bench.core.precision import precision_name
from vssl_bench.core.provenance import cpu_name
from vssl_bench.data.transforms import ClipAugment
from vssl_bench.engine.budget import step_flops

#: (name, VSSL_DATA_LOADING, clip augmentation batched)
VARIANTS = (('in-process, batched augmentation', 'in-process', True),
            ('worker, batched augmentation', 'worker', True),
            ('in-process, clip by clip', 'in-process', False),
            ('worker, clip by clip', 'worker', False))
WARM_UP = 2


def loop_step_times(cfg: Any, steps: int, flops: int, work_dir: Path, loading: str,
                    batched: bool) -> tuple[list[float], list[float]]:
    """Per-step seconds of the suite's pretraining of ``cfg``, ``steps`` steps, with the
    given data loading and augmentation path: mmengine's ``train/time`` (the whole step, data
    included) and ``train/data_time`` (waiting for the batch)."""
    from mmengine.logging import MessageHub

    from vssl_bench.engine.pretrain import pretrain
    saved_env, saved_batched = os.environ.get('VSSL_DATA_LOADING'), ClipAugment.batched
    os.environ['VSSL_DATA_LOADING'] = loading
    if not batched:
        ClipAugment.batched = False  # the data set then augments clip by clip, as before
    try:
        _, stats = pretrain(copy.deepcopy(cfg), work_dir=work_dir, seed=0,
                            budget=dict(unit='train_flops', value=steps * flops))
    finally:
        ClipAugment.batched = saved_batched
        if saved_env is None:
            os.environ.pop('VSSL_DATA_LOADING')
        else:
            os.environ['VSSL_DATA_LOADING'] = saved_env
    if stats['iters'] != steps:
        raise RuntimeError(f'pretraining ran {stats["iters"]} steps, not {steps}')
    scalars = MessageHub.get_current_instance().log_scalars
    return tuple([float(v) for v in scalars[key].data[0]]
                 for key in ('train/time', 'train/data_time'))


def alone_step_times(cfg: Any, batch: dict, steps: int) -> list[float]:
    """Seconds of ``steps`` training steps of a fresh model of ``cfg`` on ``batch`` reused
    (after two warm-up steps), in the precision the harness trains in here."""
    from tools.throughput.step import stepper
    from vssl_bench.engine.pretrain import build_model, init_weights_quietly
    model = build_model(copy.deepcopy(cfg.model))
    init_weights_quietly(model)
    step = stepper(model.train(), batch, bf16=harness_dtype(cfg) is not None)
    times = []
    for k in range(steps + WARM_UP):
        start = time.perf_counter()
        step()
        if k >= WARM_UP:
            times.append(time.perf_counter() - start)
    return times


def render(rows: dict[str, list[float]], data: dict[str, list[float]],
           alone: dict[str, list[float]],
           args: argparse.Namespace, cfg: Any, clips: int, command: str) -> str:
    ratios = {name: [loop / a for loop, a in zip(loops, alone[name])]
              for name, loops in rows.items()}
    lines = ['# The suite\'s pretraining loop against the step alone', '',
             f'`{command}`: {cfg.method_name} of `{args.suite}`, {clips} clips per step, '
             f'{args.rounds} rounds of {args.steps} steps per variant, each followed by '
             f'{args.alone_steps} steps of the step alone; '
             f'{torch.get_num_threads()} threads, {precision_name()}; this CPU: {cpu_name()}.',
             '', 'Loop: the median of mmengine\'s per-step time (data, step and hooks) over '
             f'steps {WARM_UP + 1}-{args.steps} of a real pretraining (Runner, hooks, loader, '
             'budget); alone: the median step on one batch reused, no loader, measured right '
             'after that variant\'s run. In-process: the batches of one loader worker '
             'read in the training process (what pretraining does on CPUs of up to 2 cores); '
             'clip by clip: the augmentation as before batched augmentation (the same clips '
             'bit for bit). Data: the median of mmengine\'s data time, the part of the loop '
             'step spent waiting for the batch (in process: reading and augmenting it).', '',
             '| variant | ' + ' | '.join(f'round {r + 1}: loop / alone (data)'
                                      for r in range(args.rounds)) + ' | median ratio |',
             '|---|' + '---|' * (args.rounds + 1)]
    for name, loops in rows.items():
        cells = [f'{loop:.3f} / {a:.3f} = {r:.2f}x ({d:.3f})'
                 for loop, a, r, d in zip(loops, alone[name], ratios[name], data[name])]
        lines.append(f'| {name} | ' + ' | '.join(cells)
                     + f' | {statistics.median(ratios[name]):.2f}x |')
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m tools.throughput.suite_loop')
    p.add_argument('--suite', default='configs/suites/synthmotion.py')
    p.add_argument('--method', default='cvrl')
    p.add_argument('--data-root', default=None)
    p.add_argument('--steps', type=int, default=24)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--alone-steps', type=int, default=12)
    p.add_argument('--out', default='results/throughput/suite_loop.md')
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.steps <= WARM_UP or args.rounds < 1 or args.alone_steps < 1:
        p.error(f'--steps must exceed {WARM_UP}, --rounds and --alone-steps be at least 1')
    command = 'python -m tools.throughput.suite_loop ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    cfg = suite_method_config(args.suite, args.method, args.data_root)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    batch = next(iter(build_loader(loader_cfg)))
    from vssl_bench.engine.pretrain import build_model
    flops = step_flops(build_model(copy.deepcopy(cfg.model)), batch)
    inputs = batch['inputs']
    clips = inputs.shape[0] * (inputs.shape[1] if inputs.dim() == 6 else 1)
    rows: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    data: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    alone: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
    with tempfile.TemporaryDirectory(prefix='suite_loop_') as tmp:
        # Not counted: the first pretraining in a process also pays one-time costs (the frame
        # cache read from disk, first allocations), which would fall on the first variant.
        loop_step_times(cfg, WARM_UP + 1, flops, Path(tmp, 'warm-up'), VARIANTS[0][1], True)
        for r in range(args.rounds):
            for name, loading, batched in VARIANTS:
                times, waits = loop_step_times(cfg, args.steps, flops,
                                               Path(tmp, f'{r}_{loading}_{batched}'), loading,
                                               batched)
                rows[name].append(statistics.median(times[WARM_UP:]))
                data[name].append(statistics.median(waits[WARM_UP:]))
                alone[name].append(statistics.median(alone_step_times(cfg, batch,
                                                                      args.alone_steps)))
                print(f'round {r + 1} {name}: {rows[name][-1]:.3f} s/step, data '
                      f'{data[name][-1]:.3f} s, alone {alone[name][-1]:.3f} s/step', flush=True)
    text = render(rows, data, alone, args, cfg, clips, command)
    atomic_write_text(Path(args.out), text)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
