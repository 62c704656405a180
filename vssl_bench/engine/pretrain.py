"""Pretraining one method config for one seed with mmengine's Runner, under the suite's budget."""
from __future__ import annotations

import copy
import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import barrier, get_rank, get_world_size, init_dist, is_distributed
from mmengine.logging import MMLogger, print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, set_random_seed
from torch.utils.data import DataLoader

from vssl_bench.core import compat, console
from vssl_bench.core.errors import ConfigError
from vssl_bench.core.io import atomic_write_json, atomic_write_with
from vssl_bench.core.plugins import import_custom_modules
from vssl_bench.core.provenance import device_description
from vssl_bench.core.registry import DEFAULT_SCOPE, MODELS, build
from vssl_bench.data.in_process_loader import InProcessLoader
from vssl_bench.engine import checkpoints
from vssl_bench.engine.budget import Budget, BudgetHook, derive_steps, peak_memory_mb, step_flops
from vssl_bench.engine.step_progress import StepProgressHook
from vssl_bench.methods.base import registered_methods

#: Keys that belong to the harness, not to a method config: the suite's budget decides how long
#: every method trains and the schedule follows from it.
HARNESS_KEYS = ('train_cfg', 'param_scheduler', 'max_iters', 'max_epochs')
#: Iteration cap of a device_seconds budget, whose BudgetHook stops training when time is spent.
UNBOUNDED_ITERS = 10**9
#: File beside a checkpoint holding the model config it was saved from.
MODEL_CONFIG = 'model_config.json'


def check_method_config(cfg: Config, path: str) -> None:
    """Refuse what a method config may not decide in a suite, and what it must have."""
    for key in HARNESS_KEYS:
        if key in cfg:
            raise ConfigError(
                f'{path} sets {key!r}: in a suite the harness decides how long every method '
                'trains (the suite\'s `pretrain.budget`, matched across methods) and derives the '
                'schedule from it; delete it from the method config')
    if 'model' not in cfg or 'type' not in cfg.model:
        raise ConfigError(f'{path} has no model=dict(type=...): name a registered method')
    import_custom_modules(cfg, path)  # out-of-tree methods register before the check
    if cfg.model.type not in MODELS:
        raise ConfigError(f'{path}: unknown method {cfg.model.type!r}; registered methods: '
                          f'{", ".join(sorted(registered_methods()))}. Out-of-tree methods are '
                          'loaded with custom_imports in the config or the vssl_bench.methods '
                          'entry-point group')


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if is_model_wrapper(model) else model


def runner_cfg(method_cfg: Config, *, work_dir: Path, seed: int, max_iters: int | None,
               warmup_ratio: float = 0.05, log_interval: int = 20, launcher: str = 'none',
               checkpoints: int = 4, device_seconds: float | None = None,
               checkpoint_interval: int = 200, resume: bool = True,
               progress_label: str | None = None) -> Config:
    """Everything mmengine's Runner needs: the method's model, data and optimiser plus the harness's
    schedule, hooks, seed and work_dir. ``checkpoints`` resumable checkpoints are saved per run
    (every ``checkpoint_interval`` steps when ``max_iters`` is None, i.e. a device_seconds
    budget of ``device_seconds``; 0: none, e.g. for seconds-long fine-tuning runs, which also
    pass ``resume=False``). With ``progress_label`` the console shows a progress line with an
    ETA every minute (:class:`vssl_bench.engine.step_progress.StepProgressHook`)."""
    cfg = copy.deepcopy(method_cfg)
    timed = max_iters is None
    if timed and device_seconds is None:
        raise ValueError('runner_cfg needs max_iters or device_seconds')
    interval = checkpoint_interval if timed else max(1, max_iters // max(1, checkpoints))
    cfg.merge_from_dict(dict(
        work_dir=str(work_dir),
        default_scope=DEFAULT_SCOPE,
        randomness=dict(seed=seed, diff_rank_seed=True, deterministic=False),
        launcher=launcher,
        # Picks up work_dir/last_checkpoint after an interruption (asked only when there is one:
        # mmengine prints a line to the console otherwise).
        resume=resume and Path(work_dir, 'last_checkpoint').is_file(),
        log_level='INFO',
        env_cfg=dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'),
                     dist_cfg=dict(backend='nccl' if torch.cuda.is_available() else 'gloo')),
        default_hooks=dict(
            runtime_info=dict(type='RuntimeInfoHook'),
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=log_interval),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='AtomicCheckpointHook', interval=interval, by_epoch=False,
                            max_keep_ckpts=1, save_last=True) if checkpoints > 0 else None,
            sampler_seed=dict(type='DistSamplerSeedHook')),
        # The learning rate follows the budget: BudgetHook sets it from the fraction spent
        # (steps or device time), linear warm-up then cosine decay to 0.
        # ResumeRngHook: a resumed run continues from the uninterrupted run's random state.
        custom_hooks=[dict(type='BudgetHook', device_seconds=device_seconds,
                           max_iters=max_iters, warmup_ratio=warmup_ratio),
                      dict(type='ResumeRngHook')]
        + ([dict(type=StepProgressHook.__name__, label=progress_label, max_iters=max_iters,
                 device_seconds=device_seconds)] if progress_label else []),
        log_processor=dict(by_epoch=False, window_size=log_interval),
        val_cfg=None, val_dataloader=None, val_evaluator=None,
        test_cfg=None, test_dataloader=None, test_evaluator=None,
        train_cfg=dict(type='IterBasedTrainLoop',
                       max_iters=UNBOUNDED_ITERS if timed else max_iters),
        param_scheduler=[]), allow_list_keys=False)
    if 'train_dataloader' in cfg:
        # Every step sees a full batch, so each one costs the FLOPs counted for a step.
        cfg.train_dataloader.drop_last = True
    if launcher != 'none' and not torch.cuda.is_available():
        # CPU data parallelism: DistributedDataParallel takes no device_ids for CPU modules.
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False)
    return cfg


