"""A suite: methods x seeds, each pretrained under the same compute budget and evaluated by the
same protocols on the same features, written as one JSON record per (method, seed, protocol).

Every record holds the protocol's metrics and, where the protocol gives them, the per-test-video
hits of each metric (``per_video``, see :mod:`benchmark.hits`), from which the leaderboard
bootstraps its confidence intervals.

Re-running a suite skips finished work: records whose config hash and protocol version match are
kept (whether or not they hold ``per_video``), trained weights and extracted features are reused,
and an interrupted pretraining resumes from its last mmengine checkpoint.

Features live in a cache shared by all work dirs, ``<work_root>/feature_cache/``, keyed by the
weights' bytes, the method's model config, the split's file list and data root, and the view
(see :func:`split_features`): linear, knn and retrieval of one checkpoint read the same features.
Model protocols (semisup, finetune) get a :class:`~benchmark.protocols.base.ModelContext` instead.
"""
from __future__ import annotations

import contextlib
import copy
import time
import traceback
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dist import barrier, get_rank
from mmengine.logging import print_log

from benchmark import backbone_policy, checkpoints, lock, orphans
from benchmark import pretrain as pt
from benchmark.budget import Budget
from benchmark.data import suite_data
from benchmark.data.dataset import read_annotations
from benchmark.data.video import files_fingerprint
from benchmark.features import (Features, extract_features, load_features, save_features,
                                weights_digest)
from benchmark.hits import encode
from benchmark.io import atomic_write_json, read_json
from benchmark.leaderboard import write_leaderboard
from benchmark.protocols import ModelContext, build_protocol
from benchmark.provenance import provenance, stable_hash
from benchmark.registry import DATASETS, build, load_plugins

SUITE_KEYS = ('suite_name', 'data', 'methods', 'seeds', 'pretrain', 'evaluation')


@dataclass
class Suite:
    """What ``configs/suites/*.py`` declares (see ``configs/suites/synthmotion.py``)."""

    name: str
    path: str
    data: dict
    #: ``{'config': path, 'name': str | None, 'overrides': dict}`` per method (see :func:`method_entry`)
    methods: list[dict]
    seeds: list[int]
    pretrain: dict
    evaluation: dict
    method_overrides: dict = field(default_factory=dict)
    #: The architecture every method is built on (``model.backbone``; see
    #: :mod:`benchmark.backbone_policy`); None: whatever the methods share.
    backbone: dict | None = None
    #: Named overrides of ``backbone``, each with its own RandomInit row.
    backbone_variants: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path, data_root: str | None = None) -> 'Suite':
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'suite config {path} not found: suites live in '
                                    'configs/suites/ (e.g. configs/suites/synthmotion.py)')
        cfg = Config.fromfile(str(path))
        missing = [k for k in SUITE_KEYS if k not in cfg]
        if missing:
            raise pt.ConfigError(f'suite {path} lacks {missing}; a suite declares '
                                 f'{", ".join(SUITE_KEYS)}')
        data = cfg.data.to_dict()
        if data_root is not None:
            data['root'] = data_root
        data.setdefault('cache_dir', str(Path(data['root']) / '.frame_cache'))
        data = suite_data.declare(data, where=str(path))  # UCF101 / HMDB51 / Kinetics readers
        methods = [method_entry(m, path) for m in cfg.methods]
        pretrain = cfg.pretrain.to_dict()
        if 'budget' not in pretrain:
            raise pt.ConfigError(
                f'suite {path}: pretrain needs a budget, e.g. pretrain=dict(budget=dict('
                f"unit='train_flops', value=2e15)); units: train_flops, device_seconds, epochs "
                f'(got pretrain keys {sorted(pretrain)})')
        Budget.from_cfg(pretrain['budget'], where=f'{path}: pretrain.budget')
        backbone = backbone_policy.load_suite_backbone(
            cfg.get('backbone'), where=f'suite {path}', resolve=lambda p: _resolve(p, path))
        variants = cfg.get('backbone_variants', {})
        return cls(name=cfg.suite_name, path=str(path), data=data, methods=methods,
                   seeds=[int(s) for s in cfg.seeds], pretrain=pretrain,
                   evaluation=cfg.evaluation.to_dict(),
                   method_overrides=cfg.get('method_overrides', {}).to_dict()
                   if 'method_overrides' in cfg else {}, backbone=backbone,
                   backbone_variants=variants.to_dict() if hasattr(variants, 'to_dict')
                   else dict(variants))

    @property
    def budget(self) -> Budget:
        return Budget.from_cfg(self.pretrain['budget'])

    def scaled(self, factor: float) -> 'Suite':
        """The same suite at ``factor`` times its budget (a point of a budget sweep)."""
        pretrain = dict(self.pretrain, budget=self.budget.scaled(factor).to_dict())
        return dataclasses.replace(self, pretrain=pretrain)


