"""SynthMotion: a procedural action data set whose classes differ only by motion.

Twelve classes (`CLASSES`) move one main object: translate left/right/up/down, rotate
cw/ccw in place, grow/shrink, oscillate horizontally/vertically (period 8-14 frames) and
orbit a point cw/ccw while keeping its orientation. The main object's speed, phase and start
position and a sub-pixel camera jitter are random per video; the scene (background, the
objects' shapes, colours, textures, sizes and start angles, 0-2 slowly drifting distractors) is
one of the scale's `scenes` fixed scenes (1 by default). Everything is drawn from the same
distributions for every class, so one frame carries (almost) no label information while a few
frames do; and since videos share a scene, static appearance cannot single out a video either:
a self-supervised method that tells videos apart must use motion.

What a single frame can still tell: the object's size and start angle belong to the scene, so a
frame whose object is not at the scene's resting size (grow, shrink) or angle (rotate cw/ccw)
reveals that the video is one of those 4 classes, not which: that cue alone is worth at most
3/12 = 25 % top-1 (chance 8.3 %; a frame probe in tests/test_synthmotion.py stays near chance).
Drawing size and angle per video removes the cue but lets appearance single out a video, and
self-supervised methods then learn looks instead of motion (measured, see README).

Calibration (measured on 2 CPU cores, see README): at 64x64 with 1-3 larger distractors and
per-video looks, neither supervised training nor CVRL left chance level within minutes; at
32x32 with larger, faster main objects and muted backgrounds supervised training leaves chance
within ~150 steps (batch 64). With 8 shared scenes (version 4, now scale `multiscene`), at 2.5
TFLOPs per method (then the default suite's budget) supervised training stayed at chance (10.5 %
linear top-1) and the self-supervised methods' features barely moved from 0.5x to 16x that
budget (TCLR 17.2 % linear at 40 TFLOPs against RandomInit's 9.8 %): telling 8 scenes apart was
enough to lower their losses. With one scene the same budget gives Supervised 53 % and TCLR 34 %
(RandomInit 20 %, 3 seeds); the default suite's 4 TFLOPs give 80 % and 36 %.

Rendering lives in `synthmotion_render`.

Splits: `pretrain` (unlabelled pool for self-supervised learning, like Kinetics; labels are
still written for a supervised upper bound), `train` and `test` (labelled, like UCF101). All are
class-balanced. Video `index` of split `split_id` is rendered from
`np.random.SeedSequence([seed, split_id, index])`, so videos are independent of the worker
count and byte-identical across runs (H.264, single-threaded x264, bit-exact muxing).

Scale `default`: 48 frames of 32x32 at 16 fps (3 s). 48 frames hold two 8-frame clips at
stride 2 (15 frames each) at clearly different times, plus room for random temporal crops.

Layout of `out_dir` (mmaction2 VideoDataset annotations, `<path> <label>` per line):
classes.txt, pretrain.txt, train.txt, test.txt, videos/<split>/<split>_<idx:05d>.mp4 and
meta.json, written last (atomically) to mark a complete data set.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import pathlib
import shutil
import time
from dataclasses import asdict, dataclass

import av
from av.codec.context import Flags
import numpy as np

from benchmark import lock
from benchmark.data.synthmotion_render import CLASSES, NUM_SCENES, render_video
from benchmark.errors import UserError
from benchmark.io import atomic_write_text
from benchmark.orphans import die_with_parent

__all__ = ['CLASSES', 'SCALES', 'SPLITS', 'SynthMotionScale', 'generate', 'VERSION']

VERSION = 5  # bump whenever the rendered bytes change (5: one scene by default)
SPLITS: tuple[str, ...] = ('pretrain', 'train', 'test')  # position = split_id of the seeds
CRF = 18
_ORDER_KEY = 2**32 - 1  # SeedSequence word for a split's label order (no video index is this)


@dataclass(frozen=True)
class SynthMotionScale:
    """Size of a SynthMotion data set: videos per class of each split and video geometry.

    frames: frames per video; size: frame height = width in pixels; fps: frames per second;
    scenes: number of fixed scenes (looks) the videos share.
    """

    pretrain_per_class: int
    train_per_class: int
    test_per_class: int
    frames: int
    size: int
    fps: int
    scenes: int = NUM_SCENES

    def per_class(self, split: str) -> int:
        """Videos per class in `split`."""
        return getattr(self, f'{split}_per_class')


SCALES: dict[str, SynthMotionScale] = {
    'tiny': SynthMotionScale(4, 3, 2, frames=24, size=32, fps=16),
    'default': SynthMotionScale(200, 50, 30, frames=48, size=32, fps=16),
    # CI regression suite (configs/suites/ci.py): default's videos, fewer per class.
    'ci': SynthMotionScale(40, 20, 15, frames=48, size=32, fps=16),
    # Default's geometry with appearance as a nuisance: 8 scenes (the version-4 default). Much
    # harder: at the default suite's budget even Supervised stays at chance here (docstring).
    'multiscene': SynthMotionScale(200, 50, 30, frames=48, size=32, fps=16, scenes=8),
}


def split_labels(scale: SynthMotionScale, split: str, seed: int) -> np.ndarray:
    """(n,) int64 labels of a split in video-index order: balanced, deterministically shuffled."""
    labels = np.repeat(np.arange(len(CLASSES)), scale.per_class(split))
    rng = np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split), _ORDER_KEY]))
    return rng.permutation(labels)


def video_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator that renders video `index` of `split` (independent of everything else)."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split), index]))


def encode_mp4(frames: np.ndarray, path: pathlib.Path, fps: int) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as H.264 yuv420p to `path` (atomically, via temp).

    Single-threaded x264 and bit-exact muxing (no creation time, no library version string)
    make the bytes a function of the frames only. MB-tree is off: with it, x264 output on
    these small frames was observed to depend on heap contents (same frames, different
    bytes after unrelated decoding in the same process); without it, it never did.
    """
    tmp = path.with_name(path.stem + '.tmp.mp4')
    with av.open(str(tmp), 'w', format='mp4', container_options={'fflags': '+bitexact'}) as out:
        stream = out.add_stream('libx264', rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        stream.options = {'crf': str(CRF), 'preset': 'medium', 'threads': '1',
                          'x264-params': 'mbtree=0'}
        stream.codec_context.thread_count = 1
        stream.codec_context.flags |= Flags.bitexact
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format='rgb24')
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    os.replace(tmp, path)


