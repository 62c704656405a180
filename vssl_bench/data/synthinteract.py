"""SynthInteract: a procedural data set whose classes are how TWO objects move relative to each
other, on a bright, textured, noisy backdrop (a domain shift from SynthMotion's look).

Object A and object B (fixed looks, different shapes and colours) move along a line of random
direction through a random point, so no class has a direction of its own. Twelve classes
(`CLASSES`); every contact / turn recurs every 8-11 frames, so an 8x2 clip (15 frames) sees one:

* ``bounce``: both approach, touch and recoil, each staying on its own side;
* ``pass_through``: both approach and pass through each other (they swap sides);
* ``launch``: Newton's cradle: A hits B at rest, A stops and B leaves; B comes back, hits A...;
* ``launch_delayed``: the same, but the struck object leaves only after both rest in contact
  for 2-4 frames (Michotte's delayed launch: no longer read as causal);
* ``a_bounces_off_b`` / ``b_bounces_off_a``: one object comes and goes, the other stays put;
* ``a_leads`` / ``b_leads``: the pair travels back and forth together, the leader always in
  front (the follower lets it pass at every turn);
* ``tandem``: the pair travels back and forth rigidly (A in front one way, behind the other);
* ``orbit_cw`` / ``orbit_ccw``: the pair turns about its midpoint, clockwise / counter-clockwise;
* ``independent``: each object oscillates along its own line at its own period, no interaction.

What a single frame reveals: the looks, the line's direction and place, the camera shift and the
noise are drawn from the same distributions for every class, and so (approximately) is the
distance between the objects: it sweeps uniformly from contact to contact + the travel in the
approach classes (from 0 where they pass through each other), and the rigid classes draw a
constant distance from that range. What a frame can still tell: whether the objects overlap
(possible only in pass_through, the leading classes and independent, in up to a third of their
frames): that cue points to 4 of the 12 classes and needs a non-linear reading; linear
single-frame probes stay near chance (tests/test_generated_datasets.py, docs/datasets.md).
"""
from __future__ import annotations

import os
import pathlib

import numpy as np

from vssl_bench.data import procedural
from vssl_bench.data.procedural import COMMON_SCALES, Scale
from vssl_bench.data.synthevents import noisy_backdrop
from vssl_bench.data.synthmotion_render import Trajectory, composite, make_sprite, shifted_frames

__all__ = ['CLASSES', 'DATASET', 'SCALES', 'VERSION', 'generate', 'paths', 'render_video',
           'scene_looks']

CLASSES: tuple[str, ...] = (
    'bounce', 'pass_through', 'launch', 'launch_delayed', 'a_bounces_off_b', 'b_bounces_off_a',
    'a_leads', 'b_leads', 'tandem', 'orbit_cw', 'orbit_ccw', 'independent',
)
VERSION = 1
SCALES: dict[str, Scale] = dict(COMMON_SCALES)
SCENE_ENTROPY = 0x1A7E5C  # seeds the scene's looks; independent of the data set's seed
HALF = 0.16  # object half-size, fraction of the frame size


def _tri(phase: np.ndarray) -> np.ndarray:
    """Triangle wave in [-1, 1] of period 1: 0 at phase 0, rising, 1 at phase 1/4."""
    return 1 - 4 * np.abs(np.mod(phase + 0.25, 1.0) - 0.5)


