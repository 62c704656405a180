"""Semi-supervised evaluation (CVRL, section 4.3): fine-tune the whole backbone, initialised from
the checkpoint, plus a new linear head on class-balanced fractions of the training labels, then
classify the full test split.

For every label fraction and every subset seed the protocol draws (or reuses) a class-balanced
subset of the train split (:func:`vssl_bench.engine.finetuning.subset_file`, written under the
suite's subset folder so every method trains on the same videos), fine-tunes with mmengine's Runner
under a schedule fixed by the suite (identical for every method, whatever its pretraining), and
scores the test videos: softmax averaged over the suite's uniformly spaced clips, BN in eval mode.
The metrics of several subset seeds are averaged.

With ``candidates`` (schedule overrides), the schedule is chosen without the test split: a
class-stratified validation split is carved from the train split
(:mod:`vssl_bench.data.val_split`), every candidate runs the protocol with train-minus-val as its
train split and the validation videos as its test split, the best mean validation top-1 wins
(ties: the first), and only the winner is trained on the real labelled sets and scored on the
test split.

With ``eval_steps`` (the search every suite uses), fine-tuning is searched to convergence on
validation, the same way for every method: every candidate schedule (or the base schedule
alone) fine-tunes on the labelled sets drawn from train-minus-val, and after each step of
``eval_steps`` (and the last) the run's checkpoint scores the validation videos and the test
videos. Per label fraction, the (schedule, step) with the best validation top-1 wins (mean over
subset seeds; ties: fewer steps, then the first schedule), and the test outcomes of that
checkpoint are the protocol's; those of other checkpoints are never recorded or compared. The
search (every schedule's validation curve and the winners) goes into the run record. The
models scored are the ones trained on train-minus-val: nothing is retrained on the full split.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mmengine.dist import broadcast_object_list

from vssl_bench.core.errors import UserError
from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.data.dataset import read_annotations
from vssl_bench.data.val_split import validation_files
from vssl_bench.engine.finetuning import (failed_videos, finetune, is_main_process,
                                          predict_test_split, subset_file)
from vssl_bench.engine.pretrain import method_name
from vssl_bench.protocols.base import ModelContext, ModelProtocol, ProtocolResult
from vssl_bench.protocols.linear import topk_hits

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
            steps and then follows a cosine to 0 (``vssl_bench.engine.budget.BudgetHook``).
        head_lr_mult: learning-rate factor of the new linear head (it starts from scratch).
        augment: ``ClipAugment`` arguments of the training clips.
        dtype: autocast dtype of training and test inference ('bfloat16'), or None for float32.
        dropout: before the linear head.
        num_workers: data-loading processes of training.
        log_interval: Runner log interval (steps).
        candidates: None, or at least two dicts of schedule overrides (e.g. ``dict(lr=2e-4,
            head_lr_mult=100)``) to choose among on a validation split carved from the train
            split (see the module docstring); the test split is scored for the winner only.
        val_fraction: share of each class's train videos held out for validation (at least 1,
            at most n - 1 per class); used only with ``candidates`` or ``eval_steps``. The split
            is drawn from the run's seed.
        eval_steps: None, or the steps after which each run's checkpoint is scored in the
            checkpoint search (module docstring); steps beyond a schedule's ``steps`` are
            dropped and its last step is always scored.

    :meth:`evaluate_model` (rank 0) returns a result whose ``info`` holds the runs' details and
    ``per_video`` each metric's bool hits of the test videos: (M,) for one subset seed, (S, M)
    for S subset seeds (a video's outcome is its mean over the rows).
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
                 log_interval: int = 50, candidates: Sequence[dict] | None = None,
                 val_fraction: float = 0.2, eval_steps: Sequence[int] | None = None) -> None:
        fractions = [float(f) for f in fractions]
        if not fractions or not all(0 < f <= 1 for f in fractions):
            raise UserError(f'{type(self).__name__} fractions must lie in (0, 1], got '
                            f'{fractions}')
        if len({fraction_tag(f) for f in fractions}) != len(fractions):
            raise UserError(f'{type(self).__name__} fractions {fractions} repeat a value')
        if int(steps) < 1 or int(batch_size) < 1:
            raise UserError(f'{type(self).__name__} needs steps >= 1 and batch_size >= 1, got '
                            f'{steps} and {batch_size}')
        self.fractions = fractions
        self.subset_seeds = None if subset_seeds is None else [int(s) for s in subset_seeds]
        self.schedule = dict(steps=int(steps), batch_size=int(batch_size), lr=float(lr),
                             weight_decay=float(weight_decay),
                             head_lr_mult=float(head_lr_mult), warmup_ratio=float(warmup_ratio),
                             augment=dict(DEFAULT_AUGMENT if augment is None else augment),
                             dtype=dtype, dropout=float(dropout), num_workers=int(num_workers),
                             log_interval=int(log_interval))
        self.candidates = None if candidates is None else [dict(c) for c in candidates]
        if self.candidates is not None:
            if len(self.candidates) < 2:
                raise UserError(f'{type(self).__name__} candidates= needs at least two schedules '
                                f'to choose from, got {len(self.candidates)}; put a single '
                                'schedule in the protocol arguments')
            for overrides in self.candidates:
                unknown = sorted(set(overrides) - set(self.schedule))
                if unknown:
                    raise UserError(f'{type(self).__name__} candidate {overrides} sets unknown '
                                    f'keys {unknown}; schedule keys: {sorted(self.schedule)}')
        if not 0 < float(val_fraction) < 1:
            raise UserError(f'{type(self).__name__} val_fraction must lie in (0, 1), got '
                            f'{val_fraction}')
        self.val_fraction = float(val_fraction)
        self.eval_steps = None if eval_steps is None else sorted({int(x) for x in eval_steps})
        if self.eval_steps is not None and (not self.eval_steps or self.eval_steps[0] < 1):
            raise UserError(f'{type(self).__name__} eval_steps must be positive steps, got '
                            f'{eval_steps}')

    def candidate_schedule(self, index: int) -> dict[str, Any]:
        """The base schedule with candidate ``index``'s overrides (numbers cast like the base)."""
        schedule = dict(self.schedule)
        for key, value in self.candidates[index].items():
            base = schedule[key]
            cast = type(base) if isinstance(base, (int, float)) and value is not None else None
            schedule[key] = cast(value) if cast else value
        return schedule

    def _train_file(self, context: ModelContext, fraction: float, subset_seed: int) -> str:
        if fraction == 1.0:  # all labels: the train split itself
            return context.ann_files['train']
        return str(subset_file(context.ann_files['train'], fraction, subset_seed,
                               context.subset_dir, exclude=context.ann_files['test']))

    def _scored_steps(self, schedule: dict[str, Any]) -> list[int]:
        """The steps of the checkpoint search scored under ``schedule`` (its last included)."""
        return sorted({s for s in self.eval_steps or () if s < schedule['steps']}
                      | {schedule['steps']})

    @staticmethod
    def _hits(model: Any, context: ModelContext, dtype: str | None) -> dict[str, np.ndarray]:
        """Top-1 and top-5 hits of ``model`` on the context's ``test`` split."""
        probs, labels = predict_test_split(model, context, dtype)
        classes = np.arange(probs.shape[1])
        return {'top1': topk_hits(probs, classes, labels, 1),
                'top5': topk_hits(probs, classes, labels, min(5, len(classes)))}

    def _fit_and_score(self, context: ModelContext, schedule: dict[str, Any], num_classes: int,
                       seed: int, work_root: Path, test_context: ModelContext | None = None
                       ) -> list[dict[str, Any]] | None:
        """Fine-tune under ``schedule`` for every fraction and subset seed, score the context's
        ``test`` split; one record per run (rank 0), None on other ranks. With
        ``test_context`` (the checkpoint search), the context's ``test`` split is the validation
        split: each run also holds ``checkpoints``, step -> ``{'val': hits, 'test': hits}`` of
        ``test_context``'s test split, at every step of :meth:`_scored_steps`."""
        subset_seeds = self.subset_seeds if self.subset_seeds is not None else [seed]
        runs = []
        for fraction in self.fractions:
            for subset_seed in subset_seeds:
                ann_file = self._train_file(context, fraction, subset_seed)
                work_dir = work_root / f'{fraction_tag(fraction)}-subset{subset_seed}'
                checkpoints: dict[int, dict[str, dict[str, np.ndarray]]] = {}

                def score(model: Any, step: int) -> None:
                    checkpoints[step] = {
                        'val': self._hits(model, context, schedule['dtype']),
                        'test': self._hits(model, test_context, schedule['dtype'])}
                searching = test_context is not None
                label = (f'{method_name(context.method_cfg)} seed {seed} {self.name} '
                         f'{fraction_tag(fraction)} subset {subset_seed}, lr {schedule["lr"]:g}')
                model, wall = finetune(context, ann_file, num_classes, seed=seed,
                                       work_dir=work_dir, **schedule,
                                       score_steps=self._scored_steps(schedule) if searching
                                       else (), score=score if searching else None,
                                       progress_label=label)
                if not is_main_process():
                    continue
                start = time.perf_counter()
                hits = (checkpoints[schedule['steps']]['val'] if searching
                        else self._hits(model, context, schedule['dtype']))
                metrics = {k: float(100.0 * v.mean()) for k, v in hits.items()}
                failed = dict(train=failed_videos(ann_file, context),
                              test=failed_videos(context.ann_files['test'], context))
                runs.append(dict(
                    fraction=fraction, subset_seed=subset_seed, train_file=str(ann_file),
                    num_train=len(read_annotations(str(ann_file))) - failed['train'],
                    num_test=len(hits['top1']), num_failed=failed,
                    train_wall_s=round(wall, 2),
                    test_wall_s=round(time.perf_counter() - start, 2), **metrics,
                    hits=hits, **({'checkpoints': checkpoints} if searching else {})))
        return runs if is_main_process() else None

    @staticmethod
    def _without_hits(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``runs`` as recorded in the result's ``info`` (the hit arrays go to ``per_video``)."""
        return [{k: v for k, v in run.items() if k not in ('hits', 'checkpoints')}
                for run in runs]

    def _per_video(self, runs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Each metric's bool hits of the test videos: (M,) for one subset seed, (S, M) for S."""
        out = {}
        for fraction in self.fractions:
            per_seed = [r for r in runs if r['fraction'] == fraction]
            for metric in ('top1', 'top5'):
                name = f'{metric}_{fraction_tag(fraction)}' if self.tag_metrics else metric
                stacked = np.stack([r['hits'][metric] for r in per_seed])
                out[name] = stacked[0] if len(stacked) == 1 else stacked
        return out

    def _averaged(self, runs: list[dict[str, Any]], prefix: str = '') -> dict[str, float]:
        """Metrics of ``runs`` averaged over subset seeds, one per (metric, fraction)."""
        out = {}
        for fraction in self.fractions:
            per_seed = [r for r in runs if r['fraction'] == fraction]
            for metric in ('top1', 'top5'):
                name = f'{metric}_{fraction_tag(fraction)}' if self.tag_metrics else metric
                out[prefix + name] = float(np.mean([r[metric] for r in per_seed]))
        return out

    def select(self, context: ModelContext, seed: int = 0) -> dict[str, Any]:
        """Score every candidate on the validation split; never touches the test split.

        Returns the index of the winner (best validation top-1 averaged over fractions and
        subset seeds, ties to the first) on every rank, and on rank 0 also the split files and
        each candidate's overrides, validation metrics and runs.
        """
        if not self.candidates:
            raise UserError(f'{type(self).__name__} has no candidates= to select from')
        rest, val = validation_files(context.ann_files['train'], self.val_fraction, seed,
                                     context.subset_dir, exclude=context.ann_files['test'])
        num_classes = max(label for _, label in read_annotations(str(rest))) + 1
        val_context = dataclasses.replace(context, ann_files=dict(train=str(rest),
                                                                  test=str(val)))
        scored = []
        for index in range(len(self.candidates)):
            runs = self._fit_and_score(val_context, self.candidate_schedule(index), num_classes,
                                       seed, context.work_dir / self.name / 'selection'
                                       / f'candidate{index}')
            if runs is not None:
                metrics = self._averaged(runs, prefix='val_')
                top1 = float(np.mean([v for k, v in metrics.items() if k.startswith('val_top1')]))
                scored.append(dict(overrides=self.candidates[index], val_top1=top1,
                                   metrics=metrics, runs=self._without_hits(runs)))
        chosen = [int(np.argmax([c['val_top1'] for c in scored])) if scored else None]
        broadcast_object_list(chosen, src=0)  # every rank trains the same winner
        selection = dict(chosen=chosen[0])
        if scored:
            selection.update(val_fraction=self.val_fraction, val_seed=seed,
                             train_minus_val_file=str(rest), val_file=str(val),
                             num_val=len(read_annotations(str(val))), candidates=scored,
                             chosen_overrides=self.candidates[chosen[0]])
        return selection

    def search(self, context: ModelContext, seed: int = 0
               ) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
        """The checkpoint search (module docstring): the winners' runs, shaped like
        :meth:`_fit_and_score`'s with the winning checkpoint's test hits, and the search's
        record; None on ranks other than 0."""
        rest, val = validation_files(context.ann_files['train'], self.val_fraction, seed,
                                     context.subset_dir, exclude=context.ann_files['test'])
        num_classes = max(label for _, label in read_annotations(context.ann_files['train'])) + 1
        val_context = dataclasses.replace(context, ann_files=dict(train=str(rest),
                                                                  test=str(val)))
        schedules = ([self.candidate_schedule(i) for i in range(len(self.candidates))]
                     if self.candidates else [self.schedule])
        tried = []
        for index, schedule in enumerate(schedules):
            runs = self._fit_and_score(val_context, schedule, num_classes, seed,
                                       context.work_dir / self.name / 'search'
                                       / f'schedule{index}', test_context=context)
            tried.append(runs)
        if not is_main_process():
            return None
        record = dict(val_fraction=self.val_fraction, val_seed=seed,
                      train_minus_val_file=str(rest), val_file=str(val),
                      num_val=len(read_annotations(str(val))), schedules=[], chosen={})
        winners = []
        for index, runs in enumerate(tried):
            curves = {}
            for fraction in self.fractions:
                mine = [r for r in runs if r['fraction'] == fraction]
                curves[fraction_tag(fraction)] = {
                    str(step): round(float(np.mean([100.0 * r['checkpoints'][step]['val'][
                        'top1'].mean() for r in mine])), 4)
                    for step in sorted(mine[0]['checkpoints'])}
            record['schedules'].append(dict(overrides=(self.candidates or [{}])[index],
                                            steps=schedules[index]['steps'],
                                            lr=schedules[index]['lr'], val_top1=curves))
        for fraction in self.fractions:
            tag = fraction_tag(fraction)
            options = [(value, -int(step), -index) for index, entry in
                       enumerate(record['schedules']) for step, value in
                       entry['val_top1'][tag].items()]
            value, step, index = max(options)
            step, index = -step, -index
            record['chosen'][tag] = dict(schedule=index, step=step, val_top1=value,
                                         lr=schedules[index]['lr'])
            for run in tried[index]:
                if run['fraction'] != fraction:
                    continue
                hits = run['checkpoints'][step]['test']
                failed = dict(run['num_failed'],
                              test=failed_videos(context.ann_files['test'], context))
                winners.append(dict(run, hits=hits, step=step, schedule=index, num_failed=failed,
                                    val_top1=float(100.0 * run['checkpoints'][step]['val'][
                                        'top1'].mean()),
                                    num_test=len(hits['top1']),
                                    **{k: float(100.0 * v.mean()) for k, v in hits.items()}))
        return winners, record

    def evaluate_model(self, context: ModelContext, seed: int = 0) -> ProtocolResult | None:
        if self.eval_steps is not None:
            found = self.search(context, seed)
            if found is None:
                return None
            runs, record = found
            return self._result(runs, {'schedule': self.schedule, 'search': record})
        train_labels = [label for _, label in read_annotations(context.ann_files['train'])]
        num_classes = max(train_labels) + 1
        schedule, selection = self.schedule, None
        if self.candidates:
            selection = self.select(context, seed)
            schedule = self.candidate_schedule(selection['chosen'])
        runs = self._fit_and_score(context, schedule, num_classes, seed,
                                   context.work_dir / self.name)
        if runs is None:
            return None
        return self._result(runs, {'schedule': schedule, **(
            {'selection': selection} if selection is not None else {})})

    def _result(self, runs: list[dict[str, Any]], info: dict[str, Any]) -> ProtocolResult:
        """The metrics averaged over ``runs``, their hits, ``info`` after the runs' details, and
        the most videos any run left out per split."""
        return ProtocolResult(
            self._averaged(runs), self._per_video(runs),
            {'runs': self._without_hits(runs), **info},
            {split: max(r['num_failed'][split] for r in runs) for split in ('train', 'test')})