#: How a one-worker train loader reads its data: ``auto`` (default) in the training process
#: (:class:`~vssl_bench.data.in_process_loader.InProcessLoader`, the same batches and random
#: state) where the process may use at most 2 CPU cores, in a worker process elsewhere;
#: ``in-process`` or ``worker`` force either.
DATA_LOADING_ENV = 'VSSL_DATA_LOADING'
DATA_LOADING_MODES = ('auto', 'in-process', 'worker')


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def reads_in_process(num_workers: int) -> bool:
    """Whether a train loader of ``num_workers`` reads its batches in the training process
    (:data:`DATA_LOADING_ENV`). Only a one-worker loader is replayed. On a 2-core CPU the
    replay saves the worker process at no clear cost in speed (a worker there competes with the
    step's two threads): the suite's loop took a median 1.14x the step alone in process and 1.12x
    with a worker, within the machine's drift (results/throughput/suite_loop_avx2.md)."""
    mode = os.environ.get(DATA_LOADING_ENV, 'auto') or 'auto'
    if mode not in DATA_LOADING_MODES:
        raise ConfigError(f'{DATA_LOADING_ENV}={mode!r} is not one of '
                          f'{", ".join(DATA_LOADING_MODES)}')
    if num_workers != 1 or mode == 'worker':
        return False
    return mode == 'in-process' or usable_cores() <= 2


def data_loading(loader: Any) -> str:
    """How ``loader`` reads its batches, for the pretraining record."""
    if isinstance(loader, InProcessLoader):
        return 'in the training process, replaying 1 worker'
    workers = getattr(loader, 'num_workers', 0)
    return f'{workers} worker process(es)' if workers else 'in the training process'


