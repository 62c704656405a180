"""Common interface of evaluation protocols and the config-to-protocol builder."""
from __future__ import annotations

from typing import Any, ClassVar

from benchmark.features import Features
from benchmark.registry import PROTOCOLS


class Protocol:
    """An evaluation protocol on frozen features.

    Subclasses set ``name`` (the key results are filed under) and ``version`` (bump whenever a
    change would alter results, so stale records are recognisable), take their config as keyword
    arguments and implement :meth:`evaluate`.
    """

    name: ClassVar[str]
    version: ClassVar[str]

    def evaluate(self, train: Features, test: Features, seed: int = 0) -> dict[str, float]:
        """Fit on ``train`` only, score ``test``; metrics in percent (0-100)."""
        raise NotImplementedError


def build_protocol(cfg: dict[str, Any]) -> Protocol:
    """Build a protocol from ``{'type': <registered class name or protocol name>, **kwargs}``.

    ``type`` may be the class name (``'LinearProbe'``) or the protocol's short ``name``
    (``'linear'``), the form used in result paths. ``cfg`` is not modified.
    """
    import benchmark.protocols  # noqa: F401  (registers the in-tree protocols)

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
