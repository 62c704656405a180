"""The feature cache shared by all work dirs, ``<work_root>/feature_cache/``: features of one
split keyed by the weights' bytes, the method's model config, the split's file list and data root,
and the view (see :func:`split_features`): linear, knn and retrieval of one checkpoint read the
same features."""
from __future__ import annotations

from pathlib import Path

import torch
from mmengine.logging import print_log

from vssl_bench.core.provenance import stable_hash
from vssl_bench.core.registry import DATASETS, build
from vssl_bench.data import pretrain_source, suite_data
from vssl_bench.data.dataset import read_annotations
from vssl_bench.data.video import files_fingerprint
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.features import (Features, extract_features, load_features, save_features,
                                        weights_digest)
from vssl_bench.harness.suite_config import Suite, ann_path


def eval_dataset(suite: Suite, split: str):
    view = suite.evaluation['view']
    return build(DATASETS, dict(
        type='VideoClipDataset', ann_file=ann_path(suite, split),
        data_root=suite_data.split_root(suite.data, split),
        **(pretrain_source.source_cache_kwargs(suite.data) if split == 'pretrain'
           else suite_data.cache_kwargs(suite.data)),
        sampler=dict(type='UniformClipSampler', clip_len=view['clip_len'],
                     stride=view['stride'], num_clips=view['num_clips']),
        transform=dict(type='CenterClip', out_size=view['out_size'])))


def feature_key(model: torch.nn.Module, model_cfg: dict, suite: Suite, split: str) -> str:
    """Cache key of one split's features: the weights' bytes (:func:`weights_digest`), the
    method's model config (the same weights in another architecture give other features), the
    split's file list, data root and videos (path, size, mtime: a regenerated data set under
    the same names is another key), and the evaluation view. Extraction batch size and workers
    are not part of it (they do not change the features); the frame cache's short side is
    (frames resized to it give other features)."""
    ann = ann_path(suite, split)
    root = Path(suite_data.split_root(suite.data, split))
    videos = [str(root / path) for path, _ in read_annotations(ann, with_label=False)]
    key = dict(weights=weights_digest(pt.unwrap(model)), model=model_cfg,
               view=suite.evaluation['view'], files=Path(ann).read_text(),
               data_root=str(root.resolve()), videos=files_fingerprint(videos))
    if suite.data.get('cache_short_side') is not None:  # absent: the keys of before stay valid
        key['cache_short_side'] = int(suite.data['cache_short_side'])
    return stable_hash(key, length=24)


def split_features(model: torch.nn.Module, model_cfg: dict, suite: Suite, split: str,
                   cache_root: Path, use_cache: bool = True) -> Features:
    """Features of one split, extracted once per (weights, model config, split, view) and cached
    in ``cache_root`` (shared by every work dir). ``use_cache=False`` neither reads nor writes
    the cache: the features are extracted afresh and kept in memory only."""
    path = None
    if use_cache:
        path = cache_root / f'{split}-{feature_key(model, model_cfg, suite, split)}.npz'
        if path.is_file():
            print_log(f'{split} features from cache {path}', logger='current')
            return load_features(path)
    print_log(f'extracting {split} features' + (f' -> {path}' if path else ' (cache bypassed)'),
              logger='current')
    feats = extract_features(model, eval_dataset(suite, split),
                             batch_size=suite.evaluation.get('batch_size', 32),
                             num_workers=suite.evaluation.get('num_workers', 0))
    if path is not None:
        save_features(feats, path)
    return feats