def method_entry(method: str | dict, suite_path: Path) -> dict:
    """A suite's ``methods`` item: a method config path, or, for ablations, ``dict(config=path,
    name='CVRL-uniform', overrides=dict(...))``: the same method config under another name with
    some settings changed (merged after the suite's ``method_overrides``); ``backbone_variant=``
    builds it on one of the suite's ``backbone_variants`` (see :mod:`benchmark.backbone_policy`)."""
    if isinstance(method, str):
        return dict(config=str(_resolve(method, suite_path)), name=None, overrides={},
                    backbone_variant=None)
    method = dict(method)
    unknown = set(method) - {'config', 'name', 'overrides', 'backbone_variant'}
    if 'config' not in method or unknown:
        raise pt.ConfigError(f'suite {suite_path}: a methods item is a config path or dict('
                             f'config=..., name=..., overrides=..., backbone_variant=...); got '
                             f'{method!r}')
    overrides = method.get('overrides') or {}
    return dict(config=str(_resolve(method['config'], suite_path)), name=method.get('name'),
                overrides=overrides.to_dict() if hasattr(overrides, 'to_dict') else overrides,
                backbone_variant=method.get('backbone_variant'))


def _resolve(method: str, suite_path: Path) -> Path:
    """Method paths are relative to the working directory or to the repository of the suite
    (configs/suites/x.py -> the folder holding configs/)."""
    candidate = Path(method)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return suite_path.resolve().parents[2] / method


def ensure_data(suite: Suite) -> None:
    """Generate SynthMotion when the suite uses it and it is missing; run the reader of a real
    data set (see :mod:`benchmark.data.suite_data`); check the annotation files."""
    suite_data.prepare(suite.data)
    root = Path(suite.data['root'])
    if suite.data.get('type') == 'synthmotion':
        from benchmark.data.synthmotion import generate
        generate(root, scale=suite.data.get('scale', 'default'), seed=suite.data.get('seed', 0))
    for split, ann in suite.data['splits'].items():
        if not (root / ann).is_file():
            raise FileNotFoundError(f'{split} annotation file {root / ann} not found: put the data '
                                    'set there or pass --data-root (see README, "Data")')


def generated_data_version(data: dict) -> dict:
    """What a generated data set's ``meta.json`` says about its content (SynthMotion: scale,
    seed and generator version), so that weights trained on a regenerated data set of another
    version are not taken for this one's; {} for other data sets (their lists are in ``data``)."""
    if data.get('type') != 'synthmotion':
        return {}
    meta = read_json(Path(data['root']) / 'meta.json')
    return {key: meta.get(key) for key in ('dataset', 'scale', 'seed', 'version')}


def pretrain_hash(suite: Suite, cfg: Config) -> str:
    """Identity of a (method, suite) pretraining: the method config, the suite's pretraining and
    data sections, and the generated data set's version. Names the work dir: weights are reused
    only under the same hash, and a change of the evaluation alone keeps them."""
    return stable_hash(dict(method=cfg.to_dict(), pretrain=suite.pretrain, data=suite.data,
                            generated=generated_data_version(suite.data)))


def run_config_hash(suite: Suite, cfg: Config) -> str:
    """Identity of a (method, suite) run: what :func:`pretrain_hash` covers plus the suite's
    evaluation. Written into every record; a record is current only under the same hash."""
    return stable_hash(dict(method=cfg.to_dict(), pretrain=suite.pretrain,
                            evaluation=suite.evaluation, data=suite.data,
                            generated=generated_data_version(suite.data)))


