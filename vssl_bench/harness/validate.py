"""Everything `vssl-bench run` and `vssl-bench eval` can check before they generate, cache or
train anything: the suite file, its methods (with their overrides and row names), budget and
protocols, and the command line (--methods, --seeds, --out, --work-dir, --data-root, --name, the
checkpoint, plugins). The data section and folder are checked by
:mod:`vssl_bench.harness.validate_data`, the keys of the suite's sections by
:mod:`vssl_bench.harness.suite_keys`. Every problem is one
:class:`ConfigError` (a :class:`~vssl_bench.core.errors.UserError`) line naming the bad value and
the fix (exit code 2), never a traceback after hours of work.
"""
from __future__ import annotations

import ast
import copy
import inspect
import os
from pathlib import Path

from mmengine.config import Config
from mmengine.runner import Runner

from vssl_bench.core.errors import ConfigError
from vssl_bench.core.registry import CLIP_SAMPLERS, MODELS, PROTOCOLS, build
from vssl_bench.data import procedural
from vssl_bench.engine import pretrain as pt
from vssl_bench.harness.ablation_spec import check_names
from vssl_bench.harness.components import load_plugins
from vssl_bench.harness.suite_config import Suite
from vssl_bench.harness.suite_keys import SAFE_NAME, check_row_name, check_section_keys, check_seeds
from vssl_bench.harness.validate_data import (check_data, check_data_root_option,
                                              check_data_section, check_view_span)
from vssl_bench.protocols import build_protocol

#: evaluation.view keys that count something: at least 1.
VIEW_COUNTS = ('clip_len', 'stride', 'num_clips', 'out_size')
#: Top-level keys a method config may gain from overrides: what mmengine's Runner reads.
RUNNER_KEYS = (*(p for p in inspect.signature(Runner.__init__).parameters if p != 'self'),
               'custom_imports', 'method_name')


def load_suite(path: str | os.PathLike, data_root: str | None = None,
               **load_options) -> Suite:
    """:meth:`Suite.load` (``load_options``: its ``cfg_options``, ``method_cfg_options``) with
    every failure of reading the file as one line, then :func:`check_suite`."""
    path = Path(path)
    if path.is_dir() or (path.exists() and path.suffix != '.py'):
        raise ConfigError(f'suite config {path} is not a Python config (.py): pass a file like '
                          'configs/suites/synthmotion.py')
    if path.is_file():
        try:
            Config.fromfile(str(path))
        except Exception as exc:  # SyntaxError, a missing _base_, a bad import...
            raise ConfigError(f'suite config {path} cannot be read ({type(exc).__name__}: '
                              f'{_first_line(exc)}): fix the file') from exc
        _check_own_budget(path)
        _check_own_data(path)
    check_data_root_option(data_root)
    if data_root is not None and Path(data_root).exists() and not Path(data_root).is_dir():
        raise ConfigError(f'--data-root {data_root} is a file: pass the data set folder')
    try:
        suite = Suite.load(path, data_root=data_root, **load_options)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f'suite {path} is malformed ({type(exc).__name__}: '
                          f'{_first_line(exc)}): compare it with configs/suites/synthmotion.py'
                          ) from exc
    check_suite(suite)
    return suite


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_own_budget(path: Path) -> None:
    """A budget that names a unit but no value would inherit the base config's value, meant
    for another unit (4 TFLOPs read as 4e12 epochs): refuse it."""
    for node in _parse(path).body:
        if not (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'pretrain' for t in node.targets)):
            continue
        budget = _keyword(node.value, 'budget')
        keys = _dict_keys(budget) if budget is not None else None
        if keys is not None and 'unit' in keys and 'value' not in keys:
            raise ConfigError(f'suite {path}: pretrain.budget sets a unit but no value (it would '
                              'inherit the base config\'s value, meant for its unit): add '
                              'value=..., e.g. budget=dict(unit=\'epochs\', value=10)')


