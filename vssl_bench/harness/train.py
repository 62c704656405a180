"""``vssl-bench train METHOD_CONFIG``: one pretraining under a budget, outside any suite."""
from __future__ import annotations

import contextlib
import copy
from pathlib import Path

from mmengine.config import Config

from vssl_bench.core import lock
from vssl_bench.core.errors import ConfigError, UserError
from vssl_bench.core.io import atomic_write_json
from vssl_bench.core.names import STATS_FILE, WEIGHTS_FILE
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.budget import Budget
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite_keys import check_row_name

#: The default suite's budget (configs/_base_/suite_synthmotion.py).
DEFAULT_BUDGET = dict(unit='train_flops', value=30e12)


def parse_budget(text: str) -> dict:
    """``UNIT=VALUE`` (``train_flops=3e13``, ``epochs=5``, ``device_seconds=600``) -> budget."""
    unit, sep, value = text.partition('=')
    try:
        budget = dict(unit=unit, value=float(value))
    except ValueError:
        budget = None
    if not sep or budget is None:
        raise UserError(f'--budget {text!r}: expected UNIT=VALUE, e.g. train_flops=3e13, '
                        'epochs=5 or device_seconds=600')
    Budget.from_cfg(budget, where='--budget')
    return budget


def train_method(config: str | Path, budget: dict | None = None, work_dir: str | Path | None = None,
                 seed: int = 0, data_root: str | None = None,
                 cfg_options: dict | None = None) -> tuple[Path, dict]:
    """Pretrain the method of ``config`` for ``seed`` under ``budget`` (default: the default
    suite's); writes ``final_weights.pth``, ``model_config.json`` and ``pretrain_stats.json`` to
    ``work_dir`` (default ``work_dirs/train/<method>/seed<seed>``). Returns the weights' path
    and what the training consumed."""
    path = Path(config)
    if not path.is_file():
        raise FileNotFoundError(f'method config {path} not found: method configs live in '
                                'configs/methods/')
    load_plugins()
    cfg = Config.fromfile(str(path), import_custom_modules=False)
    if cfg_options:
        cfg.merge_from_dict(copy.deepcopy(cfg_options))
    pt.check_method_config(cfg, str(path))
    name = check_row_name(pt.method_name(cfg), f'{path}: method_name', "method_name='CVRL'")
    if 'train_dataloader' not in cfg:
        raise ConfigError(f'{path} has no train_dataloader: {name} is not trained')
    dataset = cfg.train_dataloader.dataset
    root = Path(data_root or dataset.data_root)
    ann = Path(dataset.ann_file) if Path(dataset.ann_file).is_absolute() else root / dataset.ann_file
    if not ann.is_file():
        raise FileNotFoundError(f'pretraining list {ann} not found: generate the data '
                                f'(vssl-bench data synthmotion --out {root}) or pass --data-root')
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': str(root),
                         'train_dataloader.dataset.ann_file': str(ann),
                         'train_dataloader.dataset.cache_dir': str(root / '.frame_cache')})
    work = Path(work_dir) if work_dir else Path('work_dirs') / 'train' / name / f'seed{seed}'
    # A second `train` into the same work dir is refused; `clean` is refused meanwhile (it
    # checks the run dir's lock, and the default work root's shared lock).
    with contextlib.ExitStack() as held:
        held.enter_context(lock.hold(work, purpose=f'trains {name} seed {seed}',
                                     option='--work-dir'))
        if work_dir is None:
            held.enter_context(lock.share(work.parents[2]))
        model, stats = pt.pretrain(cfg, work_dir=work, seed=seed,
                                   budget=budget or DEFAULT_BUDGET)
        atomic_write_json(work / STATS_FILE, stats)
        weights = work / WEIGHTS_FILE
        pt.save_weights(model, weights, cfg.model.to_dict())
    return weights, stats
