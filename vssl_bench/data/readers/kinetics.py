"""Kinetics-400/600/700 (Kay et al., 2017; Carreira et al., 2018): CSV annotations -> lists.

Layout (the official CSVs, clips cut and stored as most download scripts do)::

    <root>/annotations/train.csv, validate.csv (or val.csv)   (or directly in <root>)
        label,youtube_id,time_start,time_end,split
        abseiling,0347ZoDXyP0,14,24,train
    <root>/<split dir>/<label>/<youtube_id>_<time_start:06d>_<time_end:06d>.mp4

``<split dir>`` is the CSV's ``split`` value (``train``, ``val``, ...) unless ``split_dirs``
maps it elsewhere. A label folder may spell spaces as underscores (``air_drumming``); the
spelling found on disk is used. One list is written per ``split`` value, named after it
(``train.txt``, ``val.txt``). The class index is the sorted set of labels over all CSVs read.

Kinetics videos disappear from YouTube, so a real copy always lacks some clips: missing clips
are left out of the lists, counted per split (in the returned object and meta.json) and warned
about with a few examples, never fatal.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.readers.common import (DataSetLists, first_existing, register_reader,
                                            require_dir, require_file, write_lists)

COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end', 'split')
_GET = ('download the CSVs of your Kinetics version from '
        'https://github.com/cvdfoundation/kinetics-dataset (or deepmind.com) and put them there')


def clip_name(youtube_id: str, time_start: float, time_end: float) -> str:
    """File name of a clip: ``<youtube_id>_<start:06d>_<end:06d>.mp4`` (times in seconds)."""
    return f'{youtube_id}_{int(time_start):06d}_{int(time_end):06d}.mp4'


def _default_csvs(root: Path) -> list[Path]:
    folder = first_existing(root, ('annotations', '.'))
    found = [folder / 'train.csv']
    found.append(first_existing(folder, ('validate.csv', 'val.csv')))
    return found


@register_reader('kinetics', 'kinetics400', 'kinetics600', 'kinetics700')
def read_kinetics(root: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                  csv_files: Sequence[str | os.PathLike[str]] | None = None,
                  split_dirs: Mapping[str, str] | None = None,
                  check_exists: bool = True) -> DataSetLists:
    """Write one ``<split>.txt`` list per CSV ``split`` value into ``out_dir``.

    Args:
        root: Data-set root; clip paths in the lists are relative to it.
        out_dir: Folder for the lists.
        csv_files: Annotation CSVs (header ``label,youtube_id,time_start,time_end,split``);
            default ``train.csv`` and ``validate.csv``/``val.csv`` in ``root/annotations`` or
            ``root``.
        split_dirs: CSV split value -> folder under root (default: the value itself).
        check_exists: Leave out (count, warn about) clips missing on disk.
    """
    root = Path(root)
    require_dir(root, 'Kinetics root folder',
                'put <split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4 clips there')
    csvs = [Path(p) for p in csv_files] if csv_files else _default_csvs(root)
    rows: list[dict[str, str]] = []
    for path in csvs:
        require_file(path, 'Kinetics annotation CSV', _GET)
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            absent = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if absent:
                raise UserError(f'{path}: header {reader.fieldnames} lacks columns {absent}; '
                                f'expected {",".join(COLUMNS)} (test CSVs without labels '
                                f'cannot be used for evaluation)')
            for lineno, row in enumerate(reader, start=2):
                try:
                    float(row['time_start']), float(row['time_end'])
                except (TypeError, ValueError):
                    raise UserError(f'{path}:{lineno}: time_start/time_end must be numbers '
                                    f'(seconds), got {row["time_start"]!r}, '
                                    f'{row["time_end"]!r}') from None
                rows.append(row)
    classes = sorted({row['label'] for row in rows})
    index = {name: i for i, name in enumerate(classes)}
    dirs = dict(split_dirs or {})
    folder_of: dict[tuple[str, str], str] = {}  # (split dir, label) -> label folder on disk

    def label_folder(split_dir: str, label: str) -> str:
        key = (split_dir, label)
        if key not in folder_of:
            underscored = label.replace(' ', '_')
            folder_of[key] = (underscored if not (root / split_dir / label).is_dir()
                              and (root / split_dir / underscored).is_dir() else label)
        return folder_of[key]

    splits: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        split = row['split']
        split_dir = dirs.get(split, split)
        name = clip_name(row['youtube_id'], float(row['time_start']), float(row['time_end']))
        rel = f'{split_dir}/{label_folder(split_dir, row["label"])}/{name}'
        splits.setdefault(split, []).append((rel, index[row['label']]))
    if not splits:
        raise UserError(f'The Kinetics CSVs {[str(p) for p in csvs]} list no clips')
    meta = {'type': 'kinetics', 'csv_files': [str(p) for p in csvs], 'split_dirs': dirs}
    return write_lists(out_dir, root, splits, classes, meta, check_exists=check_exists,
                       source='Kinetics')
