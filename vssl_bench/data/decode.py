"""Decoding one whole video with PyAV, and the error every decoder raises."""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import av
import numpy as np


class VideoDecodeError(RuntimeError):
    """A video could not be decoded (missing, unreadable, corrupt or without frames)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f'Cannot decode video {path!r}: {reason}. Check that the file exists and plays '
            f'(e.g. `ffprobe {path}`); re-encode or remove it from the annotation file.')

    def __reduce__(self) -> tuple[Any, ...]:
        # Default exception pickling would call __init__ with the message only; keep both fields
        # so the error survives the trip back from a worker process.
        return (VideoDecodeError, (self.path, self.reason))


@contextlib.contextmanager
def open_video_stream(path: str) -> Iterator[tuple[Any, Any]]:
    """Open ``path`` with PyAV: yields ``(container, first video stream)``.

    Raises:
        VideoDecodeError: the file is missing or has no video stream. Errors while reading the
            stream propagate as PyAV raises them (the caller knows what it was reading).
    """
    if not os.path.isfile(path):
        raise VideoDecodeError(path, 'file not found')
    try:
        container = av.open(path)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc
    with container:
        if not container.streams.video:
            raise VideoDecodeError(path, 'no video stream')
        yield container, container.streams.video[0]


def decode_video(path: str) -> np.ndarray:
    """Decode every frame of a video with PyAV.

    Args:
        path: Path of the video file.

    Returns:
        ``uint8`` array of shape (L, H, W, 3), RGB, in presentation order.

    Raises:
        VideoDecodeError: the file is missing, is not a decodable video, or has zero frames.
    """
    try:
        with open_video_stream(path) as (container, stream):
            # Frame-level threading speeds up decoding without changing the decoded frames.
            stream.thread_type = 'AUTO'
            frames = [frame.to_ndarray(format='rgb24') for frame in container.decode(stream)]
    except VideoDecodeError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc
    if not frames:
        raise VideoDecodeError(path, 'zero frames decoded')
    return np.stack(frames)
