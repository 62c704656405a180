"""Pretraining one method config for one seed with mmengine's Runner, under the suite's schedule."""
from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import torch
from mmengine.config import Config, ConfigDict
from mmengine.dist import init_dist, is_distributed
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, set_random_seed

from benchmark import compat
from benchmark.registry import DEFAULT_SCOPE, MODELS, build

#: Keys that belong to the harness, not to a method config: the suite decides the schedule.
HARNESS_KEYS = ('train_cfg', 'param_scheduler', 'max_iters', 'max_epochs')


class ConfigError(ValueError):
    """A config that cannot be run as it is; the message says what to change."""


def check_method_config(cfg: Config, path: str) -> None:
    """Refuse what a method config may not decide in a suite, and what it must have."""
    for key in HARNESS_KEYS:
        if key in cfg:
            raise ConfigError(
                f'{path} sets {key!r}: in a suite the harness decides the training schedule '
                '(see the suite\'s `pretrain` settings); delete it from the method config')
    if 'model' not in cfg or 'type' not in cfg.model:
        raise ConfigError(f'{path} has no model=dict(type=...): name a registered method')
    if cfg.model.type not in MODELS:
        raise ConfigError(f'{path}: unknown method {cfg.model.type!r}; registered methods: '
                          f'{", ".join(sorted(registered_methods()))}. Out-of-tree methods are '
                          'loaded with custom_imports in the config or the vssl_bench.methods '
                          'entry-point group')


def registered_methods() -> list[str]:
    from methods.base import VideoMethod
    return [name for name, cls in MODELS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, VideoMethod) and cls is not VideoMethod]


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if is_model_wrapper(model) else model


def schedule_cfg(max_iters: int, warmup_ratio: float) -> dict:
    """Linear warm-up then cosine decay to 0, both scaled to the run's length."""
    warmup = max(1, round(max_iters * warmup_ratio))
    return dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
            dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=max_iters,
                 T_max=max_iters - warmup, eta_min=0.0),
        ])


def runner_cfg(method_cfg: Config, *, work_dir: Path, seed: int, max_iters: int,
               warmup_ratio: float = 0.05, log_interval: int = 20, launcher: str = 'none',
               checkpoints: int = 4, resume: bool = True) -> Config:
    """Everything mmengine's Runner needs: the method's model, data and optimiser plus the harness's
    schedule, hooks, seed and work_dir. ``checkpoints`` resumable checkpoints are saved per run
    (0: none, e.g. for seconds-long fine-tuning runs, which also pass ``resume=False``)."""
    cfg = copy.deepcopy(method_cfg)
    interval = max(1, max_iters // max(1, checkpoints))
    cfg.merge_from_dict(dict(
        work_dir=str(work_dir),
        default_scope=DEFAULT_SCOPE,
        randomness=dict(seed=seed, diff_rank_seed=True, deterministic=False),
        launcher=launcher,
        resume=resume,  # picks up work_dir/last_checkpoint after an interruption
        log_level='INFO',
        env_cfg=dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'),
                     dist_cfg=dict(backend='nccl' if torch.cuda.is_available() else 'gloo')),
        default_hooks=dict(
            runtime_info=dict(type='RuntimeInfoHook'),
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=log_interval),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='CheckpointHook', interval=interval, by_epoch=False,
                            max_keep_ckpts=1, save_last=True) if checkpoints > 0 else None,
            sampler_seed=dict(type='DistSamplerSeedHook')),
        log_processor=dict(by_epoch=False, window_size=log_interval),
        val_cfg=None, val_dataloader=None, val_evaluator=None,
        test_cfg=None, test_dataloader=None, test_evaluator=None,
        **schedule_cfg(max_iters, warmup_ratio)), allow_list_keys=False)
    if launcher != 'none' and not torch.cuda.is_available():
        # CPU data parallelism: DistributedDataParallel takes no device_ids for CPU modules.
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False)
    return cfg


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


def pretrain(method_cfg: Config, *, work_dir: Path, seed: int, max_iters: int,
             warmup_ratio: float = 0.05, log_interval: int = 20,
             launcher: str = 'none') -> tuple[torch.nn.Module, dict]:
    """Train (or resume) one method for one seed; returns the trained model and what it consumed."""
    compat.allow_mmengine_checkpoints()
    cfg = runner_cfg(method_cfg, work_dir=work_dir, seed=seed, max_iters=max_iters,
                     warmup_ratio=warmup_ratio, log_interval=log_interval, launcher=launcher)
    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.train()
    wall = time.perf_counter() - start
    batch = cfg.train_dataloader.batch_size
    stats = dict(iters=max_iters, batch_size=batch, wall_s=round(wall, 2),
                 step_time_s=_buffer_mean(runner, 'train/time'),
                 data_time_s=_buffer_mean(runner, 'train/data_time'))
    return unwrap(runner.model), stats


def init_untrained(method_cfg: Config, seed: int) -> torch.nn.Module:
    """Build a method with seeded initial weights and no training (e.g. RandomInit)."""
    set_random_seed(seed)
    model = build(MODELS, method_cfg.model)
    model.init_weights()
    return model


def build_model(method_cfg: Config | ConfigDict) -> torch.nn.Module:
    model_cfg = method_cfg.model if 'model' in method_cfg else method_cfg
    return build(MODELS, model_cfg)


def save_weights(model: torch.nn.Module, path: Path) -> None:
    """Plain state dict of tensors (loadable with weights_only=True), written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f'.tmp{os.getpid()}')
    torch.save(unwrap(model).state_dict(), tmp)
    os.replace(tmp, path)


def load_weights(model: torch.nn.Module, path: Path) -> torch.nn.Module:
    state = torch.load(path, map_location='cpu', weights_only=True)
    unwrap(model).load_state_dict(state)
    print_log(f'loaded weights from {path}', logger='current')
    return model
