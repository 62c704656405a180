"""What every procedural (generated) data set shares: scales, splits, seeding, encoding, layout.

A generated data set is a module ``vssl_bench.data.<name>`` that defines ``DATASET``, a
:class:`ProceduralDataset` (its classes, scales, generator version and a render function). The
module's name is the data set's name: the ``type`` a suite's data dict gives
(``data = dict(type='synthevents', root=..., scale='default', seed=0)``) and the sub-command of
``vssl-bench data``. :data:`GENERATED` lists the in-tree ones; :func:`get` imports one.

Splits: ``pretrain`` (unlabelled pool for self-supervised learning; labels are still written for
a supervised upper bound), ``train`` and ``test`` (labelled). All are class-balanced. Video
``index`` of split ``split_id`` is rendered from ``np.random.SeedSequence([seed, split_id,
index])``, so videos are independent of the worker count and byte-identical across runs (H.264,
single-threaded x264, bit-exact muxing).

Layout of a data set folder (mmaction2 VideoDataset annotations, ``<path> <label>`` per line):
classes.txt, pretrain.txt, train.txt, test.txt, videos/<split>/<split>_<idx:05d>.mp4 and
meta.json, written last (atomically) to mark a complete data set.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import pathlib
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import av
import numpy as np
from av.codec.context import Flags

from vssl_bench.core import lock
from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_text
from vssl_bench.core.orphans import die_with_parent

__all__ = ['GENERATED', 'SPLITS', 'CRF', 'ProceduralDataset', 'Scale', 'encode_mp4', 'generate',
           'get', 'is_generated', 'split_labels', 'video_rng']

#: The in-tree generated data sets (module ``vssl_bench.data.<name>`` each).
GENERATED: tuple[str, ...] = ('synthmotion', 'synthevents', 'synthinteract')
SPLITS: tuple[str, ...] = ('pretrain', 'train', 'test')  # position = split_id of the seeds
CRF = 18
_ORDER_KEY = 2**32 - 1  # SeedSequence word for a split's label order (no video index is this)


@dataclass(frozen=True)
class Scale:
    """Size of a generated data set: videos per class of each split and video geometry.

    frames: frames per video; size: frame height = width in pixels; fps: frames per second;
    scenes: number of fixed scenes (looks) the videos share (data sets without scenes ignore it).
    """

    pretrain_per_class: int
    train_per_class: int
    test_per_class: int
    frames: int
    size: int
    fps: int
    scenes: int = 1

    def per_class(self, split: str) -> int:
        """Videos per class in `split`."""
        return getattr(self, f'{split}_per_class')


#: The scales every data set of the family has (SynthMotion's, without its `multiscene`):
#: `default` = 2400 / 600 / 360 videos of 48 frames of 32x32 at 16 fps (3 s) for 12 classes.
COMMON_SCALES: dict[str, Scale] = {
    'tiny': Scale(4, 3, 2, frames=24, size=32, fps=16),
    'default': Scale(200, 50, 30, frames=48, size=32, fps=16),
    'ci': Scale(40, 20, 15, frames=48, size=32, fps=16),
}


@dataclass(frozen=True)
class ProceduralDataset:
    """A generated data set.

    name: its type and module name (``vssl_bench.data.<name>``); title: for messages;
    version: bump whenever the rendered bytes change (meta.json records it, and a data set of
    an older version at the same scale and seed is regenerated); render(rng, label, scale) ->
    (scale.frames, scale.size, scale.size, 3) uint8 RGB frames of one video of class `label`,
    a module-level function (it runs in worker processes, looked up by `name`).
    """

    name: str
    title: str
    classes: tuple[str, ...]
    scales: dict[str, Scale]
    version: int
    render: Callable[[np.random.Generator, int, Scale], np.ndarray]


def meta_field(meta: dict, key: str):
    """``meta.json``'s ``key``; a meta.json without ``dataset`` was written by SynthMotion's
    generator before the other data sets existed."""
    return meta.get(key, 'synthmotion' if key == 'dataset' else None)


def is_generated(data_type: str | None) -> bool:
    """True when a suite's ``data.type`` names a generated data set."""
    return data_type in GENERATED


def get(name: str) -> ProceduralDataset:
    """The generated data set `name` (imports ``vssl_bench.data.<name>``)."""
    if name not in GENERATED:
        raise UserError(f'unknown generated data set {name!r}; known: {", ".join(GENERATED)}')
    return importlib.import_module(f'vssl_bench.data.{name}').DATASET


def split_labels(num_classes: int, scale: Scale, split: str, seed: int) -> np.ndarray:
    """(n,) int64 labels of a split in video-index order: balanced, deterministically shuffled."""
    labels = np.repeat(np.arange(num_classes), scale.per_class(split))
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


