"""Training clips per second of the model, beside the loader's: R3D-18 at 16x112^2, and the
SynthMotion CVRL step fed by a real one-worker loader (its data wait).
"""
from __future__ import annotations

import copy
import time
from contextlib import nullcontext
from typing import Any

import torch
from mmengine.config import Config

from vssl_bench.core.precision import effective_dtype
from vssl_bench.engine.budget import count_flops

# R3D-18 of the TCLR UCF101 configs (64 base channels), trained on 16 x 112 x 112 clips.
R3D18_CONFIG = 'configs/_base_/backbone_r3d18_tclr.py'


def _autocast(device: torch.device, bf16: bool) -> Any:
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def r3d18_throughput(batch_size: int = 4, steps: int = 3, device: str = 'cpu',
                     bf16: bool = False) -> dict[str, Any]:
    """Supervised training steps of R3D-18 (linear head, SGD) on random 16x112^2 clips.

    Returns ``model_clips_per_s``, the counted ``gflops_per_clip`` of a training step and the
    achieved ``tflops`` (multiply by ``1 / peak`` for the model FLOPs utilisation).
    """
    from vssl_bench.engine.pretrain import build_model, init_weights_quietly
    dev = torch.device(device)
    backbone = build_model(Config.fromfile(R3D18_CONFIG).model.backbone)
    init_weights_quietly(backbone)
    model = torch.nn.Sequential(backbone, torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(),
                                torch.nn.Linear(512, 101)).to(dev)
    model.to(memory_format=torch.channels_last_3d)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch_size, 3, 16, 112, 112, device=dev).contiguous(
        memory_format=torch.channels_last_3d)
    y = torch.randint(0, 101, (batch_size,), device=dev)

    def step() -> None:
        with _autocast(dev, bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    flops = count_flops(lambda: copy.deepcopy(model)(x).sum().backward())
    step()  # warm-up (oneDNN / cuDNN kernel choice)
    _sync(dev)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(dev)
    wall = time.perf_counter() - start
    clips_per_s = batch_size * steps / wall
    return {'model': 'R3D-18 (64 channels) 16x112x112, supervised step', 'device': device,
            'dtype': 'bfloat16' if bf16 else 'float32', 'batch_size': batch_size,
            'model_clips_per_s': round(clips_per_s, 3),
            'gflops_per_clip': round(flops / batch_size / 1e9, 1),
            'tflops': round(clips_per_s * flops / batch_size / 1e12, 3)}


def harness_dtype(cfg: Config, device_type: str = 'cpu') -> torch.dtype | None:
    """The autocast dtype the harness trains ``cfg`` in on ``device_type`` (None: float32): the
    dtype of its AutocastOptimWrapper where that is native and VSSL_FLOAT32 is not set
    (:func:`vssl_bench.core.precision.effective_dtype`), else None."""
    wrapper = cfg.get('optim_wrapper') or {}
    if wrapper.get('type') != 'AutocastOptimWrapper' or not wrapper.get('enabled', True):
        return None
    dtype = effective_dtype(wrapper.get('dtype', 'bfloat16'), device_type)
    return getattr(torch, dtype) if dtype else None


def suite_method_config(suite_path: str, method: str, data_root: str | None) -> Config:
    """The config of the suite's method whose config path contains ``method`` (e.g. 'cvrl'),
    as the suite runs it; generates the suite's data if missing."""
    from vssl_bench.harness.components import load_plugins
    from vssl_bench.harness.suite import ensure_data
    from vssl_bench.harness.suite_config import Suite, load_method_config
    load_plugins()
    suite = Suite.load(suite_path, data_root=data_root)
    ensure_data(suite)
    entry = next(e for e in suite.methods if method in (e if isinstance(e, str) else e['config']))
    return load_method_config(entry, suite)


def build_loader(loader_cfg: Any) -> Any:
    """A DataLoader from a config, as the Runner builds it (seed 0)."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from vssl_bench.core.registry import DEFAULT_SCOPE
    with DefaultScope.overwrite_default_scope(DEFAULT_SCOPE):
        return Runner.build_dataloader(loader_cfg, seed=0)


def synthmotion_data_wait(suite_path: str, method: str, data_root: str | None, decoder: str,
                          steps: int = 6, workers: int = 1, cache_dir: str | None = None,
                          transform: str | None = None, in_process: bool = False
                          ) -> dict[str, Any]:
    """Train ``method`` of the SynthMotion suite for ``steps`` steps (after 2 warm-up steps)
    reading its real data through ``workers`` loader workers, decoding with ``decoder`` or, for
    ``decoder='cache'``, from the decode-once frame cache in ``cache_dir``; returns the step
    rate, the fraction of step time spent waiting for data, and the step time on one batch
    reused (no loader at all) for comparison. ``transform`` replaces the type of the method's
    clip transform (e.g. 'DeviceClipAugment': the photometric half then runs in the step).
    ``in_process`` (with one worker): the batches of that worker read in the training process
    (:class:`vssl_bench.data.in_process_loader.InProcessLoader`, as pretraining does on CPUs
    of up to 2 cores).
    The step runs in the precision the harness trains ``method`` in here (:func:`harness_dtype`),
    named in the result's ``precision``."""
    from vssl_bench.engine.pretrain import build_model, init_weights_quietly
    cfg = suite_method_config(suite_path, method, data_root)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    if decoder == 'cache':
        loader_cfg.dataset.update(cache_dir=cache_dir)
    else:
        loader_cfg.dataset.update(cache_dir=None, decoder=decoder)
    loader_cfg.update(num_workers=workers, persistent_workers=workers > 0)
    if transform is not None:
        loader_cfg.dataset.transform.type = transform
    loader = build_loader(loader_cfg)
    if in_process:
        from vssl_bench.data.in_process_loader import InProcessLoader
        loader = InProcessLoader.replaying(loader)
    model = build_model(cfg)
    init_weights_quietly(model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dtype = harness_dtype(cfg)

    def forever():  # the data set may hold fewer batches than the steps measured
        while True:
            yield from loader

    batches = forever()

    def step(batch: dict) -> None:
        data = model.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    wait = total = 0.0
    clips = 0
    for k in range(steps + 2):
        t0 = time.perf_counter()
        batch = next(batches)
        t1 = time.perf_counter()
        step(batch)
        t2 = time.perf_counter()
        if k >= 2:
            wait += t1 - t0
            total += t2 - t0
            inputs = batch['inputs']
            clips += inputs.shape[0] * (inputs.shape[1] if inputs.dim() == 6 else 1)
    del batches, loader  # stops the worker before the loader-free steps
    t0 = time.perf_counter()
    for _ in range(steps):
        step(batch)
    alone = (time.perf_counter() - t0) / steps
    return {'method': cfg.method_name, 'decoder': decoder, 'workers': workers,
            'in_process': in_process, 'steps': steps,
            'transform': loader_cfg.dataset.transform.type,
            'precision': str(dtype).split('.')[-1] if dtype else 'float32',
            's_per_step': round(total / steps, 3), 'clips_per_s': round(clips / total, 1),
            's_per_step_without_loader': round(alone, 3),
            'data_wait_fraction': round(wait / total, 4)}


def device_augment_cost(device: str = 'cpu', clips: int = 32, repeats: int = 3
                        ) -> dict[str, Any]:
    """Seconds per 16x112^2 clip of the batched photometric half (DeviceClipAugment's CVRL
    parameters) on ``device``: the work the device path moves out of the loader workers."""
    import numpy as np

    from vssl_bench.data.device_augment import DeviceClipAugment, apply_params_batch, encode_params
    dev = torch.device(device)
    aug, rng = DeviceClipAugment(112), np.random.default_rng(0)
    params = torch.from_numpy(np.stack([encode_params(aug.sample_params(rng, 256, 340))
                                        for _ in range(clips)])).to(dev)
    x = torch.rand(clips, 3, 16, 112, 112, device=dev)
    apply_params_batch(x, params)
    _sync(dev)
    start = time.perf_counter()
    for _ in range(repeats):
        apply_params_batch(x, params)
    _sync(dev)
    per_clip = (time.perf_counter() - start) / (repeats * clips)
    return {'device': device, 'clips': clips, 's_per_clip': round(per_clip, 6)}
