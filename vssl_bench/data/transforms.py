"""Clip transforms: temporally consistent spatial augmentation (CVRL) and an evaluation view.

Design rule: augmentation is a pure function of EXPLICIT parameters (:func:`apply_clip_params`)
plus thin random wrappers that draw those parameters (:func:`sample_clip_params`). The function
processes the whole clip tensor at once, frames being the batch dimension, so every frame of a
clip necessarily gets the same crop, flip, colour jitter, grayscale and blur: the temporally
consistent augmentation of Qian et al., "Spatiotemporal Contrastive Video Representation
Learning", CVPR 2021. Two clips (or two views of a clip) each draw their own parameters.
The ops are torchvision's ``transforms.v2.functional`` ones, except the Gaussian blur
(:func:`vssl_bench.data.blur.gaussian_blur`, the same filter without torchvision's slow denormal
case). A data set augments a whole batch's clips at once where the transform allows
(:meth:`ClipAugment.draw` per clip, then :meth:`ClipAugment.finish`): the same draws and, bit for
bit, the same clips, at less cost (:mod:`vssl_bench.data.batched_augment`).

Transforms are called as ``transform(frames, rng)`` with ``frames`` ``uint8`` (T, H, W, 3) and
return ``uint8`` (3, T, S, S), the layout of mmaction2's 3D backbones after batching.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2.functional as F

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import CLIP_TRANSFORMS
from vssl_bench.data.batched_augment import one_thread, photometric_batch
from vssl_bench.data.blur import blur_kernel_and_sigma, gaussian_blur

_JITTER_OPS = {
    'brightness': F.adjust_brightness,
    'contrast': F.adjust_contrast,
    'saturation': F.adjust_saturation,
    'hue': F.adjust_hue,
}


@dataclass(frozen=True)
class ClipAugConfig:
    """Probabilities and ranges of :class:`ClipAugment`; defaults are the CVRL values.

    ``crop_area`` is the fraction of the frame area, ``crop_aspect`` width / height. Jitter
    strengths follow torchvision's ``ColorJitter`` (factor in [1 - s, 1 + s], hue in [-h, h]).
    ``blur_sigma`` is in pixels at 224-pixel resolution (see :func:`blur_kernel_and_sigma`).
    """

    crop_area: tuple[float, float] = (0.3, 1.0)
    crop_aspect: tuple[float, float] = (0.5, 2.0)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.8
    contrast: float = 0.8
    saturation: float = 0.8
    hue: float = 0.2
    grayscale_p: float = 0.2
    blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 2.0)


@dataclass(frozen=True)
class ClipAugParams:
    """One parameter set of the augmentation, applied identically to every frame of a clip.

    Attributes:
        top, left, height, width: Crop box in input pixels.
        flip: Horizontal flip.
        jitter: Colour-jitter ops in the order applied, as (name, factor) with name in
            brightness / contrast / saturation / hue; None when jitter is skipped.
        grayscale: Convert to grayscale (3 equal channels).
        blur_sigma: Gaussian blur sigma at 224-pixel resolution, or None for no blur.
    """

    top: int
    left: int
    height: int
    width: int
    flip: bool = False
    jitter: tuple[tuple[str, float], ...] | None = None
    grayscale: bool = False
    blur_sigma: float | None = None


def sample_crop_box(rng: np.random.Generator, height: int, width: int,
                    area: tuple[float, float], aspect: tuple[float, float]
                    ) -> tuple[int, int, int, int]:
    """Random resized crop box ``(top, left, h, w)`` (the Inception / torchvision scheme).

    Area fraction uniform in ``area``, aspect ratio (w / h) log-uniform in ``aspect``; retried up
    to 10 times until the box fits, then a centre crop with the aspect clamped to the range.
    """
    frame_area = height * width
    log_lo, log_hi = np.log(aspect[0]), np.log(aspect[1])
    for _ in range(10):
        target = frame_area * rng.uniform(area[0], area[1])
        ratio = np.exp(rng.uniform(log_lo, log_hi))
        w = int(round(np.sqrt(target * ratio)))
        h = int(round(np.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            return top, left, h, w
    ratio = width / height
    if ratio < aspect[0]:
        w, h = width, int(round(width / aspect[0]))
    elif ratio > aspect[1]:
        h, w = height, int(round(height * aspect[1]))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def sample_clip_params(rng: np.random.Generator, height: int, width: int,
                       cfg: ClipAugConfig = ClipAugConfig()) -> ClipAugParams:
    """Draw one :class:`ClipAugParams` for a clip of ``height`` x ``width`` frames."""
    top, left, h, w = sample_crop_box(rng, height, width, cfg.crop_area, cfg.crop_aspect)
    flip = bool(rng.random() < cfg.flip_p)
    jitter = None
    if rng.random() < cfg.jitter_p:
        # max(0, .): a strength above 1 could otherwise give a negative factor.
        factors = {
            'brightness': max(0.0, rng.uniform(1 - cfg.brightness, 1 + cfg.brightness)),
            'contrast': max(0.0, rng.uniform(1 - cfg.contrast, 1 + cfg.contrast)),
            'saturation': max(0.0, rng.uniform(1 - cfg.saturation, 1 + cfg.saturation)),
            'hue': rng.uniform(-cfg.hue, cfg.hue),
        }
        # SimCLR applies the four ops in a random order.
        names = [list(_JITTER_OPS)[k] for k in rng.permutation(len(_JITTER_OPS))]
        jitter = tuple((name, float(factors[name])) for name in names)
    grayscale = bool(rng.random() < cfg.grayscale_p)
    blur_sigma = None
    if rng.random() < cfg.blur_p:
        blur_sigma = float(rng.uniform(cfg.blur_sigma[0], cfg.blur_sigma[1]))
    return ClipAugParams(top, left, h, w, flip, jitter, grayscale, blur_sigma)


def apply_geometry(clip: torch.Tensor, params: ClipAugParams, out_size: int) -> torch.Tensor:
    """Crop, resize (bilinear, antialiased) and flip: (T, 3, H, W) -> (T, 3, out, out).

    Works on any dtype; uint8 input stays uint8.
    """
    clip = F.resized_crop(clip, params.top, params.left, params.height, params.width,
                          [out_size, out_size], antialias=True)
    if params.flip:
        clip = F.horizontal_flip(clip)
    return clip


def apply_photometric(clip: torch.Tensor, params: ClipAugParams) -> torch.Tensor:
    """Colour jitter, grayscale and blur of a float clip (T, 3, S, S) in [0, 1]."""
    if params.jitter is not None:
        for name, factor in params.jitter:
            clip = _JITTER_OPS[name](clip, factor)
    if params.grayscale:
        clip = F.rgb_to_grayscale(clip, num_output_channels=3)
    if params.blur_sigma is not None:
        kernel, sigma = blur_kernel_and_sigma(params.blur_sigma, clip.shape[-1])
        clip = gaussian_blur(clip, kernel, sigma)
    return clip


def apply_clip_params(clip: torch.Tensor, params: ClipAugParams, out_size: int) -> torch.Tensor:
    """Apply one parameter set to every frame of a clip.

    Args:
        clip: Float tensor (T, 3, H, W) in [0, 1]; T is the batch dimension of every op, which is
            why all frames get the same parameters.
        params: The augmentation parameters.
        out_size: Side S of the square output.

    Returns:
        Float tensor (T, 3, S, S) in [0, 1].
    """
    return apply_photometric(apply_geometry(clip, params, out_size), params)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) numpy -> uint8 (T, 3, H, W) tensor (a view when possible)."""
    frames = np.ascontiguousarray(frames)
    if not frames.flags.writeable:  # e.g. a slice of the read-only cache memmap
        frames = frames.copy()
    return torch.from_numpy(frames).permute(0, 3, 1, 2)