def load_method_config(entry: str | dict, suite: Suite) -> Config:
    """Method config + the suite's overrides + the entry's own overrides and name (see
    :func:`method_entry`) + the suite's data location."""
    if isinstance(entry, str):
        entry = dict(config=entry, name=None, overrides={}, backbone_variant=None)
    path = entry['config']
    if not Path(path).is_file():
        raise FileNotFoundError(f'method config {path} (listed in {suite.path}) not found')
    # custom_imports are imported by check_method_config, whose error names the module and the fix
    cfg = Config.fromfile(path, import_custom_modules=False)
    pt.check_method_config(cfg, path)
    if suite.method_overrides or entry['overrides']:
        cfg.merge_from_dict(copy.deepcopy(suite.method_overrides))
        cfg.merge_from_dict(copy.deepcopy(entry['overrides']))
        pt.check_method_config(cfg, f'{path} with the overrides of {suite.path}')
    if suite.backbone is not None:  # the method may not change it; the suite's variant may
        backbone_policy.enforce(cfg.model, suite.backbone, where=f'{path} (in suite {suite.path})')
        cfg.model.backbone = backbone_policy.variant_backbone(
            suite.backbone, suite.backbone_variants, entry.get('backbone_variant'),
            where=f'suite {suite.path}')
    if 'train_dataloader' in cfg:
        cfg.merge_from_dict({
            'train_dataloader.dataset.data_root': suite_data.split_root(suite.data, 'pretrain'),
            'train_dataloader.dataset.ann_file': ann_path(suite, 'pretrain'),
            'train_dataloader.dataset.cache_dir': suite.data['cache_dir']})
    cfg.method_name = entry['name'] or cfg.get('method_name', cfg.model.type)
    return cfg


def ann_path(suite: Suite, split: str) -> str:
    return str(Path(suite.data['root']) / suite.data['splits'][split])


def eval_dataset(suite: Suite, split: str):
    view = suite.evaluation['view']
    return build(DATASETS, dict(
        type='VideoClipDataset', ann_file=ann_path(suite, split),
        data_root=suite_data.split_root(suite.data, split), cache_dir=suite.data['cache_dir'],
        sampler=dict(type='UniformClipSampler', clip_len=view['clip_len'],
                     stride=view['stride'], num_clips=view['num_clips']),
        transform=dict(type='CenterClip', out_size=view['out_size'])))


def feature_key(model: torch.nn.Module, model_cfg: dict, suite: Suite, split: str) -> str:
    """Cache key of one split's features: the weights' bytes (:func:`weights_digest`), the
    method's model config (the same weights in another architecture give other features), the
    split's file list, data root and videos (path, size, mtime: a regenerated data set under
    the same names is another key), and the evaluation view. Extraction batch size and workers
    are not part of it (they do not change the features)."""
    ann = ann_path(suite, split)
    root = Path(suite_data.split_root(suite.data, split))
    videos = [str(root / path) for path, _ in read_annotations(ann, with_label=False)]
    return stable_hash(dict(
        weights=weights_digest(pt.unwrap(model)), model=model_cfg, view=suite.evaluation['view'],
        files=Path(ann).read_text(), data_root=str(root.resolve()),
        videos=files_fingerprint(videos)), length=24)


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


def _record_is_current(path: Path, config_hash: str, protocol) -> bool:
    if not path.is_file():
        return False
    try:
        rec = read_json(path)
    except (OSError, ValueError):
        return False
    return (rec.get('config_hash') == config_hash
            and rec.get('protocol_version') == protocol.version)


def _write_record(path: Path, record: dict) -> Path:
    atomic_write_json(path, record)
    print_log(f'{record["method"]} seed {record["seed"]} {record["protocol"]}: '
              f'{record["metrics"]}', logger='current')
    return path


def run_work_dir(suite: Suite, cfg: Config, seed: int, work_root: Path) -> Path:
    """Work dir of one (method, seed): its weights (``final_weights.pth``) and scratch space,
    named by the method and :func:`pretrain_hash`, not by the suite: an evaluation change keeps
    the weights, and suites that train the same method config under the same budget on the same
    data (the default and the standard suite, the ablations' unchanged rows) share them."""
    return (Path(work_root) / 'pretrain' / f'{cfg.method_name}-{pretrain_hash(suite, cfg)[:8]}'
            / f'seed{seed}')


def model_context(suite: Suite, cfg: Config, work: Path, out: Path,
                  launcher: str = 'none') -> ModelContext:
    """What model protocols get about the checkpoint in ``work`` (label subsets go to
    ``out/subsets``, shared by the suite's methods)."""
    return ModelContext(
        method_cfg=cfg, weights=work / 'final_weights.pth', data_root=suite.data['root'],
        cache_dir=suite.data['cache_dir'],
        ann_files={split: ann_path(suite, split) for split in suite.data['splits']},
        view=suite.evaluation['view'], work_dir=work, subset_dir=Path(out) / 'subsets',
        batch_size=suite.evaluation.get('batch_size', 32),
        num_workers=suite.evaluation.get('num_workers', 0), launcher=launcher)


