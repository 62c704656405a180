"""Clip samplers: which frames of a video make up each clip.

Every sampler is called as ``sampler(num_frames, rng)`` and returns an int64 array of frame
indices of shape (num_clips, clip_len). A clip of ``clip_len`` frames at temporal ``stride`` spans
``(clip_len - 1) * stride + 1`` frames; ``T = num_frames - (clip_len - 1) * stride`` is the number
of valid start offsets (starts ``0 .. T-1``). Videos shorter than one clip (``T <= 0``) are
loop-padded: indices are taken modulo ``num_frames``.
"""
from __future__ import annotations

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import CLIP_SAMPLERS


def clip_indices(starts: np.ndarray, clip_len: int, stride: int, num_frames: int) -> np.ndarray:
    """Frame indices of clips starting at ``starts``: int64 (len(starts), clip_len).

    Indices past the end wrap around (loop padding), which only happens for short videos.
    """
    starts = np.asarray(starts, dtype=np.int64).reshape(-1, 1)
    offsets = np.arange(clip_len, dtype=np.int64) * stride
    return (starts + offsets) % num_frames


class _ClipSampler:
    """Common fields: ``clip_len`` frames per clip, ``stride`` frames between them."""

    num_clips: int = 1

    def __init__(self, clip_len: int, stride: int = 1) -> None:
        if clip_len < 1 or stride < 1:
            raise UserError(f'clip_len and stride must be >= 1, got {clip_len}, {stride}')
        self.clip_len = clip_len
        self.stride = stride

    def num_starts(self, num_frames: int) -> int:
        """T: number of start offsets at which a whole clip fits (<= 0 for short videos)."""
        return num_frames - (self.clip_len - 1) * self.stride

    def __repr__(self) -> str:
        fields = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({fields})'


