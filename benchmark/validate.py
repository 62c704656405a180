"""Everything a `vssl-bench run` can check before it generates, caches or trains anything: the
suite file, its methods, budget, data section and protocols, and the command line (--methods,
--seeds, --out, --work-dir, --data-root, plugins). Every problem is one :class:`ConfigError`
line naming the bad value and the fix (exit code 2), never a traceback after hours of work.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from mmengine.config import Config

from benchmark import pretrain as pt
from benchmark.ablation_spec import check_names
from benchmark.data import procedural, suite_data
from benchmark.io import read_json
from benchmark.protocols import build_protocol
from benchmark.components import load_plugins
from benchmark.registry import PROTOCOLS
from benchmark.suite_config import Suite

ConfigError = pt.ConfigError
#: ``data.type`` values: a generated data set (SynthMotion, SynthEvents, SynthInteract), plain
#: annotation lists (no type) or a reader.
DATA_TYPES = (*procedural.GENERATED, *suite_data.DEFAULT_SPLITS)
SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]*$')
#: evaluation.view keys that count something: at least 1.
VIEW_COUNTS = ('clip_len', 'stride', 'num_clips', 'out_size')
#: Smallest short side of a frame cache (SynthMotion's frames are 32 px).
MIN_CACHE_SHORT_SIDE = 16


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
    try:
        tree = ast.parse(path.read_text())
    except (SyntaxError, UnicodeDecodeError):
        return
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'pretrain' for t in node.targets)):
            continue
        budget = _keyword(node.value, 'budget')
        keys = _dict_keys(budget) if budget is not None else None
        if keys is not None and 'unit' in keys and 'value' not in keys:
            raise ConfigError(f'suite {path}: pretrain.budget sets a unit but no value (it would '
                              'inherit the base config\'s value, meant for its unit): add '
                              'value=..., e.g. budget=dict(unit=\'epochs\', value=10)')


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
    data_type = suite.data.get('type')
    if data_type is not None and data_type not in DATA_TYPES:
        raise ConfigError(f'{where}: unknown data.type {data_type!r}; known: '
                          f'{", ".join(DATA_TYPES)} (or no type for plain annotation lists)')
    if procedural.is_generated(data_type):
        spec = procedural.get(data_type)
        scale = suite.data.get('scale', 'default')
        if scale not in spec.scales:
            raise ConfigError(f'{where}: unknown {spec.title} scale {scale!r}; known: '
                              f'{", ".join(sorted(spec.scales))}')
    side = suite.data.get('cache_short_side')
    if side is not None and not (_positive_int(side) and side >= MIN_CACHE_SHORT_SIDE):
        raise ConfigError(f'{where}: data.cache_short_side={side!r} must be an integer >= '
                          f'{MIN_CACHE_SHORT_SIDE} (pixels of the cached frames\' short side, at '
                          'least the training and evaluation crops), or None for native-size frames')
    if side is not None and suite.data.get('cache_dir') is None:
        raise ConfigError(f'{where}: data.cache_short_side={side} needs a frame cache, but '
                          'data.cache_dir is None: remove cache_short_side or set cache_dir')
    evaluation = suite.evaluation
    view = evaluation.get('view') or {}
    for key in VIEW_COUNTS:
        if key in view and not _positive_int(view[key]):
            raise ConfigError(f'{where}: evaluation.view.{key}={view[key]!r} must be a positive '
                              'integer')
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
    import benchmark.protocols  # noqa: F401  (registers the in-tree protocols)
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
                          f'arguments of {cfg["type"]} in benchmark/protocols/') from exc
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
    """Row names of the suite's methods, read from their configs (nothing is built)."""
    names = []
    for entry in suite.methods:
        if entry['name']:
            names.append(entry['name'])
            continue
        cfg = _read_method(entry['config'], suite)
        names.append(cfg.get('method_name', cfg.model.type))
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
    the schedule to the suite."""
    load_plugins()
    for entry in suite.methods:
        cfg = _read_method(entry['config'], suite)
        pt.check_method_config(cfg, entry['config'])


def check_seeds(seeds, where: str = '--seeds') -> None:
    bad = [s for s in seeds if not isinstance(s, int) or isinstance(s, bool) or s < 0]
    if bad:
        raise ConfigError(f'{where} {bad} are not seeds: use integers >= 0, e.g. --seeds 0,1,2')


def check_run(suite, *, methods: list[str] | None, seeds: list[int] | None,
              work_dir: str | None, data_root: str | None) -> None:
    """The command line of a run against its suite, before any work."""
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
    root = Path(suite.data['root'])
    if root.exists() and not root.is_dir():
        raise ConfigError(f'data root {root} is a file: pass the data set folder (--data-root)')
    data_type = suite.data.get('type')
    if procedural.is_generated(data_type) and (root / 'meta.json').is_file():
        try:
            meta = read_json(root / 'meta.json')
        except (OSError, ValueError):
            meta = None
        wanted = dict(dataset=data_type, scale=suite.data.get('scale', 'default'),
                      seed=suite.data.get('seed', 0))
        found = ({k: meta.get(k) for k in wanted} if isinstance(meta, dict) else None)
        if found != wanted:
            raise ConfigError(f'{root} holds another generated data set ({found}, this suite '
                              f'needs {wanted}): pass another --data-root or delete that folder')


def check_writable(folder: Path, option: str) -> None:
    """``folder`` exists (created if needed) and this process may write into it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f'{option} {folder} cannot be created ({exc.strerror or exc}): pass a '
                          'writable folder') from exc
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f'{option} {folder} is not a writable folder: pass a writable folder')