def _video_path(split: str, index: int) -> str:
    """Path of a video relative to the data set root."""
    return f'videos/{split}/{split}_{index:05d}.mp4'


def _make_video(job: tuple[str, int, str, int, int, SynthMotionScale]) -> None:
    """Render and encode one video; `job` = (root, seed, split, index, label, scale)."""
    root, seed, split, index, label, scale = job
    frames = render_video(video_rng(seed, split, index), label, scale.frames, scale.size,
                          num_scenes=scale.scenes)
    encode_mp4(frames, pathlib.Path(root) / _video_path(split, index), scale.fps)


def _meta(scale_name: str, seed: int) -> dict:
    """Content of meta.json for a data set of `scale_name` generated from `seed`."""
    scale = SCALES[scale_name]
    return {
        'dataset': 'synthmotion', 'scale': scale_name, 'seed': seed, 'version': VERSION,
        'counts': {s: scale.per_class(s) * len(CLASSES) for s in SPLITS},
        'frames': scale.frames, 'size': scale.size, 'fps': scale.fps,
        'classes': list(CLASSES), 'scale_params': asdict(scale), 'pyav': av.__version__,
    }


def _existing(root: pathlib.Path, scale_name: str, seed: int) -> bool:
    """True if `root` holds this data set already; raise if it holds a different one.

    An older generator version of the same scale and seed is removed (its videos, lists and
    frame cache: files this module wrote) so that it is generated afresh, with a message.
    """
    meta_path = root / 'meta.json'
    if not meta_path.exists():
        return False  # absent or interrupted: (re)generate
    meta = json.loads(meta_path.read_text())
    found = {k: meta.get(k) for k in ('scale', 'seed', 'version')}
    wanted = {'scale': scale_name, 'seed': seed, 'version': VERSION}
    if (meta.get('dataset') == 'synthmotion' and found['version'] != VERSION
            and (found['scale'], found['seed']) == (scale_name, seed)):
        print(f'{root} holds SynthMotion version {found["version"]}; replacing it with version '
              f'{VERSION} (same scale and seed)', flush=True)
        meta_path.unlink()  # first: an interruption leaves an incomplete data set, regenerated
        for name in ('videos', '.frame_cache'):
            shutil.rmtree(root / name, ignore_errors=True)
        for name in (*(f'{split}.txt' for split in SPLITS), 'classes.txt'):
            (root / name).unlink(missing_ok=True)
        return False
    if found != wanted:
        raise FileExistsError(
            f'{root} already holds a SynthMotion data set with {found}, not {wanted}: '
            f'pick another --out or delete that directory')
    return True


