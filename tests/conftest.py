"""Shared fixtures: small synthetic videos written with PyAV (libx264, yuv420p).

``make_videos(root, n, frames, size)`` writes ``n`` videos plus an mmaction2-style annotation
file (``relative/path.mp4 label`` lines) and returns the annotation file's path. Frame ``i`` of
every video has its left half at gray level ``frame_level(i)``, so tests can check which frames
were decoded or sampled; the right half holds a square moving left to right.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import av
import numpy as np
import pytest


def frame_level(i: int) -> int:
    """Gray level of the left half of frame ``i`` (distinct for i < 40, robust to lossy coding)."""
    return 20 + 5 * (i % 40)


def synthetic_frames(num_frames: int, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """uint8 (L, H, W, 3) frames: left half gray ``frame_level(i)``, right half a moving square."""
    height, width = size
    frames = np.zeros((num_frames, height, width, 3), dtype=np.uint8)
    colour = np.random.default_rng(seed).integers(64, 256, size=3, dtype=np.uint8)
    side = max(2, height // 4)
    half = width // 2
    for i in range(num_frames):
        frames[i, :, :half] = frame_level(i)
        x = half + (i * 2) % max(1, width - half - side)
        frames[i, height // 2 - side // 2:height // 2 + side // 2, x:x + side] = colour
    return frames


def write_video(path: Path, frames: np.ndarray, fps: int = 25) -> None:
    """Encode uint8 (L, H, W, 3) RGB frames (H, W even) as H.264 / yuv420p."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = 'yuv420p'
        stream.options = {'crf': '12', 'preset': 'ultrafast'}
        for array in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format='rgb24')
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_videos(root: str | Path, n: int = 3, frames: int | list[int] = 24,
                size: tuple[int, int] = (32, 40), num_classes: int = 2, corrupt: bool = False,
                ann_name: str = 'ann.txt', subdir: str = 'videos') -> Path:
    """Write ``n`` synthetic videos under ``root/subdir`` and ``root/ann_name`` listing them.

    Args:
        root: Directory (data_root); created if needed.
        n: Number of videos.
        frames: Frames per video, one int for all or a list of n.
        size: (H, W), both even.
        num_classes: Video k gets label ``k % num_classes``.
        corrupt: Also write ``subdir/corrupt.mp4`` (random bytes), listed last with label 0.
        ann_name: Name of the annotation file.
        subdir: Folder of the videos, relative to root (paths in the file are relative to root).

    Returns:
        Path of the annotation file.
    """
    root = Path(root)
    counts = [frames] * n if isinstance(frames, int) else list(frames)
    lines = []
    for k, count in enumerate(counts):
        rel = f'{subdir}/vid{k:03d}.mp4'
        write_video(root / rel, synthetic_frames(count, size, seed=k))
        lines.append(f'{rel} {k % num_classes}')
    if corrupt:
        rel = f'{subdir}/corrupt.mp4'
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(np.random.default_rng(0).bytes(2048))
        lines.append(f'{rel} 0')
    ann_file = root / ann_name
    ann_file.write_text('\n'.join(lines) + '\n')
    return ann_file


@pytest.fixture
def video_factory(tmp_path: Path) -> Callable[..., Path]:
    """``video_factory(**kwargs)`` = :func:`make_videos` into ``tmp_path`` (returns ann file)."""
    return lambda **kwargs: make_videos(tmp_path, **kwargs)


@pytest.fixture
def synthetic_videos(tmp_path: Path) -> Path:
    """Three 24-frame 32x40 videos with labels 0, 1, 0 plus one corrupt file; the ann file."""
    return make_videos(tmp_path, n=3, frames=24, size=(32, 40), corrupt=True)
