"""Common interface of evaluation protocols (built from configs by
:mod:`vssl_bench.protocols.build`).

Two kinds of protocol, told apart by their base class:

- :class:`FeatureProtocol` (linear, knn, retrieval) sees only the frozen features of the train
  and test splits (:class:`~vssl_bench.engine.features.Features`), extracted once per checkpoint and
  shared by every feature protocol.
- :class:`ModelProtocol` (semisup, finetune) trains the network itself, so it gets a
  :class:`ModelContext`: the method config and the path of its weights, where the data is and how
  test videos are viewed, and a scratch directory. It still knows nothing about how the weights
  were trained: it builds the method from its config, loads the state dict and only ever calls
  ``extract_feat``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.engine.features import Features


@dataclass(frozen=True)
class ProtocolResult:
    """What one evaluation of a protocol gives.

    metrics: metric name -> value in percent (0-100).
    per_video: metric -> bool hits of the test videos in test-split order, (M,) or (R, M) for R
        repeated runs (:mod:`vssl_bench.core.hits`); the run record's ``per_video``. Optional.
    info: JSON-able details of the evaluation (chosen hyper-parameters, the search); the run
        record's ``evaluation.protocol_info``. Optional.
    num_failed: videos left out per split (``{'train': n, 'test': m}``) by a protocol that reads
        the videos itself; feature protocols leave it None (the features count theirs).
    Neither per_video nor info changes the metrics.
    """

    metrics: dict[str, float]
    per_video: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] | None = None
    num_failed: dict[str, int] | None = None

    @classmethod
    def from_hits(cls, per_video: dict[str, np.ndarray],
                  info: dict[str, Any] | None = None) -> ProtocolResult:
        """Metrics as the percentage of hits of each (M,) array of ``per_video``."""
        return cls({name: float(100.0 * hits.mean()) for name, hits in per_video.items()},
                   per_video, info)


class Protocol:
    """An evaluation protocol.

    Subclasses set ``name`` (the key results are filed under) and ``version`` (bump whenever a
    change would alter results, so stale records are recognisable), take their config as keyword
    arguments and derive from :class:`FeatureProtocol` or :class:`ModelProtocol`. An
    evaluation returns a :class:`ProtocolResult`.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    #: What each version changed (version -> one sentence): why records of an earlier version
    #: are outdated. Leaderboards holding such records say so above their tables.
    changes: ClassVar[dict[str, str]] = {}
    #: True when the protocol needs the model (a :class:`ModelContext`), not just features.
    needs_model: ClassVar[bool] = False


class FeatureProtocol(Protocol):
    """A protocol on frozen features."""

    needs_model = False

    def evaluate(self, train: Features, test: Features, seed: int = 0) -> ProtocolResult:
        """Fit on ``train`` only, score ``test``."""
        raise NotImplementedError

    def video_pair(self, train: Features, test: Features) -> tuple:
        """Clip-averaged, L2-normalised float32 (N, D) train and (M, D) test features, checked
        to be non-empty and of one width."""
        train_x = train.video_level().astype('float32')
        test_x = test.video_level().astype('float32')
        name = type(self).__name__
        if len(train_x) == 0 or len(test_x) == 0:
            raise UserError(f'{name} needs training and test videos, got {len(train_x)} and '
                            f'{len(test_x)}')
        if train_x.shape[1] != test_x.shape[1]:
            raise ValueError(f'Feature dims differ: train {train_x.shape[1]}, test '
                             f'{test_x.shape[1]}')
        return train_x, test_x


@dataclass
class ModelContext:
    """What a :class:`ModelProtocol` may use about one (method, seed) checkpoint.

    method_cfg: the method's mmengine config as the suite runs it (``model=dict(type=...)``).
    weights: file holding the method's state dict (``vssl_bench.engine.pretrain.save_weights``).
    data_root / cache_dir: where the videos and their decode-once frame cache live (None: no
        cache); cache_short_side: the cache's short side (None: native-size frames).
    ann_files: split name -> annotation file (at least ``train`` and ``test``).
    view: the suite's evaluation view (clip_len, stride, num_clips, out_size) for test videos.
    work_dir: scratch space of this (method, seed); a protocol makes its own sub-folder.
    subset_dir: folder shared by all methods of the suite (label subsets live here, so every
        method sees the same videos).
    batch_size / num_workers: of test-time inference.
    launcher: the suite's launcher; training runs data-parallel on every rank under it.
    """

    method_cfg: Any
    weights: Path
    data_root: str
    cache_dir: str | None
    ann_files: dict[str, str]
    view: dict[str, int]
    work_dir: Path
    subset_dir: Path
    batch_size: int = 32
    num_workers: int = 0
    launcher: str = 'none'
    extra: dict[str, Any] = field(default_factory=dict)
    cache_short_side: int | None = None


class ModelProtocol(Protocol):
    """A protocol that trains or runs the network itself (fine-tuning)."""

    needs_model = True

    def evaluate_model(self, context: ModelContext, seed: int = 0) -> ProtocolResult | None:
        """Under a distributed launcher every rank calls this (the training is data-parallel);
        rank 0 returns the result, the other ranks None."""
        raise NotImplementedError
