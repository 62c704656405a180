"""Frame decoders of :class:`vssl_bench.data.video.FrameStore` when there is no frame cache.

* ``'whole'``: decode every frame with PyAV, then index (the original path; reference output);
* ``'seek'``: PyAV seeking, only the frames a sample needs (:mod:`vssl_bench.data.seek`),
  frame-identical to ``'whole'`` (tests/test_seek.py);
* ``'decord'``: decord's ``VideoReader.get_batch`` (pip wheel with its own FFmpeg); measured in
  results/throughput/loader.md, but its colour conversion differs from PyAV's by a few uint8 levels
  on MPEG-4 .avi, so it is never chosen automatically;
* ``'torchcodec'``: torchcodec's exact-seek ``VideoDecoder``; it needs the system's FFmpeg
  libraries, so it is optional;
* ``'auto'``: ``'torchcodec'`` when it loads, else ``'seek'``.

Every decoder reads the frame count first (:meth:`num_frames`, from the container's index where
the decoder can) and then decodes sorted unique frame indices (:meth:`read`).
"""
from __future__ import annotations

import functools
import os
from collections import OrderedDict
from typing import Any

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.data.seek import VideoIndex, decode_frames, probe_video
from vssl_bench.data.video import VideoDecodeError, decode_video

DECODERS = ('auto', 'whole', 'seek', 'decord', 'torchcodec')


@functools.lru_cache(maxsize=None)
def torchcodec_available() -> bool:
    """True when torchcodec imports and its FFmpeg-linked core library loads."""
    try:
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except Exception:  # ImportError, or OSError/RuntimeError when FFmpeg libraries are missing
        return False
    return True


@functools.lru_cache(maxsize=None)
def decord_available() -> bool:
    """True when decord (an optional pip package) imports."""
    try:
        import decord  # noqa: F401
    except Exception:  # ImportError, or its bundled FFmpeg failing to load
        return False
    return True


def resolve_decoder(name: str) -> str:
    """The concrete decoder of ``name`` (``'auto'`` -> what is installed)."""
    if name not in DECODERS:
        raise UserError(f'decoder must be one of {DECODERS}, got {name!r}')
    if name == 'auto':
        return 'torchcodec' if torchcodec_available() else 'seek'
    if name == 'torchcodec' and not torchcodec_available():
        raise UserError("decoder 'torchcodec' does not load (pip install torchcodec, and FFmpeg "
                        "4-7 libraries on the system); use decoder='seek'")
    if name == 'decord' and not decord_available():
        raise UserError("decoder 'decord' is not installed (pip install decord); use "
                        "decoder='seek'")
    return name


class FrameReader:
    """Reads frames of videos with one decoder; keeps the last ``max_indices`` frame indices.

    Args:
        decoder: One of :data:`DECODERS`.
        max_indices: Videos whose packet index is kept (LRU), so that ``num_frames`` followed by
            ``read`` probes a video once. With 'whole', the frames of the last video that
            ``num_frames`` decoded are kept for the ``read`` that follows (one decode, not two).
    """

    def __init__(self, decoder: str = 'auto', max_indices: int = 4096) -> None:
        self.decoder = resolve_decoder(decoder)
        self.max_indices = max_indices
        self._indices: OrderedDict[str, Any] = OrderedDict()
        self._whole: tuple[str, np.ndarray] | None = None  # 'whole': (path, frames) of the last

    def num_frames(self, path: str) -> int:
        """Frame count of ``path`` (VideoDecodeError when it cannot be read)."""
        if self.decoder == 'whole':
            self._whole = (path, decode_video(path))
            return len(self._whole[1])
        return self._meta(path)[0]

    def read(self, path: str, indices: np.ndarray) -> np.ndarray:
        """uint8 (len(indices), H, W, 3) RGB frames ``indices`` of ``path``."""
        indices = np.asarray(indices, dtype=np.int64)
        if self.decoder == 'whole':
            kept, self._whole = self._whole, None
            frames = kept[1] if kept is not None and kept[0] == path else decode_video(path)
            if len(indices) and indices.max() >= len(frames):
                raise VideoDecodeError(path, f'frame {indices.max()} of {len(frames)} missing')
            return frames[indices]
        num_frames, handle = self._meta(path)
        if self.decoder == 'seek':
            return decode_frames(path, indices, handle)
        try:
            if self.decoder == 'decord':
                return handle.get_batch(indices.tolist()).asnumpy()
            return handle.get_frames_at(indices=indices.tolist()).data.numpy()
        except Exception as exc:  # decord / torchcodec raise their own error types
            raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc
        finally:
            self._indices.pop(path, None)  # decoders hold the file open: do not keep them

    def _meta(self, path: str) -> tuple[int, Any]:
        """(frame count, handle): a :class:`VideoIndex` for 'seek', an open reader otherwise."""
        if path in self._indices:
            self._indices.move_to_end(path)
            return self._indices[path]
        handle = self._open(path)
        count = handle.num_frames if isinstance(handle, VideoIndex) else (
            len(handle) if self.decoder == 'decord' else handle.metadata.num_frames)
        if not count:
            raise VideoDecodeError(path, 'zero frames decoded')
        self._indices[path] = (int(count), handle)
        while len(self._indices) > self.max_indices:
            self._indices.popitem(last=False)
        return self._indices[path]

    def _open(self, path: str) -> Any:
        if not os.path.isfile(path):
            raise VideoDecodeError(path, 'file not found')
        if self.decoder == 'seek':
            return probe_video(path)
        try:
            if self.decoder == 'decord':
                import decord
                return decord.VideoReader(path, num_threads=1)
            from torchcodec.decoders import VideoDecoder
            return VideoDecoder(path, seek_mode='exact', dimension_order='NHWC',
                                num_ffmpeg_threads=1)
        except Exception as exc:
            raise VideoDecodeError(path, f'corrupt or unsupported file ({exc})') from exc

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['_indices'] = OrderedDict()  # open readers do not pickle; indices are cheap
        state['_whole'] = None  # a decoded video is not worth sending to a worker
        return state
