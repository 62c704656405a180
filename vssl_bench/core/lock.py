"""One writer per folder: a lock file that names its holder.

``vssl-bench run`` holds ``<results>/.vssl-bench.lock`` while it writes into a results folder:
a second run into the same folder is refused with one line naming the holder's PID and command
(never interleaved writes). Data generation holds ``<data root>/.vssl-bench.lock`` and a second
process waits for it, then finds the data set complete.

A work dir is shared: runs into different results folders may use the same ``--work-dir``
(weights and features are reused across them). Each run holds ``<work>/.vssl-bench.users``
shared (:func:`share`) for its whole length, and ``vssl-bench clean`` holds it exclusively
(:func:`exclusive`): a clean during a run is refused with one line naming the run. Within the
work dir, the pretraining of one (method, seed) holds its run dir's lock (:func:`hold` with
``wait=True``): a second run that needs the same weights waits, then reuses them, instead of
pretraining the same method at the same time.

The locks are advisory ``flock`` s on those files, which the kernel releases when their holder
dies, even by ``kill -9``: a lock left by a dead process is stale and is taken over (with a
note naming the dead PID). The (last) holder deletes the file when it is done;
:func:`sweep_stale` deletes the files of killed holders that nobody took over.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

from mmengine.logging import print_log

from vssl_bench.core.errors import UserError
from vssl_bench.core.orphans import pid_alive

LOCK_NAME = '.vssl-bench.lock'
#: A work dir's lock, held shared by every run that uses it, exclusively by `clean`.
USERS_NAME = '.vssl-bench.users'


class FolderError(UserError):
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


def _open_locked(path: Path, wait: bool, shared: bool = False) -> int | None:
    """Open and flock ``path`` (created if needed; ``shared``: a shared lock); None if held by
    another process and ``wait`` is False. Retries when the file was deleted by its previous
    holder meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                        | (0 if wait else fcntl.LOCK_NB))
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


def _log(text: str) -> None:
    print_log(text, logger='current')


def _open_in(folder: Path, name: str, shared: bool = False) -> int | None:
    """:func:`_open_locked` of ``folder/name`` without waiting (the folder is created); an
    unusable folder is a :class:`FolderError` before any work."""
    if folder.exists() and not folder.is_dir():
        raise FolderError(f'{folder} is a file, not a folder: pass a folder (--out / '
                          '--data-root / --work-dir)')
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _open_locked(folder / name, wait=False, shared=shared)
    except OSError as exc:  # checked before any work, not after it
        raise FolderError(f'cannot write into {folder} ({exc.strerror or exc}): pass a '
                           'writable folder (--out / --data-root / --work-dir)') from exc


@contextlib.contextmanager
def hold(folder: str | os.PathLike, *, wait: bool = False, purpose: str = 'writes',
         notify: Callable[[str], None] = _log, option: str = '--out') -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (the folder is created).

    ``wait=False``: raise :class:`FolderLocked` at once if a live process holds it;
    ``wait=True``: wait for it (``notify`` gets a message naming the holder). ``option``: the
    command-line option that names another folder, for the refusal's fix.
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    fd = _open_in(folder, LOCK_NAME)
    if fd is None:
        holder = _holder(path)
        if not wait:
            raise FolderLocked(
                f'{folder} is in use by another vssl-bench run, {_describe(holder)}, which '
                f'{purpose} there: wait for it to finish, or pass another {option}')
        notify(f'waiting for {_describe(holder)}, which {purpose} in {folder}')
        fd = _open_locked(path, wait=True)
    previous = _holder(path)
    if previous.get('pid') and not pid_alive(int(previous['pid'])):
        print_log(f'{path}: stale lock of PID {previous["pid"]}, which is no longer running '
                  '(interrupted); taking it over', logger='current', level=30)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(_me()).encode(), 0)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # still holding the flock: nobody can take a file being deleted
        os.close(fd)


def _me() -> dict:
    return dict(pid=os.getpid(), argv=[os.path.basename(sys.argv[0]), *sys.argv[1:]],
                started=time.strftime('%Y-%m-%d %H:%M:%S'))


def _users(path: Path) -> list[dict]:
    """The live processes that registered in a users file (one JSON line each)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    users = {}
    for text in lines:
        try:
            user = json.loads(text)
        except ValueError:
            continue
        if isinstance(user, dict) and isinstance(user.get('pid'), int) and \
                pid_alive(user['pid']):
            users[user['pid']] = user
    return list(users.values())


def _describe_users(path: Path) -> str:
    users = _users(path)
    return ', '.join(_describe(u) for u in users) if users else 'another process'


@contextlib.contextmanager
def share(folder: str | os.PathLike, *, notify: Callable[[str], None] = _log) -> Iterator[Path]:
    """Hold ``folder``'s users lock shared for the ``with`` block: any number of runs at once,
    while :func:`exclusive` (``vssl-bench clean``) is refused. Waits while a clean holds it."""
    folder = Path(folder)
    path = folder / USERS_NAME
    fd = _open_in(folder, USERS_NAME, shared=True)
    if fd is None:
        notify(f'waiting for {_describe_users(path)} to finish with {folder}')
        fd = _open_locked(path, wait=True, shared=True)
    with open(path, 'a') as users:  # O_APPEND: one short line per user, never interleaved
        users.write(json.dumps(_me()) + '\n')
    try:
        yield path
    finally:
        try:  # the last user removes the file (a failed upgrade just drops the shared lock)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        except BlockingIOError:
            pass
        os.close(fd)


@contextlib.contextmanager
def exclusive(folder: str | os.PathLike, *, purpose: str) -> Iterator[Path]:
    """Hold ``folder``'s users lock exclusively for the ``with`` block; raise
    :class:`FolderLocked` at once, naming them, while runs use the folder (:func:`share`)."""
    folder = Path(folder)
    path = folder / USERS_NAME
    fd = _open_in(folder, USERS_NAME)
    if fd is None:
        raise FolderLocked(f'{folder} is in use by {_describe_users(path)}: wait for it to '
                           f'finish before {purpose}')
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(_me()) + '\n').encode(), 0)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def holder_of(folder: str | os.PathLike) -> str | None:
    """Who holds ``folder``'s lock (:func:`hold`) right now, described; None if nobody."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return _describe(_holder(path))
    finally:
        os.close(fd)  # releases the probe's lock


def sweep_stale(paths: list[Path]) -> list[Path]:
    """Delete the lock files among ``paths`` that no live process holds (left by killed
    holders); returns them."""
    removed = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                path.unlink()  # holding the flock: a waiter opening it retries (inode check)
                removed.append(path)
        except (BlockingIOError, FileNotFoundError):
            pass
        finally:
            os.close(fd)
    return removed
