"""Where vssl-bench's configs (``configs/``: the shared ``_base_`` configs, method configs, suites)
are, so that a config outside this repository inherits and lists them without a checkout path.

A plugin's method config writes its ``_base_`` paths as
``'{{$VSSL_BENCH_CONFIGS:}}/_base_/backbone_r3d18_w16.py'``: mmengine replaces
``{{$NAME:default}}`` with the environment variable ``NAME`` while reading a config, and importing
:mod:`vssl_bench` sets ``VSSL_BENCH_CONFIGS`` to :func:`configs_root` unless it is set already (set
it yourself to inherit from a copy of your own).
"""
from __future__ import annotations

import os
import sysconfig
from pathlib import Path

#: The environment variable configs name in their ``_base_`` paths.
ENV = 'VSSL_BENCH_CONFIGS'


def configs_root() -> Path | None:
    """The folder that holds ``_base_``: the checkout's ``configs/`` (a source or editable
    install), else the copy a wheel installs under ``<prefix>/share/vssl-bench/configs``
    (pyproject.toml's data-files); None if neither exists."""
    checkout = Path(__file__).resolve().parents[2] / 'configs'
    installed = Path(sysconfig.get_path('data')) / 'share' / 'vssl-bench' / 'configs'
    return next((p for p in (checkout, installed) if (p / '_base_').is_dir()), None)


def export_configs_root() -> None:
    """Set ``VSSL_BENCH_CONFIGS`` to :func:`configs_root` unless it is set (or nothing exists)."""
    root = configs_root()
    if root is not None:
        os.environ.setdefault(ENV, str(root))
