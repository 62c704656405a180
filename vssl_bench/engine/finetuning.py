"""Fine-tuning a method's backbone with a new linear head, shared by the ``semisup`` and
``finetune`` protocols: class-balanced label subsets, the ``FineTuneClassifier`` model, its
mmengine Runner config and the clip-averaged test evaluation.

Protocols only see the method through its config, its state dict and ``extract_feat``: the
method is built from its config, its weights are loaded, and the network fine-tuned is
``extract_feat`` followed by a linear classifier.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import BaseModel

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import write_hashed_text
from vssl_bench.core.precision import effective_dtype
from vssl_bench.core.registry import DATASETS, MODELS, build
from vssl_bench.data import suite_data
from vssl_bench.data.dataset import read_annotations
from vssl_bench.engine import pretrain as pt


# ------------------------------------------------------------------------------------- subsets
def per_class_count(num_videos: int, fraction: float) -> int:
    """Videos kept of a class of ``num_videos``: round(fraction * n), halves rounded up, at least
    1 and at most n (0.01 of a 50-video class keeps 1 video, 0.1 keeps 5)."""
    return int(min(num_videos, max(1, np.floor(fraction * num_videos + 0.5))))


def balanced_subset(entries: Sequence[tuple[str, int]], fraction: float,
                    seed: int) -> list[tuple[str, int]]:
    """Class-balanced subset of (path, label) entries, in the order of ``entries``.

    Each class keeps :func:`per_class_count` of its videos: the first ones of a permutation
    drawn from ``(seed, class)``, so the subsets of one seed are nested (the 1 % subset lies
    inside the 10 % one) and one class's draw does not depend on the others.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'label fraction must be in (0, 1], got {fraction}')
    labels = np.array([label for _, label in entries])
    if (labels < 0).any():
        raise UserError('a label subset needs labelled videos; the annotation file has '
                        'unlabelled lines')
    keep: list[int] = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        order = np.random.default_rng([int(seed), int(cls)]).permutation(len(members))
        keep.extend(members[order[:per_class_count(len(members), fraction)]].tolist())
    return [entries[i] for i in sorted(keep)]


def subset_file(ann_file: str | Path, fraction: float, seed: int, out_dir: str | Path,
                exclude: str | Path | None = None) -> Path:
    """Write (or reuse) the subset list of ``ann_file`` and return its path.

    The file is ``<out_dir>/<split>-<fraction>-seed<seed>-<hash>.txt`` in the annotation-file
    format, with a ``#`` header naming its source; ``<hash>`` is the first 12 hex digits of the
    SHA-256 of the file's content. The subset is drawn deterministically, so its name is known
    before looking; an existing file of that name is reused after checking that its content
    still hashes to its name, and a tampered file is an error (never silently replaced).
    ``exclude`` (the test split) must share no video with the subset.
    """
    ann_file = Path(ann_file)
    source = ann_file.read_bytes()
    entries = read_annotations(str(ann_file))
    subset = balanced_subset(entries, fraction, seed)
    if exclude is not None:
        held_out = {path for path, _ in read_annotations(str(exclude))}
        shared = sorted({path for path, _ in subset} & held_out)
        if shared:
            raise UserError(f'{ann_file} and {exclude} share videos (e.g. {shared[0]}): a '
                            'label subset must be disjoint from the test split; fix the splits')
    header = (f'# class-balanced {fraction:g} subset of {ann_file.name} '
              f'(sha256 {hashlib.sha256(source).hexdigest()[:12]}), seed {seed}, per class '
              'max(1, round-half-up(fraction * n))\n')
    text = header + ''.join(f'{path} {label}\n' for path, label in subset)
    return write_hashed_text(out_dir, f'{ann_file.stem}-{fraction:g}-seed{seed}', text)


