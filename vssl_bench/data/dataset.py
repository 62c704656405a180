"""A dataset of clips cut from videos listed in an mmaction2-style annotation file."""
from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch
from mmengine.logging import print_log
from torch.utils.data import Dataset

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import CLIP_SAMPLERS, CLIP_TRANSFORMS, DATASETS
# imported to register the names configs use
from vssl_bench.data import device_augment, samplers, transforms  # noqa: F401
from vssl_bench.data.decoders import FrameReader
from vssl_bench.data.video import FrameStore, VideoDecodeError


def read_annotations(ann_file: str, with_label: bool = True) -> list[tuple[str, int]]:
    """Parse ``relative/path.mp4 label`` lines into (path, label); label -1 when absent.

    Blank lines and lines starting with ``#`` are skipped. The label is the last
    whitespace-separated token, so paths may contain spaces when a label follows them.
    """
    if not os.path.isfile(ann_file):
        raise FileNotFoundError(
            f'Annotation file {ann_file!r} not found. Generate a dataset first, e.g. '
            f'`vssl-bench data synthmotion --out <dir>`, and point ann_file at its list.')
    entries = []
    with open(ann_file) as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.rsplit(None, 1)
            label = -1
            if len(parts) == 2 and _is_int(parts[1]):
                path, label = parts[0], int(parts[1])
            elif with_label:
                raise UserError(f'{ann_file}:{lineno}: expected "relative/path.mp4 label", '
                                f'got {line!r}')
            else:
                path = line
            entries.append((path, label))
    return entries


