"""A frame cache for real data sets: every video resized to one short side, one file per video.

The decode-once cache of :class:`vssl_bench.data.video.FrameStore` keeps native-size frames of
one shared size in one file, which no real data set fits (UCF101 alone would be ~0.5 TB). With
``short_side`` set, FrameStore instead writes ``videos/<k>.npy`` per video: uint8
(L, H', W', 3) with min(H', W') = short_side (aspect kept, antialiased bilinear resize of the
decoded frames), so videos of any size and length fit, and a worker memory-maps only the video
it reads. Before building, :func:`estimate_bytes` sums frames x H' x W' x 3 from the
containers' metadata (no decoding) and the store prints it.
"""
from __future__ import annotations

import os

import av
import numpy as np
import torch
import torchvision.transforms.v2.functional as F

from vssl_bench.data.decode import VideoDecodeError, decode_video, open_video_stream

VIDEOS_DIR = 'videos'


def resized_shape(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(H', W') with the short side ``short_side`` and the aspect ratio kept (rounded)."""
    scale = short_side / min(height, width)
    return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def resize_frames(frames: np.ndarray, short_side: int) -> np.ndarray:
    """uint8 (L, H, W, 3) -> uint8 (L, H', W', 3) at ``short_side`` (antialiased bilinear)."""
    h, w = resized_shape(frames.shape[1], frames.shape[2], short_side)
    if (h, w) == frames.shape[1:3]:
        return frames
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    return F.resize(clip, [h, w], antialias=True).permute(0, 2, 3, 1).contiguous().numpy()


def video_shape(path: str) -> tuple[int, int, int]:
    """(frames, height, width) from the container's metadata; frames 0 when it does not say."""
    with open_video_stream(path) as (_, stream):
        return int(stream.frames or 0), stream.codec_context.height, stream.codec_context.width


def estimate_bytes(paths: list[str], short_side: int, fps_fallback: float = 30.0) -> int:
    """Disk size of the cache of ``paths`` at ``short_side`` from metadata only. A container
    without a frame count is counted from its duration; unreadable files count 0."""
    total = 0
    for path in paths:
        try:
            frames, height, width = video_shape(path)
            if not frames:
                with av.open(path) as container:
                    frames = int((container.duration or 0) / 1e6 * fps_fallback)
        except (VideoDecodeError, av.error.FFmpegError, OSError, ValueError):
            continue
        h, w = resized_shape(height, width, short_side)
        total += frames * h * w * 3
    return total


def video_file(cache_path: str, i: int) -> str:
    return os.path.join(cache_path, VIDEOS_DIR, f'{i:07d}.npy')


def decode_resized(job: tuple[str, int, str]) -> tuple[int | None, str | None]:
    """Pool worker: decode one video, resize, write its file atomically; (frames, None) or
    (None, reason)."""
    path, short_side, out = job
    try:
        frames = resize_frames(decode_video(path), short_side)
    except VideoDecodeError as exc:
        return None, exc.reason
    tmp = f'{out}.tmp-{os.getpid()}.npy'
    np.save(tmp, frames)
    os.replace(tmp, out)
    return len(frames), None
