"""Registries of vssl-bench; this module imports nothing of the project.

Methods, data preprocessors and datasets register into mmaction2's registries, so a config names our
classes (``CVRL``) and mmaction2's (``ResNet3d``) alike, and mmengine's Runner builds both with
``default_scope='mmaction'``. Clip samplers, clip transforms and evaluation protocols have
registries of their own (scope ``vssl_bench``).

Registration happens where the classes are defined; :mod:`vssl_bench.harness.components`
imports every in-tree module that registers something, and :mod:`vssl_bench.core.plugins` loads
out-of-tree methods.
"""
from __future__ import annotations

from typing import Any

from mmaction.registry import DATASETS, MODELS, OPTIM_WRAPPERS
from mmengine.registry import DefaultScope, Registry

__all__ = ['DATASETS', 'MODELS', 'OPTIM_WRAPPERS', 'CLIP_SAMPLERS', 'CLIP_TRANSFORMS', 'PROTOCOLS',
           'DEFAULT_SCOPE', 'build']

DEFAULT_SCOPE = 'mmaction'
SCOPE = 'vssl_bench'

CLIP_SAMPLERS = Registry('clip sampler', scope=SCOPE)
CLIP_TRANSFORMS = Registry('clip transform', scope=SCOPE)
PROTOCOLS = Registry('protocol', scope=SCOPE)


def build(registry: Registry, cfg: dict) -> Any:
    """``registry.build(cfg)`` under mmaction2's scope, whatever scope is current.

    mmengine builds through the registry of the *current* default scope; after a Runner of
    another scope (e.g. a plain mmengine Runner) that would no longer find our classes.
    """
    with DefaultScope.overwrite_default_scope(DEFAULT_SCOPE):
        return registry.build(cfg)
