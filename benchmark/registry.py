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

from importlib.metadata import entry_points

from typing import Any

from mmaction.registry import DATASETS, MODELS, OPTIM_WRAPPERS
from mmengine.registry import DefaultScope, Registry

__all__ = ['DATASETS', 'MODELS', 'OPTIM_WRAPPERS', 'CLIP_SAMPLERS', 'CLIP_TRANSFORMS', 'PROTOCOLS',
           'DEFAULT_SCOPE', 'build', 'load_plugins']

DEFAULT_SCOPE = 'mmaction'
SCOPE = 'vssl_bench'

CLIP_SAMPLERS = Registry('clip sampler', scope=SCOPE, locations=['benchmark.data.samplers'])
CLIP_TRANSFORMS = Registry('clip transform', scope=SCOPE, locations=['benchmark.data.transforms'])
PROTOCOLS = Registry('protocol', scope=SCOPE, locations=['benchmark.protocols'])

ENTRY_POINT_GROUP = 'vssl_bench.methods'


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
        ep.load()
        loaded.append(ep.name)
    return loaded