def _check_own_data(path: Path) -> None:
    """A suite that inherits its data section but lists its own annotation files (``splits``)
    without a ``type`` keeps the base config's type (mmengine merges the dicts): a list suite
    over a SynthMotion base would generate SynthMotion over the user's lists. Refuse it."""
    tree = _parse(path)
    inherits = any(isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets) for node in tree.body)
    for node in tree.body if inherits else ():
        if not (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'data' for t in node.targets)):
            continue
        keys = _dict_keys(node.value) or set()
        if 'splits' in keys and not keys & {'type', '_delete_'}:
            raise ConfigError(f'suite {path}: data sets its own splits but no type, so it keeps '
                              "the base config's data type (e.g. 'synthmotion', which would be "
                              'generated over your lists): start it with _delete_=True for plain '
                              'annotation lists (data = dict(_delete_=True, root=..., splits='
                              "...)) or name the type (type='ucf101', ...)")


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text())
    except (SyntaxError, UnicodeDecodeError):
        return ast.Module(body=[], type_ignores=[])


def _keyword(node: ast.AST, name: str) -> ast.AST | None:
    if isinstance(node, ast.Call):
        return next((k.value for k in node.keywords if k.arg == name), None)
    if isinstance(node, ast.Dict):
        return next((v for k, v in zip(node.keys, node.values)
                     if isinstance(k, ast.Constant) and k.value == name), None)
    return None


def _dict_keys(node: ast.AST) -> set[str] | None:
    if isinstance(node, ast.Call):
        return {k.arg for k in node.keywords if k.arg}
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return None


def check_suite(suite) -> None:
    """What a loaded suite must satisfy before anything runs (see the module docstring)."""
    where = f'suite {suite.path}'
    if not isinstance(suite.name, str) or not SAFE_NAME.match(suite.name):
        raise ConfigError(f'{where}: suite_name {suite.name!r} must be a plain folder name '
                          '(letters, digits, _ . + -; no / or ..): it names results/<suite_name>')
    if not suite.methods:
        raise ConfigError(f'{where} lists no methods: add method configs to methods=[...]')
    if not suite.seeds:
        raise ConfigError(f'{where} lists no seeds: set e.g. seeds=[0]')
    check_seeds(suite.seeds, f'{where}: seeds')
    check_section_keys(suite, where)
    check_data_section(suite, where)
    evaluation = suite.evaluation
    view = evaluation.get('view') or {}
    for key in VIEW_COUNTS:
        if key in view and not _positive_int(view[key]):
            raise ConfigError(f'{where}: evaluation.view.{key}={view[key]!r} must be a positive '
                              'integer')
    check_view_span(suite, view, where)
    if 'batch_size' in evaluation and not _positive_int(evaluation['batch_size']):
        raise ConfigError(f'{where}: evaluation.batch_size={evaluation["batch_size"]!r} must be '
                          'a positive integer')
    workers = evaluation.get('num_workers', 0)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ConfigError(f'{where}: evaluation.num_workers={workers!r} must be an integer >= 0')
    protocols = evaluation.get('protocols') or []
    if not protocols:
        raise ConfigError(f'{where}: evaluation.protocols is empty: list at least one, e.g. '
                          "dict(type='LinearProbe')")
    for cfg in protocols:
        check_protocol(cfg, where, train_videos=_train_videos(suite))
    check_methods(suite)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _train_videos(suite) -> int | None:
    """Videos per class of the train split when known before generating (generated data)."""
    if not procedural.is_generated(suite.data.get('type')):
        return None
    scale = procedural.get(suite.data['type']).scales.get(suite.data.get('scale', 'default'))
    return scale.train_per_class if scale else None