# --------------------------------------------------------------------------------------- model
@MODELS.register_module()
class FineTuneClassifier(BaseModel):
    """A method's ``extract_feat`` followed by a new linear head, trained with cross-entropy.

    Args:
        method: the method's model config (``model=dict(type=...)`` of its config file).
        num_classes: classes of the head.
        weights: the method's state dict (file of ``vssl_bench.engine.pretrain.save_weights``); None
            keeps the method's own initialisation (tests only).
        dropout: dropout before the head.

    Only the method's backbone is trained (``backbone.*`` parameters, the contract between
    methods and protocols); other modules of the method (projection heads, momentum encoders)
    are frozen and unused. Inputs: uint8-normalised (B, V, 3, T, H, W) or (B, 3, T, H, W).
    mode='loss' averages the cross-entropy over all B * V clips; mode='tensor' returns logits
    (B, V, C) or (B, C).
    """

    def __init__(self, method: dict, num_classes: int, weights: str | None = None,
                 dropout: float = 0.0, init_cfg: dict | None = None) -> None:
        encoder = build(MODELS, method)
        if weights is not None:
            encoder.load_state_dict(torch.load(weights, map_location='cpu', weights_only=True))
        super().__init__(data_preprocessor=encoder.data_preprocessor, init_cfg=init_cfg)
        self.encoder = encoder
        for name, param in encoder.named_parameters():
            param.requires_grad_(name.startswith('backbone.'))
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(int(encoder.feat_dim), num_classes)

    def init_weights(self) -> None:
        """The Runner calls this before training: the loaded backbone must stay as it is, and the
        head keeps its (seeded) construction-time initialisation."""

    def forward(self, inputs: torch.Tensor, data_samples: Any = None,
                mode: str = 'tensor') -> torch.Tensor | dict[str, torch.Tensor]:
        views = inputs.shape[1] if inputs.dim() == 6 else 1
        flat = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs
        logits = self.head(self.dropout(self.encoder.extract_feat(flat))).float()
        if mode == 'tensor':
            return logits.view(-1, views, logits.shape[-1]) if inputs.dim() == 6 else logits
        if mode == 'loss':
            labels = data_samples.view(-1).repeat_interleave(views)
            return {'loss_cls': F.cross_entropy(logits, labels),
                    'acc': (logits.argmax(1) == labels).float().mean()}
        raise ValueError(f"FineTuneClassifier got mode={mode!r}; it supports 'tensor' and 'loss'")


# -------------------------------------------------------------------------------------- runner
def finetune_runner_cfg(context: Any, ann_file: str | Path, num_classes: int, *, seed: int,
                        work_dir: Path, steps: int, batch_size: int, lr: float,
                        weight_decay: float, head_lr_mult: float, warmup_ratio: float,
                        augment: dict,
                        dtype: str | None, dropout: float, num_workers: int,
                        log_interval: int, progress_label: str | None = None) -> Config:
    """The Runner config of one fine-tuning run (``vssl_bench.engine.pretrain.runner_cfg``
    supplies the schedule, hooks and seeding shared with pretraining). ``batch_size`` is the
    global batch: under a distributed launcher each rank loads ``batch_size // world_size``.
    With ``progress_label`` the console shows the run's step and ETA every minute (a searched
    fine-tuning runs for minutes per schedule)."""
    view = context.view
    per_rank = max(1, batch_size // get_world_size())
    cfg = Config(dict(
        model=dict(type='FineTuneClassifier', method=context.method_cfg.model.to_dict(),
                   num_classes=num_classes, weights=str(context.weights), dropout=dropout),
        train_dataloader=dict(
            batch_size=per_rank, num_workers=num_workers, persistent_workers=num_workers > 0,
            # Batches keep their size whatever the subset's size: the sampler cycles through a
            # fresh seeded permutation of the videos.
            sampler=dict(type='InfiniteSampler', shuffle=True, seed=seed),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='VideoClipDataset', ann_file=str(ann_file),
                         data_root=context.data_root, **cache_kwargs(context),
                         sampler=dict(type='RandomClipSampler', clip_len=view['clip_len'],
                                      stride=view['stride'], num_clips=1),
                         transform=dict(type='ClipAugment', out_size=view['out_size'],
                                        **augment))),
        optim_wrapper=dict(type='AutocastOptimWrapper', dtype=dtype or 'float32',
                           enabled=dtype is not None,
                           optimizer=dict(type='AdamW', lr=lr, weight_decay=weight_decay),
                           # The new head starts from scratch; the backbone only adapts.
                           paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=head_lr_mult)}))))
    return pt.runner_cfg(cfg, work_dir=work_dir, seed=seed, max_iters=steps,
                         warmup_ratio=warmup_ratio, log_interval=log_interval,
                         launcher=context.launcher, checkpoints=0, resume=False,
                         progress_label=progress_label)