def generate(out_dir: str | os.PathLike, scale: str = 'default', seed: int = 0,
             workers: int | None = None, progress: bool = True) -> pathlib.Path:
    """Generate SynthMotion at `scale` from `seed` into `out_dir`; return its path.

    Returns at once if `out_dir` already holds the same data set (meta.json matches); raises
    FileExistsError if it holds a different one and ValueError for an unknown scale.
    workers: processes rendering in parallel (default os.cpu_count(); 1 = in this process).
    The files do not depend on `workers`.
    """
    if scale not in SCALES:
        raise UserError(f'unknown SynthMotion scale {scale!r}; choose one of {sorted(SCALES)}')
    root = pathlib.Path(out_dir)
    if root.exists() and not root.is_dir():
        raise UserError(f'SynthMotion folder {root} is a file: pass a folder (--out / '
                        '--data-root)')
    if _existing(root, scale, seed):
        return root
    # One generator per folder: a second process (another run started at the same time) waits
    # for the first and then finds the data set complete.
    with lock.hold(root, wait=True, purpose='generates SynthMotion'):
        if not _existing(root, scale, seed):
            _generate(root, scale, seed, workers, progress)
    return root


def _generate(root: pathlib.Path, scale: str, seed: int, workers: int | None,
              progress: bool) -> None:
    spec = SCALES[scale]
    jobs = []
    for split in SPLITS:
        (root / 'videos' / split).mkdir(parents=True, exist_ok=True)
        for stale in (root / 'videos' / split).glob('*.tmp.mp4'):  # from an interrupted run
            stale.unlink()
        labels = split_labels(spec, split, seed)
        lines = [f'{_video_path(split, i)} {label}\n' for i, label in enumerate(labels)]
        (root / f'{split}.txt').write_text(''.join(lines))
        jobs += [(str(root), seed, split, i, int(label), spec) for i, label in enumerate(labels)]
    (root / 'classes.txt').write_text(''.join(f'{name}\n' for name in CLASSES))

    workers = max(1, workers or os.cpu_count() or 1)
    start, step = time.monotonic(), max(1, len(jobs) // 10)
    with contextlib.ExitStack() as stack:
        if workers > 1:
            # Workers die with this process, even when it is killed (no orphans rendering on).
            pool = stack.enter_context(multiprocessing.Pool(workers, initializer=die_with_parent))
            done_iter = pool.imap_unordered(_make_video, jobs, chunksize=4)
        else:
            done_iter = map(_make_video, jobs)
        for done, _ in enumerate(done_iter, 1):
            if progress and (done % step == 0 or done == len(jobs)):
                print(f'synthmotion[{scale}]: {done}/{len(jobs)} videos '
                      f'({time.monotonic() - start:.0f} s)', flush=True)

    # last: marks the data set complete
    atomic_write_text(root / 'meta.json', json.dumps(_meta(scale, seed), indent=2) + '\n')
