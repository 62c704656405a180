"""Real data sets in a suite: run the data set's reader and map the suite's splits onto its lists.

A suite's ``data`` is either SynthMotion / plain lists (``root`` + ``splits`` of annotation files
relative to ``root``, unchanged) or one of the reader types of :mod:`vssl_bench.data.readers`::

    data = dict(type='ucf101', root='data/ucf101', split=1)            # official split 1
    data = dict(type='hmdb51', root='data/hmdb51', split=1,
                # pretraining on another data set (TCLR: UCF101 split-1 train, then HMDB51)
                pretrain_data=dict(type='ucf101', root='data/ucf101', split=1))
    data = dict(type='kinetics', root='data/kinetics600', version=600)

Optional keys: ``splits`` (suite split -> reader list name, defaults in :data:`DEFAULT_SPLITS`:
UCF101 / HMDB51 pretrain = train, train = train, test = test; Kinetics pretrain = train,
train = train, test = val), ``lists_dir`` (where the lists go, default
``<root>/.vssl_lists/<tag>``, e.g. ``split1``) and the reader's own arguments (``videos_dir``,
``ann_dir``, ``csv_files``, ``split_dirs``, ``check_exists``). ``version`` (Kinetics) names the
lists folder and is checked against the number of classes read (a warning, not an error).

The rest of the harness sees an ordinary data dict: :func:`declare` (at load time, no disk
access) sets ``splits`` to the absolute paths of the lists the reader will write;
:func:`prepare` (rank 0, before a run) runs the reader(s); :func:`resolve` (every rank, after)
sets ``root`` to the folder the list paths are relative to (``pretrain_root`` for a
``pretrain_data`` source) and ``lists`` to what the reader(s) found: counts and missing videos
per split, which the run records and the leaderboard carry.
"""
from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

from vssl_bench.core.errors import UserError
from vssl_bench.data.readers import prepare_lists

#: Suite split -> reader list name, per reader type.
DEFAULT_SPLITS = {
    'ucf101': dict(pretrain='train', train='train', test='test'),
    'hmdb51': dict(pretrain='train', train='train', test='test'),
    'kinetics': dict(pretrain='train', train='train', test='val'),
}
for _version in (400, 600, 700):
    DEFAULT_SPLITS[f'kinetics{_version}'] = DEFAULT_SPLITS['kinetics']
#: Keys of a data dict that belong to the harness, not to the reader.
HARNESS_KEYS = ('type', 'root', 'splits', 'lists_dir', 'version', 'cache_dir',
                'cache_short_side', 'pretrain_data', 'pretrain_root', 'lists', 'source_root')
SUITE_SPLITS = ('pretrain', 'train', 'test')


def is_reader_data(data: dict) -> bool:
    """True when ``data`` names a reader type (UCF101, HMDB51, Kinetics) rather than lists."""
    return data.get('type') in DEFAULT_SPLITS


def _tag(data: dict) -> str:
    if 'split' in data:
        return f'split{data["split"]}'
    if 'version' in data:
        return f'v{data["version"]}'
    return 'default'


def lists_dir(data: dict) -> Path:
    """Folder of the reader's lists: ``lists_dir`` or ``<root>/.vssl_lists/<type>-<tag>``."""
    if data.get('lists_dir'):
        return Path(data['lists_dir'])
    return Path(data.get('source_root', data['root'])) / '.vssl_lists' / \
        f'{data["type"]}-{_tag(data)}'


def _split_map(data: dict, where: str) -> dict[str, str]:
    splits = dict(DEFAULT_SPLITS[data['type']], **(data.get('splits') or {}))
    unknown = set(splits) - set(SUITE_SPLITS)
    if unknown:
        raise UserError(f'{where}: data.splits maps suite splits {SUITE_SPLITS} onto reader '
                        f'lists; unknown suite split(s) {sorted(unknown)}')
    return splits


