"""``vssl-bench eval``: a checkpoint trained elsewhere (an mmaction2 recognizer, a torchvision
``r3d_18`` state dict, a vssl-bench method) evaluated by a suite's protocols like any method.

The checkpoint's backbone is loaded into a method that is not trained (``RandomInit``'s class)
and goes through :func:`vssl_bench.harness.suite.run_method_seed` with its weights already in place:
the same features, protocols, records and leaderboard row as the suite's methods. Its records name
where the weights came from (``weights_from``: path, format, sha256), which also enters the run
hash, so another file is another row's work dir.
"""
from __future__ import annotations

from pathlib import Path

from mmengine.config import Config

from vssl_bench.core import console, lock
from vssl_bench.core.errors import UserError
from vssl_bench.core.io import atomic_write_json, read_json
from vssl_bench.core.names import STATS_FILE, WEIGHTS_FILE
from vssl_bench.core.results_dir import default_results
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.interop import default_model, exported_model, file_digest, read_backbone
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.run_records import run_work_dir
from vssl_bench.harness.suite import prepare_data, run_method_seed
from vssl_bench.harness.suite_config import Suite
from vssl_bench.harness.suite_keys import check_row_name
from vssl_bench.report.leaderboard import rebuild_leaderboard


def checkpoint_config(suite: Suite, checkpoint: Path, fmt: str, name: str,
                      method_cfg_options: dict | None = None) -> Config:
    """The method config a checkpoint is evaluated as: its backbone architecture and input
    normalisation (:func:`vssl_bench.engine.interop.default_model`; ``vssl`` checkpoints use the
    ``model_config.json`` saved beside them and mmaction2 exports of vssl-bench their ``meta``
    when there is one), then ``method_cfg_options``."""
    backbone, norm = default_model(fmt, suite.backbone)
    saved = checkpoint.parent / pt.MODEL_CONFIG
    if fmt == 'mmaction2':  # an export of vssl-bench's names its architecture and normalisation
        backbone, norm = exported_model(checkpoint) or (backbone, norm)
    elif fmt == 'vssl' and saved.is_file():
        model = read_json(saved)
        backbone = model['backbone']
        norm = {k: v for k, v in (model.get('data_preprocessor') or {}).items() if k != 'type'}
    cfg = Config(dict(
        method_name=name,
        model=dict(type='RandomInit', backbone=backbone,
                   data_preprocessor=dict(type='VideoDataPreprocessor', **norm)),
        weights_from=dict(path=str(checkpoint), format=fmt, sha256=file_digest(checkpoint))))
    if method_cfg_options:
        cfg.merge_from_dict(method_cfg_options)
    return cfg


def load_checkpoint_model(cfg: Config, checkpoint: Path, fmt: str):
    """The method of ``cfg`` with the checkpoint's backbone weights (every key must fit)."""
    model = pt.build_model(cfg)
    state = read_backbone(checkpoint, fmt)
    try:
        model.backbone.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if '\n' in str(exc) else str(exc)
        raise UserError(
            f'{checkpoint} ({fmt}) does not fit backbone {dict(cfg.model.backbone)}: {first}; '
            'give its architecture with --method-cfg-options model.backbone.KEY=VALUE') from None
    return model


def eval_checkpoint(suite: Suite, checkpoint: str | Path, fmt: str = 'vssl',
                    name: str | None = None, out: Path | None = None,
                    work_root: Path = Path('work_dirs'), seeds: list[int] | None = None,
                    method_cfg_options: dict | None = None,
                    use_cache: bool = True) -> tuple[dict, list[str]]:
    """Evaluate ``checkpoint`` with the suite's protocols for each seed; its records go to the
    suite's results (``out``) and the leaderboard is rebuilt with its row added. Returns the
    leaderboard and the failures ('name seed N: error'). Holds the results folder's lock like
    ``vssl-bench run`` (a concurrent run or eval into the same folder is refused), and the work
    dir's shared lock (a `vssl-bench clean` meanwhile is refused)."""
    out = Path(out) if out is not None else default_results(suite.name)
    with lock.hold(out, purpose='writes results'), lock.share(work_root, notify=console.line):
        return _eval_checkpoint(suite, Path(checkpoint), fmt, name, out, work_root, seeds,
                                method_cfg_options, use_cache)


def _eval_checkpoint(suite: Suite, checkpoint: Path, fmt: str, name: str | None, out: Path,
                     work_root: Path, seeds: list[int] | None, method_cfg_options: dict | None,
                     use_cache: bool) -> tuple[dict, list[str]]:
    name = check_row_name(name or checkpoint.stem, '--name', '--name my-model')
    # The checkpoint is read (and refused if it does not fit) before any data is prepared.
    load_plugins()
    cfg = checkpoint_config(suite, checkpoint, fmt, name, method_cfg_options)
    model = load_checkpoint_model(cfg, checkpoint, fmt)
    suite = prepare_data(suite)
    failures = []
    seeds = seeds or suite.seeds
    with console.suite_progress(len(seeds), f'eval {name}') as progress:
        for seed in seeds:
            failures += _eval_seed(suite, cfg, model, checkpoint, name, seed, out, work_root,
                                   use_cache)
            progress.advance(f'{name} seed {seed}')
    return rebuild_leaderboard(out, suite.name), failures


def _eval_seed(suite: Suite, cfg: Config, model, checkpoint: Path, name: str, seed: int,
               out: Path, work_root: Path, use_cache: bool) -> list[str]:
    """One seed's records of an external checkpoint; returns its failure line, if any."""
    work = run_work_dir(suite, cfg, seed, work_root)
    weights = work / WEIGHTS_FILE
    if not weights.is_file():
        atomic_write_json(work / STATS_FILE, dict(
            budget=dict(unit='external checkpoint'), matched=False, iters=0,
            train_tflops=None, epochs=None, clips_seen=None, wall_s=None, device_s=None,
            external=dict(cfg.weights_from)))
        pt.save_weights(model, weights, cfg.model.to_dict())
    try:
        run_method_seed(suite, cfg, str(checkpoint), seed, out, Path(work_root),
                        use_cache=use_cache)
    except Exception as exc:  # reported like a suite's failing method
        failure = f'{name} seed {seed}: {type(exc).__name__}: {exc}'
        console.line(f'FAILED {failure}')
        return [failure]
    return []
