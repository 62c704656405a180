"""Out-of-tree methods: the ``vssl_bench.methods`` entry-point group and a config's
``custom_imports`` (mmengine's convention). Imports nothing of the project: a plugin's module
registers itself into :mod:`vssl_bench.core.registry` when imported.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

__all__ = ['ENTRY_POINT_GROUP', 'PluginError', 'import_custom_modules', 'load_entry_points']

ENTRY_POINT_GROUP = 'vssl_bench.methods'


class PluginError(ImportError):
    """An out-of-tree method that could not be loaded; the message names it and the fix."""


def load_entry_points() -> list[str]:
    """Import every module registered under the ``vssl_bench.methods`` entry-point group.

    Returns the names of the entry points that were loaded.
    """
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
