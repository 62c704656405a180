"""A validation split carved from the train split, so that choices (fine-tuning schedules) are
made without looking at the test split.

Each class gives ``val_count(n, fraction)`` of its ``n`` train videos to validation, drawn from
``(seed, class)``; the rest of the train split ("train-minus-val") is what a selection run may
train on. Both lists are written to a shared folder under content-hashed names and reused, so
every method of a suite sees the same split.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import write_hashed_text
from vssl_bench.data.dataset import read_annotations

#: Extra word of the random stream, so the validation draw of a seed is independent of the
#: label-subset draw of the same seed (``vssl_bench.engine.finetuning.balanced_subset``).
_STREAM = 0x7A1


def val_count(num_videos: int, fraction: float) -> int:
    """Videos of a class of ``num_videos`` that go to validation: round(fraction * n), halves
    rounded up, at least 1, and at most n - 1 (one video stays for training)."""
    if num_videos < 2:
        raise UserError(f'a validation split needs >= 2 train videos per class, got {num_videos}')
    return int(min(num_videos - 1, max(1, np.floor(fraction * num_videos + 0.5))))


def split_validation(entries: Sequence[tuple[str, int]], fraction: float,
                     seed: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(train-minus-val, val) of (path, label) entries, each in the order of ``entries``.

    Class-stratified: each class gives :func:`val_count` of its videos, the first ones of a
    permutation drawn from ``(seed, class)``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'validation fraction must be in (0, 1), got {fraction}')
    labels = np.array([label for _, label in entries])
    if len(labels) == 0 or (labels < 0).any():
        raise UserError('a validation split needs labelled videos')
    val: set[int] = set()
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        order = np.random.default_rng([int(seed), int(cls), _STREAM]).permutation(len(members))
        val.update(members[order[:val_count(len(members), fraction)]].tolist())
    rest = [e for i, e in enumerate(entries) if i not in val]
    return rest, [e for i, e in enumerate(entries) if i in val]


def validation_files(ann_file: str | Path, fraction: float, seed: int, out_dir: str | Path,
                     exclude: str | Path | None = None) -> tuple[Path, Path]:
    """Write (or reuse) the train-minus-val and val lists of ``ann_file``; return their paths.

    Files are ``<out_dir>/<split>-minusval<fraction>-seed<seed>-<hash>.txt`` and
    ``<split>-val<fraction>-seed<seed>-<hash>.txt`` in the annotation-file format with a ``#``
    header (see :func:`vssl_bench.core.io.write_hashed_text`). ``exclude`` (the test split) must
    share no video with ``ann_file``.
    """
    ann_file = Path(ann_file)
    entries = read_annotations(str(ann_file))
    if exclude is not None:
        shared = sorted({p for p, _ in entries} & {p for p, _ in read_annotations(str(exclude))})
        if shared:
            raise UserError(f'{ann_file} and {exclude} share videos (e.g. {shared[0]}): a '
                            'validation split must be disjoint from the test split')
    rest, val = split_validation(entries, fraction, seed)
    source = hashlib.sha256(ann_file.read_bytes()).hexdigest()[:12]
    paths = []
    for part, chosen in (('minusval', rest), ('val', val)):
        header = (f'# {part} part of the class-stratified {fraction:g} validation split of '
                  f'{ann_file.name} (sha256 {source}), seed {seed}, per class '
                  'min(n - 1, max(1, round-half-up(fraction * n))) to val\n')
        text = header + ''.join(f'{path} {label}\n' for path, label in chosen)
        paths.append(write_hashed_text(out_dir, f'{ann_file.stem}-{part}{fraction:g}-seed{seed}',
                                       text))
    return paths[0], paths[1]
