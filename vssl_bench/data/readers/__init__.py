"""Readers of real video data sets: official layouts -> annotation lists for VideoClipDataset.

Each data set has one module here whose reader is registered under a ``type`` name with
:func:`~vssl_bench.data.readers.common.register_reader`; :func:`prepare_lists` dispatches on it:

==============  ============================================================================
type            official layout read (see each module's docstring)
==============  ============================================================================
``ucf101``      ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt``; splits 1-3
``hmdb51``      ``<class>_test_split<N>.txt`` (1 = train, 2 = test, 0 = unused); splits 1-3
``kinetics``    CSV ``label,youtube_id,time_start,time_end,split`` (Kinetics-400/600/700)
``list``        mmaction2 ``relative/path.mp4 label`` lists, validated and copied
==============  ============================================================================

Every reader writes, atomically, into ``out_dir``: one ``<split>.txt`` per split (lines
``relative/path label``, paths relative to the returned ``data_root``, labels 0-based ints),
``classes.txt`` (one class name per line, line k = label k) and, last, ``meta.json`` (type,
arguments, counts per split, missing videos). Videos listed by the annotations but absent on
disk are left out of the lists, counted and warned about, never fatal. Point a dataset at the
result with ``VideoClipDataset(ann_file=lists.ann_files['train'], data_root=lists.data_root)``.
"""
from __future__ import annotations

# Importing the modules registers their readers.
from vssl_bench.data.readers import hmdb51, kinetics, mmaction_list, ucf101  # noqa: E402,F401
from vssl_bench.data.readers.common import READERS, DataSetLists, prepare_lists, register_reader
from vssl_bench.data.readers.ucf101 import mean_over_splits  # noqa: E402

__all__ = ['READERS', 'DataSetLists', 'prepare_lists', 'register_reader', 'mean_over_splits']