def check_protocol(cfg, where: str, train_videos: int | None = None) -> None:
    import vssl_bench.protocols  # noqa: F401  (registers the in-tree protocols)
    if isinstance(cfg, str):
        raise ConfigError(f'{where}: evaluation.protocols item {cfg!r} is text, not a dict (from '
                          '--cfg-options, which cannot build dicts inside a list?): set the '
                          'protocols in a suite file, e.g. one inheriting this suite')
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ConfigError(f'{where}: evaluation.protocols item {cfg!r} needs a type, e.g. '
                          "dict(type='KNN', k=20)")
    known = sorted(PROTOCOLS.module_dict)
    try:
        protocol = build_protocol(dict(cfg))
    except KeyError as exc:
        raise ConfigError(f'{where}: unknown protocol {cfg["type"]!r}; known: '
                          f'{", ".join(known)}') from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f'{where}: protocol {dict(cfg)!r}: {_first_line(exc)}; see the '
                          f'arguments of {cfg["type"]} in vssl_bench/protocols/') from exc
    for key in ('steps', 'batch_size'):
        value = cfg.get(key)
        if value is not None and not _positive_int(value):
            raise ConfigError(f'{where}: protocol {cfg["type"]} {key}={value!r} must be a '
                              'positive integer')
    if cfg.get('num_workers') is not None and (not isinstance(cfg['num_workers'], int)
                                               or cfg['num_workers'] < 0):
        raise ConfigError(f'{where}: protocol {cfg["type"]} num_workers={cfg["num_workers"]!r} '
                          'must be an integer >= 0')
    folds = getattr(protocol, 'folds', None)
    if folds is not None and train_videos is not None and folds > train_videos:
        raise ConfigError(f'{where}: protocol {cfg["type"]} folds={folds} exceeds the '
                          f'{train_videos} training videos per class: use at most '
                          f'{train_videos} folds')


def method_names(suite) -> list[str]:
    """Row names of the suite's methods, read from their configs (nothing is built); each is a
    plain folder name (it names results/<suite>/runs/<name> and a work dir)."""
    names = []
    for entry in suite.methods:
        if entry['name'] is not None:
            names.append(check_row_name(entry['name'], f'suite {suite.path}: methods item name',
                                        "name='CVRL-uniform'"))
            continue
        cfg = _read_method(entry['config'], suite)
        names.append(check_row_name(cfg.get('method_name', cfg.model.type),
                                    f'method config {entry["config"]}: method_name',
                                    "method_name='CVRL'"))
    return names


def _read_method(path: str, suite) -> Config:
    if not Path(path).is_file():
        raise ConfigError(f'method config {path} (listed in {suite.path}) not found: fix the path '
                          'in the suite\'s methods list')
    try:
        return Config.fromfile(path, import_custom_modules=False)
    except Exception as exc:
        raise ConfigError(f'method config {path} cannot be read ({type(exc).__name__}: '
                          f'{_first_line(exc)}): fix the file') from exc


def check_methods(suite) -> None:
    """Every method config exists, reads, names a registered method (plugins loaded) and leaves
    the schedule to the suite, also with the suite's overrides (``method_overrides``,
    ``--method-cfg-options``, each entry's own) merged in as the run merges them; every row has
    its own plain name."""
    load_plugins()
    keys = set(RUNNER_KEYS)
    for entry in suite.methods:
        cfg = _read_method(entry['config'], suite)
        pt.check_method_config(cfg, entry['config'])
        keys.update(cfg.keys())
        overrides = [suite.method_overrides or {}, entry['overrides'] or {}]
        if any(overrides):
            for override in overrides:
                cfg.merge_from_dict(copy.deepcopy(override))
            where = f'{entry["config"]} with the overrides of {suite.path}'
            pt.check_method_config(cfg, where)
            check_dataloader(cfg, where)
        check_views(cfg, f'{entry["config"]} (in suite {suite.path})')
    unknown = sorted(set(suite.method_overrides) - keys)
    if unknown:
        raise ConfigError(f'suite {suite.path}: method_overrides (or --method-cfg-options) set '
                          f'{unknown}, a key of no method config of the suite and not one '
                          "mmengine's Runner reads: fix the spelling")
    names = method_names(suite)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f'suite {suite.path} lists {repeated} more than once: give each '
                          "variant its own name (dict(config=..., name='CVRL-uniform', ...))")