def _make_video(job: tuple[str, str, int, str, int, int, Scale]) -> None:
    """Render and encode one video; `job` = (name, root, seed, split, index, label, scale)."""
    name, root, seed, split, index, label, scale = job
    frames = get(name).render(video_rng(seed, split, index), label, scale)
    encode_mp4(frames, pathlib.Path(root) / _video_path(split, index), scale.fps)


def _meta(spec: ProceduralDataset, scale_name: str, seed: int) -> dict:
    """Content of meta.json for a data set of `scale_name` generated from `seed`."""
    scale = spec.scales[scale_name]
    return {
        'dataset': spec.name, 'scale': scale_name, 'seed': seed, 'version': spec.version,
        'counts': {s: scale.per_class(s) * len(spec.classes) for s in SPLITS},
        'frames': scale.frames, 'size': scale.size, 'fps': scale.fps,
        'classes': list(spec.classes), 'scale_params': asdict(scale), 'pyav': av.__version__,
    }


def _existing(spec: ProceduralDataset, root: pathlib.Path, scale_name: str, seed: int) -> bool:
    """True if `root` holds this data set already; raise if it holds a different one.

    An older generator version of the same data set, scale and seed is removed (its videos,
    lists and frame cache: files this module wrote) so that it is generated afresh, with a
    message.
    """
    meta_path = root / 'meta.json'
    if not meta_path.exists():
        return False  # absent or interrupted: (re)generate
    meta = json.loads(meta_path.read_text())
    found = {k: meta.get(k) for k in ('scale', 'seed', 'version')}
    wanted = {'scale': scale_name, 'seed': seed, 'version': spec.version}
    dataset = meta_field(meta, 'dataset')
    if (dataset == spec.name and found['version'] != spec.version
            and (found['scale'], found['seed']) == (scale_name, seed)):
        print(f'{root} holds {spec.title} version {found["version"]}; replacing it with version '
              f'{spec.version} (same scale and seed)', flush=True)
        meta_path.unlink()  # first: an interruption leaves an incomplete data set, regenerated
        for name in ('videos', '.frame_cache'):
            shutil.rmtree(root / name, ignore_errors=True)
        for name in (*(f'{split}.txt' for split in SPLITS), 'classes.txt'):
            (root / name).unlink(missing_ok=True)
        return False
    if dataset != spec.name:
        raise FileExistsError(
            f'{root} already holds another data set ({dataset!r}), not {spec.title}: pick '
            'another --out or delete that directory')
    if found != wanted:
        raise FileExistsError(
            f'{root} already holds a {spec.title} data set with {found}, not {wanted}: '
            f'pick another --out or delete that directory')
    return True


def generate(spec: ProceduralDataset, out_dir: str | os.PathLike, scale: str = 'default',
             seed: int = 0, workers: int | None = None, progress: bool = True) -> pathlib.Path:
    """Generate data set `spec` at `scale` from `seed` into `out_dir`; return its path.

    Returns at once if `out_dir` already holds the same data set (meta.json matches); raises
    FileExistsError if it holds a different one and UserError for an unknown scale.
    workers: processes rendering in parallel (default os.cpu_count(); 1 = in this process).
    The files do not depend on `workers`.
    """
    if scale not in spec.scales:
        raise UserError(f'unknown {spec.title} scale {scale!r}; choose one of '
                        f'{sorted(spec.scales)}')
    root = pathlib.Path(out_dir)
    if root.exists() and not root.is_dir():
        raise UserError(f'{spec.title} folder {root} is a file: pass a folder (--out / '
                        '--data-root)')
    if _existing(spec, root, scale, seed):
        return root
    # One generator per folder: a second process (another run started at the same time) waits
    # for the first and then finds the data set complete.
    with lock.hold(root, wait=True, purpose=f'generates {spec.title} in'):
        if not _existing(spec, root, scale, seed):
            _generate(spec, root, scale, seed, workers, progress)
    return root


def _generate(spec: ProceduralDataset, root: pathlib.Path, scale: str, seed: int,
              workers: int | None, progress: bool) -> None:
    geometry = spec.scales[scale]
    jobs = []
    for split in SPLITS:
        (root / 'videos' / split).mkdir(parents=True, exist_ok=True)
        for stale in (root / 'videos' / split).glob('*.tmp.mp4'):  # from an interrupted run
            stale.unlink()
        labels = split_labels(len(spec.classes), geometry, split, seed)
        lines = [f'{_video_path(split, i)} {label}\n' for i, label in enumerate(labels)]
        (root / f'{split}.txt').write_text(''.join(lines))
        jobs += [(spec.name, str(root), seed, split, i, int(label), geometry)
                 for i, label in enumerate(labels)]
    (root / 'classes.txt').write_text(''.join(f'{name}\n' for name in spec.classes))

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
                print(f'{spec.name}[{scale}]: {done}/{len(jobs)} videos '
                      f'({time.monotonic() - start:.0f} s)', flush=True)

    # last: marks the data set complete
    atomic_write_text(root / 'meta.json', json.dumps(_meta(spec, scale, seed), indent=2) + '\n')
