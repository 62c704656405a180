"""Tests of the SynthMotion generator (tiny scale: a few seconds in all)."""
from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
from collections import Counter

import av
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vssl_bench.data.synthmotion import CLASSES, SCALES, SPLITS, VERSION, generate
from vssl_bench.data.synthmotion_render import render_video

TINY = SCALES['tiny']


def _hashes(root: pathlib.Path) -> dict[str, str]:
    """sha256 of every file under `root`, keyed by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def _annotations(root: pathlib.Path, split: str) -> list[tuple[str, int]]:
    """(relative path, label) pairs of a split's annotation file."""
    rows = [line.split() for line in (root / f'{split}.txt').read_text().splitlines()]
    return [(path, int(label)) for path, label in rows]


def _decode(path: pathlib.Path) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames of a video."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A tiny data set (seed 0) generated in this process."""
    return generate(tmp_path_factory.mktemp('a') / 'sm', 'tiny', seed=0, workers=1,
                    progress=False)


def test_deterministic_across_dirs_and_workers(tiny_root: pathlib.Path,
                                               tmp_path: pathlib.Path) -> None:
    again = generate(tmp_path / 'b', 'tiny', seed=0, workers=2, progress=False)
    first, second = _hashes(tiny_root), _hashes(again)
    assert len(first) == 4 + 1 + sum(TINY.per_class(s) for s in SPLITS) * len(CLASSES)
    assert first == second
    other = _hashes(generate(tmp_path / 'c', 'tiny', seed=1, workers=1, progress=False))
    videos = [k for k in first if k.endswith('.mp4')]
    assert all(first[k] != other[k] for k in videos)


def test_layout_and_balance(tiny_root: pathlib.Path) -> None:
    assert (tiny_root / 'classes.txt').read_text().splitlines() == list(CLASSES)
    seen: set[str] = set()
    for split in SPLITS:
        rows = _annotations(tiny_root, split)
        paths = [p for p, _ in rows]
        assert all(p.startswith(f'videos/{split}/{split}_') for p in paths)
        assert all((tiny_root / p).is_file() for p in paths)
        labels = [label for _, label in rows]
        assert Counter(labels) == {c: TINY.per_class(split) for c in range(len(CLASSES))}
        assert labels != sorted(labels)  # interleaved, not all of class 0 first
        assert not seen & set(paths)
        seen |= set(paths)
    assert len(list(tiny_root.rglob('*.mp4'))) == len(seen)  # no temp or stray videos
    meta = json.loads((tiny_root / 'meta.json').read_text())
    assert (meta['scale'], meta['seed'], meta['version']) == ('tiny', 0, VERSION)
    assert meta['counts'] == {s: TINY.per_class(s) * len(CLASSES) for s in SPLITS}


def test_videos_decode_with_scale_geometry(tiny_root: pathlib.Path) -> None:
    for path in tiny_root.rglob('*.mp4'):
        assert _decode(path).shape == (TINY.frames, TINY.size, TINY.size, 3), path


def test_existing_dataset_is_reused_or_rejected(tiny_root: pathlib.Path) -> None:
    mtimes = {p: p.stat().st_mtime_ns for p in tiny_root.rglob('*')}
    assert generate(tiny_root, 'tiny', seed=0, progress=False) == tiny_root
    assert {p: p.stat().st_mtime_ns for p in tiny_root.rglob('*')} == mtimes
    with pytest.raises(FileExistsError, match='another --out'):
        generate(tiny_root, 'tiny', seed=1, progress=False)
    with pytest.raises(FileExistsError, match='delete'):
        generate(tiny_root, 'default', seed=0, progress=False)


def test_older_version_is_regenerated(tiny_root: pathlib.Path, tmp_path: pathlib.Path,
                                      capsys: pytest.CaptureFixture) -> None:
    """Same scale and seed, older generator: replaced by this version's files (and its stale
    frame cache removed); another scale or seed is still refused."""
    root = tmp_path / 'old'
    shutil.copytree(tiny_root, root)
    meta = json.loads((root / 'meta.json').read_text())
    (root / 'meta.json').write_text(json.dumps(dict(meta, version=VERSION - 1)))
    (root / '.frame_cache').mkdir()
    (root / '.frame_cache' / 'stale.npy').write_bytes(b'x')
    some = sorted((root / 'videos').rglob('*.mp4'))[0]
    some.write_bytes(b'not the video this version renders')
    with pytest.raises(FileExistsError, match='another --out'):
        generate(root, 'tiny', seed=1, progress=False)
    assert generate(root, 'tiny', seed=0, workers=1, progress=False) == root
    assert 'replacing it with version' in capsys.readouterr().out
    assert json.loads((root / 'meta.json').read_text())['version'] == VERSION
    assert not (root / '.frame_cache').exists()
    assert _hashes(root) == _hashes(tiny_root)


