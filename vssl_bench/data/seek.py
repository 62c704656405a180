"""Decode only the frames a sample needs: a packet index of the container, then seek + decode.

:func:`probe_video` reads the video stream's packets without decoding them (the container's own
index: one timestamp and keyframe flag per frame), which gives the frame count and every frame's
presentation timestamp. :func:`decode_frames` then decodes just the requested frames: for each
run of wanted frames it seeks to the keyframe at or before the first one and decodes forward,
keeping the wanted frames; when the next wanted frame lies before the next keyframe, decoding
simply continues, so consecutive or overlapping clips share one pass. Frames are converted to RGB
only when wanted, which is half of the saving on large frames.

The frames are identical to those of :func:`vssl_bench.data.video.decode_video` (the whole-video
path) for the closed-GOP streams that encoders write by default (tested on H.264 .mp4 and MPEG-4
.avi with several keyframe intervals). A container whose timestamps cannot index frames (missing
or repeated timestamps) is decoded whole instead, so the result is the same either way.
"""
from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vssl_bench.data.video import VideoDecodeError, decode_video, open_video_stream

# One decoding thread: loader workers parallelise over videos, and frame threading costs
# more CPU per frame and delays output after each seek (measured on the Kinetics-like video).
_THREAD_TYPE = 'NONE'
_REFORMATTER: VideoReformatter | None = None
_DECODE_ERRORS = (av.error.FFmpegError, OSError, ValueError)


@dataclass(frozen=True)
class VideoIndex:
    """Per-frame timestamps of a video stream, in presentation order.

    Attributes:
        pts: int64 (L,) presentation timestamps (stream time base), increasing.
        keyframe: bool (L,) True where the frame starts a keyframe (a point decoding can start).
        fps: Average frame rate from the container (0.0 when unknown).
        seekable: False when timestamps are missing or repeated: frames must be decoded whole.
    """

    pts: np.ndarray
    keyframe: np.ndarray
    fps: float
    seekable: bool

    @property
    def num_frames(self) -> int:
        return int(len(self.pts))

    def keyframe_before(self, frame: int) -> int:
        """Index of the last keyframe at or before ``frame`` (0 if none is flagged)."""
        keys = np.flatnonzero(self.keyframe[:frame + 1])
        return int(keys[-1]) if len(keys) else 0


def probe_video(path: str) -> VideoIndex:
    """Frame count and timestamps of ``path`` from its packets, without decoding.

    Raises:
        VideoDecodeError: missing or unreadable file, no video stream, or no frames.
    """
    try:
        with open_video_stream(path) as (container, stream):
            entries = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size > 0]
            fps = float(stream.average_rate or 0.0)
    except VideoDecodeError:
        raise
    except _DECODE_ERRORS as exc:
        raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc
    if not entries:
        raise VideoDecodeError(path, 'zero frames decoded')
    seekable = all(pts is not None for pts, _ in entries)
    pts = np.array([p if p is not None else -1 for p, _ in entries], dtype=np.int64)
    key = np.array([k for _, k in entries], dtype=bool)
    order = np.argsort(pts, kind='stable')  # decode order -> presentation order
    pts, key = pts[order], key[order]
    seekable = seekable and bool(np.all(np.diff(pts) > 0))
    return VideoIndex(pts=pts, keyframe=key, fps=fps, seekable=seekable)


def decode_frames(path: str, indices: np.ndarray, index: VideoIndex | None = None) -> np.ndarray:
    """Decode the frames ``indices`` (any order, repeats allowed) of ``path``.

    Args:
        path: Video file.
        indices: int frame indices in [0, L).
        index: The video's :func:`probe_video` result (probed here when None).

    Returns:
        ``uint8`` (len(indices), H, W, 3) RGB, row k = frame ``indices[k]``.

    Raises:
        VideoDecodeError: the file cannot be opened or a wanted frame is not decodable (e.g. a
            truncated file whose index lists frames that its data no longer holds).
    """
    index = probe_video(path) if index is None else index
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(indices) and (indices.min() < 0 or indices.max() >= index.num_frames):
        raise IndexError(f'frame indices must be in [0, {index.num_frames}), got '
                         f'{indices.min()}..{indices.max()}')
    wanted, inverse = np.unique(indices, return_inverse=True)
    if not index.seekable:
        frames = decode_video(path)
        if len(frames) <= wanted[-1]:
            raise VideoDecodeError(path, f'frame {wanted[-1]} of {index.num_frames} not decoded')
        return frames[indices]
    try:
        got = _decode_wanted(path, wanted, index)
    except VideoDecodeError:
        raise
    except _DECODE_ERRORS as exc:
        raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc
    return got[inverse]


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB uint8 (H, W, 3) of a decoded frame through this process's reformatter, which keeps
    its conversion context between frames: the same pixels as ``frame.to_ndarray(format=
    'rgb24')``, which builds a new context per frame (3x slower at 340x256, 8x at 32x32)."""
    global _REFORMATTER
    if _REFORMATTER is None:
        _REFORMATTER = VideoReformatter()
    return _REFORMATTER.reformat(frame, format='rgb24').to_ndarray()


def _decode_wanted(path: str, wanted: np.ndarray, index: VideoIndex) -> np.ndarray:
    """Decode sorted unique frame indices ``wanted``: uint8 (len(wanted), H, W, 3).

    A seek that lands elsewhere than asked (e.g. an .avi without its index seeks to the start)
    is followed by decoding forward, which still reaches the frame; frames the seeking pass
    misses are taken from a whole-video decode, so the result never differs from it.
    """
    out: list[np.ndarray | None] = [None] * len(wanted)
    pts_to_frame = {int(p): i for i, p in enumerate(index.pts)}
    with open_video_stream(path) as (container, stream):
        stream.thread_type = _THREAD_TYPE
        frames = None
        current = seeked = -1  # last frame decoded; keyframe of the last seek
        j = 0
        while j < len(wanted):
            key = index.keyframe_before(int(wanted[j]))
            if frames is None or key > max(current, seeked):
                # Seek when decoding on would pass a keyframe before the next wanted frame.
                container.seek(int(index.pts[key]), backward=True, any_frame=False,
                               stream=stream)
                frames = container.decode(stream)
                seeked = key
            for frame in frames:
                i = pts_to_frame.get(frame.pts if frame.pts is not None else frame.dts, -1)
                if i < 0:
                    continue  # a timestamp the index does not hold: not a presented frame
                current = i
                while j < len(wanted) and wanted[j] < i:
                    j += 1  # passed without being decoded: filled in below
                if j < len(wanted) and wanted[j] == i:
                    out[j] = _rgb(frame)
                    j += 1
                if j >= len(wanted) or index.keyframe_before(int(wanted[j])) > max(current,
                                                                                    seeked):
                    break
            else:
                break  # end of stream
    missing = [k for k, o in enumerate(out) if o is None]
    if missing:
        whole = decode_video(path)
        if len(whole) <= wanted[missing[-1]]:
            raise VideoDecodeError(path, f'frame {wanted[missing[-1]]} of {index.num_frames} '
                                   f'not decoded (truncated or corrupt file)')
        for k in missing:
            out[k] = whole[wanted[k]]
    return np.stack(out)
