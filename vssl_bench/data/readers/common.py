"""Shared parts of the data-set readers: registration, dispatch, validated atomic list writing."""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, atomic_write_text

# type name -> reader function; filled by the @register_reader decorator of each module.
READERS: dict[str, Callable[..., 'DataSetLists']] = {}
MAX_EXAMPLES = 5  # missing videos named in warnings and meta.json


def register_reader(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a reader function under one or more ``type`` names."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            if name in READERS:
                raise KeyError(f'Data-set reader type {name!r} is registered twice')
            READERS[name] = fn
        return fn
    return wrap


@dataclass
class DataSetLists:
    """What a reader wrote.

    Attributes:
        data_root: Directory the paths in the lists are relative to (VideoClipDataset's
            ``data_root``).
        ann_files: Split name -> path of its ``relative/path label`` list.
        classes: Class names; label k is ``classes[k]``.
        counts: Split name -> number of videos written to its list.
        missing: Split name -> number of annotated videos not found on disk (left out).
        missing_examples: Up to MAX_EXAMPLES missing paths (relative to data_root) per split.
        out_dir: Folder holding the lists, classes.txt and meta.json.
    """

    data_root: str
    ann_files: dict[str, str]
    classes: list[str]
    counts: dict[str, int]
    missing: dict[str, int] = field(default_factory=dict)
    missing_examples: dict[str, list[str]] = field(default_factory=dict)
    out_dir: str = ''

    @property
    def num_missing(self) -> int:
        """Missing videos over all splits."""
        return sum(self.missing.values())


def prepare_lists(type: str, out_dir: str | os.PathLike[str], **kwargs: Any) -> DataSetLists:
    """Run the reader registered as ``type`` and write its lists into ``out_dir``.

    ``kwargs`` are the reader's own arguments (e.g. ``root``, ``split``); see its module.
    """
    if type not in READERS:
        raise KeyError(f'Unknown data-set reader type {type!r}; known: {sorted(READERS)}. '
                       f'Use one of those, or register a reader with @register_reader.')
    return READERS[type](out_dir=out_dir, **kwargs)


def require_file(path: Path, what: str, fix: str) -> Path:
    """Return ``path`` if it is a file, else raise FileNotFoundError naming it and the fix."""
    if not path.is_file():
        raise FileNotFoundError(f'{what} not found at {str(path)!r}: {fix}')
    return path


def require_dir(path: Path, what: str, fix: str) -> Path:
    """Return ``path`` if it is a directory, else raise FileNotFoundError naming it and the fix."""
    if not path.is_dir():
        raise FileNotFoundError(f'{what} not found at {str(path)!r}: {fix}')
    return path


def first_existing(root: Path, candidates: Sequence[str]) -> Path:
    """The first of ``root/candidate`` that exists, else ``root/candidates[0]``."""
    for name in candidates:
        if (root / name).exists():
            return root / name
    return root / candidates[0]


def write_lists(out_dir: str | os.PathLike[str], data_root: Path,
                splits: dict[str, list[tuple[str, int]]], classes: Sequence[str],
                meta: dict[str, Any], check_exists: bool = True,
                source: str = '') -> DataSetLists:
    """Write ``<split>.txt`` lists, ``classes.txt`` and ``meta.json`` (last) atomically.

    Args:
        out_dir: Folder for the files; created if needed.
        data_root: Directory the (relative) paths refer to.
        splits: Split name -> (relative path, 0-based label) entries, in the order to write.
        classes: Class names, index = label.
        meta: Reader type and arguments, stored in meta.json.
        check_exists: Leave out (and count) entries whose file is not under data_root.
        source: Data-set name for the warning about missing videos.

    Raises:
        ValueError: a split would be empty, a label is outside [0, len(classes)), or a path
            contains a line break.
    """
    out = Path(out_dir)
    ann_files, counts, missing, examples = {}, {}, {}, {}
    for split, entries in splits.items():
        kept, lost = [], []
        for path, label in entries:
            if not 0 <= label < len(classes):
                raise UserError(f'{source} {split}: label {label} of {path!r} is outside '
                                f'[0, {len(classes)}); check the class index file')
            if '\n' in path or '\r' in path:
                raise UserError(f'{source} {split}: path {path!r} contains a line break')
            if check_exists and not (data_root / path).is_file():
                lost.append(path)
            else:
                kept.append((path, label))
        if lost:
            shown = ', '.join(lost[:MAX_EXAMPLES])
            warnings.warn(f'{source} {split}: {len(lost)} of {len(entries)} annotated videos '
                          f'are missing under {str(data_root)!r} and are left out of the list; '
                          f'e.g. {shown}', RuntimeWarning, stacklevel=3)
        if not kept:
            raise UserError(f'{source} {split}: none of the {len(entries)} annotated videos '
                            f'was found under {str(data_root)!r}; check the videos folder '
                            f'(first expected: {entries[0][0] if entries else "-"})')
        ann = out / f'{split}.txt'
        atomic_write_text(ann, ''.join(f'{p} {label}\n' for p, label in kept))
        ann_files[split], counts[split] = str(ann), len(kept)
        missing[split], examples[split] = len(lost), lost[:MAX_EXAMPLES]
    atomic_write_text(out / 'classes.txt', ''.join(f'{c}\n' for c in classes))
    result = DataSetLists(data_root=str(data_root), ann_files=ann_files, classes=list(classes),
                          counts=counts, missing=missing, missing_examples=examples,
                          out_dir=str(out))
    atomic_write_json(out / 'meta.json', {
        **meta, 'data_root': str(data_root), 'num_classes': len(classes), 'counts': counts,
        'missing': missing, 'missing_examples': examples})
    return result
