"""Registries of vssl-bench.

Methods, datasets and data preprocessors live in child registries of mmaction2's, under the scope
``vssl_bench``: a config can name our classes (``CVRL``) and mmaction2's (``ResNet3d``) alike, and
mmengine's Runner finds both once ``default_scope='vssl_bench'``. Clip samplers, clip transforms and
evaluation protocols have registries of their own.

In-tree modules are found through each registry's ``locations``; out-of-tree methods through
``custom_imports`` in a config or the ``vssl_bench.methods`` entry-point group (see
:func:`load_plugins`).
"""
from __future__ import annotations

from importlib.metadata import entry_points

from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmengine.registry import Registry

SCOPE = 'vssl_bench'

MODELS = Registry('model', parent=MMACTION_MODELS, scope=SCOPE, locations=['mmaction.models', 'methods'])
DATASETS = Registry('dataset', parent=MMACTION_DATASETS, scope=SCOPE,
                    locations=['mmaction.datasets', 'benchmark.data.dataset'])
CLIP_SAMPLERS = Registry('clip sampler', scope=SCOPE, locations=['benchmark.data.samplers'])
CLIP_TRANSFORMS = Registry('clip transform', scope=SCOPE, locations=['benchmark.data.transforms'])
PROTOCOLS = Registry('protocol', scope=SCOPE, locations=['benchmark.protocols'])

ENTRY_POINT_GROUP = 'vssl_bench.methods'


def load_plugins() -> list[str]:
    """Import in-tree methods and every module registered under the entry-point group.

    Returns the names of the entry points that were loaded.
    """
    import methods  # noqa: F401  (registers the in-tree methods)

    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()
        loaded.append(ep.name)
    return loaded