class HarnessRunner(Runner):
    """mmengine's Runner whose console shows only errors unless ``--verbose``
    (:mod:`vssl_bench.core.console`); the log file in its work dir keeps everything. A
    one-worker train loader may read in the training process (:func:`reads_in_process`)."""

    def build_logger(self, *args, **kwargs) -> MMLogger:
        logger = super().build_logger(*args, **kwargs)
        console.quiet_console(logger)
        return logger

    @staticmethod
    def build_dataloader(dataloader: Any, seed: int | None = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        if isinstance(loader, InProcessLoader) or not reads_in_process(loader.num_workers):
            return loader
        replay = InProcessLoader.replaying(loader)
        print_log(f'data loading: {data_loading(replay)}', logger='current')
        return replay


def init_distributed(launcher: str) -> None:
    """Join the process group before any work, so that rank 0 alone can prepare the data.

    mmengine's own ``init_dist`` pins a CUDA device, so without GPUs the group is started here
    with gloo (``torchrun --nproc_per_node=2`` then runs data-parallel on CPU cores).
    """
    if launcher == 'none' or is_distributed():
        return
    if torch.cuda.is_available():
        init_dist(launcher, backend='nccl')
    elif launcher == 'pytorch':
        torch.distributed.init_process_group('gloo')
    else:
        raise ConfigError(f'--launcher {launcher} needs GPUs here; on CPU use torchrun with '
                          '--launcher pytorch')


def _buffer_mean(runner: Runner, key: str) -> float | None:
    scalars = runner.message_hub.log_scalars
    if key not in scalars:
        return None
    values, counts = scalars[key].data
    return float(values.sum() / max(counts.sum(), 1))


def release_data_workers(runner: Runner) -> None:
    """Stop the train loader's worker processes now (persistent workers otherwise live until
    the Runner is garbage-collected, one set per method, seed and fine-tuning run)."""
    iterator = getattr(getattr(runner.train_loop, 'dataloader_iterator', None), '_iterator', None)
    if hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()


def init_weights_quietly(model: torch.nn.Module) -> None:
    """``model.init_weights()`` without mmengine's INFO line per parameter, which it prints to
    the console whenever no Runner log file is open (the probe and untrained methods)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def probe_step(method_cfg: Config, seed: int) -> tuple[int, int, int, int]:
    """One real batch of the method's data through one training step of a fresh model, counted:
    (FLOPs per step on this rank, clips per step, batch size, videos in the data set)."""
    loader_cfg = copy.deepcopy(method_cfg.train_dataloader)
    # The probe reads a single batch in this process; the Runner builds the real loader.
    loader_cfg.update(num_workers=0, persistent_workers=False, drop_last=True)
    with DefaultScope.overwrite_default_scope(DEFAULT_SCOPE):
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
    batch = next(iter(loader))
    model = build_model(method_cfg)
    init_weights_quietly(model)
    inputs = batch['inputs']
    clips = inputs.shape[0] * (inputs.shape[1] if inputs.dim() == 6 else 1)
    return step_flops(model, batch), clips, loader_cfg.batch_size, len(loader.dataset)


def pretrain(method_cfg: Config, *, work_dir: Path, seed: int, budget: dict | Budget,
             warmup_ratio: float = 0.05, log_interval: int = 20, checkpoint_interval: int = 200,
             launcher: str = 'none') -> tuple[torch.nn.Module, dict]:
    """Train (or resume) one method for one seed under ``budget``; returns the trained model
    and what it consumed (steps, epochs, clips, training TFLOPs, wall and device seconds, peak
    memory, the budget itself)."""
    compat.allow_mmengine_checkpoints()
    budget = budget if isinstance(budget, Budget) else Budget.from_cfg(budget)
    world = get_world_size()
    flops, clips, batch, videos = probe_step(method_cfg, seed)
    max_iters = derive_steps(budget, flops_per_step=flops, world_size=world, batch_size=batch,
                             num_videos=videos)
    print_log(f'{method_name(method_cfg)}: '
              f'{flops / 1e9:.2f} GFLOPs per step on each of {world} rank(s), budget '
              f'{budget.describe()} -> '
              f'{max_iters if max_iters is not None else "time-limited"} steps', logger='current')
    cfg = runner_cfg(method_cfg, work_dir=work_dir, seed=seed, max_iters=max_iters,
                     warmup_ratio=warmup_ratio, log_interval=log_interval, launcher=launcher,
                     device_seconds=budget.value if budget.unit == 'device_seconds' else None,
                     checkpoint_interval=checkpoint_interval,
                     progress_label=f'{method_name(method_cfg)} seed {seed}')
    if get_rank() == 0:  # the pointer names a complete checkpoint, or training starts afresh
        checkpoints.prepare_resume(Path(work_dir))
    barrier()
    start = time.perf_counter()
    runner = HarnessRunner.from_cfg(cfg)
    runner.train()
    release_data_workers(runner)
    wall = time.perf_counter() - start
    steps = runner.iter
    memory, memory_kind = peak_memory_mb()
    stats = dict(
        budget=budget.to_dict(), matched=budget.matched, iters=steps, batch_size=batch,
        world_size=world, gflops_per_step=round(flops * world / 1e9, 4),
        train_tflops=round(steps * flops * world / 1e12, 4),
        epochs=round(steps * batch * world / videos, 4), clips_seen=steps * clips * world,
        wall_s=round(wall, 2), device_s=round(BudgetHook.spent(runner), 2),
        step_time_s=_buffer_mean(runner, 'train/time'),
        data_time_s=_buffer_mean(runner, 'train/data_time'),
        peak_mem_mb=round(memory, 1), peak_mem_kind=memory_kind,
        # videos of the pretraining split left out (undecodable; counted by the frame cache)
        num_failed=int(getattr(runner.train_dataloader.dataset, 'num_failed', 0)),
        # where the (last, if resumed) training process ran, with its torch threads: the same
        # config and seed give other weights on another CPU class or thread count, and the
        # record's provenance says only where it was evaluated
        device=device_description(),
        # how the batches were read (the same numbers either way, InProcessLoader)
        data_loading=data_loading(runner.train_dataloader))
    return unwrap(runner.model), stats


def method_name(method_cfg: Config) -> str:
    """The name a method config's rows carry: its ``method_name``, else its model type."""
    return method_cfg.get('method_name', method_cfg.model.type)


def init_untrained(method_cfg: Config, seed: int) -> torch.nn.Module:
    """Build a method with seeded initial weights and no training (e.g. RandomInit)."""
    set_random_seed(seed)
    model = build(MODELS, method_cfg.model)
    init_weights_quietly(model)
    return model


def build_model(method_cfg: Config | ConfigDict) -> torch.nn.Module:
    model_cfg = method_cfg.model if 'model' in method_cfg else method_cfg
    return build(MODELS, model_cfg)


def save_weights(model: torch.nn.Module, path: Path, model_cfg: dict | None = None) -> None:
    """Plain state dict of tensors (loadable with weights_only=True), written atomically; with
    ``model_cfg``, the model config beside it (``model_config.json``: what ``vssl-bench export``
    and ``vssl-bench eval --format vssl`` rebuild the architecture from)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if model_cfg is not None:
        atomic_write_json(path.parent / MODEL_CONFIG, model_cfg)
    state = unwrap(model).state_dict()
    atomic_write_with(path, lambda tmp: torch.save(state, tmp))


def load_weights(model: torch.nn.Module, path: Path) -> torch.nn.Module:
    state = torch.load(path, map_location='cpu', weights_only=True)
    unwrap(model).load_state_dict(state)
    print_log(f'loaded weights from {path}', logger='current')
    return model
