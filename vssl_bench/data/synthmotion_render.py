"""Numpy renderer for SynthMotion videos (see `vssl_bench.data.synthmotion` for the data set).

Every layer is a function of continuous pixel coordinates, so a scene is rendered by
evaluating it at the (jittered) pixel centres of all T frames at once:

* the background is analytic (smooth noise + gradient or stripes);
* objects are premultiplied RGBA sprites in a local frame [-1, 1]^2, mapped onto the image by
  an inverse affine transform (translate, rotate, scale) and sampled bilinearly, which also
  anti-aliases their edges.

Units: positions and sizes in pixels (x right, y down), angles in radians, time in frames.
An angle that increases turns clockwise on screen because y points down.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES: tuple[str, ...] = (
    'translate_left', 'translate_right', 'translate_up', 'translate_down',
    'rotate_cw', 'rotate_ccw', 'grow', 'shrink',
    'oscillate_horizontal', 'oscillate_vertical', 'circle_cw', 'circle_ccw',
)
SHAPES: tuple[str, ...] = ('square', 'triangle', 'ellipse', 'l_shape', 'cross', 'star')
TEXTURES: tuple[str, ...] = ('stripes', 'checker', 'noise')
SPRITE_RES = 32  # sprite samples per side (before the 1-sample transparent border)

# A video's looks are one of `num_scenes` fixed scenes, drawn the same way for every class, so
# appearance identifies neither the class nor the video and a representation that tells videos
# apart must look at how things move. The default is a single scene (see
# `vssl_bench.data.synthmotion`, "Calibration"): with 8 scenes no self-supervised method learned
# motion within the default suite's budget, it learned to tell the scenes apart instead.
NUM_SCENES = 1
SCENE_ENTROPY = 0x5CE7E  # seeds the scene looks; independent of the data set's seed

# Distractors drift at most this fast (fraction of the frame size per frame): well below the
# slowest translation (0.45 N over the video, i.e. >= 0.0096 N/frame at 48 frames).
DISTRACTOR_MAX_SPEED = 0.004
DISTRACTOR_MAX_SPIN = np.deg2rad(1.0)  # rad/frame; rotate classes spin at 6-12 deg/frame


@dataclass(frozen=True)
class Trajectory:
    """Per-frame pose of an object; every array has shape (T,).

    cx, cy: centre in pixels; half: half-size in pixels (local coordinate 1 maps to `half`
    pixels); theta: orientation in radians (increasing = clockwise on screen).
    """

    cx: np.ndarray
    cy: np.ndarray
    half: np.ndarray
    theta: np.ndarray


def _bilinear(grid: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample `grid` (Gh, Gw, C) at column `u` and row `v` (any equal shapes S), clamped.

    Returns (*S, C) float32. Coordinates are in grid samples (0 = first sample).
    """
    gh, gw, c = grid.shape
    u = np.clip(u, 0.0, gw - 1.0)
    v = np.clip(v, 0.0, gh - 1.0)
    j0 = np.minimum(u.astype(np.int32), gw - 2)
    i0 = np.minimum(v.astype(np.int32), gh - 2)
    fu = (u - j0)[..., None].astype(np.float32)
    fv = (v - i0)[..., None].astype(np.float32)
    flat = grid.reshape(-1, c)
    k = i0 * gw + j0
    top = flat[k] * (1 - fu) + flat[k + 1] * fu
    bottom = flat[k + gw] * (1 - fu) + flat[k + gw + 1] * fu
    return top * (1 - fv) + bottom * fv


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of `shape` at local coordinates u (right), v (down) in [-1, 1].

    Shapes avoid high rotational symmetry so that a rotation is visible in every class.
    """
    if shape == 'square':
        return (np.abs(u) < 0.72) & (np.abs(v) < 0.72)
    if shape == 'triangle':  # isosceles, apex up
        return (v < 0.7) & (v > -0.85 + 2 * np.abs(u) * 0.95)
    if shape == 'ellipse':
        return (u / 0.9) ** 2 + (v / 0.5) ** 2 < 1
    if shape == 'l_shape':
        return (((u > -0.8) & (u < -0.25) & (np.abs(v) < 0.85))
                | ((u > -0.8) & (u < 0.8) & (v > 0.3) & (v < 0.85)))
    if shape == 'cross':  # Latin cross: the long lower arm breaks the symmetry
        return (((np.abs(u) < 0.2) & (np.abs(v) < 0.9))
                | ((np.abs(u) < 0.7) & (v > -0.55) & (v < -0.15)))
    if shape == 'star':  # five points, 72-degree symmetry
        r = np.hypot(u, v)
        return r < 0.5 + 0.35 * np.cos(5 * np.arctan2(v, u))
    raise ValueError(f'unknown shape {shape!r}')


def _texture(rng: np.random.Generator, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Random texture in [0, 1] at local coordinates u, v (same shapes)."""
    kind = TEXTURES[rng.integers(len(TEXTURES))]
    angle = rng.uniform(0, np.pi)
    if kind == 'stripes':
        freq = rng.uniform(1.5, 4.0)  # cycles over the sprite width
        proj = u * np.cos(angle) + v * np.sin(angle)
        return 0.5 + 0.5 * np.sign(np.sin(np.pi * freq * proj + rng.uniform(0, 2 * np.pi)))
    if kind == 'checker':
        cells = rng.uniform(1.5, 3.5)  # cells per unit length
        a = np.floor((u * np.cos(angle) + v * np.sin(angle)) * cells)
        b = np.floor((-u * np.sin(angle) + v * np.cos(angle)) * cells)
        return ((a + b) % 2).astype(np.float32)
    grid = rng.uniform(0, 1, size=(5, 5, 1)).astype(np.float32)
    return _bilinear(grid, (u + 1) * 2, (v + 1) * 2)[..., 0]


