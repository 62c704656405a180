"""Device-agnostic mixed precision for mmengine's Runner.

mmengine's ``AmpOptimWrapper`` refuses to run without a GPU; this wrapper autocasts the forward
pass on whatever device the model lives on (bfloat16 by default, which needs no loss scaling), so
one config trains under mixed precision on a CPU with AMX and on CUDA alike.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from mmengine.optim import OptimWrapper

from vssl_bench.core.precision import effective_dtype
from vssl_bench.core.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` also enters ``torch.autocast(dtype)`` on the model's
    device. ``enabled=False`` makes it a plain ``OptimWrapper`` (float32), and so does a device
    without native bfloat16 when ``dtype='bfloat16'`` (:mod:`vssl_bench.core.precision`)."""

    def __init__(self, dtype: str = 'bfloat16', enabled: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)
        self.enabled = enabled

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        device_type = next(model.parameters()).device.type
        enabled = self.enabled and effective_dtype(str(self.cast_dtype).split('.')[-1],
                                                   device_type) is not None
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=self.cast_dtype, enabled=enabled):
            yield
