"""Matched compute budgets: every method of a suite gets the same training compute.

A suite sets its budget once (``pretrain.budget``) in one of three units:

- ``train_flops`` (default; deterministic): floating-point operations of training, forward and
  backward of everything a method runs per step (momentum encoders, predictors and extra clips
  included), counted on a real step with :class:`torch.utils.flop_counter.FlopCounterMode`
  (matrix multiplications and convolutions, 3D included; element-wise ops and the optimiser
  update are not counted). The number of steps is ``round(budget / (flops per step x ranks))``,
  so every method lands within half a step of the budget.
- ``device_seconds``: time accumulated inside the training step (synchronised on GPU, data
  loading excluded); training stops when it is spent and the learning-rate schedule follows the
  fraction spent. The "same GPU-hours" setting for real hardware; not deterministic.
- ``epochs``: the papers' convention, ``round(epochs x steps per epoch)`` steps; methods that run
  more clips per video then get more compute, so tables label it *unmatched*.
"""
from __future__ import annotations

import copy
import math
import resource
import time
from dataclasses import asdict, dataclass

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from torch.utils.flop_counter import FlopCounterMode

from vssl_bench.core.errors import UserError

UNITS = ('train_flops', 'device_seconds', 'epochs')
#: Budget units under which every method receives the same compute.
MATCHED_UNITS = ('train_flops', 'device_seconds')


class BudgetError(UserError):
    """A budget that cannot be used as written; the message says what to change."""


@dataclass(frozen=True)
class Budget:
    """What a suite spends on pretraining each method: ``value`` in ``unit``."""

    unit: str
    value: float

    @classmethod
    def from_cfg(cls, cfg: dict, where: str = 'pretrain.budget') -> 'Budget':
        if not isinstance(cfg, dict) or set(cfg) != {'unit', 'value'}:
            raise BudgetError(f'{where} must be dict(unit=..., value=...) with unit one of '
                              f'{UNITS}, got {cfg!r}')
        unit, value = cfg['unit'], cfg['value']
        if unit not in UNITS:
            raise BudgetError(f'{where}: unknown budget unit {unit!r}; use one of {UNITS}')
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not math.isfinite(value) or value <= 0):  # True is an int to Python
            example = {'train_flops': '3e13', 'device_seconds': '600'}.get(unit, '10')
            raise BudgetError(f'{where}: budget value must be a positive number, got {value!r}: '
                              f'write e.g. value={example}')
        return cls(unit=unit, value=float(value))

    @property
    def matched(self) -> bool:
        return self.unit in MATCHED_UNITS

    def scaled(self, factor: float) -> 'Budget':
        return Budget(self.unit, self.value * factor)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if self.unit == 'train_flops':
            return f'{self.value / 1e12:g} TFLOPs per method'
        if self.unit == 'device_seconds':
            return f'{self.value:g} device-seconds per method'
        return f'{self.value:g} epochs per method (unmatched compute)'


