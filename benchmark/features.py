"""Features of one checkpoint on one data split: the only thing protocols see."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Features:
    """Per-clip backbone features of a data split.

    clips: (N, K, D) float32, pooled backbone features of K uniformly spaced clips per video
        (not normalised: protocols normalise as their paper does).
    labels: (N,) int64 class indices.
    """

    clips: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.clips.ndim != 3 or self.labels.shape != (self.clips.shape[0],):
            raise ValueError(f'Features need clips (N, K, D) and labels (N,), got '
                             f'{self.clips.shape} and {self.labels.shape}')

    def video_level(self) -> np.ndarray:
        """(N, D) clip-averaged features, L2-normalised."""
        mean = self.clips.mean(axis=1)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
