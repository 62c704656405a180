"""ClipAugment's photometric half over a whole batch of clips, equal to the per-clip path bit
for bit.

:func:`vssl_bench.data.transforms.apply_photometric` runs torchvision's colour ops on one clip at a
time. On small clips (SynthMotion's 8 x 32 x 32) an op's dispatch costs about as much as its
arithmetic (the hue shift alone is ~35 tensor ops), and a 128-clip CVRL step spent about a fifth
of its step time on augmentation. Here the same ops run once over every clip of a batch that
takes them, in the same order per clip, with the same float32 constants, so every output element
goes through the same IEEE operations as on the per-clip path; a CVRL step's in-process data
time falls by about a third (results/throughput/suite_loop_avx2.md):

- brightness, the hue shift, grayscale and the final rounding are elementwise; a clip's factor
  becomes a float32 value broadcast over its elements, which is what torchvision does with a
  Python float;
- the blend of contrast and saturation adds ``other * (1 - f)`` with torch's fused
  multiply-add (``add_(other, alpha=1 - f)``); a scalar ``alpha`` cannot vary by clip, so that
  one op runs per clip, on the clip's slice of the batch;
- the contrast mean is a reduction over each frame's S x S luma, the same length per frame
  either way;
- the Gaussian blur runs per clip (:func:`vssl_bench.data.blur.gaussian_blur`, as before).

Everything runs on one torch thread: with more, torch splits a large elementwise op at points
that depend on the batch size, and a fused multiply-add at a split point may round differently
from the vectorised loop. Loader workers and pretraining's in-process loader run on one thread
anyway. ``tests/test_batched_augment.py`` checks the equality on random clips and parameters,
every jitter order included.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

from vssl_bench.data.blur import blur_kernel_and_sigma, gaussian_blur

if TYPE_CHECKING:
    from vssl_bench.data.transforms import ClipAugParams

JITTER_ORDER = ('brightness', 'contrast', 'saturation', 'hue')


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one torch thread (restoring the count afterwards)."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _per_clip(values: Sequence[float], like: torch.Tensor) -> torch.Tensor:
    """Per-clip factors as float32 values (as torch casts a Python float operand), shaped to
    broadcast over clips (n, T, C, S, S)."""
    return torch.tensor(values, dtype=torch.float64).to(like.dtype).view(-1, 1, 1, 1, 1)


def luma(x: torch.Tensor) -> torch.Tensor:
    """Luma of (..., 3, H, W) as (..., 1, H, W): torchvision's weights, order of operations and
    float result."""
    r, g, b = x.unbind(dim=-3)
    return r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)


def _blend(x: torch.Tensor, other: torch.Tensor, factors: Sequence[float]) -> torch.Tensor:
    """torchvision's ``_blend``: ``x * f + other * (1 - f)`` clamped to [0, 1], per clip."""
    out = x.mul(_per_clip(factors, x))
    for k, factor in enumerate(factors):
        out[k].add_(other[k], alpha=1.0 - float(factor))
    return out.clamp_(0, 1.0)


def _jitter(x: torch.Tensor, name: str, factors: Sequence[float]) -> torch.Tensor:
    """One colour-jitter op on clips (n, T, 3, S, S), one factor per clip."""
    if name == 'brightness':
        return x.mul(_per_clip(factors, x)).clamp_(0, 1.0)
    if name == 'contrast':
        return _blend(x, torch.mean(luma(x), dim=(-3, -2, -1), keepdim=True), factors)
    if name == 'saturation':
        return _blend(x, luma(x), factors)
    h, s, v = _rgb_to_hsv(x)
    h.add_(_per_clip(factors, h).squeeze(-1)).remainder_(1.0)
    return _hsv_to_rgb(h, s, v)


