"""How much a single frame tells about the class of a generated data set: a logistic regression
on raw single frames of the train split, scored on the test split (chance = 1 / classes).

``python -m vssl_bench.data.frame_probe DATA_ROOT [--frames 3]`` decodes ``--frames`` frames per
video at evenly spaced random times (fixed RNG), trains on every frame of the train split (pixels
scaled to [0, 1], standardised) and scores each test frame on its own; prints top-1 in percent.
Results of the committed data sets: docs/datasets.md.
"""
from __future__ import annotations

import argparse
import pathlib

import av
import numpy as np


def _frames(path: pathlib.Path, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, H * W * 3) float32 frames of the video at random times, one per equal part."""
    with av.open(str(path)) as container:
        video = np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])
    edges = np.linspace(0, len(video), count + 1).astype(int)
    picks = [rng.integers(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
    return video[picks].reshape(count, -1).astype(np.float32) / 255


def _split(root: pathlib.Path, split: str, count: int, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    rows = [line.split() for line in (root / f'{split}.txt').read_text().splitlines()]
    x = np.concatenate([_frames(root / path, count, rng) for path, _ in rows])
    return x, np.repeat([int(label) for _, label in rows], count)


def frame_probe(root: str | pathlib.Path, frames: int = 3, seed: int = 0) -> float:
    """Test top-1 (fraction) of a logistic regression on single raw frames (see module doc)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    root, rng = pathlib.Path(root), np.random.default_rng(seed)
    x_train, y_train = _split(root, 'train', frames, rng)
    x_test, y_test = _split(root, 'test', frames, rng)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=500))
    return float(clf.fit(x_train, y_train).score(x_test, y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='a generated data set folder (vssl-bench data ...)')
    parser.add_argument('--frames', type=int, default=3, help='frames per video')
    args = parser.parse_args()
    classes = len((pathlib.Path(args.root) / 'classes.txt').read_text().split())
    acc = frame_probe(args.root, args.frames)
    print(f'{args.root}: single-frame logistic regression, test top-1 {100 * acc:.1f} % '
          f'(chance {100 / classes:.1f} %)')


if __name__ == '__main__':
    main()
