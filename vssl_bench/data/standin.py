"""Stand-ins of real data sets made from tiny SynthMotion, for smoke runs (``--smoke``).

:func:`make_standin` lays the tiny SynthMotion videos out as the official layout a reader
expects, so a suite's data config runs through the real reader:

- ``ucf101``: ``UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` + ``ucfTrainTestlist/classInd.txt``,
  ``trainlist0N.txt`` (1-based labels), ``testlist0N.txt`` for N = 1, 2, 3 (the same lists).
- ``hmdb51``: ``hmdb51/<class>/<class>_<i>.avi`` + ``testTrainMulti_7030_splits/
  <class>_test_split<N>.txt`` (tag 1 = train, 2 = test).
- ``kinetics`` (any version): ``annotations/train.csv``, ``validate.csv`` and
  ``<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4``; the first validation clip is
  listed but deliberately not written, so the missing-clip accounting runs too.

SynthMotion's ``train`` split becomes the stand-in's train split and ``test`` its test split
(12 classes, 36 + 24 videos). The ``.avi`` files hold SynthMotion's H.264/MP4 bytes unchanged:
the decoder (ffmpeg via PyAV) probes the content, not the file extension.
"""
from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data.dataset import read_annotations
from vssl_bench.data.synthmotion import CLASSES, generate

TYPES = ('ucf101', 'hmdb51', 'kinetics', 'kinetics400', 'kinetics600', 'kinetics700')


def _camel(name: str) -> str:
    return ''.join(part.capitalize() for part in name.split('_'))


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        shutil.copyfile(src, dst)


def _entries(synth: Path, split: str) -> list[tuple[Path, int]]:
    return [(synth / path, label) for path, label in read_annotations(str(synth / f'{split}.txt'))]


def _ucf101(synth: Path, out: Path) -> None:
    names = [_camel(c) for c in CLASSES]
    anns = out / 'ucfTrainTestlist'
    anns.mkdir(parents=True, exist_ok=True)
    (anns / 'classInd.txt').write_text(''.join(f'{i + 1} {n}\n' for i, n in enumerate(names)))
    lines: dict[str, list[str]] = {'train': [], 'test': []}
    for split in lines:
        for i, (src, label) in enumerate(_entries(synth, split)):
            cls = names[label]
            rel = f'{cls}/v_{cls}_g{i // 4 + 1:02d}_c{i % 4 + 1:02d}.avi'
            _copy(src, out / 'UCF-101' / rel)
            lines[split].append(f'{rel} {label + 1}\n' if split == 'train' else f'{rel}\n')
    for n in (1, 2, 3):
        (anns / f'trainlist{n:02d}.txt').write_text(''.join(lines['train']))
        (anns / f'testlist{n:02d}.txt').write_text(''.join(lines['test']))


def _hmdb51(synth: Path, out: Path) -> None:
    per_class: dict[str, list[str]] = {c: [] for c in CLASSES}
    for split, tag in (('train', 1), ('test', 2)):
        for i, (src, label) in enumerate(_entries(synth, split)):
            cls = CLASSES[label]
            name = f'{cls}_{split}_{i}.avi'
            _copy(src, out / 'hmdb51' / cls / name)
            per_class[cls].append(f'{name} {tag}\n')
    anns = out / 'testTrainMulti_7030_splits'
    anns.mkdir(parents=True, exist_ok=True)
    for cls, lines in per_class.items():
        for n in (1, 2, 3):
            (anns / f'{cls}_test_split{n}.txt').write_text(''.join(lines))


def _kinetics(synth: Path, out: Path) -> None:
    (out / 'annotations').mkdir(parents=True, exist_ok=True)
    for split, csv_split, name in (('train', 'train', 'train.csv'),
                                   ('test', 'val', 'validate.csv')):
        rows = []
        for i, (src, label) in enumerate(_entries(synth, split)):
            youtube_id = f'{split}{i:07d}'  # 11 characters, like a YouTube id
            rows.append((CLASSES[label], youtube_id, 0, 10, csv_split))
            if not (split == 'test' and i == 0):  # one listed clip missing on purpose
                _copy(src, out / csv_split / CLASSES[label] / f'{youtube_id}_000000_000010.mp4')
        with open(out / 'annotations' / name, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(('label', 'youtube_id', 'time_start', 'time_end', 'split'))
            writer.writerows(rows)


def make_standin(type: str, out: str | os.PathLike[str],
                 synth_root: str | os.PathLike[str]) -> Path:
    """Write the stand-in of data-set ``type`` (see module docstring) into ``out`` from the tiny
    SynthMotion at ``synth_root`` (generated there if missing); return ``out``. Idempotent."""
    if type not in TYPES:
        raise UserError(f'no smoke stand-in for data type {type!r}; stand-ins exist for '
                        f'{TYPES} (SynthMotion and plain lists use tiny SynthMotion directly)')
    synth = generate(synth_root, scale='tiny', seed=0, progress=False)
    out = Path(out)
    done = out / '.standin_complete'
    if not done.is_file():
        {'ucf101': _ucf101, 'hmdb51': _hmdb51}.get(type, _kinetics)(synth, out)
        done.write_text('1\n')
    return out
