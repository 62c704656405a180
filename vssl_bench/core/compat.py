"""Resuming mmengine 0.10.7 checkpoints under torch >= 2.6.

torch.load now defaults to ``weights_only=True`` and refuses every global it does not know, and
mmengine's checkpoints hold a few: its ``HistoryBuffer`` log buffers (with numpy arrays and
scalars inside) and, through ``HistoryBuffer.__getstate__``, its statistics methods, which pickle
as ``getattr(HistoryBuffer, 'min')``. Instead of loading with ``weights_only=False`` (which would
execute arbitrary code from an untrusted file) we allow-list exactly those objects; ``getattr`` is
replaced by a function that resolves only those four attributes of ``HistoryBuffer``.
"""
from __future__ import annotations

import pickle

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_method(owner: object, name: str) -> object:
    """The only ``getattr`` a checkpoint may perform: a statistics method of ``HistoryBuffer``."""
    if owner is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics methods '
        'are allowed. If this file comes from a trusted newer mmengine, extend '
        'vssl_bench/core/compat.py with the exact object it needs')


def mmengine_safe_globals() -> list:
    """Exactly the globals that mmengine 0.10.7 writes into a training checkpoint."""
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        np._core.multiarray._reconstruct,
        np._core.multiarray.scalar,
        # numpy >= 1.25 pickles each dtype through its own class (numpy.dtypes.Float64DType...).
        *[type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG'],
        (_history_buffer_method, 'builtins.getattr'),
    ]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_safe_globals` with torch's weights-only unpickler (idempotent)."""
    torch.serialization.add_safe_globals(mmengine_safe_globals())
