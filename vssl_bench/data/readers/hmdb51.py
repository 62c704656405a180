"""HMDB51 (Kuehne et al., 2011): official per-class split files -> train/test lists.

Official layout (``hmdb51_org.rar`` with one rar per class, and ``test_train_splits.rar``)::

    <root>/hmdb51/<class>/<video>.avi                     videos (``videos/`` accepted too)
    <root>/testTrainMulti_7030_splits/<class>_test_split<N>.txt
                                                          (``annotations/`` accepted too)

Each split file has lines ``<video>.avi <tag>`` with tag 1 = train, 2 = test, 0 = unused
(70/30 per class). Class names are taken from the split files' names, and the class index is
their sorted order (label 0 = first name alphabetically), as in mmaction2's lists.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.readers.common import (DataSetLists, first_existing, register_reader,
                                            require_dir, write_lists)

SPLITS = (1, 2, 3)
_TAGS = {'1': 'train', '2': 'test'}
_GET = ('download hmdb51_org.rar and test_train_splits.rar from '
        'https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/ and '
        'extract them (each class rar into <videos>/<class>/)')


@register_reader('hmdb51')
def read_hmdb51(root: str | os.PathLike[str], out_dir: str | os.PathLike[str], split: int = 1,
                videos_dir: str | os.PathLike[str] | None = None,
                ann_dir: str | os.PathLike[str] | None = None,
                check_exists: bool = True) -> DataSetLists:
    """Write ``train.txt`` / ``test.txt`` of official split ``split`` into ``out_dir``.

    Args:
        root: Data-set root holding ``hmdb51/`` and ``testTrainMulti_7030_splits/``.
        out_dir: Folder for the lists.
        split: Official split, 1, 2 or 3.
        videos_dir: Videos folder (default ``root/hmdb51``, else ``root/videos``).
        ann_dir: Split-file folder (default ``root/testTrainMulti_7030_splits``, else
            ``root/annotations``).
        check_exists: Leave out (count, warn about) listed videos missing on disk.
    """
    if split not in SPLITS:
        raise UserError(f'HMDB51 split must be one of {SPLITS}, got {split!r}')
    root = Path(root)
    videos = Path(videos_dir) if videos_dir else first_existing(root, ('hmdb51', 'videos'))
    anns = Path(ann_dir) if ann_dir else first_existing(
        root, ('testTrainMulti_7030_splits', 'annotations'))
    require_dir(videos, 'HMDB51 videos folder',
                f'put the <class>/<video>.avi videos there ({_GET}), or pass videos_dir')
    require_dir(anns, 'HMDB51 split-file folder',
                f'put the <class>_test_split<N>.txt files there ({_GET}), or pass ann_dir')
    pattern = re.compile(rf'^(.+)_test_split{split}\.txt$')
    files = {m.group(1): anns / name for name in os.listdir(anns)
             if (m := pattern.match(name))}
    if not files:
        raise FileNotFoundError(f'No HMDB51 split files <class>_test_split{split}.txt in '
                                f'{str(anns)!r}: put the official split files there ({_GET})')
    classes = sorted(files)
    splits: dict[str, list[tuple[str, int]]] = {'train': [], 'test': []}
    for label, name in enumerate(classes):
        path = files[name]
        for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                raise UserError(f'{path}:{lineno}: expected "<video>.avi <0|1|2>", got {raw!r}')
            if parts[1] in _TAGS:
                splits[_TAGS[parts[1]]].append((f'{name}/{parts[0]}', label))
    meta = {'type': 'hmdb51', 'split': split, 'videos_dir': str(videos), 'ann_dir': str(anns)}
    return write_lists(out_dir, videos, splits, classes, meta, check_exists=check_exists,
                       source=f'HMDB51 split {split}')
