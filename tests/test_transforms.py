"""Clip transforms: temporal consistency, parameter ranges, output format."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as F

from vssl_bench.core.registry import CLIP_TRANSFORMS
from vssl_bench.data.transforms import (CenterClip, ClipAugConfig, ClipAugment, ClipAugParams,
                                        apply_clip_params, blur_kernel_and_sigma, gaussian_blur,
                                        sample_clip_params)

FULL_PARAMS = ClipAugParams(top=5, left=7, height=40, width=30, flip=True,
                            jitter=(('hue', 0.1), ('brightness', 1.3), ('saturation', 0.6),
                                    ('contrast', 1.4)),
                            grayscale=False, blur_sigma=1.5)


def random_frames(t: int = 6, h: int = 48, w: int = 56, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize('params', [FULL_PARAMS,
                                    ClipAugParams(0, 0, 48, 56, grayscale=True, blur_sigma=0.5)])
def test_whole_clip_equals_frame_by_frame(params: ClipAugParams) -> None:
    clip = torch.from_numpy(random_frames()).permute(0, 3, 1, 2).float() / 255
    whole = apply_clip_params(clip, params, out_size=32)
    assert whole.shape == (6, 3, 32, 32)
    per_frame = torch.cat([apply_clip_params(clip[t:t + 1], params, 32) for t in range(6)])
    torch.testing.assert_close(whole, per_frame, atol=1e-5, rtol=0)


def test_identical_frames_stay_identical_only_when_consistent() -> None:
    frame = random_frames(t=1, seed=3)
    frames = np.repeat(frame, 8, axis=0)
    out = ClipAugment(out_size=32)(frames, np.random.default_rng(0))
    assert out.shape == (3, 8, 32, 32) and out.dtype == torch.uint8
    for t in range(1, 8):
        assert torch.equal(out[:, t], out[:, 0])
    out = ClipAugment(out_size=32, consistent=False)(frames, np.random.default_rng(0))
    assert out.shape == (3, 8, 32, 32)
    differing = sum(not torch.equal(out[:, t], out[:, 0]) for t in range(1, 8))
    assert differing >= 6


def test_two_clips_get_different_params() -> None:
    rng = np.random.default_rng(0)
    a = sample_clip_params(rng, 64, 80)
    b = sample_clip_params(rng, 64, 80)
    assert a != b
    # And the same seed reproduces the same parameters.
    assert sample_clip_params(np.random.default_rng(0), 64, 80) == a


def test_param_ranges_over_many_draws() -> None:
    height, width = 120, 160
    rng = np.random.default_rng(5)
    draws = [sample_clip_params(rng, height, width) for _ in range(3000)]
    areas = np.array([p.height * p.width / (height * width) for p in draws])
    aspects = np.array([p.width / p.height for p in draws])
    # Rounding the box to whole pixels moves area and aspect slightly off the nominal range.
    assert areas.min() >= 0.3 - 0.02 and areas.max() <= 1.0
    assert aspects.min() >= 0.5 - 0.03 and aspects.max() <= 2.0 + 0.03
    assert areas.mean() < 0.8 and aspects.min() < 0.6 and aspects.max() > 1.7
    for p in draws:
        assert 0 <= p.top and p.top + p.height <= height
        assert 0 <= p.left and p.left + p.width <= width
    rate = lambda flags: float(np.mean(flags))  # noqa: E731
    assert abs(rate([p.flip for p in draws]) - 0.5) < 0.04
    assert abs(rate([p.jitter is not None for p in draws]) - 0.8) < 0.04
    assert abs(rate([p.grayscale for p in draws]) - 0.2) < 0.04
    assert abs(rate([p.blur_sigma is not None for p in draws]) - 0.5) < 0.04
    jitters = [dict(p.jitter) for p in draws if p.jitter is not None]
    for j in jitters:
        assert set(j) == {'brightness', 'contrast', 'saturation', 'hue'}
        assert 0.2 <= j['brightness'] <= 1.8 and 0.2 <= j['contrast'] <= 1.8
        assert 0.2 <= j['saturation'] <= 1.8 and -0.2 <= j['hue'] <= 0.2
    orders = {tuple(name for name, _ in p.jitter) for p in draws if p.jitter is not None}
    assert len(orders) == 24  # all permutations of the four ops occur
    sigmas = [p.blur_sigma for p in draws if p.blur_sigma is not None]
    assert 0.1 <= min(sigmas) and max(sigmas) <= 2.0


def test_blur_scales_with_size() -> None:
    assert blur_kernel_and_sigma(2.0, 224) == (23, 2.0)
    kernel, sigma = blur_kernel_and_sigma(2.0, 112)
    assert kernel == 11 and sigma == pytest.approx(1.0)
    assert blur_kernel_and_sigma(1.0, 16)[0] == 3


@pytest.mark.parametrize('sigma', [0.03, 0.3, 1.7])
def test_blur_matches_torchvision(sigma: float) -> None:
    clip = torch.rand(3, 3, 20, 24)
    expected = F.gaussian_blur(clip, [7, 7], [sigma, sigma])
    torch.testing.assert_close(gaussian_blur(clip, 7, sigma), expected, atol=1e-6, rtol=0)


def test_no_op_params_preserve_the_clip() -> None:
    frames = random_frames(t=3, h=32, w=32)
    clip = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    out = apply_clip_params(clip, ClipAugParams(0, 0, 32, 32), out_size=32)
    torch.testing.assert_close(out, clip)
    flipped = apply_clip_params(clip, ClipAugParams(0, 0, 32, 32, flip=True), out_size=32)
    torch.testing.assert_close(flipped, clip.flip(-1))


def test_grayscale_gives_equal_channels() -> None:
    clip = torch.rand(2, 3, 16, 16)
    out = apply_clip_params(clip, ClipAugParams(0, 0, 16, 16, grayscale=True), 16)
    torch.testing.assert_close(out[:, 0], out[:, 1])
    torch.testing.assert_close(out[:, 0], out[:, 2])


def test_clip_augment_config_and_determinism() -> None:
    aug = CLIP_TRANSFORMS.build(dict(type='ClipAugment', out_size=24, crop_area=[0.5, 1.0]))
    assert isinstance(aug, ClipAugment) and aug.cfg.crop_area == (0.5, 1.0)
    assert ClipAugment().cfg == ClipAugConfig()
    frames = random_frames()
    a = aug(frames, np.random.default_rng(1))
    b = aug(frames, np.random.default_rng(1))
    assert a.shape == (3, 6, 24, 24) and a.dtype == torch.uint8
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(frames, np.random.default_rng(2)))


def test_center_clip() -> None:
    frames = np.zeros((4, 40, 60, 3), dtype=np.uint8)
    frames[:, :, 10:50] = 200  # the centre 40x40 square is bright, the side bands dark
    out = CLIP_TRANSFORMS.build(dict(type='CenterClip', out_size=20))(frames)
    assert out.shape == (3, 4, 20, 20) and out.dtype == torch.uint8
    assert torch.all(out == 200)
    half = CenterClip(out_size=10, crop_fraction=0.5)(frames)
    assert half.shape == (3, 4, 10, 10) and torch.all(half == 200)
