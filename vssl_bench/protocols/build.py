"""Config -> protocol: ``build_protocol(dict(type='linear', ...))``. Imports every in-tree
protocol module, so that each has registered itself in ``PROTOCOLS``."""
from __future__ import annotations

from typing import Any

from vssl_bench.core.registry import PROTOCOLS
from vssl_bench.protocols import finetune, knn, linear, retrieval, semisup  # noqa: F401
from vssl_bench.protocols.base import Protocol


def build_protocol(cfg: dict[str, Any]) -> Protocol:
    """Build a protocol from ``{'type': <registered class name or protocol name>, **kwargs}``.

    ``type`` may be the class name (``'LinearProbe'``) or the protocol's short ``name``
    (``'linear'``), the form used in result paths. ``cfg`` is not modified.
    """
    if 'type' not in cfg:
        raise KeyError(f'Protocol config needs a "type" key, got keys {sorted(cfg)}')
    kwargs = dict(cfg)
    type_name = kwargs.pop('type')
    classes = dict(PROTOCOLS.module_dict)
    cls = classes.get(type_name)
    if cls is None:  # Fall back to the short name, e.g. 'linear' -> LinearProbe.
        cls = next((c for c in classes.values() if getattr(c, 'name', None) == type_name), None)
    if cls is None:
        available = ', '.join(f'{k} ({getattr(c, "name", "?")})'
                              for k, c in sorted(classes.items()))
        raise KeyError(f'Unknown protocol type {type_name!r}; available: {available}')
    return cls(**kwargs)
