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
self-supervised methods then learn looks instead of motion (docs/calibration.md).

Why one scene, 32x32 and these object sizes: the measurements that chose them are in
docs/calibration.md.

Rendering lives in `synthmotion_render`.

Splits, seeding, encoding and layout are those of every generated data set
(`vssl_bench.data.procedural`): `pretrain` (unlabelled pool for self-supervised learning, like
Kinetics; labels are still written for a supervised upper bound), `train` and `test` (labelled,
like UCF101), all class-balanced and byte-identical across runs and worker counts.

Scale `default`: 48 frames of 32x32 at 16 fps (3 s). 48 frames hold two 8-frame clips at
stride 2 (15 frames each) at clearly different times, plus room for random temporal crops.
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from vssl_bench.data import procedural
from vssl_bench.data.procedural import COMMON_SCALES, SPLITS, Scale, encode_mp4, video_rng
from vssl_bench.data.synthmotion_render import CLASSES, render_video

__all__ = ['CLASSES', 'DATASET', 'SCALES', 'SPLITS', 'SynthMotionScale', 'encode_mp4', 'generate',
           'split_labels', 'video_rng', 'VERSION']

VERSION = 5  # bump whenever the rendered bytes change (5: one scene by default)
SynthMotionScale = Scale  # the scales of every generated data set (vssl_bench.data.procedural)

SCALES: dict[str, Scale] = {
    **COMMON_SCALES,  # tiny; default (200/50/30 per class, 48 frames of 32x32 at 16 fps); ci
    # Default's geometry with appearance as a nuisance: 8 scenes (the version-4 default). Much
    # harder: at the default suite's budget even Supervised stays at chance here (docstring).
    'multiscene': Scale(200, 50, 30, frames=48, size=32, fps=16, scenes=8),
}


def _render(rng: np.random.Generator, label: int, scale: Scale) -> np.ndarray:
    # `render_video` is looked up at call time (tests replace it to slow generation down).
    return render_video(rng, label, scale.frames, scale.size, num_scenes=scale.scenes)


DATASET = procedural.ProceduralDataset(name='synthmotion', title='SynthMotion', classes=CLASSES,
                                       scales=SCALES, version=VERSION, render=_render)


def split_labels(scale: Scale, split: str, seed: int) -> np.ndarray:
    """(n,) int64 labels of a split in video-index order: balanced, deterministically shuffled."""
    return procedural.split_labels(len(CLASSES), scale, split, seed)


def generate(out_dir: str | os.PathLike, scale: str = 'default', seed: int = 0,
             workers: int | None = None, progress: bool = True) -> pathlib.Path:
    """Generate SynthMotion at `scale` from `seed` into `out_dir`; return its path.

    Returns at once if `out_dir` already holds the same data set (meta.json matches); raises
    FileExistsError if it holds a different one and ValueError for an unknown scale.
    workers: processes rendering in parallel (default os.cpu_count(); 1 = in this process).
    The files do not depend on `workers`.
    """
    return procedural.generate(DATASET, out_dir, scale, seed, workers, progress)
