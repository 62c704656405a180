"""One writer per folder: a lock file that names its holder.

``vssl-bench run`` holds ``<results>/.vssl-bench.lock`` while it writes into a results folder:
a second run into the same folder is refused with one line naming the holder's PID and command
(never interleaved writes). Data generation holds ``<data root>/.vssl-bench.lock`` and a second
process waits for it, then finds the data set complete.

The lock is an advisory ``flock`` on that file, which the kernel releases when its holder dies,
even by ``kill -9``: a lock left by a dead process is stale and is taken over (with a note
naming the dead PID). The holder deletes the file when it is done.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from mmengine.logging import print_log

from benchmark.orphans import pid_alive

LOCK_NAME = '.vssl-bench.lock'


class FolderError(ValueError):
    """A folder that cannot be written into; the message names it and the fix."""


class FolderLocked(FolderError):
    """Another live process holds the folder's lock; the message names it and the fix."""


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or '{}')
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder:
        return 'another process'
    return (f"PID {holder.get('pid')} ({' '.join(holder.get('argv', []))}, since "
            f"{holder.get('started', '?')})")


def _open_locked(path: Path, wait: bool) -> int | None:
    """Open and flock ``path`` (created if needed); None if held by another process and
    ``wait`` is False. Retries when the file was deleted by its previous holder meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the previous holder removed the file after we opened it: again


@contextlib.contextmanager
def hold(folder: str | os.PathLike, *, wait: bool = False, purpose: str = 'writes') -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (the folder is created).

    ``wait=False``: raise :class:`FolderLocked` at once if a live process holds it;
    ``wait=True``: wait for it (with a message naming the holder).
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    if folder.exists() and not folder.is_dir():
        raise FolderError(f'{folder} is a file, not a folder: pass a folder (--out / '
                          '--data-root)')
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = _open_locked(path, wait=False)
    except OSError as exc:  # checked before any work, not after it
        raise FolderError(f'cannot write into {folder} ({exc.strerror or exc}): pass a '
                           'writable folder (--out / --data-root / --work-dir)') from exc
    if fd is None:
        holder = _holder(path)
        if not wait:
            raise FolderLocked(
                f'{folder} is in use by another vssl-bench run, {_describe(holder)}, which '
                f'{purpose} there: wait for it to finish, or pass another --out')
        print_log(f'waiting for {_describe(holder)}, which {purpose} {folder}', logger='current')
        fd = _open_locked(path, wait=True)
    previous = _holder(path)
    if previous.get('pid') and not pid_alive(int(previous['pid'])):
        print_log(f'{path}: stale lock of PID {previous["pid"]}, which is no longer running '
                  '(interrupted); taking it over', logger='current', level=30)
    me = dict(pid=os.getpid(), argv=[os.path.basename(sys.argv[0]), *sys.argv[1:]],
              started=time.strftime('%Y-%m-%d %H:%M:%S'))
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # still holding the flock: nobody can take a file being deleted
        os.close(fd)
