"""Atomic file writes and JSON reading.

Result files are read by other processes (leaderboard, resumed suites) while a run may be killed
at any moment, so every write goes to a temporary file in the target directory, is fsync'ed and
then renamed over the target: readers see either the old or the new content, never half a file.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vssl_bench.core.errors import UserError

#: Free bytes below which a failed write is taken for a full disk.
DISK_FULL_BYTES = 1 << 20


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as the target: os.replace is only atomic within one file system.
    # The writer's PID in the name: a later run removes the leftovers of a killed writer.
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}{tmp_suffix()}.', dir=path.parent)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8', newline='') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Never leave a stray temporary file behind, whatever went wrong.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], object],
                      tmp: str | os.PathLike[str] | None = None) -> None:
    """``write(tmp)`` (e.g. ``torch.save`` or ``np.savez``), then rename ``tmp`` over ``path``
    (default ``tmp``: ``<path><tmp_suffix()>`` beside it). Whatever goes wrong, the temporary
    file is removed; a write that fails on a full disk (torch reports it as a RuntimeError) is an
    ``OSError`` (ENOSPC) naming ``path``, which ``vssl-bench`` prints as one line."""
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else path.with_name(path.name + tmp_suffix())
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, Exception) and _disk_full(path.parent):
            raise OSError(errno.ENOSPC, 'No space left on device while writing it: free disk '
                          'space (e.g. vssl-bench clean) and run again', str(path)) from exc
        raise


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < DISK_FULL_BYTES
    except OSError:
        return False


def tmp_suffix() -> str:
    """Suffix of this process's temporary files (``.tmp-<pid>``): a file whose writer is no
    longer running is debris of a killed run (see
    :func:`vssl_bench.core.orphans.sweep_stale_temps`)."""
    return f'.tmp-{os.getpid()}'


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 2, trailing newline) atomically."""
    # Serialise before touching the file system so an unserialisable object leaves no trace.
    text = json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + '\n'
    atomic_write_text(path, text)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a UTF-8 JSON file."""
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def write_hashed_text(directory: str | os.PathLike[str], stem: str, text: str) -> Path:
    """Write (or reuse) ``<directory>/<stem>-<hash>.txt`` holding ``text``; return its path.

    ``<hash>`` is the first 12 hex digits of the SHA-256 of ``text``. An existing file of that
    name is reused after checking that its content still hashes to its name; a modified file is
    an error (never silently replaced).
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = Path(directory) / f'{stem}-{digest}.txt'
    if path.is_file():
        found = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        if found != digest:
            raise UserError(f'{path} was modified: its content hashes to {found}, not {digest} '
                            'as its name says; delete it to draw it again')
    else:
        atomic_write_text(path, text)
    return path
