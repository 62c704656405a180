"""Video decoding and a decode-once frame store.

Self-supervised video methods sample several clips (and several augmented views) from one video per
training step. Decoding an mp4 is by far the most expensive part of that, so:

* :func:`decode_video` decodes a whole video once into an RGB ``uint8`` array, and every clip of a
  sample is cut from that one array;
* :class:`FrameStore` can decode a whole dataset once into one memory-mapped ``.npy`` file (plus an
  index of offsets and lengths), which later runs and DataLoader workers reuse without decoding.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import warnings
from typing import Any

import av
import numpy as np
from mmengine.logging import print_log

from vssl_bench.core.orphans import die_with_parent, sweep_stale_temps
from vssl_bench.data import short_side_cache as ssc
from vssl_bench.data.decode import VideoDecodeError, decode_video, open_video_stream  # noqa: F401

# Part of the cache key: bump it whenever decoding changes what ends up in the cache.
DECODER_VERSION = f'pyav-{av.__version__}-rgb24-v1'

_FRAMES_FILE = 'frames.npy'
_INDEX_FILE = 'index.npy'
_FAILED_FILE = 'failed.json'
_META_FILE = 'meta.json'
_COMPLETE_MARKER = 'COMPLETE'
# Size reserved for the .npy header of the frames file, so that frames can be streamed to disk
# before their total count is known (the header is written last). numpy accepts any header padded
# with spaces; 4096 stays below numpy's 10000-byte safety limit on headers.
_NPY_HEADER_BYTES = 4096


def _decode_for_cache(path: str) -> tuple[np.ndarray | None, str | None]:
    """Pool worker: decode one video, returning ``(frames, None)`` or ``(None, reason)``."""
    try:
        return decode_video(path), None
    except VideoDecodeError as exc:
        return None, exc.reason


def files_fingerprint(paths: list[str]) -> str:
    """Hash of (path, size, mtime) of every video, and the decoder version: changes when a
    video is rewritten (e.g. a data set regenerated under the same file names)."""
    entries = []
    for path in paths:
        try:
            st = os.stat(path)
            entries.append((os.path.abspath(path), st.st_size, st.st_mtime_ns))
        except OSError:
            entries.append((os.path.abspath(path), -1, -1))
    blob = json.dumps([DECODER_VERSION, entries]).encode()
    return hashlib.sha1(blob).hexdigest()[:20]


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A .npy (format 1.0) header for a C-ordered ``uint8`` array, padded to _NPY_HEADER_BYTES."""
    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}"
    prefix = b'\x93NUMPY\x01\x00'
    body_len = _NPY_HEADER_BYTES - len(prefix) - 2
    body = header.ljust(body_len - 1) + '\n'
    return prefix + body_len.to_bytes(2, 'little') + body.encode('latin1')


def _warn_failed(failed: dict[int, str], paths: list[str]) -> None:
    first = ', '.join(f'{paths[i]} ({failed[i]})' for i in sorted(failed)[:3])
    msg = (f'{len(failed)} of {len(paths)} videos could not be decoded and are skipped; '
           f'first: {first}')
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    print_log(msg, logger='current', level=30)