def _float_to_output(clip: torch.Tensor) -> torch.Tensor:
    """Float (T, 3, S, S) in [0, 1] -> uint8 (3, T, S, S)."""
    return clip.mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(1, 0, 2, 3).contiguous()


@CLIP_TRANSFORMS.register_module()
class ClipAugment:
    """CVRL training augmentation of a clip (random resized crop, flip, colour jitter, grayscale,
    Gaussian blur), temporally consistent by default.

    Args:
        out_size: Side S of the square output.
        crop_area, crop_aspect, flip_p, jitter_p, brightness, contrast, saturation, hue,
            grayscale_p, blur_p, blur_sigma: see :class:`ClipAugConfig` (defaults = CVRL).
        consistent: One parameter set per clip (CVRL). False draws an independent set for every
            frame (the paper's per-frame augmentation ablation).

    Crop, resize and flip run on ``uint8`` (cheaper than on float for large frames); the
    photometric ops run in float and the result is rounded back to ``uint8``.
    """

    def __init__(self, out_size: int = 112, crop_area: tuple[float, float] = (0.3, 1.0),
                 crop_aspect: tuple[float, float] = (0.5, 2.0), flip_p: float = 0.5,
                 jitter_p: float = 0.8, brightness: float = 0.8, contrast: float = 0.8,
                 saturation: float = 0.8, hue: float = 0.2, grayscale_p: float = 0.2,
                 blur_p: float = 0.5, blur_sigma: tuple[float, float] = (0.1, 2.0),
                 consistent: bool = True) -> None:
        self.out_size = out_size
        self.consistent = consistent
        self.cfg = ClipAugConfig(tuple(crop_area), tuple(crop_aspect), flip_p, jitter_p,
                                 brightness, contrast, saturation, hue, grayscale_p, blur_p,
                                 tuple(blur_sigma))

    def sample_params(self, rng: np.random.Generator, height: int, width: int) -> ClipAugParams:
        """One parameter set for frames of ``height`` x ``width``."""
        return sample_clip_params(rng, height, width, self.cfg)

    def _augment(self, clip: torch.Tensor, params: ClipAugParams) -> torch.Tensor:
        """uint8 (T, 3, H, W) -> float (T, 3, S, S) in [0, 1]."""
        # Frames arrive channels-last (a permuted view of (T, H, W, 3)); the photometric ops,
        # the blur's grouped convolution above all, are several times faster on contiguous NCHW.
        clip = apply_geometry(clip, params, self.out_size).contiguous()
        return apply_photometric(clip.float().div_(255), params)

    @property
    def batched(self) -> bool:
        """Whether a data set may augment a batch's clips together (:meth:`draw`, then
        :meth:`finish`); the per-frame ablation runs clip by clip."""
        return self.consistent

    def draw(self, frames: np.ndarray, rng: np.random.Generator
             ) -> tuple[torch.Tensor, ClipAugParams]:
        """The random draws of one clip and its geometric half: ``uint8`` (T, 3, S, S) and the
        parameters; :meth:`finish` applies the rest to many such clips at once. Draws exactly
        what :meth:`__call__` draws."""
        clip = frames_to_tensor(frames)
        params = self.sample_params(rng, *clip.shape[-2:])
        return apply_geometry(clip, params, self.out_size).contiguous(), params

    def finish(self, drawn: list[tuple[torch.Tensor, ClipAugParams]]) -> list[torch.Tensor]:
        """The photometric half of clips from :meth:`draw`, all at once: ``uint8`` (3, T, S, S)
        each, equal bit for bit to what :meth:`__call__` returns for the same draws
        (:mod:`vssl_bench.data.batched_augment`)."""
        clips, params = zip(*drawn)
        with one_thread():
            out = photometric_batch(torch.stack(clips).float().div_(255), params)
            out = out.mul_(255).round_().clamp_(0, 255).to(torch.uint8)
        return [clip.permute(1, 0, 2, 3).contiguous() for clip in out]

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """Augment ``uint8`` frames (T, H, W, 3) into a ``uint8`` clip (3, T, S, S)."""
        clip = frames_to_tensor(frames)
        height, width = clip.shape[-2:]
        if self.consistent:
            out = self._augment(clip, self.sample_params(rng, height, width))
        else:
            out = torch.cat([self._augment(clip[t:t + 1], self.sample_params(rng, height, width))
                             for t in range(clip.shape[0])])
        return _float_to_output(out)

    def __repr__(self) -> str:
        return f'ClipAugment(out_size={self.out_size}, consistent={self.consistent}, {self.cfg})'


