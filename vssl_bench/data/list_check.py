"""The annotation lists of a plain-list suite (``data = dict(root=..., splits=...)``, no reader)
checked before anything is cached or trained: a bad label or a repeated video would otherwise give
a run that finishes with wrong numbers (a label of 999 among 12 classes scores top-1 0.0).

Labels are 0-based class indices. ``<root>/classes.txt`` (one class name per line, line k =
label k), when present, fixes the number of classes; without it the labels must run 0..N-1 with
every class in the train list. No video may be listed twice in a list, nor in both the train
and the test list (pretraining may reuse train videos).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.dataset import read_annotations

CLASSES_FILE = 'classes.txt'


def check_lists(root: str | Path, splits: dict[str, str], where: str) -> None:
    """Check the lists of ``splits`` (suite split -> list file relative to ``root``) that exist
    (a missing one is reported where the data is prepared)."""
    root = Path(root)
    entries = {split: read_annotations(str(root / ann)) for split, ann in splits.items()
               if (root / ann).is_file()}
    classes = _classes(root)
    for split, items in entries.items():
        ann = root / splits[split]
        for path, label in items:
            if label < 0 or (classes is not None and label >= len(classes)):
                allowed = f'0..{len(classes) - 1} ({root / CLASSES_FILE} names {len(classes)} ' \
                          'classes)' if classes is not None else '0-based class indices'
                raise UserError(f'{where}: {ann}: label {label} of {path!r} is not a class: '
                                f'labels are {allowed}; fix the list'
                                + ('' if classes is None or label < 0 else
                                   f' or add the missing class names to {CLASSES_FILE}'))
        repeated = [p for p, n in Counter(p for p, _ in items).items() if n > 1]
        if repeated:
            raise UserError(f'{where}: {ann} lists {repeated[0]!r} more than once ({len(repeated)} '
                            'repeated video(s)): list each video once')
    if 'train' in entries and 'test' in entries:
        shared = sorted({p for p, _ in entries['train']} & {p for p, _ in entries['test']})
        if shared:
            raise UserError(f'{where}: {shared[0]!r} is in both the train list '
                            f'({root / splits["train"]}) and the test list ({len(shared)} '
                            'shared video(s)): a test video may not be trained on; fix the lists')
    if classes is None and 'train' in entries:
        _check_dense(entries, root / splits['train'], where)


def _classes(root: Path) -> list[str] | None:
    path = root / CLASSES_FILE
    if not path.is_file():
        return None
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _check_dense(entries: dict[str, list[tuple[str, int]]], train: Path, where: str) -> None:
    """Without classes.txt the number of classes is the largest label + 1: every class below it
    must have training videos (a label of 999 among 12 classes would make 1000 classes)."""
    labels = {label for items in entries.values() for _, label in items}
    trained = {label for _, label in entries['train']}
    absent = sorted(set(range(max(labels) + 1)) - trained) if labels else []
    if absent:
        raise UserError(f'{where}: labels run up to {max(labels)} but classes {_ranges(absent)} '
                        f'have no video in the train list {train}: number the classes 0..N-1, '
                        f'or name them in {CLASSES_FILE} beside the lists')


def _ranges(values: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7' (at most 5 ranges shown)."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    text = ', '.join(f'{a}-{b}' if a != b else f'{a}' for a, b in runs[:5])
    return text + (', ...' if len(runs) > 5 else '')
