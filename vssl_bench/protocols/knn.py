"""Weighted k-nearest-neighbour classification on frozen features (Wu et al., CVPR 2018,
"Unsupervised Feature Learning via Non-Parametric Instance Discrimination", section 3.4).

Videos are represented by their clip-averaged, L2-normalised features and compared by cosine
similarity. A test video's k most similar training videos vote for their classes with weight
exp(sim / T); the class scores are the summed weights, and the top-k accuracies rank the classes
by score.
"""
from __future__ import annotations

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.engine.features import Features
from vssl_bench.protocols.base import FeatureProtocol, ProtocolResult
from vssl_bench.protocols.linear import topk_hits

# Queries per block: bounds the (block, N) similarity matrix to ~block * N * 4 bytes.
_QUERY_BLOCK = 1024


def knn_class_scores(sim: np.ndarray, train_labels: np.ndarray, classes: np.ndarray, k: int,
                     temperature: float) -> np.ndarray:
    """(Q, C) summed vote weights exp(sim / T) of each query's k nearest training items.

    sim: (Q, N) similarities to the N training items; classes: (C,) sorted class ids, the columns
    of the result. Neighbours are ranked by decreasing similarity, exact ties by increasing
    training index (stable sort), so the result is deterministic; k is clipped to N.
    """
    k = min(k, sim.shape[1])
    order = np.argsort(-sim, axis=1, kind='stable')[:, :k]  # (Q, k)
    near_sim = np.take_along_axis(sim, order, axis=1).astype(np.float64)
    weights = np.exp(near_sim / temperature)
    columns = np.searchsorted(classes, train_labels[order])  # (Q, k) class column of each vote
    scores = np.zeros((len(sim), len(classes)), dtype=np.float64)
    np.add.at(scores, (np.arange(len(sim))[:, None], columns), weights)
    return scores


@PROTOCOLS.register_module()
class KNN(FeatureProtocol):
    """Weighted kNN: queries = test split, neighbours = train split.

    Args:
        k: neighbours that vote (clipped to the number of training videos).
        temperature: T of the vote weights exp(sim / T) (0.07 as in Wu et al.).
        topk: reported top-k accuracies (a k above the number of classes is clipped to it; the
            metric keeps its name).

    Classes without a vote score 0; among equal scores the lower class id ranks first.
    """

    name = 'knn'
    version = '1'

    def __init__(self, k: int = 20, temperature: float = 0.07,
                 topk: tuple[int, ...] = (1, 5)) -> None:
        if int(k) < 1:
            raise UserError(f'KNN k must be a positive integer, got {k}')
        if not temperature > 0:
            raise UserError(f'KNN temperature must be positive, got {temperature}')
        topk = sorted({int(t) for t in topk})
        if not topk or topk[0] < 1:
            raise UserError(f'KNN topk must be positive integers, got {topk}')
        self.k, self.temperature, self.topk = int(k), float(temperature), topk

    def evaluate(self, train: Features, test: Features, seed: int = 0) -> ProtocolResult:
        """Top-k accuracies and each one's (M,) hits; ``seed`` is unused (deterministic)."""
        neighbours, queries = self.video_pair(train, test)
        classes = np.unique(train.labels)
        scores = np.concatenate([
            knn_class_scores(queries[i:i + _QUERY_BLOCK] @ neighbours.T, train.labels, classes,
                             self.k, self.temperature)
            for i in range(0, len(queries), _QUERY_BLOCK)])
        return ProtocolResult.from_hits({
            f'top{t}': topk_hits(scores, classes, test.labels, min(t, len(classes)))
            for t in self.topk})
