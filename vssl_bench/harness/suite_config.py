"""A suite's config: what ``configs/suites/*.py`` declares (:class:`Suite`), and each method's
config as the suite runs it (:func:`load_method_config`)."""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from mmengine.config import Config

from vssl_bench.core.config_root import configs_root
from vssl_bench.core.errors import ConfigError
from vssl_bench.data import pretrain_source, suite_data
from vssl_bench.engine import pretrain as pt
from vssl_bench.engine.budget import Budget
from vssl_bench.harness import backbone_policy
from vssl_bench.harness.ablation_spec import check_spec
from vssl_bench.harness.suite_keys import SUITE_KEYS, check_option_keys, check_row_name


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
    #: :mod:`vssl_bench.harness.backbone_policy`); None: whatever the methods share.
    backbone: dict | None = None
    #: Named overrides of ``backbone``, each with its own RandomInit row.
    backbone_variants: dict = field(default_factory=dict)
    #: What the paper found for each variant of an ablation suite
    #: (:mod:`vssl_bench.harness.ablation_spec`).
    ablation: dict | None = None

    @classmethod
    def load(cls, path: str | Path, data_root: str | None = None,
             cfg_options: dict | None = None,
             method_cfg_options: dict | None = None) -> 'Suite':
        """``cfg_options`` (``--cfg-options``): ``{'dotted.key': value}`` merged into the suite
        config, mmengine's convention; ``method_cfg_options`` (``--method-cfg-options``): merged
        into every method config after the suite's ``method_overrides``. Both change what the
        run hashes cover (the suite's sections, the method configs)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'suite config {path} not found: suites live in '
                                    'configs/suites/ (e.g. configs/suites/synthmotion.py)')
        cfg = Config.fromfile(str(path))
        if cfg_options:
            check_option_keys(cfg, cfg_options, str(path))
            cfg.merge_from_dict(copy.deepcopy(cfg_options))
        missing = [k for k in SUITE_KEYS if k not in cfg]
        if missing:
            raise ConfigError(f'suite {path} lacks {missing}; a suite declares '
                                 f'{", ".join(SUITE_KEYS)}')
        data = cfg.data.to_dict()
        if data_root is not None:
            data['root'] = data_root
        # The decode-once frame cache: native-size frames for SynthMotion and plain lists; for
        # a real data set (a reader type) only at a chosen short side (``cache_short_side``),
        # else no cache and every sample decodes just its frames (a native-size cache of
        # UCF101 would be about half a terabyte).
        if not suite_data.is_reader_data(data) or data.get('cache_short_side') is not None:
            data.setdefault('cache_dir', str(Path(data['root']) / '.frame_cache'))
        data.setdefault('cache_dir', None)
        data = suite_data.declare(data, where=str(path))  # UCF101 / HMDB51 / Kinetics readers
        data = pretrain_source.declare(data, where=str(path))  # generated -> generated transfer
        methods = [method_entry(m, path) for m in cfg.methods]
        pretrain = cfg.pretrain.to_dict()
        if 'budget' not in pretrain:
            raise ConfigError(
                f'suite {path}: pretrain needs a budget, e.g. pretrain=dict(budget=dict('
                f"unit='train_flops', value=2e15)); units: train_flops, device_seconds, epochs "
                f'(got pretrain keys {sorted(pretrain)})')
        Budget.from_cfg(pretrain['budget'], where=f'{path}: pretrain.budget')
        backbone = backbone_policy.load_suite_backbone(
            cfg.get('backbone'), where=f'suite {path}', resolve=lambda p: _resolve(p, path))
        variants = cfg.get('backbone_variants', {})
        method_overrides = Config(cfg.get('method_overrides', {}))
        method_overrides.merge_from_dict(copy.deepcopy(method_cfg_options or {}))
        return cls(name=cfg.suite_name, path=str(path), data=data, methods=methods,
                   seeds=_seeds(cfg.seeds, path), pretrain=pretrain,
                   evaluation=cfg.evaluation.to_dict(),
                   method_overrides=method_overrides.to_dict(), backbone=backbone,
                   backbone_variants=variants.to_dict() if hasattr(variants, 'to_dict')
                   else dict(variants),
                   ablation=check_spec(cfg.get('ablation'), where=f'suite {path}'))

    @property
    def budget(self) -> Budget:
        return Budget.from_cfg(self.pretrain['budget'])

    def scaled(self, factor: float) -> 'Suite':
        """The same suite at ``factor`` times its budget (a point of a budget sweep)."""
        pretrain = dict(self.pretrain, budget=self.budget.scaled(factor).to_dict())
        return dataclasses.replace(self, pretrain=pretrain)


def _seeds(seeds, path: Path) -> list[int]:
    """The suite's ``seeds`` as written: a list of integers (a string or float is refused, not
    split into digits or truncated; their range is checked by
    :mod:`vssl_bench.harness.validate`)."""
    if not isinstance(seeds, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f'suite {path}: seeds={seeds!r} must be a list of integers, e.g. '
                             'seeds=[0, 1, 2]')
    return list(seeds)


def method_entry(method: str | dict, suite_path: Path) -> dict:
    """A suite's ``methods`` item: a method config path, or, for ablations, ``dict(config=path,
    name='CVRL-uniform', overrides=dict(...))``: the same method config under another name with
    some settings changed (merged after the suite's ``method_overrides``); ``backbone_variant=``
    builds it on one of the suite's ``backbone_variants`` (see
    :mod:`vssl_bench.harness.backbone_policy`)."""
    if isinstance(method, str):
        return dict(config=str(_resolve(method, suite_path)), name=None, overrides={},
                    backbone_variant=None)
    method = dict(method)
    unknown = set(method) - {'config', 'name', 'overrides', 'backbone_variant'}
    if 'config' not in method or unknown:
        raise ConfigError(f'suite {suite_path}: a methods item is a config path or dict('
                             f'config=..., name=..., overrides=..., backbone_variant=...); got '
                             f'{method!r}')
    overrides = method.get('overrides') or {}
    return dict(config=str(_resolve(method['config'], suite_path)), name=method.get('name'),
                overrides=overrides.to_dict() if hasattr(overrides, 'to_dict') else overrides,
                backbone_variant=method.get('backbone_variant'))


def _resolve(method: str, suite_path: Path) -> Path:
    """Method (and backbone) paths are absolute, relative to the working directory, relative to
    the repository of the suite (configs/suites/x.py -> the folder holding configs/), or, for
    ``configs/...`` paths of vssl-bench's own configs, relative to wherever those are installed
    (:func:`~vssl_bench.core.config_root.configs_root`), so that a suite outside the checkout, a
    plugin's say, lists ``configs/methods/cvrl_r3d18w16_8x2_synthmotion.py`` as the in-tree
    suites do. Where none exists, the path under the suite's repository (the error names it)."""
    candidate = Path(method)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    parents = suite_path.resolve().parents
    in_repo = parents[min(2, len(parents) - 1)] / method
    root = configs_root()
    if not in_repo.exists() and root is not None and candidate.parts[:1] == ('configs',):
        shipped = root.parent / method
        if shipped.exists():
            return shipped
    return in_repo


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
            **{f'train_dataloader.dataset.{key}': value
               for key, value in pretrain_source.source_cache_kwargs(suite.data).items()}})
    cfg.method_name = check_row_name(entry['name'] or cfg.get('method_name', cfg.model.type),
                                     f'row name of {path} in suite {suite.path}', "name='CVRL'")
    return cfg


def ann_path(suite: Suite, split: str) -> str:
    """The annotation list of ``split`` (the pretrain list of a suite with a ``pretrain_data``
    source lies in the source's folder)."""
    return str(Path(suite_data.split_root(suite.data, split)) / suite.data['splits'][split])
