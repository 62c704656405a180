"""`vssl-bench clean`: free disk space without losing finished work.

Always removed (nothing needs them):

* the resumable checkpoints (``iter_*.pth``, ``last_checkpoint``) of runs whose final weights and
  stats exist (older versions kept them: ~40 % of a work dir);
* temporary files of killed writers (:func:`vssl_bench.core.orphans.sweep_stale_temps`);
* stale frame caches under each ``--data-root``: a cache folder that was never completed by a
  live process, or whose videos changed since it was decoded (it would never be read again).

On request: ``--features`` the shared feature cache, ``--frames`` every frame cache (decoded
again on the next run), ``--weights`` the trained weights and stats (every record is then
recomputed by the next run), ``--older-than DAYS`` (DAYS > 0) only work dirs untouched for that
long (e.g. runs of configs that changed since). Records and leaderboards (results folders) are
never touched. ``--dry-run`` lists what would go.

The work dirs are the suites' (``<work>/pretrain/<method>-<hash>/seed<n>``) and those of
``vssl-bench train`` (``<work>/train/<method>/seed<n>``). A clean is refused while a run uses the
work dir (its shared lock, :func:`vssl_bench.core.lock.share`) or while a ``train`` holds one of its
work dirs: nothing is removed under a running pretraining.
"""
from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from vssl_bench.core import lock
from vssl_bench.core.errors import UserError
from vssl_bench.core.io import read_json
from vssl_bench.core.names import STATS_FILE, WEIGHTS_FILE
from vssl_bench.core.orphans import pid_alive, sweep_stale_temps, writer_pid
from vssl_bench.data.video import files_fingerprint
from vssl_bench.engine import checkpoints
from vssl_bench.harness.run_records import run_dirs

FRAME_CACHE = '.frame_cache'


@dataclass
class Cleanup:
    dry_run: bool = False
    removed: list[tuple[Path, int]] = field(default_factory=list)

    def remove(self, path: Path) -> None:
        size = _size(path)
        if not self.dry_run:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        self.removed.append((path, size))

    @property
    def freed(self) -> int:
        return sum(size for _, size in self.removed)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())


def _finished(run: Path) -> bool:
    """Final weights and readable stats: the run needs no checkpoint any more."""
    if not (run / WEIGHTS_FILE).is_file():
        return False
    try:
        return isinstance(read_json(run / STATS_FILE), dict)
    except (OSError, ValueError):
        return False


def _frame_cache_is_stale(folder: Path) -> bool:
    """Incomplete without a live builder, or built from videos that changed since."""
    if any(pid_alive(pid) for p in folder.iterdir() if (pid := writer_pid(p)) is not None):
        return False  # being built right now
    if not (folder / 'COMPLETE').exists():
        return True
    try:
        paths = json.loads((folder / 'meta.json').read_text())['paths']
    except (OSError, ValueError, KeyError):
        return True
    return files_fingerprint(paths) != folder.name


def check_days(days: float | None) -> None:
    """``--older-than``: a positive, finite number of days (0 or less would remove every work
    dir, final weights included; ``--weights`` is the option for that)."""
    if days is not None and not (math.isfinite(days) and days > 0):
        raise UserError(f'--older-than {days:g}: give a positive number of days (e.g. 30); to '
                         'drop every trained weight, use --weights')


def clean(work_root: Path, data_roots: list[Path] = (), *, features: bool = False,
          frames: bool = False, weights: bool = False, older_than_days: float | None = None,
          dry_run: bool = False) -> Cleanup:
    """Remove what :mod:`vssl_bench.harness.clean`'s docstring lists; returns what went and its
    size. Raises :class:`vssl_bench.core.lock.FolderLocked` while a run uses ``work_root``."""
    check_days(older_than_days)
    work_root = Path(work_root)
    with contextlib.ExitStack() as held:
        if not dry_run and work_root.is_dir():
            held.enter_context(lock.exclusive(work_root, purpose='cleaning it'))
        busy = [f'{run} ({holder})' for run in run_dirs(work_root)
                if (holder := lock.holder_of(run))]
        if busy and not dry_run:
            raise lock.FolderLocked(f'{busy[0]} is in use: wait for it to finish before '
                                    'cleaning')
        return _clean(work_root, data_roots, features=features, frames=frames,
                      weights=weights, older_than_days=older_than_days, dry_run=dry_run)


def _clean(work_root: Path, data_roots: list[Path], *, features: bool, frames: bool,
           weights: bool, older_than_days: float | None, dry_run: bool) -> Cleanup:
    done = Cleanup(dry_run=dry_run)
    if not dry_run:
        for path in sweep_stale_temps(work_root, *data_roots):
            done.removed.append((path, 0))
        for path in lock.sweep_stale([run / lock.LOCK_NAME for run in run_dirs(work_root)]):
            done.removed.append((path, 0))  # lock files of killed pretrainings
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    for run in run_dirs(work_root):
        if cutoff is not None and max((p.stat().st_mtime for p in run.rglob('*')),
                                      default=run.stat().st_mtime) < cutoff:
            done.remove(run)
            continue
        if _finished(run):
            for path in [*checkpoints.checkpoints(run), run / checkpoints.POINTER]:
                if path.exists():
                    done.remove(path)
            if weights:
                for name in (WEIGHTS_FILE, STATS_FILE):
                    done.remove(run / name)
    feature_cache = work_root / 'feature_cache'
    if features and feature_cache.is_dir():
        done.remove(feature_cache)
    for root in data_roots:
        cache = Path(root) / FRAME_CACHE
        if not cache.is_dir():
            continue
        if frames:
            done.remove(cache)
            continue
        for folder in sorted(p for p in cache.iterdir() if p.is_dir()):
            if _frame_cache_is_stale(folder):
                done.remove(folder)
    return done


def describe(done: Cleanup) -> str:
    verb = 'would free' if done.dry_run else 'freed'
    lines = [f'{"would remove" if done.dry_run else "removed"} {path} ({size / 1e6:.1f} MB)'
             for path, size in done.removed]
    lines.append(f'{verb} {done.freed / 1e6:.1f} MB in {len(done.removed)} item(s)')
    return '\n'.join(lines)
