"""Semi-supervised evaluation (CVRL, section 4.3): fine-tune the whole backbone, initialised from
the checkpoint, plus a new linear head on class-balanced fractions of the training labels, then
classify the full test split.

For every label fraction and every subset seed the protocol draws (or reuses) a class-balanced
subset of the train split (:func:`benchmark.finetuning.subset_file`, written under the suite's
subset folder so every method trains on the same videos), fine-tunes with mmengine's Runner under
a schedule fixed by the suite (identical for every method, whatever its pretraining), and scores
the test videos: softmax averaged over the suite's uniformly spaced clips, BN in eval mode. The
metrics of several subset seeds are averaged.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.data.dataset import read_annotations
from benchmark.finetuning import finetune, is_main_process, predict_test_split, subset_file
from benchmark.protocols.base import ModelContext, ModelProtocol
from benchmark.protocols.linear import topk_hits
from benchmark.registry import PROTOCOLS

#: Temporal jitter only (a random clip, full frame), no flip: a flip changes SynthMotion's class
#: (left <-> right, cw <-> ccw), and colour jitter and crops slowed supervised training (see
#: configs/methods/supervised_*.py).
DEFAULT_AUGMENT = dict(crop_area=(1.0, 1.0), crop_aspect=(1.0, 1.0), flip_p=0.0, jitter_p=0.0,
                       grayscale_p=0.0, blur_p=0.0)


def fraction_tag(fraction: float) -> str:
    """0.01 -> '1pct', 0.1 -> '10pct', 0.005 -> '0.5pct'."""
    return f'{round(fraction * 100, 6):g}pct'


@PROTOCOLS.register_module()
class SemiSupervised(ModelProtocol):
    """Fine-tuning on class-balanced label fractions of the train split.

    Args:
        fractions: label fractions in (0, 1]; each class keeps max(1, round(fraction * n)) of its
            n videos (halves rounded up). Metrics are named ``top1_<p>pct`` / ``top5_<p>pct``.
        subset_seeds: seeds of the subsets whose metrics are averaged; None: the run's seed.
        steps: optimiser steps of every fine-tuning run (the same for every fraction).
        batch_size: clips per step (global over ranks); one random clip per video, subsets
            smaller than a batch are cycled.
        lr, weight_decay: AdamW; the learning rate warms up linearly over ``warmup_ratio`` of the
            steps and then follows a cosine to 0 (``benchmark.budget.BudgetHook``).
        head_lr_mult: learning-rate factor of the new linear head (it starts from scratch).
        augment: ``ClipAugment`` arguments of the training clips.
        dtype: autocast dtype of training and test inference ('bfloat16'), or None for float32.
        dropout: before the linear head.
        num_workers: data-loading processes of training.
        log_interval: Runner log interval (steps).

    After :meth:`evaluate_model` (rank 0), ``self.last_info`` holds the runs' details and
    ``self.last_per_video`` each metric's bool hits of the test videos: (M,) for one subset
    seed, (S, M) for S subset seeds (a video's outcome is its mean over the rows).
    """

    name = 'semisup'
    version = '1'
    #: Whether metric names carry the fraction (finetune, at 100 %, leaves it out).
    tag_metrics = True

    def __init__(self, fractions: Sequence[float] = (0.01, 0.1),
                 subset_seeds: Sequence[int] | None = None, steps: int = 100,
                 batch_size: int = 32, lr: float = 1e-3, weight_decay: float = 1e-4,
                 head_lr_mult: float = 10.0, warmup_ratio: float = 0.1, augment: dict | None = None,
                 dtype: str | None = 'bfloat16', dropout: float = 0.0, num_workers: int = 1,
                 log_interval: int = 50) -> None:
        fractions = [float(f) for f in fractions]
        if not fractions or not all(0 < f <= 1 for f in fractions):
            raise ValueError(f'{type(self).__name__} fractions must lie in (0, 1], got '
                             f'{fractions}')
        if len({fraction_tag(f) for f in fractions}) != len(fractions):
            raise ValueError(f'{type(self).__name__} fractions {fractions} repeat a value')
        if int(steps) < 1 or int(batch_size) < 1:
            raise ValueError(f'{type(self).__name__} needs steps >= 1 and batch_size >= 1, got '
                             f'{steps} and {batch_size}')
        self.fractions = fractions
        self.subset_seeds = None if subset_seeds is None else [int(s) for s in subset_seeds]
        self.schedule = dict(steps=int(steps), batch_size=int(batch_size), lr=float(lr),
                             weight_decay=float(weight_decay),
                             head_lr_mult=float(head_lr_mult), warmup_ratio=float(warmup_ratio),
                             augment=dict(DEFAULT_AUGMENT if augment is None else augment),
                             dtype=dtype, dropout=float(dropout), num_workers=int(num_workers),
                             log_interval=int(log_interval))
        self.last_info: dict[str, Any] = {}
        self.last_per_video: dict[str, np.ndarray] = {}

    def _train_file(self, context: ModelContext, fraction: float, subset_seed: int) -> str:
        if fraction == 1.0:  # all labels: the train split itself
            return context.ann_files['train']
        return str(subset_file(context.ann_files['train'], fraction, subset_seed,
                               context.subset_dir, exclude=context.ann_files['test']))

    def evaluate_model(self, context: ModelContext, seed: int = 0) -> dict[str, float] | None:
        train_labels = [label for _, label in read_annotations(context.ann_files['train'])]
        num_classes = max(train_labels) + 1
        subset_seeds = self.subset_seeds if self.subset_seeds is not None else [seed]
        runs: dict[str, list[dict[str, float]]] = {}
        hits: dict[str, list[dict[str, np.ndarray]]] = {}
        info: dict[str, Any] = {'runs': [], 'schedule': self.schedule}
        for fraction in self.fractions:
            for subset_seed in subset_seeds:
                ann_file = self._train_file(context, fraction, subset_seed)
                work_dir = (context.work_dir / self.name
                            / f'{fraction_tag(fraction)}-subset{subset_seed}')
                model, wall = finetune(context, ann_file, num_classes, seed=seed,
                                       work_dir=work_dir, **self.schedule)
                if not is_main_process():
                    continue
                start = time.perf_counter()
                probs, labels = predict_test_split(model, context, self.schedule['dtype'])
                test_wall = time.perf_counter() - start
                classes = np.arange(probs.shape[1])
                run_hits = {'top1': topk_hits(probs, classes, labels, 1),
                            'top5': topk_hits(probs, classes, labels, min(5, len(classes)))}
                metrics = {k: float(100.0 * v.mean()) for k, v in run_hits.items()}
                tag = fraction_tag(fraction)
                runs.setdefault(tag, []).append(metrics)
                hits.setdefault(tag, []).append(run_hits)
                info['runs'].append(dict(
                    fraction=fraction, subset_seed=subset_seed, train_file=str(ann_file),
                    num_train=len(read_annotations(str(ann_file))), num_test=len(labels),
                    train_wall_s=round(wall, 2), test_wall_s=round(test_wall, 2), **metrics))
        if not is_main_process():
            return None
        self.last_info = info
        out, self.last_per_video = {}, {}
        for tag, per_seed in runs.items():
            for metric in ('top1', 'top5'):
                name = f'{metric}_{tag}' if self.tag_metrics else metric
                out[name] = float(np.mean([m[metric] for m in per_seed]))
                stacked = np.stack([h[metric] for h in hits[tag]])
                self.last_per_video[name] = stacked[0] if len(stacked) == 1 else stacked
        return out
