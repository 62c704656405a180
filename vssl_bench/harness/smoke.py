"""``vssl-bench run SUITE --smoke``: any suite for a few steps on a stand-in data set.

A smoke run proves that a suite config builds and runs end to end (data reader, every method's
pretraining, every protocol, records, leaderboard); its numbers mean nothing. What it changes:

- data: tiny SynthMotion (generated), laid out as the data set the suite expects
  (:mod:`vssl_bench.data.standin`: a UCF101 / HMDB51 / Kinetics tree read by the real reader;
  SynthMotion and plain-list suites get tiny SynthMotion itself);
- budget: ``STEPS`` pretraining steps (an ``epochs`` budget computed from the stand-in's size);
- every method: batch size ``BATCH``, no worker processes, and clips no larger than
  ``MAX_SIZE`` pixels (the stand-in's frames are 32x32; an R3D-50 at 224x224 takes minutes per
  step on a CPU). Clip lengths and strides are kept: short stand-in videos are loop-padded;
- evaluation: the view at ``MAX_SIZE`` px with 2 clips per video, cheap protocol settings
  (2-fold linear probe, k = 3, fine-tuning for 2 steps of 2 clips);
- output: ``<out>/results`` and ``<out>/work``, default ``work_dirs/smoke/<suite>`` (never
  ``results/``).
"""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from mmengine.config import Config

from vssl_bench.core.errors import UserError
from vssl_bench.data import suite_data
from vssl_bench.data.standin import make_standin
from vssl_bench.data.synthmotion import generate
from vssl_bench.harness.suite import run_suite
from vssl_bench.harness.suite_config import Suite

STEPS = 2
BATCH = 2
MAX_SIZE = 32
#: Cheap settings per protocol type, merged over the suite's.
PROTOCOL_SETTINGS = {
    'LinearProbe': dict(folds=2),
    'KNN': dict(k=3),
    'SemiSupervised': dict(fractions=(0.01,), steps=2, batch_size=2, num_workers=0,
                           log_interval=1),
    'FineTune': dict(steps=2, batch_size=2, num_workers=0, log_interval=1),
}


def default_out(suite: Suite) -> Path:
    return Path('work_dirs') / 'smoke' / suite.name


def _standin_data(data: dict, base: Path) -> dict:
    """The suite's data dict pointed at a stand-in under ``base``."""
    synth = base / 'synthmotion_tiny'
    if not suite_data.is_reader_data(data):
        return dict(type='synthmotion', root=str(synth), scale='tiny', seed=0,
                    splits=dict(pretrain='pretrain.txt', train='train.txt', test='test.txt'),
                    cache_dir=str(synth / '.frame_cache'))
    keep = ('type', 'split', 'list_names')  # not version: the stand-in has 12 classes

    def point(d: dict) -> dict:
        root = make_standin(d['type'], base / d['type'], synth)
        return dict({k: d[k] for k in keep if k in d}, root=str(root),
                    lists_dir=str(base / 'lists' / f'{d["type"]}-{d.get("split", "v")}'))
    out = point(data)
    if data.get('pretrain_data'):
        out['pretrain_data'] = point(data['pretrain_data'])
    # The suite's frame-cache choice (none: decode per sample; or a short-side cache).
    out['cache_dir'] = str(base / 'frame_cache') if data.get('cache_dir') else None
    if data.get('cache_short_side') is not None:
        out['cache_short_side'] = data['cache_short_side']
    return suite_data.declare(out, where='smoke stand-in')


def _method_overrides(entry: dict, size: int) -> dict:
    """The entry's overrides plus the smoke settings that apply to its method config."""
    cfg = Config.fromfile(entry['config'], import_custom_modules=False)
    overrides = copy.deepcopy(entry['overrides'])
    if 'train_dataloader' in cfg:
        loader = dict(batch_size=BATCH, num_workers=0, persistent_workers=False)
        out_size = cfg.train_dataloader.dataset.get('transform', {}).get('out_size')
        if out_size is not None and out_size > size:
            loader['dataset'] = dict(transform=dict(out_size=size))
        overrides = Config(overrides)
        overrides.merge_from_dict(dict(train_dataloader=loader))
        overrides = overrides.to_dict()
    return dict(entry, overrides=overrides)


def smoke_suite(suite: Suite, out: Path, steps: int = STEPS, size: int = MAX_SIZE) -> Suite:
    """The smoke version of ``suite`` (see module docstring): ``steps`` pretraining steps,
    clips of at most ``size`` px; writes the stand-in data."""
    data = _standin_data(suite.data, out / 'data')
    suite_data.prepare(data)
    if not suite_data.is_reader_data(data):
        generate(data['root'], scale='tiny', seed=0, progress=False)
    pretrain_list = Path(data['root']) / data['splits']['pretrain']
    videos = len(pretrain_list.read_text().splitlines())
    epochs = steps / (videos // BATCH)
    evaluation = copy.deepcopy(suite.evaluation)
    view = evaluation['view']
    view.update(num_clips=min(2, view.get('num_clips', 2)),
                out_size=min(size, view.get('out_size', size)))
    evaluation.update(batch_size=8, num_workers=0)
    evaluation['protocols'] = [dict(p, **PROTOCOL_SETTINGS.get(p['type'], {}))
                               for p in evaluation['protocols']]
    return dataclasses.replace(
        suite, name=f'{suite.name}-smoke', data=data,
        methods=[_method_overrides(m, size) for m in suite.methods],
        seeds=suite.seeds[:1], evaluation=evaluation, 
        pretrain=dict(suite.pretrain, budget=dict(unit='epochs', value=epochs),
                      log_interval=1, warmup_ratio=0.5))


def run_smoke(suite: Suite, out: Path | None = None, methods: list[str] | None = None,
              use_cache: bool = True, steps: int = STEPS, size: int = MAX_SIZE) -> tuple[dict | None, list[str]]:
    """Smoke-run ``suite``; results in ``<out>/results``, weights and features in ``<out>/work``.
    Refuses an ``out`` inside ``results/`` (committed leaderboards live there)."""
    out = Path(out) if out is not None else default_out(suite)
    if Path('results').resolve() in (out.resolve(), *out.resolve().parents):
        raise UserError(f'--out {out} is inside results/, where committed leaderboards live; '
                        'a smoke run writes elsewhere (default work_dirs/smoke/<suite>)')
    smoke = smoke_suite(suite, out, steps=steps, size=size)
    return run_suite(smoke, out=out / 'results', work_root=out / 'work', methods=methods,
                     use_cache=use_cache)