class FrameStore:
    """Frames of a list of videos, decoded on demand or from a decode-once cache.

    Without ``cache_dir``, :meth:`get` decodes the video each time (raising
    :class:`VideoDecodeError` for a bad file, which is then also recorded in :attr:`failed`).

    With ``cache_dir``, construction decodes every video once (a ``multiprocessing`` pool of
    ``num_workers`` processes) into ``cache_dir/<key>/frames.npy``, one ``uint8`` array of shape
    (sum L_i, H, W, 3) of all frames concatenated, and ``index.npy``, (num_videos, 2) int64
    (offset, length). ``<key>`` hashes the (path, size, mtime) list and the decoder version, so an
    edited video or list gives a new cache. The marker file ``COMPLETE`` is written last,
    atomically; a directory with the marker is reused by later constructions without decoding.
    The frames file is opened lazily with ``mmap_mode='r'`` and not pickled, so the store travels
    cheaply to DataLoader worker processes. Cached videos share H and W: a video of another size
than the first is resized to it (with a warning naming it), never fatal.

    With ``short_side``, the cache holds every video resized to that short side in a file of its
    own (:mod:`vssl_bench.data.short_side_cache`): videos of any size fit, and the estimated disk
    size is printed before building. The key then ends in ``-short<side>``.

    Videos that fail to decode while building the cache are recorded in :attr:`failed`
    (index -> reason) with a warning, never fatal.

    Args:
        paths: Video file paths.
        cache_dir: Directory for the decode-once cache, or None to decode on demand.
        num_workers: Processes used to build the cache (<= 1 decodes in this process).
        progress: Print progress every ~10% of videos while building the cache.
        short_side: Cache frames resized to this short side (one file per video), or None for
            native-size frames of one shared size in one file.
    """

    def __init__(self, paths: list[str], cache_dir: str | None, num_workers: int = 2,
                 progress: bool = True, short_side: int | None = None) -> None:
        self.paths = [str(p) for p in paths]
        self.cache_dir = cache_dir
        self.short_side = short_side
        self.failed: dict[int, str] = {}
        self._frames: np.ndarray | None = None
        self._index: np.ndarray | None = None
        self.cache_path: str | None = None
        if cache_dir is not None:
            key = files_fingerprint(self.paths) + (f'-short{short_side}' if short_side else '')
            self.cache_path = os.path.join(cache_dir, key)
            if not os.path.exists(os.path.join(self.cache_path, _COMPLETE_MARKER)):
                if short_side:
                    self._build_per_video(num_workers, progress)
                else:
                    self._build_cache(num_workers, progress)
            self._load_index()
            if self.failed:
                _warn_failed(self.failed, self.paths)

    # ----------------------------------------------------------------------------------------
    # public API
    def __len__(self) -> int:
        return len(self.paths)

    def num_frames(self, i: int) -> int:
        """Number of frames L of video ``i`` (0 for a failed cached video).

        Without a cache this decodes the video, so prefer ``len(get(i))``.
        """
        if self._index is not None:
            return int(self._index[i, 1])
        return len(self.get(i))

    def get(self, i: int) -> np.ndarray:
        """Frames of video ``i``: ``uint8`` (L, H, W, 3) RGB.

        From the cache this is a read-only memory-mapped view: index it (e.g. with the frame
        indices of a clip) to read only the frames needed.
        """
        if i in self.failed:
            raise VideoDecodeError(self.paths[i], self.failed[i])
        if self._index is None:
            try:
                return decode_video(self.paths[i])
            except VideoDecodeError as exc:
                self.failed[i] = exc.reason
                raise
        if self.short_side:
            return np.load(ssc.video_file(self.cache_path, i), mmap_mode='r')
        if self._frames is None:
            self._frames = np.load(os.path.join(self.cache_path, _FRAMES_FILE), mmap_mode='r')
        offset, length = (int(v) for v in self._index[i])
        return self._frames[offset:offset + length]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['_frames'] = None  # reopened lazily in the receiving process
        return state

    # ----------------------------------------------------------------------------------------
    # cache
    def _load_index(self) -> None:
        self._index = np.load(os.path.join(self.cache_path, _INDEX_FILE))
        with open(os.path.join(self.cache_path, _FAILED_FILE)) as f:
            self.failed = {int(k): v for k, v in json.load(f).items()}

    def _build_cache(self, num_workers: int, progress: bool) -> None:
        os.makedirs(self.cache_path, exist_ok=True)
        # Per-process temporary names: two processes building the same cache (e.g. two ranks)
        # do not clobber each other, and os.replace makes each final file appear atomically.
        tmp = f'.tmp-{os.getpid()}'
        frames_tmp = os.path.join(self.cache_path, _FRAMES_FILE + tmp)
        n = len(self.paths)
        index = np.zeros((n, 2), dtype=np.int64)
        failed: dict[int, str] = {}
        odd: list[str] = []  # videos of another size than the first, resized to its size
        short: list[str] = []  # single-frame videos (every clip repeats that frame)
        hw: tuple[int, int] | None = None
        total = 0
        step = max(1, n // 10)
        sweep_stale_temps(self.cache_path)  # a killed build's frames.npy.tmp-<pid>
        pool = (mp.Pool(num_workers, initializer=die_with_parent)  # no orphans when killed
                if num_workers > 1 and n > 1 else None)
        results = (pool.imap(_decode_for_cache, self.paths) if pool is not None
                   else map(_decode_for_cache, self.paths))
        try:
            with open(frames_tmp, 'wb') as f:
                f.write(b'\0' * _NPY_HEADER_BYTES)
                for i, (frames, reason) in enumerate(results):
                    if frames is None:
                        failed[i] = reason
                    else:
                        if hw is None:
                            hw = frames.shape[1:3]
                        elif frames.shape[1:3] != hw:  # one odd video must not stop a suite
                            odd.append(f'{self.paths[i]} ({frames.shape[1]}x{frames.shape[2]})')
                            frames = _resize(frames, hw)
                        if len(frames) < 2:
                            short.append(self.paths[i])
                        index[i] = (total, len(frames))
                        total += len(frames)
                        f.write(np.ascontiguousarray(frames).data)
                    if progress and ((i + 1) % step == 0 or i + 1 == n):
                        print_log(f'FrameStore: decoded {i + 1}/{n} videos ({total} frames) '
                                  f'into {self.cache_path}', logger='current')
                h, w = hw if hw is not None else (0, 0)
                f.seek(0)
                f.write(_npy_header((total, h, w, 3)))
        except BaseException:
            if pool is not None:
                pool.terminate()
            shutil.rmtree(self.cache_path, ignore_errors=True)
            raise
        if pool is not None:
            pool.close()
            pool.join()
        for videos, what in ((odd, f'are not {hw[0] if hw else 0}x{hw[1] if hw else 0} like the '
                              'first video and were resized to it in the cache'),
                             (short, 'have a single frame: every clip repeats it')):
            if videos:
                msg = f'{len(videos)} of {n} videos {what}; first: {", ".join(videos[:3])}'
                warnings.warn(msg, RuntimeWarning, stacklevel=3)
                print_log(msg, logger='current', level=30)
        os.replace(frames_tmp, os.path.join(self.cache_path, _FRAMES_FILE))
        self._write_atomic(_INDEX_FILE, lambda p: np.save(p, index), tmp)
        self._write_atomic(_FAILED_FILE, lambda p: _dump_json(p, failed), tmp)
        self._write_atomic(_META_FILE, lambda p: _dump_json(
            p, {'decoder': DECODER_VERSION, 'paths': self.paths}), tmp)
        self._write_atomic(_COMPLETE_MARKER, lambda p: _dump_json(p, {'videos': n}), tmp)

    def _build_per_video(self, num_workers: int, progress: bool) -> None:
        """The cache at ``short_side``: one file per video (vssl_bench/data/short_side_cache.py),
        its estimated size printed first."""
        estimate = ssc.estimate_bytes(self.paths, self.short_side)
        print_log(f'FrameStore: caching {len(self.paths)} videos at short side '
                  f'{self.short_side} px into {self.cache_path}: about {estimate / 1e9:.2f} GB '
                  f'on disk (estimated from container metadata)', logger='current')
        os.makedirs(os.path.join(self.cache_path, ssc.VIDEOS_DIR), exist_ok=True)
        n = len(self.paths)
        jobs = [(p, self.short_side, ssc.video_file(self.cache_path, i))
                for i, p in enumerate(self.paths)]
        index = np.zeros((n, 2), dtype=np.int64)
        failed: dict[int, str] = {}
        step = max(1, n // 10)
        pool = mp.Pool(num_workers) if num_workers > 1 and n > 1 else None
        try:
            results = (pool.imap(ssc.decode_resized, jobs) if pool is not None
                       else map(ssc.decode_resized, jobs))
            for i, (length, reason) in enumerate(results):
                if length is None:
                    failed[i] = reason
                else:
                    index[i] = (0, length)
                if progress and ((i + 1) % step == 0 or i + 1 == n):
                    print_log(f'FrameStore: cached {i + 1}/{n} videos', logger='current')
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
        tmp = f'.tmp-{os.getpid()}'
        self._write_atomic(_INDEX_FILE, lambda p: np.save(p, index), tmp)
        self._write_atomic(_FAILED_FILE, lambda p: _dump_json(p, failed), tmp)
        self._write_atomic(_META_FILE, lambda p: _dump_json(
            p, {'decoder': DECODER_VERSION, 'short_side': self.short_side, 'paths': self.paths}),
            tmp)
        self._write_atomic(_COMPLETE_MARKER, lambda p: _dump_json(p, {'videos': n}), tmp)

    def _write_atomic(self, name: str, write: Any, tmp: str) -> None:
        final = os.path.join(self.cache_path, name)
        with open(final + tmp, 'wb') as f:
            write(f)
        os.replace(final + tmp, final)


def _resize(frames: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """uint8 (L, H, W, 3) frames resized (bilinear, antialiased) to ``hw`` = (H', W')."""
    import torch
    import torch.nn.functional as F
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=tuple(hw), mode='bilinear', align_corners=False, antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _dump_json(f: Any, obj: Any) -> None:
    f.write(json.dumps(obj).encode())
