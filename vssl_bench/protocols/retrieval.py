"""Nearest-neighbour video retrieval (VCOP / TCLR protocol).

Every test video is a query against the gallery of training videos. Videos are represented by
their clip-averaged, L2-normalised features and compared by cosine similarity; a query is a hit
at k if any of its k most similar gallery videos has the query's class. R@k is the percentage of
hit queries.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.engine.features import Features
from vssl_bench.protocols.base import FeatureProtocol, ProtocolResult

# Queries per block: bounds the (block, G) similarity matrix to ~block * G * 4 bytes.
_QUERY_BLOCK = 1024


def first_hit_rank(sim: np.ndarray, query_labels: np.ndarray,
                   gallery_labels: np.ndarray) -> np.ndarray:
    """0-based rank of the best-ranked same-class gallery item of each query.

    sim: (Q, G) similarities. Gallery items are ranked by decreasing similarity, exact ties by
    increasing gallery index (what a stable sort on -sim gives). Returns (Q,) int64; G for
    queries whose class is absent from the gallery (never a hit).

    No sort is needed: the best-ranked same-class item is the one with the highest similarity
    s* (lowest index i* among equals), and its rank is the number of items ranked before it,
    #{j: sim_j > s*} + #{j: sim_j == s*, j < i*}, all of which are of another class.
    """
    num_gallery = sim.shape[1]
    same = query_labels[:, None] == gallery_labels[None, :]
    masked = np.where(same, sim, -np.inf)
    best = masked.argmax(axis=1)  # argmax returns the first maximum: lowest index among ties.
    best_sim = masked[np.arange(len(sim)), best]
    before = (sim > best_sim[:, None]).sum(axis=1)
    tied_before = ((sim == best_sim[:, None])
                   & (np.arange(num_gallery)[None, :] < best[:, None])).sum(axis=1)
    rank = (before + tied_before).astype(np.int64)
    rank[~same.any(axis=1)] = num_gallery
    return rank


@PROTOCOLS.register_module()
class Retrieval(FeatureProtocol):
    """Video retrieval: queries = test split, gallery = train split.

    Args:
        ks: cut-offs k of the reported R@k; a k above the gallery size is clipped to it (the
            metric keeps its name, e.g. 'R@50').
    """

    name = 'retrieval'
    version = '1'

    def __init__(self, ks: Sequence[int] = (1, 5, 10, 20, 50)) -> None:
        ks = [int(k) for k in ks]
        if not ks or min(ks) < 1:
            raise UserError(f'Retrieval ks must be positive integers, got {ks}')
        self.ks = sorted(set(ks))

    def evaluate(self, train: Features, test: Features, seed: int = 0) -> ProtocolResult:
        """R@k and each one's (M,) hits; ``seed`` is unused (the protocol is deterministic)."""
        gallery, queries = self.video_pair(train, test)
        ranks = np.concatenate([
            first_hit_rank(queries[i:i + _QUERY_BLOCK] @ gallery.T,
                           test.labels[i:i + _QUERY_BLOCK], train.labels)
            for i in range(0, len(queries), _QUERY_BLOCK)])
        num_gallery = len(gallery)
        return ProtocolResult.from_hits({f'R@{k}': ranks < min(k, num_gallery) for k in self.ks})
