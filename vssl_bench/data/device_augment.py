"""Augmentation on the model's device: the photometric half of :class:`ClipAugment`, batched.

Opt-in: a dataset whose transform is :class:`DeviceClipAugment` returns, per clip, the
``uint8`` crop already resized to the output size (crop + resize run in the worker: cheap on
``uint8`` and they make every clip the same shape, so a batch collates and transfers at the output
size) plus the clip's parameters as a float vector (:func:`encode_params`). The data preprocessor
(:class:`vssl_bench.methods.base.VideoDataPreprocessor`) then applies flip, colour jitter (in each
clip's random order), grayscale and blur to the whole batch on its device with
:func:`apply_params_batch`, one parameter set per clip and identical across the clip's frames,
and rounds to ``uint8`` levels as the CPU path does. tests/test_device_augment.py checks that this
equals the CPU path for the same parameters within one ``uint8`` level.
"""
from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms.v2.functional._color import _hsv_to_rgb, _rgb_to_hsv

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import CLIP_TRANSFORMS
from vssl_bench.data.batched_augment import JITTER_ORDER, luma
from vssl_bench.data.transforms import (ClipAugment, ClipAugParams, apply_geometry,
                                        blur_kernel_and_sigma, frames_to_tensor)

JITTER_NAMES = JITTER_ORDER  # the op ids of the parameter vector
# Parameter vector: flip, jitter on, 4 op ids in applied order, 4 factors (JITTER_NAMES order),
# grayscale, blur on, blur sigma at 224 px.
NUM_PARAMS = 13


def encode_params(params: ClipAugParams) -> np.ndarray:
    """The photometric part of ``params`` (and the flip) as float64 (NUM_PARAMS,)."""
    vec = np.zeros(NUM_PARAMS, dtype=np.float64)
    vec[0] = params.flip
    if params.jitter is not None:
        vec[1] = 1
        for k, (name, factor) in enumerate(params.jitter):
            vec[2 + k] = JITTER_NAMES.index(name)
            vec[6 + JITTER_NAMES.index(name)] = factor
    vec[10] = params.grayscale
    if params.blur_sigma is not None:
        vec[11], vec[12] = 1, params.blur_sigma
    return vec


def _blend(x: torch.Tensor, other: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    return x.mul(ratio).add_(other * (1.0 - ratio)).clamp_(0, 1)


def _jitter_op(name: str, x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """One colour-jitter op on clips (n, T, 3, H, W) with per-clip ``factor`` (n,)."""
    f = factor.view(-1, 1, 1, 1, 1).to(x.dtype)
    if name == 'brightness':
        return _blend(x, torch.zeros_like(x), f)
    if name == 'contrast':  # blend with the mean luma of each frame
        return _blend(x, luma(x).mean(dim=(-3, -2, -1), keepdim=True), f)
    if name == 'saturation':
        return _blend(x, luma(x), f)
    h, s, v = _rgb_to_hsv(x).unbind(dim=-3)
    h = h.add(f.squeeze(-3)).remainder_(1.0)
    return _hsv_to_rgb(torch.stack((h, s, v), dim=-3))


def _blur(x: torch.Tensor, sigma_224: torch.Tensor) -> torch.Tensor:
    """Per-clip Gaussian blur (reflect padding) of (n, T, 3, S, S), sigma in 224-px units.

    The CPU path's 2-D kernel is the outer product of one 1-D kernel, so it runs here as two 1-D
    passes (2k instead of k^2 multiply-adds per pixel); the weights below 1e-20 that the CPU
    path zeroes change the result by < 1e-6.
    """
    n, t, c, size = x.shape[0], x.shape[1], x.shape[2], x.shape[-1]
    kernel, scale = blur_kernel_and_sigma(1.0, size)
    sigma = sigma_224.to(x.dtype).view(-1, 1) * scale
    taps = torch.arange(kernel, dtype=x.dtype, device=x.device) - (kernel - 1) / 2
    weights = torch.exp(-0.5 * (taps / sigma) ** 2)
    weights = (weights / weights.sum(dim=1, keepdim=True)).repeat_interleave(t * c, dim=0)
    pad = kernel // 2
    flat = torch.nn.functional.pad(x.reshape(1, n * t * c, size, size), [pad] * 4,
                                   mode='reflect')
    flat = torch.nn.functional.conv2d(flat, weights.view(-1, 1, 1, kernel), groups=n * t * c)
    flat = torch.nn.functional.conv2d(flat, weights.view(-1, 1, kernel, 1), groups=n * t * c)
    return flat.view(n, t, c, size, size)


def apply_params_batch(clips: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Flip, colour jitter, grayscale and blur, one parameter set per clip, on clips' device.

    Args:
        clips: float (N, 3, T, S, S) in [0, 1].
        params: (N, NUM_PARAMS) from :func:`encode_params`.

    Returns:
        float (N, 3, T, S, S) in [0, 1], rounded to uint8 levels (k / 255) like the CPU path.

    Runs in float32 even inside an autocast region (training under bfloat16 autocast calls it
    from the data preprocessor): pixel arithmetic in bfloat16 would not match the CPU path's
    uint8 levels, and its convolutions would return bfloat16 into the float32 clips.
    """
    with torch.autocast(clips.device.type, enabled=False):
        return _apply_params_batch(clips.float(), params)


def _apply_params_batch(clips: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    params = params.to(clips.device, torch.float64)
    x = clips.transpose(1, 2)  # (N, T, 3, S, S): channels at -3, frames batched per clip
    flip = params[:, 0] > 0
    x = torch.where(flip.view(-1, 1, 1, 1, 1), x.flip(-1), x)
    jitter = params[:, 1] > 0
    for position in range(4):
        for op, name in enumerate(JITTER_NAMES):
            sel = torch.nonzero(jitter & (params[:, 2 + position] == op)).flatten()
            if len(sel):
                x.index_copy_(0, sel, _jitter_op(name, x[sel], params[sel, 6 + op]))
    gray = torch.nonzero(params[:, 10] > 0).flatten()
    if len(gray):
        x.index_copy_(0, gray, luma(x[gray]).expand(-1, -1, 3, -1, -1))
    blur = torch.nonzero(params[:, 11] > 0).flatten()
    if len(blur):
        x.index_copy_(0, blur, _blur(x[blur], params[blur, 12]))
    return x.mul(255).round_().clamp_(0, 255).div_(255).transpose(1, 2)


@CLIP_TRANSFORMS.register_module()
class DeviceClipAugment(ClipAugment):
    """:class:`ClipAugment` whose photometric half runs on the model's device (see module doc).

    Same arguments and the same random draws as ClipAugment (one parameter set per clip; the
    per-frame ablation ``consistent=False`` is CPU-only). Returns ``(uint8 (3, T, S, S) crop
    resized to S, float64 (NUM_PARAMS,) parameters)``.
    """

    batched = False  # returns (clip, parameters); the device batches the photometric half

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.consistent:
            raise UserError('DeviceClipAugment applies one parameter set per clip: use '
                            'ClipAugment for consistent=False')

    def __call__(self, frames: np.ndarray, rng: np.random.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        clip = frames_to_tensor(frames)
        params = self.sample_params(rng, *clip.shape[-2:])
        geometry = ClipAugParams(params.top, params.left, params.height, params.width)
        out = apply_geometry(clip, geometry, self.out_size)  # uint8, flip left to the device
        return out.permute(1, 0, 2, 3).contiguous(), torch.from_numpy(encode_params(params))

    def __repr__(self) -> str:
        return 'Device' + super().__repr__()