def _is_int(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def _build(cfg: dict | Any, registry: Any) -> Any:
    """Build a config dict from ``registry``; pass an already-built object through.

    Looks the class up directly instead of ``registry.build``: the Runner's default scope is
    mmaction's, and mmengine would warn about the scope switch on every build.
    """
    if not isinstance(cfg, dict):
        return cfg
    args = dict(cfg)
    kind = args.pop('type')
    cls = registry.get(kind) if isinstance(kind, str) else kind
    if cls is None:
        raise KeyError(f'{kind!r} is not a registered {registry.name}; '
                       f'known: {sorted(registry.module_dict)}')
    return cls(**args)


@DATASETS.register_module()
class VideoClipDataset(Dataset):
    """Clips of videos, each video decoded once per sample.

    Args:
        ann_file: Annotation file with ``relative/path.mp4 label`` lines.
        data_root: Directory the video paths are relative to.
        sampler: CLIP_SAMPLERS config (or object); gives the frame indices of num_clips clips.
        transform: CLIP_TRANSFORMS config (or object); uint8 (T, H, W, 3) -> uint8 (3, T, S, S).
        cache_dir: Decode-once cache directory of :class:`FrameStore`, or None to decode on
            demand.
        with_label: Require a label on every line.
        views_per_clip: Independently augmented views of every sampled clip (e.g. TCLR).
        cache_workers: Processes that build the cache.
        decoder: How videos are decoded without a cache (:mod:`vssl_bench.data.decoders`):
            ``'auto'`` decodes only the frames the sampled clips need; ``'whole'`` decodes every
            frame (the original path, same frames, slower on long videos).
        cache_short_side: With ``cache_dir``, cache every video resized to this short side,
            one file per video (for real data sets), instead of native-size frames.

    ``self[i]`` is ``{'inputs': uint8 (V, 3, T, S, S), 'data_samples': int64 scalar label}``
    (label -1 without labels), V = sampler.num_clips * views_per_clip, ordered clip-major
    (all views of clip 0, then clip 1, ...), plus ``'aug_params'`` (V, P) when the transform
    leaves augmentation to the model's device (:mod:`vssl_bench.data.device_augment`). Random
    draws come from a generator seeded by the global torch RNG, so mmengine's seeding (and its
    DataLoader ``worker_init_fn``) makes runs deterministic.

    Videos that fail while building the cache are dropped at construction (``num_failed``). A
    video that fails on demand (no cache) is warned about, counted and replaced by the next
    kept video; ``num_failed`` then counts in the process where it happened (a DataLoader worker).
    """

    def __init__(self, ann_file: str, data_root: str = '',
                 sampler: dict | Any = dict(type='UniformClipSampler', clip_len=16, stride=2),
                 transform: dict | Any = dict(type='CenterClip', out_size=112),
                 cache_dir: str | None = None, with_label: bool = True, views_per_clip: int = 1,
                 cache_workers: int = 2, decoder: str = 'auto',
                 cache_short_side: int | None = None) -> None:
        if views_per_clip < 1:
            raise UserError(f'views_per_clip must be >= 1, got {views_per_clip}')
        self.ann_file = ann_file
        self.data_root = data_root
        self.sampler = _build(sampler, CLIP_SAMPLERS)
        self.transform = _build(transform, CLIP_TRANSFORMS)
        self.views_per_clip = views_per_clip
        self.reader = FrameReader(decoder)
        entries = read_annotations(ann_file, with_label)
        if not entries:
            raise UserError(f'Annotation file {ann_file!r} lists no videos.')
        all_paths = [os.path.join(data_root, path) for path, _ in entries]
        self.store = FrameStore(all_paths, cache_dir, num_workers=cache_workers,
                                short_side=cache_short_side)
        # Indices into the store of the videos kept (those that did not fail in the cache).
        self._kept = np.array([i for i in range(len(all_paths)) if i not in self.store.failed],
                              dtype=np.int64)
        self._labels = np.array([entries[i][1] for i in self._kept], dtype=np.int64)
        self.num_failed = len(self.store.failed)  # FrameStore has already warned with paths
        if len(self._kept) == 0:
            raise RuntimeError(f'No video of {ann_file!r} could be decoded; first failure: '
                               f'{next(iter(self.store.failed.items()))}')
        self._bad: set[int] = set()  # kept positions that failed on demand in this process

    @property
    def video_labels(self) -> np.ndarray:
        """Labels of the kept videos: int64 (len(self),), -1 where unlabelled."""
        return self._labels.copy()

    @property
    def video_paths(self) -> list[str]:
        """Paths (joined with data_root) of the kept videos, in dataset order."""
        return [self.store.paths[i] for i in self._kept]

    def __len__(self) -> int:
        return len(self._kept)

    def _sample(self, index: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, int]:
        """Frames and clip indices of video ``index``, or of the next one that decodes:
        (frames, clip_indices into frames (num_clips, clip_len), position)."""
        n = len(self._kept)
        for step in range(n):
            pos = (index + step) % n
            if pos in self._bad:
                continue
            state = rng.bit_generator.state
            try:
                return (*self._frames_and_clips(int(self._kept[pos]), rng), pos)
            except VideoDecodeError as exc:
                rng.bit_generator.state = state  # the next video draws what this one would have
                self._bad.add(pos)
                self.num_failed += 1
                msg = f'Skipping video that failed to decode ({exc}); using the next one.'
                warnings.warn(msg, RuntimeWarning, stacklevel=2)
                print_log(msg, logger='current', level=30)
        raise RuntimeError(f'No video of {self.ann_file!r} could be decoded.')

    def _frames_and_clips(self, i: int, rng: np.random.Generator
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Frames of store video ``i`` that the sampler picks, and the clips' rows into them."""
        if self.store.cache_path is not None or self.reader.decoder == 'whole':
            frames = self.store.get(i)  # all frames (a memory map when cached)
            return frames, self.sampler(len(frames), rng)
        path = self.store.paths[i]
        clip_indices = self.sampler(self.reader.num_frames(path), rng)
        wanted, rows = np.unique(clip_indices, return_inverse=True)
        return self.reader.read(path, wanted), rows.reshape(clip_indices.shape)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        frames, clip_indices, pos = self._sample(index, rng)
        views = [self.transform(frames[idx], rng)
                 for idx in clip_indices for _ in range(self.views_per_clip)]
        return self._sample_dict(pos, views)

    def __getitems__(self, indices: list[int]) -> list[dict[str, torch.Tensor]]:
        """``[self[i] for i in indices]``, bit for bit, as PyTorch's DataLoader fetches a batch.

        Where the transform augments clips in batches (:attr:`ClipAugment.batched`), every clip
        of the batch is drawn first, video by video in the same order as ``self[i]`` draws them,
        and the photometric half then runs once over all of them (``transform.finish``),
        which costs a fraction of clip by clip on small clips."""
        if not getattr(self.transform, 'batched', False):
            return [self[i] for i in indices]
        drawn, videos = [], []
        for index in indices:
            rng = np.random.default_rng(int(torch.randint(2**62, ())))
            frames, clip_indices, pos = self._sample(index, rng)
            start = len(drawn)
            drawn.extend(self.transform.draw(frames[idx], rng)
                         for idx in clip_indices for _ in range(self.views_per_clip))
            videos.append((pos, start, len(drawn)))
        clips = self.transform.finish(drawn)
        return [self._sample_dict(pos, clips[start:end]) for pos, start, end in videos]

    def _sample_dict(self, pos: int, views: list) -> dict[str, torch.Tensor]:
        """One sample from the views of kept video ``pos`` (see the class docstring)."""
        sample = {'data_samples': torch.tensor(int(self._labels[pos]), dtype=torch.int64)}
        if isinstance(views[0], tuple):  # a device-side augmentation: (clip, its parameters)
            views, params = zip(*views)
            sample['aug_params'] = torch.stack(params)
        sample['inputs'] = torch.stack(views)
        return sample

    def __repr__(self) -> str:
        return (f'VideoClipDataset({self.ann_file!r}, videos={len(self)}, '
                f'failed={self.num_failed}, sampler={self.sampler!r}, '
                f'transform={self.transform!r}, views_per_clip={self.views_per_clip})')