def declare(data: dict, where: str = 'suite') -> dict:
    """A copy of ``data`` whose ``splits`` are the absolute paths of the lists to be written
    (suite split -> ``<lists_dir>/<list>.txt``). No disk access; idempotent."""
    if not is_reader_data(data):
        return data
    out = copy.deepcopy(data)
    out.setdefault('source_root', out['root'])
    # After a first declare, ``splits`` holds paths and ``list_names`` the reader's list names.
    names = dict(data['list_names']) if 'list_names' in data else _split_map(data, where)
    out['list_names'] = names
    source = out.get('pretrain_data')
    if source is not None:
        if not is_reader_data(source):
            raise UserError(f'{where}: data.pretrain_data must name a reader type '
                            f'{sorted(DEFAULT_SPLITS)}, got {source.get("type")!r}')
        source = dict(source)
        source.setdefault('source_root', source['root'])
        out['pretrain_data'] = source
    splits = {}
    for split, name in names.items():
        if split == 'pretrain' and source is not None:
            name = _split_map(source, where)['pretrain']
            splits[split] = str((lists_dir(source) / f'{name}.txt').resolve())
        else:
            splits[split] = str((lists_dir(out) / f'{name}.txt').resolve())
    out['splits'] = splits
    return out


def _reader_kwargs(data: dict) -> dict[str, Any]:
    kwargs = {k: v for k, v in data.items() if k not in HARNESS_KEYS + ('list_names',)}
    kwargs['root'] = data.get('source_root', data['root'])
    return kwargs


def _prepare_one(data: dict) -> None:
    lists = prepare_lists(data['type'], lists_dir(data), **_reader_kwargs(data))
    version = data.get('version')
    if version is not None and len(lists.classes) != int(version):
        warnings.warn(f'{data["type"]} data at {lists.data_root} has {len(lists.classes)} '
                      f'classes, but the suite says version={version}: check the CSVs '
                      f'(csv_files) or the version', RuntimeWarning, stacklevel=3)
    if lists.num_missing:
        print(f'{data["type"]}: {lists.num_missing} listed videos missing on disk, left out '
              f'(per split: {lists.missing}); recorded in {lists.out_dir}/meta.json and in '
              'every run record')


def prepare(data: dict) -> None:
    """Run the reader(s) of a declared data dict (see :func:`declare`) into their lists folders.
    Raises FileNotFoundError naming the missing folder or file and where to get it."""
    if not is_reader_data(data):
        return
    _prepare_one(data)
    if data.get('pretrain_data'):
        _prepare_one(data['pretrain_data'])


def _meta(data: dict) -> dict:
    path = lists_dir(data) / 'meta.json'
    if not path.is_file():
        raise FileNotFoundError(f'lists of the {data["type"]} data set not found at {path}: '
                                'run the suite (it runs the reader first), or check lists_dir')
    return json.loads(path.read_text())


def _summary(data: dict, meta: dict) -> dict:
    return dict(type=data['type'], root=str(data.get('source_root', data['root'])),
                lists_dir=str(lists_dir(data)), data_root=meta['data_root'],
                num_classes=meta['num_classes'], counts=meta['counts'],
                missing=meta['missing'], missing_examples=meta['missing_examples'],
                **({'version': data['version']} if 'version' in data else {}),
                **({'split': data['split']} if 'split' in data else {}))


def resolve(data: dict) -> dict:
    """The declared data dict after :func:`prepare`: ``root`` = the folder the list paths are
    relative to, ``pretrain_root`` likewise for a ``pretrain_data`` source, ``lists`` = counts
    and missing videos per data set (recorded in every run record)."""
    if not is_reader_data(data):
        return data
    out = dict(data)
    meta = _meta(data)
    out['root'] = meta['data_root']
    out['lists'] = {'eval': _summary(data, meta)}
    if data.get('pretrain_data'):
        source_meta = _meta(data['pretrain_data'])
        out['pretrain_root'] = source_meta['data_root']
        out['lists']['pretrain'] = _summary(data['pretrain_data'], source_meta)
    return out


def split_root(data: dict, split: str) -> str:
    """Folder the paths of ``split``'s list are relative to."""
    if split == 'pretrain' and data.get('pretrain_root'):
        return data['pretrain_root']
    return data['root']


def cache_kwargs(data: dict) -> dict[str, Any]:
    """``VideoClipDataset`` arguments of the suite's frame cache: ``cache_dir`` (None: no cache,
    every sample decodes just its frames) and, when the suite sets ``cache_short_side``, that
    short side (one file per video at that size: real data sets of any resolution fit). The key
    is left out when unset, so the hashes of suites without it do not change."""
    kwargs = {'cache_dir': data.get('cache_dir')}
    if data.get('cache_short_side') is not None:
        kwargs['cache_short_side'] = int(data['cache_short_side'])
    return kwargs