def run_method_seed(suite: Suite, cfg: Config, method_path: str, seed: int, out: Path,
                    work_root: Path, launcher: str = 'none', use_cache: bool = True) -> list[Path]:
    """Pretrain (or reuse), run the pending model protocols (fine-tuning), extract features (or
    read them from the cache) and evaluate the pending feature protocols."""
    name = cfg.method_name
    config_hash = run_config_hash(suite, cfg)
    work = run_work_dir(suite, cfg, seed, work_root)
    records_dir = out / 'runs' / name / f'seed{seed}'
    protocols = [build_protocol(p) for p in suite.evaluation['protocols']]
    weights, stats_path = work / 'final_weights.pth', work / 'pretrain_stats.json'
    # Records are skipped only when this machine also holds the weights they came from: on a
    # fresh clone the committed records are recomputed (and overwritten), not trusted.
    pending = [p for p in protocols if not weights.is_file()
               or not _record_is_current(records_dir / f'{p.name}.json', config_hash, p)]
    if not pending:
        print_log(f'{name} seed {seed}: all records current, skipped', logger='current')
        return []

    model_cls = pt.MODELS.get(cfg.model.type)
    if get_rank() == 0:  # weights without readable stats: an unfinished run, trained again
        checkpoints.finished_stats(weights, stats_path)
    barrier()
    if weights.is_file():
        model = pt.load_weights(pt.build_model(cfg), weights)
        stats = read_json(stats_path)
    elif model_cls.trainable:
        model, stats = pt.pretrain(cfg, work_dir=work, seed=seed, launcher=launcher,
                                   **suite.pretrain)
        atomic_write_json(stats_path, stats)  # stats first: the weights mark a finished run
        pt.save_weights(model, weights)
        checkpoints.prune(work)  # the resumable checkpoints are not needed any more
    else:
        model = pt.init_untrained(cfg, seed)
        stats = dict(budget=suite.budget.to_dict(), matched=suite.budget.matched, iters=0,
                     train_tflops=0.0, epochs=0.0, clips_seen=0, wall_s=0.0, device_s=0.0,
                     untrained=True, num_failed=0)
        atomic_write_json(stats_path, stats)  # stats first: the weights mark a finished run
        pt.save_weights(model, weights)
    barrier()  # the weights file is complete before any rank fine-tunes from it

    def record(protocol, metrics: dict, evaluation: dict, start: float) -> dict:
        per_video = getattr(protocol, 'last_per_video', None) or {}
        return dict(
            suite=suite.name, method=name, method_config=method_path, config_hash=config_hash,
            seed=seed, protocol=protocol.name, protocol_version=protocol.version,
            metrics={k: round(float(v), 4) for k, v in metrics.items()}, pretrain=stats,
            **({'data': suite.data['lists']} if 'lists' in suite.data else {}),
            evaluation=dict(view=suite.evaluation['view'], **evaluation,
                            protocol_info=getattr(protocol, 'last_info', None)),
            **({'per_video': {k: encode(v) for k, v in per_video.items() if k in metrics}}
               if per_video else {}),
            eval_wall_s=round(time.perf_counter() - start, 3), provenance=provenance())

    written = []
    # Model protocols train: under a distributed launcher every rank takes part, rank 0 scores.
    context = model_context(suite, cfg, work, out, launcher)
    for protocol in (p for p in pending if p.needs_model):
        start = time.perf_counter()
        metrics = protocol.evaluate_model(context, seed=seed)
        if get_rank() == 0:
            failed = getattr(protocol, 'last_num_failed', None)  # videos left out
            written.append(_write_record(records_dir / f'{protocol.name}.json', record(
                protocol, metrics, {'num_failed': failed} if failed is not None else {}, start)))
    if get_rank() != 0:  # under a distributed launcher only rank 0 evaluates features
        return []

    feature_protocols = [p for p in pending if not p.needs_model]
    if not feature_protocols:
        return written
    feats = {split: split_features(model, cfg.model.to_dict(), suite, split,
                                   work_root / 'feature_cache', use_cache)
             for split in ('train', 'test')}
    for protocol in feature_protocols:
        start = time.perf_counter()
        metrics = protocol.evaluate(feats['train'], feats['test'], seed=seed)
        evaluation = dict(num_train=len(feats['train'].labels),
                          num_test=len(feats['test'].labels),
                          num_failed=dict(train=feats['train'].num_failed,
                                          test=feats['test'].num_failed))
        written.append(_write_record(records_dir / f'{protocol.name}.json',
                                     record(protocol, metrics, evaluation, start)))
    return written


