"""Registries of vssl-bench.

Methods, data preprocessors and datasets register into mmaction2's registries, so a config names our
classes (``CVRL``) and mmaction2's (``ResNet3d``) alike, and mmengine's Runner builds both with
``default_scope='mmaction'``. Clip samplers, clip transforms and evaluation protocols have
registries of their own (scope ``vssl_bench``) whose ``locations`` import the in-tree modules
on first use.

In-tree methods are discovered by importing the ``methods`` package; out-of-tree methods through
``custom_imports`` in a config or the ``vssl_bench.methods`` entry-point group (see
:func:`load_plugins`).
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from mmaction.registry import DATASETS, MODELS, OPTIM_WRAPPERS
from mmengine.registry import DefaultScope, Registry

__all__ = ['DATASETS', 'MODELS', 'OPTIM_WRAPPERS', 'CLIP_SAMPLERS', 'CLIP_TRANSFORMS', 'PROTOCOLS',
           'DEFAULT_SCOPE', 'PluginError', 'build', 'import_custom_modules', 'load_plugins']

DEFAULT_SCOPE = 'mmaction'
SCOPE = 'vssl_bench'

CLIP_SAMPLERS = Registry('clip sampler', scope=SCOPE, locations=['benchmark.data.samplers'])
CLIP_TRANSFORMS = Registry('clip transform', scope=SCOPE,
                           locations=['benchmark.data.transforms', 'benchmark.data.device_augment'])
PROTOCOLS = Registry('protocol', scope=SCOPE, locations=['benchmark.protocols'])

ENTRY_POINT_GROUP = 'vssl_bench.methods'


class PluginError(ImportError):
    """An out-of-tree method that could not be loaded; the message names it and the fix."""


def build(registry: Registry, cfg: dict) -> Any:
    """``registry.build(cfg)`` under mmaction2's scope, whatever scope is current.

    mmengine builds through the registry of the *current* default scope; after a Runner of
    another scope (e.g. a plain mmengine Runner) that would no longer find our classes.
    """
    with DefaultScope.overwrite_default_scope(DEFAULT_SCOPE):
        return registry.build(cfg)


def load_plugins() -> list[str]:
    """Import mmaction2's models, the in-tree methods, the data set classes and every module
    registered under the ``vssl_bench.methods`` entry-point group.

    Returns the names of the entry points that were loaded.
    """
    import mmaction.models  # noqa: F401  (registers ResNet3d & co.)

    import benchmark.data.dataset  # noqa: F401
    import benchmark.optim  # noqa: F401
    import methods  # noqa: F401

    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a plugin's own error, reported with who shipped it
            dist = getattr(ep, 'dist', None)
            owner = f'{dist.name} {dist.version}' if dist is not None else 'an installed package'
            fix = (f'pip uninstall {dist.name}' if dist is not None
                   else 'uninstall the package that declares it')
            raise PluginError(
                f'entry point {ep.name!r} = {ep.value!r} (group {ENTRY_POINT_GROUP!r}, from '
                f'{owner}) failed to load: {type(exc).__name__}: {exc}. Fix the plugin, or '
                f'remove it ({fix})') from exc
        loaded.append(ep.name)
    return loaded


def import_custom_modules(cfg: Any, path: str) -> list[str]:
    """Import the modules a config names in ``custom_imports`` (mmengine's convention:
    ``custom_imports = dict(imports=['pkg.module'], allow_failed_imports=False)``), so that the
    methods they register are known before the config is checked or built.

    Importing twice is free; a module that cannot be imported raises :class:`PluginError`
    naming the config, the module and the fix. Returns the imported module names.
    """
    spec = cfg.get('custom_imports') if hasattr(cfg, 'get') else None
    if not spec:
        return []
    names = spec.get('imports', [])
    names = [names] if isinstance(names, str) else list(names)
    imported = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            if spec.get('allow_failed_imports', False):
                continue
            missing = getattr(exc, 'name', None)
            if isinstance(exc, ModuleNotFoundError) and missing and (
                    name == missing or name.startswith(missing + '.')):
                raise PluginError(
                    f'{path}: custom_imports names module {name!r}, which is not importable '
                    f'({exc}): install the package that provides it (e.g. `pip install -e '
                    f'<its folder>`) or put the folder that contains {missing!r} on '
                    'PYTHONPATH') from exc
            raise PluginError(
                f'{path}: custom_imports module {name!r} was found but failed while importing: '
                f'{type(exc).__name__}: {exc}') from exc
        imported.append(name)
    return imported