def paths(rng: np.random.Generator, label: int, frames: int, size: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Centres of A and B, (frames, 2) pixels (x, y) each, for class `label`.

    Positions are first built on a line (u along it, v across it), then turned by a random
    angle and placed at a random point where both objects stay (mostly) in frame.
    """
    name = CLASSES[label]
    t = np.arange(frames, dtype=np.float64)
    period = rng.uniform(16.0, 22.0)  # frames; contacts / turns every half period
    phase = t / period + rng.uniform(0, 1)
    contact = 1.4 * HALF * size  # centre distance at which the objects (about) touch
    travel = rng.uniform(0.30, 0.42) * size
    zero = np.zeros(frames)
    a, b = np.zeros((frames, 2)), np.zeros((frames, 2))  # (u, v) on the line
    x = _tri(phase)
    if name == 'bounce':
        a[:, 0] = -(contact + travel * np.abs(x)) / 2
        b[:, 0] = -a[:, 0]
    elif name == 'pass_through':
        a[:, 0] = -(contact + travel) * x / 2
        b[:, 0] = -a[:, 0]
    elif name in ('launch', 'launch_delayed'):
        if name == 'launch_delayed':  # rest in contact for 2-4 frames around each collision
            hold = rng.uniform(2.0, 4.0) / (period / 2)  # fraction of a half period
            x = np.sign(x) * np.clip((np.abs(x) - hold / 2) / (1 - hold / 2), 0, 1)
        a[:, 0] = -contact / 2 - travel * np.maximum(0, -x)
        b[:, 0] = contact / 2 + travel * np.maximum(0, x)
    elif name in ('a_bounces_off_b', 'b_bounces_off_a'):
        mover, still = (a, b) if name == 'a_bounces_off_b' else (b, a)
        still[:, 0] = contact / 2
        mover[:, 0] = contact / 2 - contact - travel * np.abs(x)
    elif name in ('a_leads', 'b_leads', 'tandem'):
        middle = 0.5 * travel * x  # the pair goes back and forth
        if name == 'tandem':
            offset = zero + contact + travel * rng.uniform()  # A ahead one way, behind the other
        else:  # ahead in the direction of travel: the sign of the velocity, 0 at the turns
            offset = (contact + travel) * _tri(phase + 0.25)
            offset = offset if name == 'a_leads' else -offset
        a[:, 0], b[:, 0] = middle + offset / 2, middle - offset / 2
    elif name in ('orbit_cw', 'orbit_ccw'):
        radius = (contact + travel * rng.uniform()) / 2
        turn = 2 * np.pi * phase * (1 if name == 'orbit_cw' else -1)  # y down: + is clockwise
        a[:] = radius * np.stack([np.cos(turn), np.sin(turn)], axis=1)
        b[:] = -a
    elif name == 'independent':
        for obj, sign in ((a, -1), (b, 1)):
            angle = rng.uniform(0, 2 * np.pi)
            swing = 0.5 * travel * _tri(t / rng.uniform(12.0, 26.0) + rng.uniform(0, 1))
            obj[:] = (sign * (contact + travel) / 4 * np.array([1.0, 0.0])
                      + swing[:, None] * np.array([np.cos(angle), np.sin(angle)]))
    else:  # pragma: no cover - CLASSES and this function must agree
        raise AssertionError(name)
    angle = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    a, b = a @ rot.T, b @ rot.T
    both = np.concatenate([a, b])
    margin = 0.6 * HALF * size
    lo, hi = margin - both.min(axis=0), size - margin - both.max(axis=0)
    anchor = rng.uniform(np.minimum(lo, hi), np.maximum(lo, hi))
    return a + anchor, b + anchor


def scene_looks(size: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The fixed scene: padded backdrop (size + 2, size + 2, 3) and the RGBA sprites of A, B."""
    scene = np.random.default_rng(SCENE_ENTROPY)
    padded = noisy_backdrop(scene, size, level=(140, 210), blotches=70, grain=14)
    mean = padded.mean(axis=(0, 1))
    return padded, [make_sprite(scene, mean) for _ in range(2)]


def render_video(rng: np.random.Generator, label: int, frames: int, size: int) -> np.ndarray:
    """Render one SynthInteract video of class `label`: (frames, size, size, 3) uint8 RGB.

    The scene (backdrop, the two objects' looks) is fixed; the paths, the objects' start
    angles, the camera jitter and the sensor noise are drawn per video from distributions that
    are the same for every class (only the relative motion depends on it).
    """
    padded, sprites = scene_looks(size)
    amp = rng.uniform(0, 1)
    jitter = rng.uniform(-0.5, 0.5, size=(frames, 2)) * amp
    video = shifted_frames(padded, jitter)
    half = np.full(frames, HALF * size)
    centres = paths(rng, label, frames, size)
    order = rng.permutation(2)  # which object is drawn on top when they overlap
    for i in order:
        (x, y), spin = centres[i].T, rng.uniform(0, 2 * np.pi)
        composite(video, sprites[i], Trajectory(x, y, half, np.full(frames, spin)), jitter)
    video += rng.normal(0, 3, size=video.shape).astype(np.float32)  # sensor noise, per frame
    return np.clip(np.rint(video), 0, 255).astype(np.uint8)


def _render(rng: np.random.Generator, label: int, scale: Scale) -> np.ndarray:
    return render_video(rng, label, scale.frames, scale.size)


DATASET = procedural.ProceduralDataset(name='synthinteract', title='SynthInteract',
                                       classes=CLASSES, scales=SCALES, version=VERSION,
                                       render=_render)


def generate(out_dir: str | os.PathLike, scale: str = 'default', seed: int = 0,
             workers: int | None = None, progress: bool = True) -> pathlib.Path:
    """Generate SynthInteract at `scale` from `seed` into `out_dir` (see
    :func:`vssl_bench.data.procedural.generate`); return its path."""
    return procedural.generate(DATASET, out_dir, scale, seed, workers, progress)