@CLIP_TRANSFORMS.register_module()
class CenterClip:
    """Evaluation view: centre square crop of ``crop_fraction`` of the short side, resized to S.

    Args:
        out_size: Side S of the square output.
        crop_fraction: Side of the crop as a fraction of the short side of the frames.
    """

    def __init__(self, out_size: int = 112, crop_fraction: float = 1.0) -> None:
        if not 0 < crop_fraction <= 1:
            raise UserError(f'crop_fraction must be in (0, 1], got {crop_fraction}')
        self.out_size = out_size
        self.crop_fraction = crop_fraction

    def __call__(self, frames: np.ndarray, rng: np.random.Generator | None = None
                 ) -> torch.Tensor:
        """``uint8`` frames (T, H, W, 3) -> ``uint8`` clip (3, T, S, S); ``rng`` is ignored."""
        clip = frames_to_tensor(frames)
        height, width = clip.shape[-2:]
        side = max(1, int(round(min(height, width) * self.crop_fraction)))
        clip = F.resized_crop(clip, (height - side) // 2, (width - side) // 2, side, side,
                              [self.out_size, self.out_size], antialias=True)
        return clip.permute(1, 0, 2, 3).contiguous()

    def __repr__(self) -> str:
        return f'CenterClip(out_size={self.out_size}, crop_fraction={self.crop_fraction})'
