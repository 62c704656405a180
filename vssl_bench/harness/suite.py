"""A suite: methods x seeds, each pretrained under the same compute budget and evaluated by the
same protocols on the same features, written as one JSON record per (method, seed, protocol).

Every record holds the protocol's metrics and, where the protocol gives them, the per-test-video
hits of each metric (``per_video``, see :mod:`vssl_bench.core.hits`), from which the leaderboard
bootstraps its confidence intervals.

Re-running a suite skips finished work: records whose config hash and protocol version match are
kept (whether or not they hold ``per_video``), trained weights and extracted features are reused,
and an interrupted pretraining resumes from its last mmengine checkpoint.

Where the rest lives: the suite's config and the method configs as it runs them in
:mod:`vssl_bench.harness.suite_config`, the run hashes and records in
:mod:`vssl_bench.harness.run_records`, the feature cache shared by all work dirs in
:mod:`vssl_bench.harness.feature_cache`. Model protocols (semisup, finetune) get a
:class:`~vssl_bench.protocols.base.ModelContext` instead.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
import traceback
from pathlib import Path

from mmengine.config import Config
from mmengine.dist import barrier, get_rank
from mmengine.logging import MMLogger, print_log

from vssl_bench.core import console, lock, orphans
from vssl_bench.core.errors import ConfigError, UserError
from vssl_bench.core.hits import encode
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.core.names import STATS_FILE, WEIGHTS_FILE
from vssl_bench.core.provenance import provenance
from vssl_bench.core.records import RunRecord
from vssl_bench.core.results_dir import default_results
from vssl_bench.data import pretrain_source, procedural, suite_data
from vssl_bench.engine import checkpoints
from vssl_bench.engine import pretrain as pt
from vssl_bench.harness import backbone_policy
from vssl_bench.harness.ablation_spec import check_names
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.feature_cache import eval_dataset, split_features
from vssl_bench.harness.run_records import (record_is_current, run_config_hash, run_dirs,
                                            run_work_dir, write_record)
from vssl_bench.harness.suite_config import Suite, ann_path, load_method_config
from vssl_bench.protocols import ModelContext, ProtocolResult, build_protocol
from vssl_bench.report.leaderboard import write_leaderboard

__all__ = ['Suite', 'ensure_data', 'load_method_config', 'model_context', 'run_method_seed',
           'run_suite']


def ensure_data(suite: Suite) -> None:
    """Generate a generated data set (SynthMotion, SynthEvents, SynthInteract:
    :mod:`vssl_bench.data.procedural`) when the suite uses it and it is missing; run the reader of
    a real data set (see :mod:`vssl_bench.data.suite_data`); check the annotation files."""
    suite_data.prepare(suite.data)
    sources = [suite.data] + ([suite.data['pretrain_data']]
                              if pretrain_source.is_generated_transfer(suite.data) else [])
    for data in sources:  # the data set, and a generated pretraining source
        if procedural.is_generated(data.get('type')):
            procedural.generate(procedural.get(data['type']), Path(data['root']),
                                scale=data.get('scale', 'default'), seed=data.get('seed', 0))
    for split in suite.data['splits']:
        ann = Path(ann_path(suite, split))
        if not ann.is_file():
            raise FileNotFoundError(f'{split} annotation file {ann} not found: put the data '
                                    'set there or pass --data-root (see docs/guide.md, "Real '
                                    'data and GPUs")')


def model_context(suite: Suite, cfg: Config, work: Path, out: Path,
                  launcher: str = 'none') -> ModelContext:
    """What model protocols get about the checkpoint in ``work`` (label subsets go to
    ``out/subsets``, shared by the suite's methods)."""
    return ModelContext(
        method_cfg=cfg, weights=work / WEIGHTS_FILE, data_root=suite.data['root'],
        cache_dir=suite.data['cache_dir'], cache_short_side=suite.data.get('cache_short_side'),
        ann_files={split: ann_path(suite, split) for split in suite.data['splits']},
        view=suite.evaluation['view'], work_dir=work, subset_dir=Path(out) / 'subsets',
        batch_size=suite.evaluation.get('batch_size', 32),
        num_workers=suite.evaluation.get('num_workers', 0), launcher=launcher)


def run_method_seed(suite: Suite, cfg: Config, method_path: str, seed: int, out: Path,
                    work_root: Path, launcher: str = 'none', use_cache: bool = True,
                    only: list[str] | None = None) -> list[Path]:
    """Pretrain (or reuse), run the pending model protocols (fine-tuning), extract features (or
    read them from the cache) and evaluate the pending feature protocols. ``only``: names of
    the suite's protocols to consider (None: all); the others' records are left alone."""
    name = cfg.method_name
    config_hash = run_config_hash(suite, cfg)
    work = run_work_dir(suite, cfg, seed, work_root)
    records_dir = out / 'runs' / name / f'seed{seed}'
    protocols = [p for p in map(build_protocol, suite.evaluation['protocols'])
                 if only is None or p.name in only]
    weights, stats_path = work / WEIGHTS_FILE, work / STATS_FILE
    # Records are skipped only when this machine also holds the weights they came from: on a
    # fresh clone the committed records are recomputed (and overwritten), not trusted.
    pending = [p for p in protocols if not weights.is_file()
               or not record_is_current(records_dir / f'{p.name}.json', config_hash, p)]
    if not pending:
        console.line(f'{name} seed {seed}: all records current, skipped')
        return []

    with contextlib.ExitStack() as held:
        if get_rank() == 0 and not (weights.is_file() and stats_path.is_file()):
            # One run pretrains a (method, seed) at a time: another run with the same work dir
            # (another --out) waits here, then finds the weights (vssl_bench/core/lock.py).
            held.enter_context(lock.hold(work, wait=True, notify=console.line,
                                         purpose=f'pretrains {name} seed {seed}'))
        model, stats = _weights(suite, cfg, work, seed, launcher)
    barrier()  # the weights file is complete before any rank fine-tunes from it

    def record(protocol, result: ProtocolResult, evaluation: dict, start: float) -> RunRecord:
        metrics, per_video = result.metrics, result.per_video
        extra = {**({'data': suite.data['lists']} if 'lists' in suite.data else {}),
                 **_source_entry(suite),
                 **({'weights_from': dict(cfg.weights_from)} if 'weights_from' in cfg else {})}
        return RunRecord(
            suite=suite.name, method=name, method_config=method_path, config_hash=config_hash,
            seed=seed, protocol=protocol.name, protocol_version=protocol.version,
            metrics={k: round(float(v), 4) for k, v in metrics.items()}, pretrain=stats,
            evaluation=dict(view=suite.evaluation['view'], **evaluation,
                            protocol_info=result.info),
            per_video={k: encode(v) for k, v in per_video.items() if k in metrics}
            if per_video else None,
            eval_wall_s=round(time.perf_counter() - start, 3), provenance=provenance(),
            extra=extra)

    written = []
    # Model protocols train: under a distributed launcher every rank takes part, rank 0 scores.
    context = model_context(suite, cfg, work, out, launcher)
    for protocol in (p for p in pending if p.needs_model):
        start = time.perf_counter()
        result = protocol.evaluate_model(context, seed=seed)
        if get_rank() == 0:
            check_result(protocol, result)
            failed = result.num_failed  # videos left out
            written.append(write_record(records_dir / f'{protocol.name}.json', record(
                protocol, result, {'num_failed': failed} if failed is not None else {}, start)))
            _stage_line(name, seed, [(protocol.name, result.metrics)], start)
    if get_rank() != 0:  # under a distributed launcher only rank 0 evaluates features
        return []

    feature_protocols = [p for p in pending if not p.needs_model]
    if not feature_protocols:
        return written
    features_start, scores = time.perf_counter(), []
    feats = {split: split_features(model, cfg.model.to_dict(), suite, split,
                                   work_root / 'feature_cache', use_cache)
             for split in ('train', 'test')}
    for protocol in feature_protocols:
        start = time.perf_counter()
        result = check_result(protocol, protocol.evaluate(feats['train'], feats['test'], seed=seed))
        evaluation = dict(num_train=len(feats['train'].labels),
                          num_test=len(feats['test'].labels),
                          num_failed=dict(train=feats['train'].num_failed,
                                          test=feats['test'].num_failed))
        written.append(write_record(records_dir / f'{protocol.name}.json',
                                    record(protocol, result, evaluation, start)))
        scores.append((protocol.name, result.metrics))
    _stage_line(name, seed, scores, features_start)  # one line for the frozen-feature stage
    return written


def check_result(protocol, result) -> ProtocolResult:
    """``result`` if it is a :class:`ProtocolResult`; else a UserError naming the protocol (a
    protocol written for the old interface returned a bare dict of metrics)."""
    if not isinstance(result, ProtocolResult):
        raise UserError(f'{type(protocol).__name__} returned a {type(result).__name__}, not a '
                        'ProtocolResult: an evaluation returns '
                        'vssl_bench.protocols.ProtocolResult(metrics, per_video, info)')
    return result


def _weights(suite: Suite, cfg: Config, work: Path, seed: int, launcher: str) -> tuple:
    """(model, pretraining stats) of a (method, seed): its final weights if they exist, else
    pretrained (or initialised, for an untrained method) and saved into ``work``."""
    name = cfg.method_name
    weights, stats_path = work / WEIGHTS_FILE, work / STATS_FILE
    if get_rank() == 0:  # weights without readable stats: an unfinished run, trained again
        checkpoints.finished_stats(weights, stats_path)
    barrier()
    if weights.is_file():
        model = pt.load_weights(pt.build_model(cfg), weights)
        stats = read_json(stats_path)
        origin = cfg.weights_from['path'] if 'weights_from' in cfg else weights
        console.line(f'{name} seed {seed}: weights from {origin}')
    elif pt.MODELS.get(cfg.model.type).trainable:
        model, stats = pt.pretrain(cfg, work_dir=work, seed=seed, launcher=launcher,
                                   **suite.pretrain)
        atomic_write_json(stats_path, stats)  # stats first: the weights mark a finished run
        pt.save_weights(model, weights, cfg.model.to_dict())
        checkpoints.prune(work)  # the resumable checkpoints are not needed any more
        console.line(f'{name} seed {seed}: pretrained {stats["iters"]} steps, '
                     f'{stats["train_tflops"]:.3g} TFLOPs, {stats["wall_s"]:.0f} s (log in {work})')
    else:
        model = pt.init_untrained(cfg, seed)
        stats = dict(budget=suite.budget.to_dict(), matched=suite.budget.matched, iters=0,
                     train_tflops=0.0, epochs=0.0, clips_seen=0, wall_s=0.0, device_s=0.0,
                     untrained=True, num_failed=0)
        atomic_write_json(stats_path, stats)  # stats first: the weights mark a finished run
        pt.save_weights(model, weights, cfg.model.to_dict())
        console.line(f'{name} seed {seed}: untrained (no pretraining)')
    return model, stats


def _stage_line(method: str, seed: int, scores: list[tuple[str, dict]], start: float) -> None:
    """'CVRL seed 0: linear top1 46.7 top5 90.6; knn top1 36.7 top5 87.5 (4.1 s)'."""
    text = '; '.join(f'{protocol} ' + ' '.join(f'{k} {float(v):.1f}' for k, v in metrics.items())
                     for protocol, metrics in scores)
    console.line(f'{method} seed {seed}: {text} ({time.perf_counter() - start:.1f} s)')


def prepare_data(suite: Suite, launcher: str = 'none') -> Suite:
    """Load the plugins, join the process group, prepare the data on rank 0 (generation, readers,
    frame caches) and return the suite with its data resolved for every rank."""
    load_plugins()
    console.quiet_console(MMLogger.get_current_instance())
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
    return suite


def run_suite(suite: Suite, out: Path | None = None, work_root: Path = Path('work_dirs'),
              methods: list[str] | None = None, seeds: list[int] | None = None,
              launcher: str = 'none', use_cache: bool = True,
              protocols: list[str] | None = None) -> tuple[dict | None, list[str]]:
    """:func:`_run_suite` holding the results folder's lock (a second run into the same folder
    is refused, see :mod:`vssl_bench.core.lock`) and the work dir's shared lock (`vssl-bench
    clean` is refused meanwhile), after removing the temporary files and lock files of killed runs."""
    out = Path(out) if out is not None else default_results(suite.name)
    pt.init_distributed(launcher)
    with contextlib.ExitStack() as held:
        if get_rank() == 0:
            held.enter_context(lock.hold(out, purpose='writes results'))
            held.enter_context(lock.share(work_root, notify=console.line))  # no clean meanwhile
            cache = [Path(suite.data['cache_dir'])] if suite.data['cache_dir'] else []
            orphans.sweep_stale_temps(out, Path(work_root), *cache)
            lock.sweep_stale([run / lock.LOCK_NAME for run in run_dirs(Path(work_root))])
        return _run_suite(suite, out, work_root, methods, seeds, launcher, use_cache, protocols)


def _run_suite(suite: Suite, out: Path | None = None, work_root: Path = Path('work_dirs'),
               methods: list[str] | None = None, seeds: list[int] | None = None,
               launcher: str = 'none', use_cache: bool = True,
               protocols: list[str] | None = None) -> tuple[dict | None, list[str]]:
    """Run every (method, seed) of the suite; a failing one is reported, the others go on.

    ``use_cache=False`` bypasses the shared feature cache (see :func:`split_features`).
    ``protocols``: only these of the suite's protocols are evaluated (see
    :func:`run_method_seed`).

    Returns the leaderboard (None on ranks other than 0 under a distributed launcher) and the
    list of failures ('method seed N: error').
    """
    out = Path(out) if out is not None else default_results(suite.name)
    suite = prepare_data(suite, launcher)
    cfgs = [(entry['config'], load_method_config(entry, suite)) for entry in suite.methods]
    backbone_policy.check_shared(
        [(cfg.method_name, entry.get('backbone_variant'), cfg.model.type,
          cfg.model.get('backbone')) for entry, (_, cfg) in zip(suite.methods, cfgs)],
        where=f'suite {suite.path}')
    backbone = _backbone_summary(suite, cfgs)
    names = [cfg.method_name for _, cfg in cfgs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f'suite {suite.path} lists {repeated} more than once: give each '
                             "variant its own name (dict(config=..., name='CVRL-uniform', ...))")
    check_names(suite.ablation, names, where=f'suite {suite.path}')
    if methods:
        unknown = sorted(set(methods) - set(names))
        if unknown:
            raise UserError(f'--methods {unknown} not in suite {suite.name}; '
                            f'its methods are {names}')
        cfgs = [(p, c) for p, c in cfgs if c.method_name in methods]
    failures = []
    seeds = seeds or suite.seeds
    console.line(f'suite {suite.name}: {len(cfgs)} method(s) x {len(seeds)} seed(s); results in '
                 f'{out}, mmengine logs in the work dirs under {Path(work_root) / "pretrain"}')
    # Which runs pretrain (the ETA counts them apart from the runs that only evaluate).
    trains = [pt.MODELS.get(cfg.model.type).trainable and not (
        run_work_dir(suite, cfg, seed, Path(work_root)) / WEIGHTS_FILE).is_file()
        for _, cfg in cfgs for seed in seeds]
    with console.suite_progress(len(cfgs) * len(seeds), suite.name, trains) as progress:
        for path, cfg in cfgs:
            for seed in seeds:
                try:
                    run_method_seed(suite, cfg, path, seed, out, Path(work_root), launcher,
                                    use_cache, protocols)
                except Exception as exc:  # one failing method must not lose the others' results
                    failure = f'{cfg.method_name} seed {seed}: {type(exc).__name__}: {exc}'
                    failures.append(failure)
                    print_log(traceback.format_exc(), logger='current', level=40)
                    console.line(f'FAILED {failure}')
                progress.advance(f'{cfg.method_name} seed {seed}')
    if get_rank() != 0:
        return None, failures
    board = write_leaderboard(out, suite.name, method_order=names,
                              extra=dict(method_order=names, backbone=backbone,
                                         pretrain=suite.pretrain, evaluation=suite.evaluation,
                                         **({'ablation': suite.ablation} if suite.ablation else {}),
                                         **({'data': suite.data['lists']}
                                            if 'lists' in suite.data else {}),
                                         **_source_entry(suite)))
    return board, failures


def _source_entry(suite: Suite) -> dict:
    """``{'pretrain_data': ...}``: the generated data set a transfer suite pretrains on, for its
    records and leaderboard; {} for a suite that pretrains on its own data set."""
    if not pretrain_source.is_generated_transfer(suite.data):
        return {}
    source = suite.data['pretrain_data']
    return {'pretrain_data': {key: source[key] for key in ('type', 'root', 'scale', 'seed')}}


def _backbone_summary(suite: Suite, cfgs: list[tuple[str, Config]]) -> dict:
    """The backbone every row was built on, the suite's variants and which row uses which."""
    shared = suite.backbone
    if shared is None and cfgs:
        shared = backbone_policy.plain(cfgs[0][1].model.get('backbone'))
    variant_of = {cfg.method_name: entry['backbone_variant']
                  for entry, (_, cfg) in zip(suite.methods, cfgs) if entry.get('backbone_variant')}
    return dict(shared=shared, variants=suite.backbone_variants, variant_of=variant_of)