def count_flops(fn) -> int:
    """Floating-point operations that ``fn()`` runs (FlopCounterMode: matmuls, convolutions)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def step_flops(model: torch.nn.Module, batch: dict) -> int:
    """FLOPs of one training step of ``model`` on ``batch`` (a collated data-loader batch):
    the data preprocessor, forward in mode='loss' and backward of the summed losses.

    Counted on a deep copy in train mode, so the model's weights, BN statistics, momentum
    encoders and queues are left untouched. Counted in float32 (autocast changes speed, not the
    number of operations).
    """
    probe = copy.deepcopy(model)
    probe.train()

    def one_step() -> None:
        data = probe.data_preprocessor(batch, True)
        losses = probe(**data, mode='loss')
        total, _ = probe.parse_losses(losses)
        total.backward()

    flops = count_flops(one_step)
    if flops <= 0:
        raise BudgetError(f'{type(model).__name__}: one training step counted 0 FLOPs; the '
                          'train_flops budget needs a method whose step runs matrix products or '
                          'convolutions (use the epochs or device_seconds unit otherwise)')
    return flops


def derive_steps(budget: Budget, *, flops_per_step: int | None, world_size: int,
                 batch_size: int, num_videos: int) -> int | None:
    """Steps a method gets under ``budget``; None for ``device_seconds`` (time decides).

    ``flops_per_step`` counts one rank's step; ``batch_size`` is per rank; steps per epoch drop
    the last partial batch (the harness trains with ``drop_last``).
    """
    if budget.unit == 'train_flops':
        if not flops_per_step:
            raise BudgetError('a train_flops budget needs the FLOPs of one step')
        return max(1, round(budget.value / (flops_per_step * world_size)))
    if budget.unit == 'epochs':
        per_epoch = num_videos // (batch_size * world_size)
        if per_epoch < 1:
            raise BudgetError(f'{num_videos} videos make no full batch of {batch_size} x '
                              f'{world_size} ranks: lower the batch size')
        return max(1, round(budget.value * per_epoch))
    return None


def schedule_factor(progress: float, warmup_ratio: float) -> float:
    """Learning-rate factor at ``progress`` in [0, 1] of the budget: linear warm-up from 0.01 to
    1 over the first ``warmup_ratio``, then cosine decay to 0 at the end."""
    progress = min(max(progress, 0.0), 1.0)
    if warmup_ratio > 0 and progress < warmup_ratio:
        return 0.01 + 0.99 * progress / warmup_ratio
    rest = (progress - warmup_ratio) / max(1e-12, 1.0 - warmup_ratio)
    return 0.5 * (1.0 + math.cos(math.pi * rest))


def _synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


@HOOKS.register_module()
class BudgetHook(Hook):
    """The learning-rate schedule of a budget, and the account of device time.

    Before every step it sets each parameter group's lr to its initial lr times
    :func:`schedule_factor` of the fraction of the budget spent: ``iter / max_iters`` under a
    step budget (train_flops, epochs), device seconds spent / ``device_seconds`` otherwise. It
    measures the device time inside every training step and, under a ``device_seconds`` budget,
    stops training at the step that spends it. The time spent lives in the message hub
    (``budget_device_s``), which mmengine saves in every checkpoint, so a resumed run continues
    the same account (and the same schedule).
    """

    priority = 'HIGHEST'  # sets the lr before RuntimeInfoHook logs it and the optimiser uses it

    def __init__(self, device_seconds: float | None = None, max_iters: int | None = None,
                 warmup_ratio: float = 0.05) -> None:
        if (device_seconds is None) == (max_iters is None):
            raise ValueError('BudgetHook needs exactly one of device_seconds and max_iters')
        self.device_seconds = device_seconds
        self.max_iters = max_iters
        self.warmup_ratio = warmup_ratio
        self._start = 0.0

    @staticmethod
    def spent(runner) -> float:
        return float(runner.message_hub.get_info('budget_device_s', 0.0))

    def before_train(self, runner) -> None:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        for group in runner.optim_wrapper.param_groups:
            group.setdefault('initial_lr', group['lr'])

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        progress = (self.spent(runner) / self.device_seconds if self.max_iters is None
                    else runner.iter / self.max_iters)
        factor = schedule_factor(progress, self.warmup_ratio)
        for group in runner.optim_wrapper.param_groups:
            group['lr'] = group['initial_lr'] * factor
        _synchronize()
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        _synchronize()
        spent = self.spent(runner) + time.perf_counter() - self._start
        runner.message_hub.update_info('budget_device_s', spent)
        if self.device_seconds is not None and spent >= self.device_seconds:
            runner.train_loop.stop_training = True


def peak_memory_mb() -> tuple[float, str]:
    """Peak memory of training and what was measured: CUDA's peak allocation since the run
    started, or on CPU the process's peak resident set size (which includes everything the
    process held before, e.g. earlier methods of the same suite)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.max_memory_allocated() / 2**20, 'cuda_max_allocated'
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'process_max_rss'