def _random_colour(rng: np.random.Generator, avoid: np.ndarray) -> np.ndarray:
    """(3,) RGB in [0, 255] at least 90 (Euclidean) from `avoid`, so objects stay visible."""
    for _ in range(100):
        colour = rng.uniform(0, 255, size=3)
        if np.linalg.norm(colour - avoid) >= 90:
            break
    return colour.astype(np.float32)


def make_sprite(rng: np.random.Generator, avoid: np.ndarray) -> np.ndarray:
    """Random textured shape as a premultiplied RGBA sprite, (R + 2, R + 2, 4) float32.

    R = SPRITE_RES samples cover local [-1, 1]; the 1-sample border is transparent so that
    clamped bilinear sampling outside the sprite returns alpha 0.
    """
    res = SPRITE_RES
    shape = SHAPES[rng.integers(len(SHAPES))]
    # 2x2 supersampling of the mask gives soft (anti-aliased) edges.
    fine = (np.arange(2 * res) + 0.5) / res - 1.0
    fu, fv = np.meshgrid(fine, fine)
    alpha = _shape_mask(shape, fu, fv).reshape(res, 2, res, 2).mean(axis=(1, 3))
    coarse = (np.arange(res) + 0.5) * 2 / res - 1.0
    cu, cv = np.meshgrid(coarse, coarse)
    tex = _texture(rng, cu, cv)[..., None]
    c1 = _random_colour(rng, avoid)
    c2 = np.clip(c1 + rng.choice([-1, 1], size=3) * rng.uniform(50, 110, size=3), 0, 255)
    rgb = c1 * (1 - tex) + c2 * tex
    sprite = np.zeros((res + 2, res + 2, 4), np.float32)
    sprite[1:-1, 1:-1, :3] = rgb * alpha[..., None]
    sprite[1:-1, 1:-1, 3] = alpha
    return sprite


