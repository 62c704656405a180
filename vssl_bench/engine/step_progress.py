"""Progress inside one pretraining: a console line every ``EVERY_S`` seconds with the step, the
loss and an ETA, so that a run of hours (a paper config, a real data set) is not silent between
its suite's per-run lines. Rank 0 only; the numbers of the run do not depend on it (it reads the
step, the clock and the logged loss, and is not part of the run hash).
"""
from __future__ import annotations

import time

import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from vssl_bench.core import console
from vssl_bench.engine.budget import BudgetHook

#: Seconds between two progress lines of a pretraining.
EVERY_S = 60.0


def progress_text(label: str, done: int, total: int | None, elapsed: float, steps_run: int,
                  loss: float | None, spent_s: float = 0.0,
                  budget_s: float | None = None) -> str:
    """'CVRL seed 0: step 80/277 (29 %), loss 9.555, 2m00s elapsed, ETA 4m55s'. ``steps_run``:
    the steps this process ran in ``elapsed`` (a resumed run starts counting at its checkpoint);
    under a device-seconds budget (``total`` None) the ETA is the budget's seconds left."""
    text = f'{label}: step {done}'
    if total:
        text += f'/{total} ({100.0 * done / total:.0f} %)'
    if loss is not None:
        text += f', loss {loss:.3f}'
    text += f', {console.duration(elapsed)} elapsed'
    if total and steps_run > 0:
        text += f', ETA {console.duration(elapsed / steps_run * (total - done))}'
    elif budget_s:
        text += (f', device {spent_s:.0f}/{budget_s:.0f} s, '
                 f'ETA {console.duration(budget_s - spent_s)}')
    return text


@HOOKS.register_module()
class StepProgressHook(Hook):
    """Print :func:`progress_text` on the console every :data:`EVERY_S` seconds of training."""

    priority = 'LOWEST'

    def __init__(self, label: str, max_iters: int | None = None,
                 device_seconds: float | None = None) -> None:
        self.label = label
        self.max_iters = max_iters
        self.device_seconds = device_seconds
        self.every_s = EVERY_S
        self._start = self._last = 0.0
        self._first_iter = 0

    def before_train(self, runner) -> None:
        self._start = self._last = time.perf_counter()
        self._first_iter = runner.iter  # > 0 after a resume

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        now = time.perf_counter()
        if get_rank() != 0 or now - self._last < self.every_s:
            return
        self._last = now
        loss = (outputs or {}).get('loss')  # a tensor in mmengine's parsed log variables
        if isinstance(loss, torch.Tensor):
            loss = loss.detach().item()
        done = runner.iter + 1
        console.line(progress_text(
            self.label, done, self.max_iters, now - self._start, done - self._first_iter,
            None if loss is None else float(loss), BudgetHook.spent(runner), self.device_seconds))