def test_unknown_scale(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="'huge'.*default.*tiny"):
        generate(tmp_path, 'huge')
    assert not any(tmp_path.iterdir())


def _render_set(per_class: int, seed: int, scenes: int = TINY.scenes
                ) -> tuple[list[np.ndarray], np.ndarray]:
    """More tiny-geometry videos than the tiny scale has (unencoded): frames list, labels."""
    labels = np.tile(np.arange(len(CLASSES)), per_class)
    videos = [render_video(np.random.default_rng([seed, 99, i]), int(label), TINY.frames,
                           TINY.size, num_scenes=scenes) for i, label in enumerate(labels)]
    return videos, labels


def _frame_feature(video: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(192,) one random frame, average-pooled to 8x8 RGB."""
    frame = video[rng.integers(len(video))].astype(np.float32)
    cell = frame.shape[0] // 8
    return frame.reshape(8, cell, 8, cell, 3).mean(axis=(1, 3)).ravel()


def _motion_feature(video: np.ndarray) -> np.ndarray:
    """(20,) hand-made motion statistics of a video; no appearance information.

    Lag profile of frame differences (periodic vs. monotonic motion), summed gradient-based
    flow (direction; camera jitter telescopes away), and the trajectory / area of the region
    differing from the temporal median (displacement, orbit direction, growth).
    """
    gray = video.astype(np.float32).mean(axis=-1)  # (T, H, W)
    lag = np.array([np.abs(gray[k:] - gray[:-k]).mean() for k in range(1, 13)])
    lag = np.log(lag / lag[0])
    dt = gray[2:] - gray[:-2]
    gy, gx = np.gradient(gray[1:-1], axis=(1, 2))
    energy = (gx ** 2 + gy ** 2).sum(axis=(1, 2)) + 1e-3
    flow_x = -(dt * gx).sum(axis=(1, 2)) / energy  # brightness constancy: dt ~ -grad . flow
    flow_y = -(dt * gy).sum(axis=(1, 2)) / energy
    diff = np.abs(gray - np.median(gray, axis=0))
    mask = diff > max(20.0, float(np.percentile(diff, 90)))
    count = mask.sum(axis=(1, 2)) + 1.0
    ys, xs = np.mgrid[:gray.shape[1], :gray.shape[2]]
    cx = (mask * xs).sum(axis=(1, 2)) / count
    cy = (mask * ys).sum(axis=(1, 2)) / count
    cx, cy = cx - cx.mean(), cy - cy.mean()
    orbit = (cx[:-1] * cy[1:] - cx[1:] * cy[:-1]).sum()  # signed swept area
    growth = np.polyfit(np.arange(len(count)), np.log(count), 1)[0] * len(count)
    vx, vy = np.diff(cx), np.diff(cy)
    return np.concatenate([lag, [
        flow_x.sum(), flow_y.sum(), cx[-1] - cx[0], cy[-1] - cy[0], orbit, growth,
        np.mean(np.abs(vx)), np.mean(np.abs(vy))]])


@pytest.mark.parametrize('scenes', [1, 8])  # the default scales and 'multiscene'
def test_label_needs_motion_not_appearance(scenes: int) -> None:
    """A single frame is near chance (1/12); simple motion statistics are far above it."""
    videos, labels = _render_set(per_class=20, seed=0, scenes=scenes)
    rng = np.random.default_rng(0)
    single = np.stack([_frame_feature(v, rng) for v in videos])
    motion = np.stack([_motion_feature(v) for v in videos])
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    acc_single = cross_val_score(clf, single, labels, cv=5).mean()
    acc_motion = cross_val_score(clf, motion, labels, cv=5).mean()
    chance = 1 / len(CLASSES)
    assert acc_single < chance + 0.08, (acc_single, acc_motion)
    assert acc_motion > acc_single + 0.25 and acc_motion > 0.4, (acc_single, acc_motion)


def _backdrop_spread(videos: list[np.ndarray]) -> np.ndarray:
    """Mean absolute difference (0-255) between the videos' temporal-median frames, all pairs."""
    medians = np.stack([np.median(v.astype(np.float32), axis=0) for v in videos])
    pairs = np.abs(medians[:, None] - medians[None]).mean(axis=(2, 3, 4))
    return pairs[np.triu_indices(len(videos), 1)]


def test_videos_share_the_scale_s_scenes(tiny_root: pathlib.Path) -> None:
    """Generated tiny videos (one scene) share their backdrop; with 8 scenes most pairs differ."""
    one = _backdrop_spread([_decode(p) for p in sorted(tiny_root.rglob('*.mp4'))[:24]])
    assert TINY.scenes == 1 and one.max() < 12, one.max()
    eight = _backdrop_spread(_render_set(per_class=2, seed=0, scenes=8)[0])
    assert np.mean(eight > 20) > 0.5, np.mean(eight > 20)
