"""Which autocast dtype a device can actually run fast.

Configs ask for bfloat16 autocast (no loss scaling, the papers' mixed precision). CUDA GPUs from
Ampere on and CPUs with AMX or AVX512-BF16 run bfloat16 convolutions natively; on other CPUs
(e.g. AVX2-only ones) oneDNN emulates them, many times slower than float32 (measured in
docs/harness.md, "Architecture"). There the harness trains and fine-tunes in float32 instead and
says so once; the precision actually used is part of every record's provenance
(``precision``).
"""
from __future__ import annotations

import os
import warnings
from functools import lru_cache

import torch

_warned: set[str] = set()


@lru_cache(maxsize=None)
def native_bfloat16(device_type: str) -> bool:
    """True when ``device_type`` ('cpu', 'cuda', ...) runs bfloat16 matmuls/convolutions in
    hardware."""
    if device_type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device_type == 'cpu':
        cpu = torch.cpu
        return bool(getattr(cpu, '_is_amx_tile_supported', lambda: False)()
                    or getattr(cpu, '_is_avx512_bf16_supported', lambda: False)())
    return True  # other accelerators (mps, xpu, ...): trust the config


#: Set to 1 to train and fine-tune in float32 even where bfloat16 is native (``make ci`` does:
#: its reference, results/reference/, was made in float32). The precision it leads to is part of
#: the run hash (vssl_bench/harness/run_records.py), so such runs never reuse bfloat16 weights.
FLOAT32_ENV = 'VSSL_FLOAT32'


def float32_forced() -> bool:
    return os.environ.get(FLOAT32_ENV, '') not in ('', '0')


def effective_dtype(requested: str | None, device_type: str) -> str | None:
    """The autocast dtype to use for ``requested`` ('bfloat16', 'float16' or None = float32) on
    ``device_type``: None (float32) whenever ``VSSL_FLOAT32`` is set; bfloat16 falls back to None
    where it is not native, with one warning per device type."""
    if float32_forced():
        return None
    if requested != 'bfloat16' or native_bfloat16(device_type):
        return requested
    if device_type not in _warned:
        _warned.add(device_type)
        warnings.warn(f'bfloat16 autocast requested but this {device_type} has no native '
                      'bfloat16 (no AMX / AVX512-BF16): training in float32 instead, which is '
                      'far faster here; results match bfloat16 runs within seed noise, not bit '
                      'for bit', stacklevel=2)
    return None


def precision_name() -> str:
    """'bfloat16' or 'float32': what a config's bfloat16 autocast becomes on this process's
    compute device (the first CUDA device if any, else the CPU)."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return 'bfloat16' if native_bfloat16(device) and not float32_forced() else 'float32'