def _rgb_to_hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hue, saturation and value (n, T, S, S) of clips (n, T, 3, S, S).

    Pillow's conversion as torchvision writes it, with every float operation in the same order
    (required for equal bits): value = the channel maximum, saturation = (max - min) / max, and
    the hue from the distances of the channels to the maximum, in sixths of a turn. The channel
    extremes come from elementwise maximum/minimum rather than torchvision's ``aminmax`` over
    the strided channel axis (both exact, so the same values)."""
    red, green, blue = x.unbind(dim=-3)
    top = torch.maximum(torch.maximum(red, green), blue)
    spread = top - torch.minimum(torch.minimum(red, green), blue)
    flat = spread == 0  # gray pixels: hue and saturation 0, no division by zero
    one = torch.ones_like(top)
    saturation = spread / torch.where(flat, one, top)
    # distance of each channel to the maximum, in units of the spread
    to_red, to_green, to_blue = ((top.unsqueeze(-3) - x)
                                 / torch.where(flat, one, spread).unsqueeze(-3)).unbind(dim=-3)
    red_top = top == red
    green_top = (top == green) & ~red_top
    blue_top = ~(red_top | (top == green))
    sector = (to_blue.sub(to_green).mul_(red_top)
              .add_(to_red.add(2.0).sub_(to_blue).mul_(green_top))
              .add_(to_green.add(4.0).sub_(to_red).mul_(blue_top)))
    return sector.mul_(1.0 / 6.0).add_(1.0).fmod_(1.0), saturation, top


# For hue sector k = 0..5, which of (value, p, q, t) each of red, green and blue takes
# (the HSV -> RGB table of Pillow and torchvision).
_SECTOR_SOURCES = ((0, 2, 1, 1, 3, 0), (3, 0, 0, 2, 1, 1), (1, 1, 3, 0, 0, 2))


def _hsv_to_rgb(hue: torch.Tensor, saturation: torch.Tensor, value: torch.Tensor
                ) -> torch.Tensor:
    """Clips (n, T, 3, S, S) from hue, saturation and value (n, T, S, S): torchvision's
    arithmetic in the same order (equal bits); each output channel then picks one of the four
    candidates by the hue's sector with ``where`` (a selection, so the same values as
    torchvision's gather through an index table, at a fraction of the cost)."""
    scaled = hue.mul(6)
    whole = torch.floor(scaled)
    frac = scaled.sub_(whole)
    sector = whole.to(dtype=torch.int32).remainder_(6)
    s_frac = saturation * frac
    unsaturated = 1.0 - saturation
    q = (1.0 - s_frac).mul_(value).clamp_(0.0, 1.0)
    t = s_frac.add_(unsaturated).mul_(value).clamp_(0.0, 1.0)
    p = unsaturated.mul_(value).clamp_(0.0, 1.0)
    candidates = (value, p, q, t)
    in_sector = [sector == k for k in range(6)]
    channels = []
    for sources in _SECTOR_SOURCES:
        out = candidates[sources[5]]
        for k in range(5):
            out = torch.where(in_sector[k], candidates[sources[k]], out)
        channels.append(out)
    return torch.stack(channels, dim=-3)


def _apply_to(x: torch.Tensor, clips: list[int], fn, *args) -> None:
    """``x[clips] = fn(x[clips], *args)`` in place (nothing when ``clips`` is empty)."""
    if clips:
        index = torch.tensor(clips, dtype=torch.long)
        x.index_copy_(0, index, fn(x.index_select(0, index), *args))


def photometric_batch(clips: torch.Tensor, params: Sequence[ClipAugParams]) -> torch.Tensor:
    """Colour jitter (each clip's ops in its own order), grayscale and blur of a batch.

    Args:
        clips: float32 (N, T, 3, S, S) in [0, 1]; overwritten.
        params: One parameter set per clip (its photometric fields are used).

    Returns:
        ``clips``, each equal bit for bit to
        :func:`vssl_bench.data.transforms.apply_photometric` of that clip alone.
    """
    if len(params) != clips.shape[0]:
        raise ValueError(f'{len(params)} parameter sets for {clips.shape[0]} clips')
    with one_thread(), torch.no_grad():
        for position in range(len(JITTER_ORDER)):
            for name in JITTER_ORDER:
                chosen = [k for k, p in enumerate(params)
                          if p.jitter is not None and p.jitter[position][0] == name]
                _apply_to(clips, chosen, _jitter, name,
                          [params[k].jitter[position][1] for k in chosen])
        _apply_to(clips, [k for k, p in enumerate(params) if p.grayscale],
                  lambda x: luma(x).expand(x.shape))
        for k, p in enumerate(params):
            if p.blur_sigma is not None:
                kernel, sigma = blur_kernel_and_sigma(p.blur_sigma, clips.shape[-1])
                clips[k] = gaussian_blur(clips[k], kernel, sigma)
    return clips