def run_suite(suite: Suite, out: Path | None = None, work_root: Path = Path('work_dirs'),
              methods: list[str] | None = None, seeds: list[int] | None = None,
              launcher: str = 'none', use_cache: bool = True) -> tuple[dict | None, list[str]]:
    """:func:`_run_suite` holding the results folder's lock (a second run into the same folder
    is refused, see :mod:`benchmark.lock`), after removing the temporary files of killed runs."""
    out = Path(out) if out is not None else Path('results') / suite.name
    pt.init_distributed(launcher)
    with contextlib.ExitStack() as held:
        if get_rank() == 0:
            held.enter_context(lock.hold(out, purpose='writes results'))
            orphans.sweep_stale_temps(out, Path(work_root), Path(suite.data['cache_dir']))
        return _run_suite(suite, out, work_root, methods, seeds, launcher, use_cache)


def _run_suite(suite: Suite, out: Path | None = None, work_root: Path = Path('work_dirs'),
               methods: list[str] | None = None, seeds: list[int] | None = None,
               launcher: str = 'none', use_cache: bool = True) -> tuple[dict | None, list[str]]:
    """Run every (method, seed) of the suite; a failing one is reported, the others go on.

    ``use_cache=False`` bypasses the shared feature cache (see :func:`split_features`).

    Returns the leaderboard (None on ranks other than 0 under a distributed launcher) and the
    list of failures ('method seed N: error').
    """
    load_plugins()
    out = Path(out) if out is not None else Path('results') / suite.name
    pt.init_distributed(launcher)
    if get_rank() == 0:  # one process writes the data set and the frame caches
        ensure_data(suite)
    barrier()
    # Real data sets: every rank reads the lists' root and counts written by rank 0's reader.
    suite = dataclasses.replace(suite, data=suite_data.resolve(suite.data))
    if get_rank() == 0:
        for split in suite.data['splits']:
            eval_dataset(suite, split)
    barrier()
    cfgs = [(entry['config'], load_method_config(entry, suite)) for entry in suite.methods]
    backbone_policy.check_shared(
        [(cfg.method_name, entry.get('backbone_variant'), cfg.model.type,
          cfg.model.get('backbone')) for entry, (_, cfg) in zip(suite.methods, cfgs)],
        where=f'suite {suite.path}')
    backbone = _backbone_summary(suite, cfgs)
    names = [cfg.method_name for _, cfg in cfgs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise pt.ConfigError(f'suite {suite.path} lists {repeated} more than once: give each '
                             "variant its own name (dict(config=..., name='CVRL-uniform', ...))")
    if methods:
        unknown = sorted(set(methods) - set(names))
        if unknown:
            raise ValueError(f'--methods {unknown} not in suite {suite.name}; '
                             f'its methods are {names}')
        cfgs = [(p, c) for p, c in cfgs if c.method_name in methods]
    failures = []
    for path, cfg in cfgs:
        for seed in seeds or suite.seeds:
            try:
                run_method_seed(suite, cfg, path, seed, out, Path(work_root), launcher,
                                use_cache)
            except Exception as exc:  # one failing method must not lose the others' results
                failures.append(f'{cfg.method_name} seed {seed}: {type(exc).__name__}: {exc}')
                print_log(traceback.format_exc(), logger='current', level=40)
    if get_rank() != 0:
        return None, failures
    board = write_leaderboard(out, suite.name, method_order=names,
                              extra=dict(backbone=backbone,
                                         pretrain=suite.pretrain, evaluation=suite.evaluation,
                                         **({'data': suite.data['lists']}
                                            if 'lists' in suite.data else {})))
    return board, failures


def _backbone_summary(suite: Suite, cfgs: list[tuple[str, Config]]) -> dict:
    """The backbone every row was built on, the suite's variants and which row uses which."""
    shared = suite.backbone
    if shared is None and cfgs:
        shared = backbone_policy.plain(cfgs[0][1].model.get('backbone'))
    variant_of = {cfg.method_name: entry['backbone_variant']
                  for entry, (_, cfg) in zip(suite.methods, cfgs) if entry.get('backbone_variant')}
    return dict(shared=shared, variants=suite.backbone_variants, variant_of=variant_of)
