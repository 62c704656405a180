"""Clips per second that the data loader delivers, per decoder, video, sample and worker count.

One measurement builds a :class:`VideoClipDataset` over one test video listed many times, reads it
through a torch DataLoader with ``workers`` worker processes, discards the first sample of every
worker (process start-up), and reports:

* ``clips_per_s``: model input clips (every view of every clip) delivered per wall second;
* ``cpu_s_per_clip``: CPU seconds of the worker processes (all their threads: decoder threads
  included) per clip, measured around ``dataset[i]`` in the worker, so a machine with N free
  cores sustains about N / cpu_s_per_clip clips/s.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from vssl_bench.data.dataset import VideoClipDataset

# The three samples of the issue, at the papers' 112-pixel resolution.
SAMPLES: dict[str, dict[str, Any]] = {
    # CVRL: 2 clips of 16 frames at stride 2, temporally consistent augmentation per clip.
    'cvrl': dict(sampler=dict(type='CVRLIntervalSampler', clip_len=16, stride=2),
                 transform=dict(type='ClipAugment', out_size=112)),
    # TCLR: one global clip + 4 local clips of 16 frames (a 64-frame window), 2 views each.
    'tclr': dict(sampler=dict(type='TCLRSampler', clip_len=16, num_local=4),
                 transform=dict(type='ClipAugment', out_size=112), views_per_clip=2),
    # Evaluation view of the TCLR UCF101 suite: 10 uniform 16x1 clips, centre crop.
    'eval': dict(sampler=dict(type='UniformClipSampler', clip_len=16, stride=1, num_clips=10),
                 transform=dict(type='CenterClip', out_size=112)),
}


class _Timed(Dataset):
    """``dataset[i]`` plus the CPU seconds of this process that producing it took."""

    def __init__(self, dataset: VideoClipDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[dict, float]:
        start = time.process_time()
        sample = self.dataset[i]
        return sample, time.process_time() - start


@dataclass
class LoaderResult:
    decoder: str
    video: str
    sample: str
    workers: int
    clips_per_s: float
    cpu_s_per_clip: float
    samples: int
    clips: int

    def row(self) -> dict[str, Any]:
        return {'decoder': self.decoder, 'video': self.video, 'sample': self.sample,
                'workers': self.workers, 'clips_per_s': round(self.clips_per_s, 2),
                'cpu_s_per_clip': round(self.cpu_s_per_clip, 5), 'samples': self.samples}


def write_ann(video: Path, copies: int = 256) -> Path:
    """Annotation file listing ``video`` ``copies`` times (label 0), next to it."""
    ann = video.with_suffix('.txt')
    ann.write_text(f'{video.name} 0\n' * copies)
    return ann


def measure_loader(video: Path, sample: str, decoder: str, workers: int,
                   min_seconds: float = 4.0, min_samples: int = 6,
                   dataset_kwargs: dict | None = None, name: str | None = None
                   ) -> LoaderResult:
    """Read samples of ``video`` until both minimums are met; see the module docstring."""
    ann = write_ann(video)
    kwargs = dict(SAMPLES[sample], **(dataset_kwargs or {}))
    dataset = VideoClipDataset(str(ann), str(video.parent), decoder=decoder, **kwargs)
    torch.manual_seed(0)
    loader = DataLoader(_Timed(dataset), batch_size=None, shuffle=False,
                        num_workers=workers, prefetch_factor=2 if workers else None)
    warmup = max(1, workers)
    clips = 0
    cpu = 0.0
    counted = 0
    start = None
    for k, (item, cpu_s) in enumerate(loader):
        n = int(item['inputs'].shape[0])
        if k + 1 == warmup:
            start = time.perf_counter()
            continue
        if k < warmup:
            continue
        clips += n
        cpu += cpu_s
        counted += 1
        if counted >= min_samples and time.perf_counter() - start >= min_seconds:
            break
    wall = time.perf_counter() - start
    del loader
    return LoaderResult(name or decoder, video.stem, sample, workers, clips / wall, cpu / clips,
                        counted, clips)
