"""Where a number came from: config hash, git revision, package versions, device."""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from vssl_bench.core.precision import precision_name

PACKAGES = ('vssl-bench', 'torch', 'torchvision', 'mmengine', 'mmcv-lite', 'mmaction2', 'av',
            'numpy', 'scikit-learn')


def stable_hash(obj: object, length: int = 12) -> str:
    """Hex digest of the canonical JSON of ``obj`` (dict order does not matter)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


#: Folders whose changes do not make a checkout "dirty": suites write their records and tables
#: into the tracked ``results/``, so without this every record after a suite's first would say
#: ``-dirty`` for a clean checkout.
OUTPUT_DIRS = ('results',)


def git_revision(cwd: str | Path | None = None) -> str:
    """Current commit, with ``-dirty`` when tracked files outside :data:`OUTPUT_DIRS` differ;
    'unknown' outside a checkout."""
    cwd = cwd or Path(__file__).resolve().parent
    pathspec = [':/', *(f':(top,exclude){d}' for d in OUTPUT_DIRS)]
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'], cwd=cwd, check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no', '--',
                                *pathspec], cwd=cwd, check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return rev + ('-dirty' if dirty else '')


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = 'not installed'
    return out


def cpu_name(cpuinfo: str | Path = '/proc/cpuinfo') -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one, else the platform's) and the
    vector instruction set PyTorch's CPU kernels use on it, e.g. 'AMD EPYC (AVX512)': two 2-core
    machines can differ 2x in speed and in their float32/bfloat16 results."""
    model = ''
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return f'{model} ({torch.backends.cpu.get_cpu_capability()})'


def device_description() -> str:
    if torch.cuda.is_available():
        return f'cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}'
    return f'cpu: {cpu_name()}, {torch.get_num_threads()} threads'


def provenance() -> dict:
    return {'git': git_revision(), 'packages': package_versions(), 'device': device_description(),
            'precision': precision_name(), 'python': platform.python_version()}