@CLIP_SAMPLERS.register_module()
class CVRLIntervalSampler(_ClipSampler):
    """Two clips whose start interval follows a decreasing distribution (CVRL).

    Implements the temporal interval sampling of Qian et al., "Spatiotemporal Contrastive Video
    Representation Learning", CVPR 2021: the interval t between the two starts is drawn from
    P(t) ∝ T - t on [0, T] (``'decreasing'``, the paper's choice), or for the paper's ablation
    from a uniform (``'uniform'``) or increasing P(t) ∝ t (``'increasing'``) density.
    Clip 1 starts uniformly in [0, T - t), clip 2 at start1 + t, and the two are swapped with
    probability 1/2.

    The interval is drawn by exact inverse-CDF sampling of the *continuous* t in [0, T), then
    floored to an integer, as in the released CVRL code (which bisects the same CDF). The integer
    interval k therefore has the exact pmf ``P(k) = F(k + 1) - F(k)``, k = 0 .. T-1, given by
    :meth:`interval_pmf`. If the video is shorter than one clip (T <= 0) both starts are drawn
    uniformly in [0, num_frames) and frames are loop-padded.
    """

    num_clips = 2
    DISTRIBUTIONS = ('decreasing', 'uniform', 'increasing')

    def __init__(self, clip_len: int, stride: int = 1, distribution: str = 'decreasing') -> None:
        super().__init__(clip_len, stride)
        if distribution not in self.DISTRIBUTIONS:
            raise UserError(f'distribution must be one of {self.DISTRIBUTIONS}, '
                            f'got {distribution!r}')
        self.distribution = distribution

    def interval_cdf(self, t: np.ndarray, T: int) -> np.ndarray:
        """CDF F(t) of the continuous interval on [0, T]."""
        x = np.clip(np.asarray(t, dtype=np.float64) / T, 0.0, 1.0)
        if self.distribution == 'decreasing':
            return 2 * x - x ** 2  # = 2t/T - t²/T²
        if self.distribution == 'uniform':
            return x
        return x ** 2

    def interval_pmf(self, T: int) -> np.ndarray:
        """Exact pmf of the integer interval returned by :meth:`sample_interval`: (T,) float."""
        return np.diff(self.interval_cdf(np.arange(T + 1), T))

    def sample_interval(self, T: int, rng: np.random.Generator) -> int:
        """Integer interval in [0, T - 1] between the two clip starts, for T >= 1 starts."""
        u = 1.0 - rng.random()  # in (0, 1], so every t below is strictly less than T
        if self.distribution == 'decreasing':
            t = T * (1.0 - np.sqrt(u))  # F^{-1}(1 - u), F(t) = 1 - (1 - t/T)²
        elif self.distribution == 'uniform':
            t = T * (1.0 - u)
        else:
            t = T * np.sqrt(1.0 - u)
        return min(int(np.floor(t)), T - 1)  # min guards against float round-up

    def sample_starts(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Start frames of the two clips: int64 (2,)."""
        T = self.num_starts(num_frames)
        if T <= 0:
            return rng.integers(0, num_frames, size=2).astype(np.int64)
        t = self.sample_interval(T, rng)
        start1 = int(rng.integers(0, T - t))
        starts = np.array([start1, start1 + t], dtype=np.int64)
        if rng.random() < 0.5:
            starts = starts[::-1].copy()
        return starts

    def __call__(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices of the two clips: int64 (2, clip_len)."""
        return clip_indices(self.sample_starts(num_frames, rng), self.clip_len, self.stride,
                            num_frames)


@CLIP_SAMPLERS.register_module()
class RandomClipSampler(_ClipSampler):
    """``num_clips`` clips with independent, uniformly random starts (training)."""

    def __init__(self, clip_len: int, stride: int = 1, num_clips: int = 1) -> None:
        super().__init__(clip_len, stride)
        self.num_clips = num_clips

    def __call__(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices: int64 (num_clips, clip_len)."""
        T = self.num_starts(num_frames)
        high = T if T > 0 else num_frames  # short video: any start, loop-padded
        starts = rng.integers(0, high, size=self.num_clips)
        return clip_indices(starts, self.clip_len, self.stride, num_frames)


@CLIP_SAMPLERS.register_module()
class UniformClipSampler(_ClipSampler):
    """``num_clips`` deterministic, evenly spaced clips covering the video (evaluation).

    Starts are ``round(linspace(0, T - 1, num_clips))`` so the first clip begins at the first
    frame and the last ends at the last frame; a single clip is centred. A video shorter than one
    clip gives clips starting at frame 0, loop-padded. The ``rng`` argument is ignored.
    """

    def __init__(self, clip_len: int, stride: int = 1, num_clips: int = 1) -> None:
        super().__init__(clip_len, stride)
        self.num_clips = num_clips

    def __call__(self, num_frames: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Frame indices: int64 (num_clips, clip_len)."""
        T = self.num_starts(num_frames)
        if T <= 0:
            starts = np.zeros(self.num_clips, dtype=np.int64)
        elif self.num_clips == 1:
            starts = np.array([(T - 1) // 2], dtype=np.int64)
        else:
            starts = np.round(np.linspace(0, T - 1, self.num_clips)).astype(np.int64)
        return clip_indices(starts, self.clip_len, self.stride, num_frames)


@CLIP_SAMPLERS.register_module()
class TCLRSampler(_ClipSampler):
    """One global clip and ``num_local`` local clips of one window (TCLR, Dave et al., CVIU 2022).

    The window spans ``num_local * clip_len`` consecutive frames and starts uniformly at random.
    Clip 0 is the global clip: ``clip_len`` frames at stride ``num_local``, covering the window;
    clips 1 .. num_local are the window's non-overlapping quarters (for num_local = 4) of
    ``clip_len`` consecutive frames, in temporal order. The paper uses clip_len 16 (window 64);
    on 48-frame SynthMotion videos clip_len 8 gives a 32-frame window. A video shorter than the
    window starts it at frame 0 and loop-pads. ``stride`` is fixed by the geometry and not taken.
    """

    def __init__(self, clip_len: int = 8, num_local: int = 4) -> None:
        super().__init__(clip_len, num_local)
        self.num_local = num_local
        self.num_clips = 1 + num_local

    @property
    def window(self) -> int:
        return self.num_local * self.clip_len

    def __call__(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices: int64 (1 + num_local, clip_len), global clip first."""
        free = num_frames - self.window
        start = int(rng.integers(0, free + 1)) if free >= 0 else 0
        global_clip = clip_indices([start], self.clip_len, self.num_local, num_frames)
        local = clip_indices(start + np.arange(self.num_local) * self.clip_len, self.clip_len, 1,
                             num_frames)
        return np.concatenate([global_clip, local])


@CLIP_SAMPLERS.register_module()
class FrameSampler(_ClipSampler):
    """``num_clips`` clips, each ONE uniformly random frame repeated ``clip_len`` times.

    Single-frame (image) pretraining through a 3D backbone, as CVRL's "SimCLR on frames,
    inflated" baseline: a clip holds no motion at all. ``stride`` is meaningless and not taken.
    """

    def __init__(self, clip_len: int, num_clips: int = 1) -> None:
        super().__init__(clip_len, 1)
        self.num_clips = num_clips

    def __call__(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices: int64 (num_clips, clip_len), constant along each row."""
        frames = rng.integers(0, num_frames, size=(self.num_clips, 1))
        return np.repeat(frames, self.clip_len, axis=1).astype(np.int64)


@CLIP_SAMPLERS.register_module()
class OrderedClipsSampler(_ClipSampler):
    """``num_clips`` non-overlapping clips in temporal order with random gaps (VCOP, Xu et al.,
    CVPR 2019).

    Each clip spans ``span = (clip_len - 1) * stride + 1`` frames; the ``num_frames -
    num_clips * span`` spare frames are split at random into the num_clips + 1 gaps (before,
    between and after the clips): the num_clips cumulative gaps are the sorted values of
    num_clips uniform draws in [0, spare], so every ordered placement is reachable. A video
    shorter than num_clips * span gets back-to-back clips from frame 0, loop-padded.
    """

    def __init__(self, clip_len: int, stride: int = 1, num_clips: int = 3) -> None:
        super().__init__(clip_len, stride)
        self.num_clips = num_clips

    def __call__(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices: int64 (num_clips, clip_len), clip starts strictly increasing."""
        span = (self.clip_len - 1) * self.stride + 1
        spare = num_frames - self.num_clips * span
        offsets = np.sort(rng.integers(0, spare + 1, size=self.num_clips)) if spare > 0 else \
            np.zeros(self.num_clips, dtype=np.int64)
        starts = np.arange(self.num_clips) * span + offsets
        return clip_indices(starts, self.clip_len, self.stride, num_frames)
