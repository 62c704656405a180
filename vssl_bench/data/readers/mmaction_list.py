"""mmaction2 annotation lists (``relative/path.mp4 label`` per line): validated passthrough.

For a data set already converted to mmaction2's VideoDataset lists (e.g. by mmaction2's own
tools). Each list is parsed (every line must carry an integer label), labels are checked to be
in [0, num_classes), and the entries are rewritten into ``out_dir/<split>.txt`` with missing
videos left out, counted and warned about, like the other readers.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.dataset import read_annotations
from vssl_bench.data.readers.common import (DataSetLists, register_reader, require_dir,
                                            require_file, write_lists)


@register_reader('list')
def read_list(root: str | os.PathLike[str], out_dir: str | os.PathLike[str],
              ann_files: Mapping[str, str | os.PathLike[str]],
              classes_file: str | os.PathLike[str] | None = None,
              check_exists: bool = True) -> DataSetLists:
    """Validate and copy mmaction2 lists.

    Args:
        root: Directory the list paths are relative to (mmaction2's ``data_prefix``).
        out_dir: Folder for the lists.
        ann_files: Split name -> list file, e.g. ``{'train': 'train.txt', 'test': 'test.txt'}``.
        classes_file: One class name per line (line k = label k); without it classes are named
            ``'0' .. str(max label)``.
        check_exists: Leave out (count, warn about) listed videos missing on disk.
    """
    root = Path(root)
    require_dir(root, 'Videos folder', 'put the videos the lists refer to there, or pass root')
    if not ann_files:
        raise UserError('ann_files is empty: pass split name -> list file, e.g. '
                        "{'train': 'train.txt'}")
    splits = {}
    for split, path in ann_files.items():
        require_file(Path(path), f'Annotation list of split {split!r}',
                     'write "relative/path.mp4 label" lines there (mmaction2 format)')
        splits[split] = read_annotations(str(path), with_label=True)
    if classes_file is not None:
        fix = 'write one class name per line there (line k = label k)'
        classes = [line.strip() for line in
                   require_file(Path(classes_file), 'Classes file', fix).read_text().splitlines()
                   if line.strip()]
    else:
        top = max((label for entries in splits.values() for _, label in entries), default=-1)
        classes = [str(i) for i in range(top + 1)]
    meta = {'type': 'list', 'ann_files': {k: str(v) for k, v in ann_files.items()},
            'classes_file': None if classes_file is None else str(classes_file)}
    return write_lists(out_dir, root, splits, classes, meta, check_exists=check_exists,
                       source='List')