class ScoreAtSteps(Hook):
    """Calls ``score(model, step)`` after the training steps ``steps`` (1-based), on rank 0:
    the checkpoints of one fine-tuning run that a schedule search compares on validation.
    Every rank waits for rank 0 at the next step's gradient all-reduce."""

    priority = 'LOWEST'

    def __init__(self, steps: Sequence[int], score: Any) -> None:
        self.steps, self.score = {int(s) for s in steps}, score

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None,
                         outputs: Any = None) -> None:
        step = runner.iter + 1
        if step in self.steps and is_main_process():
            self.score(pt.unwrap(runner.model), step)


def finetune(context: Any, ann_file: str | Path, num_classes: int, *, seed: int,
             work_dir: Path, score_steps: Sequence[int] = (), score: Any = None,
             progress_label: str | None = None, **schedule: Any
             ) -> tuple[torch.nn.Module, float]:
    """Fine-tune on the videos of ``ann_file``; returns the trained model and its wall time
    (scoring included). With ``score``, ``score(model, step)`` runs after each step of
    ``score_steps`` (:class:`ScoreAtSteps`)."""
    cfg = finetune_runner_cfg(context, ann_file, num_classes, seed=seed, work_dir=work_dir,
                              progress_label=progress_label, **schedule)
    start = time.perf_counter()
    runner = pt.HarnessRunner.from_cfg(cfg)
    if score is not None:
        runner.register_hook(ScoreAtSteps(score_steps, score))
    runner.train()
    pt.release_data_workers(runner)
    return pt.unwrap(runner.model), time.perf_counter() - start


def predict_test_split(model: torch.nn.Module, context: Any,
                       dtype: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, C) softmax probabilities of the test videos, averaged over the suite's uniformly
    spaced clips (centre view), and their (N,) labels. Eval mode (BN statistics frozen), no
    gradients, under autocast to ``dtype`` (None: float32; softmax in float32 either way); the
    model's mode is restored."""
    dataset = build(DATASETS, dict(
        type='VideoClipDataset', ann_file=context.ann_files['test'], data_root=context.data_root,
        **cache_kwargs(context),
        sampler=dict(type='UniformClipSampler', clip_len=context.view['clip_len'],
                     stride=context.view['stride'], num_clips=context.view['num_clips']),
        transform=dict(type='CenterClip', out_size=context.view['out_size'])))
    loader = torch.utils.data.DataLoader(dataset, batch_size=context.batch_size, shuffle=False,
                                         num_workers=context.num_workers)
    was_training = model.training
    model.eval()
    probs, labels = [], []
    device = next(model.parameters()).device.type
    dtype = effective_dtype(dtype, device)
    with torch.no_grad(), torch.autocast(device, dtype=getattr(torch, dtype or 'float32'),
                                         enabled=dtype is not None):
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            logits = model(data['inputs'], mode='tensor')  # (B, K, C), float32
            probs.append(logits.softmax(-1).mean(1).cpu().numpy())
            labels.append(batch['data_samples'].view(-1).numpy())
    model.train(was_training)
    return np.concatenate(probs), np.concatenate(labels)


def failed_videos(ann_file: str | Path, context: Any) -> int:
    """Videos of ``ann_file`` left out because they cannot be decoded, as the frame cache
    counted them (0 without a cache: failures on demand are counted where they happen)."""
    if context.cache_dir is None:
        return 0
    from vssl_bench.data.video import FrameStore
    paths = [str(Path(context.data_root) / path)
             for path, _ in read_annotations(str(ann_file), with_label=False)]
    return len(FrameStore(paths, context.cache_dir, progress=False,
                          short_side=cache_kwargs(context).get('cache_short_side')).failed)


def cache_kwargs(context: Any) -> dict[str, Any]:
    """The dataset arguments of the context's frame cache (directory and short side)."""
    return suite_data.cache_kwargs({'cache_dir': context.cache_dir,
                                    'cache_short_side': getattr(context, 'cache_short_side',
                                                                None)})


def is_main_process() -> bool:
    return get_rank() == 0