def composite(frames: np.ndarray, sprite: np.ndarray, traj: Trajectory,
              jitter: np.ndarray) -> None:
    """Draw `sprite` posed by `traj` over `frames` (T, H, W, 3) float32, in place.

    jitter: (T, 2) camera shift (x, y) in pixels added to every pixel-centre coordinate.
    """
    res = sprite.shape[0] - 2
    height, width = frames.shape[1:3]
    # Only the box that the object can touch in some frame is resampled (the speed-up matters:
    # sampling is most of the generation time). Local corners lie sqrt(2) * half away.
    reach = np.sqrt(2) * traj.half.max() + 2
    x0, x1 = (int(np.clip(f(traj.cx) + s * reach, 0, width))
              for f, s in ((np.min, -1), (np.max, 1)))
    y0, y1 = (int(np.clip(f(traj.cy) + s * reach, 0, height))
              for f, s in ((np.min, -1), (np.max, 1)))
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, None, :] + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[None, :, None] + 0.5
    dx = xs + (jitter[:, 0] - traj.cx).astype(np.float32)[:, None, None]
    dy = ys + (jitter[:, 1] - traj.cy).astype(np.float32)[:, None, None]
    cos = (np.cos(traj.theta) / traj.half).astype(np.float32)[:, None, None]
    sin = (np.sin(traj.theta) / traj.half).astype(np.float32)[:, None, None]
    # Inverse of "rotate by theta, scale by half": local = R(-theta) (p - c) / half.
    u = cos * dx + sin * dy
    v = cos * dy - sin * dx
    rgba = _bilinear(sprite, (u + 1) * (res / 2) + 0.5, (v + 1) * (res / 2) + 0.5)
    view = frames[:, y0:y1, x0:x1]
    view *= 1 - rgba[..., 3:]
    view += rgba[..., :3]


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random textured background on a padded grid: (size + 2, size + 2, 3) float32.

    Sample (i, j) lies at pixel coordinate (j - 0.5, i - 0.5): one pixel of margin on every
    side, so a camera shift of up to 1 pixel stays inside the grid.
    """
    coords = np.arange(size + 2, dtype=np.float32) - 0.5
    xs, ys = np.meshgrid(coords, coords)
    cells = int(rng.integers(2, 5))
    grid = rng.uniform(0, 255, size=(cells + 1, cells + 1, 3)).astype(np.float32)
    # Smooth colour noise: a coarse random grid spanning the padded frame.
    out = _bilinear(grid, (xs + 1) * cells / (size + 2), (ys + 1) * cells / (size + 2))
    angle = rng.uniform(0, 2 * np.pi)
    proj = (xs * np.cos(angle) + ys * np.sin(angle)) / size  # in about [-1.4, 1.4]
    colour = rng.uniform(0, 255, size=3).astype(np.float32)
    if rng.random() < 0.5:  # stripes
        period = rng.uniform(0.1, 0.35)
        weight = rng.uniform(0.2, 0.5) * (0.5 + 0.5 * np.sin(2 * np.pi * proj / period))
    else:  # linear gradient towards a second colour
        weight = rng.uniform(0.3, 0.8) * np.clip(proj, 0, 1)
    weight = weight[..., None].astype(np.float32)
    out = out * (1 - weight) + colour * weight
    # Mute the background's contrast (by a random factor) so that the moving object, not the
    # texture behind it, carries most of the signal; colours stay random per video.
    mean = out.mean(axis=(0, 1), keepdims=True)
    return mean + rng.uniform(0.3, 0.6) * (out - mean)


def shifted_frames(padded: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """Frames of the static padded image (S + 2, S + 2, C) seen by a shifted camera.

    jitter: (T, 2) shift (x, y) in pixels, each in [-1, 1]. Returns (T, S, S, C) float32,
    bilinearly resampled (slices instead of gathers: cheap).
    """
    size = padded.shape[0] - 2
    out = np.empty((len(jitter), size, size, padded.shape[2]), np.float32)
    for t, (jx, jy) in enumerate(jitter):
        # Pixel centre j + 0.5 + jx sits at padded index j + 1 + jx.
        j0, i0 = int(np.floor(1 + jx)), int(np.floor(1 + jy))
        j0, i0 = min(j0, 1), min(i0, 1)  # jx = 1 exactly: use weight 1 on the next sample
        fx, fy = (np.float32(1 + jx - j0), np.float32(1 + jy - i0))
        rows = padded[i0:i0 + size + 1]
        top = rows[:size, j0:j0 + size] * (1 - fx) + rows[:size, j0 + 1:j0 + size + 1] * fx
        bot = rows[1:, j0:j0 + size] * (1 - fx) + rows[1:, j0 + 1:j0 + size + 1] * fx
        out[t] = top * (1 - fy) + bot * fy
    return out


def main_trajectory(rng: np.random.Generator, label: int, frames: int,
                    size: int, look: np.random.Generator | None = None) -> Trajectory:
    """Pose of the main object for class `label` over `frames` frames of a size x size video.

    Appearance-related draws (size, start angle, placement) use the same distributions for
    every class; per-frame marginals of size and angle are class-independent. Size and start
    angle come from `look` (the scene's generator, default `rng`), the motion from `rng`.
    """
    look = rng if look is None else look
    t = np.arange(frames, dtype=np.float64)
    tau = t / (frames - 1)  # normalised time in [0, 1]
    name = CLASSES[label]
    half_min = look.uniform(0.12, 0.16) * size
    ratio = look.uniform(1.4, 1.8)
    # Constant-size classes draw their size as half_min * ratio**U, the marginal that
    # grow/shrink sweep through, so size alone never reveals grow/shrink.
    half = np.full(frames, half_min * ratio ** look.uniform())
    theta = np.full(frames, look.uniform(0, 2 * np.pi))
    offset = np.zeros((frames, 2))
    sign = 1.0 if name.endswith(('_right', '_down', '_cw')) else -1.0
    if name.startswith('translate'):
        axis = 0 if name in ('translate_left', 'translate_right') else 1
        travel = rng.uniform(0.45, 0.65) * size  # whole-video displacement in pixels
        offset[:, axis] = sign * travel * tau
    elif name.startswith('rotate'):
        theta = theta + sign * np.deg2rad(rng.uniform(6.0, 12.0)) * t
    elif name in ('grow', 'shrink'):
        half = half_min * ratio ** (tau if name == 'grow' else 1 - tau)
    elif name.startswith('oscillate'):
        # Period 8-14 frames: an 8-frame clip at stride 2 (15 frames) sees >= 1 period.
        axis = 0 if name.endswith('horizontal') else 1
        amp = rng.uniform(0.10, 0.16) * size
        period = rng.uniform(8.0, 14.0)
        offset[:, axis] = amp * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    elif name.startswith('circle'):
        radius = rng.uniform(0.12, 0.18) * size
        period = rng.uniform(12.0, 20.0)  # frames per orbit
        phase = sign * 2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)
        offset = radius * np.stack([np.cos(phase), np.sin(phase)], axis=1)
    else:  # pragma: no cover - CLASSES and this function must agree
        raise AssertionError(name)
    # Place the path uniformly at random where the object stays mostly (>~ 70 %) in frame.
    margin = 0.6 * half.max()
    lo = margin - offset.min(axis=0)
    hi = size - margin - offset.max(axis=0)
    anchor = rng.uniform(np.minimum(lo, hi), np.maximum(lo, hi))
    return Trajectory(offset[:, 0] + anchor[0], offset[:, 1] + anchor[1], half, theta)


def distractor_trajectory(rng: np.random.Generator, frames: int, size: int) -> Trajectory:
    """Slow random-walk drift (reflected at the frame border) and slow spin of a distractor."""
    max_speed = DISTRACTOR_MAX_SPEED * size
    vel = rng.uniform(-1, 1, size=2) * max_speed
    pos = rng.uniform(0, size, size=2)
    path = np.empty((frames, 2))
    for i in range(frames):
        path[i] = pos
        vel = vel + rng.normal(0, 0.25 * max_speed, size=2)
        speed = np.linalg.norm(vel)
        if speed > max_speed:
            vel *= max_speed / speed
        pos = pos + vel
        # Reflect at the border instead of wrapping around.
        out = (pos < 0) | (pos > size)
        vel[out] = -vel[out]
        pos = np.clip(pos, 0, size)
    spin = rng.uniform(-1, 1) * DISTRACTOR_MAX_SPIN
    theta = rng.uniform(0, 2 * np.pi) + spin * np.arange(frames)
    half = np.full(frames, rng.uniform(0.04, 0.07) * size)
    return Trajectory(path[:, 0], path[:, 1], half, theta)


def render_video(rng: np.random.Generator, label: int, frames: int, size: int,
                 num_scenes: int = NUM_SCENES) -> np.ndarray:
    """Render one SynthMotion video of class `label`: (frames, size, size, 3) uint8 RGB.

    The scene (background; the objects' shapes, colours, textures, sizes and start angles; the
    distractors and their drift) is one of `num_scenes` scenes shared by every class; the main
    object's motion (speed, phase, start position) and the camera jitter are drawn per video.
    """
    scene = np.random.default_rng([SCENE_ENTROPY, int(rng.integers(num_scenes))])
    # Camera jitter: every frame is shifted by up to +-amp/2 pixels (amp in [0, 1]).
    amp = rng.uniform(0, 1)
    jitter = rng.uniform(-0.5, 0.5, size=(frames, 2)) * amp
    padded = background(scene, size)
    video = shifted_frames(padded, jitter)
    bg_mean = padded.mean(axis=(0, 1))
    main = (make_sprite(scene, bg_mean), main_trajectory(rng, label, frames, size, look=scene))
    front = []
    for _ in range(int(scene.integers(0, 3))):
        layer = (make_sprite(scene, bg_mean), distractor_trajectory(scene, frames, size))
        if scene.random() < 0.5:
            composite(video, *layer, jitter)  # behind the main object
        else:
            front.append(layer)
    for sprite, traj in [main, *front]:
        composite(video, sprite, traj, jitter)
    return np.clip(np.rint(video), 0, 255).astype(np.uint8)
