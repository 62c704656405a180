"""What an interrupted run leaves behind, and how it is kept from leaving it.

* Temporary files are named ``<name>.tmp-<pid>...`` (:func:`vssl_bench.core.io.tmp_suffix`):
  one whose writer is no longer running is debris of a killed run, removed by
  :func:`sweep_stale_temps` at the start of the next run (files of live writers, e.g. a
  concurrent run, are kept).
* Worker processes of a ``multiprocessing`` pool are started with :func:`die_with_parent` as
  their initializer: the kernel kills them when the process that started them dies, even by
  ``kill -9`` (Linux; elsewhere they notice on their next task).
"""
from __future__ import annotations

import ctypes
import os
import re
import signal
from pathlib import Path

from mmengine.logging import print_log

_STALE = re.compile(r'\.tmp-(\d+)(\.|$)')
_PR_SET_PDEATHSIG = 1


def pid_alive(pid: int) -> bool:
    """True if a process ``pid`` runs on this machine (or may: one we may not signal)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def writer_pid(path: Path) -> int | None:
    """PID in a temporary file's name (``x.tmp-<pid>``...), None for other files."""
    match = _STALE.search(Path(path).name)
    return int(match.group(1)) if match else None


def sweep_stale_temps(*roots: Path) -> list[Path]:
    """Delete the temporary files of dead writers under ``roots`` (recursively); returns them."""
    removed = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for path in root.rglob('*.tmp-*'):
            pid = writer_pid(path)
            if pid is None or pid_alive(pid) or not path.is_file():
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
    if removed:
        print_log(f'removed {len(removed)} temporary file(s) of interrupted runs, e.g. '
                  f'{removed[0]}', logger='current')
    return removed


def die_with_parent() -> None:
    """Pool initializer: ask the kernel to SIGKILL this process when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``), and exit now if the parent is already gone."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: workers exit on the next task they miss
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
