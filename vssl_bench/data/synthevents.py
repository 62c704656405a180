"""SynthEvents: a procedural data set whose classes differ only by WHEN things happen.

Nothing moves (but the camera's sub-pixel jitter): a lamp at a random place on a dark, grainy
backdrop flashes, and the class is the temporal structure of its flashes, never where they are.
Twelve classes (`CLASSES`): four rhythms at two tempos, and four patterns of their own:

* ``regular_fast`` / ``regular_slow``: periodic flashes, period 5.5-7 / 9.5-12 frames;
* ``double_fast`` / ``double_slow``: flashes in pairs (intervals alternate 0.5 and 1.5 x the
  period: a short-long rhythm);
* ``ramp_up_fast`` / ``ramp_up_slow``: periodic, each flash fades in slowly and snaps off;
* ``ramp_down_fast`` / ``ramp_down_slow``: snaps on and fades out (the time reverse of ramp_up);
* ``irregular``: aperiodic, every interval drawn from 4-16 frames;
* ``triple``: bursts of three flashes 4.5 frames apart, 13 frames of rest;
* ``accelerating``: bursts of flashes whose intervals shrink by a third (11, 7.2, 4.7 frames);
* ``decelerating``: the same bursts played backwards (intervals grow).

Every pattern is scaled by U(0.9, 1.1) per video and starts at a random phase.

What a single frame reveals: the lamp's place, the backdrop, the clutter and the camera shift
are drawn from the same distributions for every class; so is the lamp's brightness, by
construction: every flash lasts half of the interval that follows it and is a triangle from 0 to
full brightness, so in every class the lamp is dark half the time and uniformly bright in (0, 1]
the other half (ramp_down and decelerating are exact time reverses of ramp_up and accelerating).
A frame therefore shows a lamp at some brightness and nothing about the class; a frame probe in
tests/test_generated_datasets.py stays near chance (8.3 %), while the lamp's brightness over the 8
frames of an 8x2 clip (15 frames: 2-3 fast or 1-2 slow flashes) separates most of them (a
gradient-boosting classifier on the noise-free brightness of ONE random 8x2 clip: 77 % top-1;
irregular, accelerating and decelerating are the hardest: 2-3 intervals seen at a time).

Appearance is a domain shift from SynthMotion: a dark grainy backdrop with per-frame sensor
noise, a glowing lamp (body + halo) and static clutter instead of a moving textured object on a
muted smooth one. One fixed scene (looks), as SynthMotion's default (see its "Calibration").
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from vssl_bench.data import procedural
from vssl_bench.data.procedural import COMMON_SCALES, Scale
from vssl_bench.data.synthmotion_render import Trajectory, composite, make_sprite, shifted_frames

__all__ = ['CLASSES', 'DATASET', 'SCALES', 'VERSION', 'brightness', 'generate', 'noisy_backdrop',
           'render_video']

CLASSES: tuple[str, ...] = (
    'regular_fast', 'regular_slow', 'double_fast', 'double_slow',
    'ramp_up_fast', 'ramp_up_slow', 'ramp_down_fast', 'ramp_down_slow',
    'irregular', 'triple', 'accelerating', 'decelerating',
)
VERSION = 1
SCALES: dict[str, Scale] = dict(COMMON_SCALES)
SCENE_ENTROPY = 0xE7E475  # seeds the scene's looks; independent of the data set's seed
TEMPO = {'fast': (5.5, 7.0), 'slow': (9.5, 12.0)}  # mean period (frames) per tempo
#: Repeated interval sequences (frames, each x U(0.9, 1.1) per video): a burst of three, and
#: bursts whose intervals shrink by a third at every flash (decelerating: played backwards).
PATTERNS = {'triple': (4.5, 4.5, 13.0), 'accelerating': (11.0, 7.2, 4.7)}
SUBSAMPLES = 4  # exposure: a frame averages the lamp's brightness over this many instants


def _onsets(rng: np.random.Generator, name: str, span: float) -> tuple[np.ndarray, float]:
    """Flash onsets (frames) from before -16 to after `span`, and the peak position.

    The peak position is the fraction of a flash's duration at which it is brightest
    (0.5 symmetric, 0.9 slow fade-in, 0.1 slow fade-out).
    """
    peak, scale = 0.5, rng.uniform(0.9, 1.1)
    if name in PATTERNS:  # a repeated sequence of intervals
        cycle = scale * np.array(PATTERNS[name])
        intervals = np.tile(cycle, int(np.ceil((span + 32) / cycle.sum())) + 2)
    elif name == 'irregular':  # no pattern: a random phase within the first interval
        intervals = rng.uniform(4.0, 16.0, size=int(np.ceil((span + 32) / 4.0)) + 2)
        cycle = intervals[:1]
    else:
        rhythm, tempo = name.rsplit('_', 1)
        period = rng.uniform(*TEMPO[tempo])
        count = int(np.ceil((span + 32) / (0.5 * period))) + 4
        if rhythm == 'double':
            cycle = period * np.array([0.5, 1.5])
            intervals = np.tile(cycle, count // 2 + 1)
        else:  # regular, ramp_up, ramp_down
            cycle, intervals = np.array([period]), np.full(count, period)
            peak = {'regular': 0.5, 'ramp_up': 0.9, 'ramp_down': 0.1}[rhythm]
    onsets = np.concatenate([[0.0], np.cumsum(intervals)])
    # A uniformly random phase within one repetition of the pattern: the video starts anywhere
    # in it.
    return onsets - 16.0 - rng.uniform(0, cycle.sum()), peak


def brightness(rng: np.random.Generator, label: int, frames: int) -> np.ndarray:
    """(frames,) float32 lamp brightness in [0, 1] of a video of class `label`.

    Every flash is a triangle that rises from 0 to 1 and falls back to 0 within half of the
    interval to the next onset (then the lamp stays dark), so the brightness marginal is the
    same for every class. decelerating and ramp_down are rendered as the time reverses of
    accelerating and ramp_up.
    """
    name = CLASSES[label]
    reverse = name == 'decelerating' or name.startswith('ramp_down')
    source = {'decelerating': 'accelerating'}.get(name, name.replace('ramp_down', 'ramp_up'))
    onsets, peak = _onsets(rng, source, span=float(frames))
    times = (np.arange(frames * SUBSAMPLES) + 0.5) / SUBSAMPLES - 0.5  # instants, in frames
    index = np.searchsorted(onsets, times, side='right') - 1
    start, duration = onsets[index], 0.5 * (onsets[index + 1] - onsets[index])
    phase = (times - start) / duration  # position within the flash; > 1: dark
    rise = np.clip(phase / peak, 0, 1)
    fall = np.clip((1 - phase) / (1 - peak), 0, 1)
    value = np.where(phase < peak, rise, fall)
    value = value.reshape(frames, SUBSAMPLES).mean(axis=1)
    return (value[::-1] if reverse else value).astype(np.float32)


def noisy_backdrop(scene: np.random.Generator, size: int, level: tuple[float, float],
                   blotches: float, grain: float) -> np.ndarray:
    """Static blotchy, grainy backdrop on the padded grid: (size + 2, size + 2, 3) float32.

    level: range of the base colour's channels (0-255); blotches: contrast of a coarse colour
    noise (5 x 5 cells, box-blurred); grain: standard deviation of per-pixel grey noise. The
    grid has SynthMotion's one-pixel margin (see `synthmotion_render.background`), for the
    camera shift of `shifted_frames`.
    """
    pad = size + 2
    coarse = scene.uniform(0, 1, size=(5, 5, 3)).astype(np.float32)
    blotch = np.kron(coarse, np.ones((pad // 5 + 1, pad // 5 + 1, 1), np.float32))[:pad, :pad]
    kernel = np.ones(5, np.float32) / 5
    for axis in (0, 1):
        blotch = np.apply_along_axis(np.convolve, axis, blotch, kernel, mode='same')
    base = scene.uniform(*level, size=3).astype(np.float32)
    noise = scene.normal(0, grain, size=(pad, pad, 1)).astype(np.float32)
    return np.clip(base + blotches * (blotch - 0.5) + noise, 0, 255)


def render_video(rng: np.random.Generator, label: int, frames: int, size: int) -> np.ndarray:
    """Render one SynthEvents video of class `label`: (frames, size, size, 3) uint8 RGB.

    The scene (backdrop, lamp shape and colours, clutter) is fixed; the lamp's place, the
    flashes' phase and tempo, the camera jitter and the sensor noise are drawn per video from
    distributions that are the same for every class (only the flash pattern depends on it).
    """
    scene = np.random.default_rng(SCENE_ENTROPY)
    padded = noisy_backdrop(scene, size, level=(30, 70), blotches=40, grain=10)
    mean = padded.mean(axis=(0, 1))
    lamp = make_sprite(scene, mean)
    glow = np.clip(scene.uniform(150, 255, size=3), 0, 255).astype(np.float32)
    clutter = [make_sprite(scene, mean) for _ in range(2)]
    clutter_at = scene.uniform(0.15, 0.85, size=(2, 2)) * size

    amp = rng.uniform(0, 1)
    jitter = rng.uniform(-0.5, 0.5, size=(frames, 2)) * amp
    video = shifted_frames(padded, jitter)
    still = np.zeros(frames)
    for sprite, (x, y) in zip(clutter, clutter_at):
        composite(video, sprite, Trajectory(still + x, still + y, still + 0.09 * size,
                                            still + scene.uniform(0, 2 * np.pi)), jitter)
    half = 0.13 * size
    x, y = rng.uniform(0.2, 0.8, size=2) * size
    level = brightness(rng, label, frames)
    # The lamp's body is always visible (dim when off); when lit, a halo adds light around it.
    body = lamp * np.array([0.55, 0.55, 0.55, 1.0], np.float32)  # opaque but dim
    composite(video, body, Trajectory(still + x, still + y, still + half, still), jitter)
    coords = np.arange(size, dtype=np.float32) + 0.5
    dx = coords[None, None, :] + jitter[:, 0, None, None] - x
    dy = coords[None, :, None] + jitter[:, 1, None, None] - y
    halo = np.exp(-(dx ** 2 + dy ** 2) / (2 * (1.1 * half) ** 2)).astype(np.float32)
    video += (level[:, None, None] * halo)[..., None] * (glow - 0.5 * video) * np.float32(0.9)
    video += rng.normal(0, 4, size=video.shape).astype(np.float32)  # sensor noise, per frame
    return np.clip(np.rint(video), 0, 255).astype(np.uint8)


def _render(rng: np.random.Generator, label: int, scale: Scale) -> np.ndarray:
    return render_video(rng, label, scale.frames, scale.size)


DATASET = procedural.ProceduralDataset(name='synthevents', title='SynthEvents', classes=CLASSES,
                                       scales=SCALES, version=VERSION, render=_render)


def generate(out_dir: str | os.PathLike, scale: str = 'default', seed: int = 0,
             workers: int | None = None, progress: bool = True) -> pathlib.Path:
    """Generate SynthEvents at `scale` from `seed` into `out_dir` (see
    :func:`vssl_bench.data.procedural.generate`); return its path."""
    return procedural.generate(DATASET, out_dir, scale, seed, workers, progress)
