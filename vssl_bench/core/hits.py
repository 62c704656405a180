"""Per-test-video outcomes of a metric and their compact form in run records.

A protocol's outcome vector says, for every test video in test-split order, whether the video
was a hit for the metric (top-1 correct, a same-class video among the k nearest, ...): the mean
of the vector times 100 is the metric. A metric averaged over R repeated runs (semisup's subset
seeds) has R such vectors, one row each, and a video's outcome is the mean of its R hits.

In a run record, ``per_video`` maps each metric to its vector as a string of ``'0'``/``'1'``
characters, one per test video, or to a list of R such strings for repeated runs. Example:
``{"top1": "0110...", "top1_1pct": ["0100...", "0110..."]}``.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def encode(hits: np.ndarray) -> str | list[str]:
    """(M,) or (R, M) booleans (or 0/1 values) -> a '0'/'1' string, or a list of R of them."""
    hits = np.asarray(hits)
    if hits.ndim not in (1, 2) or not np.isin(hits, (0, 1)).all():
        raise ValueError(f'hits must be a (M,) or (R, M) array of 0/1, got shape {hits.shape}')
    if hits.ndim == 2:
        return [encode(row) for row in hits]
    return ''.join('1' if h else '0' for h in hits.tolist())


def decode(value: Any) -> np.ndarray:
    """A record's ``per_video`` entry -> (M,) float64 per-video outcomes in [0, 1] (the mean
    over repeats for a list of strings). Raises ValueError if it is not of that form."""
    rows = [value] if isinstance(value, str) else value
    if not isinstance(rows, list) or not rows or not all(isinstance(r, str) for r in rows):
        raise ValueError('per_video entries are a string of 0/1 or a non-empty list of them, '
                         f'got {type(value).__name__}')
    if len({len(r) for r in rows}) != 1 or not rows[0] or set(''.join(rows)) - {'0', '1'}:
        raise ValueError('per_video strings must be non-empty, of equal length, and hold only '
                         '0 and 1')
    bits = np.frombuffer(''.join(rows).encode('ascii'), dtype=np.uint8) - ord('0')
    return bits.reshape(len(rows), -1).mean(axis=0, dtype=np.float64)
