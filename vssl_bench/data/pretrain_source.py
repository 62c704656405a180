"""Pretraining on another generated data set: ``data.pretrain_data`` of a SynthMotion,
SynthEvents or SynthInteract suite (pretrain on A, evaluate on B: transfer).

::

    data = dict(type='synthevents', root='data/synthevents',
                pretrain_data=dict(type='synthmotion', root='data/synthmotion'))

The methods pretrain on the source's ``pretrain.txt`` (its ``scale`` and ``seed`` default to
``'default'`` and 0, its frame cache to ``<source root>/.frame_cache`` when the suite caches
frames); the protocols read the suite's own ``train.txt`` and ``test.txt``. Real data sets take
their source through their reader instead (:mod:`vssl_bench.data.suite_data`).

The pretraining of such a suite is, by construction, the pretraining of a suite on the source
itself: :func:`pretraining_data` gives the ``data`` section that suite would have, and the
pretrain hash (:func:`vssl_bench.harness.run_records.pretrain_hash`) covers that, not the evaluation
data set. So a method pretrained once on SynthMotion serves every data set it is evaluated on.
"""
from __future__ import annotations

import copy
from pathlib import Path

from vssl_bench.core.errors import UserError
from vssl_bench.data import procedural, suite_data

#: Keys of a generated ``pretrain_data``.
SOURCE_KEYS = ('type', 'root', 'scale', 'seed', 'cache_dir', 'cache_short_side')
#: What a generated source's omitted keys mean (the generator's own defaults).
SOURCE_DEFAULTS = dict(scale='default', seed=0)


def is_generated_transfer(data: dict) -> bool:
    """True when a generated data set's suite pretrains on another generated data set."""
    return procedural.is_generated(data.get('type')) and data.get('pretrain_data') is not None


def declare(data: dict, where: str = 'suite') -> dict:
    """A copy of ``data`` whose generated ``pretrain_data`` is complete (defaults filled in, the
    frame cache placed beside the source) and whose ``pretrain_root`` is the source's root, so
    that the pretrain list is read there (:func:`vssl_bench.data.suite_data.split_root`).
    Refuses a source the harness could not pretrain on. No disk access; idempotent."""
    source = data.get('pretrain_data')
    if source is None or suite_data.is_reader_data(data):
        return data  # no source, or a real data set's (its reader's business)
    if not procedural.is_generated(data.get('type')):
        raise UserError(f'{where}: data.pretrain_data needs a generated data set (data.type in '
                        f'{list(procedural.GENERATED)}) or a reader type '
                        f'({sorted(suite_data.DEFAULT_SPLITS)}); for your own lists point '
                        "data.splits.pretrain at the source's list instead")
    if not isinstance(source, dict) or not procedural.is_generated(source.get('type')):
        raise UserError(f'{where}: data.pretrain_data={source!r} must be another generated data '
                        f"set, e.g. dict(type='synthmotion', root='data/synthmotion'); known "
                        f'types: {", ".join(procedural.GENERATED)}')
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown or not isinstance(source.get('root'), str) or not source['root'].strip():
        raise UserError(f'{where}: data.pretrain_data takes {", ".join(SOURCE_KEYS)} and needs a '
                        f'root folder, e.g. root=\'data/{source["type"]}\' (got {source!r})')
    out = copy.deepcopy(data)
    full = dict(SOURCE_DEFAULTS, **source)
    if data.get('cache_dir') is not None:
        full.setdefault('cache_dir', str(Path(full['root']) / '.frame_cache'))
    full.setdefault('cache_dir', None)
    out['pretrain_data'] = full
    out['pretrain_root'] = full['root']
    return out


def pretraining_data(data: dict) -> dict:
    """The ``data`` section of a suite on the pretraining source itself: ``data`` unchanged
    without a generated source, else the source with this suite's split names (the generated
    ones, checked by :mod:`vssl_bench.harness.validate_data`)."""
    if not is_generated_transfer(data):
        return data
    source = data['pretrain_data']
    out = {key: value for key, value in source.items() if key != 'cache_short_side'}
    out['splits'] = dict(data['splits'])
    if source.get('cache_short_side') is not None:
        out['cache_short_side'] = source['cache_short_side']
    return out


def source_cache_kwargs(data: dict) -> dict:
    """The frame-cache arguments of the pretraining dataset (the source's cache)."""
    return suite_data.cache_kwargs(pretraining_data(data))