def check_views(cfg, where: str) -> None:
    """The clips per video the pretraining loader gives (the sampler's ``num_clips`` times the
    dataset's ``views_per_clip``) are the clips the method's ``loss`` takes (its ``num_views``),
    checked before any data is made, not at the first training step."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    if not dataset.get('sampler') or not MODELS.get(cfg.model.type).trainable:
        return  # an untrained method (RandomInit) builds no loader
    sampler = build(CLIP_SAMPLERS, dataset['sampler'])
    views = sampler.num_clips * dataset.get('views_per_clip', 1)
    model = build(MODELS, cfg.model)
    if views != model.num_views:
        raise ConfigError(f'{where}: the loader gives {views} clip(s) per video '
                          f'({type(sampler).__name__} num_clips={sampler.num_clips} x '
                          f'views_per_clip={dataset.get("views_per_clip", 1)}) but '
                          f'{cfg.model.type} takes num_views={model.num_views}: change the '
                          'sampler, or set num_views in the method (a class attribute, or in '
                          '__init__ when it depends on its arguments)')


def check_dataloader(cfg, where: str) -> None:
    """The pretraining loader's batch size and workers, e.g. from --method-cfg-options."""
    loader = cfg.get('train_dataloader') or {}
    if 'batch_size' in loader and not _positive_int(loader['batch_size']):
        raise ConfigError(f'{where}: train_dataloader.batch_size={loader["batch_size"]!r} must be '
                          'a positive integer')
    workers = loader.get('num_workers', 0)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ConfigError(f'{where}: train_dataloader.num_workers={workers!r} must be an integer '
                          '>= 0')


def check_run(suite, *, methods: list[str] | None, seeds: list[int] | None,
              work_dir: str | None, data_root: str | None,
              protocols: list[str] | None = None) -> None:
    """The command line of a run against its suite, before any work."""
    if protocols is not None:
        known = [build_protocol(dict(cfg)).name for cfg in suite.evaluation['protocols']]
        unknown = [p for p in protocols if p not in known]
        if not protocols or unknown:
            raise ConfigError(f'--protocols {",".join(unknown or protocols) or "(empty)"}: not '
                              f'protocols of suite {suite.name}; name some of '
                              f'{",".join(known)}, or leave it out to run them all')
    if methods is not None:
        if not methods:
            raise ConfigError('--methods is empty: name methods, e.g. --methods CVRL,TCLR, or '
                              'leave it out to run them all')
        known = method_names(suite)
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise ConfigError(f'--methods {",".join(unknown)}: not in suite {suite.name}; its '
                              f'methods are {", ".join(known)}')
    check_names(suite.ablation, method_names(suite), where=f'suite {suite.path}')
    if seeds is not None:
        if not seeds:
            raise ConfigError('--seeds is empty: give seeds, e.g. --seeds 0,1,2')
        check_seeds(seeds)
    if work_dir is not None:
        check_writable(Path(work_dir), '--work-dir')
    check_data(suite)


def check_eval(suite, *, checkpoint: str, name: str | None, seeds: list[int] | None,
               work_dir: str, method_cfg_options: dict | None) -> None:
    """The command line of ``vssl-bench eval`` against its suite, before any work."""
    if not Path(checkpoint).is_file():
        raise ConfigError(f'checkpoint {checkpoint} not found: pass the path of a weights file')
    if name is not None:
        check_row_name(name, '--name', '--name my-model')
    else:
        name = check_row_name(Path(checkpoint).stem, f'row name (the file name of {checkpoint}; '
                              'pass --name to choose another)', '--name my-model')
    if name in method_names(suite):
        raise ConfigError(f'row name {name!r} is a method of suite {suite.name}: its records would '
                          'replace that method\'s; pass another --name')
    if seeds is not None:
        if not seeds:
            raise ConfigError('--seeds is empty: give seeds, e.g. --seeds 0,1,2')
        check_seeds(seeds)
    other = sorted(k for k in method_cfg_options or {} if k.split('.', 1)[0] != 'model')
    if other:
        raise ConfigError(f'--method-cfg-options {", ".join(other)}: eval only builds the '
                          "checkpoint's model: set model.* keys, e.g. model.backbone.depth=50")
    check_writable(Path(work_dir), '--work-dir')
    check_data(suite)


def check_writable(folder: Path, option: str) -> None:
    """``folder`` exists (created if needed) and this process may write into it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f'{option} {folder} cannot be created ({exc.strerror or exc}): pass a '
                          'writable folder') from exc
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f'{option} {folder} is not a writable folder: pass a writable folder')
