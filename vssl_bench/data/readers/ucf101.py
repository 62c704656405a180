"""UCF101 (Soomro et al., 2012): official split files -> train/test lists.

Official layout (the ``UCF101.rar`` videos and ``UCF101TrainTestSplits-RecognitionTask.zip``)::

    <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi       videos (``videos/`` is accepted too)
    <root>/ucfTrainTestlist/classInd.txt               "1 ApplyEyeMakeup" ... (1-based)
    <root>/ucfTrainTestlist/trainlist0N.txt            "ApplyEyeMakeup/v_..._g08_c01.avi 1"
    <root>/ucfTrainTestlist/testlist0N.txt             "ApplyEyeMakeup/v_..._g01_c01.avi"
                                                       (``annotations/`` is accepted too)

Splits N = 1, 2, 3. Labels in the written lists are 0-based (classInd index - 1); test labels
come from the class folder of the path, looked up in classInd (case-insensitively, because
the official files spell ``HandstandPushups`` folders with ``v_HandStandPushups`` names).
Papers report split 1 or the mean over the 3 splits: :func:`mean_over_splits`.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.readers.common import (DataSetLists, first_existing, register_reader,
                                            require_dir, require_file, write_lists)

SPLITS = (1, 2, 3)
_GET = ('download UCF101.rar and UCF101TrainTestSplits-RecognitionTask.zip from '
        'https://www.crcv.ucf.edu/data/UCF101.php and extract them into the data-set root')


def read_class_index(path: Path) -> list[str]:
    """Class names from classInd.txt (``idx Name`` lines, idx 1..C in order): index 0-based."""
    names: dict[int, str] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[0].isdigit():
            raise UserError(f'{path}:{lineno}: expected "<1-based index> <ClassName>", '
                            f'got {raw!r}')
        names[int(parts[0])] = parts[1]
    if sorted(names) != list(range(1, len(names) + 1)):
        raise UserError(f'{path}: class indices must be 1..{len(names)} without gaps, got '
                        f'{sorted(names)[:5]}...; is this the official classInd.txt?')
    return [names[i] for i in range(1, len(names) + 1)]


@register_reader('ucf101')
def read_ucf101(root: str | os.PathLike[str], out_dir: str | os.PathLike[str], split: int = 1,
                videos_dir: str | os.PathLike[str] | None = None,
                ann_dir: str | os.PathLike[str] | None = None,
                check_exists: bool = True) -> DataSetLists:
    """Write ``train.txt`` / ``test.txt`` of official split ``split`` into ``out_dir``.

    Args:
        root: Data-set root holding ``UCF-101/`` and ``ucfTrainTestlist/``.
        out_dir: Folder for the lists (e.g. a cache folder; need not be inside root).
        split: Official split, 1, 2 or 3.
        videos_dir: Videos folder (default ``root/UCF-101``, else ``root/videos``).
        ann_dir: Split-file folder (default ``root/ucfTrainTestlist``, else
            ``root/annotations``).
        check_exists: Leave out (count, warn about) listed videos missing on disk.
    """
    if split not in SPLITS:
        raise UserError(f'UCF101 split must be one of {SPLITS}, got {split!r}')
    root = Path(root)
    videos = Path(videos_dir) if videos_dir else first_existing(root, ('UCF-101', 'videos'))
    anns = Path(ann_dir) if ann_dir else first_existing(root, ('ucfTrainTestlist', 'annotations'))
    require_dir(videos, 'UCF101 videos folder', f'put the <Class>/v_<Class>_gXX_cYY.avi videos '
                f'there ({_GET}), or pass videos_dir')
    require_dir(anns, 'UCF101 split-file folder', f'put classInd.txt, trainlist0N.txt and '
                f'testlist0N.txt there ({_GET}), or pass ann_dir')
    fix = f'put the official file there ({_GET})'
    classes = read_class_index(require_file(anns / 'classInd.txt', 'UCF101 classInd.txt', fix))
    by_name = {name.lower(): i for i, name in enumerate(classes)}

    def label_of_folder(path: str, where: str) -> int:
        folder = path.split('/')[0]
        if '/' not in path or folder.lower() not in by_name:
            raise UserError(f'{where}: class folder {folder!r} of {path!r} is not in '
                            f'classInd.txt; expected "<Class>/v_<Class>_gXX_cYY.avi"')
        return by_name[folder.lower()]

    train_file = require_file(anns / f'trainlist{split:02d}.txt', 'UCF101 train list', fix)
    train = []
    for lineno, raw in enumerate(train_file.read_text().splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        where = f'{train_file}:{lineno}'
        if len(parts) != 2 or not parts[1].isdigit():
            raise UserError(f'{where}: expected "<Class>/<video>.avi <1-based label>", '
                            f'got {raw!r}')
        label = int(parts[1]) - 1
        if label != label_of_folder(parts[0], where):
            raise UserError(f'{where}: label {parts[1]} disagrees with the class folder of '
                            f'{parts[0]!r} in classInd.txt; are the files from one release?')
        train.append((parts[0], label))
    test_file = require_file(anns / f'testlist{split:02d}.txt', 'UCF101 test list', fix)
    test = []
    for lineno, raw in enumerate(test_file.read_text().splitlines(), start=1):
        parts = raw.split()
        if parts:
            test.append((parts[0], label_of_folder(parts[0], f'{test_file}:{lineno}')))
    meta = {'type': 'ucf101', 'split': split, 'videos_dir': str(videos), 'ann_dir': str(anns)}
    return write_lists(out_dir, videos, {'train': train, 'test': test}, classes, meta,
                       check_exists=check_exists, source=f'UCF101 split {split}')


def mean_over_splits(per_split: Mapping[int, Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over splits: ``{1: {'top1': 80.0}, 2: {...}, 3: {...}} -> {'top1': m}``.

    Metrics are in the units given (percent in this harness). Every split must report the same
    metrics, and all values must be finite: a mean over a different set of splits per metric
    would not be the "mean of 3 splits" papers report.
    """
    if not per_split:
        raise ValueError('mean_over_splits needs at least one split, got none')
    metrics = [sorted(m) for m in per_split.values()]
    if any(m != metrics[0] for m in metrics):
        raise ValueError('Every split must report the same metrics, got '
                         + ', '.join(f'split {s}: {sorted(m)}' for s, m in per_split.items()))
    out = {}
    for metric in metrics[0]:
        values = [float(m[metric]) for m in per_split.values()]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f'Non-finite {metric} in splits: {values}')
        out[metric] = sum(values) / len(values)
    return out
