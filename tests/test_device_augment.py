"""Device-side augmentation (DeviceClipAugment + the data preprocessor) equals the CPU path."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from vssl_bench.data.dataset import VideoClipDataset
from vssl_bench.data.device_augment import DeviceClipAugment, apply_params_batch, encode_params
from vssl_bench.data.transforms import (ClipAugment, ClipAugParams, _float_to_output,
                                        frames_to_tensor)
from vssl_bench.methods.base import VideoDataPreprocessor

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def _frames(seed: int, t: int = 4, h: int = 40, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(t, h // 4, w // 4, 3), dtype=np.uint8)
    return np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2)


def _cpu_path(frames: np.ndarray, params: ClipAugParams, size: int) -> torch.Tensor:
    return _float_to_output(ClipAugment(size)._augment(frames_to_tensor(frames), params))


@pytest.mark.parametrize('device', DEVICES)
def test_device_path_equals_cpu_path(device: str) -> None:
    size, rng = 24, np.random.default_rng(0)
    aug = DeviceClipAugment(size, hue=0.4, blur_p=0.7, grayscale_p=0.3, flip_p=0.5)
    frames = [_frames(k) for k in range(24)]
    params = [aug.sample_params(rng, 40, 48) for _ in frames]
    # Every op occurs, in several orders.
    assert any(p.jitter for p in params) and any(p.grayscale for p in params)
    assert any(p.blur_sigma for p in params) and any(p.flip for p in params)
    expected = torch.stack([_cpu_path(f, p, size) for f, p in zip(frames, params)])
    crops = torch.stack([_cpu_path(f, ClipAugParams(p.top, p.left, p.height, p.width), size)
                         for f, p in zip(frames, params)])
    vectors = torch.from_numpy(np.stack([encode_params(p) for p in params]))
    got = apply_params_batch(crops.to(device).float() / 255, vectors.to(device))
    got = (got * 255).round().to(torch.uint8).cpu()
    diff = (got.int() - expected.int()).abs()
    assert diff.max() <= 1, f'max difference {diff.max()} uint8 levels'
    assert (diff > 0).float().mean() < 0.01


def test_one_parameter_set_per_clip_and_every_frame_alike() -> None:
    # A clip of identical frames stays identical across frames; two clips differ.
    frames = np.repeat(_frames(1, t=1), 6, axis=0)
    aug = DeviceClipAugment(16)
    rng = np.random.default_rng(3)
    clips, params = zip(*[aug(frames, rng) for _ in range(2)])
    out = apply_params_batch(torch.stack(clips).float() / 255, torch.stack(params))
    for clip in out:
        assert all(torch.equal(clip[:, 0], clip[:, t]) for t in range(6))
    assert not torch.equal(out[0], out[1])


def test_dataset_and_preprocessor_match_the_cpu_transform(video_factory) -> None:
    ann = video_factory(n=2, frames=20, size=(32, 40))
    kwargs = dict(sampler=dict(type='CVRLIntervalSampler', clip_len=4, stride=2),
                  views_per_clip=2)
    cpu = VideoClipDataset(str(ann), str(ann.parent), transform=dict(type='ClipAugment',
                                                                     out_size=16), **kwargs)
    dev = VideoClipDataset(str(ann), str(ann.parent),
                           transform=dict(type='DeviceClipAugment', out_size=16), **kwargs)
    torch.manual_seed(0)
    a = default_collate([cpu[0], cpu[1]])
    torch.manual_seed(0)
    b = default_collate([dev[0], dev[1]])
    assert b['inputs'].dtype == torch.uint8 and b['aug_params'].shape == (2, 4, 13)
    pre = VideoDataPreprocessor()
    x, y = pre(a, True)['inputs'], pre(b, True)['inputs']
    assert x.shape == y.shape == (2, 4, 3, 4, 16, 16)
    assert (x - y).abs().max() <= 1.01 / 255 / 0.225  # one uint8 level after normalisation


def test_per_frame_ablation_stays_on_cpu() -> None:
    with pytest.raises(ValueError, match='use ClipAugment'):
        DeviceClipAugment(16, consistent=False)


def test_device_path_under_bfloat16_autocast_equals_float32() -> None:
    # Training runs the data preprocessor inside bfloat16 autocast: blur's convolutions then
    # returned bfloat16 into the float32 clips (index_copy_ refused the mix).
    size, rng = 24, np.random.default_rng(5)
    aug = DeviceClipAugment(size, hue=0.4, blur_p=1.0, grayscale_p=0.3, flip_p=0.5)
    clips, params = zip(*[aug(_frames(k), rng) for k in range(8)])
    clips, params = torch.stack(clips).float() / 255, torch.stack(params)
    expected = apply_params_batch(clips, params)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = apply_params_batch(clips, params)
    assert got.dtype == torch.float32 and torch.equal(got, expected)
