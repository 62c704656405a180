"""Everything a config can name: importing this module registers mmaction2's models and every
in-tree component (data sets, clip samplers and transforms, optimiser wrappers, protocols,
methods); :func:`load_plugins` adds the out-of-tree methods (:mod:`vssl_bench.core.plugins`).
"""
from __future__ import annotations

import mmaction.models  # noqa: F401  (registers ResNet3d & co.)

import vssl_bench.data.dataset  # noqa: F401
import vssl_bench.data.device_augment  # noqa: F401
import vssl_bench.data.samplers  # noqa: F401
import vssl_bench.data.transforms  # noqa: F401
import vssl_bench.engine.optim  # noqa: F401
import vssl_bench.methods  # noqa: F401
import vssl_bench.protocols  # noqa: F401
from vssl_bench.core.plugins import load_entry_points

__all__ = ['load_plugins']


def load_plugins() -> list[str]:
    """The in-tree components (registered when this module was imported) and every module
    registered under the ``vssl_bench.methods`` entry-point group.

    Returns the names of the entry points that were loaded.
    """
    return load_entry_points()
